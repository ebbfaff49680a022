//! Scratch: a throwaway PostgreSQL where the specs are built to get PostgreSQL's normal form
//! of the expected state (and where `verify` applies the migrations).
//!
//! By default an embedded cluster is started from the server binaries found on the machine
//! (`initdb` / `pg_ctl` from `/usr/lib/postgresql/<major>/bin` or `pg_config --bindir`, run as
//! the `postgres` user when schemac runs as root), listening only on a Unix socket in a temp
//! folder. With `--dev-url`, an existing server is used instead, where schemac creates and
//! drops its scratch databases. Either way everything is removed again: on success and on
//! error (guards), on Ctrl-C / SIGTERM (a handler runs the same cleanup), and for the
//! embedded cluster even when schemac is killed (a detached watchdog stops it once schemac's
//! process is gone).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, Once};

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use crate::catalog::{quote_ident, Catalog, Role};
use crate::db::{DbError, DbUrl};
use crate::diff;
use crate::introspect::{self, Introspected, Scope};
use crate::render::Renderer;

#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("{0}")]
    Db(#[from] DbError),
    #[error("cannot start the scratch PostgreSQL: {0}")]
    Start(String),
    #[error("building the expected state on the scratch database failed at\n{statement}\n{error}\nhelp: {help}")]
    Build {
        statement: String,
        error: String,
        help: String,
    },
    #[error("the specs cannot be compiled to the expected state: {0}")]
    Compile(String),
}

/// Cleanup that must happen however schemac ends.
enum Cleanup {
    StopCluster {
        pg_ctl: PathBuf,
        data: PathBuf,
        dir: PathBuf,
        run_as: Option<String>,
    },
    DropDatabase {
        admin: Box<DbUrl>,
        name: String,
        roles: Vec<String>,
    },
}

static PENDING: Mutex<Vec<(u32, Cleanup)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU32 = AtomicU32::new(1);
static HANDLER: Once = Once::new();
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// After Ctrl-C / SIGTERM the handler cleans up and ends the process (exit 130); whatever the
/// interrupted work returned meanwhile (often an error: its server was stopped) must not end
/// it first. Commands call this before returning.
pub fn wait_if_interrupted() {
    while INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn register(c: Cleanup) -> u32 {
    HANDLER.call_once(|| {
        // On Ctrl-C / SIGTERM: run what is pending (databases first, then clusters), exit 130.
        let _ = ctrlc::set_handler(|| {
            INTERRUPTED.store(true, Ordering::SeqCst);
            eprintln!("\ninterrupted: removing the scratch database");
            let pending: Vec<(u32, Cleanup)> = std::mem::take(&mut *lock());
            for (_, c) in pending.iter().rev() {
                run_blocking(c);
            }
            std::process::exit(130);
        });
    });
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    lock().push((id, c));
    id
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(u32, Cleanup)>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Take a cleanup off the list (it is being done by its owner).
fn unregister(id: u32) -> Option<Cleanup> {
    let mut l = lock();
    let i = l.iter().position(|(x, _)| *x == id)?;
    Some(l.remove(i).1)
}

/// Run a cleanup outside any runtime (from a guard's `Drop` or the signal handler).
fn run_blocking(c: &Cleanup) {
    match c {
        Cleanup::StopCluster {
            pg_ctl,
            data,
            dir,
            run_as,
        } => {
            let mut cmd = server_cmd(run_as.as_deref(), pg_ctl);
            cmd.arg("stop")
                .arg("-D")
                .arg(data)
                .args(["-m", "immediate", "-w", "-t", "30"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let _ = cmd.status();
            let _ = std::fs::remove_dir_all(dir);
        }
        Cleanup::DropDatabase { admin, name, roles } => {
            // A thread of its own: the caller may be inside the async runtime.
            let (admin, name, roles) = (admin.clone(), name.clone(), roles.clone());
            let _ = std::thread::spawn(move || {
                let rt = crate::db::runtime().ok()?;
                rt.block_on(async {
                    let mut conn = admin.connect().await.ok()?;
                    drop_database(&mut conn, &name, &roles).await.ok()
                })
            })
            .join();
        }
    }
}

async fn drop_database(
    conn: &mut PgConnection,
    name: &str,
    roles: &[String],
) -> Result<(), DbError> {
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    sqlx::raw_sql(&sql)
        .execute(&mut *conn)
        .await
        .map_err(DbError::query(format!("dropping scratch database {name}")))?;
    // Roles the scratch work created on a shared server (migrations create roles, which are
    // cluster-wide): only those that did not exist before.
    for r in roles {
        let sql = format!("DROP ROLE IF EXISTS {}", quote_ident(r));
        let _ = sqlx::raw_sql(&sql).execute(&mut *conn).await;
    }
    Ok(())
}

/// The scratch server.
pub struct ScratchServer {
    admin: DbUrl,
    cluster: Option<u32>,
    pub description: String,
}

impl ScratchServer {
    /// An embedded cluster, or the server at `dev_url`. `major` picks the binaries of a
    /// PostgreSQL major version (the live server's) when several are installed.
    pub async fn start(dev_url: Option<&str>, major: Option<u32>) -> Result<Self, ScratchError> {
        match dev_url {
            Some(url) => {
                let admin = DbUrl::parse(url)?;
                let conn = admin.connect().await?;
                conn.close().await.ok();
                Ok(ScratchServer {
                    description: format!("dev server {}", admin.display),
                    admin,
                    cluster: None,
                })
            }
            // Starting a cluster takes a second or two of child processes; nothing else
            // runs meanwhile, so blocking the (single-threaded) runtime is fine.
            None => start_cluster(major),
        }
    }

    /// The role scratch work runs as (it owns whatever the migrations create without an
    /// explicit owner).
    pub fn user(&self) -> String {
        self.admin.options.get_username().to_string()
    }

    /// A new, empty database (dropped by the returned guard's [`ScratchDb::close`], or by the
    /// cleanup on Ctrl-C / drop).
    pub async fn create_database(
        &self,
        purpose: &str,
        declared_roles: &[String],
    ) -> Result<ScratchDb, ScratchError> {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "schemac_{purpose}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = self.admin.connect().await?;
        let existing: Vec<String> =
            sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)")
                .bind(declared_roles)
                .fetch_all(&mut conn)
                .await
                .map_err(DbError::query("reading the roles of the scratch server"))?;
        let roles: Vec<String> = declared_roles
            .iter()
            .filter(|r| !existing.contains(r))
            .cloned()
            .collect();
        let sql = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name));
        let id = register(Cleanup::DropDatabase {
            admin: Box::new(self.admin.clone()),
            name: name.clone(),
            roles: roles.clone(),
        });
        if let Err(e) = sqlx::raw_sql(&sql).execute(&mut conn).await {
            unregister(id);
            return Err(DbError::Query {
                what: format!(
                    "creating scratch database {name} on {} (the role needs CREATEDB)",
                    self.description
                ),
                source: e,
            }
            .into());
        }
        conn.close().await.ok();
        Ok(ScratchDb {
            url: self.admin.with_database(&name),
            admin: self.admin.clone(),
            name,
            roles,
            cleanup: Some(id),
        })
    }
}

impl Drop for ScratchServer {
    fn drop(&mut self) {
        if let Some(c) = self.cluster.take().and_then(unregister) {
            run_blocking(&c);
        }
    }
}

/// A scratch database; [`ScratchDb::close`] drops it (and the roles scratch work created).
pub struct ScratchDb {
    pub url: DbUrl,
    admin: DbUrl,
    pub name: String,
    roles: Vec<String>,
    cleanup: Option<u32>,
}

impl ScratchDb {
    pub async fn close(mut self) -> Result<(), DbError> {
        if let Some(id) = self.cleanup.take() {
            unregister(id);
            let mut conn = self.admin.connect().await?;
            drop_database(&mut conn, &self.name, &self.roles).await?;
            conn.close().await.ok();
        }
        Ok(())
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Some(c) = self.cleanup.take().and_then(unregister) {
            run_blocking(&c);
        }
    }
}

/// Server binaries: `SCHEMAC_PG_BINDIR`, else `/usr/lib/postgresql/<major>/bin` (the wanted
/// major version, else the highest installed), else `pg_config --bindir`.
fn find_bindir(major: Option<u32>) -> Result<PathBuf, String> {
    if let Ok(dir) = std::env::var("SCHEMAC_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
        return Err(format!("SCHEMAC_PG_BINDIR={} has no initdb", dir.display()));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some(m) = major {
        if let Some((_, bin)) = versions.iter().find(|(v, _)| *v == m) {
            return Ok(bin.clone());
        }
    }
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").is_file() {
            return Ok(dir);
        }
    }
    Err("no PostgreSQL server binaries (initdb) in /usr/lib/postgresql/*/bin nor from `pg_config --bindir`; install the server package (e.g. postgresql-15), set SCHEMAC_PG_BINDIR, or pass --dev-url".into())
}

fn is_root() -> bool {
    // SAFETY-free check: the effective uid of this process, from /proc.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn server_cmd(run_as: Option<&str>, program: &Path) -> Command {
    match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {what} ({:?}): {e}", cmd.get_program()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn start_cluster(major: Option<u32>) -> Result<ScratchServer, ScratchError> {
    let bindir = find_bindir(major).map_err(ScratchError::Start)?;
    let run_as = if is_root() {
        Some("postgres".to_string())
    } else {
        None
    };
    // A short path (the socket path must stay under 107 bytes) that the server's user can
    // reach: /tmp when running as root (a private $TMPDIR would lock `postgres` out).
    let dir = std::env::temp_dir()
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("/tmp"));
    let dir = if dir.as_os_str().len() > 60 || run_as.is_some() {
        PathBuf::from("/tmp")
    } else {
        dir
    };
    let dir = dir.join(format!(
        "schemac-scratch.{}.{}",
        std::process::id(),
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    ));
    // Private (0700): the cluster trusts every connection on its socket.
    private_dir(&dir)?;
    let data = dir.join("data");
    let sock = dir.join("sock");
    let log = dir.join("log");
    private_dir(&sock)?;
    let pg_ctl = bindir.join("pg_ctl");
    let id = register(Cleanup::StopCluster {
        pg_ctl: pg_ctl.clone(),
        data: data.clone(),
        dir: dir.clone(),
        run_as: run_as.clone(),
    });
    // From here on, the server guard removes the folder whatever happens.
    let server = ScratchServer {
        admin: DbUrl::parse(&format!(
            "postgres://postgres@/postgres?socket={}&port=5432&sslmode=disable",
            sock.display()
        ))?,
        cluster: Some(id),
        description: format!("embedded cluster from {}", bindir.display()),
    };
    spawn_watchdog(&pg_ctl, &data, &dir, run_as.as_deref());
    if let Some(user) = &run_as {
        run(
            Command::new("chown").arg("-R").arg(format!("{user}:")).arg(&dir),
            "chown of the scratch folder",
        )
        .map_err(|e| {
            ScratchError::Start(format!(
                "{e} (running as root, the server runs as `{user}`: install the PostgreSQL server package, which creates that user)"
            ))
        })?;
    }
    run(
        server_cmd(run_as.as_deref(), &bindir.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null()),
        "initdb",
    )
    .map_err(ScratchError::Start)?;
    // The expected state is built in one transaction, which locks every relation of it:
    // thousands of tables need more than the default lock table (64 locks per connection,
    // about 6,400 in all). schemac needs few connections; 2,048 locks for each of the
    // server's processes hold a state of about 10,000 tables.
    let opts = format!(
        "-k {} -c listen_addresses='' -c unix_socket_permissions=0700 -p 5432 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=20 -c max_locks_per_transaction=2048",
        sock.display()
    );
    run(
        server_cmd(run_as.as_deref(), &pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .arg("-o")
            .arg(&opts)
            .args(["-w", "-t", "60", "start"])
            .current_dir(&dir)
            .stdin(Stdio::null()),
        "pg_ctl start",
    )
    .map_err(|e| {
        let server_log = std::fs::read_to_string(&log).unwrap_or_default();
        ScratchError::Start(format!("{e}\nserver log:\n{server_log}"))
    })?;
    Ok(server)
}

/// A detached shell that stops the cluster and removes its folder once this process is gone
/// (also when it is killed); it ignores SIGINT / SIGHUP, so a Ctrl-C reaches only schemac.
fn spawn_watchdog(pg_ctl: &Path, data: &Path, dir: &Path, run_as: Option<&str>) {
    use std::os::unix::process::CommandExt;
    const SCRIPT: &str = r#"trap '' HUP INT TERM
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -d "$4" ]; then
  if [ -n "$5" ]; then runuser -u "$5" -- "$2" stop -D "$3" -m immediate -t 30
  else "$2" stop -D "$3" -m immediate -t 30; fi
  rm -rf "$4"
fi
"#;
    let _ = Command::new("sh")
        .args(["-c", SCRIPT, "schemac-scratch-watchdog"])
        .arg(std::process::id().to_string())
        .arg(pg_ctl)
        .arg(data)
        .arg(dir)
        .arg(run_as.unwrap_or(""))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

/// What a scratch build needs besides the state: the raw SQL of the layers up to it, and
/// what the project expects to exist already.
pub struct BuildInput<'a> {
    pub state: &'a Catalog,
    /// `(layer name, sql.up)` of the layers up to the state.
    pub raw_up: Vec<(&'a str, &'a str)>,
    pub external_roles: &'a [String],
    pub external_schemas: &'a [String],
}

/// Build `input.state` directly (the statements of `generated/schema.sql` for that state) in
/// one transaction on `db`, introspect it, and roll everything back. Roles that already exist
/// on the server are not created again (a role is cluster-wide; the rolled-back transaction
/// leaves the server as it was). The expected roles are the spec's (passwords aside): a role
/// has no normal form to learn from PostgreSQL.
pub async fn build_expected(
    db: &DbUrl,
    input: &BuildInput<'_>,
    scope: &Scope,
    renderer: &Renderer,
) -> Result<Built, ScratchError> {
    let changes = diff::diff(&Catalog::default(), input.state).map_err(|d| {
        ScratchError::Compile(
            d.0.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mut conn = db.connect().await?;
    let mut tx = conn
        .begin()
        .await
        .map_err(DbError::query("starting the scratch build"))?;
    sqlx::raw_sql("SET LOCAL check_function_bodies = off")
        .execute(&mut *tx)
        .await
        .map_err(DbError::query("scratch build settings"))?;
    let mut wanted: Vec<String> = input.state.roles.keys().cloned().collect();
    wanted.extend(input.external_roles.iter().cloned());
    let existing: Vec<String> =
        sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)")
            .bind(&wanted)
            .fetch_all(&mut *tx)
            .await
            .map_err(DbError::query("reading existing roles"))?;
    let mut statements: Vec<String> = Vec::new();
    for r in input.external_roles {
        if !existing.contains(r) {
            statements.push(format!("CREATE ROLE {} NOLOGIN", quote_ident(r)));
        }
    }
    for s in input.external_schemas {
        statements.push(format!("CREATE SCHEMA IF NOT EXISTS {}", quote_ident(s)));
    }
    // Rendered one at a time, each change dropped once rendered: at thousands of tables the
    // changes and their statements are the largest part of a build.
    for c in changes {
        if matches!(&c, diff::Change::CreateRole { role } if existing.contains(&role.name)) {
            continue;
        }
        let s = renderer
            .render(&c)
            .map_err(|e| ScratchError::Compile(e.to_string()))?;
        if !s.sql.is_empty() {
            statements.push(s.sql);
        }
    }
    // Statements go to the server in batches, each under a savepoint: one round trip per
    // statement was most of the time of a build (tens of thousands of them at a thousand
    // tables). When a batch fails, it is rolled back and run again one statement at a time,
    // to name the statement that fails.
    for batch in batches(&statements) {
        let batch = &statements[batch];
        sqlx::raw_sql("SAVEPOINT schemac_batch")
            .execute(&mut *tx)
            .await
            .map_err(DbError::query("scratch build savepoint"))?;
        let Err(batch_error) = sqlx::raw_sql(&batch_sql(batch)).execute(&mut *tx).await else {
            sqlx::raw_sql("RELEASE SAVEPOINT schemac_batch")
                .execute(&mut *tx)
                .await
                .map_err(DbError::query("scratch build savepoint"))?;
            continue;
        };
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT schemac_batch")
            .execute(&mut *tx)
            .await
            .map_err(DbError::query("scratch build savepoint"))?;
        let mut failed = None;
        for statement in batch {
            if let Err(e) = sqlx::raw_sql(statement).execute(&mut *tx).await {
                failed = Some((statement.as_str(), e));
                break;
            }
        }
        let (statement, e) = failed.unwrap_or((batch[0].as_str(), batch_error));
        return Err(build_error(statement, &e, input.state.tables.len()));
    }
    drop(statements);
    // A layer's raw SQL was written for the state of its layer; on the direct build of a
    // later state it may no longer apply (data for a table renamed since). It runs under a
    // savepoint: what fails is left out, and said.
    let mut warnings = Vec::new();
    for (layer, raw) in &input.raw_up {
        let run = async {
            sqlx::raw_sql("SAVEPOINT schemac_raw")
                .execute(&mut *tx)
                .await?;
            sqlx::raw_sql(raw).execute(&mut *tx).await
        };
        let done = match run.await {
            Ok(_) => "RELEASE SAVEPOINT schemac_raw",
            Err(e) => {
                warnings.push(format!(
                    "the raw SQL of layer {layer} does not apply to the state built directly, so the expected state leaves it out: {e}"
                ));
                "ROLLBACK TO SAVEPOINT schemac_raw"
            }
        };
        sqlx::raw_sql(done)
            .execute(&mut *tx)
            .await
            .map_err(DbError::query("raw SQL savepoint"))?;
    }
    let mut found = introspect::introspect(&mut tx, scope).await?;
    tx.rollback()
        .await
        .map_err(DbError::query("rolling back the scratch build"))?;
    conn.close().await.ok();
    found.catalog.roles = spec_roles(input.state);
    Ok(Built {
        introspected: found,
        warnings,
    })
}

/// About how much SQL goes to the server at once.
const BATCH_BYTES: usize = 256 * 1024;

/// The statements in batches of about [`BATCH_BYTES`] of SQL, in order.
fn batches(statements: &[String]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, statement) in statements.iter().enumerate() {
        bytes += statement.len() + 3;
        if bytes >= BATCH_BYTES || i + 1 == statements.len() {
            out.push(from..i + 1);
            (from, bytes) = (i + 1, 0);
        }
    }
    out
}

/// One batch as one script. Each statement is terminated whether or not it ends in `;` (an
/// empty statement is no error), and a trailing line comment cannot swallow the next one.
fn batch_sql(statements: &[String]) -> String {
    let mut sql = String::with_capacity(statements.iter().map(|s| s.len() + 3).sum());
    for statement in statements {
        sql.push_str(statement);
        sql.push_str("\n;\n");
    }
    sql
}

fn build_error(statement: &str, e: &sqlx::Error, tables: usize) -> ScratchError {
    // 53200: the lock table is full (every relation of the state is locked by the one
    // transaction that builds it).
    let out_of_locks = e
        .as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "53200");
    let help = if out_of_locks {
        format!("the expected state is built in one transaction, which locks each of its relations ({tables} tables here); raise max_locks_per_transaction on that server (each connection slot holds that many locks; the default, 64, holds about 6,400 in all), or leave out --dev-url to use schemac's own scratch cluster, which is started with room for about 10,000 tables")
    } else {
        "the scratch database has only what the specs create (and empty stand-ins for external roles and schemas); when the specs use objects a platform provides, pass --dev-url with a server that has them".into()
    };
    ScratchError::Build {
        statement: statement.to_string(),
        error: e.to_string(),
        help,
    }
}

/// A scratch build: the expected catalog, and what could not be built.
pub struct Built {
    pub introspected: Introspected,
    pub warnings: Vec<String>,
}

/// The declared roles as introspection sees them (no password: it cannot be read back).
pub fn spec_roles(state: &Catalog) -> std::collections::BTreeMap<String, Role> {
    state
        .roles
        .iter()
        .map(|(k, r)| {
            let mut r = r.clone();
            r.password_env = None;
            (k.clone(), r)
        })
        .collect()
}

/// A folder only its owner may enter (the scratch cluster's socket accepts anyone who can
/// reach it, as superuser).
fn private_dir(path: &Path) -> Result<(), ScratchError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| ScratchError::Start(format!("mkdir {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_every_statement_once_in_order() {
        let statements: Vec<String> = (0..2000)
            .map(|i| format!("COMMENT ON TABLE t{i} IS '{}' -- {i}", "x".repeat(i % 700)))
            .collect();
        let all = batches(&statements);
        assert!(all.len() > 1, "{} batches", all.len());
        let back: Vec<&String> = all.iter().flat_map(|r| &statements[r.clone()]).collect();
        assert_eq!(back, statements.iter().collect::<Vec<_>>());
        for r in &all {
            let sql = batch_sql(&statements[r.clone()]);
            assert!(sql.len() < BATCH_BYTES + 1024);
            let expected: String = statements[r.clone()]
                .iter()
                .map(|s| format!("{s}\n;\n"))
                .collect();
            assert_eq!(sql, expected);
        }
        assert!(batches(&[]).is_empty());
    }
}
