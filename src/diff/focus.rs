//! Focus: the part of two states a diff has to look at.
//!
//! Two states of a project share almost everything: a layer adds or changes a few tables of
//! thousands. The changes between them depend only on the objects that differ and on those
//! that may have to be re-created because of them; every other object is the same on both
//! sides and would only add `Same` nodes to both graphs. So before the graphs are built, both
//! catalogs are narrowed to:
//! - every role, schema, extension, enum, sequence, function and default privilege (few, and
//!   cheap to copy: functions are shared);
//! - the tables and views [`affected`] by the difference (those that differ, and those that
//!   reference something *hot*: an object that differs, or a function or view that may be
//!   re-created with one), and the rows of those tables. A table that is the same on both
//!   sides keeps only the parts the diff can change ([`concerned_parts`]): thousands of
//!   tables whose policies call a helper with a new signature bring their policies, not
//!   their columns' defaults, indexes and grants.
//!
//! Why a table left out changes nothing: it is identical on both sides and references
//! nothing hot, so none of its nodes can be dropped, replaced or altered (replacement only
//! spreads from hot objects, and only through functions and views: what belongs to a table,
//! its policies, checks, indexes, triggers, grants, is never a dependency of anything). It
//! is not in the creation order either, and nothing in that order can reach a changing
//! object through it (what it needs is not hot). Objects it references stay in, so the
//! narrowed graphs hold the same changing nodes with the same edges between them, and the
//! differ returns exactly the changes it returns on the whole states (`tests.rs` checks this
//! on every project in the repository).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::catalog::affected::{affected, concerned_parts, Affected};
use crate::catalog::{Catalog, QName, Table};

/// `from` and `to` narrowed to what their diff depends on (see the module documentation):
/// to `known` when the fold already found what the two states' layer affects, else to what
/// [`affected`] finds by visiting them.
pub fn narrow(from: &Catalog, to: &Catalog, known: Option<&Affected>) -> (Catalog, Catalog) {
    let found;
    let a = match known {
        Some(a) => a,
        None => {
            found = affected(from, to, None);
            &found
        }
    };
    narrow_for(from, to, a, rebuilt(from, to, a).collect())
}

/// [`narrow`] for the diffs both ways between the states around a layer: narrowed for the
/// enums either direction rebuilds, so that each diff finds what it needs. The diff that
/// rebuilds none of them keeps the columns of those enums, which are the same on both sides.
pub fn narrow_both(before: &Catalog, after: &Catalog, a: &Affected) -> (Catalog, Catalog) {
    let rebuilt = rebuilt(before, after, a).chain(rebuilt(after, before, a));
    narrow_for(before, after, a, rebuilt.collect())
}

/// `from` and `to` narrowed to `a`, keeping the columns of the enums in `rebuilt`.
fn narrow_for(
    from: &Catalog,
    to: &Catalog,
    a: &Affected,
    rebuilt: BTreeSet<&QName>,
) -> (Catalog, Catalog) {
    // Columns of the enums a diff rebuilds (values removed or reordered) are retyped,
    // whatever reads them.
    let retyped: BTreeSet<&str> = a
        .tables
        .iter()
        .filter_map(|k| from.tables.get(k))
        .flat_map(|t| &t.columns)
        .filter(|c| {
            c.data_type
                .user_type
                .as_ref()
                .is_some_and(|q| rebuilt.contains(q))
        })
        .map(|c| c.name.as_str())
        .collect();
    // Tables the same on both sides keep only the parts the diff can change.
    let parts: BTreeMap<&QName, Arc<Table>> = a
        .tables
        .iter()
        .filter_map(|k| match (from.tables.get(k), to.tables.get(k)) {
            (Some(x), Some(y)) if x == y => Some((k, x)),
            _ => None,
        })
        .map(|(k, t)| (k, Arc::new(concerned_parts(t, &a.hot, &retyped))))
        .collect();
    (narrowed(from, a, &parts), narrowed(to, a, &parts))
}

/// The hot enums the diff from `from` to `to` rebuilds (values removed or reordered).
fn rebuilt<'a>(
    from: &'a Catalog,
    to: &'a Catalog,
    a: &'a Affected,
) -> impl Iterator<Item = &'a QName> {
    a.hot.types.iter().filter(
        |q| matches!((from.enums.get(*q), to.enums.get(*q)), (Some(x), Some(y)) if !y.extends(x)),
    )
}

fn narrowed(cat: &Catalog, a: &Affected, parts: &BTreeMap<&QName, Arc<Table>>) -> Catalog {
    let (tables, views) = (&a.tables, &a.views);
    Catalog {
        roles: cat.roles.clone(),
        schemas: cat.schemas.clone(),
        extensions: cat.extensions.clone(),
        enums: cat.enums.clone(),
        sequences: cat.sequences.clone(),
        tables: tables
            .iter()
            .filter_map(|k| cat.tables.get_key_value(k))
            .map(|(k, t)| (k.clone(), parts.get(k).unwrap_or(t).clone()))
            .collect(),
        functions: cat.functions.clone(),
        views: views
            .iter()
            .filter_map(|k| cat.views.get_key_value(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        default_privileges: cat.default_privileges.clone(),
        rows: cat
            .rows
            .iter()
            .filter(|(k, _)| tables.contains(&k.table))
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect(),
        origins: cat.origins.clone(),
    }
}
