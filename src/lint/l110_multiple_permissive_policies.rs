//! L110: several permissive policies for the same role and command on a table. PostgreSQL
//! ORs them, so the loosest wins, and each is evaluated for every row.

use std::collections::BTreeMap;

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L110",
    name: "multiple-permissive-policies",
    severity: Severity::Warning,
    summary: "several permissive policies for the same role and command",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for t in ctx.state.tables.values() {
        let mut by: BTreeMap<(String, &str), Vec<&str>> = BTreeMap::new();
        for p in t.policies.iter().filter(|p| p.permissive) {
            let commands: &[&str] = match p.command.as_str() {
                "ALL" => &["SELECT", "INSERT", "UPDATE", "DELETE"],
                "SELECT" => &["SELECT"],
                "INSERT" => &["INSERT"],
                "UPDATE" => &["UPDATE"],
                _ => &["DELETE"],
            };
            let roles = if p.roles.is_empty() {
                vec!["PUBLIC".to_string()]
            } else {
                p.roles.clone()
            };
            for r in roles {
                for c in commands {
                    by.entry((r.clone(), c)).or_default().push(&p.name);
                }
            }
        }
        if let Some(((role, command), names)) = by.iter().find(|(_, v)| v.len() > 1) {
            out.push(
                t.name.to_string(),
                ctx.state
                    .origin(&format!("table {} policy {}", t.name, names[1]))
                    .cloned(),
                format!(
                    "`{}` has {} permissive policies for `{role}` on {command} ({}): they are ORed, the loosest wins",
                    t.name,
                    names.len(),
                    names.join(", ")
                ),
                "merge them into one policy, or make the extra ones `as: restrictive`",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_overlap_including_all() {
        let t = |ps: &str| {
            format!("roles: [{{name: web}}]\nschemas: [{{name: app}}]\ntables:\n  - name: app.items\n    columns: [{{name: id, type: int}}]\n    rls: true\n    policies: [{ps}]\n")
        };
        let bad = t("{name: a, for: select, to: [web], using: 'id > 0'}, {name: b, for: all, to: [web], using: 'id < 9'}");
        assert_eq!(fires_at(&run(BASE, &[&bad]), "L110").len(), 1);
        let good = t("{name: a, for: select, to: [web], using: 'id > 0'}, {name: b, for: delete, to: [web], using: 'id < 9'}");
        assert!(fires_at(&run(BASE, &[&good]), "L110").is_empty());
    }
}
