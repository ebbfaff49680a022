//! L107: an explicit grant to PUBLIC: every role of the cluster, now and later, gets it.

use super::{Ctx, Findings, Rule};
use crate::catalog::Grant;
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L107",
    name: "grant-to-public",
    severity: Severity::Warning,
    summary: "privileges granted to PUBLIC",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    let s = ctx.state;
    let mut objects: Vec<(String, String, &[Grant])> = Vec::new();
    for x in s.schemas.values() {
        objects.push((format!("schema `{}`", x.name), x.name.clone(), &x.grants));
    }
    for x in s.tables.values() {
        objects.push((format!("table `{}`", x.name), x.name.to_string(), &x.grants));
    }
    for x in s.views.values() {
        objects.push((format!("view `{}`", x.name), x.name.to_string(), &x.grants));
    }
    for x in s.sequences.values() {
        objects.push((
            format!("sequence `{}`", x.name),
            x.name.to_string(),
            &x.grants,
        ));
    }
    for (k, x) in &s.functions {
        objects.push((format!("function `{k}`"), k.to_string(), &x.grants));
    }
    for (what, object, grants) in objects {
        if let Some(g) = grants.iter().find(|g| g.grantee == "PUBLIC") {
            let privileges: Vec<&str> = g.privileges.iter().map(|p| p.keyword()).collect();
            let key = what.replace('`', "");
            out.push(
                object,
                s.origin(&key).cloned(),
                format!(
                    "{what} grants {} to PUBLIC (every role, also those created later)",
                    privileges.join(", ")
                ),
                "grant to the roles that need it instead",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_public_grants() {
        let t = |to: &str| {
            format!("roles: [{{name: web}}]\nschemas: [{{name: app}}]\ntables:\n  - name: app.items\n    columns: [{{name: id, type: int}}]\n    rls: true\n    policies: [{{name: p, for: select, using: 'id > 0'}}]\n    grants: [{{to: [{to}], privileges: [select]}}]\n")
        };
        assert_eq!(fires_at(&run(BASE, &[&t("public")]), "L107").len(), 1);
        assert!(fires_at(&run(BASE, &[&t("web")]), "L107").is_empty());
    }
}
