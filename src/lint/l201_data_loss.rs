//! L201: a migration destroys data (acknowledged with `accept_data_loss`; unacknowledged loss
//! is already error E210). Reported so a reviewer sees it in CI.

use super::{Ctx, Findings, Rule};
use crate::catalog::Loss;
use crate::diagnostic::Severity;
use crate::diff;

pub const RULE: Rule = Rule {
    code: "L201",
    name: "data-loss",
    severity: Severity::Warning,
    summary: "a migration drops a table, a column or an enum value, or narrows a type",
    check,
};

fn check(ctx: &Ctx, out: &mut Findings) {
    for plan in &ctx.plans {
        for loss in diff::losses(plan.changes) {
            let object = match &loss {
                Loss::Table { table } | Loss::Column { table, .. } => table.to_string(),
                Loss::EnumValue { enum_name, .. } => enum_name.to_string(),
            };
            let span = plan
                .layer
                .transition
                .acks
                .iter()
                .find(|a| a.loss == loss)
                .map(|a| a.span.clone());
            out.push(
                object,
                span,
                format!("migration {}_{} destroys data: {loss}", plan.layer.version, plan.layer.name),
                "make sure a backup exists and nothing still reads it; the migration cannot be rolled back",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::*;

    #[test]
    fn fires_on_an_acknowledged_drop() {
        let one = "schemas: [{name: app}]\ntables:\n  - name: app.t\n    columns: [{name: id, type: int}, {name: note, type: text}]\n";
        let two = "tables:\n  - name: app.t\n    patch: true\n    drop: {columns: [note]}\naccept_data_loss: [{column: app.t.note}]\n";
        assert_eq!(
            fires_at(&run(BASE, &[one, two]), "L201"),
            [("specs/20250101000002_layer1.yaml".to_string(), 5)]
        );
        assert!(fires_at(&run(BASE, &[one]), "L201").is_empty());
    }
}
