//! `schemac bundle --out DIR`: write `DIR/<name>-<version>.tar.gz`, the release archive (see
//! [`crate::bundle`]), and mark every migration released. Refuses when generated/ is not
//! current (what `check` says), and never replaces an existing archive with other bytes.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use super::Format;
use crate::diagnostic::Diagnostic;
use crate::lock::{sha256_hex, LOCK_FILE};
use crate::spec::span_of;
use crate::{bundle, integrity, migration};

pub fn run(
    root: &Path,
    format: Format,
    out: &Path,
    name: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
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
            "no bundle was written",
        ));
    }
    if let Some(code) =
        super::lint::refuse_on_errors(root, &project, &compiled, format, "no bundle was written")
    {
        return Ok(code);
    }
    let name = match (name, &project.config.name) {
        (Some(n), _) => n.to_string(),
        (None, Some(n)) => {
            if !bundle::valid_name(&n.value) {
                let d = Diagnostic::error("E320", format!("`{}` cannot name a bundle", n.value))
                    .at(Some(span_of(&project.config_display, n)))
                    .help("use letters, digits, `.`, `_` and `-` (not first): it becomes a file and folder name");
                return Ok(super::report(
                    root,
                    Some(&project),
                    &crate::migration::CompileError::Diagnostics(d.into()),
                    format,
                ));
            }
            n.value.clone()
        }
        (None, None) => {
            return Ok(super::usage_error(
                format,
                "the bundle needs a name: add `name: <project>` to schemac.yaml (or pass --name)",
            ))
        }
    };
    if !bundle::valid_name(&name) {
        return Ok(super::usage_error(
            format,
            &format!(
                "`{name}` cannot name a bundle: use letters, digits, `.`, `_` and `-` (not first)"
            ),
        ));
    }
    let built = bundle::build(&project, files, &name)?;
    let target = out.join(&built.file_name);
    let shown = target.display().to_string();
    let sha = sha256_hex(&built.bytes);
    let state = match std::fs::read(&target) {
        Ok(existing) if existing == built.bytes => "unchanged",
        Ok(_) => {
            return Ok(super::usage_error(
                format,
                &format!("{shown} exists with other contents; a release's bundle never changes: move the old one away, or add a layer for a new version"),
            ))
        }
        Err(_) => {
            bundle::write_bytes_atomic(&target, &built.bytes)
                .with_context(|| format!("writing {shown}"))?;
            "written"
        }
    };
    let latest = built.manifest.version.clone();
    let newly = analysis.release_through(&latest);
    if !newly.is_empty() {
        let lock_path = project.generated_dir().join(LOCK_FILE);
        migration::write_atomic(&lock_path, &analysis.lock.render())
            .with_context(|| format!("writing {}", lock_path.display()))?;
    }
    let elapsed = started.elapsed();
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({
                "ok": true,
                "bundle": shown,
                "state": state,
                "bytes": built.bytes.len(),
                "sha256": sha,
                "version": latest,
                "released": newly,
                "manifest": built.manifest,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{state} {shown} ({} bytes, {} migrations, sha256 {sha}) in {} ms",
        built.bytes.len(),
        built.manifest.migrations.len(),
        elapsed.as_millis()
    );
    if !newly.is_empty() {
        println!(
            "released {} migration(s) through {latest} in {}/{LOCK_FILE}: commit it",
            newly.len(),
            project.config.generated
        );
    }
    Ok(ExitCode::SUCCESS)
}
