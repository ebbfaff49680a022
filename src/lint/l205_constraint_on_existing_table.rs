//! L205: a CHECK or FOREIGN KEY added to an existing table is validated against every row
//! while the table is locked (writes wait; for a foreign key, the referenced table too).

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;
use crate::diff::Change;

pub const RULE: Rule = Rule {
    code: "L205",
    name: "constraint-on-existing-table",
    severity: Severity::Warning,
    summary: "a check or foreign key validated against an existing table's rows under lock",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for plan in &ctx.plans {
        for c in plan.changes {
            let (table, name, kind) = match c {
                Change::AddCheck { table, check } => (table, &check.name, "check"),
                Change::AddForeignKey { table, fk } => (table, &fk.name, "foreign key"),
                _ => continue,
            };
            if !plan.existing(table) {
                continue;
            }
            out.push(
                table.to_string(),
                Some(plan.span(&[&format!("table {table} constraint {name}"), &format!("table {table}")])),
                format!("{kind} `{name}` on the existing table `{table}` is (re)validated against every row while the table is locked"),
                "on a large table, add it `NOT VALID` and `VALIDATE CONSTRAINT` in a later layer (with `sql:`), or silence with `lint_allow` if the table is small",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_existing_tables_only() {
        let one = "schemas: [{name: app}]\ntables:\n  - name: app.t\n    columns: [{name: id, type: int}]\n    checks: [{name: id_positive, expr: id > 0}]\n";
        assert!(fires_at(&run(BASE, &[one]), "L205").is_empty());
        let two = "tables:\n  - name: app.t\n    patch: true\n    checks: [{name: id_small, expr: id < 100}]\n";
        assert_eq!(fires_at(&run(BASE, &[one, two]), "L205").len(), 1);
    }
}
