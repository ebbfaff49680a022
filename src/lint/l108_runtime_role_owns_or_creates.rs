//! L108: a role the application logs in with (LOGIN, not the migrator) that owns objects or
//! may CREATE in a schema: it can change the schema it should only use (and an owner is not
//! subject to row-level security unless it is forced).

use super::{Ctx, Findings, Rule};
use crate::catalog::Privilege;
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L108",
    name: "runtime-role-owns-or-creates",
    severity: Severity::Warning,
    summary: "a LOGIN role other than the migrator owns objects or may CREATE in a schema",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    let s = ctx.state;
    let runtime = |r: &str| s.roles.get(r).is_some_and(|x| x.login) && Some(r) != ctx.migrator;
    for role in s.roles.values().filter(|r| runtime(&r.name)) {
        let mut what = Vec::new();
        for x in s.schemas.values() {
            if x.owner.as_deref() == Some(&role.name) {
                what.push(format!("owns schema `{}`", x.name));
            }
            if x.grants
                .iter()
                .any(|g| g.grantee == role.name && g.privileges.contains(&Privilege::Create))
            {
                what.push(format!("may CREATE in schema `{}`", x.name));
            }
        }
        for (k, f) in &s.functions {
            if f.owner.as_deref() == Some(&role.name) {
                what.push(format!("owns function `{k}`"));
            }
        }
        if !what.is_empty() {
            out.push(
                role.name.clone(),
                s.origin(&format!("role {}", role.name)).cloned(),
                format!("login role `{}` {}", role.name, what.join(", ")),
                "let a NOLOGIN owner role (or the migrator) own objects and keep CREATE from login roles; set `migrator` in schemac.yaml if this is the role that runs migrations",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_for_a_login_role_with_create() {
        let l = |role: &str| {
            format!("roles: [{role}]\nschemas: [{{name: app, grants: [{{to: [app_user], privileges: [usage, create]}}]}}]\n")
        };
        assert_eq!(
            fires_at(&run(BASE, &[&l("{name: app_user, login: true}")]), "L108").len(),
            1
        );
        assert!(fires_at(&run(BASE, &[&l("{name: app_user}")]), "L108").is_empty());
        let migrator = format!("{BASE}migrator: app_user\n");
        assert!(fires_at(
            &run(&migrator, &[&l("{name: app_user, login: true}")]),
            "L108"
        )
        .is_empty());
    }
}
