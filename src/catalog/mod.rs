//! The resolved model of a database schema: what one state of a project (or, later, a live
//! database) contains. Ordered maps keyed by identity keep every output deterministic; column
//! order is kept as declared. Where each object was declared lives beside the model in
//! [`Catalog::origins`], so two equal definitions compare equal wherever they came from.
//!
//! A project's states share what they have in common: tables, functions and views sit behind
//! an [`Arc`], so the next state is a cheap copy of the previous one (a layer changes a few
//! objects of thousands, through `Arc::make_mut`), an object no layer touched is the very
//! same allocation in both states (`Arc::ptr_eq`: the differ skips it without comparing), and
//! the declarations ([`Origins`]) are kept once per layer, not once per state.

pub mod affected;
pub mod ident;
pub mod origins;
pub mod transition;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde::Serialize;

pub use ident::{dollar_quote, push_ident, quote_ident, quote_literal, QName};
pub use origins::Origins;
pub use transition::{Ack, Loss, Rename, Transition};

use crate::diagnostic::Span;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub roles: BTreeMap<String, Role>,
    pub schemas: BTreeMap<String, Schema>,
    pub extensions: BTreeMap<String, Extension>,
    pub enums: BTreeMap<QName, Enum>,
    pub sequences: BTreeMap<QName, Sequence>,
    pub tables: BTreeMap<QName, Arc<Table>>,
    pub functions: BTreeMap<FunctionKey, Arc<Function>>,
    pub views: BTreeMap<QName, Arc<View>>,
    pub default_privileges: BTreeMap<DefaultPrivilegeKey, DefaultPrivilege>,
    pub rows: BTreeMap<RowKey, Row>,
    /// Where each object was (last) declared; not part of equality of definitions.
    pub origins: Origins,
}

impl Catalog {
    /// Whether the state holds no object at all (declarations aside).
    pub fn is_empty(&self) -> bool {
        // Every field named: a new kind of object cannot be forgotten here.
        let Catalog {
            roles,
            schemas,
            extensions,
            enums,
            sequences,
            tables,
            functions,
            views,
            default_privileges,
            rows,
            origins: _,
        } = self;
        roles.is_empty()
            && schemas.is_empty()
            && extensions.is_empty()
            && enums.is_empty()
            && sequences.is_empty()
            && tables.is_empty()
            && functions.is_empty()
            && views.is_empty()
            && default_privileges.is_empty()
            && rows.is_empty()
    }

    pub fn origin(&self, key: &str) -> Option<&Span> {
        self.origins.get(key)
    }

    /// Let every table, function and view of `self` that is equal to the one of the same
    /// name in `other` be that allocation. Catalogs read from a database are built afresh
    /// each time; a sequence of them (one per layer) kept this way costs what its states
    /// change, not what they hold.
    pub fn share_with(&mut self, other: &Catalog) {
        share(&mut self.tables, &other.tables);
        share(&mut self.functions, &other.functions);
        share(&mut self.views, &other.views);
    }
}

fn share<K: Ord, V: PartialEq>(mine: &mut BTreeMap<K, Arc<V>>, theirs: &BTreeMap<K, Arc<V>>) {
    for (k, v) in mine.iter_mut() {
        if let Some(t) = theirs.get(k) {
            if !Arc::ptr_eq(v, t) && **v == **t {
                *v = Arc::clone(t);
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Role {
    pub name: String,
    pub login: bool,
    pub inherit: bool,
    pub bypassrls: bool,
    pub createdb: bool,
    pub createrole: bool,
    pub connection_limit: i32,
    /// Names the environment variable holding the password; never the password itself.
    pub password_env: Option<String>,
    pub member_of: BTreeSet<String>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub name: String,
    /// False for schemas that exist without the project (`public`, external schemas): they
    /// are managed (grants, owner, comment) but never created or dropped.
    pub created: bool,
    pub owner: Option<String>,
    pub revoke_public: bool,
    pub grants: Vec<Grant>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Grant {
    /// A role name, or `PUBLIC`.
    pub grantee: String,
    pub privileges: BTreeSet<Privilege>,
    /// Column-level grant when not empty (tables only).
    pub columns: Vec<String>,
}

/// A privilege keyword; ordered as PostgreSQL lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Privilege {
    Select,
    Insert,
    Update,
    Delete,
    Truncate,
    References,
    Trigger,
    Usage,
    Create,
    Execute,
}

impl Privilege {
    pub fn keyword(self) -> &'static str {
        match self {
            Privilege::Select => "SELECT",
            Privilege::Insert => "INSERT",
            Privilege::Update => "UPDATE",
            Privilege::Delete => "DELETE",
            Privilege::Truncate => "TRUNCATE",
            Privilege::References => "REFERENCES",
            Privilege::Trigger => "TRIGGER",
            Privilege::Usage => "USAGE",
            Privilege::Create => "CREATE",
            Privilege::Execute => "EXECUTE",
        }
    }
}

/// The kinds of object a grant or default privilege applies to, with the privileges each
/// accepts (`all` expands to the whole list).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PrivilegeObject {
    Schema,
    Table,
    Column,
    Sequence,
    Function,
    Type,
}

impl PrivilegeObject {
    pub fn allowed(self) -> &'static [Privilege] {
        use Privilege::*;
        match self {
            PrivilegeObject::Schema => &[Usage, Create],
            PrivilegeObject::Table => &[
                Select, Insert, Update, Delete, Truncate, References, Trigger,
            ],
            PrivilegeObject::Column => &[Select, Insert, Update, References],
            PrivilegeObject::Sequence => &[Select, Update, Usage],
            PrivilegeObject::Function => &[Execute],
            PrivilegeObject::Type => &[Usage],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extension {
    pub name: String,
    pub schema: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Enum {
    pub name: QName,
    pub values: Vec<String>,
    pub comment: Option<String>,
}

impl Enum {
    /// Whether `self` keeps every value of `prev` in order (values were only added, which
    /// `ALTER TYPE ... ADD VALUE` can do; otherwise the type is rebuilt).
    pub fn extends(&self, prev: &Enum) -> bool {
        let mut kept = self.values.iter().filter(|v| prev.values.contains(v));
        prev.values.iter().all(|p| kept.next() == Some(p)) && kept.next().is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sequence {
    pub name: QName,
    pub data_type: TypeRef,
    pub start: i64,
    pub increment: i64,
    pub grants: Vec<Grant>,
    pub comment: Option<String>,
}

/// A type as PostgreSQL's parser read it, in canonical SQL form, with the user-defined type
/// it names (if any) so dependencies can be followed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypeRef {
    pub sql: String,
    #[serde(skip)]
    pub user_type: Option<QName>,
}

/// An SQL fragment checked by PostgreSQL's parser, with what it references (shared: an
/// expression is copied into every change that creates or drops what holds it, and the
/// templates never read its references).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Expr {
    pub sql: String,
    #[serde(skip)]
    pub refs: Arc<Refs>,
}

/// Schema-qualified relations, functions and types an SQL text names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs {
    pub relations: BTreeSet<QName>,
    pub functions: BTreeSet<QName>,
    pub types: BTreeSet<QName>,
    /// Column names read (the last part of each column reference; `*` for a star).
    pub columns: BTreeSet<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct View {
    pub name: QName,
    pub query: Expr,
    pub security_invoker: bool,
    pub security_barrier: bool,
    pub grants: Vec<Grant>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub name: QName,
    pub columns: Vec<Column>,
    pub primary_key: Option<KeyConstraint>,
    pub uniques: Vec<KeyConstraint>,
    pub checks: Vec<Check>,
    pub foreign_keys: Vec<ForeignKey>,
    pub indexes: Vec<Index>,
    pub rls_enabled: bool,
    pub rls_forced: bool,
    pub policies: Vec<Policy>,
    pub grants: Vec<Grant>,
    pub triggers: Vec<Trigger>,
    pub comment: Option<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The names the table takes in its schema's relation namespace: its own, and those of
    /// its indexes (key constraints have one each).
    pub fn relation_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.name.as_str())
            .chain(
                self.primary_key
                    .iter()
                    .chain(&self.uniques)
                    .map(|k| k.name.as_str()),
            )
            .chain(self.indexes.iter().map(|i| i.name.as_str()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    pub data_type: TypeRef,
    pub not_null: bool,
    /// `ALWAYS` or `BY DEFAULT`.
    pub identity: Option<String>,
    pub default: Option<Expr>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyConstraint {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub expr: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: QName,
    pub ref_columns: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub method: String,
    pub predicate: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub name: String,
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    pub roles: Vec<String>,
    pub using: Option<Expr>,
    pub with_check: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trigger {
    pub name: String,
    /// `BEFORE`, `AFTER` or `INSTEAD OF`.
    pub timing: String,
    pub events: Vec<String>,
    pub for_each_row: bool,
    pub when: Option<Expr>,
    pub function: FunctionKey,
    pub args: Vec<String>,
}

/// A function's identity: its qualified name, plus its input argument types when it is one
/// of several declared overloads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FunctionKey {
    pub name: QName,
    pub overload: Option<Vec<String>>,
}

impl fmt::Display for FunctionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(types) = &self.overload {
            write!(f, "({})", types.join(", "))?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Function {
    pub name: QName,
    pub overload: bool,
    pub args: Vec<Arg>,
    pub returns: Returns,
    pub language: String,
    /// `VOLATILE`, `STABLE` or `IMMUTABLE`.
    pub volatility: String,
    pub strict: bool,
    pub security_definer: bool,
    pub search_path: Option<Vec<String>>,
    pub owner: Option<String>,
    pub revoke_public: bool,
    pub grants: Vec<Grant>,
    pub comment: Option<String>,
    pub body: String,
    #[serde(skip)]
    pub body_refs: Refs,
}

impl Function {
    /// Types of the arguments that identify the function (IN, INOUT and VARIADIC).
    pub fn identity_types(&self) -> Vec<String> {
        self.args
            .iter()
            .filter(|a| a.mode != "OUT")
            .map(|a| a.data_type.sql.clone())
            .collect()
    }

    /// Whether `CREATE OR REPLACE` can turn `self` into `next` (PostgreSQL refuses to change
    /// argument types, argument names, the return type, or to remove argument defaults).
    pub fn replaceable_by(&self, next: &Function) -> bool {
        self.identity_types() == next.identity_types()
            && self.returns == next.returns
            && self.args.len() == next.args.len()
            && self.args.iter().zip(&next.args).all(|(a, b)| {
                a.name == b.name
                    && a.mode == b.mode
                    && a.data_type == b.data_type
                    && (a.default.is_none() || b.default.is_some())
            })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Arg {
    pub name: Option<String>,
    /// `IN`, `OUT`, `INOUT` or `VARIADIC`.
    pub mode: String,
    pub data_type: TypeRef,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Returns {
    Type(TypeRef),
    SetOf(TypeRef),
    Table(Vec<ReturnColumn>),
    Trigger,
    Void,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReturnColumn {
    pub name: String,
    pub data_type: TypeRef,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct DefaultPrivilegeKey {
    pub for_role: String,
    pub in_schema: Option<String>,
    /// `TABLES`, `SEQUENCES`, `FUNCTIONS`, `TYPES` or `SCHEMAS`.
    pub object_type: String,
    pub grantee: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefaultPrivilege {
    pub key: DefaultPrivilegeKey,
    pub privileges: BTreeSet<Privilege>,
}

/// A declared row: its table and the values of its key columns.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RowKey {
    pub table: QName,
    pub key: Vec<(String, Option<String>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Row {
    pub key: RowKey,
    /// Every column given, key columns included, in name order; `None` is NULL.
    pub values: Vec<(String, Option<String>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_with_takes_the_allocation_of_equal_objects_only() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/support-tickets");
        let (_, compiled) = crate::migration::compile_dir(&root).expect("the example compiles");
        let state = compiled.folded.last();
        assert!(!state.tables.is_empty() && !state.functions.is_empty());
        // A copy built afresh, as introspection builds one, with one table changed.
        let mut fresh = Catalog {
            tables: state
                .tables
                .iter()
                .map(|(k, t)| (k.clone(), Arc::new((**t).clone())))
                .collect(),
            functions: state
                .functions
                .iter()
                .map(|(k, f)| (k.clone(), Arc::new((**f).clone())))
                .collect(),
            ..state.clone()
        };
        let changed = fresh.tables.keys().next().cloned().expect("a table");
        Arc::make_mut(fresh.tables.get_mut(&changed).expect("present")).comment =
            Some("changed".into());
        fresh.share_with(state);
        for (k, t) in &fresh.tables {
            assert_eq!(Arc::ptr_eq(t, &state.tables[k]), *k != changed, "{k}");
        }
        for (k, f) in &fresh.functions {
            assert!(Arc::ptr_eq(f, &state.functions[k]));
        }
        assert_eq!(fresh.tables[&changed].comment.as_deref(), Some("changed"));
    }
}
