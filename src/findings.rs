//! Findings: what `check` reports about a project that compiles. Each stage that `check` runs
//! (today the integrity of `generated/`, see [`crate::integrity`]; later `lint`) returns
//! [`Finding`]s; `check`, `release` and `bundle` refuse when there is any.

use crate::diagnostic::{Diagnostic, Severity};

/// Whether `schemac generate` may go ahead despite a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocks {
    /// `generate` repairs it (writes a stale file, removes the leftover of a deleted layer).
    Never,
    /// `generate` refuses unless `--force`: it would overwrite or remove something that did
    /// not come from the specs as they are.
    UnlessForced,
    /// `generate` refuses: only a change to the specs (or to the lock) can resolve it.
    Always,
    /// Not about generated files (e.g. a lint finding): `generate` ignores it.
    NotGenerated,
}

/// One finding: a diagnostic (stable code, message, position, help), the kind of problem,
/// and, for files, a unified diff of what is on disk against what the specs give.
#[derive(Clone, Debug)]
pub struct Finding {
    /// `stale`, `missing`, `extra`, `hand-edited`, `deleted`, `renamed`, `released-changed`,
    /// `released-removed`, `out-of-order`, `lock-invalid` (and lint's kinds later).
    pub kind: &'static str,
    /// The file the finding is about, as shown to the user (`generated/...`, `specs/...`).
    pub path: String,
    pub diagnostic: Diagnostic,
    pub diff: Option<String>,
    pub blocks: Blocks,
}

impl Finding {
    /// Whether the finding is one of the plain, mechanical ones (`stale`, `missing`, `extra`)
    /// that print as one line (their diff says the rest).
    pub fn is_plain(&self) -> bool {
        matches!(self.kind, "stale" | "missing" | "extra")
    }

    /// The finding for people: plain kinds as `kind:   path` (plus a note), others as a full
    /// diagnostic (`path:line:col: error[code]: message`, snippet, `help:`).
    pub fn render(&self, source: &dyn Fn(&str) -> Option<String>) -> String {
        if self.is_plain() {
            let label = format!("{}:", self.kind);
            let mut out = format!("{label:<9}{}", self.path);
            if let Some(note) = self.diagnostic.help.as_deref() {
                out.push_str(&format!(" ({note})"));
            }
            out.push('\n');
            out
        } else {
            self.diagnostic.render(source)
        }
    }

    /// The finding as a JSON object: `kind`, `code`, `severity`, `path`, `line`, `column`,
    /// `message`, `help`, `diff`.
    pub fn to_json(&self) -> serde_json::Value {
        let d = &self.diagnostic;
        serde_json::json!({
            "kind": self.kind,
            "code": d.code,
            "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
            "path": self.path,
            "line": d.span.as_ref().map(|s| s.line),
            "column": d.span.as_ref().map(|s| s.col),
            "message": d.message,
            "help": d.help,
            "diff": self.diff,
        })
    }
}
