//! The integrity lock, `generated/schemac.lock`: the sha256 of every generated file, whether
//! each migration is released, and a total over all of it.
//!
//! ```text
//! # comment lines
//! 20250101000100 roles 5f0c…(64 hex) released
//! 20250101000200 auth 9a3e… unreleased
//! schema.sql 77b1…
//! total 3b2d…
//! ```
//!
//! One line per migration (`version name sha256 status`) so a review shows what changed; the
//! `total` line (sha256 of the lines above it) changes with every one of them, so two branches
//! that both add a migration always conflict in git instead of merging into a lock that
//! describes neither. A lock still holding git's conflict markers is read as the union of both
//! sides (see [`Lock::conflicted`]) so that `schemac generate` can write the merged result.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// File name of the lock inside the generated folder.
pub const LOCK_FILE: &str = "schemac.lock";

/// sha256 of `bytes` as 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// One migration as the lock records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockedMigration {
    pub version: String,
    pub name: String,
    pub sha256: String,
    pub released: bool,
    /// 1-based line in the lock file (0 for entries not read from a file).
    pub line: usize,
}

impl LockedMigration {
    /// Path relative to the generated folder.
    pub fn path(&self) -> String {
        format!("migrations/{}_{}.sql", self.version, self.name)
    }
}

/// The lock: migrations by version, other generated files by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lock {
    pub migrations: BTreeMap<String, LockedMigration>,
    /// Generated files that are not migrations (`schema.sql`) → sha256.
    pub files: BTreeMap<String, String>,
    /// Whether the file held git conflict markers (both sides were read).
    pub conflicted: bool,
    /// Whether the `total` line matched the lines above it.
    pub total_ok: bool,
}

/// A line of the lock that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Lock {
    /// The sha256 the lock records for a generated file (`migrations/…` or another path).
    pub fn sha_of(&self, path: &str) -> Option<&str> {
        if let Some(m) = self.migrations.values().find(|m| m.path() == path) {
            return Some(&m.sha256);
        }
        self.files.get(path).map(String::as_str)
    }

    /// The highest released version, if any.
    pub fn latest_released(&self) -> Option<&LockedMigration> {
        self.migrations.values().rev().find(|m| m.released)
    }

    /// Read a lock file. Every malformed line is reported (with its position); an entry
    /// given twice with different contents (possible only after a merge) keeps the released
    /// one, or the first.
    pub fn parse(text: &str) -> Result<Lock, Vec<LockError>> {
        let mut lock = Lock::default();
        let mut errors = Vec::new();
        let mut body = String::new();
        let mut total: Option<(String, usize)> = None;
        for (i, raw) in text.lines().enumerate() {
            let n = i + 1;
            let line = raw.trim_end_matches('\r');
            if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
                .iter()
                .any(|m| line.starts_with(m))
            {
                lock.conflicted = true;
                continue;
            }
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = trimmed.split_whitespace().collect();
            let bad = |column: usize, message: String| LockError {
                line: n,
                column,
                message,
            };
            match fields.as_slice() {
                ["total", sha] if is_sha(sha) => {
                    if let Some((_, first)) = &total {
                        if !lock.conflicted {
                            errors.push(bad(1, format!("a second `total` line (the first is on line {first})")));
                        }
                    }
                    total = Some((sha.to_string(), n));
                }
                [path, sha] if !path.starts_with(|c: char| c.is_ascii_digit()) && *path != "total" => {
                    if !is_sha(sha) {
                        errors.push(bad(path.len() + 2, format!("`{sha}` is not a sha256 (64 hex digits)")));
                        continue;
                    }
                    lock.files.entry(path.to_string()).or_insert_with(|| sha.to_string());
                    body.push_str(&format!("{path} {sha}\n"));
                }
                [version, name, sha, status] if version.chars().all(|c| c.is_ascii_digit()) => {
                    let released = match *status {
                        "released" => true,
                        "unreleased" => false,
                        other => {
                            errors.push(bad(
                                line.find(other).map_or(1, |c| c + 1),
                                format!("unknown status `{other}`: expected `released` or `unreleased`"),
                            ));
                            continue;
                        }
                    };
                    if !is_sha(sha) {
                        errors.push(bad(
                            line.find(sha).map_or(1, |c| c + 1),
                            format!("`{sha}` is not a sha256 (64 hex digits)"),
                        ));
                        continue;
                    }
                    body.push_str(&format!("{version} {name} {sha} {status}\n"));
                    let entry = LockedMigration {
                        version: version.to_string(),
                        name: name.to_string(),
                        sha256: sha.to_string(),
                        released,
                        line: n,
                    };
                    match lock.migrations.get(*version) {
                        None => {
                            lock.migrations.insert(version.to_string(), entry);
                        }
                        Some(prev) if LockedMigration { line: n, ..prev.clone() } == entry => {}
                        Some(prev) if !lock.conflicted => errors.push(bad(
                            1,
                            format!("version {version} is listed twice (also on line {})", prev.line),
                        )),
                        Some(prev) if prev.released && released && prev.sha256 != entry.sha256 => {
                            errors.push(bad(
                                1,
                                format!(
                                    "both sides of the merge released version {version} with different SQL (the other is on line {})",
                                    prev.line
                                ),
                            ))
                        }
                        // Released is final: a released side wins over an unreleased one.
                        Some(prev) if released && !prev.released => {
                            lock.migrations.insert(version.to_string(), entry);
                        }
                        Some(_) => {}
                    }
                }
                _ => errors.push(bad(1, format!(
                    "cannot read `{trimmed}`: expected `<version> <name> <sha256> released|unreleased`, `<file> <sha256>` or `total <sha256>`"
                ))),
            }
        }
        match total {
            Some((sha, _)) => {
                lock.total_ok = !lock.conflicted && sha == sha256_hex(body.as_bytes())
            }
            None if !lock.conflicted => errors.push(LockError {
                line: text.lines().count().max(1),
                column: 1,
                message: "the `total` line is missing".into(),
            }),
            None => {}
        }
        if errors.is_empty() {
            Ok(lock)
        } else {
            Err(errors)
        }
    }

    /// The lock file's text: header, one line per migration (by version), other files (by
    /// path), total.
    pub fn render(&self) -> String {
        let mut body = String::new();
        for m in self.migrations.values() {
            let status = if m.released { "released" } else { "unreleased" };
            let _ = writeln!(body, "{} {} {} {status}", m.version, m.name, m.sha256);
        }
        for (path, sha) in &self.files {
            let _ = writeln!(body, "{path} {sha}");
        }
        let total = sha256_hex(body.as_bytes());
        format!(
            "# schemac.lock: sha256 of every generated file. Written by `schemac generate`; do not edit.\n\
             # A `released` migration (marked by `schemac release` or `schemac bundle`) is frozen: an edit\n\
             # to the specs that would change its SQL is an error; put such changes in a new layer.\n\
             # <version> <name> <sha256 of migrations/<version>_<name>.sql> <released|unreleased>\n\
             {body}total {total}\n"
        )
    }
}

fn is_sha(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Lock {
        let mut lock = Lock::default();
        for (v, n, released) in [
            ("20250101000100", "roles", true),
            ("20250101000200", "auth", false),
        ] {
            lock.migrations.insert(
                v.into(),
                LockedMigration {
                    version: v.into(),
                    name: n.into(),
                    sha256: sha256_hex(n.as_bytes()),
                    released,
                    line: 0,
                },
            );
        }
        lock.files
            .insert("schema.sql".into(), sha256_hex(b"schema"));
        lock
    }

    fn strip_lines(mut lock: Lock) -> Lock {
        for m in lock.migrations.values_mut() {
            m.line = 0;
        }
        lock
    }

    #[test]
    fn render_parse_round_trip() {
        let lock = sample();
        let text = lock.render();
        let parsed = Lock::parse(&text).unwrap();
        assert!(parsed.total_ok);
        assert!(!parsed.conflicted);
        assert_eq!(
            strip_lines(parsed),
            Lock {
                total_ok: true,
                ..lock
            }
        );
        assert!(text.contains(&format!(
            "20250101000100 roles {} released\n",
            sha256_hex(b"roles")
        )));
    }

    #[test]
    fn a_changed_line_breaks_the_total() {
        let text = sample().render().replace(" unreleased", " released");
        let parsed = Lock::parse(&text).unwrap();
        assert!(!parsed.total_ok);
    }

    #[test]
    fn malformed_lines_are_reported_with_positions() {
        let text = "# c\n20250101000100 roles abc released\n20250101000200 auth 0000000000000000000000000000000000000000000000000000000000000000 shipped\nnonsense here and there\n";
        let errors = Lock::parse(text).unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 4], "{errors:?}");
        assert!(errors[0].message.contains("not a sha256"));
        assert_eq!(errors[0].column, 22);
        assert!(errors[1].message.contains("unknown status `shipped`"));
        assert!(errors[3].message.contains("`total` line is missing"));
    }

    #[test]
    fn a_conflicted_lock_reads_both_sides_and_keeps_released() {
        let a = sample();
        let mut b = sample();
        b.migrations.get_mut("20250101000200").unwrap().released = true;
        b.migrations.insert(
            "20250101000300".into(),
            LockedMigration {
                version: "20250101000300".into(),
                name: "teams".into(),
                sha256: sha256_hex(b"teams"),
                released: false,
                line: 0,
            },
        );
        let text = format!(
            "<<<<<<< ours\n{}=======\n{}>>>>>>> theirs\n",
            a.render(),
            b.render()
        );
        let parsed = Lock::parse(&text).unwrap();
        assert!(parsed.conflicted);
        assert!(!parsed.total_ok);
        assert_eq!(parsed.migrations.len(), 3);
        assert!(parsed.migrations["20250101000200"].released);
    }

    #[test]
    fn two_different_releases_of_one_version_are_an_error() {
        let a = sample();
        let mut b = sample();
        b.migrations.get_mut("20250101000100").unwrap().sha256 = sha256_hex(b"other");
        let text = format!(
            "<<<<<<< ours\n{}=======\n{}>>>>>>> theirs\n",
            a.render(),
            b.render()
        );
        let errors = Lock::parse(&text).unwrap_err();
        assert!(
            errors[0]
                .message
                .contains("released version 20250101000100 with different SQL"),
            "{errors:?}"
        );
    }
}
