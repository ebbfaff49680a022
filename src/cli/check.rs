//! `schemac check`: compile in memory, compare with generated/ and run the lint rules; writes
//! nothing. Exit 1 when a file is stale or a lint finding is an error.

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use crate::migration::{self, Staleness};

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
    let stale = migration::stale_files(&project.generated_dir(), &files);
    let lint = match super::lint::lint_project(&project) {
        Ok(r) => r,
        Err(e) => return Ok(super::report(root, Some(&project), &e, format)),
    };
    let failed = !stale.is_empty() || lint.errors() > 0;
    if format == Format::Json {
        let findings: Vec<serde_json::Value> = stale
            .iter()
            .map(|s| {
                let (kind, path) = match s {
                    Staleness::Missing { path, .. } => ("missing", path),
                    Staleness::Changed { path, .. } => ("stale", path),
                    Staleness::Extra { path, .. } => ("extra", path),
                };
                serde_json::json!({
                    "kind": kind,
                    "path": format!("{generated}/{path}"),
                    "diff": migration::unified_diff(generated, s),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "ok": !failed,
                "files": files.len(),
                "findings": findings,
                "lint": super::lint::json(&lint),
            })
        );
        return Ok(ExitCode::from(u8::from(failed)));
    }
    if !lint.findings.is_empty() {
        super::lint::print(root, &project, &lint, format);
    }
    if stale.is_empty() {
        println!("{generated}/ is current ({} files)", files.len());
        return Ok(ExitCode::from(u8::from(failed)));
    }
    for s in &stale {
        print!("{}", migration::unified_diff(generated, s));
    }
    for s in &stale {
        let line = match s {
            Staleness::Missing { path, .. } => format!("missing: {generated}/{path}"),
            Staleness::Changed { path, .. } => format!("stale:   {generated}/{path}"),
            Staleness::Extra { path, .. } => {
                format!("extra:   {generated}/{path} (no layer produces it)")
            }
        };
        eprintln!("{line}");
    }
    eprintln!(
        "{} generated file(s) are not current; run `schemac generate` and commit the result",
        stale.len()
    );
    Ok(ExitCode::from(1))
}
