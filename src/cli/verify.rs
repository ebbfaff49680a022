//! `schemac verify`: apply, check, roll back and re-apply every migration on a scratch
//! server; exit 1 at the first mismatch.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::{Format, LiveArgs};
use crate::dbmate;
use crate::drift::{self, Style};
use crate::render::Renderer;
use crate::verify::{self, Failure, Reporter, Step};

struct Progress {
    tty: bool,
    quiet: bool,
}

impl Reporter for Progress {
    fn step(&mut self, step: &Step) {
        if self.quiet {
            return;
        }
        let line = match step {
            Step::Expected { layer, of } => {
                if !self.tty {
                    return;
                }
                format!("building the expected state of layer {layer}/{of}")
            }
            Step::Applied { file, index, of } => format!("up   [{index}/{of}] {file}: matches the specs"),
            Step::RolledBack { file, index, of } => {
                format!("down [{index}/{of}] {file}: back to the catalog before it")
            }
            Step::Irreversible { file } => format!(
                "down {file}: not rolled back (it destroys data, acknowledged in its layer; its down section refuses by design)"
            ),
            Step::Reapplied { of } => format!("up again: {of} migration(s) give the same catalog"),
            Step::Lint(f) => {
                let at = f.at.as_ref().map(|s| format!("{s}: ")).unwrap_or_default();
                let hint = f.hint.as_ref().map(|h| format!("\nhelp: {h}")).unwrap_or_default();
                format!("{at}{}[plpgsql_check]: {} in {} (after {}){hint}", f.level, f.message, f.function, f.migration)
            }
            Step::Warning(w) => format!("warning: {w}"),
            Step::PlpgsqlCheckUnavailable => {
                "note: plpgsql_check is not installed on the scratch server; PL/pgSQL bodies are not checked (Debian: postgresql-15-plpgsql-check)".to_string()
            }
        };
        if self.tty {
            // A progress line, replaced by the next one.
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K{line}");
            if !matches!(step, Step::Expected { .. }) {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        } else {
            eprintln!("{line}");
        }
    }
}

pub fn run(root: &Path, format: Format, args: &LiveArgs) -> anyhow::Result<ExitCode> {
    let result = run_verify(root, format, args);
    crate::scratch::wait_if_interrupted();
    result
}

fn run_verify(root: &Path, format: Format, args: &LiveArgs) -> anyhow::Result<ExitCode> {
    let Some((project, folded)) = super::diff::load_folded(root, format)? else {
        return Ok(ExitCode::from(2));
    };
    let renderer = Renderer::new(Some(&project.templates_dir()))?;
    let files = match crate::migration::compile_folded(&folded, &renderer) {
        Ok(out) => out.files,
        Err(e) => return Ok(super::report(root, Some(&project), &e, format)),
    };
    let migrations: Vec<dbmate::MigrationFile> = files
        .iter()
        .filter_map(|f| f.path.strip_prefix("migrations/").map(|n| (n, &f.contents)))
        .map(|(n, text)| dbmate::parse(n, text).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let rt = crate::db::runtime().context("starting the async runtime")?;
    let mut progress = Progress {
        tty: std::io::stderr().is_terminal(),
        quiet: format == Format::Json,
    };
    let outcome = rt.block_on(verify::verify(
        &project,
        &folded,
        &migrations,
        &renderer,
        args.dev_url.as_deref(),
        &mut progress,
    ))?;
    if format == Format::Json {
        let failure = outcome.failure.as_ref().map(|f| match f {
            Failure::Apply(e) => serde_json::json!({"kind": "apply", "migration": e.file, "direction": e.direction, "line": e.line, "message": e.message}),
            Failure::Mismatch { migration, stage, findings } => serde_json::json!({"kind": "mismatch", "migration": migration, "stage": stage, "findings": findings}),
            Failure::Lint { errors } => serde_json::json!({"kind": "plpgsql_check", "errors": errors}),
        });
        println!(
            "{}",
            serde_json::json!({ "ok": outcome.failure.is_none(), "migrations": outcome.migrations, "irreversible": outcome.irreversible, "plpgsql_check": outcome.lint, "failure": failure })
        );
        return Ok(ExitCode::from(u8::from(outcome.failure.is_some())));
    }
    match &outcome.failure {
        None => {
            match &outcome.irreversible {
                None => println!(
                    "verified {} migration(s): each matches its layer after up, rolls back to exactly the catalog before it, and applies again",
                    outcome.migrations
                ),
                Some(file) => println!(
                    "verified {} migration(s): each matches its layer after up; those after {file} roll back to exactly the catalog before them and apply again ({file} destroys data: its down refuses by design)",
                    outcome.migrations
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Some(Failure::Apply(e)) => {
            println!("verify failed: {e}");
            Ok(ExitCode::from(1))
        }
        Some(Failure::Lint { errors }) => {
            println!("verify failed: plpgsql_check found {errors} error(s) (see above)");
            Ok(ExitCode::from(1))
        }
        Some(Failure::Mismatch {
            migration,
            stage,
            findings,
        }) => {
            let style = Style {
                color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            let what = match *stage {
                "up" => "after up, the catalog differs from the specs of its layer",
                "down" => "after its down section, the catalog differs from the one before its up",
                "re-apply" => "applying everything again gave a different catalog",
                _ => "the scratch database is not as expected",
            };
            print!("{}", drift::report_text(findings, style));
            let objects: Vec<&str> = findings.iter().map(|f| f.object.as_str()).take(5).collect();
            println!("verify failed: {migration}: {what}: {}", objects.join(", "));
            Ok(ExitCode::from(1))
        }
    }
}
