//! Test support: a throwaway PostgreSQL 15 cluster (or the server named by
//! `DATABASE_URL`), fresh databases, and wrappers around `psql`, `pg_dump`
//! and the real `dbmate` binary.
//!
//! Use from an integration test with `mod support;`.
//!
//! Without `DATABASE_URL`, the first call to [`server`] runs `initdb` into a
//! short temp dir under `/tmp` (unix socket paths are limited to 107 bytes),
//! starts the cluster on a unix socket only (no TCP), and spawns a detached
//! watchdog shell that stops the cluster and removes the dir once the test
//! process has exited. Rust never drops statics, so the watchdog is the
//! cleanup mechanism; it also fires when the test process is killed.
//!
//! When the tests run as root, the data dir is chowned to `postgres` and
//! `initdb`/`pg_ctl` run through `runuser -u postgres --` (PostgreSQL refuses
//! to run as root). The clients (`psql`, `pg_dump`, `dbmate`) run as the
//! current user and connect as the `postgres` role with trust auth.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Where Debian's postgresql-15 package puts the server binaries.
const DEFAULT_BINDIR: &str = "/usr/lib/postgresql/15/bin";
/// Port of the throwaway cluster. It only listens on its own socket dir, so
/// this never clashes with a system cluster on the same port.
const PORT: u16 = 5432;

/// A PostgreSQL server the tests can use.
pub struct PgServer {
    /// URL (dbmate-compatible) of the maintenance database `postgres`.
    admin_url: String,
    /// Directory holding `psql`/`pg_dump` of the matching version, if known;
    /// otherwise they are looked up on `PATH`.
    bindir: Option<PathBuf>,
    /// The throwaway cluster, if this process started one.
    cluster: Option<Cluster>,
}

struct Cluster {
    /// Temp dir holding `data/`, `sock/` and `log`.
    dir: PathBuf,
    sock: PathBuf,
    /// How long `initdb` + `pg_ctl start` took.
    startup: Duration,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
static LOCK: Mutex<()> = Mutex::new(());
static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The process-wide server, started on first use.
///
/// Panics (in every caller) with the cause if the server could not be started.
pub fn server() -> &'static PgServer {
    match SERVER.get_or_init(PgServer::init) {
        Ok(s) => s,
        Err(e) => panic!("test PostgreSQL server unavailable: {e}"),
    }
}

/// Process-wide lock for tests that touch cluster-wide state (roles are
/// shared by all databases of a cluster). Poison-tolerant.
pub fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

impl PgServer {
    fn init() -> Result<PgServer, String> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => {
                let url = url.trim().to_string();
                let parsed = PgUrl::parse(&url)?;
                let admin_url = parsed.with_database("postgres");
                let bindir = find_bindir().ok();
                let server = PgServer {
                    admin_url,
                    bindir,
                    cluster: None,
                };
                server
                    .psql(&server.admin_url, "SELECT 1")
                    .map_err(|e| format!("cannot connect to DATABASE_URL server: {e}"))?;
                Ok(server)
            }
            _ => start_cluster(),
        }
    }

    /// URL of the maintenance database `postgres` (dbmate-compatible form).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Socket directory of the throwaway cluster (None in `DATABASE_URL` mode).
    pub fn socket_dir(&self) -> Option<&Path> {
        self.cluster.as_ref().map(|c| c.sock.as_path())
    }

    /// How long `initdb` + `pg_ctl start` took (None in `DATABASE_URL` mode).
    pub fn startup_time(&self) -> Option<Duration> {
        self.cluster.as_ref().map(|c| c.startup)
    }

    /// Creates a fresh, uniquely named database (from `template0`) and
    /// returns its URL in dbmate's form. The name starts with a sanitized
    /// `name_hint`.
    pub fn create_database(&self, name_hint: &str) -> String {
        let name = unique_db_name(name_hint);
        let sql = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name));
        if let Err(e) = self.psql(&self.admin_url, &sql) {
            panic!("creating database {name} failed: {e}");
        }
        PgUrl::parse(&self.admin_url)
            .expect("admin url parses")
            .with_database(&name)
    }

    /// Drops the database named by `url` (forcibly disconnecting sessions).
    pub fn drop_database(&self, url: &str) {
        let db = PgUrl::parse(url)
            .unwrap_or_else(|e| panic!("{e}"))
            .database
            .unwrap_or_else(|| panic!("no database in url {url}"));
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&db));
        if let Err(e) = self.psql(&self.admin_url, &sql) {
            panic!("dropping database {db} failed: {e}");
        }
    }

    /// Like [`PgServer::drop_database`], but reports failure instead of panicking (for
    /// cleanup in `Drop`, which may run while a test panics).
    pub fn try_drop_database(&self, url: &str) -> Result<(), String> {
        let db = PgUrl::parse(url)?
            .database
            .ok_or_else(|| format!("no database in url {url}"))?;
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&db));
        self.psql(&self.admin_url, &sql).map(|_| ())
    }

    /// Runs one `-c` command with psql (`-X -v ON_ERROR_STOP=1 -A -t -q`).
    /// Ok: stdout, trimmed. Err: stderr (plus exit status).
    pub fn psql(&self, url: &str, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new(self.tool("psql"));
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-q", "-d"])
            .arg(conninfo(url))
            .arg("-c")
            .arg(sql)
            .stdin(Stdio::null());
        let out = run(&mut cmd, "psql");
        finish(out)
    }

    /// Runs a multi-statement script through psql's stdin in a single
    /// transaction (`-1`). Ok: stdout, trimmed. Err: stderr (plus status).
    pub fn psql_script(&self, url: &str, sql: &str) -> Result<String, String> {
        let mut cmd = Command::new(self.tool("psql"));
        cmd.args(["-X", "-v", "ON_ERROR_STOP=1", "-A", "-t", "-q", "-1", "-d"])
            .arg(conninfo(url))
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
        let mut stdin = child.stdin.take().expect("piped stdin");
        let script = sql.to_owned();
        // Write from a thread so a chatty script cannot deadlock on full pipes.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(script.as_bytes());
        });
        let out = child.wait_with_output().expect("waiting for psql");
        let _ = writer.join();
        finish(out)
    }

    /// Runs the real `dbmate` binary:
    /// `dbmate --env-file /dev/null --url URL --migrations-dir DIR --no-dump-schema ARGS...`.
    /// `DATABASE_URL` and `DBMATE_*` variables are removed from its
    /// environment and no `.env` file is read, so only these arguments count.
    pub fn dbmate(&self, url: &str, migrations_dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("dbmate");
        for (k, _) in std::env::vars_os() {
            let k_str = k.to_string_lossy();
            if k_str == "DATABASE_URL" || k_str.starts_with("DBMATE_") {
                cmd.env_remove(&k);
            }
        }
        cmd.args(["--env-file", "/dev/null", "--url", url, "--migrations-dir"])
            .arg(migrations_dir)
            .arg("--no-dump-schema")
            .args(args)
            .stdin(Stdio::null());
        match cmd.output() {
            Ok(o) => o,
            Err(e) => panic!(
                "cannot run dbmate: {e} (install it with `npm install -g dbmate@2.36.0`, \
                 or run scripts/setup.sh)"
            ),
        }
    }

    /// `pg_dump --schema-only --exclude-table=public.schema_migrations`,
    /// keeping owners and privileges, normalized so that two dumps of equal
    /// catalogs are byte-equal: `--` comment lines and `\restrict` /
    /// `\unrestrict` lines (random keys since pg_dump 15.14) are removed,
    /// runs of blank lines collapse to one, and leading/trailing blank lines
    /// are dropped.
    pub fn dump_schema(&self, url: &str) -> String {
        let mut cmd = Command::new(self.tool("pg_dump"));
        cmd.args([
            "--schema-only",
            "--exclude-table=public.schema_migrations",
            "-d",
        ])
        .arg(conninfo(url))
        .stdin(Stdio::null());
        let out = run(&mut cmd, "pg_dump");
        let text = match finish_raw(out) {
            Ok(t) => t,
            Err(e) => panic!("pg_dump of {url} failed: {e}"),
        };
        normalize_dump(&text)
    }

    /// A sorted, line-per-fact listing of the roles named in `names`
    /// (attributes, `ALTER ROLE ... SET` config, and memberships where either
    /// side is in `names`). Roles that don't exist appear as `role X absent`.
    pub fn roles_snapshot(&self, url: &str, names: &[&str]) -> String {
        let arr = if names.is_empty() {
            "ARRAY[]::text[]".to_string()
        } else {
            let items: Vec<String> = names.iter().map(|n| quote_literal(n)).collect();
            format!("ARRAY[{}]::text[]", items.join(", "))
        };
        let sql = format!(
            "WITH names(n) AS (SELECT DISTINCT unnest({arr})) \
             SELECT coalesce(string_agg(line, E'\\n' ORDER BY line COLLATE \"C\"), '') FROM ( \
               SELECT CASE WHEN r.oid IS NULL THEN format('role %s absent', n.n) \
                 ELSE format('role %s login=%s inherit=%s bypassrls=%s createdb=%s \
createrole=%s connlimit=%s superuser=%s replication=%s config=%s', \
                   r.rolname, r.rolcanlogin::text, r.rolinherit::text, r.rolbypassrls::text, \
                   r.rolcreatedb::text, r.rolcreaterole::text, r.rolconnlimit, r.rolsuper::text, \
                   r.rolreplication::text, \
                   coalesce((SELECT array_agg(c ORDER BY c COLLATE \"C\") \
                             FROM unnest(r.rolconfig) c)::text, '{{}}')) END AS line \
               FROM names n LEFT JOIN pg_roles r ON r.rolname = n.n \
               UNION ALL \
               SELECT format('member %s of %s admin=%s', m.rolname, g.rolname, am.admin_option::text) \
               FROM pg_auth_members am \
               JOIN pg_roles g ON g.oid = am.roleid \
               JOIN pg_roles m ON m.oid = am.member \
               WHERE g.rolname IN (SELECT n FROM names) OR m.rolname IN (SELECT n FROM names) \
             ) s"
        );
        match self.psql(url, &sql) {
            Ok(s) => s,
            Err(e) => panic!("roles snapshot failed: {e}"),
        }
    }

    /// Make the throwaway cluster require a password (SCRAM) for `role` on its socket: a
    /// line for that role alone goes first in `pg_hba.conf`, then the configuration is
    /// reloaded. Returns false in `DATABASE_URL` mode (that server's rules are left alone).
    pub fn require_password_for(&self, role: &str) -> bool {
        if self.cluster.is_none() {
            return false;
        }
        let path = self
            .psql(&self.admin_url, "SHOW hba_file")
            .unwrap_or_else(|e| panic!("SHOW hba_file: {e}"));
        let old = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let line = format!("local all {} scram-sha-256\n", quote_ident(role));
        std::fs::write(&path, line + &old).unwrap_or_else(|e| panic!("{path}: {e}"));
        self.psql(&self.admin_url, "SELECT pg_reload_conf()")
            .unwrap_or_else(|e| panic!("pg_reload_conf: {e}"));
        true
    }

    /// URL of database `db` as `user` with `password` (same server and socket as the admin
    /// URL).
    pub fn url_as(&self, user: &str, password: &str, db: &str) -> String {
        let admin = PgUrl::parse(&self.admin_url).expect("admin url parses");
        let host = admin
            .authority
            .rsplit_once('@')
            .map_or(admin.authority.as_str(), |(_, h)| h);
        let mut s = format!(
            "{}://{}:{}@{host}/{}",
            admin.scheme,
            pct_encode(user),
            pct_encode(password),
            pct_encode(db)
        );
        if let Some(q) = &admin.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// Path of a PostgreSQL client tool: from the server's bindir when
    /// known, else from `PATH`.
    pub fn tool(&self, name: &str) -> PathBuf {
        if let Some(dir) = &self.bindir {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
        PathBuf::from(name)
    }
}

// ---------------------------------------------------------------------------
// Throwaway cluster
// ---------------------------------------------------------------------------

fn start_cluster() -> Result<PgServer, String> {
    let t0 = Instant::now();
    let bindir = find_bindir()?;
    let run_as = if is_root() {
        let ok = Command::new("id")
            .args(["-u", "postgres"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            return Err(
                "running as root but there is no `postgres` user to run the \
                        server as (install postgresql-15, or run scripts/setup.sh)"
                    .into(),
            );
        }
        Some("postgres")
    } else {
        None
    };

    // Short path under /tmp (not $TMPDIR): the socket path
    // <dir>/sock/.s.PGSQL.5432 must stay under 107 bytes.
    let dir = tempfile::Builder::new()
        .prefix("schemac-pg.")
        .tempdir_in("/tmp")
        .map_err(|e| format!("cannot create temp dir under /tmp: {e}"))?
        .keep();
    let data = dir.join("data");
    let sock = dir.join("sock");
    let log = dir.join("log");
    std::fs::create_dir(&sock).map_err(|e| format!("mkdir {}: {e}", sock.display()))?;

    // Cleanup first, so that a failed initdb/start still leaves nothing behind.
    spawn_watchdog(&bindir.join("pg_ctl"), &data, &dir, run_as)?;

    if let Some(user) = run_as {
        let out = Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:"))
            .arg(&dir)
            .output()
            .map_err(|e| format!("cannot run chown: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "chown -R {user}: {} failed: {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }

    let mut initdb = server_cmd(run_as, &bindir.join("initdb"));
    initdb
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
        .stdin(Stdio::null());
    let out = initdb
        .output()
        .map_err(|e| format!("cannot run initdb ({:?}): {e}", initdb.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    // A migration that re-creates the policies of thousands of tables (a helper function
    // they call changes its signature) locks them all in one transaction: PostgreSQL's
    // default lock table (64 per connection) holds about 6,400 (see BENCHMARKS.md).
    let opts = format!(
        "-k {} -c listen_addresses='' -p {PORT} -c fsync=off -c full_page_writes=off \
         -c synchronous_commit=off -c max_locks_per_transaction=1024",
        sock.display()
    );
    let mut pg_ctl = server_cmd(run_as, &bindir.join("pg_ctl"));
    pg_ctl
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log) // the postmaster must not inherit our stdout/stderr pipes
        .arg("-o")
        .arg(&opts)
        .args(["-w", "-t", "60", "start"])
        .current_dir(&dir)
        .stdin(Stdio::null());
    let out = pg_ctl
        .output()
        .map_err(|e| format!("cannot run pg_ctl ({:?}): {e}", pg_ctl.get_program()))?;
    if !out.status.success() {
        let server_log = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed ({}):\n{}{}\nserver log:\n{server_log}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    let admin_url = format!(
        "postgres://postgres@/postgres?socket={}&port={PORT}&sslmode=disable",
        sock.display()
    );
    Ok(PgServer {
        admin_url,
        bindir: Some(bindir),
        cluster: Some(Cluster {
            dir,
            sock,
            startup: t0.elapsed(),
        }),
    })
}

/// `initdb`/`pg_ctl`, through `runuser -u USER --` when running as root.
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

/// Detached shell that waits for this process to exit, then stops the
/// cluster (`pg_ctl stop -m immediate`) and removes its dir. It runs under
/// nohup in its own process group, ignoring SIGINT/SIGHUP, so a Ctrl-C on
/// `cargo test` still cleans up.
fn spawn_watchdog(
    pg_ctl: &Path,
    data: &Path,
    dir: &Path,
    run_as: Option<&str>,
) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    const SCRIPT: &str = r#"trap '' HUP INT
while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -n "$5" ]; then
  runuser -u "$5" -- "$2" stop -D "$3" -m immediate -t 30
else
  "$2" stop -D "$3" -m immediate -t 30
fi
rm -rf "$4"
"#;
    Command::new("nohup")
        .args(["sh", "-c", SCRIPT, "schemac-pg-watchdog"])
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
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot spawn cleanup watchdog (nohup sh): {e}"))
}

fn find_bindir() -> Result<PathBuf, String> {
    let default = PathBuf::from(DEFAULT_BINDIR);
    if default.join("initdb").is_file() {
        return Ok(default);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if dir.join("initdb").is_file() {
                return Ok(dir);
            }
        }
    }
    Err(format!(
        "PostgreSQL server binaries (initdb) not found in {DEFAULT_BINDIR} nor in \
         `pg_config --bindir`; install postgresql-15 (scripts/setup.sh) or set DATABASE_URL"
    ))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Running tools
// ---------------------------------------------------------------------------

fn run(cmd: &mut Command, what: &str) -> Output {
    match cmd.output() {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run {what} ({:?}): {e} (install postgresql-client-15, or run scripts/setup.sh)",
            cmd.get_program()
        ),
    }
}

fn finish_raw(out: Output) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim();
        Err(if stderr.is_empty() {
            format!("{} (no stderr)", out.status)
        } else {
            format!("{stderr} ({})", out.status)
        })
    }
}

fn finish(out: Output) -> Result<String, String> {
    finish_raw(out).map(|s| s.trim().to_string())
}

/// See [`PgServer::dump_schema`].
pub fn normalize_dump(text: &str) -> String {
    let mut out = String::new();
    let mut pending_blank = false;
    for line in text.lines() {
        if line.starts_with("--")
            || line.starts_with("\\restrict")
            || line.starts_with("\\unrestrict")
        {
            continue;
        }
        if line.trim().is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if pending_blank {
            out.push('\n');
            pending_blank = false;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn unique_db_name(hint: &str) -> String {
    let mut base: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        base.insert_str(0, "db_");
    }
    base.truncate(32);
    let n = DB_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    // At most 32 + 1 + 8 + 1 + 10 + 1 + 8 = 61 bytes (PostgreSQL allows 63).
    format!("{base}_{:x}_{n}_{}", std::process::id(), to_base36(nanos))
}

fn to_base36(mut v: u128) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if v == 0 {
        return "0".into();
    }
    let mut s = Vec::new();
    while v > 0 {
        s.push(DIGITS[(v % 36) as usize]);
        v /= 36;
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

// ---------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------

/// Converts a dbmate-style URL (`postgres://user:pw@host:port/db?...`, or the
/// unix-socket form `postgres://user@/db?socket=/dir&port=5432`) into a libpq
/// conninfo string for psql/pg_dump, which don't understand `socket=`.
/// Query parameters that libpq doesn't know (e.g. dbmate's `search_path`)
/// are dropped. A string that isn't a URL is returned unchanged.
pub fn conninfo(url: &str) -> String {
    let u = match PgUrl::parse(url) {
        Ok(u) => u,
        Err(_) => return url.to_string(),
    };
    let mut parts: Vec<(String, String)> = Vec::new();
    let socket = u
        .params
        .iter()
        .find(|(k, _)| k == "socket" || k == "host")
        .map(|(_, v)| v.clone());
    if let Some(h) = socket.or_else(|| u.host.clone()) {
        parts.push(("host".into(), h));
    }
    let port = u.port.clone().or_else(|| {
        u.params
            .iter()
            .find(|(k, _)| k == "port")
            .map(|(_, v)| v.clone())
    });
    if let Some(p) = port {
        parts.push(("port".into(), p));
    }
    if let Some(user) = &u.user {
        parts.push(("user".into(), user.clone()));
    }
    if let Some(pw) = &u.password {
        parts.push(("password".into(), pw.clone()));
    }
    if let Some(db) = &u.database {
        parts.push(("dbname".into(), db.clone()));
    }
    const PASSTHROUGH: &[&str] = &[
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslpassword",
        "connect_timeout",
        "application_name",
        "options",
        "target_session_attrs",
        "channel_binding",
        "passfile",
        "gssencmode",
    ];
    for (k, v) in &u.params {
        if PASSTHROUGH.contains(&k.as_str()) {
            parts.push((k.clone(), v.clone()));
        }
    }
    parts
        .iter()
        .map(|(k, v)| format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Minimal parser for `postgres://` / `postgresql://` URLs.
struct PgUrl {
    scheme: String,
    /// Raw (still percent-encoded) `user:pw@host:port` part.
    authority: String,
    /// Raw query string without `?`.
    query: Option<String>,
    user: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<String>,
    database: Option<String>,
    params: Vec<(String, String)>,
}

impl PgUrl {
    fn parse(url: &str) -> Result<PgUrl, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("not a postgres URL: {url}"))?;
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(format!("not a postgres URL: {url}"));
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q.to_string())),
            None => (rest, None),
        };
        let (authority, path) = match before_query.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (before_query, None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            Some(ui) => match ui.split_once(':') {
                Some((u, p)) => (non_empty(pct_decode(u)), Some(pct_decode(p))),
                None => (non_empty(pct_decode(ui)), None),
            },
            None => (None, None),
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            // [ipv6]:port
            let (h, rest) = h.split_once(']').unwrap_or((h, ""));
            (
                non_empty(h.to_string()),
                rest.strip_prefix(':').and_then(|p| non_empty(p.into())),
            )
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (non_empty(pct_decode(h)), non_empty(p.to_string())),
                None => (non_empty(pct_decode(hostport)), None),
            }
        };
        let database = path.and_then(|p| non_empty(pct_decode(p)));
        let params = query
            .as_deref()
            .unwrap_or("")
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (pct_decode(k), pct_decode(v)),
                None => (pct_decode(kv), String::new()),
            })
            .collect();
        Ok(PgUrl {
            scheme: scheme.to_string(),
            authority: authority.to_string(),
            query,
            user,
            password,
            host,
            port,
            database,
            params,
        })
    }

    /// The same URL with the database replaced.
    fn with_database(&self, db: &str) -> String {
        let mut s = format!("{}://{}/{}", self.scheme, self.authority, pct_encode(db));
        if let Some(q) = &self.query {
            s.push('?');
            s.push_str(q);
        }
        s
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).expect("ascii hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digits"));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn pct_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Comparing dumps
// ---------------------------------------------------------------------------

/// A unified diff of two texts (3 lines of context, at most 80 lines): enough to see why
/// two dumps are not equal.
pub fn text_diff(a: &str, b: &str) -> String {
    let diff = similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(3)
        .header("expected", "actual")
        .to_string();
    let mut lines: Vec<&str> = diff.lines().take(80).collect();
    if diff.lines().count() > 80 {
        lines.push("...");
    }
    lines.join("\n")
}

// ---------------------------------------------------------------------------
// The differ on narrowed states
// ---------------------------------------------------------------------------

/// Every layer of the project in `dir`, diffed both ways on the states narrowed to what the
/// fold found the layer affects (what `generate` does), on the states narrowed by searching
/// them (what `diff` between any two states does), and on the whole states: the changes
/// must be the same. Returns how many diffs were compared, or what differs (as a unified
/// diff of the change lists).
pub fn compare_focused_diffs(dir: &Path) -> Result<usize, String> {
    use schemac::diff::{diff_layer, diff_layer_both, diff_unfocused, diff_with, Change};
    let project = schemac::spec::load_project(dir).map_err(|_| "does not load".to_string())?;
    let folded = schemac::layers::fold(&project).map_err(|_| "does not fold".to_string())?;
    let show = |r: Result<Vec<Change>, schemac::diagnostic::Diagnostics>| format!("{r:#?}");
    let mut compared = 0;
    for (i, layer) in folded.layers.iter().enumerate() {
        let (before, after) = (&folded.states[i], &folded.states[i + 1]);
        let inverse = layer.transition.inverse();
        let whole_up = show(diff_unfocused(before, after, &layer.transition));
        let whole_down = show(diff_unfocused(after, before, &inverse));
        // Both sections at once (the narrowed states and graphs shared when they can be).
        // The first section that fails fails both: the up section as the whole diff does,
        // or else the down section.
        let (both_up, both_down) =
            match diff_layer_both(before, after, &layer.transition, &layer.affected, |_| true) {
                Ok((up, down)) => (show(Ok(up)), show(Ok(down.unwrap_or_default()))),
                Err(d) => {
                    let failed = show(Err(d));
                    if failed == whole_up {
                        (failed, whole_down.clone())
                    } else {
                        (whole_up.clone(), failed)
                    }
                }
            };
        for (what, from, to, t, whole, both) in [
            ("up", before, after, &layer.transition, &whole_up, both_up),
            ("down", after, before, &inverse, &whole_down, both_down),
        ] {
            let searched = show(diff_with(from, to, t));
            let folded = show(diff_layer(from, to, t, &layer.affected));
            for (how, narrowed) in [
                ("narrowed to the searched affected objects", searched),
                ("narrowed to the fold's affected objects", folded),
                ("of both sections at once", both),
            ] {
                if &narrowed != whole {
                    return Err(format!(
                        "{} {what}: the diff {how} differs from the whole one:\n{}",
                        layer.source,
                        text_diff(whole, &narrowed)
                    ));
                }
            }
            compared += 2;
        }
    }
    Ok(compared)
}
