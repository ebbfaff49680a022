//! The flagship project (top-level specs/ and generated/) against a real PostgreSQL 15 with
//! the real dbmate: every layer applies, the reference workflows run after each, every layer
//! rolls back to exactly the catalog before it, the chain applies again, and the directly
//! built schema.sql gives the same catalog as the layered migrations.

mod support;

use std::path::{Path, PathBuf};

const ROLES: &[&str] = &[
    "anon",
    "authenticated",
    "editor",
    "admin",
    "authenticator",
    "app_migrator",
    "app_user",
    "app_service",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn migrations() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("generated/migrations"))
        .expect("generated/migrations exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

fn snapshot(pg: &support::PgServer, url: &str) -> String {
    format!(
        "{}\n-- roles --\n{}",
        pg.dump_schema(url),
        pg.roles_snapshot(url, ROLES)
    )
}

fn ok(out: std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn drop_roles(pg: &support::PgServer, url: &str) {
    for r in ROLES {
        pg.psql(url, &format!("DROP ROLE IF EXISTS {r}")).unwrap();
    }
}

const JWT: &str = r#"SET LOCAL row_level_security.jwt = '{"sub": "1234567890abcdef", "email": "daniel@example.com", "given_name": "Daniel", "family_name": "Purton"}';"#;

/// The workflow of each reference section, run as the runtime role after its layer.
fn workflow(pg: &support::PgServer, url: &str, layer: &str) {
    match layer {
        "roles" => {
            // The runtime role may not create anything in public.
            let err = pg
                .psql_script(url, "SET ROLE app_user; CREATE TABLE public.nope (id int);")
                .unwrap_err();
            assert!(err.contains("permission denied for schema public"), "{err}");
        }
        "auth" => {
            let out = pg
                .psql_script(url, &format!("SET LOCAL ROLE authenticated; {JWT} SELECT external_id FROM auth.me(); SELECT auth.id() IS NOT NULL;"))
                .unwrap();
            assert!(
                out.contains("1234567890abcdef") && out.ends_with('t'),
                "{out}"
            );
            assert_eq!(
                pg.psql(url, "SELECT count(*) FROM auth.users").unwrap(),
                "1"
            );
            let err = pg
                .psql_script(url, "SET ROLE app_user; CREATE TABLE auth.nope (id int);")
                .unwrap_err();
            assert!(err.contains("permission denied for schema auth"), "{err}");
        }
        "auth_teams" => {
            // Written by hand, this fails with "function auth.me() is not unique".
            let out = pg.psql_script(url, &format!("SET LOCAL ROLE authenticated; {JWT} SELECT first_name FROM auth.me(); SELECT count(*) FROM auth.team_members WHERE user_id = auth.id();")).unwrap();
            assert_eq!(out, "Daniel\n1", "{out}");
            assert_eq!(
                pg.psql(url, "SELECT name FROM auth.teams").unwrap(),
                "Daniel's team"
            );
        }
        "rbac" => {
            // Written by hand, this layer fails: "cannot change return type of existing function".
            pg.psql_script(
                url,
                "INSERT INTO rbac.role_permissions (role_id, permission_id) SELECT r.id, p.id FROM rbac.roles r, rbac.permissions p WHERE r.name = 'Administrator' AND p.name = 'ManageTeam';",
            )
            .unwrap();
            let out = pg
                .psql_script(
                    url,
                    &format!(
                        "SET LOCAL ROLE app_user; {JWT} SELECT roles FROM auth.me(); SELECT rbac.grant_role(auth.id(), 'Administrator'); SELECT roles, permissions FROM auth.me();"
                    ),
                )
                .unwrap();
            let lines: Vec<&str> = out.lines().collect();
            assert_eq!(lines.first(), Some(&"{}"), "{out}");
            assert_eq!(lines.last(), Some(&"{Administrator}|{ManageTeam}"), "{out}");
        }
        other => panic!("no workflow for layer {other}"),
    }
}

fn layer_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    stem.split_once('_').unwrap().1.to_string()
}

#[test]
fn flagship_applies_rolls_back_and_reapplies_with_dbmate() {
    let _guard = support::lock();
    let pg = support::server();
    let url = pg.create_database("flagship");
    drop_roles(pg, &url);
    let files = migrations();
    assert_eq!(files.len(), 4, "{files:?}");

    let dir = tempfile::tempdir().unwrap();
    let mut states = vec![snapshot(pg, &url)];
    for file in &files {
        std::fs::copy(file, dir.path().join(file.file_name().unwrap())).unwrap();
        ok(
            pg.dbmate(&url, dir.path(), &["up"]),
            &format!("dbmate up {}", file.display()),
        );
        workflow(pg, &url, &layer_name(file));
        states.push(snapshot(pg, &url));
    }
    // The comparisons below are only worth something if the dumps hold the objects.
    let last = &states[files.len()];
    for needle in ["CREATE FUNCTION auth.me(p_team_id integer DEFAULT NULL::integer) RETURNS TABLE(user_row auth.users", "CREATE POLICY users_self_select", "GRANT SELECT ON TABLE rbac.roles TO authenticated", "member authenticator of anon", "role authenticator login=true inherit=false"] {
        assert!(last.contains(needle) || last.replace('\n', " ").contains(needle), "the final catalog lacks `{needle}`:\n{last}");
    }
    for i in (1..=files.len()).rev() {
        let out = ok(
            pg.dbmate(&url, dir.path(), &["rollback"]),
            "dbmate rollback",
        );
        assert!(
            out.contains(files[i - 1].file_name().unwrap().to_str().unwrap()),
            "{out}"
        );
        let now = snapshot(pg, &url);
        assert!(
            now == states[i - 1],
            "rollback of {} left a different catalog:\n{}",
            files[i - 1].display(),
            text_diff(&states[i - 1], &now)
        );
    }
    let out = pg.dbmate(&url, dir.path(), &["rollback"]);
    assert!(
        !out.status.success(),
        "a rollback past the first migration must fail"
    );

    ok(pg.dbmate(&url, dir.path(), &["up"]), "dbmate up (again)");
    let again = snapshot(pg, &url);
    assert!(
        again == states[files.len()],
        "re-applying gave a different catalog:\n{}",
        text_diff(&states[files.len()], &again)
    );
    for _ in &files {
        ok(
            pg.dbmate(&url, dir.path(), &["rollback"]),
            "dbmate rollback (second pass)",
        );
    }
    assert_eq!(snapshot(pg, &url), states[0]);

    // schema.sql, built directly from the last state, equals the layered result.
    let direct = pg.create_database("flagship_direct");
    let schema = std::fs::read_to_string(repo().join("generated/schema.sql")).unwrap();
    pg.psql_script(&direct, &schema).unwrap();
    let built = snapshot(pg, &direct);
    assert!(
        built == states[files.len()],
        "schema.sql differs from the migrated catalog:\n{}",
        text_diff(&states[files.len()], &built)
    );
    pg.drop_database(&direct);
    drop_roles(pg, &url);
    pg.drop_database(&url);
}

fn text_diff(a: &str, b: &str) -> String {
    let mut out = String::new();
    for (la, lb) in a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(20) {
        out.push_str(&format!("- {la}\n+ {lb}\n"));
    }
    if a.lines().count() != b.lines().count() {
        out.push_str(&format!(
            "(line counts {} vs {})\n",
            a.lines().count(),
            b.lines().count()
        ));
    }
    out
}
