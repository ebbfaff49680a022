//! L101: a table that a role may reach (USAGE on its schema and a privilege on the table)
//! without row-level security: every row is visible (or writable) to that role.

use super::{Ctx, Findings, Rule};
use crate::catalog::{Catalog, Privilege};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L101",
    name: "exposed-table-without-rls",
    severity: Severity::Error,
    summary: "table granted to a role that can use its schema, without row-level security",
    check,
};

/// Whether `grantee` may use schema `name` (a direct grant, PUBLIC's, or `public`'s default).
pub(crate) fn can_use_schema(state: &Catalog, name: &str, grantee: &str) -> bool {
    let Some(s) = state.schemas.get(name) else {
        // Not managed by the project (external): assume reachable.
        return true;
    };
    if s.name == "public" && !s.created && !s.revoke_public {
        return true;
    }
    s.grants.iter().any(|g| {
        (g.grantee == grantee || g.grantee == "PUBLIC") && g.privileges.contains(&Privilege::Usage)
    })
}

fn check(ctx: &Ctx, out: &mut Findings) {
    for t in ctx.state.tables.values() {
        if t.rls_enabled {
            continue;
        }
        let exposed: Vec<&str> = t
            .grants
            .iter()
            .map(|g| g.grantee.as_str())
            .filter(|g| {
                let bypass = ctx.state.roles.get(*g).is_some_and(|r| r.bypassrls);
                !bypass && Some(*g) != ctx.migrator && can_use_schema(ctx.state, &t.name.schema, g)
            })
            .collect();
        if let Some(first) = exposed.first() {
            out.push(
                t.name.to_string(),
                ctx.state.origin(&format!("table {}", t.name)).cloned(),
                format!(
                    "table `{}` is granted to `{}`, which can use schema `{}`, but has no row-level security: every row is reachable",
                    t.name,
                    exposed.join("`, `"),
                    t.name.schema
                ),
                format!("enable it (`rls: true`) and add policies for `{first}`, or revoke the grant"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    const SCHEMA: &str = "roles: [{name: web}]\nschemas: [{name: app, grants: [{to: [web], privileges: [usage]}]}]\n";

    #[test]
    fn fires_on_a_granted_table_without_rls_and_not_with_rls() {
        let bad = format!("{SCHEMA}tables:\n  - name: app.items\n    columns: [{{name: id, type: int}}]\n    grants: [{{to: [web], privileges: [select]}}]\n");
        let r = run(BASE, &[&bad]);
        assert_eq!(
            fires_at(&r, "L101"),
            [("specs/20250101000001_layer0.yaml".to_string(), 4)]
        );
        let good = format!("{bad}    rls: true\n    policies: [{{name: p, for: select, to: [web], using: 'true'}}]\n");
        assert!(fires_at(&run(BASE, &[&good]), "L101").is_empty());
    }

    #[test]
    fn quiet_when_the_role_cannot_use_the_schema() {
        let layer = "roles: [{name: web}]\nschemas: [{name: app}]\ntables:\n  - name: app.items\n    columns: [{name: id, type: int}]\n    grants: [{to: [web], privileges: [select]}]\n";
        assert!(fires_at(&run(BASE, &[layer]), "L101").is_empty());
    }
}
