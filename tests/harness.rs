//! Proves the test harness in tests/support works: server, databases, psql,
//! the real dbmate binary, and schema dumps.

mod support;

use std::fs;

#[test]
fn server_starts_and_databases_are_separate() {
    let pg = support::server();
    if let Some(t) = pg.startup_time() {
        eprintln!("throwaway cluster started in {t:?}");
    }
    let a = pg.create_database("harness a");
    let b = pg.create_database("harness a");
    assert_ne!(a, b, "database names must be unique");

    assert_eq!(pg.psql(&a, "SELECT 1 + 1").unwrap(), "2");
    pg.psql(&a, "CREATE TABLE only_in_a (x int)").unwrap();
    assert_eq!(
        pg.psql(
            &b,
            "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'"
        )
        .unwrap(),
        "0"
    );
    let err = pg.psql(&a, "SELECT * FROM no_such_table").unwrap_err();
    assert!(err.contains("no_such_table"), "stderr expected, got: {err}");

    // psql_script runs in one transaction: a failure rolls back everything.
    let err = pg
        .psql_script(&b, "CREATE TABLE s1 (x int);\nSELECT 1/0;\n")
        .unwrap_err();
    assert!(err.contains("division by zero"), "{err}");
    assert_eq!(
        pg.psql(&b, "SELECT to_regclass('s1') IS NULL").unwrap(),
        "t"
    );
    let out = pg
        .psql_script(
            &b,
            "CREATE TABLE s1 (x int);\nINSERT INTO s1 VALUES (7);\nSELECT x FROM s1;\n",
        )
        .unwrap();
    assert_eq!(out, "7");

    pg.drop_database(&a);
    assert!(pg.psql(&a, "SELECT 1").is_err());
}

#[test]
fn dbmate_up_and_rollback_roundtrip() {
    let pg = support::server();
    let url = pg.create_database("harness_dbmate");
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("20240101000000_t.sql"),
        "-- migrate:up\nCREATE TABLE t (id int);\n-- migrate:down\nDROP TABLE t;\n",
    )
    .unwrap();

    let before = pg.dump_schema(&url);
    assert!(!before.contains("\\restrict"), "{before}");

    let out = pg.dbmate(&url, dir.path(), &["up"]);
    assert!(
        out.status.success(),
        "dbmate up failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        pg.psql(&url, "SELECT to_regclass('public.t') IS NOT NULL")
            .unwrap(),
        "t"
    );
    let during = pg.dump_schema(&url);
    assert!(during.contains("CREATE TABLE public.t"), "{during}");
    assert!(
        during.contains("OWNER TO postgres"),
        "owners must be kept: {during}"
    );
    assert!(!during.contains("schema_migrations"), "{during}");

    let out = pg.dbmate(&url, dir.path(), &["rollback"]);
    assert!(
        out.status.success(),
        "dbmate rollback failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        pg.psql(&url, "SELECT to_regclass('public.t') IS NULL")
            .unwrap(),
        "t"
    );
    assert_eq!(pg.dump_schema(&url), before);

    // A second rollback has nothing to undo: dbmate exits with 2.
    let out = pg.dbmate(&url, dir.path(), &["rollback"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn roles_snapshot_sees_changes() {
    let _guard = support::lock();
    let pg = support::server();
    let url = pg.create_database("harness_roles");
    let names = ["harness_r1", "harness_r2"];
    // Leftovers from an interrupted run against a DATABASE_URL server.
    pg.psql_script(
        &url,
        "DROP ROLE IF EXISTS harness_r2;\nDROP ROLE IF EXISTS harness_r1;\n",
    )
    .unwrap();

    let before = pg.roles_snapshot(&url, &names);
    assert_eq!(before, "role harness_r1 absent\nrole harness_r2 absent");

    pg.psql_script(
        &url,
        "CREATE ROLE harness_r1 NOLOGIN;\n\
         CREATE ROLE harness_r2 LOGIN CONNECTION LIMIT 3;\n\
         GRANT harness_r1 TO harness_r2;\n",
    )
    .unwrap();
    let during = pg.roles_snapshot(&url, &names);
    assert!(during.contains("role harness_r1 login=false"), "{during}");
    assert!(during.contains("role harness_r2 login=true"), "{during}");
    assert!(during.contains("connlimit=3"), "{during}");
    assert!(
        during.contains("member harness_r2 of harness_r1 admin=false"),
        "{during}"
    );

    pg.psql_script(&url, "DROP ROLE harness_r2;\nDROP ROLE harness_r1;\n")
        .unwrap();
    assert_eq!(pg.roles_snapshot(&url, &names), before);
}

#[test]
fn conninfo_converts_socket_urls() {
    assert_eq!(
        support::conninfo("postgres://postgres@/db1?socket=/tmp/x/sock&port=5432&sslmode=disable"),
        "host='/tmp/x/sock' port='5432' user='postgres' dbname='db1' sslmode='disable'"
    );
    assert_eq!(
        support::conninfo("postgres://u:p%40ss@localhost:5433/app?sslmode=disable&search_path=x"),
        "host='localhost' port='5433' user='u' password='p@ss' dbname='app' sslmode='disable'"
    );
}
