//! Introspect: a live database read into the same [`Catalog`] model the compiler produces.
//!
//! A handful of set-based queries (one per object kind, in `src/introspect/*.sql`) read
//! `pg_catalog` inside one transaction with `search_path` emptied, so that PostgreSQL prints
//! every name outside `pg_catalog` schema-qualified (types, functions in defaults and
//! policies, relations in views). Only what the project owns is read: the schemas it declares
//! (and those its declared roles own), and its declared roles.
//!
//! The result is in PostgreSQL's normal form (its casts, parentheses and qualification), not
//! in the spec's spelling: compare it only with another introspected catalog (see `drift`).

mod rows;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnection, PgRow};

use crate::catalog::{Catalog, QName};
use crate::db::DbError;

/// What to read.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Schemas the project declares objects in (`public` too when it only puts tables there).
    pub schemas: BTreeSet<String>,
    /// Schemas the project declares itself (created ones, and `public` / external ones whose
    /// owner, grants or comment it manages).
    pub declared_schemas: BTreeSet<String>,
    /// Schemas that exist without the project (`public`, `external_schemas`).
    pub not_created: BTreeSet<String>,
    /// Roles the project declares.
    pub roles: BTreeSet<String>,
    /// Extensions the project declares.
    pub extensions: BTreeSet<String>,
    /// Functions declared as overloads: their keys carry argument types.
    pub overloaded: BTreeSet<QName>,
    /// Tables that are not the project's even in its schemas (dbmate's migrations table).
    pub exclude_tables: BTreeSet<QName>,
}

impl Scope {
    /// The scope of a compiled state: what it declares.
    pub fn of(state: &Catalog, external_schemas: &BTreeSet<String>) -> Scope {
        let mut not_created: BTreeSet<String> = external_schemas.clone();
        not_created.insert("public".into());
        for s in state.schemas.values() {
            if !s.created {
                not_created.insert(s.name.clone());
            }
        }
        // Every schema the project declares something in, declared itself or not (`public`).
        let mut schemas: BTreeSet<String> = state.schemas.keys().cloned().collect();
        schemas.extend(state.tables.keys().map(|q| q.schema.clone()));
        schemas.extend(state.views.keys().map(|q| q.schema.clone()));
        schemas.extend(state.enums.keys().map(|q| q.schema.clone()));
        schemas.extend(state.sequences.keys().map(|q| q.schema.clone()));
        schemas.extend(state.functions.keys().map(|k| k.name.schema.clone()));
        Scope {
            schemas,
            declared_schemas: state.schemas.keys().cloned().collect(),
            not_created,
            roles: state.roles.keys().cloned().collect(),
            extensions: state.extensions.keys().cloned().collect(),
            overloaded: state
                .functions
                .keys()
                .filter(|k| k.overload.is_some())
                .map(|k| k.name.clone())
                .collect(),
            exclude_tables: BTreeSet::new(),
        }
    }

    /// Merge two scopes (the expected state's and another state's, e.g. for a rollback).
    pub fn union(mut self, other: &Scope) -> Scope {
        self.schemas.extend(other.schemas.iter().cloned());
        self.declared_schemas
            .extend(other.declared_schemas.iter().cloned());
        self.not_created.extend(other.not_created.iter().cloned());
        self.roles.extend(other.roles.iter().cloned());
        self.extensions.extend(other.extensions.iter().cloned());
        self.overloaded.extend(other.overloaded.iter().cloned());
        self.exclude_tables
            .extend(other.exclude_tables.iter().cloned());
        self
    }
}

/// An introspected database.
#[derive(Clone, Debug)]
pub struct Introspected {
    pub catalog: Catalog,
    /// Schemas whose every object is the project's: those it creates, and those a declared
    /// role owns without the project declaring them. Objects in `public` and external schemas
    /// are the project's only where it declares them.
    pub owned_schemas: BTreeSet<String>,
    /// Objects in those schemas the model has no place for (see `others.sql`).
    pub others: Vec<Other>,
    /// How long the queries took.
    pub elapsed: Duration,
}

/// An object the catalog model does not represent (a materialized view, a domain, ...).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Other {
    /// `materialized view`, `domain`, `procedure`, `rule`, ...
    pub kind: String,
    pub schema: String,
    /// Its name (with the identity arguments of a routine, the table of a rule).
    pub name: String,
    /// PostgreSQL's definition, where it prints one.
    pub definition: Option<String>,
}

const QUERIES: &[(&str, &str)] = &[
    ("roles", include_str!("roles.sql")),
    ("schemas", include_str!("schemas.sql")),
    ("extensions", include_str!("extensions.sql")),
    ("enums", include_str!("enums.sql")),
    ("relations", include_str!("relations.sql")),
    ("columns", include_str!("columns.sql")),
    ("constraints", include_str!("constraints.sql")),
    ("indexes", include_str!("indexes.sql")),
    ("policies", include_str!("policies.sql")),
    ("triggers", include_str!("triggers.sql")),
    ("functions", include_str!("functions.sql")),
    ("default_privileges", include_str!("default_privileges.sql")),
    ("others", include_str!("others.sql")),
];

fn query(name: &str) -> &'static str {
    QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, q)| *q)
        .expect("known query")
}

/// Read the database `conn` is connected to. The caller owns the transaction: a read-only
/// `REPEATABLE READ` one for a live database (one snapshot for every query), or the one a
/// scratch build runs in. `search_path` is set locally to that transaction.
pub async fn introspect(conn: &mut PgConnection, scope: &Scope) -> Result<Introspected, DbError> {
    let started = Instant::now();
    sqlx::raw_sql("SET LOCAL search_path = ''")
        .execute(&mut *conn)
        .await
        .map_err(DbError::query("setting search_path for introspection"))?;
    let roles: Vec<String> = scope.roles.iter().cloned().collect();
    let declared: Vec<String> = scope.schemas.iter().cloned().collect();

    let role_rows = fetch(conn, "roles", |q| q.bind(&roles)).await?;
    let schema_rows = fetch(conn, "schemas", |q| q.bind(&declared).bind(&roles)).await?;
    let schemas: Vec<String> = schema_rows
        .iter()
        .map(|r| rows::get::<String>(r, "name"))
        .collect::<Result<_, _>>()?;
    let extensions: Vec<String> = scope.extensions.iter().cloned().collect();
    let by_schemas = |q: Query<'static>| q.bind(schemas.clone());
    let ext_rows = fetch(conn, "extensions", |q| {
        q.bind(schemas.clone()).bind(&extensions)
    })
    .await?;
    let enum_rows = fetch(conn, "enums", by_schemas).await?;
    let rel_rows = fetch(conn, "relations", by_schemas).await?;
    let column_rows = fetch(conn, "columns", by_schemas).await?;
    let constraint_rows = fetch(conn, "constraints", by_schemas).await?;
    let index_rows = fetch(conn, "indexes", by_schemas).await?;
    let policy_rows = fetch(conn, "policies", by_schemas).await?;
    let trigger_rows = fetch(conn, "triggers", by_schemas).await?;
    let function_rows = fetch(conn, "functions", by_schemas).await?;
    let default_rows = fetch(conn, "default_privileges", |q| q.bind(&roles)).await?;
    let other_rows = fetch(conn, "others", by_schemas).await?;
    let elapsed = started.elapsed();

    let mut cat = Catalog::default();
    rows::roles(&mut cat, &role_rows)?;
    let owned_schemas = rows::schemas(&mut cat, &schema_rows, scope)?;
    rows::extensions(&mut cat, &ext_rows)?;
    rows::enums(&mut cat, &enum_rows)?;
    rows::relations(&mut cat, &rel_rows, scope)?;
    rows::columns(&mut cat, &column_rows)?;
    rows::constraints(&mut cat, &constraint_rows)?;
    rows::indexes(&mut cat, &index_rows)?;
    rows::policies(&mut cat, &policy_rows)?;
    rows::triggers(&mut cat, &trigger_rows)?;
    rows::functions(&mut cat, &function_rows, scope)?;
    rows::default_privileges(&mut cat, &default_rows)?;
    let others = other_rows
        .iter()
        .map(|r| {
            Ok(Other {
                kind: rows::get(r, "kind")?,
                schema: rows::get(r, "schema")?,
                name: rows::get(r, "name")?,
                definition: rows::get(r, "definition")?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(Introspected {
        catalog: cat,
        owned_schemas,
        others,
        elapsed,
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

async fn fetch<'q>(
    conn: &mut PgConnection,
    name: &str,
    bind: impl FnOnce(Query<'q>) -> Query<'q>,
) -> Result<Vec<PgRow>, DbError> {
    bind(sqlx::query(query(name)))
        .fetch_all(&mut *conn)
        .await
        .map_err(DbError::query(format!("reading {name}")))
}

/// Set the owner of every schema and function to `None` where it is `runner` (the role that
/// ran the migrations, so "whoever ran them", which is what a spec without `owner` means),
/// unless `spec` declares that very owner for the object.
pub fn forget_runner_owner(cat: &mut Catalog, runner: &str, spec: &Catalog) {
    for s in cat.schemas.values_mut() {
        let declared = spec.schemas.get(&s.name).and_then(|x| x.owner.as_deref());
        if s.owner.as_deref() == Some(runner) && declared != Some(runner) {
            s.owner = None;
        }
    }
    // By name and argument types: overloads may have different owners.
    let declared: BTreeMap<(&QName, Vec<String>), Option<&str>> = spec
        .functions
        .values()
        .map(|f| ((&f.name, f.identity_types()), f.owner.as_deref()))
        .collect();
    for f in cat.functions.values_mut() {
        let d = declared
            .get(&(&f.name, f.identity_types()))
            .copied()
            .flatten();
        if f.owner.as_deref() == Some(runner) && d != Some(runner) {
            Arc::make_mut(f).owner = None;
        }
    }
}
