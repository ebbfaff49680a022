//! Verify: the generated migrations against PostgreSQL itself, on a scratch server.
//!
//! 1. For every state, the specs are built directly (in a transaction that is rolled back)
//!    and introspected: the expected catalog of each layer, in PostgreSQL's normal form.
//! 2. Every migration is applied up, in order, with dbmate's semantics (`dbmate` module);
//!    after each, the database is introspected and must equal the expected catalog of its
//!    layer. Where the plpgsql_check extension is installed, every PL/pgSQL function of the
//!    layer is checked, findings reported at the function's YAML position.
//! 3. Every migration is rolled back, last first; after each, the catalog must equal exactly
//!    what it was before that migration was applied.
//! 4. Everything is applied again, and must equal the first pass.

use std::collections::BTreeSet;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row as _};

use crate::catalog::{Catalog, FunctionKey};
use crate::db::{DbError, DbUrl};
use crate::dbmate::{self, Direction, MigrationFile};
use crate::diagnostic::Span;
use crate::drift::{self, Finding, Ownership};
use crate::introspect::{self, Introspected, Scope};
use crate::layers::Folded;
use crate::live::{externals, raw_ups, LiveError};
use crate::render::Renderer;
use crate::scratch::{self, BuildInput, ScratchServer};
use crate::spec::Project;

/// Progress and results, as they happen.
pub trait Reporter {
    fn step(&mut self, step: &Step);
}

/// What verify is doing or found.
#[derive(Debug)]
pub enum Step {
    Expected {
        layer: usize,
        of: usize,
    },
    Applied {
        file: String,
        index: usize,
        of: usize,
    },
    RolledBack {
        file: String,
        index: usize,
        of: usize,
    },
    Reapplied {
        of: usize,
    },
    /// Rollbacks stop at a migration that destroys data (its down refuses by design).
    Irreversible {
        file: String,
    },
    /// A finding of plpgsql_check.
    Lint(LintFinding),
    PlpgsqlCheckUnavailable,
    /// Something the scratch build of an expected state had to leave out.
    Warning(String),
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct LintFinding {
    pub function: String,
    pub level: String,
    pub message: String,
    pub hint: Option<String>,
    #[serde(serialize_with = "span_text")]
    pub at: Option<Span>,
    pub migration: String,
}

fn span_text<S: serde::Serializer>(span: &Option<Span>, s: S) -> Result<S::Ok, S::Error> {
    match span {
        Some(sp) => s.serialize_some(&sp.to_string()),
        None => s.serialize_none(),
    }
}

/// Why verify stopped.
#[derive(Debug)]
pub enum Failure {
    /// A section failed to run.
    Apply(dbmate::SectionError),
    /// After `stage` of `migration`, the catalog is not what it should be.
    Mismatch {
        migration: String,
        stage: &'static str,
        findings: Vec<Finding>,
    },
    /// plpgsql_check reported errors.
    Lint { errors: usize },
}

pub struct Outcome {
    pub migrations: usize,
    /// The migration rollbacks stopped at: it destroys data, so its down refuses by design.
    pub irreversible: Option<String>,
    pub failure: Option<Failure>,
    pub lint: Vec<LintFinding>,
}

pub async fn verify(
    project: &Project,
    folded: &Folded,
    files: &[MigrationFile],
    renderer: &Renderer,
    dev_url: Option<&str>,
    reporter: &mut dyn Reporter,
) -> Result<Outcome, LiveError> {
    let (ext_roles, ext_schemas) = externals(project);
    let ext_set: BTreeSet<String> = ext_schemas.iter().cloned().collect();
    let mut scope = Scope::default();
    for s in &folded.states {
        scope = scope.union(&Scope::of(s, &ext_set));
    }
    let table = dbmate::migrations_table("public");
    scope.exclude_tables.insert(table.clone());
    // Roles scratch work may create (cluster-wide): dropped again at the end if they did not
    // exist before.
    let mut declared: Vec<String> = scope.roles.iter().cloned().collect();
    declared.extend(ext_roles.iter().cloned());

    let server = ScratchServer::start(dev_url, None).await?;
    let runner = server.user();
    let n = files.len();

    // 1. The expected catalog of every state.
    let direct = server.create_database("expected", &declared).await?;
    let mut expected: Vec<Introspected> = Vec::new();
    for (i, state) in folded.states.iter().enumerate() {
        reporter.step(&Step::Expected { layer: i, of: n });
        let built = scratch::build_expected(
            &direct.url,
            &BuildInput {
                state,
                raw_up: raw_ups(folded, i),
                external_roles: &ext_roles,
                external_schemas: &ext_schemas,
            },
            &scope,
            renderer,
        )
        .await;
        match built {
            Ok(b) => {
                for w in b.warnings {
                    reporter.step(&Step::Warning(w));
                }
                let mut e = b.introspected;
                introspect::forget_runner_owner(&mut e.catalog, &runner, state);
                // Kept for every layer: shared with the previous state where equal.
                if let Some(prev) = expected.last() {
                    e.catalog.share_with(&prev.catalog);
                }
                expected.push(e);
            }
            Err(err) => {
                direct.close().await.ok();
                return Err(err.into());
            }
        }
    }
    direct.close().await?;

    let db = server.create_database("verify", &declared).await?;
    let result = run_layers(
        &db.url, folded, files, &expected, &scope, &runner, &ext_roles, renderer, reporter,
    )
    .await;
    let closed = db.close().await;
    drop(server);
    let outcome = result?;
    closed?;
    Ok(outcome)
}

#[allow(clippy::too_many_arguments)]
async fn run_layers(
    url: &DbUrl,
    folded: &Folded,
    files: &[MigrationFile],
    expected: &[Introspected],
    scope: &Scope,
    runner: &str,
    ext_roles: &[String],
    renderer: &Renderer,
    reporter: &mut dyn Reporter,
) -> Result<Outcome, LiveError> {
    let n = files.len();
    let table = dbmate::migrations_table("public");
    let mut conn = url.connect().await?;
    let mut outcome = Outcome {
        migrations: n,
        irreversible: None,
        failure: None,
        lint: Vec::new(),
    };
    // External roles the specs grant to must exist, as they do where the migrations run.
    for r in ext_roles {
        let sql = format!(
            "DO $$BEGIN CREATE ROLE {} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END$$",
            crate::catalog::quote_ident(r)
        );
        sqlx::raw_sql(&sql)
            .execute(&mut conn)
            .await
            .map_err(DbError::query(format!("creating external role {r}")))?;
    }
    let lint = plpgsql_check_available(&mut conn).await?;
    if !lint {
        reporter.step(&Step::PlpgsqlCheckUnavailable);
    }

    let owned = |a: &Introspected, b: &Introspected| Ownership {
        schemas: a.owned_schemas.union(&b.owned_schemas).cloned().collect(),
    };

    // 2. Up, one by one.
    let mut after: Vec<Introspected> =
        vec![read(&mut conn, scope, runner, &folded.states[0]).await?];
    let mut mismatch0 = drift::compare(
        &after[0].catalog,
        &expected[0].catalog,
        &folded.states[0],
        &owned(&after[0], &expected[0]),
        renderer,
    );
    mismatch0.extend(drift::compare_others(
        &after[0].others,
        &expected[0].others,
        &owned(&after[0], &expected[0]),
    ));
    if !mismatch0.is_empty() {
        outcome.failure = Some(Failure::Mismatch {
            migration: "(before the first migration: the scratch database is not empty)".into(),
            stage: "start",
            findings: mismatch0,
        });
        return Ok(outcome);
    }
    for (i, file) in files.iter().enumerate() {
        if let Err(e) = dbmate::run(&mut conn, &table, file, Direction::Up).await {
            outcome.failure = Some(Failure::Apply(e));
            return Ok(outcome);
        }
        reporter.step(&Step::Applied {
            file: file.file_name(),
            index: i + 1,
            of: n,
        });
        let mut now = read(&mut conn, scope, runner, &folded.states[i + 1]).await?;
        let mut findings = drift::compare(
            &now.catalog,
            &expected[i + 1].catalog,
            &folded.states[i + 1],
            &owned(&now, &expected[i + 1]),
            renderer,
        );
        findings.extend(drift::compare_others(
            &now.others,
            &expected[i + 1].others,
            &owned(&now, &expected[i + 1]),
        ));
        if !findings.is_empty() {
            outcome.failure = Some(Failure::Mismatch {
                migration: file.file_name(),
                stage: "up",
                findings,
            });
            return Ok(outcome);
        }
        if lint {
            let found = plpgsql_check(&mut conn, &folded.states[i + 1], &file.file_name()).await?;
            for f in &found {
                reporter.step(&Step::Lint(f.clone()));
            }
            outcome.lint.extend(found);
        }
        // Kept for the rollbacks: shared with what it was expected to be.
        now.catalog.share_with(&expected[i + 1].catalog);
        after.push(now);
    }
    let errors = outcome.lint.iter().filter(|f| f.level == "error").count();
    if errors > 0 {
        outcome.failure = Some(Failure::Lint { errors });
        return Ok(outcome);
    }

    // 3. Down, last first: each must give back exactly the catalog before it. A migration
    //    that destroys data (acknowledged in its layer) refuses to roll back by design: the
    //    rollbacks stop there.
    let irreversible = irreversible_layers(folded);
    let mut first_up = 0;
    for (i, file) in files.iter().enumerate().rev() {
        if irreversible.get(i).copied().unwrap_or(false) {
            reporter.step(&Step::Irreversible {
                file: file.file_name(),
            });
            first_up = i + 1;
            outcome.irreversible = Some(file.file_name());
            break;
        }
        if let Err(e) = dbmate::run(&mut conn, &table, file, Direction::Down).await {
            outcome.failure = Some(Failure::Apply(e));
            return Ok(outcome);
        }
        reporter.step(&Step::RolledBack {
            file: file.file_name(),
            index: n - i,
            of: n - first_up_bound(&irreversible),
        });
        let now = read(&mut conn, scope, runner, &folded.states[i]).await?;
        let mut findings = drift::compare(
            &now.catalog,
            &after[i].catalog,
            &folded.states[i],
            &owned(&now, &after[i]),
            renderer,
        );
        findings.extend(drift::compare_others(
            &now.others,
            &after[i].others,
            &owned(&now, &after[i]),
        ));
        if !findings.is_empty() {
            outcome.failure = Some(Failure::Mismatch {
                migration: file.file_name(),
                stage: "down",
                findings,
            });
            return Ok(outcome);
        }
    }

    // 4. Up again.
    for file in &files[first_up..] {
        if let Err(e) = dbmate::run(&mut conn, &table, file, Direction::Up).await {
            outcome.failure = Some(Failure::Apply(e));
            return Ok(outcome);
        }
    }
    let again = read(&mut conn, scope, runner, &folded.states[n]).await?;
    let mut findings = drift::compare(
        &again.catalog,
        &after[n].catalog,
        &folded.states[n],
        &owned(&again, &after[n]),
        renderer,
    );
    findings.extend(drift::compare_others(
        &again.others,
        &after[n].others,
        &owned(&again, &after[n]),
    ));
    reporter.step(&Step::Reapplied { of: n - first_up });
    if !findings.is_empty() {
        outcome.failure = Some(Failure::Mismatch {
            migration: files
                .last()
                .map(MigrationFile::file_name)
                .unwrap_or_default(),
            stage: "re-apply",
            findings,
        });
    }
    // Leave nothing behind on a shared server: roll back again as far as possible.
    for file in files[first_up..].iter().rev() {
        if dbmate::run(&mut conn, &table, file, Direction::Down)
            .await
            .is_err()
        {
            break;
        }
    }
    conn.close().await.ok();
    Ok(outcome)
}

/// Whether each layer's migration destroys data (its down section refuses to run).
fn irreversible_layers(folded: &Folded) -> Vec<bool> {
    folded
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            crate::diff::diff_with(&folded.states[i], &folded.states[i + 1], &layer.transition)
                .map(|c| !crate::diff::losses(&c).is_empty())
                .unwrap_or(false)
        })
        .collect()
}

/// The scratch database's catalog, owners that are the runner's forgotten as in `spec`.
async fn read(
    conn: &mut PgConnection,
    scope: &Scope,
    runner: &str,
    spec: &Catalog,
) -> Result<Introspected, LiveError> {
    let mut tx = conn
        .begin()
        .await
        .map_err(DbError::query("starting to read the catalog"))?;
    let mut found = introspect::introspect(&mut tx, scope).await?;
    tx.rollback().await.ok();
    introspect::forget_runner_owner(&mut found.catalog, runner, spec);
    Ok(found)
}

async fn plpgsql_check_available(conn: &mut PgConnection) -> Result<bool, LiveError> {
    let available: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'plpgsql_check')",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(DbError::query("looking for plpgsql_check"))?;
    if available {
        // In its own schema, so that it is not mistaken for one of the project's objects.
        sqlx::raw_sql(
            "CREATE SCHEMA IF NOT EXISTS schemac_plpgsql_check; CREATE EXTENSION IF NOT EXISTS plpgsql_check SCHEMA schemac_plpgsql_check",
        )
        .execute(&mut *conn)
        .await
        .map_err(DbError::query("installing plpgsql_check on the scratch database"))?;
    }
    Ok(available)
}

/// plpgsql_check over every PL/pgSQL function of `state` (trigger functions against the
/// tables their triggers are on).
async fn plpgsql_check(
    conn: &mut PgConnection,
    state: &Catalog,
    migration: &str,
) -> Result<Vec<LintFinding>, LiveError> {
    let mut out = Vec::new();
    for (key, f) in &state.functions {
        if f.language != "plpgsql" {
            continue;
        }
        let signature = format!("{}({})", f.name.quoted(), f.identity_types().join(", "));
        let relations: Vec<String> = if matches!(f.returns, crate::catalog::Returns::Trigger) {
            state
                .tables
                .values()
                .filter(|t| t.triggers.iter().any(|tr| tr.function.name == f.name))
                .map(|t| t.name.quoted())
                .collect()
        } else {
            vec![String::new()]
        };
        for rel in relations.iter().take(1) {
            let sql = if rel.is_empty() {
                "SELECT lineno, level, message, hint FROM schemac_plpgsql_check.plpgsql_check_function_tb($1::regprocedure, fatal_errors => false)"
            } else {
                "SELECT lineno, level, message, hint FROM schemac_plpgsql_check.plpgsql_check_function_tb($1::regprocedure, $2::regclass, fatal_errors => false)"
            };
            let mut q = sqlx::query(sql).bind(&signature);
            if !rel.is_empty() {
                q = q.bind(rel);
            }
            let rows = q
                .fetch_all(&mut *conn)
                .await
                .map_err(DbError::query(format!("plpgsql_check of {signature}")))?;
            for r in rows {
                let lineno: Option<i32> = r.try_get("lineno").ok().flatten();
                let level: String = r.try_get("level").unwrap_or_default();
                out.push(LintFinding {
                    function: key_text(key),
                    level,
                    message: r.try_get("message").unwrap_or_default(),
                    hint: r.try_get("hint").ok().flatten(),
                    at: body_line(state, key, &f.body, lineno),
                    migration: migration.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// How many migrations cannot be rolled back through (up to the last irreversible one).
fn first_up_bound(irreversible: &[bool]) -> usize {
    irreversible.iter().rposition(|x| *x).map_or(0, |i| i + 1)
}

fn key_text(k: &FunctionKey) -> String {
    k.to_string()
}

/// The YAML position of line `lineno` of a function body (PostgreSQL counts from the line of
/// the opening dollar quote, which the template puts on a line of its own before the body).
fn body_line(state: &Catalog, key: &FunctionKey, body: &str, lineno: Option<i32>) -> Option<Span> {
    let decl = state.origin(&format!("function {key}"))?.clone();
    let Some(n) = lineno.filter(|n| *n > 0) else {
        return Some(decl);
    };
    let body_start = state.origin(&format!("function {key} body")).cloned();
    let lead = usize::from(!body.starts_with('\n'));
    match body_start {
        Some(b) => Some(Span {
            line: b.line + (n as u64).saturating_sub(1 + lead as u64),
            ..b
        }),
        None => Some(decl),
    }
}
