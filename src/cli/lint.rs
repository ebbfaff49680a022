//! `schemac lint`: the lint rules over the compiled project (also run by `check`). Exit 1 when
//! a finding is an error (or any finding, with `--deny-warnings`), 2 when the specs do not
//! compile.

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{self, Report, RULES};
use crate::migration::{CompileError, Compiled};
use crate::spec::{self, Project};

pub fn run(
    root: &Path,
    format: Format,
    rules: bool,
    deny_warnings: bool,
) -> anyhow::Result<ExitCode> {
    if rules {
        for r in RULES {
            let level = match r.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            println!("{}  {level:<7}  {:<32}  {}", r.code, r.name, r.summary);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let project = match spec::load_project(root) {
        Ok(p) => p,
        Err(d) => {
            return Ok(super::report(
                root,
                None,
                &CompileError::Diagnostics(d),
                format,
            ))
        }
    };
    let report = match lint_project(&project) {
        Ok(r) => r,
        Err(e) => return Ok(super::report(root, Some(&project), &e, format)),
    };
    print(root, &project, &report, format);
    let failed = report.errors() > 0 || deny_warnings && report.warnings() > 0;
    Ok(ExitCode::from(u8::from(failed)))
}

/// Fold the project, plan its layers and lint it.
pub fn lint_project(project: &Project) -> Result<Report, CompileError> {
    let folded = crate::layers::fold(project)?;
    let layers = lint::plan(&folded)?;
    Ok(lint::lint(project, &folded, &layers)?)
}

/// Print a report: diagnostics with snippets on stderr (text), one JSON object on stdout
/// (json), or GitHub workflow annotations on stdout (github).
pub fn print(root: &Path, project: &Project, report: &Report, format: Format) {
    match format {
        Format::Json => println!("{}", json(report)),
        Format::Github => {
            for d in &report.findings {
                println!("{}", annotation(root, d));
            }
        }
        Format::Text => {
            let source = |path: &str| project.source(path);
            for d in &report.findings {
                eprint!("{}", d.render(&source));
            }
            eprintln!(
                "lint: {} error(s), {} warning(s){}",
                report.errors(),
                report.warnings(),
                if report.silenced > 0 {
                    format!(", {} silenced by lint_allow", report.silenced)
                } else {
                    String::new()
                }
            );
        }
    }
}

pub fn json(report: &Report) -> serde_json::Value {
    let list: Vec<serde_json::Value> = report.findings.iter().map(super::diagnostic_json).collect();
    serde_json::json!({
        "ok": report.errors() == 0,
        "errors": report.errors(),
        "warnings": report.warnings(),
        "silenced": report.silenced,
        "findings": list,
    })
}

/// `::error file=...,line=...,col=...,title=L101::message` (paths from the repository root,
/// as the workflow sees them; `%`, CR and LF escaped as GitHub requires).
fn annotation(root: &Path, d: &Diagnostic) -> String {
    let escape = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let prop = |s: &str| escape(s).replace(':', "%3A").replace(',', "%2C");
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut props = Vec::new();
    if let Some(span) = &d.span {
        let file = root.join(&*span.file);
        let file = file.strip_prefix("./").unwrap_or(&file);
        props.push(format!("file={}", prop(&file.display().to_string())));
        props.push(format!("line={}", span.line));
        props.push(format!("col={}", span.col));
    }
    props.push(format!("title={}", prop(d.code)));
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    format!("::{level} {}::{}", props.join(","), escape(&message))
}

/// For `release` and `bundle`: lint the compiled project and, when a finding is an error,
/// print the report and the refusal (`what_not`, e.g. "nothing was released") and give
/// exit 1.
pub fn refuse_on_errors(
    root: &Path,
    project: &Project,
    compiled: &Compiled,
    format: Format,
    what_not: &str,
) -> Option<ExitCode> {
    let report = match lint::lint(project, &compiled.folded, &compiled.lint) {
        Ok(r) => r,
        Err(d) => {
            return Some(super::report(
                root,
                Some(project),
                &CompileError::Diagnostics(d),
                format,
            ))
        }
    };
    if report.errors() == 0 {
        return None;
    }
    if format == Format::Json {
        let mut v = json(&report);
        v["refused"] = serde_json::Value::String(what_not.to_string());
        println!("{v}");
    } else {
        print(root, project, &report, format);
        eprintln!("lint errors: {what_not}");
    }
    Some(ExitCode::from(1))
}
