//! `schemac check`: compile in memory and compare with generated/; writes nothing.

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
            serde_json::json!({ "ok": stale.is_empty(), "files": files.len(), "findings": findings })
        );
        return Ok(ExitCode::from(u8::from(!stale.is_empty())));
    }
    if stale.is_empty() {
        println!("{generated}/ is current ({} files)", files.len());
        return Ok(ExitCode::SUCCESS);
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
