//! Which objects of two states differ, and which reference what differs.
//!
//! States of a project share almost everything (see the module documentation of
//! [`crate::catalog`]): a layer adds or changes a few tables of thousands. Work that only
//! matters where two states differ (validating a layer's result, diffing two states) asks
//! this module which tables and views can be concerned, instead of visiting all of them.
//!
//! An object is *hot* when it differs between the two states (created, dropped or changed:
//! shared objects are told apart by pointer; a function whose new version `CREATE OR
//! REPLACE` can install is not, its callers are unaffected), and so is every function or
//! view that references something hot, to a fixpoint (it may have to be re-created with it: a function
//! taking a rebuilt enum, a view reading a retyped column). The *affected* tables and views
//! are the hot ones and those that reference something hot. Any other table is identical in
//! both states and nothing it references changed.
//!
//! Which tables reference something comes from [`Referrers`], an index by name that the fold
//! keeps up to date layer by layer (so a layer's cost follows what it changes), or, for two
//! arbitrary states, from visiting every table.
//!
//! The references followed are those `diff::graph` records as parents and dependencies of a
//! table's nodes, of functions and of views (not their grants: a grant belongs to its
//! object; only a table's grants are followed, to their roles).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use foldhash::fast::FixedState;

use super::{Catalog, Column, Expr, Function, QName, Refs, Returns, Table, TypeRef, View};

/// The tables and views whose handling can differ between two states, and what is hot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Affected {
    pub tables: BTreeSet<QName>,
    pub views: BTreeSet<QName>,
    pub hot: Hot,
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hot {
    schemas: BTreeSet<String>,
    relations: BTreeSet<QName>,
    functions: BTreeSet<QName>,
    /// Enums, and tables (as types).
    pub types: BTreeSet<QName>,
    roles: BTreeSet<String>,
}

impl Hot {
    fn hit(&self, r: Ref<'_>) -> bool {
        match r {
            Ref::Schema(s) => self.schemas.contains(s),
            Ref::Relation(q) => self.relations.contains(q),
            Ref::Function(q) => self.functions.contains(q),
            Ref::Type(q) => self.types.contains(q),
            Ref::Role(r) => self.roles.contains(r),
        }
    }
}

/// Which tables name each schema, relation, function, type and role (whether it exists or
/// not), as [`table_refs`] reads them, and how many take each relation name. A fast hash: the
/// names are the project's own.
#[derive(Clone, Debug, Default)]
pub struct Referrers {
    schemas: ByName<String>,
    relations: ByName<QName>,
    functions: ByName<QName>,
    types: ByName<QName>,
    roles: ByName<String>,
    /// How many of the tables take each name of their schema's relation namespace
    /// ([`Table::relation_names`]): the namespace check looks up the names a layer touches
    /// instead of counting every table's names again.
    relation_names: HashMap<QName, u32, FixedState>,
}

/// The tables naming each name: hashed, as thousands of tables name the same schema or role,
/// and a table names most of them more than once.
type ByName<K> = HashMap<K, Tables, FixedState>;
type Tables = HashSet<QName, FixedState>;

impl Referrers {
    /// The index of every table of `cat`.
    pub fn of(cat: &Catalog) -> Referrers {
        let mut r = Referrers::default();
        for t in cat.tables.values() {
            r.add(t);
        }
        r
    }

    /// Bring an index of `prev` to `next`: only the tables that differ are visited.
    pub fn advance(&mut self, prev: &Catalog, next: &Catalog) {
        merge_join(&prev.tables, &next.tables, |_, a, b| {
            if let Some(a) = a {
                self.remove(a);
            }
            if let Some(b) = b {
                self.add(b);
            }
        });
    }

    /// How many tables of the indexed state take `name` in `schema`'s relation namespace.
    pub fn relation_name_uses(&self, schema: &str, name: &str) -> u32 {
        let q = QName {
            schema: schema.into(),
            name: name.into(),
        };
        self.relation_names.get(&q).copied().unwrap_or(0)
    }

    fn add(&mut self, t: &Table) {
        for name in t.relation_names() {
            *self
                .relation_names
                .entry(QName {
                    schema: t.name.schema.clone(),
                    name: name.into(),
                })
                .or_default() += 1;
        }
        table_refs(t, |r| {
            let tables = match r {
                Ref::Schema(s) => entry(&mut self.schemas, s),
                Ref::Relation(q) => entry(&mut self.relations, q),
                Ref::Function(q) => entry(&mut self.functions, q),
                Ref::Type(q) => entry(&mut self.types, q),
                Ref::Role(s) => entry(&mut self.roles, s),
            };
            // Copied once per name, not once per reference.
            if !tables.contains(&t.name) {
                tables.insert(t.name.clone());
            }
            false
        });
    }

    fn remove(&mut self, t: &Table) {
        for name in t.relation_names() {
            let q = QName {
                schema: t.name.schema.clone(),
                name: name.into(),
            };
            if let Some(n) = self.relation_names.get_mut(&q) {
                *n -= 1;
                if *n == 0 {
                    self.relation_names.remove(&q);
                }
            }
        }
        table_refs(t, |r| {
            let set = match r {
                Ref::Schema(s) => self.schemas.get_mut(s),
                Ref::Relation(q) => self.relations.get_mut(q),
                Ref::Function(q) => self.functions.get_mut(q),
                Ref::Type(q) => self.types.get_mut(q),
                Ref::Role(s) => self.roles.get_mut(s),
            };
            if let Some(set) = set {
                set.remove(&t.name);
            }
            false
        });
    }

    /// The tables that reference something hot.
    fn referring(&self, hot: &Hot) -> BTreeSet<&QName> {
        let mut out = BTreeSet::new();
        for s in &hot.schemas {
            out.extend(self.schemas.get(s).into_iter().flatten());
        }
        for q in &hot.relations {
            out.extend(self.relations.get(q).into_iter().flatten());
        }
        for q in &hot.functions {
            out.extend(self.functions.get(q).into_iter().flatten());
        }
        for q in &hot.types {
            out.extend(self.types.get(q).into_iter().flatten());
        }
        for r in &hot.roles {
            out.extend(self.roles.get(r).into_iter().flatten());
        }
        out
    }
}

fn entry<'m, K, Q>(map: &'m mut ByName<K>, key: &Q) -> &'m mut Tables
where
    K: Hash + Eq + std::borrow::Borrow<Q>,
    Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
{
    if !map.contains_key(key) {
        map.insert(key.to_owned(), Tables::default());
    }
    map.get_mut(key).expect("just inserted")
}

/// Call `f` for every key whose values differ between `a` and `b` (shared values compare by
/// pointer first), with the value on each side, walking both maps in order once.
pub fn merge_join<'a, K: Ord, V: PartialEq>(
    a: &'a BTreeMap<K, V>,
    b: &'a BTreeMap<K, V>,
    mut f: impl FnMut(&'a K, Option<&'a V>, Option<&'a V>),
) {
    let (mut ia, mut ib) = (a.iter().peekable(), b.iter().peekable());
    loop {
        match (ia.peek(), ib.peek()) {
            (None, None) => return,
            (Some((ka, va)), Some((kb, vb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    f(ka, Some(va), None);
                    ia.next();
                }
                std::cmp::Ordering::Greater => {
                    f(kb, None, Some(vb));
                    ib.next();
                }
                std::cmp::Ordering::Equal => {
                    if va != vb {
                        f(ka, Some(va), Some(vb));
                    }
                    ia.next();
                    ib.next();
                }
            },
            (Some((ka, va)), None) => {
                f(ka, Some(va), None);
                ia.next();
            }
            (None, Some((kb, vb))) => {
                f(kb, None, Some(vb));
                ib.next();
            }
        }
    }
}

/// The tables and views of `from` and `to` that differ or reference what differs. With
/// `referrers` (an index of `from`'s tables, or of `to`'s: the tables that do not differ
/// are the same in both), the referring tables are looked up instead of searched for.
pub fn affected(from: &Catalog, to: &Catalog, referrers: Option<&Referrers>) -> Affected {
    let mut hot = Hot::default();
    // Tables whose definition or rows differ.
    let mut dirty: BTreeSet<&QName> = BTreeSet::new();
    merge_join(&from.roles, &to.roles, |k, _, _| {
        hot.roles.insert(k.clone());
    });
    merge_join(&from.schemas, &to.schemas, |k, _, _| {
        hot.schemas.insert(k.clone());
    });
    merge_join(&from.enums, &to.enums, |k, _, _| {
        hot.types.insert(k.clone());
    });
    merge_join(&from.sequences, &to.sequences, |k, _, _| {
        hot.relations.insert(k.clone());
    });
    // A function PostgreSQL can replace in place (`CREATE OR REPLACE`: same arguments and
    // result) stays what its callers call: they are not concerned by its new body.
    merge_join(&from.functions, &to.functions, |k, a, b| match (a, b) {
        (Some(a), Some(b)) if a.replaceable_by(b) => {}
        _ => {
            hot.functions.insert(k.name.clone());
        }
    });
    merge_join(&from.views, &to.views, |k, _, _| {
        hot.relations.insert(k.clone());
    });
    merge_join(&from.tables, &to.tables, |k, _, _| {
        dirty.insert(k);
    });
    merge_join(&from.rows, &to.rows, |k, _, _| {
        dirty.insert(&k.table);
    });
    for &t in &dirty {
        hot.relations.insert(t.clone());
        hot.types.insert(t.clone());
    }

    // Functions and views that may be re-created with what is hot are hot too.
    loop {
        let mut grew = false;
        for cat in [from, to] {
            for f in cat.functions.values() {
                if !hot.functions.contains(&f.name) && function_refs(f, |r| hot.hit(r)) {
                    hot.functions.insert(f.name.clone());
                    grew = true;
                }
            }
            for v in cat.views.values() {
                if !hot.relations.contains(&v.name) && view_refs(v, |r| hot.hit(r)) {
                    hot.relations.insert(v.name.clone());
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }

    let mut tables: BTreeSet<QName> = dirty.iter().map(|q| (*q).clone()).collect();
    match referrers {
        Some(index) => tables.extend(index.referring(&hot).into_iter().cloned()),
        None => {
            for cat in [from, to] {
                for (k, t) in &cat.tables {
                    if !tables.contains(k) && table_refs(t, |r| hot.hit(r)) {
                        tables.insert(k.clone());
                    }
                }
            }
        }
    }
    let views = from
        .views
        .keys()
        .chain(to.views.keys())
        .filter(|k| hot.relations.contains(k))
        .cloned()
        .collect();
    Affected { tables, views, hot }
}

/// A table that is the same in both states, with only the parts a diff of them can change:
/// those that reference something hot, or read a column named in `retyped` (a column of an
/// enum the diff rebuilds; `*` reads them all), besides what the table's own graph node is
/// made of (columns with their types, keys, row-level security). The parts left out are the
/// same on both sides, nothing they need changes and nothing depends on them: a diff of the
/// states holding the reduced table gives the same changes.
pub fn concerned_parts(t: &Table, hot: &Hot, retyped: &BTreeSet<&str>) -> Table {
    let reads = |e: &Expr| {
        e.refs.columns.contains("*") || e.refs.columns.iter().any(|c| retyped.contains(c.as_str()))
    };
    let mut hit = |r: Ref<'_>| hot.hit(r);
    Table {
        name: t.name.clone(),
        columns: t
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                data_type: c.data_type.clone(),
                not_null: c.not_null,
                identity: c.identity.clone(),
                default: c
                    .default
                    .as_ref()
                    .filter(|e| sql_refs(&e.refs, &mut hit) || type_ref(&c.data_type, &mut hit))
                    .cloned(),
                comment: None,
            })
            .collect(),
        primary_key: t.primary_key.clone(),
        uniques: t.uniques.clone(),
        checks: t
            .checks
            .iter()
            .filter(|c| reads(&c.expr) || sql_refs(&c.expr.refs, &mut hit))
            .cloned()
            .collect(),
        foreign_keys: t
            .foreign_keys
            .iter()
            .filter(|fk| hit(Ref::Relation(&fk.ref_table)))
            .cloned()
            .collect(),
        indexes: t
            .indexes
            .iter()
            .filter(|i| {
                i.predicate
                    .as_ref()
                    .is_some_and(|p| reads(p) || sql_refs(&p.refs, &mut hit))
            })
            .cloned()
            .collect(),
        rls_enabled: t.rls_enabled,
        rls_forced: t.rls_forced,
        policies: t
            .policies
            .iter()
            .filter(|p| {
                p.using
                    .iter()
                    .chain(&p.with_check)
                    .any(|e| reads(e) || sql_refs(&e.refs, &mut hit))
                    || p.roles.iter().any(|r| hit(Ref::Role(r)))
            })
            .cloned()
            .collect(),
        grants: t
            .grants
            .iter()
            .filter(|g| hit(Ref::Role(&g.grantee)))
            .cloned()
            .collect(),
        triggers: t
            .triggers
            .iter()
            .filter(|tr| {
                hit(Ref::Function(&tr.function.name))
                    || tr
                        .when
                        .as_ref()
                        .is_some_and(|w| reads(w) || sql_refs(&w.refs, &mut hit))
            })
            .cloned()
            .collect(),
        comment: None,
    }
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
