//! `schemac check`: compile in memory, compare with generated/ and its lock, and run the lint
//! rules; writes nothing. Exit 1 with a diff and one line (or diagnostic) per integrity
//! finding, or when a lint finding is an error (lint warnings are shown only).

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use crate::findings::Blocks;
use crate::integrity;
use crate::migration;

pub fn run(root: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let (project, compiled) = match super::compile(root, format) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let generated = &project.config.generated;
    // The stages of `check`: the integrity of generated/ (files, lock, release marks, version
    // order) and the lint rules over the states and the planned changes. They are
    // independent: the lint rules run on another core meanwhile.
    let files = &compiled.files;
    let (lint, findings) = crate::parallel::join(
        || crate::lint::lint(&project, &compiled.folded, &compiled.lint),
        || integrity::analyze(&project, files, integrity::Diffs::All).findings,
    );
    let lint = match lint {
        Ok(r) => r,
        Err(d) => {
            let e = migration::CompileError::Diagnostics(d);
            return Ok(super::report(root, Some(&project), &e, format));
        }
    };
    let failed = !findings.is_empty() || lint.errors() > 0;
    let count = files.len() + 1; // and the lock
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({
                "ok": !failed,
                "files": count,
                "findings": super::findings::json(&findings),
                "lint": super::lint::json(&lint),
            })
        );
        return Ok(ExitCode::from(u8::from(failed)));
    }
    if !lint.findings.is_empty() {
        super::lint::print(root, &project, &lint, format);
    }
    if findings.is_empty() {
        println!("{generated}/ is current ({count} files)");
        return Ok(ExitCode::from(u8::from(failed)));
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
