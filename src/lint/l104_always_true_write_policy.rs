//! L104: a permissive policy for a write whose condition is literally `true`: whoever it
//! applies to may write any row.

use super::{is_literal_true, Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L104",
    name: "always-true-write-policy",
    severity: Severity::Warning,
    summary: "permissive INSERT/UPDATE/DELETE/ALL policy whose condition is `true`",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for t in ctx.state.tables.values() {
        for p in t.policies.iter().filter(|p| p.permissive) {
            // The condition new rows must meet (INSERT, UPDATE, ALL), or that picks the rows
            // to change (UPDATE and DELETE without WITH CHECK).
            let write_check = match p.command.as_str() {
                "INSERT" => p.with_check.as_ref(),
                "UPDATE" | "ALL" => p.with_check.as_ref().or(p.using.as_ref()),
                "DELETE" => p.using.as_ref(),
                _ => None,
            };
            if write_check.is_some_and(|e| is_literal_true(&e.sql)) {
                let to = if p.roles.is_empty() {
                    "PUBLIC".to_string()
                } else {
                    p.roles.join(", ")
                };
                out.push(
                    t.name.to_string(),
                    ctx.state
                        .origin(&format!("table {} policy {}", t.name, p.name))
                        .cloned(),
                    format!(
                        "policy `{}` on `{}` lets {to} {} any row (its condition is `true`)",
                        p.name,
                        t.name,
                        p.command.to_lowercase()
                    ),
                    "restrict it to the rows the role owns (e.g. `owner_id = auth.uid()`), or silence with `lint_allow` for a service role",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_true_writes_only() {
        let t = |p: &str| {
            format!("schemas: [{{name: app}}]\ntables:\n  - name: app.items\n    columns: [{{name: id, type: int}}]\n    rls: true\n    policies: [{p}]\n")
        };
        let bad = t("{name: p, for: insert, with_check: 'true'}");
        assert_eq!(fires_at(&run(BASE, &[&bad]), "L104").len(), 1);
        let read = t("{name: p, for: select, using: 'true'}");
        assert!(fires_at(&run(BASE, &[&read]), "L104").is_empty());
        let scoped = t("{name: p, for: update, using: 'id > 0'}");
        assert!(fires_at(&run(BASE, &[&scoped]), "L104").is_empty());
    }
}
