//! L202: a NOT NULL column without a default added to an existing table fails as soon as the
//! table has a row; `SET NOT NULL` on an existing column scans the whole table under an
//! ACCESS EXCLUSIVE lock (writes and reads wait).

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;
use crate::diff::{Change, TableAction};

pub const RULE: Rule = Rule {
    code: "L202",
    name: "not-null-on-existing-table",
    severity: Severity::Warning,
    summary: "NOT NULL added to an existing table (column without default, or SET NOT NULL)",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for plan in &ctx.plans {
        for c in plan.changes {
            let Change::AlterTable { table, actions } = c else {
                continue;
            };
            if !plan.existing(table) {
                continue;
            }
            for a in actions {
                let (column, message, help) = match a {
                    TableAction::AddColumn { column, default }
                        if column.not_null && default.is_none() && column.identity.is_none() =>
                    {
                        (
                            &column.name,
                            format!("column `{}` is added to `{table}` as NOT NULL without a default: this fails if the table has rows", column.name),
                            "give it a default, or add it nullable, backfill, and make it NOT NULL in a later layer",
                        )
                    }
                    TableAction::SetNotNull { column } => (
                        column,
                        format!("`{table}.{column}` becomes NOT NULL: PostgreSQL scans the whole table while holding an ACCESS EXCLUSIVE lock"),
                        "on a large table, add `CHECK (column IS NOT NULL) NOT VALID` and validate it first (with `sql:`), or silence with `lint_allow` if the table is small",
                    ),
                    _ => continue,
                };
                out.push(
                    table.to_string(),
                    Some(plan.span(&[
                        &format!("table {table} column {column}"),
                        &format!("table {table}"),
                    ])),
                    message,
                    help,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_existing_tables_only() {
        let one = "schemas: [{name: app}]\ntables:\n  - name: app.t\n    columns: [{name: id, type: int}, {name: a, type: text, not_null: true}]\n";
        assert!(fires_at(&run(BASE, &[one]), "L202").is_empty());
        let two = "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: b, type: int, not_null: true}]\n";
        assert_eq!(
            fires_at(&run(BASE, &[one, two]), "L202"),
            [("specs/20250101000002_layer1.yaml".to_string(), 4)]
        );
        let defaulted = "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: b, type: int, not_null: true, default: '0'}]\n";
        assert!(fires_at(&run(BASE, &[one, defaulted]), "L202").is_empty());
    }
}
