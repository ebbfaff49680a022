//! The synthetic projects of the scale benchmark (`benches/support/synth.rs`) stay what the
//! benchmark says they are: valid, lint-clean, deterministic projects that exercise what
//! makes schemac's work grow (helpers redefined under thousands of policies, enums gaining
//! values, patches, grants and default privileges), and that PostgreSQL accepts.

mod support;
#[path = "../benches/support/synth.rs"]
mod synth;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use synth::Synth;

fn schemac(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schemac"))
        .arg("--project")
        .arg(project)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("SCHEMAC_DEV_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("running schemac")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// All migrations of a generated project, concatenated.
fn migrations(project: &Path) -> String {
    let mut names: Vec<_> = std::fs::read_dir(project.join("generated/migrations"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn synthetic_projects_are_deterministic_valid_and_lint_clean() {
    let synth = Synth::new(120, 12);
    assert_eq!(
        synth.files(),
        synth.files(),
        "the same parameters, the same files"
    );
    let specs: Vec<_> = synth.files();
    assert_eq!(specs.len(), 13, "schemac.yaml and 12 layers");
    let dir = tempfile::tempdir().unwrap();
    synth.write(dir.path()).unwrap();

    let out = schemac(dir.path(), &["generate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = schemac(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = schemac(dir.path(), &["lint"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lint: 0 error(s), 0 warning(s)"),
        "{}",
        text(&out)
    );

    // What the benchmark relies on, in the SQL.
    let sql = migrations(dir.path());
    let count = |needle: &str| sql.matches(needle).count();
    assert_eq!(count("CREATE TABLE "), 120, "every table is created once");
    assert!(
        count("ADD VALUE IF NOT EXISTS 'suspended'") >= 6,
        "enums gain a value in the middle"
    );
    assert!(
        count("ADD VALUE IF NOT EXISTS 'deleted'") >= 6,
        "and one at the end"
    );
    assert!(
        count("CREATE OR REPLACE FUNCTION ") >= 6,
        "helpers get new bodies"
    );
    assert!(
        count("DROP FUNCTION ") >= 12,
        "a new signature and a new return type replace helpers"
    );
    assert!(
        count("DROP POLICY ") > 100,
        "policies are re-created around replaced helpers"
    );
    assert!(
        count("ALTER DEFAULT PRIVILEGES ") >= 12,
        "default privileges"
    );
    assert!(count("GRANT SELECT (") >= 120, "column grants");
    assert!(
        count(" ADD COLUMN extra_") > 0,
        "later layers patch earlier tables"
    );
    assert!(
        count("FOREIGN KEY (parent_id)") >= 119,
        "foreign keys to earlier tables"
    );

    // The differ's narrowing of the states changes none of that.
    let compared = support::compare_focused_diffs(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        compared, 48,
        "up and down of 12 layers, each narrowed and both at once"
    );
}

#[test]
fn a_synthetic_project_applies_rolls_back_and_shows_no_drift() {
    let _guard = support::lock();
    let pg = support::server();
    let synth = Synth::new(36, 10);
    let dir = tempfile::tempdir().unwrap();
    synth.write(dir.path()).unwrap();
    let out = schemac(dir.path(), &["generate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let roles = |what: &str| {
        pg.psql(
            pg.admin_url(),
            &format!(
                "SELECT count(*) FROM pg_roles WHERE rolname LIKE {}",
                support::quote_literal(&format!("{}%", synth.role_prefix))
            ),
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"))
    };
    assert_eq!(roles("before"), "0", "roles of an earlier run are left");

    let url = pg.create_database("synth");
    let migrations = dir.path().join("generated/migrations");
    let empty = pg.dump_schema(&url);
    let up = pg.dbmate(&url, &migrations, &["up"]);
    assert!(up.status.success(), "dbmate up: {}", text(&up));
    let applied = pg.dump_schema(&url);
    let out = schemac(
        dir.path(),
        &["diff", "--database-url", &url, "--dev-url", pg.admin_url()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "drift after dbmate up: {}",
        text(&out)
    );

    for step in 0..10 {
        let r = pg.dbmate(&url, &migrations, &["rollback"]);
        assert!(r.status.success(), "rollback {step}: {}", text(&r));
    }
    assert_eq!(
        pg.dump_schema(&url),
        empty,
        "rolled back to an empty database"
    );
    assert_eq!(roles("after the rollbacks"), "0");
    let up = pg.dbmate(&url, &migrations, &["up"]);
    assert!(up.status.success(), "dbmate up again: {}", text(&up));
    assert_eq!(
        pg.dump_schema(&url),
        applied,
        "applied again, the same schema"
    );

    // Cleanup: the database, then the roles the migrations created.
    pg.drop_database(&url);
    pg.psql(
        pg.admin_url(),
        &format!(
            "DO $$DECLARE r text; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE {} ORDER BY rolname DESC LOOP EXECUTE format('DROP ROLE %I', r); END LOOP; END$$",
            support::quote_literal(&format!("{}%", synth.role_prefix))
        ),
    )
    .unwrap();
}
