//! Integrity of `generated/`: the compiled files, the lock and what is on disk, compared.
//!
//! Every generated file falls in one of these cases (the lock says what schemac last wrote):
//!
//! | on disk                                   | finding            | `generate`              |
//! |-------------------------------------------|--------------------|-------------------------|
//! | equal to the compiled text                | none               | nothing to do           |
//! | equal to what the lock records            | `stale`            | rewrites it             |
//! | absent, not in the lock (a new layer)     | `missing`          | writes it               |
//! | differs from both (edited by hand)        | `hand-edited` E303 | refuses unless `--force`|
//! | absent but in the lock (deleted)          | `deleted` E304     | refuses unless `--force`|
//! | a copy of a locked file under a new name  | `renamed` E305     | refuses unless `--force`|
//! | in the lock, its layer gone               | `extra`            | removes it              |
//! | unknown to the lock and to the specs      | `extra`            | leaves it (warning)     |
//!
//! and, whatever is on disk: a released migration whose SQL the specs would change is
//! `released-changed` (E301), one no layer produces any more is `released-removed` (E302), an
//! unreleased layer ordered before a released one is `out-of-order` (E307), an unreadable
//! lock is `lock-invalid` (E308); `generate` refuses all four. Without a lock (a project from
//! before locks) nothing can be told apart from `stale`, and `generate` writes the lock.
//! A file holding git's conflict markers counts as stale: a merge wrote it, not a person.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Span};
use crate::findings::{Blocks, Finding};
use crate::lock::{sha256_hex, Lock, LockedMigration, LOCK_FILE};
use crate::migration::{unified_diff, GeneratedFile, Staleness};
use crate::spec::Project;

/// The result of comparing: findings, the lock as it should now read, and what `generate`
/// would write and remove.
#[derive(Debug)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    /// The lock for the compiled files, with the release marks of the lock on disk.
    pub lock: Lock,
    /// Whether a lock file exists (readable or not).
    pub lock_on_disk: bool,
    /// Files (relative to the generated folder) `generate` removes: leftovers of deleted
    /// layers that the lock shows schemac wrote; with `--force` also hand-edited leftovers
    /// and renamed copies.
    pub removable: Vec<(String, Blocks)>,
    /// For each compiled file (in their order), whether the disk holds it already.
    pub current: Vec<bool>,
}

impl Analysis {
    /// Findings that keep `generate` from writing (given `--force` or not).
    pub fn blocking(&self, force: bool) -> Vec<&Finding> {
        self.findings
            .iter()
            .filter(|f| match f.blocks {
                Blocks::Always => true,
                Blocks::UnlessForced => !force,
                Blocks::Never | Blocks::NotGenerated => false,
            })
            .collect()
    }

    /// The compiled files whose text the disk does not hold yet (those `generate` writes).
    pub fn to_write<'f>(&self, files: &'f [GeneratedFile]) -> Vec<&'f GeneratedFile> {
        files
            .iter()
            .zip(&self.current)
            .filter(|(_, &current)| !current)
            .map(|(f, _)| f)
            .collect()
    }

    /// The paths to remove (relative to the generated folder), given `--force` or not.
    pub fn to_remove(&self, force: bool) -> Vec<&str> {
        self.removable
            .iter()
            .filter(|(_, b)| *b == Blocks::Never || (force && *b == Blocks::UnlessForced))
            .map(|(p, _)| p.as_str())
            .collect()
    }

    /// Mark every compiled migration up to `through` (inclusive) released. Returns the
    /// versions newly marked.
    pub fn release_through(&mut self, through: &str) -> Vec<String> {
        let mut newly = Vec::new();
        for m in self.lock.migrations.values_mut() {
            if m.version.as_str() <= through && !m.released {
                m.released = true;
                newly.push(format!("{}_{}", m.version, m.name));
            }
        }
        newly
    }
}

/// Compare `files` (compiled from `project`) with the project's generated folder and lock.
/// Reads only.
pub fn analyze(project: &Project, files: &[GeneratedFile], diffs: Diffs) -> Analysis {
    let dir = project.generated_dir();
    let shown = project.config.generated.trim_end_matches('/').to_string();
    let ctx = Ctx {
        dir: &dir,
        shown: &shown,
        diffs,
    };
    let mut findings = Vec::new();

    // The lock on disk.
    let lock_path = dir.join(LOCK_FILE);
    let lock_text = std::fs::read_to_string(&lock_path).ok();
    let lock_on_disk = lock_path.exists();
    let old: Option<Lock> = match &lock_text {
        None => None,
        Some(text) => match Lock::parse(text) {
            Ok(lock) => Some(lock),
            Err(errors) => {
                for e in errors {
                    findings.push(ctx.finding(
                        "lock-invalid",
                        LOCK_FILE,
                        Diagnostic::error("E308", format!("the lock cannot be read: {}", e.message))
                            .at(Some(ctx.span(LOCK_FILE, e.line, e.column)))
                            .help("restore it from git (`git checkout -- <file>`); it records which migrations are released, so do not delete it"),
                        None,
                        Blocks::Always,
                    ));
                }
                None
            }
        },
    };
    let empty = Lock::default();
    let old_lock = old.as_ref().unwrap_or(&empty);

    let layer_source: BTreeMap<&str, &Arc<str>> = project
        .layers
        .iter()
        .map(|l| (l.version.as_str(), &l.display_path))
        .collect();

    // The lock to write: compiled files, release marks carried over where still valid.
    let mut lock = Lock::default();

    // Each compiled file's sha256 and whether the disk holds it already, once, on all cores:
    // at thousands of tables the files are tens of megabytes.
    let (shas, current): (Vec<String>, Vec<bool>) = crate::parallel::map(files.len(), |i| {
        let f = &files[i];
        (
            sha256_hex(f.contents.as_bytes()),
            crate::migration::holds(&dir.join(&f.path), &f.contents),
        )
    })
    .into_iter()
    .unzip();
    for ((f, sha), &current) in files.iter().zip(&shas).zip(&current) {
        let sha = sha.clone();
        let Some((version, name)) = migration_of(&f.path) else {
            lock.files.insert(f.path.clone(), sha.clone());
            if !current {
                ctx.compare_file(f, old_lock.sha_of(&f.path), &mut findings);
            }
            continue;
        };
        let entry = old_lock.migrations.get(version);
        let released = entry.filter(|e| e.released);
        match released {
            Some(e) if e.name != name => {
                let source = layer_source.get(version).map_or("its layer", |s| s);
                findings.push(ctx.finding(
                    "released-removed",
                    &e.path(),
                    Diagnostic::error(
                        "E302",
                        format!(
                            "released migration {}_{} is now produced as {version}_{name}: its layer was renamed",
                            e.version, e.name
                        ),
                    )
                    .at(Some(ctx.span(&e.path(), 1, 1)))
                    .help(format!(
                        "a released migration never changes, not even its name (its SQL names its spec file); rename {source} back and put further changes in a new layer (`schemac new NAME`)"
                    )),
                    None,
                    Blocks::Always,
                ));
                lock.migrations.insert(version.to_string(), e.clone());
            }
            Some(e) if e.sha256 != sha => {
                let on_disk = std::fs::read_to_string(dir.join(&f.path)).ok();
                // Show the change against the released text when the file still holds it.
                let released_text = on_disk.filter(|t| sha256_hex(t.as_bytes()) == e.sha256);
                let stale = Staleness::Changed {
                    path: f.path.clone(),
                    on_disk: released_text.clone().unwrap_or_default(),
                    expected: f.contents.clone(),
                };
                let source = layer_source.get(version).map_or("its layer", |s| s);
                let line = released_text
                    .as_deref()
                    .map_or(1, |t| first_difference(t, &f.contents));
                findings.push(ctx.finding(
                    "released-changed",
                    &f.path,
                    Diagnostic::error(
                        "E301",
                        format!("released migration {version}_{name} would change"),
                    )
                    .at(Some(ctx.span(&f.path, line, 1)))
                    .help(format!(
                        "it is marked released in {}/{LOCK_FILE}: databases may have applied it, and dbmate never runs an applied migration again. Undo the edit to {source} (or to an earlier layer) and put the change in a new layer (`schemac new NAME`){}",
                        ctx.shown,
                        if released_text.is_some() { "; the diff shows what would change" } else { "" }
                    )),
                    Some(stale),
                    Blocks::Always,
                ));
                lock.migrations.insert(version.to_string(), e.clone());
            }
            _ => {
                let on_disk_sha = entry.filter(|e| e.name == name).map(|e| e.sha256.as_str());
                if !current {
                    ctx.compare_file(f, on_disk_sha, &mut findings);
                }
                lock.migrations.insert(
                    version.to_string(),
                    LockedMigration {
                        version: version.to_string(),
                        name: name.to_string(),
                        sha256: sha,
                        released: released.is_some(),
                        line: 0,
                    },
                );
            }
        }
    }

    // Released migrations no layer produces any more.
    for e in old_lock.migrations.values() {
        if e.released && !lock.migrations.contains_key(&e.version) {
            findings.push(ctx.finding(
                "released-removed",
                &e.path(),
                Diagnostic::error(
                    "E302",
                    format!("released migration {}_{} is no longer produced by any layer", e.version, e.name),
                )
                .at(Some(ctx.span(&e.path(), 1, 1)))
                .help(format!(
                    "its spec was deleted or renamed; restore {}/{}_{}.yaml. A released migration stays: to undo what it did, add a layer that drops it",
                    project.config.specs, e.version, e.name
                )),
                None,
                Blocks::Always,
            ));
            lock.migrations.insert(e.version.clone(), e.clone());
        }
    }

    // Files in migrations/ that no layer produces.
    let mut removable = Vec::new();
    // sha256 → a file schemac wrote (per the lock) or would write: a copy of one is a rename.
    let mut copies: BTreeMap<String, String> = BTreeMap::new();
    for m in old_lock.migrations.values() {
        copies.entry(m.sha256.clone()).or_insert_with(|| m.path());
    }
    let mut by_path: Vec<(&str, &String)> =
        files.iter().map(|f| f.path.as_str()).zip(&shas).collect();
    by_path.sort();
    for (path, sha) in by_path {
        copies
            .entry(sha.clone())
            .or_insert_with(|| path.to_string());
    }
    for path in crate::migration::extra_files(&dir, files) {
        let text = std::fs::read(dir.join(&path)).unwrap_or_default();
        let sha = sha256_hex(&text);
        let entry = old_lock.migrations.values().find(|m| m.path() == path);
        match entry {
            Some(e) if e.released => {} // reported above (E302)
            Some(e) if e.sha256 == sha || has_conflict_markers(&text) => {
                removable.push((path.clone(), Blocks::Never));
                findings.push(ctx.plain(
                    "extra",
                    &path,
                    Some("its layer is gone; `schemac generate` removes it"),
                    Some(Staleness::Extra {
                        path: path.clone(),
                        on_disk: String::from_utf8_lossy(&text).into(),
                    }),
                    Blocks::Never,
                ));
            }
            Some(_) => {
                removable.push((path.clone(), Blocks::UnlessForced));
                findings.push(ctx.finding(
                    "hand-edited",
                    &path,
                    Diagnostic::error("E303", "generated file was edited by hand, and its layer is gone")
                        .at(Some(ctx.span(&path, 1, 1)))
                        .help("put what it should do into a layer; `schemac generate --force` removes the file"),
                    None,
                    Blocks::UnlessForced,
                ));
            }
            None => match copies.get(&sha) {
                Some(original) => {
                    removable.push((path.clone(), Blocks::UnlessForced));
                    findings.push(ctx.finding(
                        "renamed",
                        &path,
                        Diagnostic::error(
                            "E305",
                            format!("generated file is a renamed copy of {}/{original}", ctx.shown),
                        )
                        .at(Some(ctx.span(&path, 1, 1)))
                        .help("file names come from the layer files: rename the layer in the specs instead; `schemac generate --force` removes the copy (dbmate would run it as well)"),
                        None,
                        Blocks::UnlessForced,
                    ));
                }
                None => {
                    let note = dbmate_clash(&path, files)
                        .unwrap_or_else(|| "no layer produces it and schemac did not write it: dbmate would apply it; move it out, or put its SQL in a layer's `sql:`".into());
                    findings.push(ctx.plain(
                        "extra",
                        &path,
                        Some(&note),
                        Some(Staleness::Extra {
                            path: path.clone(),
                            on_disk: String::from_utf8_lossy(&text).into(),
                        }),
                        Blocks::NotGenerated,
                    ));
                }
            },
        }
    }

    // Unreleased layers ordered before a released migration.
    if let Some(latest) = lock.latest_released().cloned() {
        for m in lock.migrations.values() {
            if !m.released && m.version < latest.version {
                let source = layer_source
                    .get(m.version.as_str())
                    .map_or_else(|| format!("{}/{}", ctx.shown, m.path()), |s| s.to_string());
                findings.push(Finding {
                    kind: "out-of-order",
                    path: source.clone(),
                    diagnostic: Diagnostic::error(
                        "E307",
                        format!(
                            "layer {} is not released but sorts before the released migration {}_{}",
                            m.version, latest.version, latest.name
                        ),
                    )
                    .at(Some(Span { file: source.as_str().into(), line: 1, col: 1 }))
                    .help(format!(
                        "dbmate orders by version: a database that has {} would apply this one late (or refuse it with --strict). Rename the layer file with a version after {} (`schemac new NAME` picks one)",
                        latest.version, latest.version
                    )),
                    diff: None,
                    blocks: Blocks::Always,
                });
            }
        }
    }

    // The lock itself, once everything else is known.
    if old.is_some() || !lock_on_disk {
        let expected = lock.render();
        let on_disk = lock_text.unwrap_or_default();
        if on_disk != expected {
            let s = if lock_on_disk {
                Staleness::Changed {
                    path: LOCK_FILE.into(),
                    on_disk,
                    expected,
                }
            } else {
                Staleness::Missing {
                    path: LOCK_FILE.into(),
                    expected,
                }
            };
            let note = match (&old, lock_on_disk) {
                (Some(l), _) if l.conflicted => Some("it holds git conflict markers; `schemac generate` writes the merged lock"),
                (Some(l), _) if !l.total_ok => Some("its total does not match its lines (a merge or an edit); `schemac generate` rewrites it"),
                _ => None,
            };
            let kind = if lock_on_disk { "stale" } else { "missing" };
            findings.push(ctx.plain(kind, LOCK_FILE, note, Some(s), Blocks::Never));
        }
    }

    Analysis {
        findings,
        lock,
        lock_on_disk,
        removable,
        current,
    }
}

/// Which findings [`analyze`] gives a diff: rendering one is the largest cost of a finding
/// (at 5,000 tables the files of a new project are 36 MB of missing text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Diffs {
    /// Every finding about a file's text (`check`, `release`, `bundle` show them all).
    All,
    /// Only those that stop `generate` (with or without `--force`): it repairs the others
    /// without showing them.
    Blocking,
}

struct Ctx<'a> {
    dir: &'a Path,
    shown: &'a str,
    diffs: Diffs,
}

impl Ctx<'_> {
    fn span(&self, path: &str, line: usize, col: usize) -> Span {
        Span {
            file: format!("{}/{path}", self.shown).into(),
            line: line as u64,
            col: col as u64,
        }
    }

    /// Whether a finding that `blocks` so gets its diff.
    fn wants_diff(&self, blocks: Blocks) -> bool {
        match self.diffs {
            Diffs::All => true,
            Diffs::Blocking => matches!(blocks, Blocks::UnlessForced | Blocks::Always),
        }
    }

    /// A finding, with the diff of `stale` when [`Ctx::wants_diff`].
    fn finding(
        &self,
        kind: &'static str,
        path: &str,
        diagnostic: Diagnostic,
        stale: Option<Staleness>,
        blocks: Blocks,
    ) -> Finding {
        Finding {
            kind,
            path: format!("{}/{path}", self.shown),
            diagnostic,
            diff: stale
                .filter(|_| self.wants_diff(blocks))
                .map(|s| unified_diff(self.shown, &s)),
            blocks,
        }
    }

    /// `stale`, `missing`, `extra`: a one-line finding with an optional note.
    fn plain(
        &self,
        kind: &'static str,
        path: &str,
        note: Option<&str>,
        stale: Option<Staleness>,
        blocks: Blocks,
    ) -> Finding {
        let code = match kind {
            "stale" => "E310",
            "missing" => "E311",
            _ => "E312",
        };
        let message = match kind {
            "stale" => "generated file is not current",
            "missing" => "generated file is missing",
            _ => "file in the migrations folder that no layer produces",
        };
        let mut d = Diagnostic::error(code, message).at(Some(self.span(path, 1, 1)));
        d.help = note.map(str::to_string);
        self.finding(kind, path, d, stale, blocks)
    }

    /// One compiled file against the disk, knowing the sha the lock records for it (for a
    /// file that [`crate::migration::holds`] found not current).
    fn compare_file(&self, f: &GeneratedFile, locked: Option<&str>, out: &mut Vec<Finding>) {
        let on_disk = match std::fs::read(self.dir.join(&f.path)) {
            Ok(bytes) => bytes,
            Err(_) => {
                let blocks = match locked {
                    Some(_) => Blocks::UnlessForced,
                    None => Blocks::Never,
                };
                // Not even copied when no diff is wanted: the text of a new project's files.
                let s = self.wants_diff(blocks).then(|| Staleness::Missing {
                    path: f.path.clone(),
                    expected: f.contents.clone(),
                });
                if locked.is_some() {
                    out.push(self.finding(
                        "deleted",
                        &f.path,
                        Diagnostic::error("E304", "generated file was deleted")
                            .at(Some(self.span(&f.path, 1, 1)))
                            .help("to remove a migration, delete its layer in the specs (an unreleased one) or add a layer that undoes it; `schemac generate --force` writes the file again"),
                        s,
                        blocks,
                    ));
                } else {
                    out.push(self.plain("missing", &f.path, None, s, blocks));
                }
                return;
            }
        };
        if on_disk == f.contents.as_bytes() {
            return;
        }
        let text = String::from_utf8_lossy(&on_disk).into_owned();
        let sha = sha256_hex(&on_disk);
        let s = Staleness::Changed {
            path: f.path.clone(),
            on_disk: text.clone(),
            expected: f.contents.clone(),
        };
        let merged = has_conflict_markers(&on_disk);
        match locked {
            Some(l) if l != sha && !merged => {
                let line = first_difference(&text, &f.contents);
                out.push(self.finding(
                    "hand-edited",
                    &f.path,
                    Diagnostic::error("E303", "generated file was edited by hand")
                        .at(Some(self.span(&f.path, line, 1)))
                        .help("it matches neither the specs nor what schemac last wrote (the lock): put the change into the specs; `schemac generate --force` overwrites the file (the diff shows what would be lost)"),
                    Some(s),
                    Blocks::UnlessForced,
                ));
            }
            _ => {
                let note = merged
                    .then_some("it holds git conflict markers; `schemac generate` writes it anew");
                out.push(self.plain("stale", &f.path, note, Some(s), Blocks::Never));
            }
        }
    }
}

/// `migrations/<version>_<name>.sql` → (version, name).
fn migration_of(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix("migrations/")?
        .strip_suffix(".sql")?
        .split_once('_')
}

/// 1-based number of the first line where two texts differ.
fn first_difference(a: &str, b: &str) -> usize {
    let mut n = 1;
    let (mut la, mut lb) = (a.lines(), b.lines());
    loop {
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => n += 1,
            (None, None) => return 1,
            _ => return n,
        }
    }
}

fn has_conflict_markers(text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    let has = |m: &str| text.lines().any(|l| l.starts_with(m));
    has("<<<<<<< ") && has(">>>>>>> ")
}

/// For an unknown file in `migrations/`: how dbmate would trip over it, if it would.
fn dbmate_clash(path: &str, files: &[GeneratedFile]) -> Option<String> {
    let file = path.strip_prefix("migrations/").unwrap_or(path);
    let version: String = file.chars().take_while(char::is_ascii_digit).collect();
    if version.is_empty() {
        return None;
    }
    let versions: BTreeSet<&str> = files
        .iter()
        .filter_map(|f| migration_of(&f.path).map(|(v, _)| v))
        .collect();
    if versions.contains(version.as_str()) {
        return Some(format!(
            "no layer produces it, and its version {version} is also a layer's: dbmate would apply only one of the two; move it out"
        ));
    }
    if let Some(v) = versions.iter().find(|v| v.len() != version.len()) {
        return Some(format!(
            "no layer produces it, and dbmate compares versions as strings: {version} and {v} have different widths, so they run in the wrong order; move it out"
        ));
    }
    None
}
