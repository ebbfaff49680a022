//! L106: a SECURITY DEFINER function that PUBLIC (everyone, by PostgreSQL's default) or the
//! anonymous role may execute: anyone gets its owner's rights for what it does.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L106",
    name: "definer-executable-by-public",
    severity: Severity::Error,
    summary: "SECURITY DEFINER function executable by PUBLIC or anon",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for (key, f) in &ctx.state.functions {
        if !f.security_definer {
            continue;
        }
        let who = if !f.revoke_public {
            Some("PUBLIC (PostgreSQL's default)")
        } else if f.grants.iter().any(|g| g.grantee == "PUBLIC") {
            Some("PUBLIC")
        } else if f.grants.iter().any(|g| g.grantee == "anon") {
            Some("anon")
        } else {
            None
        };
        if let Some(who) = who {
            out.push(
                key.to_string(),
                ctx.state.origin(&format!("function {key}")).cloned(),
                format!("SECURITY DEFINER function `{key}` can be executed by {who}"),
                "set `revoke_public: true` and grant EXECUTE to the roles that need it; if it must be public, check its arguments inside and silence with `lint_allow`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_when_public_keeps_execute() {
        let f = |extra: &str| {
            format!("roles: [{{name: web}}]\nschemas: [{{name: app}}]\nfunctions:\n  - {{name: app.f, returns: int, language: sql, body: SELECT 1, security: definer, search_path: [pg_catalog]{extra}}}\n")
        };
        assert_eq!(fires_at(&run(BASE, &[&f("")]), "L106").len(), 1);
        let granted = f(", revoke_public: true, grants: [{to: [web], privileges: [execute]}]");
        assert!(fires_at(&run(BASE, &[&granted]), "L106").is_empty());
    }
}
