//! User-facing diagnostics: a stable code, a message that names the thing involved, where in
//! which YAML file, and a hint. Stages collect them all instead of stopping at the first.

use std::fmt::{self, Write as _};
use std::sync::Arc;

/// A position in a spec file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: Arc<str>,
    pub line: u64,
    pub col: u64,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            span: None,
            help: None,
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Option<Span>) -> Self {
        self.span = span;
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `path:line:col: error[code]: message`, the source line with a caret, and `help:`.
    /// `source` looks up the text of a spec file for the snippet.
    pub fn render(&self, source: &dyn Fn(&str) -> Option<String>) -> String {
        let mut out = String::new();
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if let Some(span) = &self.span {
            let _ = write!(out, "{span}: ");
        }
        let _ = writeln!(out, "{level}[{}]: {}", self.code, self.message);
        if let Some(span) = &self.span {
            if let Some(line) = source(&span.file).and_then(|text| {
                text.lines()
                    .nth(span.line.saturating_sub(1) as usize)
                    .map(str::to_string)
            }) {
                let num = span.line.to_string();
                let pad = " ".repeat(num.len());
                let caret = " ".repeat(span.col.saturating_sub(1) as usize);
                let _ = writeln!(out, "{pad} |\n{num} | {line}\n{pad} | {caret}^");
            }
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "help: {help}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(&|_| None))
    }
}

/// Errors collected by a stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// `Err(self)` when any error was collected, so a stage can end with `diags.into_result(value)`.
    pub fn into_result<T>(mut self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() {
            self.0
                .sort_by(|a, b| a.span.cmp(&b.span).then(a.message.cmp(&b.message)));
            self.0.dedup();
            Err(self)
        } else {
            Ok(value)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

/// The closest candidate to `name` by edit distance, for "did you mean" hints.
/// A help text: "did you mean `x`?" when a candidate is close to `name`, else `fallback`.
pub fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    fallback: impl Into<String>,
) -> String {
    match did_you_mean(name, candidates) {
        Some(best) => format!("did you mean `{best}`?"),
        None => fallback.into(),
    }
}

pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(
            did_you_mean("colums", ["columns", "comment"]),
            Some("columns")
        );
        assert_eq!(did_you_mean("zzz", ["columns"]), None);
    }

    #[test]
    fn renders_snippet_with_caret() {
        let d = Diagnostic::error("E100", "unknown role `anno`")
            .at(Some(Span {
                file: "specs/x.yaml".into(),
                line: 2,
                col: 9,
            }))
            .help("did you mean `anon`?");
        let text = d.render(&|_| Some("roles:\n  - to: anno\n".into()));
        assert_eq!(
            text,
            "specs/x.yaml:2:9: error[E100]: unknown role `anno`\n  |\n2 |   - to: anno\n  |         ^\nhelp: did you mean `anon`?\n"
        );
    }
}
