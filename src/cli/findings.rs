//! Printing findings (see [`crate::findings`]) for `check`, `generate`, `release`, `bundle`.

use std::path::Path;

use crate::findings::Finding;
use crate::spec::Project;

/// Text: every diff on stdout (so it can be piped to a file or `git apply -R`), then each
/// finding on stderr.
pub fn print_text(root: &Path, project: &Project, findings: &[Finding]) {
    for f in findings {
        if let Some(diff) = &f.diff {
            print!("{diff}");
        }
    }
    let source = |path: &str| {
        project
            .source(path)
            .or_else(|| std::fs::read_to_string(root.join(path)).ok())
    };
    for f in findings {
        eprint!("{}", f.render(&source));
    }
}

/// JSON: the findings as objects.
pub fn json(findings: &[Finding]) -> Vec<serde_json::Value> {
    findings.iter().map(Finding::to_json).collect()
}
