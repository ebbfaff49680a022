//! A corpus of small spec projects under tests/corpus/: their generated SQL is snapshotted,
//! and each is applied layer by layer with dbmate on a real PostgreSQL, rolled back to
//! exactly the catalog before each layer, and applied again.

mod support;

use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
    dirs.sort();
    dirs
}

fn compile(dir: &Path) -> (Vec<schemac::migration::GeneratedFile>, Vec<String>) {
    let project =
        schemac::spec::load_project(dir).unwrap_or_else(|d| panic!("{}: {d:?}", dir.display()));
    let folded =
        schemac::layers::fold(&project).unwrap_or_else(|d| panic!("{}: {d:?}", dir.display()));
    let roles = folded
        .states
        .iter()
        .flat_map(|s| s.roles.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (
        schemac::migration::compile(&project)
            .unwrap_or_else(|e| panic!("{}: {e:?}", dir.display()))
            .files,
        roles,
    )
}

#[test]
fn corpus_sql_snapshots() {
    for dir in cases() {
        let case = dir.file_name().unwrap().to_str().unwrap().to_string();
        for file in compile(&dir).0 {
            let name = format!("{case}__{}", file.path.replace(['/', '.'], "_"));
            insta::assert_snapshot!(name, file.contents);
        }
    }
}

#[test]
fn corpus_round_trips_on_postgres_with_dbmate() {
    let _guard = support::lock();
    let pg = support::server();
    for dir in cases() {
        let case = dir.file_name().unwrap().to_str().unwrap().to_string();
        let (files, roles) = compile(&dir);
        let role_refs: Vec<&str> = roles.iter().map(String::as_str).collect();
        let url = pg.create_database(&case);
        let snap = |url: &str| {
            format!(
                "{}\n-- roles --\n{}",
                pg.dump_schema(url),
                pg.roles_snapshot(url, &role_refs)
            )
        };
        let migrations: Vec<_> = files
            .iter()
            .filter(|f| f.path.starts_with("migrations/"))
            .collect();
        let tmp = tempfile::tempdir().unwrap();
        let mut states = vec![snap(&url)];
        for m in &migrations {
            std::fs::write(
                tmp.path().join(m.path.trim_start_matches("migrations/")),
                &m.contents,
            )
            .unwrap();
            let out = pg.dbmate(&url, tmp.path(), &["up"]);
            assert!(
                out.status.success(),
                "{case}: up {}: {}",
                m.path,
                String::from_utf8_lossy(&out.stderr)
            );
            states.push(snap(&url));
        }
        for i in (1..=migrations.len()).rev() {
            let out = pg.dbmate(&url, tmp.path(), &["rollback"]);
            if migrations[i - 1].contents.contains("cannot be rolled back") {
                // A migration that destroyed data refuses to pretend it can restore it.
                assert!(
                    !out.status.success()
                        && String::from_utf8_lossy(&out.stderr).contains("cannot be rolled back"),
                    "{case}: rollback of the lossy {} did not refuse",
                    migrations[i - 1].path
                );
                assert!(
                    snap(&url) == states[i],
                    "{case}: the refused rollback of {} changed the catalog",
                    migrations[i - 1].path
                );
                break;
            }
            assert!(
                out.status.success(),
                "{case}: rollback {}: {}",
                migrations[i - 1].path,
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                snap(&url) == states[i - 1],
                "{case}: rollback of {} did not restore the catalog",
                migrations[i - 1].path
            );
        }
        let out = pg.dbmate(&url, tmp.path(), &["up"]);
        assert!(
            out.status.success(),
            "{case}: up again: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            snap(&url) == *states.last().unwrap(),
            "{case}: re-applying gave a different catalog"
        );
        pg.drop_database(&url);
        for r in &roles {
            let drop = format!("DROP ROLE IF EXISTS {}", support::quote_ident(r));
            pg.psql(pg.admin_url(), &drop).unwrap();
        }
    }
}

/// Declared rows and injection attempts through values land as data, exactly.
#[test]
fn quoting_case_stores_hostile_values_as_data() {
    let _guard = support::lock();
    let pg = support::server();
    let (url, tmp) = apply_all(pg, "quoting");
    let value = pg
        .psql(
            &url,
            r#"SELECT "Weird ""col""" || '|' || "user"::text FROM "My Schema"."select""#,
        )
        .unwrap();
    assert_eq!(value, "x'); DROP TABLE t; --|it's");
    let labels = pg.psql(&url, r#"SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = '"My Schema"."Mood"'::regtype"#).unwrap();
    assert_eq!(labels, r#"it's,say "hi",select"#);
    assert!(pg.dbmate(&url, tmp.path(), &["rollback"]).status.success());
    assert_eq!(
        pg.psql(
            &url,
            "SELECT count(*) FROM pg_roles WHERE rolname = 'Corpus Role \"Q\"'"
        )
        .unwrap(),
        "0"
    );
    pg.drop_database(&url);
}

fn apply_all(pg: &support::PgServer, case: &str) -> (String, tempfile::TempDir) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(case);
    let (files, _) = compile(&dir);
    let url = pg.create_database(&format!("{case}_data"));
    let tmp = tempfile::tempdir().unwrap();
    for f in files.iter().filter(|f| f.path.starts_with("migrations/")) {
        std::fs::write(
            tmp.path().join(f.path.trim_start_matches("migrations/")),
            &f.contents,
        )
        .unwrap();
    }
    let out = pg.dbmate(&url, tmp.path(), &["up"]);
    assert!(
        out.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (url, tmp)
}

/// Enum values added in a layer are usable in that layer; renames keep the data; a rollback
/// that would remove a value still in use stops with a clear message.
#[test]
fn evolution_keeps_data_through_renames_and_enum_changes() {
    let _guard = support::lock();
    let pg = support::server();
    let (url, tmp) = apply_all(pg, "evolution");
    let rows = pg
        .psql(
            &url,
            "SELECT string_agg(id || ':' || subject || ':' || status || ':' || coalesce(tags::text, '-'), ' ' ORDER BY id) FROM app.issues",
        )
        .unwrap();
    assert_eq!(
        rows,
        "1:first:open:{open} 2:second:done:{done,open} 3:third:pending:{new,archived}"
    );
    // The identity switched to BY DEFAULT without restarting its sequence.
    pg.psql(&url, "INSERT INTO app.issues (subject) VALUES ('fourth')")
        .unwrap();
    assert_eq!(
        pg.psql(&url, "SELECT max(id) FROM app.issues").unwrap(),
        "4"
    );
    // Roll back to before the enum additions while a row still holds `archived`.
    pg.psql(
        &url,
        "UPDATE app.issues SET status = 'archived' WHERE id = 4",
    )
    .unwrap();
    for _ in 0..2 {
        assert!(pg.dbmate(&url, tmp.path(), &["rollback"]).status.success());
    }
    let out = pg.dbmate(&url, tmp.path(), &["rollback"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("cannot remove new, pending, archived from enum app.status: rows of app.tickets.status still hold it"),
        "{err}"
    );
    pg.drop_database(&url);
    pg.psql(pg.admin_url(), "DROP ROLE IF EXISTS evo_reader")
        .unwrap();
}

/// Acknowledged losses convert what they can (`replace_with`, `using`) and the rollback
/// refuses to run.
#[test]
fn acknowledged_data_loss_converts_rows_and_refuses_rollback() {
    let _guard = support::lock();
    let pg = support::server();
    let (url, tmp) = apply_all(pg, "data_loss");
    let rows = pg
        .psql(
            &url,
            "SELECT string_agg(id || ':' || level || ':' || levels::text || ':' || code, ' ' ORDER BY id) FROM app.items",
        )
        .unwrap();
    assert_eq!(rows, "1:low:{low,high}:3 2:high:{high}:2");
    let out = pg.dbmate(&url, tmp.path(), &["rollback"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("migration 20250101000002_lossy cannot be rolled back: it destroyed data"));
    assert_eq!(
        pg.psql(&url, "SELECT count(*) FROM app.items").unwrap(),
        "2"
    );
    pg.drop_database(&url);
}

/// Default privileges of the migrator reach what a later layer creates (and re-creates), and
/// are granted explicitly; nothing else is granted, and rollbacks give back the grants
/// the objects had (checked by the round trip above).
#[test]
fn default_privileges_of_the_migrator_reach_new_objects_only() {
    let _guard = support::lock();
    let pg = support::server();
    let (url, tmp) = apply_all(pg, "default_privileges");
    let privileges = |url: &str| {
        pg.psql(
            url,
            // ACL entries, not has_function_privilege: PUBLIC may execute every function.
            "SELECT coalesce((SELECT proacl::text LIKE '%corpus_dp_runner=X/%' FROM pg_proc WHERE oid = 'app.before_defaults()'::regprocedure), false) || ' ' || \
             coalesce((SELECT proacl::text LIKE '%corpus_dp_runner=X/%' FROM pg_proc WHERE oid = 'app.after_defaults()'::regprocedure), false) || ' ' || \
             has_table_privilege('corpus_dp_runner', 'app.items', 'SELECT') || ' ' || \
             has_table_privilege('corpus_dp_other', 'app.items', 'INSERT')",
        )
        .unwrap()
    };
    // Re-created in layer 3, both functions are new objects under the defaults.
    assert_eq!(privileges(&url), "true true true false");
    assert!(pg.dbmate(&url, tmp.path(), &["rollback"]).status.success());
    // Back at layer 2: the function from before the defaults has only its declared grants.
    assert_eq!(privileges(&url), "false true true false");
    pg.drop_database(&url);
    for r in ["corpus_dp_runner", "corpus_dp_other"] {
        pg.psql(pg.admin_url(), &format!("DROP ROLE IF EXISTS {r}"))
            .unwrap();
    }
}
