//! L204: an index created on an existing table without CONCURRENTLY blocks writes to the
//! table until it is built (a unique constraint added to it builds one the same way).

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;
use crate::diff::{Change, TableAction};

pub const RULE: Rule = Rule {
    code: "L204",
    name: "index-on-existing-table",
    severity: Severity::Warning,
    summary: "an index built on an existing table (writes wait until it is built)",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for plan in &ctx.plans {
        for c in plan.changes {
            let (table, name, key) = match c {
                Change::CreateIndex { table, index } => (
                    table,
                    &index.name,
                    format!("index {}.{}", table.schema, index.name),
                ),
                Change::AlterTable { table, actions } => {
                    let Some(k) = actions.iter().find_map(|a| match a {
                        TableAction::AddUnique { key } | TableAction::AddPrimaryKey { key } => {
                            Some(key)
                        }
                        _ => None,
                    }) else {
                        continue;
                    };
                    (
                        table,
                        &k.name,
                        format!("table {table} constraint {}", k.name),
                    )
                }
                _ => continue,
            };
            if !plan.existing(table) {
                continue;
            }
            out.push(
                table.to_string(),
                Some(plan.span(&[&key, &format!("table {table}")])),
                format!("`{name}` is built on the existing table `{table}`: writes to it wait until the index is built"),
                "on a large table, build it with `CREATE INDEX CONCURRENTLY` in a `sql:` layer of its own (dbmate needs `transaction:false` for it), or silence with `lint_allow` if the table is small",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_existing_tables_only() {
        let one = "schemas: [{name: app}]\ntables:\n  - name: app.t\n    columns: [{name: id, type: int}]\n    indexes: [{columns: [id]}]\n";
        assert!(fires_at(&run(BASE, &[one]), "L204").is_empty());
        let two = "tables:\n  - name: app.t\n    patch: true\n    indexes: [{name: t_id_desc, columns: [id], unique: true}]\n";
        assert_eq!(fires_at(&run(BASE, &[one, two]), "L204").len(), 1);
    }
}
