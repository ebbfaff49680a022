//! L203: a column type change that rewrites the table (every row, under an ACCESS EXCLUSIVE
//! lock). Changes PostgreSQL does in place (varchar to text or to a longer varchar, text to
//! unbounded varchar) are not reported.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;
use crate::diff::{Change, TableAction};

pub const RULE: Rule = Rule {
    code: "L203",
    name: "rewriting-type-change",
    severity: Severity::Warning,
    summary: "a column type change that rewrites an existing table",
    check,
};

/// `character varying(n)` → `Some(Some(n))`, `character varying` / `text` → `Some(None)`.
fn varchar_length(t: &str) -> Option<Option<u32>> {
    if t == "text" || t == "character varying" {
        return Some(None);
    }
    t.strip_prefix("character varying(")?
        .strip_suffix(')')?
        .parse()
        .ok()
        .map(Some)
}

/// Whether changing `from` to `to` leaves the stored values as they are.
fn in_place(from: &str, to: &str) -> bool {
    if from == to {
        return true;
    }
    match (varchar_length(from), varchar_length(to)) {
        (Some(_), Some(None)) => true,
        (Some(Some(a)), Some(Some(b))) => a <= b,
        _ => false,
    }
}

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
                let TableAction::AlterColumnType {
                    column, data_type, ..
                } = a
                else {
                    continue;
                };
                let old = plan
                    .before
                    .tables
                    .get(table)
                    .and_then(|t| t.column(column))
                    .map(|c| c.data_type.sql.as_str());
                if old.is_some_and(|o| in_place(o, &data_type.sql)) {
                    continue;
                }
                out.push(
                    table.to_string(),
                    Some(plan.span(&[&format!("table {table} column {column}"), &format!("table {table}")])),
                    format!(
                        "changing `{table}.{column}` from {} to {} rewrites the table under an ACCESS EXCLUSIVE lock",
                        old.unwrap_or("its type"),
                        data_type.sql
                    ),
                    "on a large table, add a new column, backfill it in batches and switch over in later layers; or silence with `lint_allow` if the table is small",
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::in_place;
    use crate::lint::testing::*;

    #[test]
    fn in_place_changes() {
        assert!(in_place("character varying(10)", "text"));
        assert!(in_place("character varying(10)", "character varying(20)"));
        assert!(!in_place("character varying(20)", "character varying(10)"));
        assert!(!in_place("integer", "bigint"));
    }

    #[test]
    fn fires_on_a_rewrite() {
        let one = "schemas: [{name: app}]\ntables:\n  - name: app.t\n    columns: [{name: id, type: int}, {name: s, type: varchar(5)}]\n";
        let two = "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: id, type: bigint}, {name: s, type: text}]\n";
        assert_eq!(fires_at(&run(BASE, &[one, two]), "L203").len(), 1);
    }
}
