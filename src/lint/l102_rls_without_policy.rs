//! L102: row-level security enabled but no policy: every role but the owner (and BYPASSRLS
//! roles) is denied every row. Sometimes meant (deny-all); say so with `lint_allow`.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L102",
    name: "rls-without-policy",
    severity: Severity::Warning,
    summary: "row-level security enabled without any policy (denies everyone)",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for t in ctx.state.tables.values() {
        if t.rls_enabled && t.policies.is_empty() {
            out.push(
                t.name.to_string(),
                ctx.state.origin(&format!("table {}", t.name)).cloned(),
                format!("row-level security is enabled on `{}` but it has no policy: every non-owner is denied every row", t.name),
                "add policies, or silence with `lint_allow` if denying everyone is the point",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_without_policies_only() {
        let bad = "schemas: [{name: app}]\ntables:\n  - name: app.items\n    columns: [{name: id, type: int}]\n    rls: true\n";
        assert_eq!(fires_at(&run(BASE, &[bad]), "L102").len(), 1);
        let good = format!("{bad}    policies: [{{name: p, for: select, using: 'id > 0'}}]\n");
        assert!(fires_at(&run(BASE, &[&good]), "L102").is_empty());
    }
}
