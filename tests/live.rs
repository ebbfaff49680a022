//! `schemac diff` and `schemac verify` against a real PostgreSQL 15 (the throwaway cluster of
//! tests/support, shared by every test here; roles are cluster-wide, so tests hold the lock).
//! Most runs pass the test cluster as `--dev-url` (a scratch database there) to keep the suite
//! quick; one diff and one verify start schemac's own embedded cluster.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::PgServer;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Projects whose migrations dbmate applies: the flagship, the examples, the corpus.
fn projects() -> Vec<PathBuf> {
    let mut out = vec![
        root(),
        root().join("examples/app-auth"),
        root().join("examples/support-tickets"),
    ];
    let mut corpus: Vec<PathBuf> = std::fs::read_dir(root().join("tests/corpus"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("specs").is_dir())
        .collect();
    corpus.sort();
    out.extend(corpus);
    out
}

fn schemac(project: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_schemac"));
    cmd.arg("--project")
        .arg(project)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SCHEMAC_DEV_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    cmd.output().expect("running schemac")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(o)))
}

/// Every role some state of the project declares.
fn project_roles(dir: &Path) -> Vec<String> {
    let project = schemac::spec::load_project(dir).unwrap();
    let folded = schemac::layers::fold(&project).unwrap();
    let mut roles: Vec<String> = folded
        .states
        .iter()
        .flat_map(|s| s.roles.keys().cloned())
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// The project's migrations, compiled in memory and written to a temporary folder (the
/// corpus projects commit no generated/).
fn migrations(project: &Path) -> tempfile::TempDir {
    let (_, files) = schemac::migration::compile_dir(project)
        .unwrap_or_else(|_| panic!("{} does not compile", project.display()));
    let dir = tempfile::tempdir().unwrap();
    for f in files.files {
        if let Some(name) = f.path.strip_prefix("migrations/") {
            std::fs::write(dir.path().join(name), f.contents).unwrap();
        }
    }
    dir
}

/// A database with a project's migrations applied by the real dbmate; dropped (with the
/// project's roles) when it goes.
struct Live<'a> {
    pg: &'a PgServer,
    url: String,
    roles: Vec<String>,
    migrations: tempfile::TempDir,
}

impl<'a> Live<'a> {
    fn new(pg: &'a PgServer, project: &Path, up: bool) -> Live<'a> {
        let roles = project_roles(project);
        let live = Live {
            pg,
            url: pg.create_database("live"),
            roles,
            migrations: migrations(project),
        };
        live.drop_roles();
        if up {
            let out = pg.dbmate(&live.url, live.migrations.path(), &["up"]);
            assert!(
                out.status.success(),
                "dbmate up {}: {}",
                project.display(),
                text(&out)
            );
        }
        live
    }

    fn sql(&self, sql: &str) -> String {
        self.pg
            .psql_script(&self.url, sql)
            .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
    }

    fn drop_roles(&self) {
        for r in self.roles.iter().rev() {
            let _ = self.pg.psql(
                self.pg.admin_url(),
                &format!("DROP ROLE IF EXISTS {}", support::quote_ident(r)),
            );
        }
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.pg.try_drop_database(&self.url) {
            eprintln!("dropping {}: {e}", self.url);
        }
        self.drop_roles();
    }
}

/// `diff` against `url`, the test cluster as the dev server.
fn diff(pg: &PgServer, project: &Path, url: &str, extra: &[&str]) -> Output {
    let mut args = vec!["diff", "--database-url", url, "--dev-url", pg.admin_url()];
    args.extend_from_slice(extra);
    schemac(project, &args)
}

/// Scratch databases left on the test cluster.
fn leftovers(pg: &PgServer) -> String {
    pg.psql(
        pg.admin_url(),
        "SELECT coalesce(string_agg(datname, ','), '') FROM pg_database WHERE datname LIKE 'schemac\\_%'",
    )
    .unwrap()
}

#[test]
fn diff_finds_nothing_after_dbmate_up() {
    let _guard = support::lock();
    let pg = support::server();
    for project in projects() {
        let live = Live::new(pg, &project, true);
        let out = diff(pg, &project, &live.url, &["--format", "json"]);
        let v = json(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: drift right after dbmate up:\n{}",
            project.display(),
            text(&out)
        );
        assert_eq!(v["ok"], true);
        assert!(v["findings"].as_array().unwrap().is_empty());
        assert!(
            v["objects"].as_u64().unwrap() >= 3,
            "{}: too few objects compared: {}",
            project.display(),
            v["objects"]
        );
        // Rolled back one layer, the database is at the previous version: still no drift
        // (compared with that version), but drift against the latest layer.
        let rolled = pg.dbmate(&live.url, live.migrations.path(), &["rollback"]);
        if String::from_utf8_lossy(&rolled.stderr).contains("cannot be rolled back") {
            continue; // its last migration destroys data: the down refuses by design
        }
        assert!(rolled.status.success(), "{}", text(&rolled));
        let folded =
            schemac::layers::fold(&schemac::spec::load_project(&project).unwrap()).unwrap();
        let n = folded.layers.len();
        if n > 1 {
            let out = diff(pg, &project, &live.url, &[]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}: {}",
                project.display(),
                text(&out)
            );
            // Rows are data, not compared: a last layer of rows only leaves no drift.
            let schema_of = |i: usize| {
                let mut c = (*folded.states[i]).clone();
                c.rows.clear();
                c.origins = Default::default();
                c
            };
            let changes_schema = schema_of(n - 1) != schema_of(n);
            let out = diff(pg, &project, &live.url, &["--latest"]);
            assert_eq!(
                out.status.code(),
                Some(if changes_schema { 1 } else { 0 }),
                "{}: {}",
                project.display(),
                text(&out)
            );
        }
    }
    assert_eq!(leftovers(pg), "", "scratch databases left behind");
}

#[test]
fn diff_reports_deliberate_drift_and_sql_repairs_it() {
    let _guard = support::lock();
    let pg = support::server();
    let project = root().join("examples/support-tickets");
    let live = Live::new(pg, &project, true);
    live.sql(
        "DROP POLICY accounts_read ON public.accounts;
         REVOKE DELETE ON public.accounts FROM service_role;
         GRANT TRUNCATE ON public.accounts TO service_role;
         CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
           AS $$ SELECT '00000000-0000-0000-0000-000000000000'::uuid $$;
         CREATE TABLE storage.scratchpad (id int);
         GRANT EXECUTE ON FUNCTION kit.get_storage_filename_as_uuid(text) TO PUBLIC;
         DROP INDEX public.ix_tickets_account_id;
         ALTER TABLE public.tickets ALTER COLUMN priority SET DEFAULT 'high';
         -- Platform objects in a schema the project does not create: none of its business.
         CREATE TABLE public.platform_audit (id int);
         CREATE FUNCTION public.platform_helper() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
         -- The specs put tables in public but do not declare the schema: its grants are not theirs.
         GRANT CREATE ON SCHEMA public TO PUBLIC;
         COMMENT ON SCHEMA public IS 'platform';",
    );
    let out = diff(pg, &project, &live.url, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    let mut found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["kind"].as_str().unwrap(),
                f["object"].as_str().unwrap()
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![
            "different function `auth.uid`",
            "different function `kit.get_storage_filename_as_uuid`",
            "different the default of `public.tickets.priority`",
            "different the grant to `service_role` on table `public.accounts`",
            "missing index `ix_tickets_account_id` on `public.tickets`",
            "missing policy `accounts_read` on `public.accounts`",
            "unexpected table `storage.scratchpad`",
        ],
        "{}",
        text(&out)
    );
    // Findings point at the specs.
    let policy = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["object"].as_str().unwrap().contains("accounts_read"))
        .unwrap();
    assert!(
        policy["origin"].as_str().unwrap().starts_with("specs/"),
        "{policy}"
    );

    // The text report shows the changed definitions as a unified diff.
    let out = diff(pg, &project, &live.url, &[]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("+ SELECT '00000000-0000-0000-0000-000000000000'::uuid"),
        "{report}"
    );
    assert!(
        report.contains(
            "-GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.accounts TO service_role;"
        ),
        "{report}"
    );
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("drift: 2 missing, 1 unexpected, 4 different"));

    // --sql repairs exactly that.
    let out = diff(pg, &project, &live.url, &["--sql"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let script = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        script.contains("DROP TABLE storage.scratchpad;")
            && script.contains(
                "REVOKE EXECUTE ON FUNCTION kit.get_storage_filename_as_uuid(text) FROM PUBLIC;"
            ),
        "{script}"
    );
    assert!(!script.contains("platform_audit"), "{script}");
    assert!(!script.contains("platform_helper"), "{script}");
    live.sql(&script);
    let out = diff(pg, &project, &live.url, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "after applying --sql:\n{script}\n{}",
        text(&out)
    );
    assert_eq!(
        live.sql("SELECT count(*) FROM pg_class WHERE relname IN ('platform_audit')"),
        "1"
    );

    // What the model cannot represent is still seen in a schema the project owns.
    live.sql("CREATE MATERIALIZED VIEW storage.bucket_names AS SELECT 1 AS one");
    let out = diff(pg, &project, &live.url, &["--sql"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(
            "-- by hand (unexpected): materialized view `storage.bucket_names` (not modelled by schemac)"
        ),
        "{}",
        text(&out)
    );
}

#[test]
fn diff_as_a_read_only_role_writes_nothing() {
    let _guard = support::lock();
    let pg = support::server();
    let project = root().join("examples/app-auth");
    let live = Live::new(pg, &project, true);
    pg.psql(
        pg.admin_url(),
        "DROP ROLE IF EXISTS drift_reader; CREATE ROLE drift_reader LOGIN; GRANT pg_read_all_data TO drift_reader",
    )
    .unwrap();
    let reader_url = live
        .url
        .replacen("postgres://postgres@", "postgres://drift_reader@", 1);
    assert_ne!(reader_url, live.url);

    let dump_before = pg.dump_schema(&live.url);
    let versions = "SELECT string_agg(version, ',' ORDER BY version) FROM public.schema_migrations";
    let versions_before = live.sql(versions);
    let xid_before: i64 = live.sql("SELECT txid_current()").parse().unwrap();
    // The default scratch server: an embedded cluster, so the only session on the test
    // cluster is the read-only one.
    let out = schemac(&project, &["diff", "--database-url", &reader_url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no drift"),
        "{}",
        text(&out)
    );
    let xid_after: i64 = live.sql("SELECT txid_current()").parse().unwrap();
    // txid_current() takes one transaction id itself; any write by diff would take another.
    assert_eq!(
        xid_after,
        xid_before + 1,
        "diff consumed a transaction id: it wrote"
    );
    assert_eq!(pg.dump_schema(&live.url), dump_before);
    assert_eq!(live.sql(versions), versions_before);

    // The session diff reads through refuses writes, even for a role that may write.
    let rt = schemac::db::runtime().unwrap();
    rt.block_on(async {
        let url = schemac::db::DbUrl::parse(&live.url).unwrap();
        let mut conn = url.connect_read_only().await.unwrap();
        let err = sqlx::raw_sql("CREATE TABLE app.nope (id int)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("read-only transaction"), "{err}");
    });
    pg.psql(pg.admin_url(), "DROP ROLE drift_reader").unwrap();
}

#[test]
fn diff_needs_a_migrations_table_or_latest() {
    let _guard = support::lock();
    let pg = support::server();
    let project = root().join("tests/corpus/quoting");
    let live = Live::new(pg, &project, false);
    let out = diff(pg, &project, &live.url, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--latest"),
        "{}",
        text(&out)
    );
    // An empty database against the last layer: everything is missing.
    let out = diff(pg, &project, &live.url, &["--latest", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["kind"] == "missing"));
    let out = schemac(&project, &["diff", "--database-url", "mysql://nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn verify_passes_on_every_project() {
    let _guard = support::lock();
    let pg = support::server();
    for (i, project) in projects().iter().enumerate() {
        let roles = project_roles(project);
        for r in roles.iter().rev() {
            let _ = pg.psql(
                pg.admin_url(),
                &format!("DROP ROLE IF EXISTS {}", support::quote_ident(r)),
            );
        }
        // The first one on schemac's own embedded cluster, the others on the test cluster.
        let out = if i == 0 {
            schemac(project, &["verify"])
        } else {
            schemac(project, &["verify", "--dev-url", pg.admin_url()])
        };
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            project.display(),
            text(&out)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("verified "),
            "{}",
            text(&out)
        );
        let left = pg
            .psql(
                pg.admin_url(),
                &format!(
                    "SELECT count(*) FROM pg_roles WHERE rolname = ANY(ARRAY[{}]::text[])",
                    roles
                        .iter()
                        .map(|r| support::quote_literal(r))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            )
            .unwrap();
        assert_eq!(left, "0", "{}: verify left roles behind", project.display());
    }
    assert_eq!(leftovers(pg), "", "scratch databases left behind");
}

/// A project whose `drop_policy` template is broken (it drops nothing): the down section of
/// the layer that adds the policy leaves it behind.
fn broken_project(dir: &Path) {
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("specs/20250101000001_base.yaml"),
        "schemas:\n  - name: app\ntables:\n  - name: app.notes\n    columns:\n      - {name: id, type: int}\n      - {name: owner, type: text}\n    rls: true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("specs/20250101000002_policy.yaml"),
        "tables:\n  - name: app.notes\n    patch: true\n    policies:\n      - name: own_notes\n        using: owner = current_user\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("templates/drop_policy.sql"),
        "SELECT 'the policy {{ policy.name }} stays';",
    )
    .unwrap();
}

#[test]
fn verify_fails_on_a_broken_down_section() {
    let _guard = support::lock();
    let pg = support::server();
    let tmp = tempfile::tempdir().unwrap();
    broken_project(tmp.path());
    let out = schemac(tmp.path(), &["generate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = schemac(tmp.path(), &["verify", "--dev-url", pg.admin_url()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains("20250101000002_policy.sql")
            && last.contains("policy `own_notes` on `app.notes`"),
        "{}",
        text(&out)
    );
    assert!(
        stdout.contains("unexpected policy `own_notes`"),
        "{}",
        text(&out)
    );
    assert_eq!(leftovers(pg), "", "scratch databases left behind");
}

#[test]
fn verify_reports_plpgsql_check_findings_at_the_yaml_line() {
    let _guard = support::lock();
    let pg = support::server();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("specs")).unwrap();
    std::fs::write(
        tmp.path().join("specs/20250101000001_base.yaml"),
        "schemas:
  - name: app
tables:
  - name: app.items
    columns:
      - {name: id, type: int}
      - {name: title, type: text}
functions:
  - name: app.find
    args:
      - {name: p_id, type: int}
    returns: {table: [{name: id, type: int}, {name: title, type: text}]}
    language: plpgsql
    volatility: stable
    body: |
      BEGIN
        RETURN QUERY
        SELECT id, title FROM app.items WHERE id = p_id;
      END;
",
    )
    .unwrap();
    let out = schemac(tmp.path(), &["verify", "--dev-url", pg.admin_url()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "plpgsql_check must find the ambiguous `id` (install postgresql-15-plpgsql-check: scripts/setup.sh):\n{}",
        text(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("specs/20250101000001_base.yaml:17:7: error[plpgsql_check]: column reference \"id\" is ambiguous"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_names_the_statement_the_scratch_build_fails_at() {
    // The expected state goes to the server in batches; a failing batch is run again one
    // statement at a time, so the error names the statement, not its batch.
    let _guard = support::lock();
    let pg = support::server();
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("specs")).unwrap();
    std::fs::write(
        tmp.path().join("specs/20250101000001_base.yaml"),
        "schemas:
  - name: app
extensions:
  - name: schemac_no_such_extension
    schema: app
tables:
  - name: app.items
    columns:
      - {name: id, type: int}
",
    )
    .unwrap();
    let out = schemac(tmp.path(), &["generate"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = schemac(tmp.path(), &["verify", "--dev-url", pg.admin_url()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let at = stderr
        .lines()
        .skip_while(|l| {
            !l.contains("building the expected state on the scratch database failed at")
        })
        .nth(1)
        .unwrap_or_default();
    assert!(
        at.starts_with("CREATE EXTENSION") && at.contains("schemac_no_such_extension"),
        "{}",
        text(&out)
    );
    assert!(
        stderr.contains("is not available")
            || stderr.contains("could not open extension control file"),
        "{}",
        text(&out)
    );
    assert_eq!(leftovers(pg), "", "scratch databases left behind");
}

#[test]
fn ctrl_c_removes_the_embedded_cluster() {
    let _guard = support::lock();
    let project = root().join("examples/support-tickets");
    let mut child = Command::new(env!("CARGO_BIN_EXE_schemac"))
        .arg("--project")
        .arg(&project)
        .arg("verify")
        .env_remove("SCHEMAC_DEV_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prefix = format!("schemac-scratch.{}.", child.id());
    let tmp = if std::env::temp_dir().as_os_str().len() > 60 || is_root() {
        PathBuf::from("/tmp")
    } else {
        std::env::temp_dir().canonicalize().unwrap()
    };
    let scratch_dirs = || -> Vec<PathBuf> {
        std::fs::read_dir(&tmp)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .map(|e| e.path())
            .collect()
    };
    // Wait until the cluster runs (its socket exists), then interrupt.
    let started = std::time::Instant::now();
    loop {
        let running = scratch_dirs()
            .iter()
            .any(|d| d.join("sock/.s.PGSQL.5432").exists());
        if running {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the embedded cluster did not start"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "schemac ended before the interrupt"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert_eq!(
        scratch_dirs(),
        Vec::<PathBuf>::new(),
        "the scratch folder is left behind"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
