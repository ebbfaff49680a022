//! `schemac diff`: compare a live database with the specs (read-only); exit 0 when it
//! matches, 1 on drift, 2 on errors.

use std::io::IsTerminal as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::{Format, LiveArgs};
use crate::drift::{self, FindingKind, Style};
use crate::layers::Folded;
use crate::live::{self, DiffOptions, LiveError};
use crate::render::Renderer;

pub fn run(
    root: &Path,
    format: Format,
    args: &LiveArgs,
    latest: bool,
    sql: bool,
) -> anyhow::Result<ExitCode> {
    let result = run_diff(root, format, args, latest, sql);
    // A Ctrl-C during the run: let its cleanup finish (it exits 130).
    crate::scratch::wait_if_interrupted();
    result
}

fn run_diff(
    root: &Path,
    format: Format,
    args: &LiveArgs,
    latest: bool,
    sql: bool,
) -> anyhow::Result<ExitCode> {
    let Some(database_url) = args.database_url.as_deref() else {
        anyhow::bail!("no database: pass --database-url URL or set DATABASE_URL");
    };
    let Some((project, folded)) = load_folded(root, format)? else {
        return Ok(ExitCode::from(2));
    };
    let renderer = Renderer::new(Some(&project.templates_dir()))?;
    warn_if_stale(&project, &folded, &renderer);
    let rt = crate::db::runtime().context("starting the async runtime")?;
    let opts = DiffOptions {
        database_url,
        dev_url: args.dev_url.as_deref(),
        latest,
        sql,
    };
    let outcome = match rt.block_on(live::diff_database(&project, &folded, &renderer, &opts)) {
        Ok(o) => o,
        Err(LiveError::Plan(diags)) => {
            for d in &diags.0 {
                eprint!("{}", d.render(&|p: &str| project.source(p)));
            }
            anyhow::bail!("the statements back to the specs cannot be planned (see above)");
        }
        Err(e) => return Err(e.into()),
    };
    let at = match &outcome.version {
        Some(v) => format!(
            "version {v} (layer {} of {})",
            outcome.layer,
            folded.layers.len()
        ),
        None => "no version (before the first layer)".to_string(),
    };
    if format != Format::Json {
        for w in &outcome.warnings {
            eprintln!("warning: {w}");
        }
    }
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({
                "ok": outcome.findings.is_empty(),
                "database": outcome.database,
                "version": outcome.version,
                "layer": outcome.layer,
                "objects": outcome.objects,
                "findings": outcome.findings,
                "sql": outcome.statements,
                "warnings": outcome.warnings,
                "timings_ms": {
                    "introspection": outcome.introspection.as_millis() as u64,
                    "scratch": outcome.scratch_time.as_millis() as u64,
                },
            })
        );
        return Ok(ExitCode::from(u8::from(!outcome.findings.is_empty())));
    }
    if let Some(statements) = &outcome.statements {
        let by_hand: Vec<String> = outcome
            .findings
            .iter()
            .filter(|f| !f.modelled)
            .map(|f| format!("-- by hand ({}): {}", f.kind.label(), f.object))
            .collect();
        if statements.is_empty() && by_hand.is_empty() {
            println!(
                "-- {}: nothing to do, it matches the specs at {at}",
                outcome.database
            );
        } else {
            println!(
                "-- Statements that bring {} back to the specs at {at}.",
                outcome.database
            );
            println!("-- Review them before running: drops lose data.\n");
            for s in statements {
                println!("{s}\n");
            }
            for line in &by_hand {
                println!("{line}");
            }
        }
    } else {
        let style = Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        print!("{}", drift::report_text(&outcome.findings, style));
    }
    let counts = drift::counts(&outcome.findings);
    let summary = if outcome.findings.is_empty() {
        format!(
            "no drift: {} matches the specs at {at} ({} objects)",
            outcome.database, outcome.objects
        )
    } else {
        let n = |k| counts.get(&k).copied().unwrap_or(0);
        format!(
            "drift: {} missing, {} unexpected, {} different in {} (against the specs at {at})",
            n(FindingKind::Missing),
            n(FindingKind::Unexpected),
            n(FindingKind::Different),
            outcome.database
        )
    };
    eprintln!(
        "{summary}\nread the database in {} ms; built the expected state on the {} in {} ms",
        outcome.introspection.as_millis(),
        outcome.scratch,
        outcome.scratch_time.as_millis()
    );
    Ok(ExitCode::from(u8::from(!outcome.findings.is_empty())))
}

/// The database was migrated from the files in generated/: say so when they are not what
/// the specs give (the comparison uses the specs).
fn warn_if_stale(project: &crate::spec::Project, folded: &Folded, renderer: &Renderer) {
    if let Ok(out) = crate::migration::compile_folded(folded, renderer) {
        let stale = crate::migration::stale_files(&project.generated_dir(), &out.files);
        if !stale.is_empty() {
            eprintln!(
                "warning: {}/ is not current ({} file(s)); the database is compared with the specs, not with those files",
                project.config.generated,
                stale.len()
            );
        }
    }
}

/// Load and fold the project; on spec errors, report them (exit 2) and give `None`.
pub(super) fn load_folded(
    root: &std::path::Path,
    format: Format,
) -> anyhow::Result<Option<(crate::spec::Project, crate::layers::Folded)>> {
    let project = match crate::spec::load_project(root) {
        Ok(p) => p,
        Err(d) => {
            super::report(
                root,
                None,
                &crate::migration::CompileError::Diagnostics(d),
                format,
            );
            return Ok(None);
        }
    };
    match crate::layers::fold(&project) {
        Ok(folded) => Ok(Some((project, folded))),
        Err(d) => {
            super::report(
                root,
                Some(&project),
                &crate::migration::CompileError::Diagnostics(d),
                format,
            );
            Ok(None)
        }
    }
}
