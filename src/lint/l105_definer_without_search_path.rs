//! L105: a SECURITY DEFINER function without a fixed `search_path` runs with its owner's
//! rights and resolves names through the caller's path: a caller who can create objects in a
//! schema on that path can make it run their code.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L105",
    name: "definer-without-search-path",
    severity: Severity::Error,
    summary: "SECURITY DEFINER function without a fixed search_path",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for (key, f) in &ctx.state.functions {
        if f.security_definer && f.search_path.is_none() {
            out.push(
                key.to_string(),
                ctx.state.origin(&format!("function {key}")).cloned(),
                format!("SECURITY DEFINER function `{key}` has no fixed search_path: callers can hijack the names it uses"),
                "add `search_path: [pg_catalog]` (and qualify every name) or a list of trusted schemas",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_without_search_path() {
        let f = |extra: &str| {
            format!("schemas: [{{name: app}}]\nfunctions:\n  - {{name: app.f, returns: int, language: sql, body: SELECT 1, security: definer, revoke_public: true{extra}}}\n")
        };
        assert_eq!(
            fires_at(&run(BASE, &[&f("")]), "L105"),
            [("specs/20250101000001_layer0.yaml".to_string(), 3)]
        );
        assert!(fires_at(&run(BASE, &[&f(", search_path: [pg_catalog]")]), "L105").is_empty());
    }
}
