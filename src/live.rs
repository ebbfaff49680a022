//! The live path of `schemac diff`: which state the database should be in (the version
//! dbmate recorded, or the latest layer), the live catalog read through a read-only session,
//! the expected catalog from a scratch build, and the drift between them; with `--sql`, the
//! statements that bring the database back to the specs (`diff(live, expected)`, rendered by
//! the same templates as migrations).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::catalog::{Catalog, QName};
use crate::db::{DbError, DbUrl};
use crate::dbmate;
use crate::diagnostic::Diagnostics;
use crate::diff;
use crate::drift::{self, Finding, Ownership};
use crate::introspect::{self, Scope};
use crate::layers::{self, Folded};
use crate::render::Renderer;
use crate::scratch::{self, BuildInput, ScratchError, ScratchServer};
use crate::spec::Project;

#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("{0}")]
    Scratch(#[from] ScratchError),
    #[error("{0}")]
    Version(String),
    #[error("the changes back to the specs cannot be planned")]
    Plan(Diagnostics),
    #[error("{0}")]
    Render(#[from] crate::render::RenderError),
}

pub struct DiffOptions<'a> {
    pub database_url: &'a str,
    pub dev_url: Option<&'a str>,
    /// Compare with the last layer, whatever `schema_migrations` says.
    pub latest: bool,
    /// Plan the statements that bring the database back to the specs.
    pub sql: bool,
}

pub struct DiffOutcome {
    /// The layer the database is compared with (0: before the first).
    pub layer: usize,
    /// Its version, when there is one.
    pub version: Option<String>,
    pub findings: Vec<Finding>,
    /// With `sql`: the statements, in order.
    pub statements: Option<Vec<String>>,
    pub database: String,
    pub scratch: String,
    /// How long reading the live catalog took.
    pub introspection: Duration,
    /// How long the scratch build (start, build, read) took.
    pub scratch_time: Duration,
    /// Objects compared (expected side).
    pub objects: usize,
    /// What the scratch build had to leave out.
    pub warnings: Vec<String>,
}

/// Roles and schemas the project declares as existing without it.
pub fn externals(project: &Project) -> (Vec<String>, Vec<String>) {
    let ext = layers::externals(&project.config);
    (
        ext.roles.iter().cloned().collect(),
        ext.schemas.iter().cloned().collect(),
    )
}

/// The raw `sql.up` of the layers up to `layer`, with the layer's name.
pub fn raw_ups(folded: &Folded, layer: usize) -> Vec<(&str, &str)> {
    folded.layers[..layer]
        .iter()
        .filter_map(|l| l.raw.as_ref().map(|r| (l.source.as_str(), r.up.as_str())))
        .collect()
}

/// Which state `applied` (dbmate's version rows) corresponds to: the applied versions must
/// be exactly the first layers.
pub fn layer_of(folded: &Folded, applied: &[String]) -> Result<usize, String> {
    let versions: Vec<&str> = folded.layers.iter().map(|l| l.version.as_str()).collect();
    let unknown: Vec<&String> = applied
        .iter()
        .filter(|v| !versions.contains(&v.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "the database records migrations the specs do not have: {}; compare with the last layer with --latest",
            unknown.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let n = applied.len();
    let prefix: BTreeSet<&str> = versions[..n.min(versions.len())].iter().copied().collect();
    if applied.iter().any(|v| !prefix.contains(v.as_str())) {
        let missing: Vec<&str> = versions[..n]
            .iter()
            .filter(|v| !applied.iter().any(|a| a == *v))
            .copied()
            .collect();
        return Err(format!(
            "the database skipped migrations: {} not applied while later ones are; compare with the last layer with --latest",
            missing.join(", ")
        ));
    }
    Ok(n)
}

pub async fn diff_database(
    project: &Project,
    folded: &Folded,
    renderer: &Renderer,
    opts: &DiffOptions<'_>,
) -> Result<DiffOutcome, LiveError> {
    let url = DbUrl::parse(opts.database_url)?;
    let table = dbmate::migrations_table(&url.migrations_schema());
    let mut conn = url.connect_read_only().await?;

    // One snapshot for everything read from the live database.
    let mut tx = conn
        .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(DbError::query("starting a read-only transaction"))?;
    let major: i32 =
        sqlx::query_scalar("SELECT current_setting('server_version_num')::int / 10000")
            .fetch_one(&mut *tx)
            .await
            .map_err(DbError::query("reading the server version"))?;
    let applied = dbmate::applied_versions(&mut tx, &table).await?;
    let layer = if opts.latest {
        folded.layers.len()
    } else {
        match &applied {
            None => {
                return Err(LiveError::Version(format!(
                    "the database has no dbmate migrations table {table}; pass --latest to compare with the last layer (or add search_path=<schema> to the URL when the table lives elsewhere)"
                )))
            }
            Some(v) => layer_of(folded, v).map_err(LiveError::Version)?,
        }
    };
    let state = &folded.states[layer];
    let version = layer
        .checked_sub(1)
        .map(|i| folded.layers[i].version.clone());
    // Who ran the migrations: the owner of dbmate's table, else this session's user.
    let runner: String = sqlx::query_scalar(
        "SELECT coalesce((SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = to_regclass($1)), current_user::text)",
    )
    .bind(table.quoted())
    .fetch_one(&mut *tx)
    .await
    .map_err(DbError::query("reading the owner of the migrations table"))?;

    let (ext_roles, ext_schemas) = externals(project);
    let ext_schema_set: BTreeSet<String> = ext_schemas.iter().cloned().collect();
    let mut scope = Scope::of(state, &ext_schema_set);
    scope.exclude_tables.insert(table.clone());
    let mut live = introspect::introspect(&mut tx, &scope).await?;
    tx.commit()
        .await
        .map_err(DbError::query("ending the read-only transaction"))?;
    conn.close().await.ok();

    let started = Instant::now();
    let server = ScratchServer::start(opts.dev_url, u32::try_from(major).ok()).await?;
    let declared: Vec<String> = state.roles.keys().cloned().collect();
    let db = server.create_database("diff", &declared).await?;
    let mut warnings = Vec::new();
    if let Some(scratch_major) = server_major(&db.url).await {
        if scratch_major != major {
            warnings.push(format!(
                "the database runs PostgreSQL {major} but the scratch server {scratch_major}: expressions PostgreSQL prints differently across versions may show as drift (pass --dev-url with a PostgreSQL {major} server, or install its binaries)"
            ));
        }
    }
    let built = scratch::build_expected(
        &db.url,
        &BuildInput {
            state,
            raw_up: raw_ups(folded, layer),
            external_roles: &ext_roles,
            external_schemas: &ext_schemas,
        },
        &scope,
        renderer,
    )
    .await;
    let closed = db.close().await;
    let scratch_user = server.user();
    let scratch = server.description.clone();
    drop(server);
    let built = built?;
    closed?;
    let mut expected = built.introspected;
    let scratch_time = started.elapsed();

    introspect::forget_runner_owner(&mut live.catalog, &runner, state);
    introspect::forget_runner_owner(&mut expected.catalog, &scratch_user, state);
    for r in live.catalog.roles.values_mut() {
        r.password_env = None;
    }
    let owned = Ownership {
        schemas: live
            .owned_schemas
            .union(&expected.owned_schemas)
            .cloned()
            .collect(),
    };
    let mut findings = drift::compare(&live.catalog, &expected.catalog, state, &owned, renderer);
    findings.extend(drift::compare_others(
        &live.others,
        &expected.others,
        &owned,
    ));
    let statements = if opts.sql {
        let scoped = in_scope_only(&live.catalog, &expected.catalog, &owned);
        let changes = diff::diff(&scoped, &expected.catalog).map_err(LiveError::Plan)?;
        Some(
            renderer
                .render_all(&changes)?
                .into_iter()
                .map(|s| s.sql)
                .collect(),
        )
    } else {
        None
    };
    Ok(DiffOutcome {
        layer,
        version,
        objects: diff::graph::graph(&expected.catalog).len(),
        findings,
        statements,
        database: url.display.clone(),
        scratch,
        warnings: {
            warnings.extend(built.warnings);
            warnings
        },
        introspection: live.elapsed,
        scratch_time,
    })
}

async fn server_major(url: &DbUrl) -> Option<i32> {
    let mut conn = url.connect().await.ok()?;
    let v: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int / 10000")
        .fetch_one(&mut conn)
        .await
        .ok()?;
    conn.close().await.ok();
    Some(v)
}

/// The live catalog without the top-level objects that are none of the project's business
/// (in `public` or external schemas, not declared): `--sql` must never drop those.
fn in_scope_only(live: &Catalog, expected: &Catalog, owned: &Ownership) -> Catalog {
    let mut out = live.clone();
    let keep = |q: &QName, declared: bool| declared || owned.schemas.contains(&q.schema);
    out.tables
        .retain(|q, _| keep(q, expected.tables.contains_key(q)));
    out.views
        .retain(|q, _| keep(q, expected.views.contains_key(q)));
    out.enums
        .retain(|q, _| keep(q, expected.enums.contains_key(q)));
    out.sequences
        .retain(|q, _| keep(q, expected.sequences.contains_key(q)));
    out.functions
        .retain(|k, _| keep(&k.name, expected.functions.contains_key(k)));
    out.extensions.retain(|name, e| {
        expected.extensions.contains_key(name)
            || e.schema.as_ref().is_some_and(|s| owned.schemas.contains(s))
    });
    out.schemas
        .retain(|s, _| expected.schemas.contains_key(s) || owned.schemas.contains(s));
    out
}
