//! L206: removing (or reordering) enum values rebuilds the type: every column using it is
//! converted, rewriting those tables under lock, and what depends on it is re-created.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;
use crate::diff::Change;

pub const RULE: Rule = Rule {
    code: "L206",
    name: "enum-value-removal",
    severity: Severity::Warning,
    summary: "enum values removed or reordered (the type is rebuilt, its tables rewritten)",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for plan in &ctx.plans {
        for c in plan.changes {
            let Change::RebuildEnum {
                enum_type,
                old_values,
                columns,
                ..
            } = c
            else {
                continue;
            };
            let removed: Vec<&str> = old_values
                .iter()
                .filter(|v| !enum_type.values.contains(v))
                .map(String::as_str)
                .collect();
            let what = if removed.is_empty() {
                "its values are reordered".to_string()
            } else {
                format!("{} removed", removed.join(", "))
            };
            let tables: Vec<String> = columns
                .iter()
                .map(|c| format!("{}.{}", c.table, c.column))
                .collect();
            out.push(
                enum_type.name.to_string(),
                Some(plan.span(&[&format!("type {}", enum_type.name)])),
                format!(
                    "enum `{}` is rebuilt ({what}): {} converted under lock",
                    enum_type.name,
                    if tables.is_empty() { "no column is".to_string() } else { format!("{} are", tables.join(", ")) }
                ),
                "keep unused values instead of removing them, or schedule the migration for a quiet moment",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_removal() {
        let one = "schemas: [{name: app}]\nenums: [{name: app.e, values: [a, b, c]}]\n";
        let two =
            "enums: [{name: app.e, values: [a, c]}]\naccept_data_loss: [{enum_value: app.e.b}]\n";
        assert_eq!(fires_at(&run(BASE, &[one, two]), "L206").len(), 1);
        let added = "enums: [{name: app.e, values: [a, b, c, d]}]\n";
        assert!(fires_at(&run(BASE, &[one, added]), "L206").is_empty());
    }
}
