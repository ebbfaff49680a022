//! `schemac release [--through VERSION]`: mark migrations released in the lock. A released
//! migration is frozen: `check` and `generate` refuse any edit to the specs that would change
//! its SQL. Requires generated/ to be current (what `check` says), so what is marked is what
//! is committed.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Format;
use crate::lock::LOCK_FILE;
use crate::{integrity, migration};

pub fn run(root: &Path, format: Format, through: Option<&str>) -> anyhow::Result<ExitCode> {
    let (project, compiled) = match super::compile(root, format) {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    let files = &compiled.files;
    let mut analysis = integrity::analyze(&project, files, integrity::Diffs::All);
    if !analysis.findings.is_empty() {
        return Ok(super::refuse(
            root,
            &project,
            &analysis.findings,
            format,
            "nothing was released",
        ));
    }
    if let Some(code) =
        super::lint::refuse_on_errors(root, &project, &compiled, format, "nothing was released")
    {
        return Ok(code);
    }
    let versions: Vec<String> = analysis.lock.migrations.keys().cloned().collect();
    let Some(latest) = versions.last().cloned() else {
        return Ok(super::usage_error(
            format,
            "the project has no layers, so there is nothing to release",
        ));
    };
    let through = through.unwrap_or(&latest);
    if !versions.iter().any(|v| v == through) {
        return Ok(super::usage_error(
            format,
            &format!(
                "no migration has version {through}; the versions are: {}",
                versions.join(", ")
            ),
        ));
    }
    let newly = analysis.release_through(through);
    let lock_path = project.generated_dir().join(LOCK_FILE);
    if !newly.is_empty() {
        migration::write_atomic(&lock_path, &analysis.lock.render())
            .with_context(|| format!("writing {}", lock_path.display()))?;
    }
    let generated = &project.config.generated;
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({ "ok": true, "through": through, "released": newly })
        );
        return Ok(ExitCode::SUCCESS);
    }
    if newly.is_empty() {
        println!("every migration through {through} was already released");
    } else {
        for m in &newly {
            println!("released {generated}/migrations/{m}.sql");
        }
        println!(
            "{generated}/{LOCK_FILE} updated: commit it; these migrations can no longer change"
        );
    }
    Ok(ExitCode::SUCCESS)
}
