//! L109: a LOGIN role with BYPASSRLS that is not the migrator: whoever holds its password
//! sees every row of every table, whatever the policies say.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L109",
    name: "login-bypassrls",
    severity: Severity::Error,
    summary: "LOGIN role with BYPASSRLS other than the migrator or a declared service role",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for r in ctx.state.roles.values() {
        if r.login && r.bypassrls && Some(r.name.as_str()) != ctx.migrator {
            out.push(
                r.name.clone(),
                ctx.state.origin(&format!("role {}", r.name)).cloned(),
                format!("login role `{}` bypasses row-level security", r.name),
                "drop `bypassrls`, or if this is the service role, silence with `lint_allow` and a reason (set `migrator` in schemac.yaml for the role that runs migrations)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_unless_migrator() {
        let l = "roles: [{name: svc, login: true, bypassrls: true}]\n";
        assert_eq!(
            fires_at(&run(BASE, &[l]), "L109"),
            [("specs/20250101000001_layer0.yaml".to_string(), 1)]
        );
        assert!(fires_at(&run(&format!("{BASE}migrator: svc\n"), &[l]), "L109").is_empty());
    }
}
