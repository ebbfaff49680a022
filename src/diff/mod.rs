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
mod focus;
pub mod graph;
mod order;

use std::collections::{BTreeMap, BTreeSet};

pub use changes::{Change, EnumColumn, TableAction};
pub use graph::{ObjectId, Target};

use crate::catalog::affected::Affected;
use crate::catalog::transition::{self, Loss, Rename, Transition};
use crate::catalog::{ident, Catalog, Expr, QName};
use crate::diagnostic::{Diagnostic, Diagnostics};
use graph::Object;
use order::{closure, topo_order, Index};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Same,
    Create,
    Drop,
    Alter,
    Replace,
    /// An enum built again under its name (values removed or reordered); its columns are
    /// converted, whatever else depends on it is dropped before and created after.
    Rebuild,
}

/// The ordered changes that turn `from` into `to`, with no renames.
pub fn diff(from: &Catalog, to: &Catalog) -> Result<Vec<Change>, Diagnostics> {
    diff_with(from, to, &Transition::default())
}

/// The ordered changes that turn `from` into `to` through `t`: renames first, then the
/// difference between `from` (renamed) and `to`, computed on the part of both states that
/// can differ (see [`focus`]).
pub fn diff_with(from: &Catalog, to: &Catalog, t: &Transition) -> Result<Vec<Change>, Diagnostics> {
    diff_narrowed(from, to, t, None)
}

/// [`diff_with`] for the states around a layer (either way), narrowed to what the fold found
/// the layer affects instead of searching both states for it.
pub fn diff_layer(
    from: &Catalog,
    to: &Catalog,
    t: &Transition,
    affected: &Affected,
) -> Result<Vec<Change>, Diagnostics> {
    diff_narrowed(from, to, t, Some(affected))
}

/// Both sections of a layer's migration: the changes from `before` to `after` through `t`,
/// and, when `want_down` accepts those, the changes back through `t.inverse()`; the same as
/// [`diff_layer`] each way. When the layer renames nothing, both directions can diff the same
/// narrowed states (narrowed for the enums either direction rebuilds, see
/// [`focus::narrow_both`]), so those states, their graphs and their numbering are built once.
pub fn diff_layer_both(
    before: &Catalog,
    after: &Catalog,
    t: &Transition,
    affected: &Affected,
    want_down: impl FnOnce(&[Change]) -> bool,
) -> Result<(Vec<Change>, Option<Vec<Change>>), Diagnostics> {
    let inverse = t.inverse();
    if !t.renames.is_empty() {
        let up = diff_layer(before, after, t, affected)?;
        let down = want_down(&up)
            .then(|| diff_layer(after, before, &inverse, affected))
            .transpose()?;
        return Ok((up, down));
    }
    let (b, a) = focus::narrow_both(before, after, affected);
    let (gb, ga) = (graph::graph(&b), graph::graph(&a));
    let ix = Index::new(&gb, &ga);
    let up = diff_indexed(&b, &a, &ix, t)?;
    let down = want_down(&up)
        .then(|| diff_indexed(&a, &b, &ix.mirrored(), &inverse))
        .transpose()?;
    Ok((up, down))
}

fn diff_narrowed(
    from: &Catalog,
    to: &Catalog,
    t: &Transition,
    affected: Option<&Affected>,
) -> Result<Vec<Change>, Diagnostics> {
    if from.is_empty() && t.renames.is_empty() {
        // Everything is created (`schema.sql`): narrowing would keep the whole of `to`.
        return diff_states(from, to, t);
    }
    let renamed = transition::apply_all(&t.renames, from);
    let (narrow_from, narrow_to) = focus::narrow(&renamed, to, affected);
    let mut out = changes::renames(from, &t.renames);
    out.extend(diff_states(&narrow_from, &narrow_to, t)?);
    Ok(out)
}

/// [`diff_with`] on the whole states, without narrowing them first: the reference the
/// narrowed diff must agree with (tests compare the two).
#[doc(hidden)]
pub fn diff_unfocused(
    from: &Catalog,
    to: &Catalog,
    t: &Transition,
) -> Result<Vec<Change>, Diagnostics> {
    let renamed = transition::apply_all(&t.renames, from);
    let mut out = changes::renames(from, &t.renames);
    out.extend(diff_states(&renamed, to, t)?);
    Ok(out)
}

/// The changes from `from` (already renamed) to `to`.
fn diff_states(from: &Catalog, to: &Catalog, t: &Transition) -> Result<Vec<Change>, Diagnostics> {
    let (prev, next) = (graph::graph(from), graph::graph(to));
    diff_indexed(from, to, &Index::new(&prev, &next), t)
}

/// The changes from `from` to `to`, given their graphs numbered as one (`prev` and `next`).
fn diff_indexed(
    from: &Catalog,
    to: &Catalog,
    ix: &Index<'_>,
    t: &Transition,
) -> Result<Vec<Change>, Diagnostics> {
    let mut out = Vec::new();
    let ids = &ix.ids;
    // By object number (see `order`); every object is in one graph or both.
    let mut status: Vec<Status> = vec![Status::Create; ix.len()];
    let mut alters: Vec<Option<Vec<Change>>> = (0..ix.len()).map(|_| None).collect();
    // The objects of the previous state, in identity order.
    let in_prev: Vec<usize> = (0..ix.len())
        .filter(|&i| ix.prev.nodes[i].is_some())
        .collect();
    for &i in &in_prev {
        let p = ix.prev.node(i);
        status[i] = match ix.next.nodes[i] {
            None => Status::Drop,
            Some(n) if n.object == p.object => Status::Same,
            Some(n) => match changes::alter(&p.object, &n.object, &t.usings) {
                Some(c) => {
                    alters[i] = Some(c);
                    Status::Alter
                }
                None if matches!(ids[i], ObjectId::Enum(_)) => Status::Rebuild,
                None => Status::Replace,
            },
        };
    }

    // Columns whose type changes (or that go away): PostgreSQL refuses while a view, policy,
    // or trigger condition uses them, and re-parses checks and index predicates against the
    // old type; all of those on the table are dropped before and created after.
    let rebuilt = (0..ix.len()).filter_map(|i| match (ids[i], status[i]) {
        (ObjectId::Enum(e), Status::Rebuild) => Some(&**e),
        _ => None,
    });
    let retyped = retyped_columns(from, to, rebuilt, alters.iter().flatten());
    for &i in in_prev.iter().filter(|_| !retyped.is_empty()) {
        if !matches!(status[i], Status::Same | Status::Alter) {
            continue;
        }
        let node = ix.prev.node(i);
        let uses_retyped = |refs: &[&Expr]| {
            node.parents.iter().chain(&node.deps).any(|d| {
                let ObjectId::Table(q) = d else { return false };
                retyped.iter().any(|(t, c)| {
                    t == &**q
                        && refs
                            .iter()
                            .any(|e| e.refs.columns.contains(c) || e.refs.columns.contains("*"))
                })
            })
        };
        let affected = match &node.object {
            Object::Check { check, .. } => uses_retyped(&[&check.expr]),
            Object::Policy { policy, .. } => {
                let exprs: Vec<&Expr> = policy.using.iter().chain(&policy.with_check).collect();
                uses_retyped(&exprs)
            }
            Object::View(v) => uses_retyped(&[&v.query]),
            Object::Trigger { trigger, .. } => {
                trigger.when.as_ref().is_some_and(|w| uses_retyped(&[w]))
            }
            Object::Index { index, .. } => {
                index.predicate.as_ref().is_some_and(|p| uses_retyped(&[p]))
            }
            Object::ColumnDefault { table, column, .. } => {
                retyped.contains(&((*table).clone(), column.to_string()))
            }
            _ => false,
        };
        if affected {
            status[i] = Status::Replace;
            alters[i] = None;
        }
    }

    // Replace whatever depends on something that goes away.
    let mut diags = Diagnostics::default();
    let mut deferred: BTreeSet<usize> = BTreeSet::new();
    loop {
        let mut changed = false;
        for &i in &in_prev {
            if !matches!(status[i], Status::Same | Status::Alter) {
                continue;
            }
            let node = ix.prev.node(i);
            let e = ix.prev.edges(i);
            let is_table = matches!(node.object, Object::Table(_));
            let gone = e
                .parents
                .iter()
                .chain(e.deps)
                .copied()
                .find(|&d| match status[d] {
                    Status::Drop | Status::Replace => true,
                    // A rebuilt enum converts the columns of its tables itself.
                    Status::Rebuild => !is_table,
                    _ => false,
                });
            if let Some(cause) = gone {
                if !replaceable(&node.object) {
                    // Altered so that it no longer needs what is dropped (a column of an enum
                    // that goes away is dropped, a schema changes owner): the drop waits
                    // until the alteration has run.
                    let released = status[cause] == Status::Drop
                        && ix.next.nodes[i].is_some_and(|n| {
                            !n.parents.contains(ids[cause]) && !n.deps.contains(ids[cause])
                        });
                    if released {
                        deferred.insert(cause);
                        continue;
                    }
                    let how = if status[cause] == Status::Drop {
                        "is dropped"
                    } else {
                        "is dropped and re-created"
                    };
                    diags.push(
                        Diagnostic::error("E200", format!("{} would have to be dropped and re-created because {} {how}", describe(ids[i]), describe(ids[cause])))
                            .at(origin_of(to, ids[i]).or_else(|| origin_of(to, ids[cause])))
                            .help("schemac does not re-create tables, schemas or roles implicitly (that loses data); change the dependency in a separate step"),
                    );
                    continue;
                }
                status[i] = Status::Replace;
                alters[i] = None;
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
    let cycle = |members: Vec<usize>| {
        let cycle: Vec<&ObjectId> = members.iter().map(|&i| ids[i]).collect();
        cycle_error(&cycle, to)
    };

    // Drops, dependents first.
    let dropping: Vec<bool> = status
        .iter()
        .map(|s| matches!(s, Status::Drop | Status::Replace))
        .collect();
    let order = topo_order(&ix.prev, &dropping, true).map_err(cycle)?;
    // Drops that wait for the alterations releasing them, with whatever they need gone after.
    let deferred = closure(&ix.prev, &dropping, &deferred);
    let mut late = Vec::new();
    for &i in order.iter().rev() {
        let node = ix.prev.node(i);
        let e = ix.prev.edges(i);
        let sink = if deferred[i] { &mut late } else { &mut out };
        // Goes away with its parent, unless the parent is a schema the project did not
        // create (`public`, external ones): that stays, and so would its grants.
        let goes_with_parent = e.parents.iter().any(|&p| {
            dropping[p] && !matches!(&ix.prev.node(p).object, Object::Schema(s) if !s.created)
        });
        if goes_with_parent {
            continue;
        }
        if let Object::ColumnDefault { table, column, .. } = &node.object {
            // Goes away with its column, unless what it calls is dropped first.
            let column_dropped = to
                .tables
                .get(table)
                .is_some_and(|t| t.column(column).is_none());
            if column_dropped && !e.deps.iter().any(|&d| dropping[d]) {
                continue;
            }
        }
        sink.extend(changes::drop(&node.object));
    }
    // Creations and alterations, dependencies first.
    let building: Vec<bool> = status
        .iter()
        .map(|s| {
            matches!(
                s,
                Status::Create | Status::Replace | Status::Alter | Status::Rebuild
            )
        })
        .collect();
    // A column default's one parent is its table.
    let table_altered = |i: usize| {
        ix.next
            .edges(i)
            .parents
            .iter()
            .any(|&p| status[p] == Status::Alter)
    };
    let order = topo_order(&ix.next, &building, false).map_err(cycle)?;
    for i in order {
        match status[i] {
            Status::Alter => {
                let mut changes = alters[i].take().unwrap_or_default();
                for c in &mut changes {
                    before_renames(c, &t.renames);
                }
                out.extend(changes);
            }
            Status::Rebuild => {
                if let ObjectId::Enum(name) = ids[i] {
                    out.push(rebuild_enum(from, to, name, t));
                }
            }
            _ => {
                let node = ix.next.node(i);
                // A default of a column added to an existing table is set by the ADD COLUMN.
                if let Object::ColumnDefault { table, column, .. } = &node.object {
                    if added_with_default(from, to, table, column, table_altered(i)) {
                        continue;
                    }
                }
                out.extend(changes::create(&node.object));
                out.extend(undo_default_privileges(from, to, &node.object));
            }
        }
    }
    out.extend(late);
    let out = keep_owner_privileges(out, from, to);
    Ok(merge_column_grants(regrant_columns(out, to)))
}

/// A grant to an object's owner changes nothing (the owner holds every privilege), but a
/// REVOKE from the owner takes its own privileges away: such revokes are left out.
fn keep_owner_privileges(changes: Vec<Change>, from: &Catalog, to: &Catalog) -> Vec<Change> {
    let owners = |t: &Target| -> Vec<Option<String>> {
        [from, to]
            .iter()
            .map(|cat| match (t.kind, &t.schema) {
                ("SCHEMA", None) => cat.schemas.get(&t.name).and_then(|s| s.owner.clone()),
                ("FUNCTION", Some(schema)) => cat
                    .functions
                    .values()
                    .find(|f| {
                        f.name.schema == *schema
                            && f.name.name == t.name
                            && t.args.as_ref() == Some(&f.identity_types())
                    })
                    .and_then(|f| f.owner.clone()),
                _ => None,
            })
            .collect()
    };
    changes
        .into_iter()
        .filter(|c| match c {
            Change::Revoke { target, grant } => !owners(target)
                .iter()
                .any(|o| o.as_deref() == Some(grant.grantee.as_str())),
            _ => true,
        })
        .collect()
}

/// PostgreSQL gives a new object the default privileges in force for its kind and schema
/// (for the role that creates it). Where the target state does not grant them (an object
/// re-created by a rollback, or one the defaults came after), they are revoked right after
/// the creation; those it does grant are made explicitly by its grants.
fn undo_default_privileges(from: &Catalog, to: &Catalog, object: &Object) -> Vec<Change> {
    use crate::catalog::Grant;
    let target = |kind: &'static str, q: &QName| Target {
        kind,
        schema: Some(q.schema.clone()),
        name: q.name.clone(),
        args: None,
        table: None,
    };
    let (kind, schema, target, grants): (&str, Option<&str>, Target, &[Grant]) = match object {
        Object::Table(t) => (
            "TABLES",
            Some(&t.name.schema),
            target("TABLE", &t.name),
            to.tables.get(&t.name).map_or(&[][..], |x| &x.grants),
        ),
        Object::View(v) => (
            "TABLES",
            Some(&v.name.schema),
            target("TABLE", &v.name),
            to.views.get(&v.name).map_or(&[][..], |x| &x.grants),
        ),
        Object::Sequence(s) => (
            "SEQUENCES",
            Some(&s.name.schema),
            target("SEQUENCE", &s.name),
            to.sequences.get(&s.name).map_or(&[][..], |x| &x.grants),
        ),
        Object::Function(f) => (
            "FUNCTIONS",
            Some(&f.name.schema),
            graph::function_target(f),
            to.functions
                .values()
                .find(|x| x.name == f.name && x.identity_types() == f.identity_types())
                .map_or(&[][..], |x| &x.grants),
        ),
        Object::Schema(s) if s.created => (
            "SCHEMAS",
            None,
            Target {
                kind: "SCHEMA",
                schema: None,
                name: s.name.clone(),
                args: None,
                table: None,
            },
            to.schemas.get(&s.name).map_or(&[][..], |x| &x.grants),
        ),
        _ => return Vec::new(),
    };
    let owner: Option<&str> = match object {
        Object::Function(f) => f.owner.as_deref(),
        Object::Schema(s) => s.owner.as_deref(),
        _ => None,
    };
    // Defaults of either state may be in force when the object is created. Those naming the
    // owner change nothing (it holds every privilege); without a declared owner, the owner
    // is the creating role, the one the defaults are for.
    let mut given: BTreeMap<&str, BTreeSet<crate::catalog::Privilege>> = BTreeMap::new();
    for d in from
        .default_privileges
        .values()
        .chain(to.default_privileges.values())
    {
        let to_owner = d.key.grantee == owner.unwrap_or(&d.key.for_role);
        let applies = !to_owner
            && d.key.object_type == kind
            && (d.key.in_schema.is_none() || d.key.in_schema.as_deref() == schema);
        if applies {
            given
                .entry(&d.key.grantee)
                .or_default()
                .extend(d.privileges.iter().copied());
        }
    }
    given
        .into_iter()
        .filter_map(|(grantee, privileges)| {
            let kept: BTreeSet<_> = grants
                .iter()
                .filter(|g| g.grantee == grantee && g.columns.is_empty())
                .flat_map(|g| g.privileges.iter().copied())
                .collect();
            let extra: BTreeSet<_> = privileges.difference(&kept).copied().collect();
            (!extra.is_empty()).then(|| Change::Revoke {
                target: Box::new(target.clone()),
                grant: Grant {
                    grantee: grantee.to_string(),
                    privileges: extra,
                    columns: Vec::new(),
                },
            })
        })
        .collect()
}

/// A table-level `REVOKE p` also takes `p` away from every column: the column privileges
/// the target state still gives that grantee are granted again right after it.
fn regrant_columns(changes: Vec<Change>, to: &Catalog) -> Vec<Change> {
    let mut out = Vec::with_capacity(changes.len());
    // Relations created by these changes have no column privileges yet (their grants come
    // later, as their own changes).
    let mut created: BTreeSet<QName> = BTreeSet::new();
    for c in changes {
        match &c {
            Change::CreateTable { table } => {
                created.insert(table.name.clone());
            }
            Change::CreateView { view } => {
                created.insert(view.name.clone());
            }
            _ => {}
        }
        let regrants = match &c {
            Change::Revoke { target, grant }
                if grant.columns.is_empty()
                    && !target.schema.as_ref().is_some_and(|s| {
                        created.contains(&QName::new(s.clone(), target.name.clone()))
                    }) =>
            {
                column_grants(to, target)
                    .iter()
                    .filter(|g| g.grantee == grant.grantee && !g.columns.is_empty())
                    .filter_map(|g| {
                        let privileges: BTreeSet<_> = g
                            .privileges
                            .intersection(&grant.privileges)
                            .copied()
                            .collect();
                        (!privileges.is_empty()).then(|| Change::Grant {
                            target: target.clone(),
                            grant: crate::catalog::Grant {
                                privileges,
                                ..g.clone()
                            },
                        })
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        out.push(c);
        out.extend(regrants);
    }
    out
}

/// The grants of the table or view `target` designates in `cat` (none for other objects).
fn column_grants<'a>(cat: &'a Catalog, target: &Target) -> &'a [crate::catalog::Grant] {
    let Some(schema) = &target.schema else {
        return &[];
    };
    if target.kind != "TABLE" {
        return &[];
    }
    let q = QName::new(schema.clone(), target.name.clone());
    if let Some(t) = cat.tables.get(&q) {
        &t.grants
    } else if let Some(v) = cat.views.get(&q) {
        &v.grants
    } else {
        &[]
    }
}

/// Consecutive column-level grants (or revokes) of the same privileges to the same grantee
/// on the same object become one statement: `GRANT SELECT (a, b)`.
fn merge_column_grants(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    for c in changes {
        let merged = match (out.last_mut(), &c) {
            (
                Some(Change::Grant {
                    target: t1,
                    grant: g1,
                }),
                Change::Grant {
                    target: t2,
                    grant: g2,
                },
            )
            | (
                Some(Change::Revoke {
                    target: t1,
                    grant: g1,
                }),
                Change::Revoke {
                    target: t2,
                    grant: g2,
                },
            ) if t1 == t2
                && g1.grantee == g2.grantee
                && g1.privileges == g2.privileges
                && !g1.columns.is_empty()
                && !g2.columns.is_empty() =>
            {
                for col in &g2.columns {
                    if !g1.columns.contains(col) {
                        g1.columns.push(col.clone());
                    }
                }
                true
            }
            _ => false,
        };
        if !merged {
            out.push(c);
        }
    }
    out
}

/// The changes that create one object of a graph on its own (drift reports show them as the
/// object's definition).
pub fn creation(object: &Object) -> Vec<Change> {
    changes::create(object)
}

/// The data the changes destroy.
pub fn losses(changes: &[Change]) -> Vec<Loss> {
    let mut out = Vec::new();
    for c in changes {
        match c {
            Change::DropTable { table } => out.push(Loss::Table {
                table: table.name.clone(),
            }),
            Change::AlterTable { table, actions } => {
                for a in actions {
                    match a {
                        TableAction::DropColumn { column } => out.push(Loss::Column {
                            table: table.clone(),
                            column: column.name.clone(),
                        }),
                        TableAction::AlterColumnType {
                            column,
                            lossy: true,
                            ..
                        } => out.push(Loss::Column {
                            table: table.clone(),
                            column: column.clone(),
                        }),
                        _ => {}
                    }
                }
            }
            Change::RebuildEnum {
                enum_type,
                old_values,
                ..
            } => {
                for v in old_values.iter().filter(|v| !enum_type.values.contains(v)) {
                    out.push(Loss::EnumValue {
                        enum_name: enum_type.name.clone(),
                        value: v.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// Columns whose type changes or that are dropped from a table that stays, plus every column
/// of an enum that is rebuilt.
fn retyped_columns<'a>(
    from: &Catalog,
    to: &Catalog,
    rebuilt: impl Iterator<Item = &'a QName>,
    alters: impl Iterator<Item = &'a Vec<Change>>,
) -> BTreeSet<(QName, String)> {
    let mut out = BTreeSet::new();
    for changes in alters {
        for c in changes {
            if let Change::AlterTable { table, actions } = c {
                for a in actions {
                    match a {
                        TableAction::AlterColumnType { column, .. } => {
                            out.insert((table.clone(), column.clone()));
                        }
                        TableAction::DropColumn { column } => {
                            out.insert((table.clone(), column.name.clone()));
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    for e in rebuilt {
        for col in enum_columns(from, to, e) {
            out.insert((col.table, col.column));
        }
    }
    out
}

/// The columns of enum `e` that exist with that type both before and after.
fn enum_columns(from: &Catalog, to: &Catalog, e: &QName) -> Vec<changes::EnumColumn> {
    let mut out = Vec::new();
    for t in to.tables.values() {
        // The type first: most tables have no column of one enum, and finding the table
        // and the column before are searches by name.
        let mut of_e = t
            .columns
            .iter()
            .filter(|c| c.data_type.user_type.as_ref() == Some(e))
            .peekable();
        if of_e.peek().is_none() {
            continue;
        }
        let Some(before) = from.tables.get(&t.name) else {
            continue;
        };
        for c in of_e {
            let was = before
                .column(&c.name)
                .is_some_and(|b| b.data_type.user_type.as_ref() == Some(e));
            if was {
                out.push(changes::EnumColumn {
                    table: t.name.clone(),
                    column: c.name.clone(),
                    array: c.data_type.sql.ends_with("[]"),
                    data_type: c.data_type.sql.clone(),
                });
            }
        }
    }
    out
}

fn rebuild_enum(from: &Catalog, to: &Catalog, name: &QName, t: &Transition) -> Change {
    let old = &from.enums[name];
    let new = graph::Core(&to.enums[name]).owned();
    let mut removed = Vec::new();
    let mut replacements = Vec::new();
    for v in old.values.iter().filter(|v| !new.values.contains(v)) {
        match t.enum_replacements.get(&(name.clone(), v.clone())) {
            Some(r) => replacements.push((v.clone(), r.clone())),
            None => removed.push(v.clone()),
        }
    }
    Change::RebuildEnum {
        old_name: ident::truncated_with_suffix(&name.name, "__old"),
        columns: enum_columns(from, to, name),
        old_values: old.values.clone(),
        enum_type: Box::new(new),
        removed,
        replacements,
    }
}

/// Enum additions run before the layer's renames (they are committed first): name the enum
/// and the anchor values as they were before.
fn before_renames(change: &mut Change, renames: &[Rename]) {
    let Change::AddEnumValue {
        enum_name,
        before,
        after,
        ..
    } = change
    else {
        return;
    };
    for r in renames.iter().rev() {
        match r {
            Rename::EnumValue {
                enum_name: e,
                from,
                to,
            } if e == enum_name => {
                for anchor in [&mut *before, &mut *after].into_iter().flatten() {
                    if anchor == to {
                        anchor.clone_from(from);
                    }
                }
            }
            Rename::Enum { from, to } if to == enum_name => *enum_name = from.clone(),
            _ => {}
        }
    }
}

/// Whether `table.column` is new in an existing table and NOT NULL with a default, in which
/// case `ADD COLUMN` carries the default (existing rows need it).
fn added_with_default(
    from: &Catalog,
    to: &Catalog,
    table: &crate::catalog::QName,
    column: &str,
    table_altered: bool,
) -> bool {
    let existed = from
        .tables
        .get(table)
        .is_some_and(|t| t.column(column).is_none());
    existed
        && table_altered
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

fn cycle_error(cycle: &[&ObjectId], to: &Catalog) -> Diagnostics {
    let names: Vec<String> = cycle.iter().take(6).map(|id| describe(id)).collect();
    let help = if cycle.iter().all(|id| matches!(id, ObjectId::Rows(_))) {
        "declare the rows that others reference in an earlier layer, or insert them with `sql:`"
    } else {
        "break the cycle, e.g. make one of the functions PL/pgSQL (resolved at run time) instead of SQL"
    };
    Diagnostic::error(
        "E201",
        format!(
            "objects depend on each other in a cycle: {}",
            names.join(", ")
        ),
    )
    .at(cycle.iter().find_map(|id| origin_of(to, id)))
    .help(help)
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
        ObjectId::View(q) => format!("view `{q}`"),
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
        ObjectId::View(q) => format!("view {q}"),
        ObjectId::Policy(q, n) => format!("table {q} policy {n}"),
        ObjectId::Trigger(q, n) => format!("table {q} trigger {n}"),
        ObjectId::ColumnDefault(q, c) => format!("table {q} column {c}"),
        ObjectId::Check(q, n) | ObjectId::ForeignKey(q, n) => format!("table {q} constraint {n}"),
        ObjectId::Enum(q) => format!("type {q}"),
        ObjectId::Rows(k) => format!("table {}", k.table),
        _ => return None,
    };
    cat.origin(&key).cloned()
}

#[cfg(test)]
mod tests;
