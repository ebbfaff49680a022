//! Diff unit tests: (from, to) → changes, on states built from small YAML layers.

use std::sync::Arc;

use super::*;
use crate::catalog::{Catalog, Loss, QName, Transition};
use crate::resolve::{apply_layer, Externals};
use crate::spec::{parse_yaml, LayerFile};

fn states(layers: &[&str]) -> Vec<Catalog> {
    chain(layers).into_iter().map(|(c, _)| c).collect()
}

/// Each state with the transition that led to it.
fn chain(layers: &[&str]) -> Vec<(Catalog, Transition)> {
    let mut out = vec![(Catalog::default(), Transition::default())];
    for (i, yaml) in layers.iter().enumerate() {
        let file: Arc<str> = Arc::from(format!("specs/{i}_l.yaml"));
        let spec = parse_yaml(&file, yaml).unwrap();
        let layer = LayerFile {
            display_path: file,
            version: i.to_string(),
            name: "l".into(),
            text: (*yaml).into(),
            spec,
        };
        let prev = &out.last().unwrap().0;
        let referrers = crate::catalog::affected::Referrers::of(prev);
        let r = apply_layer(prev, &layer, &layer.spec, &Externals::default(), &referrers).unwrap();
        out.push((r.state, r.transition));
    }
    out
}

fn kinds(changes: &[Change]) -> Vec<String> {
    changes.iter().map(Change::kind).collect()
}

const BASE: &str = r#"
schemas: [{name: app}]
functions:
  - {name: app.uid, returns: int, language: sql, body: SELECT 1, grants: [{to: [PUBLIC], privileges: [execute]}]}
tables:
  - name: app.t
    columns: [{name: id, type: int, default: app.uid()}, {name: owner, type: int}]
    rls: true
    policies: [{name: p, using: owner = app.uid()}]
"#;

#[test]
fn a_state_diffed_with_itself_is_empty() {
    let s = states(&[BASE]);
    assert!(diff(&s[1], &s[1]).unwrap().is_empty());
    assert!(diff(&s[0], &s[0]).unwrap().is_empty());
}

#[test]
fn creation_order_follows_dependencies() {
    let s = states(&[BASE]);
    assert_eq!(
        kinds(&diff(&s[0], &s[1]).unwrap()),
        [
            "create_schema",
            "create_table",
            "create_function",
            "set_column_default",
            "create_policy",
            "grant"
        ]
    );
    // Down drops what depends on the function (the table, with its policy and default)
    // before the function, and the schema last.
    assert_eq!(
        kinds(&diff(&s[1], &s[0]).unwrap()),
        ["drop_table", "drop_function", "drop_schema"]
    );
}

#[test]
fn a_new_signature_replaces_the_function_and_its_dependents() {
    let next = r#"
functions:
  - {name: app.uid, args: [{name: d, type: int, default: "0"}], returns: bigint, language: sql, body: SELECT 2::bigint, grants: [{to: [PUBLIC], privileges: [execute]}]}
"#;
    let s = states(&[BASE, next]);
    let up = diff(&s[1], &s[2]).unwrap();
    assert_eq!(
        kinds(&up),
        [
            "drop_policy",
            "drop_column_default",
            "drop_function",
            "create_function",
            "set_column_default",
            "create_policy",
            "grant"
        ]
    );
    match &up[2] {
        Change::DropFunction { target, .. } => assert_eq!(target.args, Some(vec![])),
        other => panic!("{other:?}"),
    }
    match &up[3] {
        Change::CreateFunction { replace, .. } => assert!(!replace),
        other => panic!("{other:?}"),
    }
    // And back: the same shape, restoring the old signature.
    let down = diff(&s[2], &s[1]).unwrap();
    assert_eq!(kinds(&down), kinds(&up));
}

#[test]
fn a_body_change_is_replaced_in_place() {
    let next = r#"
functions:
  - {name: app.uid, returns: int, language: sql, body: SELECT 3, grants: [{to: [PUBLIC], privileges: [execute]}]}
"#;
    let s = states(&[BASE, next]);
    let up = diff(&s[1], &s[2]).unwrap();
    assert_eq!(kinds(&up), ["create_function"]);
    assert!(matches!(
        &up[0],
        Change::CreateFunction { replace: true, .. }
    ));
}

#[test]
fn grant_changes_revoke_and_grant_only_the_difference() {
    let a =
        "roles: [{name: r}]\nschemas: [{name: app, grants: [{to: [r], privileges: [usage]}]}]\n";
    let b = "schemas: [{name: app, grants: [{to: [r], privileges: [create]}]}]\n";
    let s = states(&[a, b]);
    let up = diff(&s[1], &s[2]).unwrap();
    assert_eq!(kinds(&up), ["revoke", "grant"]);
}

#[test]
fn a_patch_adds_a_not_null_column_with_its_default_in_one_statement() {
    let next = "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: n, type: int, not_null: true, default: \"0\"}]\n";
    let s = states(&[BASE, next]);
    let up = diff(&s[1], &s[2]).unwrap();
    assert_eq!(kinds(&up), ["alter_table"]);
    match &up[0] {
        Change::AlterTable { actions, .. } => {
            assert!(
                matches!(&actions[..], [TableAction::AddColumn { default: Some(d), .. }] if d.sql == "0")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(kinds(&diff(&s[2], &s[1]).unwrap()), ["alter_table"]);
}

const ENUM_BASE: &str = r#"
schemas: [{name: app}]
enums: [{name: app.s, values: [a, b]}]
functions:
  - {name: app.is_a, args: [{name: x, type: app.s}], returns: boolean, language: sql, body: SELECT x = 'a'}
tables:
  - name: app.t
    columns: [{name: id, type: int}, {name: s, type: app.s, default: "'a'"}]
    rls: true
    policies: [{name: p, using: "s = 'a'"}, {name: q, using: "id > 0"}]
"#;

#[test]
fn added_enum_values_are_placed_and_run_before_anything_else() {
    let c = chain(&[
        ENUM_BASE,
        "enums: [{name: app.s, values: [z, a, m, b, y]}]\n",
    ]);
    let up = diff_with(&c[1].0, &c[2].0, &c[2].1).unwrap();
    let added: Vec<(String, Option<String>, Option<String>)> = up
        .iter()
        .filter_map(|ch| match ch {
            Change::AddEnumValue {
                value,
                before,
                after,
                ..
            } => Some((value.clone(), before.clone(), after.clone())),
            _ => None,
        })
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        added,
        [
            ("z".into(), s("a"), None),
            ("m".into(), None, s("a")),
            ("y".into(), None, s("b"))
        ]
    );
    assert_eq!(up.len(), 3, "nothing else changes: {:?}", kinds(&up));
}

#[test]
fn removing_an_enum_value_rebuilds_it_around_its_dependents() {
    let c = chain(&[
        ENUM_BASE,
        "enums: [{name: app.s, values: [a]}]\naccept_data_loss: [{enum_value: app.s.b}]\n",
    ]);
    let up = diff_with(&c[1].0, &c[2].0, &c[2].1).unwrap();
    assert_eq!(
        kinds(&up),
        [
            "drop_policy",
            "drop_column_default",
            "drop_function",
            "rebuild_enum",
            "create_function",
            "set_column_default",
            "create_policy"
        ],
        "the policy on `s` and the function taking the enum go, the policy on `id` stays"
    );
    assert_eq!(
        losses(&up),
        [Loss::EnumValue {
            enum_name: QName::new("app", "s"),
            value: "b".into()
        }]
    );
    match &up[3] {
        Change::RebuildEnum {
            columns, removed, ..
        } => {
            assert_eq!(columns.len(), 1);
            assert_eq!(removed, &["b".to_string()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn renames_come_first_and_their_inverse_undoes_them() {
    let next = "tables:\n  - name: app.u\n    renamed_from: app.t\n    patch: true\n    columns: [{name: ident, renamed_from: id, type: int}]\n";
    let c = chain(&[ENUM_BASE, next]);
    let up = diff_with(&c[1].0, &c[2].0, &c[2].1).unwrap();
    assert_eq!(kinds(&up), ["rename_table", "rename_column"]);
    let down = diff_with(&c[2].0, &c[1].0, &c[2].1.inverse()).unwrap();
    assert_eq!(kinds(&down), ["rename_column", "rename_table"]);
    match &down[0] {
        Change::RenameColumn { table, from, to } => {
            assert_eq!(
                (table.name.as_str(), from.as_str(), to.as_str()),
                ("u", "ident", "id")
            );
        }
        other => panic!("{other:?}"),
    }
}
