//! Diff: two catalogs to an ordered list of changes. This is where every decision is made
//! (what is created, altered, replaced or dropped, and in which order); `render` only spells
//! the changes out. A migration is `diff(previous, next)`, its rollback `diff(next, previous)`.
//!
//! The algorithm, over the object graphs of both states (see [`graph`]):
//! 1. each object is dropped, created, unchanged, altered in place, or replaced (dropped and
//!    created) when PostgreSQL cannot alter it in place (e.g. a function whose arguments or
//!    return type change);
//! 2. whatever belongs to or depends on a dropped or replaced object is replaced too (a policy
//!    calling a function whose signature changes), to a fixpoint;
//! 3. drops run first, dependents before what they depend on (order of the previous graph);
//!    then creations and alterations, dependencies first (order of the next graph). Objects
//!    that go away with their parent (a policy with its table) are not dropped separately.

mod changes;
pub mod graph;

use std::collections::{BTreeMap, BTreeSet};

pub use changes::{Change, TableAction};
pub use graph::{ObjectId, Target};

use crate::catalog::Catalog;
use crate::diagnostic::{Diagnostic, Diagnostics};
use graph::{Graph, Object};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Same,
    Create,
    Drop,
    Alter,
    Replace,
}

/// The ordered changes that turn `from` into `to`.
pub fn diff(from: &Catalog, to: &Catalog) -> Result<Vec<Change>, Diagnostics> {
    let prev = graph::graph(from);
    let next = graph::graph(to);
    let mut status: BTreeMap<&ObjectId, Status> = BTreeMap::new();
    let mut alters: BTreeMap<&ObjectId, Vec<Change>> = BTreeMap::new();
    for (id, p) in &prev {
        match next.get(id) {
            None => {
                status.insert(id, Status::Drop);
            }
            Some(n) if n.object == p.object => {
                status.insert(id, Status::Same);
            }
            Some(n) => match changes::alter(&p.object, &n.object, to) {
                Some(c) => {
                    status.insert(id, Status::Alter);
                    alters.insert(id, c);
                }
                None => {
                    status.insert(id, Status::Replace);
                }
            },
        }
    }
    for id in next.keys() {
        status.entry(id).or_insert(Status::Create);
    }

    // Replace whatever depends on something that goes away.
    let mut diags = Diagnostics::default();
    loop {
        let mut changed = false;
        for (id, node) in &prev {
            let s = status[id];
            if !matches!(s, Status::Same | Status::Alter) {
                continue;
            }
            let gone = node
                .parents
                .iter()
                .chain(&node.deps)
                .find(|d| matches!(status.get(d), Some(Status::Drop | Status::Replace)));
            if let Some(cause) = gone {
                if !replaceable(&node.object) {
                    diags.push(
                        Diagnostic::error("E200", format!("{} would have to be dropped and re-created because {} changes", describe(id), describe(cause)))
                            .at(origin_of(to, id))
                            .help("schemac does not re-create tables, schemas or roles implicitly (that loses data); change the dependency in a separate step"),
                    );
                    continue;
                }
                status.insert(id, Status::Replace);
                alters.remove(id);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }

    let mut out = Vec::new();
    // Drops, dependents first.
    let dropping: BTreeSet<&ObjectId> = status
        .iter()
        .filter(|(_, s)| matches!(s, Status::Drop | Status::Replace))
        .map(|(id, _)| *id)
        .collect();
    let order = topo_order(&prev, &dropping, true).map_err(|cycle| cycle_error(&cycle, to))?;
    for id in order.iter().rev() {
        let node = &prev[*id];
        if node.parents.iter().any(|p| dropping.contains(p)) {
            continue; // goes away with its parent
        }
        if let Object::ColumnDefault { table, column, .. } = &node.object {
            if to
                .tables
                .get(table)
                .is_some_and(|t| t.column(column).is_none())
            {
                continue; // goes away with its column
            }
        }
        out.extend(changes::drop(&node.object));
    }
    // Creations and alterations, dependencies first.
    let building: BTreeSet<&ObjectId> = status
        .iter()
        .filter(|(_, s)| matches!(s, Status::Create | Status::Replace | Status::Alter))
        .map(|(id, _)| *id)
        .collect();
    let order = topo_order(&next, &building, false).map_err(|cycle| cycle_error(&cycle, to))?;
    for id in order {
        match status[id] {
            Status::Alter => out.extend(alters.remove(id).unwrap_or_default()),
            _ => {
                let node = &next[id];
                // A default of a column added to an existing table is set by the ADD COLUMN.
                if let Object::ColumnDefault { table, column, .. } = &node.object {
                    if added_with_default(from, to, table, column, &status) {
                        continue;
                    }
                }
                out.extend(changes::create(&node.object));
            }
        }
    }
    Ok(out)
}

/// Whether `table.column` is new in an existing table and NOT NULL with a default, in which
/// case `ADD COLUMN` carries the default (existing rows need it).
fn added_with_default(
    from: &Catalog,
    to: &Catalog,
    table: &crate::catalog::QName,
    column: &str,
    status: &BTreeMap<&ObjectId, Status>,
) -> bool {
    let existed = from
        .tables
        .get(table)
        .is_some_and(|t| t.column(column).is_none());
    let tid = ObjectId::Table(table.clone());
    existed
        && matches!(status.get(&tid), Some(Status::Alter))
        && to
            .tables
            .get(table)
            .and_then(|t| t.column(column))
            .is_some_and(|c| c.not_null && c.default.is_some())
}

fn replaceable(object: &Object) -> bool {
    !matches!(
        object,
        Object::Table(_)
            | Object::Schema(_)
            | Object::Role(_)
            | Object::Extension(_)
            | Object::Sequence(_)
            | Object::Enum(_)
    )
}

/// Topological order of `subset` in `g`: each object after what it needs. For drop order
/// (`for_drop`), an object also waits for what its children need (a table is dropped, taking
/// its policies along, before the function a policy calls), and run-time-only references
/// (`after`) are ignored, since PostgreSQL lets either side go first; only rows keep them
/// (referencing rows are deleted before the rows they reference).
fn topo_order<'a>(
    g: &'a Graph,
    subset: &BTreeSet<&'a ObjectId>,
    for_drop: bool,
) -> Result<Vec<&'a ObjectId>, Vec<&'a ObjectId>> {
    let soft = |node: &'a graph::Node| -> &'a [ObjectId] {
        if for_drop && !matches!(node.object, Object::Rows(_)) {
            &[]
        } else {
            &node.after
        }
    };
    let inherit_children = for_drop;
    let mut needs: BTreeMap<&ObjectId, BTreeSet<&ObjectId>> =
        subset.iter().map(|id| (*id, BTreeSet::new())).collect();
    for id in subset {
        let node = &g[*id];
        for d in node.parents.iter().chain(&node.deps).chain(soft(node)) {
            if let Some((k, _)) = g.get_key_value(d) {
                if subset.contains(k) && k != *id {
                    needs.get_mut(id).expect("in subset").insert(k);
                }
            }
        }
        if inherit_children {
            for parent in &node.parents {
                let Some((pk, _)) = g.get_key_value(parent) else {
                    continue;
                };
                if !subset.contains(pk) {
                    continue;
                }
                for d in node.deps.iter().chain(soft(node)) {
                    if let Some((k, _)) = g.get_key_value(d) {
                        if subset.contains(k) && k != pk && !g[k].parents.contains(parent) {
                            needs.get_mut(pk).expect("in subset").insert(k);
                        }
                    }
                }
            }
        }
    }
    let mut dependents: BTreeMap<&ObjectId, Vec<&ObjectId>> = BTreeMap::new();
    for (id, ns) in &needs {
        for n in ns {
            dependents.entry(*n).or_default().push(*id);
        }
    }
    let mut remaining: BTreeMap<&ObjectId, usize> =
        needs.iter().map(|(id, ns)| (*id, ns.len())).collect();
    let mut ready: BTreeSet<&ObjectId> = remaining
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut order = Vec::with_capacity(subset.len());
    while let Some(id) = ready.pop_first() {
        order.push(id);
        remaining.remove(id);
        for d in dependents.get(id).into_iter().flatten() {
            if let Some(n) = remaining.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(*d);
                }
            }
        }
    }
    if remaining.is_empty() {
        Ok(order)
    } else {
        Err(remaining.keys().copied().collect())
    }
}

fn cycle_error(cycle: &[&ObjectId], to: &Catalog) -> Diagnostics {
    let names: Vec<String> = cycle.iter().take(6).map(|id| describe(id)).collect();
    Diagnostic::error("E201", format!("objects depend on each other in a cycle: {}", names.join(", ")))
        .at(cycle.first().and_then(|id| origin_of(to, id)))
        .help("break the cycle, e.g. make one of the functions PL/pgSQL (resolved at run time) instead of SQL")
        .into()
}

/// A readable name of an object for messages.
pub fn describe(id: &ObjectId) -> String {
    match id {
        ObjectId::Role(r) => format!("role `{r}`"),
        ObjectId::Membership { group, member } => format!("membership of `{member}` in `{group}`"),
        ObjectId::Schema(s) => format!("schema `{s}`"),
        ObjectId::Extension(e) => format!("extension `{e}`"),
        ObjectId::DefaultPrivilege(k) => {
            format!("default privileges of `{}` for `{}`", k.for_role, k.grantee)
        }
        ObjectId::Enum(q) => format!("enum `{q}`"),
        ObjectId::Sequence(q) => format!("sequence `{q}`"),
        ObjectId::Table(q) => format!("table `{q}`"),
        ObjectId::Function(k) => format!("function `{k}`"),
        ObjectId::ColumnDefault(q, c) => format!("the default of `{q}.{c}`"),
        ObjectId::Check(q, n) => format!("check `{n}` on `{q}`"),
        ObjectId::Index(q, n) => format!("index `{n}` on `{q}`"),
        ObjectId::ForeignKey(q, n) => format!("foreign key `{n}` on `{q}`"),
        ObjectId::Policy(q, n) => format!("policy `{n}` on `{q}`"),
        ObjectId::Trigger(q, n) => format!("trigger `{n}` on `{q}`"),
        ObjectId::Grant(on, to, _) => format!("the grant to `{to}` on {}", describe(on)),
        ObjectId::Comment(on) => format!("the comment on {}", describe(on)),
        ObjectId::ColumnComment(q, c) => format!("the comment on `{q}.{c}`"),
        ObjectId::Rows(k) => format!("a row of `{}`", k.table),
    }
}

fn origin_of(cat: &Catalog, id: &ObjectId) -> Option<crate::diagnostic::Span> {
    let key = match id {
        ObjectId::Role(r) => format!("role {r}"),
        ObjectId::Schema(s) => format!("schema {s}"),
        ObjectId::Table(q) => format!("table {q}"),
        ObjectId::Function(k) => format!("function {k}"),
        ObjectId::Policy(q, n) => format!("table {q} policy {n}"),
        ObjectId::Trigger(q, n) => format!("table {q} trigger {n}"),
        ObjectId::ColumnDefault(q, c) => format!("table {q} column {c}"),
        ObjectId::Check(q, n) | ObjectId::ForeignKey(q, n) => format!("table {q} constraint {n}"),
        ObjectId::Enum(q) => format!("type {q}"),
        _ => return None,
    };
    cat.origin(&key).cloned()
}

#[cfg(test)]
mod tests;
