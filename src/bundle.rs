//! Release bundles: one reproducible `.tar.gz` holding the dbmate migrations, the final
//! schema and a manifest.
//!
//! ```text
//! <name>-<version>/
//!   db/migrations/<version>_<name>.sql   (dbmate's default folder: `dbmate up` works as is)
//!   schema.sql                           (the schema after the last layer, built directly)
//!   manifest.json                        (versions, names, sha256 of every file, …)
//! ```
//!
//! Reproducible: the same specs give the same bytes anywhere. Entries are sorted by path;
//! every header has mtime 0, uid/gid 0, empty owner names, mode 0644 (0755 for folders); the
//! gzip header has mtime 0, no file name and OS byte 255 ("unknown"); the compression level
//! is fixed and the compressor (miniz_oxide) is pinned by Cargo.lock. Nothing in the archive
//! depends on the project's folder, the clock, the user or the release marks of the lock.

use std::io::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::lock::sha256_hex;
use crate::migration::GeneratedFile;
use crate::spec::Project;

/// The oldest PostgreSQL a bundle claims to support: the version the test suite applies and
/// rolls back every generated migration on. Some spec features need it (`security_invoker`
/// views), and nothing older is tested, so nothing older is claimed.
pub const MIN_POSTGRES: u32 = 15;

/// Version of the manifest's layout.
pub const MANIFEST_FORMAT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the project has no layers, so there is nothing to release")]
    NoMigrations,
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot build the archive: {0}")]
    Archive(std::io::Error),
}

/// A built bundle: its file name and bytes, and the manifest it carries.
#[derive(Debug)]
pub struct Bundle {
    /// `<name>-<version>.tar.gz`.
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub manifest: Manifest,
}

#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    pub format: u32,
    pub project: String,
    /// The latest migration's version: the version of the release.
    pub version: String,
    pub schemac_version: String,
    pub min_postgres: u32,
    /// sha256 over the inputs (`schemac.yaml`, every layer, template overrides): a
    /// `sha256sum`-style listing of them, hashed. See [`spec_digest`].
    pub spec_digest: String,
    pub migrations: Vec<ManifestMigration>,
    /// Every file of the bundle except the manifest, by path.
    pub files: Vec<ManifestFile>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ManifestMigration {
    pub version: String,
    pub name: String,
    pub path: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: usize,
}

/// Build the bundle of `files` (compiled from `project`, already known to be current).
pub fn build(
    project: &Project,
    files: &[GeneratedFile],
    name: &str,
) -> Result<Bundle, BundleError> {
    let mut migrations = Vec::new();
    let mut entries: Vec<(String, &str)> = Vec::new();
    for f in files {
        if let Some(file) = f.path.strip_prefix("migrations/") {
            let (version, rest) = file.split_once('_').unwrap_or((file, ""));
            let path = format!("db/migrations/{file}");
            migrations.push(ManifestMigration {
                version: version.to_string(),
                name: rest.trim_end_matches(".sql").to_string(),
                path: path.clone(),
                sha256: sha256_hex(f.contents.as_bytes()),
            });
            entries.push((path, &f.contents));
        } else {
            entries.push((f.path.clone(), &f.contents));
        }
    }
    migrations.sort_by(|a, b| a.version.cmp(&b.version));
    let version = migrations
        .last()
        .map(|m| m.version.clone())
        .ok_or(BundleError::NoMigrations)?;
    entries.sort();
    let manifest = Manifest {
        format: MANIFEST_FORMAT,
        project: name.to_string(),
        version: version.clone(),
        schemac_version: env!("CARGO_PKG_VERSION").to_string(),
        min_postgres: MIN_POSTGRES,
        spec_digest: spec_digest(project)?,
        migrations,
        files: entries
            .iter()
            .map(|(path, contents)| ManifestFile {
                path: path.clone(),
                sha256: sha256_hex(contents.as_bytes()),
                bytes: contents.len(),
            })
            .collect(),
    };
    let mut manifest_text =
        serde_json::to_string_pretty(&manifest).expect("the manifest serializes");
    manifest_text.push('\n');
    entries.push(("manifest.json".into(), &manifest_text));
    entries.sort();

    let root = format!("{name}-{version}");
    let bytes = archive(&root, &entries).map_err(BundleError::Archive)?;
    Ok(Bundle {
        file_name: format!("{root}.tar.gz"),
        bytes,
        manifest,
    })
}

/// The digest of everything the generated SQL is computed from: `schemac.yaml`, every layer
/// file, and every template override, as `<sha256>  <path>` lines sorted by path, hashed.
/// Paths are relative to the project, so the digest does not depend on where it lives.
pub fn spec_digest(project: &Project) -> Result<String, BundleError> {
    let mut inputs: Vec<(String, String)> = Vec::new();
    if let Some(text) = &project.config_text {
        inputs.push((
            project.config_display.to_string(),
            sha256_hex(text.as_bytes()),
        ));
    }
    for layer in &project.layers {
        inputs.push((
            layer.display_path.to_string(),
            sha256_hex(layer.text.as_bytes()),
        ));
    }
    let templates = project.templates_dir();
    for (template, _) in crate::render::BUILTIN {
        let path = templates.join(template);
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|source| BundleError::Read {
                path: path.display().to_string(),
                source,
            })?;
            inputs.push((
                format!("{}/{template}", project.config.templates),
                sha256_hex(&bytes),
            ));
        }
    }
    inputs.sort();
    let listing: String = inputs
        .iter()
        .map(|(path, sha)| format!("{sha}  {path}\n"))
        .collect();
    Ok(sha256_hex(listing.as_bytes()))
}

/// A gzip-compressed tar of `entries` under the folder `root`, byte for byte reproducible.
fn archive(root: &str, entries: &[(String, &str)]) -> std::io::Result<Vec<u8>> {
    let mut dirs: Vec<String> = vec![format!("{root}/")];
    for (path, _) in entries {
        let mut prefix = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            prefix.push_str(part);
            prefix.push('/');
            let dir = format!("{root}/{prefix}");
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    let mut all: Vec<(String, Option<&str>)> = dirs.into_iter().map(|d| (d, None)).collect();
    all.extend(
        entries
            .iter()
            .map(|(p, c)| (format!("{root}/{p}"), Some(*c))),
    );
    all.sort();

    let mut tar = tar::Builder::new(Vec::new());
    for (path, contents) in &all {
        let mut header = tar::Header::new_gnu();
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        match contents {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                tar.append_data(&mut header, path, std::io::empty())?;
            }
            Some(text) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(text.len() as u64);
                tar.append_data(&mut header, path, text.as_bytes())?;
            }
        }
    }
    let tar_bytes = tar.into_inner()?;
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(&tar_bytes)?;
    gz.finish()
}

/// Write `bytes` to `path` through a temporary file in the same folder, then rename.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("bundle");
    let tmp = path.with_file_name(format!(".{file_name}.schemac-tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Whether a bundle name is safe as a file name and as the archive's top folder.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_headers_are_fixed() {
        let bytes = archive(
            "p-1",
            &[("a.sql".into(), "x"), ("db/migrations/1_a.sql".into(), "y")],
        )
        .unwrap();
        // gzip: magic, deflate, no flags, mtime 0, xfl, OS 255.
        assert_eq!(&bytes[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(bytes[9], 255);
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let mut seen = Vec::new();
        for entry in tar.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            let mode = h.mode().unwrap();
            assert!(mode == 0o644 || mode == 0o755, "{mode:o}");
            seen.push(entry.path().unwrap().display().to_string());
        }
        assert_eq!(
            seen,
            [
                "p-1/",
                "p-1/a.sql",
                "p-1/db/",
                "p-1/db/migrations/",
                "p-1/db/migrations/1_a.sql"
            ]
        );
    }

    #[test]
    fn names() {
        assert!(valid_name("billing-db_2.0"));
        for bad in ["", ".hidden", "-x", "a/b", "a b", "ä"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
