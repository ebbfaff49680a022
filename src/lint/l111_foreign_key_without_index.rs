//! L111: a foreign key whose columns do not lead any index: deleting or updating a referenced
//! row scans the whole referencing table (under lock), and joins along it are slow.

use super::{Ctx, Findings, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    code: "L111",
    name: "foreign-key-without-index",
    severity: Severity::Warning,
    summary: "foreign key columns that no index starts with",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for t in ctx.state.tables.values() {
        let mut leading: Vec<&[String]> = Vec::new();
        leading.extend(t.primary_key.iter().map(|k| k.columns.as_slice()));
        leading.extend(t.uniques.iter().map(|k| k.columns.as_slice()));
        leading.extend(
            t.indexes
                .iter()
                .filter(|i| i.predicate.is_none() && i.method == "btree")
                .map(|i| i.columns.as_slice()),
        );
        for fk in &t.foreign_keys {
            let covered = leading.iter().any(|cols| {
                cols.len() >= fk.columns.len()
                    && fk
                        .columns
                        .iter()
                        .all(|c| cols[..fk.columns.len()].contains(c))
            });
            if !covered {
                out.push(
                    t.name.to_string(),
                    ctx.state
                        .origin(&format!("table {} constraint {}", t.name, fk.name))
                        .cloned(),
                    format!(
                        "foreign key `{}` on `{}` ({}) has no index starting with its columns",
                        fk.name,
                        t.name,
                        fk.columns.join(", ")
                    ),
                    format!("add `indexes: [{{columns: [{}]}}]`", fk.columns.join(", ")),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_without_a_leading_index() {
        let t = |extra: &str| {
            format!("schemas: [{{name: app}}]\ntables:\n  - name: app.a\n    columns: [{{name: id, type: int}}]\n    primary_key: [id]\n  - name: app.b\n    columns: [{{name: id, type: int}}, {{name: a_id, type: int}}]\n    foreign_keys: [{{columns: [a_id], references: app.a}}]\n{extra}")
        };
        assert_eq!(fires_at(&run(BASE, &[&t("")]), "L111").len(), 1);
        assert!(fires_at(
            &run(BASE, &[&t("    indexes: [{columns: [a_id, id]}]\n")]),
            "L111"
        )
        .is_empty());
    }
}
