//! `schemac check`: compile in memory and compare with generated/ and its lock; writes
//! nothing. Exit 1 with a diff and one line (or diagnostic) per finding.

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use crate::findings::{Blocks, Finding};
use crate::integrity;
use crate::migration;

pub fn run(root: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let (project, files) = match migration::compile_dir(root) {
        Ok(r) => r,
        Err(failure) => {
            return Ok(super::report(
                root,
                failure.project.as_ref(),
                &failure.error,
                format,
            ))
        }
    };
    let generated = &project.config.generated;
    // The stages of `check`, each adding findings: the integrity of generated/ (files,
    // lock, release marks, version order). A lint stage adds its findings here.
    let findings: Vec<Finding> = integrity::analyze(&project, &files).findings;
    let count = files.len() + 1; // and the lock
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({ "ok": findings.is_empty(), "files": count, "findings": super::findings::json(&findings) })
        );
        return Ok(ExitCode::from(u8::from(!findings.is_empty())));
    }
    if findings.is_empty() {
        println!("{generated}/ is current ({count} files)");
        return Ok(ExitCode::SUCCESS);
    }
    super::findings::print_text(root, &project, &findings);
    let generate_fixes = findings.iter().all(|f| f.blocks == Blocks::Never);
    if generate_fixes {
        eprintln!(
            "{} generated file(s) are not current; run `schemac generate` and commit the result",
            findings.len()
        );
    } else {
        eprintln!(
            "{} finding(s) in {generated}/; each says above what resolves it",
            findings.len()
        );
    }
    Ok(ExitCode::from(1))
}
