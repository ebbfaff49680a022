//! Which objects of two states differ, and which reference what differs.
//!
//! States of a project share almost everything (see the module documentation of
//! [`crate::catalog`]): a layer adds or changes a few tables of thousands. Work that only
//! matters where two states differ (validating a layer's result, diffing two states) asks
//! this module which tables and views can be concerned, instead of visiting all of them.
//!
//! An object is *hot* when it differs between the two states (created, dropped or changed:
//! shared objects are skipped by pointer), and so is every function or view that references
//! something hot, to a fixpoint (it may have to be re-created with it: a function taking a
//! rebuilt enum, a view reading a retyped column). The *affected* tables and views are the
//! hot ones and those that reference something hot. Any other table is identical in both
//! states and nothing it references changed.
//!
//! The references followed are those `diff::graph` records as parents and dependencies of a
//! table's nodes, of functions and of views (not their grants: a grant belongs to its
//! object; only a table's grants are followed, to their roles).

use std::collections::BTreeSet;

use super::{Catalog, Function, QName, Refs, Returns, Table, TypeRef, View};

/// The tables and views whose handling can differ between two states.
pub struct Affected<'a> {
    pub tables: BTreeSet<&'a QName>,
    pub views: BTreeSet<&'a QName>,
}

/// What a table, view or function can point at.
#[derive(Clone, Copy)]
enum Ref<'a> {
    Schema(&'a str),
    /// A table, view or sequence.
    Relation(&'a QName),
    /// Functions by name (every overload of it).
    Function(&'a QName),
    /// An enum, or a table used as a type.
    Type(&'a QName),
    Role(&'a str),
}

/// The objects that differ between the two states, and what may be re-created with them.
#[derive(Default)]
struct Hot<'a> {
    schemas: BTreeSet<&'a str>,
    relations: BTreeSet<&'a QName>,
    functions: BTreeSet<&'a QName>,
    types: BTreeSet<&'a QName>,
    roles: BTreeSet<&'a str>,
}

impl Hot<'_> {
    fn hit(&self, r: Ref<'_>) -> bool {
        match r {
            Ref::Schema(s) => self.schemas.contains(s),
            Ref::Relation(q) => self.relations.contains(q),
            Ref::Function(q) => self.functions.contains(q),
            Ref::Type(q) => self.types.contains(q),
            Ref::Role(r) => self.roles.contains(r),
        }
    }

    fn is_empty(&self) -> bool {
        self.schemas.is_empty()
            && self.relations.is_empty()
            && self.functions.is_empty()
            && self.types.is_empty()
            && self.roles.is_empty()
    }
}

/// The tables and views of `from` and `to` that differ or reference what differs.
pub fn affected<'a>(from: &'a Catalog, to: &'a Catalog) -> Affected<'a> {
    let mut hot = Hot::default();
    // Tables whose definition or rows differ.
    let mut dirty: BTreeSet<&QName> = BTreeSet::new();
    for (a, b) in [(from, to), (to, from)] {
        for (k, v) in &a.roles {
            if b.roles.get(k) != Some(v) {
                hot.roles.insert(k);
            }
        }
        for (k, v) in &a.schemas {
            if b.schemas.get(k) != Some(v) {
                hot.schemas.insert(k);
            }
        }
        for (k, v) in &a.enums {
            if b.enums.get(k) != Some(v) {
                hot.types.insert(k);
            }
        }
        for (k, v) in &a.sequences {
            if b.sequences.get(k) != Some(v) {
                hot.relations.insert(k);
            }
        }
        for (k, v) in &a.functions {
            if b.functions.get(k) != Some(v) {
                hot.functions.insert(&k.name);
            }
        }
        for (k, v) in &a.views {
            if b.views.get(k) != Some(v) {
                hot.relations.insert(k);
            }
        }
        for (k, v) in &a.tables {
            if b.tables.get(k) != Some(v) {
                dirty.insert(k);
            }
        }
        for (k, v) in &a.rows {
            if b.rows.get(k) != Some(v) {
                dirty.insert(&k.table);
            }
        }
    }
    for &t in &dirty {
        hot.relations.insert(t);
        hot.types.insert(t);
    }

    // Functions and views that may be re-created with what is hot are hot too.
    loop {
        let mut grew = false;
        for cat in [from, to] {
            for f in cat.functions.values() {
                if !hot.functions.contains(&f.name) && function_refs(f, |r| hot.hit(r)) {
                    hot.functions.insert(&f.name);
                    grew = true;
                }
            }
            for v in cat.views.values() {
                if !hot.relations.contains(&v.name) && view_refs(v, |r| hot.hit(r)) {
                    hot.relations.insert(&v.name);
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }

    let mut tables: BTreeSet<&QName> = dirty;
    if !hot.is_empty() {
        for cat in [from, to] {
            for (k, t) in &cat.tables {
                if !tables.contains(k) && table_refs(t, |r| hot.hit(r)) {
                    tables.insert(k);
                }
            }
        }
    }
    let views: BTreeSet<&QName> = from
        .views
        .keys()
        .chain(to.views.keys())
        .filter(|k| hot.relations.contains(k))
        .collect();
    Affected { tables, views }
}

/// Whether `hit` holds for something an SQL fragment names.
fn sql_refs<'a>(refs: &'a Refs, hit: &mut impl FnMut(Ref<'a>) -> bool) -> bool {
    refs.relations.iter().any(|q| hit(Ref::Relation(q)))
        || refs.functions.iter().any(|q| hit(Ref::Function(q)))
        || refs.types.iter().any(|q| hit(Ref::Type(q)))
}

fn type_ref<'a>(t: &'a TypeRef, hit: &mut impl FnMut(Ref<'a>) -> bool) -> bool {
    t.user_type.as_ref().is_some_and(|q| hit(Ref::Type(q)))
}

/// Whether `hit` holds for something the table or one of its parts references.
fn table_refs<'a>(t: &'a Table, mut hit: impl FnMut(Ref<'a>) -> bool) -> bool {
    hit(Ref::Schema(&t.name.schema))
        || t.columns.iter().any(|c| {
            type_ref(&c.data_type, &mut hit)
                || c.default
                    .as_ref()
                    .is_some_and(|e| sql_refs(&e.refs, &mut hit))
        })
        || t.checks.iter().any(|c| sql_refs(&c.expr.refs, &mut hit))
        || t.indexes.iter().any(|i| {
            i.predicate
                .as_ref()
                .is_some_and(|p| sql_refs(&p.refs, &mut hit))
        })
        || t.foreign_keys
            .iter()
            .any(|fk| hit(Ref::Relation(&fk.ref_table)))
        || t.policies.iter().any(|p| {
            p.using
                .iter()
                .chain(&p.with_check)
                .any(|e| sql_refs(&e.refs, &mut hit))
                || p.roles.iter().any(|r| hit(Ref::Role(r)))
        })
        || t.triggers.iter().any(|tr| {
            hit(Ref::Function(&tr.function.name))
                || tr
                    .when
                    .as_ref()
                    .is_some_and(|w| sql_refs(&w.refs, &mut hit))
        })
        || t.grants.iter().any(|g| hit(Ref::Role(&g.grantee)))
}

/// Whether `hit` holds for something a function needs (not what its body reads at run time).
fn function_refs<'a>(f: &'a Function, mut hit: impl FnMut(Ref<'a>) -> bool) -> bool {
    let returns = match &f.returns {
        Returns::Type(t) | Returns::SetOf(t) => type_ref(t, &mut hit),
        Returns::Table(cols) => cols.iter().any(|c| type_ref(&c.data_type, &mut hit)),
        Returns::Trigger | Returns::Void => false,
    };
    returns
        || hit(Ref::Schema(&f.name.schema))
        || f.args.iter().any(|a| {
            type_ref(&a.data_type, &mut hit)
                || a.default
                    .as_ref()
                    .is_some_and(|d| sql_refs(&d.refs, &mut hit))
        })
        || f.owner.as_deref().is_some_and(|o| hit(Ref::Role(o)))
}

/// Whether `hit` holds for something a view needs.
fn view_refs<'a>(v: &'a View, mut hit: impl FnMut(Ref<'a>) -> bool) -> bool {
    hit(Ref::Schema(&v.name.schema)) || sql_refs(&v.query.refs, &mut hit)
}
