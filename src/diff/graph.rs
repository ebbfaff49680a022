//! A catalog flattened into a graph of objects: each object has an identity, its own
//! definition (without its children, so a changed grant does not look like a changed table),
//! the objects it belongs to (`parents`: dropping one drops it silently), those it needs to
//! exist (`deps`: PostgreSQL records the dependency and refuses to drop them first), and those
//! it merely reads at run time (`after`: creation order only).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::catalog::*;

/// An object's identity: names borrowed from the catalog its graph is made of (building a
/// graph allocates no names).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectId<'a> {
    Role(&'a str),
    Membership {
        group: &'a str,
        member: &'a str,
    },
    Schema(&'a str),
    Extension(&'a str),
    DefaultPrivilege(&'a DefaultPrivilegeKey),
    Enum(&'a QName),
    Sequence(&'a QName),
    Table(&'a QName),
    Function(&'a FunctionKey),
    View(&'a QName),
    ColumnDefault(&'a QName, &'a str),
    Check(&'a QName, &'a str),
    Index(&'a QName, &'a str),
    ForeignKey(&'a QName, &'a str),
    Policy(&'a QName, &'a str),
    Trigger(&'a QName, &'a str),
    /// A grant on an object to a grantee, of the whole object or of one column.
    Grant(Box<ObjectId<'a>>, &'a str, Option<&'a str>),
    Comment(Box<ObjectId<'a>>),
    ColumnComment(&'a QName, &'a str),
    Rows(&'a RowKey),
}

/// Designates an object in `GRANT ... ON`, `COMMENT ON` and friends; templates render it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    /// `TABLE`, `SCHEMA`, `SEQUENCE`, `FUNCTION`, `TYPE`, `ROLE`, `COLUMN`, `POLICY`,
    /// `TRIGGER`, `CONSTRAINT` or `INDEX`.
    pub kind: &'static str,
    pub schema: Option<String>,
    pub name: String,
    /// Identity argument types of a function.
    pub args: Option<Vec<String>>,
    /// The table of a column, policy, trigger or constraint.
    pub table: Option<QName>,
}

/// A table without the parts that are objects of their own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableCore {
    pub name: QName,
    pub columns: Vec<ColumnCore>,
    pub primary_key: Option<KeyConstraint>,
    pub uniques: Vec<KeyConstraint>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ColumnCore {
    pub name: String,
    pub data_type: TypeRef,
    pub not_null: bool,
    pub identity: Option<String>,
}

/// An object of the graph: what it is in the catalog, borrowed (building a graph copies no
/// definitions; only the changes made from it own their data).
#[derive(Clone, Debug, PartialEq)]
pub enum Object<'a> {
    Role(Core<'a, Role>),
    Membership {
        group: &'a str,
        member: &'a str,
    },
    Schema(Core<'a, Schema>),
    Extension(&'a Extension),
    DefaultPrivilege(&'a DefaultPrivilege),
    Enum(Core<'a, Enum>),
    Sequence(Core<'a, Sequence>),
    Table(Core<'a, Table>),
    Function(Core<'a, Function>),
    ColumnDefault {
        table: &'a QName,
        column: &'a str,
        expr: &'a Expr,
    },
    Check {
        table: &'a QName,
        check: &'a Check,
    },
    Index {
        table: &'a QName,
        index: &'a Index,
    },
    ForeignKey {
        table: &'a QName,
        fk: &'a ForeignKey,
    },
    Policy {
        table: &'a QName,
        policy: &'a Policy,
    },
    Trigger {
        table: &'a QName,
        trigger: &'a Trigger,
    },
    /// The target is shared by the grants and comment of one object.
    Grant {
        target: Arc<Target>,
        grant: Grant,
    },
    Comment {
        target: Arc<Target>,
        text: &'a str,
    },
    Rows(&'a Row),
    View(Core<'a, View>),
}

/// An object without the parts that are objects of their own (its grants, comment,
/// memberships; for a table its defaults, constraints, indexes, policies, triggers, grants,
/// comments): two cores are equal when only those parts differ. `owned` copies the core out,
/// with those parts left empty.
#[derive(Clone, Copy, Debug)]
pub struct Core<'a, T>(pub &'a T);

impl<T> std::ops::Deref for Core<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}

// Each comparison names every field (a new one must be placed on one side or the other).
impl PartialEq for Core<'_, Role> {
    fn eq(&self, other: &Self) -> bool {
        let Role {
            name,
            login,
            inherit,
            bypassrls,
            createdb,
            createrole,
            connection_limit,
            password_env,
            member_of: _,
            comment: _,
        } = self.0;
        (
            name,
            login,
            inherit,
            bypassrls,
            createdb,
            createrole,
            connection_limit,
            password_env,
        ) == (
            &other.name,
            &other.login,
            &other.inherit,
            &other.bypassrls,
            &other.createdb,
            &other.createrole,
            &other.connection_limit,
            &other.password_env,
        )
    }
}

impl Core<'_, Role> {
    pub fn owned(&self) -> Role {
        Role {
            member_of: BTreeSet::new(),
            comment: None,
            ..self.0.clone()
        }
    }
}

impl PartialEq for Core<'_, Schema> {
    fn eq(&self, other: &Self) -> bool {
        let Schema {
            name,
            created,
            owner,
            revoke_public,
            grants: _,
            comment: _,
        } = self.0;
        (name, created, owner, revoke_public)
            == (
                &other.name,
                &other.created,
                &other.owner,
                &other.revoke_public,
            )
    }
}

impl Core<'_, Schema> {
    pub fn owned(&self) -> Schema {
        Schema {
            grants: Vec::new(),
            comment: None,
            ..self.0.clone()
        }
    }
}

impl PartialEq for Core<'_, Enum> {
    fn eq(&self, other: &Self) -> bool {
        let Enum {
            name,
            values,
            comment: _,
        } = self.0;
        (name, values) == (&other.name, &other.values)
    }
}

impl Core<'_, Enum> {
    pub fn owned(&self) -> Enum {
        Enum {
            comment: None,
            ..self.0.clone()
        }
    }
}

impl PartialEq for Core<'_, Sequence> {
    fn eq(&self, other: &Self) -> bool {
        let Sequence {
            name,
            data_type,
            start,
            increment,
            grants: _,
            comment: _,
        } = self.0;
        (name, data_type, start, increment)
            == (
                &other.name,
                &other.data_type,
                &other.start,
                &other.increment,
            )
    }
}

impl Core<'_, Sequence> {
    pub fn owned(&self) -> Sequence {
        Sequence {
            grants: Vec::new(),
            comment: None,
            ..self.0.clone()
        }
    }
}

impl PartialEq for Core<'_, Function> {
    fn eq(&self, other: &Self) -> bool {
        let Function {
            name,
            overload,
            args,
            returns,
            language,
            volatility,
            strict,
            security_definer,
            search_path,
            owner,
            revoke_public,
            grants: _,
            comment: _,
            body,
            body_refs,
        } = self.0;
        name == &other.name
            && overload == &other.overload
            && args == &other.args
            && returns == &other.returns
            && language == &other.language
            && volatility == &other.volatility
            && strict == &other.strict
            && security_definer == &other.security_definer
            && search_path == &other.search_path
            && owner == &other.owner
            && revoke_public == &other.revoke_public
            && body == &other.body
            && body_refs == &other.body_refs
    }
}

impl Core<'_, Function> {
    pub fn owned(&self) -> Function {
        Function {
            grants: Vec::new(),
            comment: None,
            ..self.0.clone()
        }
    }
}

impl PartialEq for Core<'_, View> {
    fn eq(&self, other: &Self) -> bool {
        let View {
            name,
            query,
            security_invoker,
            security_barrier,
            grants: _,
            comment: _,
        } = self.0;
        (name, query, security_invoker, security_barrier)
            == (
                &other.name,
                &other.query,
                &other.security_invoker,
                &other.security_barrier,
            )
    }
}

impl Core<'_, View> {
    pub fn owned(&self) -> View {
        View {
            grants: Vec::new(),
            comment: None,
            ..self.0.clone()
        }
    }
}

impl PartialEq for Core<'_, Table> {
    fn eq(&self, other: &Self) -> bool {
        let Table {
            name,
            columns,
            primary_key,
            uniques,
            checks: _,
            foreign_keys: _,
            indexes: _,
            rls_enabled,
            rls_forced,
            policies: _,
            grants: _,
            triggers: _,
            comment: _,
        } = self.0;
        name == &other.name
            && columns.len() == other.columns.len()
            && columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| column_core_eq(a, b))
            && primary_key == &other.primary_key
            && uniques == &other.uniques
            && rls_enabled == &other.rls_enabled
            && rls_forced == &other.rls_forced
    }
}

fn column_core_eq(a: &Column, b: &Column) -> bool {
    let Column {
        name,
        data_type,
        not_null,
        identity,
        default: _,
        comment: _,
    } = a;
    (name, data_type, not_null, identity) == (&b.name, &b.data_type, &b.not_null, &b.identity)
}

impl Core<'_, Table> {
    pub fn owned(&self) -> TableCore {
        let t = self.0;
        TableCore {
            name: t.name.clone(),
            columns: t.columns.iter().map(ColumnCore::of).collect(),
            primary_key: t.primary_key.clone(),
            uniques: t.uniques.clone(),
            rls_enabled: t.rls_enabled,
            rls_forced: t.rls_forced,
        }
    }
}

impl ColumnCore {
    pub fn of(c: &Column) -> ColumnCore {
        ColumnCore {
            name: c.name.clone(),
            data_type: c.data_type.clone(),
            not_null: c.not_null,
            identity: c.identity.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub object: Object<'a>,
    pub parents: Vec<ObjectId<'a>>,
    pub deps: Vec<ObjectId<'a>>,
    pub after: Vec<ObjectId<'a>>,
}

/// The objects of a catalog in identity order, each once: one list per kind of identity,
/// the kinds in identity order (see `ObjectId::kind`), so that the lists the builder sorted
/// are the graph, not copied into one.
#[derive(Debug)]
pub struct Graph<'a> {
    kinds: Vec<Vec<(ObjectId<'a>, Node<'a>)>>,
}

impl<'a> Graph<'a> {
    pub fn len(&self) -> usize {
        self.kinds.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.kinds.iter().all(Vec::is_empty)
    }

    pub fn get(&self, id: &ObjectId<'_>) -> Option<&Node<'a>> {
        let kind = &self.kinds[id.kind()];
        kind.binary_search_by(|(k, _)| k.cmp(id))
            .ok()
            .map(|i| &kind[i].1)
    }

    pub fn contains_key(&self, id: &ObjectId<'_>) -> bool {
        self.get(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ObjectId<'a>, &Node<'a>)> {
        self.into_iter()
    }
}

impl<'a> std::ops::Index<&ObjectId<'_>> for Graph<'a> {
    type Output = Node<'a>;
    /// The object `id`, which must be in the graph.
    fn index(&self, id: &ObjectId<'_>) -> &Node<'a> {
        self.get(id).expect("an object of this graph")
    }
}

type Entry<'a> = (ObjectId<'a>, Node<'a>);

impl<'g, 'a> IntoIterator for &'g Graph<'a> {
    type Item = (&'g ObjectId<'a>, &'g Node<'a>);
    type IntoIter = std::iter::Map<
        std::iter::Flatten<std::slice::Iter<'g, Vec<Entry<'a>>>>,
        fn(&'g Entry<'a>) -> (&'g ObjectId<'a>, &'g Node<'a>),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.kinds.iter().flatten().map(|(k, n)| (k, n))
    }
}

/// A graph being built: objects go into one list per kind of identity, and `graph` inserts
/// them kind by kind in identity order (tables by name, and so their parts, their grants
/// and comments by owner), so each list is nearly sorted already: only the parts of one
/// owner come in declaration order. Sorting it costs little more than a pass (see
/// [`sort_nearly_sorted`]), where a map would compare every identity with a dozen others.
struct Builder<'a> {
    kinds: Vec<Vec<(ObjectId<'a>, Node<'a>)>>,
}

/// How many objects of one kind a table holds.
type PerTable = fn(&Table) -> usize;

impl<'a> Builder<'a> {
    fn new() -> Builder<'a> {
        Builder {
            kinds: (0..ObjectId::KINDS).map(|_| Vec::new()).collect(),
        }
    }

    /// Room for the tables of `cat` and their parts, the most numerous objects, so that
    /// their lists do not grow by copying.
    fn reserve_tables(&mut self, cat: &'a Catalog) {
        let Some(q) = cat.tables.keys().next() else {
            return;
        };
        // Each kind (named by an identity of it) with the number of them a table has.
        let table = || Box::new(ObjectId::Table(q));
        let parts: [(ObjectId<'a>, PerTable); 10] = [
            (ObjectId::Table(q), |_| 1),
            (ObjectId::ColumnDefault(q, ""), |t| {
                t.columns.iter().filter(|c| c.default.is_some()).count()
            }),
            (ObjectId::ColumnComment(q, ""), |t| {
                t.columns.iter().filter(|c| c.comment.is_some()).count()
            }),
            (ObjectId::Check(q, ""), |t| t.checks.len()),
            (ObjectId::Index(q, ""), |t| t.indexes.len()),
            (ObjectId::ForeignKey(q, ""), |t| t.foreign_keys.len()),
            (ObjectId::Policy(q, ""), |t| t.policies.len()),
            (ObjectId::Trigger(q, ""), |t| t.triggers.len()),
            (ObjectId::Grant(table(), "", None), |t| {
                t.grants.iter().map(|g| g.columns.len().max(1)).sum()
            }),
            (ObjectId::Comment(table()), |t| {
                usize::from(t.comment.is_some())
            }),
        ];
        for (id, per_table) in parts {
            let n = cat.tables.values().map(|t| per_table(t)).sum();
            self.kinds[id.kind()].reserve(n);
        }
    }

    fn insert(&mut self, id: ObjectId<'a>, node: Node<'a>) {
        self.kinds[id.kind()].push((id, node));
    }

    /// The graph, in identity order; of objects inserted twice, the last one (as a map
    /// keeps them).
    fn finish(mut self) -> Graph<'a> {
        for kind in &mut self.kinds {
            // Stable: of equal identities, the one inserted last stays last, and takes the
            // place of the first.
            sort_nearly_sorted(kind);
            kind.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        let graph = Graph { kinds: self.kinds };
        debug_assert!({
            let ids: Vec<_> = graph.iter().map(|(id, _)| id).collect();
            ids.windows(2).all(|w| w[0] < w[1])
        });
        graph
    }
}

/// Sort `list` by identity, stably, when each entry is at most a few places from its own:
/// by insertion, which then costs a comparison or two an entry. The standard sort would
/// find no long runs in such a list (a table's indexes or grants break it every few
/// entries) and sort it all again. An entry further away makes it fall back to that sort.
fn sort_nearly_sorted<T>(list: &mut [(ObjectId<'_>, T)]) {
    const REACH: usize = 32;
    for i in 1..list.len() {
        let mut j = i;
        // Strictly less: equal identities keep their order.
        while j > 0 && list[j].0 < list[j - 1].0 {
            if i - j == REACH {
                // The entries moved so far kept the order of equal ones: the result is
                // the same as sorting the list as it came.
                list.sort_by(|a, b| a.0.cmp(&b.0));
                return;
            }
            list.swap(j, j - 1);
            j -= 1;
        }
    }
}

impl ObjectId<'_> {
    const KINDS: usize = 20;
    /// The first kind that is a part of a table (`ColumnDefault`) or of another object
    /// (grants, comments, rows): the kinds before it are whole objects.
    pub(super) const FIRST_PART: usize = 10;

    /// The identity's variant, numbered in declaration order (which derived `Ord` follows).
    pub(super) fn kind(&self) -> usize {
        match self {
            ObjectId::Role(_) => 0,
            ObjectId::Membership { .. } => 1,
            ObjectId::Schema(_) => 2,
            ObjectId::Extension(_) => 3,
            ObjectId::DefaultPrivilege(_) => 4,
            ObjectId::Enum(_) => 5,
            ObjectId::Sequence(_) => 6,
            ObjectId::Table(_) => 7,
            ObjectId::Function(_) => 8,
            ObjectId::View(_) => 9,
            ObjectId::ColumnDefault(..) => 10,
            ObjectId::Check(..) => 11,
            ObjectId::Index(..) => 12,
            ObjectId::ForeignKey(..) => 13,
            ObjectId::Policy(..) => 14,
            ObjectId::Trigger(..) => 15,
            ObjectId::Grant(..) => 16,
            ObjectId::Comment(_) => 17,
            ObjectId::ColumnComment(..) => 18,
            ObjectId::Rows(_) => 19,
        }
    }
}

fn node(object: Object<'_>) -> Node<'_> {
    Node {
        object,
        parents: Vec::new(),
        deps: Vec::new(),
        after: Vec::new(),
    }
}

/// Flatten a catalog into its object graph.
pub fn graph<'a>(cat: &'a Catalog) -> Graph<'a> {
    let mut g = Builder::new();
    g.reserve_tables(cat);
    let schema_dep = |s: &'a str| ObjectId::Schema(s);
    let type_deps = |t: &'a TypeRef| -> Vec<ObjectId<'a>> {
        match &t.user_type {
            Some(q) if cat.enums.contains_key(q) => vec![ObjectId::Enum(q)],
            Some(q) if cat.tables.contains_key(q) => vec![ObjectId::Table(q)],
            _ => Vec::new(),
        }
    };
    // The overloads of each function name: a policy's or trigger's reference names no
    // argument types, and there are thousands of them for a few dozen functions.
    let mut overloads: BTreeMap<&'a QName, Vec<ObjectId<'a>>> = BTreeMap::new();
    for k in cat.functions.keys() {
        overloads
            .entry(&k.name)
            .or_default()
            .push(ObjectId::Function(k));
    }
    let fn_ids =
        |name: &QName| -> Vec<ObjectId<'a>> { overloads.get(name).cloned().unwrap_or_default() };
    let refs_deps = |refs: &'a Refs| -> Vec<ObjectId<'a>> {
        let mut out = Vec::new();
        for r in &refs.relations {
            if cat.tables.contains_key(r) {
                out.push(ObjectId::Table(r));
            } else if cat.sequences.contains_key(r) {
                out.push(ObjectId::Sequence(r));
            } else if cat.views.contains_key(r) {
                out.push(ObjectId::View(r));
            }
        }
        for f in &refs.functions {
            out.extend(fn_ids(f));
        }
        for t in &refs.types {
            if cat.enums.contains_key(t) {
                out.push(ObjectId::Enum(t));
            }
        }
        out
    };
    let role_dep = |r: &'a str| -> Vec<ObjectId<'a>> {
        if cat.roles.contains_key(r) {
            vec![ObjectId::Role(r)]
        } else {
            Vec::new()
        }
    };
    let add_grants =
        |g: &mut Builder<'a>, owner: &ObjectId<'a>, target: &Arc<Target>, grants: &'a [Grant]| {
            for (grantee, column, grant) in per_column(grants) {
                let mut n = node(Object::Grant {
                    target: Arc::clone(target),
                    grant,
                });
                n.parents.push(owner.clone());
                n.deps.extend(role_dep(grantee));
                g.insert(ObjectId::Grant(Box::new(owner.clone()), grantee, column), n);
            }
        };
    let add_comment = |g: &mut Builder<'a>,
                       owner: &ObjectId<'a>,
                       target: Arc<Target>,
                       text: &'a Option<String>| {
        if let Some(text) = text {
            let mut n = node(Object::Comment { target, text });
            n.parents.push(owner.clone());
            g.insert(ObjectId::Comment(Box::new(owner.clone())), n);
        }
    };

    for role in cat.roles.values() {
        let id = ObjectId::Role(&role.name);
        g.insert(id.clone(), node(Object::Role(Core(role))));
        add_comment(
            &mut g,
            &id,
            Arc::new(target("ROLE", None, &role.name)),
            &role.comment,
        );
        for group in &role.member_of {
            let mut n = node(Object::Membership {
                group,
                member: &role.name,
            });
            n.parents.push(id.clone());
            n.deps.extend(role_dep(group));
            n.parents.extend(role_dep(group));
            g.insert(
                ObjectId::Membership {
                    group,
                    member: &role.name,
                },
                n,
            );
        }
    }
    for s in cat.schemas.values() {
        let id = ObjectId::Schema(&s.name);
        let mut n = node(Object::Schema(Core(s)));
        if let Some(o) = &s.owner {
            n.deps.extend(role_dep(o));
        }
        g.insert(id.clone(), n);
        let target = Arc::new(target("SCHEMA", None, &s.name));
        add_grants(&mut g, &id, &target, &s.grants);
        add_comment(&mut g, &id, target, &s.comment);
    }
    let in_schema = |s: &'a str| -> Vec<ObjectId<'a>> {
        if cat.schemas.contains_key(s) {
            vec![schema_dep(s)]
        } else {
            Vec::new()
        }
    };
    for e in cat.extensions.values() {
        let mut n = node(Object::Extension(e));
        if let Some(s) = &e.schema {
            n.deps.extend(in_schema(s));
        }
        g.insert(ObjectId::Extension(&e.name), n);
    }
    for dp in cat.default_privileges.values() {
        let mut n = node(Object::DefaultPrivilege(dp));
        n.deps.extend(role_dep(&dp.key.for_role));
        n.deps.extend(role_dep(&dp.key.grantee));
        if let Some(s) = &dp.key.in_schema {
            n.deps.extend(in_schema(s));
        }
        g.insert(ObjectId::DefaultPrivilege(&dp.key), n);
    }
    for e in cat.enums.values() {
        let id = ObjectId::Enum(&e.name);
        let mut n = node(Object::Enum(Core(e)));
        n.deps.extend(in_schema(&e.name.schema));
        g.insert(id.clone(), n);
        add_comment(&mut g, &id, Arc::new(qtarget("TYPE", &e.name)), &e.comment);
    }
    for s in cat.sequences.values() {
        let id = ObjectId::Sequence(&s.name);
        let mut n = node(Object::Sequence(Core(s)));
        n.deps.extend(in_schema(&s.name.schema));
        g.insert(id.clone(), n);
        let target = Arc::new(qtarget("SEQUENCE", &s.name));
        add_grants(&mut g, &id, &target, &s.grants);
        add_comment(&mut g, &id, target, &s.comment);
    }
    for t in cat.tables.values() {
        let tq = &t.name;
        let id = ObjectId::Table(tq);
        let mut n = node(Object::Table(Core(t)));
        n.deps.extend(in_schema(&t.name.schema));
        for c in &t.columns {
            n.deps
                .extend(type_deps(&c.data_type).into_iter().filter(|d| d != &id));
        }
        g.insert(id.clone(), n);
        let child = |object: Object<'a>, deps: Vec<ObjectId<'a>>| Node {
            object,
            parents: vec![id.clone()],
            deps,
            after: Vec::new(),
        };
        for c in &t.columns {
            if let Some(expr) = &c.default {
                // A default is cast to its column's type: it needs that type as it is now.
                let mut deps = refs_deps(&expr.refs);
                deps.extend(type_deps(&c.data_type).into_iter().filter(|d| d != &id));
                g.insert(
                    ObjectId::ColumnDefault(tq, &c.name),
                    child(
                        Object::ColumnDefault {
                            table: &t.name,
                            column: &c.name,
                            expr,
                        },
                        deps,
                    ),
                );
            }
            if let Some(text) = &c.comment {
                let mut target = qtarget("COLUMN", &t.name);
                target.name = c.name.clone();
                target.table = Some(t.name.clone());
                g.insert(
                    ObjectId::ColumnComment(tq, &c.name),
                    child(
                        Object::Comment {
                            target: Arc::new(target),
                            text,
                        },
                        Vec::new(),
                    ),
                );
            }
        }
        for c in &t.checks {
            g.insert(
                ObjectId::Check(tq, &c.name),
                child(
                    Object::Check {
                        table: &t.name,
                        check: c,
                    },
                    refs_deps(&c.expr.refs),
                ),
            );
        }
        for i in &t.indexes {
            let deps = i
                .predicate
                .as_ref()
                .map(|p| refs_deps(&p.refs))
                .unwrap_or_default();
            g.insert(
                ObjectId::Index(tq, &i.name),
                child(
                    Object::Index {
                        table: &t.name,
                        index: i,
                    },
                    deps,
                ),
            );
        }
        for fk in &t.foreign_keys {
            let mut deps = Vec::new();
            if cat.tables.contains_key(&fk.ref_table) && fk.ref_table != t.name {
                deps.push(ObjectId::Table(&fk.ref_table));
            }
            g.insert(
                ObjectId::ForeignKey(tq, &fk.name),
                child(Object::ForeignKey { table: &t.name, fk }, deps),
            );
        }
        for p in &t.policies {
            let mut deps: Vec<ObjectId> = p
                .using
                .iter()
                .chain(p.with_check.iter())
                .flat_map(|e| refs_deps(&e.refs))
                .collect();
            deps.retain(|d| d != &id);
            for r in &p.roles {
                deps.extend(role_dep(r));
            }
            g.insert(
                ObjectId::Policy(tq, &p.name),
                child(
                    Object::Policy {
                        table: &t.name,
                        policy: p,
                    },
                    deps,
                ),
            );
        }
        for tr in &t.triggers {
            let mut deps: Vec<ObjectId> = fn_ids(&tr.function.name);
            if let Some(w) = &tr.when {
                deps.extend(refs_deps(&w.refs));
            }
            deps.retain(|d| d != &id);
            g.insert(
                ObjectId::Trigger(tq, &tr.name),
                child(
                    Object::Trigger {
                        table: &t.name,
                        trigger: tr,
                    },
                    deps,
                ),
            );
        }
        let target = Arc::new(qtarget("TABLE", &t.name));
        add_grants(&mut g, &id, &target, &t.grants);
        add_comment(&mut g, &id, target, &t.comment);
    }
    for (key, f) in &cat.functions {
        let id = ObjectId::Function(key);
        let mut n = node(Object::Function(Core(f)));
        n.deps.extend(in_schema(&f.name.schema));
        for a in &f.args {
            n.deps.extend(type_deps(&a.data_type));
            if let Some(d) = &a.default {
                n.deps.extend(refs_deps(&d.refs));
            }
        }
        match &f.returns {
            Returns::Type(t) | Returns::SetOf(t) => n.deps.extend(type_deps(t)),
            Returns::Table(cols) => cols
                .iter()
                .for_each(|c| n.deps.extend(type_deps(&c.data_type))),
            Returns::Trigger | Returns::Void => {}
        }
        if let Some(o) = &f.owner {
            n.deps.extend(role_dep(o));
        }
        if f.language == "sql" {
            n.after
                .extend(refs_deps(&f.body_refs).into_iter().filter(|d| d != &id));
        }
        g.insert(id.clone(), n);
        let t = Arc::new(function_target(f));
        add_grants(&mut g, &id, &t, &f.grants);
        add_comment(&mut g, &id, t, &f.comment);
    }
    for v in cat.views.values() {
        let id = ObjectId::View(&v.name);
        let mut n = node(Object::View(Core(v)));
        n.deps.extend(in_schema(&v.name.schema));
        n.deps
            .extend(refs_deps(&v.query.refs).into_iter().filter(|d| d != &id));
        g.insert(id.clone(), n);
        add_grants(&mut g, &id, &Arc::new(qtarget("TABLE", &v.name)), &v.grants);
        add_comment(&mut g, &id, Arc::new(qtarget("VIEW", &v.name)), &v.comment);
    }
    // Rows go in after the rows of the tables their table references, and out before them.
    let mut fk_targets: BTreeMap<&QName, Vec<&QName>> = BTreeMap::new();
    for t in cat.tables.values() {
        for fk in &t.foreign_keys {
            if fk.ref_table != t.name {
                fk_targets.entry(&t.name).or_default().push(&fk.ref_table);
            }
        }
    }
    for row in cat.rows.values() {
        let mut n = node(Object::Rows(row));
        n.parents.push(ObjectId::Table(&row.key.table));
        for target in fk_targets.get(&row.key.table).into_iter().flatten() {
            // Tables that reference each other (or themselves) have no order between their
            // rows: such rows must not point at rows inserted later (NULL, or in raw SQL).
            if reaches(&fk_targets, target, &row.key.table) {
                continue;
            }
            n.after.extend(
                cat.rows
                    .keys()
                    .filter(|k| &&k.table == target)
                    .map(ObjectId::Rows),
            );
        }
        g.insert(ObjectId::Rows(&row.key), n);
    }
    g.finish()
}

/// Whether following foreign keys from `from` leads to `to` (or `from` is `to`).
fn reaches(fk_targets: &BTreeMap<&QName, Vec<&QName>>, from: &QName, to: &QName) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(t) = stack.pop() {
        if t == to {
            return true;
        }
        if seen.insert(t) {
            stack.extend(fk_targets.get(t).into_iter().flatten().copied());
        }
    }
    false
}

fn target(kind: &'static str, schema: Option<&str>, name: &str) -> Target {
    Target {
        kind,
        schema: schema.map(str::to_string),
        name: name.to_string(),
        args: None,
        table: None,
    }
}

fn qtarget(kind: &'static str, q: &QName) -> Target {
    target(kind, Some(&q.schema), &q.name)
}

pub fn function_target(f: &Function) -> Target {
    let mut t = qtarget("FUNCTION", &f.name);
    t.args = Some(f.identity_types());
    t
}

/// Grants as PostgreSQL keeps them: a table-level grant per grantee, and column privileges
/// per grantee and column (`SELECT (a)` and `SELECT (a, b)` share the column `a`, and
/// revoking one must not take the other's away). The diff merges what it emits again.
fn per_column<'a>(grants: &'a [Grant]) -> Vec<(&'a str, Option<&'a str>, Grant)> {
    let mut out: Vec<(&str, Option<&str>, Grant)> = Vec::new();
    let mut add =
        |grantee: &'a str, column: Option<&'a String>, privileges: &BTreeSet<Privilege>| match out
            .iter_mut()
            .find(|(g, c, _)| *g == grantee && *c == column.map(String::as_str))
        {
            Some((_, _, g)) => g.privileges.extend(privileges.iter().copied()),
            None => out.push((
                grantee,
                column.map(String::as_str),
                Grant {
                    grantee: grantee.to_string(),
                    privileges: privileges.clone(),
                    columns: column.into_iter().cloned().collect(),
                },
            )),
        };
    for g in grants {
        if g.columns.is_empty() {
            add(&g.grantee, None, &g.privileges);
        } else {
            for c in &g.columns {
                add(&g.grantee, Some(c), &g.privileges);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearly_sorted_lists_sort_as_the_stable_sort_does() {
        // Names from a few letters, so identities repeat; the payload tells equal ones apart.
        let mut seed = 7u32;
        let mut next = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            seed >> 16
        };
        let names: Vec<String> = (0..100).map(|i| format!("r{i:03}")).collect();
        type List<'n> = Vec<(ObjectId<'n>, usize)>;
        let list = |n: usize, shuffle: &mut dyn FnMut(&mut List)| {
            let mut v: List = (0..n).map(|i| (ObjectId::Role(&names[i / 3]), i)).collect();
            shuffle(&mut v);
            v
        };
        let mut local = |v: &mut List| {
            // Entries a few places from their own, as a table's parts are.
            for i in 0..v.len().saturating_sub(5) {
                let j = i + (next() as usize % 5);
                v.swap(i, j);
            }
        };
        let mut far = |v: &mut List| {
            // The last entry belongs first: the insertion gives up and the full sort runs.
            let last = v.pop().expect("non-empty");
            v.insert(0, last);
            v.reverse();
        };
        for mut v in [
            list(300, &mut local),
            list(300, &mut far),
            list(1, &mut |_| {}),
        ] {
            let mut expected = v.clone();
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            sort_nearly_sorted(&mut v);
            assert_eq!(v, expected);
        }
    }

    /// One identity of every kind, with names that sort against kind order (`z` first).
    fn one_of_each() -> Vec<ObjectId<'static>> {
        // Identities borrow their names: these live as long as the test process.
        fn leak<T>(t: T) -> &'static T {
            Box::leak(Box::new(t))
        }
        let q = leak(QName::new("z", "z"));
        let table = ObjectId::Table(q);
        vec![
            ObjectId::Role("z"),
            ObjectId::Membership {
                group: "z",
                member: "z",
            },
            ObjectId::Schema("z"),
            ObjectId::Extension("z"),
            ObjectId::DefaultPrivilege(leak(DefaultPrivilegeKey {
                for_role: "z".into(),
                in_schema: None,
                object_type: "TABLES".into(),
                grantee: "z".into(),
            })),
            ObjectId::Enum(q),
            ObjectId::Sequence(q),
            table.clone(),
            ObjectId::Function(leak(FunctionKey {
                name: QName::new("z", "z"),
                overload: None,
            })),
            ObjectId::View(q),
            ObjectId::ColumnDefault(q, "z"),
            ObjectId::Check(q, "z"),
            ObjectId::Index(q, "z"),
            ObjectId::ForeignKey(q, "z"),
            ObjectId::Policy(q, "z"),
            ObjectId::Trigger(q, "z"),
            ObjectId::Grant(Box::new(table.clone()), "z", None),
            ObjectId::Comment(Box::new(table)),
            ObjectId::ColumnComment(q, "z"),
            ObjectId::Rows(leak(RowKey {
                table: QName::new("z", "z"),
                key: Vec::new(),
            })),
        ]
    }

    #[test]
    fn kinds_are_numbered_in_identity_order() {
        let ids = one_of_each();
        assert_eq!(ids.len(), ObjectId::KINDS);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(id.kind(), i, "{id:?}");
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(
            sorted, ids,
            "variants sort in the order `kind` numbers them"
        );
        // The numbering hashes the whole objects and searches the parts.
        assert!(matches!(
            ids[ObjectId::FIRST_PART],
            ObjectId::ColumnDefault(..)
        ));
        assert!(matches!(ids[ObjectId::FIRST_PART - 1], ObjectId::View(_)));
    }

    #[test]
    fn a_built_graph_is_in_identity_order_and_keeps_the_last_of_duplicates() {
        let tables = [QName::new("s", "a"), QName::new("s", "b")];
        let role = |n: &'static str| ObjectId::Role(n);
        let policy = |t: &str, n: &'static str| {
            ObjectId::Policy(tables.iter().find(|q| q.name == t).expect("a or b"), n)
        };
        let text = |s: &'static str| Object::Membership {
            group: s,
            member: s,
        };
        let mut b = Builder::new();
        for (id, label) in [
            (policy("b", "y"), "by"),
            (role("r2"), "r2"),
            (policy("b", "x"), "bx"),
            (policy("a", "z"), "az"),
            (role("r1"), "r1"),
            (policy("b", "x"), "bx again"),
        ] {
            b.insert(id, node(text(label)));
        }
        let g = b.finish();
        let got: Vec<(&ObjectId, &Object)> = g.iter().map(|(k, n)| (k, &n.object)).collect();
        let want_ids = [
            role("r1"),
            role("r2"),
            policy("a", "z"),
            policy("b", "x"),
            policy("b", "y"),
        ];
        let want_labels = ["r1", "r2", "az", "bx again", "by"];
        assert_eq!(got.len(), want_ids.len());
        for ((id, object), (want_id, label)) in got.iter().zip(want_ids.iter().zip(want_labels)) {
            assert_eq!(*id, want_id);
            assert_eq!(**object, text(label));
        }
        assert!(g.contains_key(&policy("b", "y")));
        assert!(!g.contains_key(&policy("b", "z")));
        assert_eq!(g[&role("r2")].object, text("r2"));
    }
}
