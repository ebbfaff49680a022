//! `schemac generate`: compile and write generated/ (only files whose text changes) and its
//! lock. Refuses, writing nothing, when that would overwrite or remove something that did
//! not come from the specs (a hand-edited, deleted or renamed file: `--force` allows it) or
//! change a released migration (never allowed).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Format;
use crate::findings::Blocks;
use crate::lock::LOCK_FILE;
use crate::{integrity, migration};

pub fn run(root: &Path, format: Format, force: bool) -> anyhow::Result<ExitCode> {
    let (project, compiled) = match super::compile(root, format) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let files = &compiled.files;
    let generated = &project.config.generated;
    let dir = project.generated_dir();
    let analysis = integrity::analyze(&project, files, integrity::Diffs::Blocking);
    let blocking: Vec<_> = analysis.blocking(force).into_iter().cloned().collect();
    if !blocking.is_empty() {
        if format == Format::Json {
            println!(
                "{}",
                serde_json::json!({ "ok": false, "written": [], "findings": super::findings::json(&blocking) })
            );
        } else {
            super::findings::print_text(root, &project, &blocking);
            let forcible = blocking.iter().all(|f| f.blocks == Blocks::UnlessForced);
            eprintln!(
                "{} problem(s) in {generated}/; nothing was written{}",
                blocking.len(),
                if forcible {
                    " (`schemac generate --force` overwrites and removes those files)"
                } else {
                    ""
                }
            );
        }
        return Ok(ExitCode::from(1));
    }

    let mut written = migration::write_all(&dir, &analysis.to_write(files))?;
    let mut removed = Vec::new();
    for path in analysis.to_remove(force) {
        let full = dir.join(path);
        std::fs::remove_file(&full).with_context(|| format!("removing {}", full.display()))?;
        removed.push(path.to_string());
    }
    // The lock last: if anything above failed, it still describes what is on disk.
    let lock = analysis.lock.render();
    let lock_path = dir.join(LOCK_FILE);
    if std::fs::read_to_string(&lock_path).ok().as_deref() != Some(lock.as_str()) {
        migration::write_atomic(&lock_path, &lock)
            .with_context(|| format!("writing {}", lock_path.display()))?;
        written.push(LOCK_FILE.to_string());
    }
    let extra: Vec<&str> = analysis
        .findings
        .iter()
        .filter(|f| f.kind == "extra" && f.blocks == Blocks::NotGenerated)
        .map(|f| f.path.as_str())
        .collect();
    let count = files.len() + 1;
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({ "ok": true, "written": written, "removed": removed, "files": count, "extra": extra })
        );
        return Ok(ExitCode::SUCCESS);
    }
    for path in &written {
        println!("wrote {generated}/{path}");
    }
    for path in &removed {
        println!("removed {generated}/{path}");
    }
    if written.is_empty() && removed.is_empty() {
        println!("{generated}/ is up to date ({count} files)");
    }
    for path in extra {
        eprintln!(
            "warning: {path} has no layer in {}/ and schemac did not write it; dbmate would apply it: move it out, or put its SQL in a layer",
            project.config.specs
        );
    }
    Ok(ExitCode::SUCCESS)
}
