//! The command line: thin commands over the library, one file each. Exit codes: 0 clean,
//! 1 findings (stale or tampered generated files, released migrations that would change,
//! lint errors, drift, a failed verify; `generate`/`release`/`bundle` refusing), 2 errors in
//! the specs, usage or connecting.

mod bundle;
mod check;
mod diff;
mod findings;
mod generate;
mod init;
mod lint;
mod new;
mod release;
mod roles;
mod schema;
mod verify;

use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diagnostic::{Diagnostic, Severity};
use crate::migration::{CompileError, Compiled};
use crate::spec::Project;

#[derive(Debug, Parser)]
#[command(
    name = "schemac",
    version,
    about = "Compile PostgreSQL schema specs (YAML layers) into dbmate migrations"
)]
pub struct Cli {
    /// The project folder (holding schemac.yaml and specs/).
    #[arg(
        long,
        short = 'p',
        global = true,
        default_value = ".",
        env = "SCHEMAC_PROJECT"
    )]
    pub project: PathBuf,
    /// How diagnostics and findings are printed: `text` for people, `json` for tools (one
    /// JSON object on stdout), `github` for workflow annotations of lint findings.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile every layer into generated/migrations, generated/schema.sql and the lock.
    Generate {
        /// Overwrite hand-edited generated files, write deleted ones again and remove renamed
        /// copies (never a released migration's SQL, never a file schemac did not write).
        #[arg(long)]
        force: bool,
    },
    /// Compile in memory and compare with generated/; exit 1 with a diff when stale.
    Check,
    /// Run the security and migration-safety rules (also part of `check`); exit 1 on errors.
    Lint {
        /// List the rules and exit.
        #[arg(long)]
        rules: bool,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Create the next layer file, specs/<UTC timestamp>_<NAME>.yaml.
    New {
        /// Lower-case letters, digits and `_`.
        name: String,
    },
    /// Compare a live database with the specs (read-only); exit 1 on drift.
    Diff {
        #[command(flatten)]
        live: LiveArgs,
        /// Compare with the last layer instead of the version in dbmate's schema_migrations.
        #[arg(long)]
        latest: bool,
        /// Print the statements that bring the database back to the specs instead of the report.
        #[arg(long)]
        sql: bool,
    },
    /// Apply, check, roll back and re-apply every migration on a scratch database.
    Verify {
        #[command(flatten)]
        live: LiveArgs,
    },
    /// Mark migrations released in generated/schemac.lock: their SQL may never change again.
    Release {
        /// The last version to release (default: the latest).
        #[arg(long, value_name = "VERSION")]
        through: Option<String>,
    },
    /// Write DIR/<name>-<version>.tar.gz (migrations, schema.sql, manifest.json) and mark
    /// every migration released.
    Bundle {
        /// The folder for the archive (created if needed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The project name (default: `name` in schemac.yaml).
        #[arg(long)]
        name: Option<String>,
    },
    /// Deploy-time role commands.
    Roles {
        #[command(subcommand)]
        command: RolesCommand,
    },
    /// Print the JSON Schema of layer files (or of schemac.yaml) for YAML editors.
    Schema {
        /// The schema of schemac.yaml instead of a layer's.
        #[arg(long)]
        config: bool,
    },
    /// Create a new project (schemac.yaml, a first layer, editor schemas, generated/).
    Init {
        /// The project folder (default: --project, i.e. the current folder).
        dir: Option<PathBuf>,
        /// The project name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
}

/// Database options of the live commands.
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// The database to inspect (only read; dbmate's URL forms, Unix sockets included).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A server where schemac may create and drop scratch databases, instead of starting a
    /// throwaway cluster from the local PostgreSQL binaries.
    #[arg(long, env = "SCHEMAC_DEV_URL", hide_env_values = true)]
    pub dev_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// Set the passwords of the declared LOGIN roles from the environment variables their
    /// specs name (`password_env`); with any variable missing, change nothing.
    Sync {
        /// The database (dbmate's `?socket=/dir` form works too).
        #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
        /// Allow a TCP connection to a host other than localhost (there is no TLS).
        #[arg(long)]
        allow_unencrypted: bool,
        /// Check the variables and list the roles, without connecting.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// GitHub workflow annotations for lint findings (other output as `text`).
    Github,
}

pub fn run(cli: Cli) -> ExitCode {
    let result = match &cli.command {
        Command::Generate { force } => generate::run(&cli.project, cli.format, *force),
        Command::Check => check::run(&cli.project, cli.format),
        Command::Lint {
            rules,
            deny_warnings,
        } => lint::run(&cli.project, cli.format, *rules, *deny_warnings),
        Command::New { name } => new::run(&cli.project, name),
        Command::Diff { live, latest, sql } => {
            diff::run(&cli.project, cli.format, live, *latest, *sql)
        }
        Command::Verify { live } => verify::run(&cli.project, cli.format, live),
        Command::Release { through } => release::run(&cli.project, cli.format, through.as_deref()),
        Command::Bundle { out, name } => {
            bundle::run(&cli.project, cli.format, out, name.as_deref())
        }
        Command::Roles {
            command:
                RolesCommand::Sync {
                    database_url,
                    allow_unencrypted,
                    dry_run,
                },
        } => roles::sync(
            &cli.project,
            cli.format,
            &roles::SyncArgs {
                database_url: database_url.as_deref(),
                allow_unencrypted: *allow_unencrypted,
                dry_run: *dry_run,
            },
        ),
        Command::Schema { config } => schema::run(*config),
        Command::Init { dir, name } => init::run(
            dir.as_ref().unwrap_or(&cli.project),
            name.as_deref(),
            cli.format,
        ),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The project in `root` and what it compiles to, or the exit code of a failed compilation
/// (its diagnostics printed).
///
/// Both live until the process exits and are never dropped: at the end of a command the
/// operating system takes their memory back at once, while dropping them frees hundreds of
/// thousands of allocations one by one (BENCHMARKS.md has the figures).
fn compile(
    root: &std::path::Path,
    format: Format,
) -> Result<(ManuallyDrop<Project>, ManuallyDrop<Compiled>), ExitCode> {
    match crate::migration::compile_dir(root) {
        Ok((project, compiled)) => Ok((ManuallyDrop::new(project), ManuallyDrop::new(compiled))),
        Err(failure) => Err(report(
            root,
            failure.project.as_ref(),
            &failure.error,
            format,
        )),
    }
}

/// Print the diagnostics of a failed compilation (with source snippets) and give exit 2.
fn report(
    root: &std::path::Path,
    project: Option<&Project>,
    err: &CompileError,
    format: Format,
) -> ExitCode {
    match err {
        CompileError::Diagnostics(diags) if format == Format::Json => {
            let list: Vec<serde_json::Value> = diags.0.iter().map(diagnostic_json).collect();
            println!(
                "{}",
                serde_json::json!({ "ok": false, "errors": list.len(), "diagnostics": list })
            );
        }
        CompileError::Render(e) if format == Format::Json => {
            println!(
                "{}",
                serde_json::json!({ "ok": false, "errors": 1, "diagnostics": [
                    { "code": "E900", "severity": "error", "message": e.to_string(), "file": null, "line": null, "column": null, "help": null }
                ] })
            );
        }
        CompileError::Diagnostics(diags) => {
            let source = |path: &str| {
                project
                    .and_then(|p| p.source(path))
                    .or_else(|| std::fs::read_to_string(root.join(path)).ok())
            };
            for d in &diags.0 {
                eprint!("{}", d.render(&source));
            }
            let n = diags.0.len();
            eprintln!(
                "{n} error{} found; nothing was written",
                if n == 1 { "" } else { "s" }
            );
        }
        CompileError::Render(e) => eprintln!("error: {e}"),
    }
    ExitCode::from(2)
}

/// Findings that keep a command from going ahead: printed, then exit 1.
fn refuse(
    root: &std::path::Path,
    project: &Project,
    findings: &[crate::findings::Finding],
    format: Format,
    what: &str,
) -> ExitCode {
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({ "ok": false, "findings": findings::json(findings) })
        );
    } else {
        findings::print_text(root, project, findings);
        eprintln!(
            "{what}: {}/ must be current first (`schemac check` is clean; see above)",
            project.config.generated
        );
    }
    ExitCode::from(1)
}

/// A usage error (bad argument, missing setting): one line, exit 2.
fn usage_error(format: Format, message: &str) -> ExitCode {
    if format == Format::Json {
        println!("{}", serde_json::json!({ "ok": false, "error": message }));
    } else {
        eprintln!("error: {message}");
    }
    ExitCode::from(2)
}

/// One diagnostic as a JSON object: `code`, `severity`, `message`, `file`, `line`, `column`,
/// `help` (null when unknown).
pub fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "code": d.code,
        "severity": match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        },
        "message": d.message,
        "file": d.span.as_ref().map(|s| s.file.to_string()),
        "line": d.span.as_ref().map(|s| s.line),
        "column": d.span.as_ref().map(|s| s.col),
        "help": d.help,
    })
}
