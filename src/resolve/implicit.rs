//! Grants PostgreSQL adds by itself: an object created while default privileges of the role
//! that creates it are in force for its kind and schema gets them. schemac knows that role
//! when `migrator` is set in schemac.yaml. They become part of the object's state here, when the
//! layer creates it (new, or re-created because its definition cannot be altered in place),
//! so the generated migration grants them explicitly (whoever runs it) and the diff knows
//! what a re-created object must not keep (see `diff::undo_default_privileges`).

use crate::catalog::transition::apply_all;
use crate::catalog::*;
use std::sync::Arc;

use super::Resolver;

impl Resolver<'_> {
    pub(super) fn default_grants(&mut self, prev: &Catalog) {
        let Some(migrator) = self.externals.migrator.clone() else {
            return;
        };
        if self.state.default_privileges.is_empty() {
            return;
        }
        let before = apply_all(&self.transition.renames, prev);
        let defaults: Vec<DefaultPrivilege> =
            self.state.default_privileges.values().cloned().collect();
        let applying = |kind: &str, schema: Option<&str>| -> Vec<Grant> {
            defaults
                .iter()
                .filter(|d| {
                    d.key.for_role == migrator
                        && d.key.object_type == kind
                        && (d.key.in_schema.is_none() || d.key.in_schema.as_deref() == schema)
                })
                .map(|d| Grant {
                    grantee: d.key.grantee.clone(),
                    privileges: d.privileges.clone(),
                    columns: Vec::new(),
                })
                .collect()
        };
        for (name, t) in &mut self.state.tables {
            if !before.tables.contains_key(name) {
                add(
                    &mut Arc::make_mut(t).grants,
                    applying("TABLES", Some(&name.schema)),
                );
            }
        }
        for (name, v) in &mut self.state.views {
            // A view whose query changes is dropped and created again.
            let recreated = before.views.get(name).is_some_and(|b| b.query != v.query);
            if !before.views.contains_key(name) || recreated {
                add(
                    &mut Arc::make_mut(v).grants,
                    applying("TABLES", Some(&name.schema)),
                );
            }
        }
        for (name, s) in &mut self.state.sequences {
            let recreated = before
                .sequences
                .get(name)
                .is_some_and(|b| b.data_type != s.data_type);
            if !before.sequences.contains_key(name) || recreated {
                add(&mut s.grants, applying("SEQUENCES", Some(&name.schema)));
            }
        }
        for (key, f) in &mut self.state.functions {
            // New, or re-created: `CREATE OR REPLACE` cannot turn the old one into it.
            let created = before
                .functions
                .get(key)
                .map_or(true, |b| !b.replaceable_by(f));
            if created {
                let grants = applying("FUNCTIONS", Some(&f.name.schema));
                add(&mut Arc::make_mut(f).grants, grants);
            }
        }
        for (name, s) in &mut self.state.schemas {
            if s.created && !before.schemas.get(name).is_some_and(|b| b.created) {
                add(&mut s.grants, applying("SCHEMAS", None));
            }
        }
    }
}

/// Merge `implicit` into `grants` (privileges a grantee already has are not repeated).
fn add(grants: &mut Vec<Grant>, implicit: Vec<Grant>) {
    for g in implicit {
        match grants
            .iter_mut()
            .find(|x| x.grantee == g.grantee && x.columns.is_empty())
        {
            Some(x) => x.privileges.extend(g.privileges),
            None => grants.push(g),
        }
    }
}
