//! Releases: the integrity lock (`generate`, `check`, `release`), `bundle` (reproducible, and
//! applied with the real dbmate), and `roles sync` (passwords from the environment, checked
//! by logging in).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn schemac_env(project: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_schemac"));
    cmd.arg("--project")
        .arg(project)
        .args(args)
        .env_remove("SCHEMAC_PROJECT")
        .env_remove("DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run schemac")
}

fn schemac(project: &Path, args: &[&str]) -> Output {
    schemac_env(project, args, &[])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn both(o: &Output) -> String {
    format!("{}{}", text(&o.stdout), text(&o.stderr))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// Every file under `dir`, relative path → bytes.
fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A copy of the repository's example project (four layers) with a name, generated.
fn project(dir: &Path) -> PathBuf {
    let p = dir.join("proj");
    copy_dir(&repo().join("specs"), &p.join("specs"));
    let config = std::fs::read_to_string(repo().join("schemac.yaml")).unwrap();
    std::fs::write(p.join("schemac.yaml"), format!("{config}name: demo\n")).unwrap();
    let out = schemac(&p, &["generate"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    p
}

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", both(out));
}

const ROLES: &str = "specs/20250101000100_roles.yaml";
const ROLES_SQL: &str = "generated/migrations/20250101000100_roles.sql";

#[test]
fn the_lock_catches_an_edit_to_a_released_migration() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    let lock = std::fs::read_to_string(p.join("generated/schemac.lock")).unwrap();
    assert!(lock.contains("\n20250101000100 roles "), "{lock}");
    assert!(lock.contains(" unreleased\n"), "{lock}");
    assert!(lock.lines().last().unwrap().starts_with("total "), "{lock}");

    let out = schemac(&p, &["release", "--through", "20250101000200"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("released generated/migrations/20250101000200_auth.sql"));
    let lock = std::fs::read_to_string(p.join("generated/schemac.lock")).unwrap();
    assert!(
        lock.contains(" auth ") && lock.contains(" released\n"),
        "{lock}"
    );
    assert_eq!(lock.matches(" released\n").count(), 2, "{lock}");
    assert_exit(&schemac(&p, &["check"]), 0);

    // An edit that changes the released roles migration.
    let spec = p.join(ROLES);
    let original = std::fs::read_to_string(&spec).unwrap();
    let edited = original.replacen("Runtime web application role", "Runtime role", 1);
    assert_ne!(original, edited);
    std::fs::write(&spec, &edited).unwrap();
    let before = read_tree(&p.join("generated"));

    let check = schemac(&p, &["check"]);
    assert_exit(&check, 1);
    let (stdout, stderr) = (text(&check.stdout), text(&check.stderr));
    assert!(
        stderr.contains("error[E301]: released migration 20250101000100_roles would change"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{ROLES_SQL}:")), "{stderr}");
    assert!(stderr.contains("put the change in a new layer"), "{stderr}");
    assert!(
        stdout.contains("-COMMENT ON ROLE app_user IS 'Runtime web application role;")
            && stdout.contains("+COMMENT ON ROLE app_user IS 'Runtime role;"),
        "{stdout}"
    );

    let generate = schemac(&p, &["generate"]);
    assert_exit(&generate, 1);
    assert!(text(&generate.stderr).contains("error[E301]"));
    assert!(text(&generate.stderr).contains("nothing was written"));
    // Not even with --force.
    assert_exit(&schemac(&p, &["generate", "--force"]), 1);
    assert_eq!(
        before,
        read_tree(&p.join("generated")),
        "a refusal wrote something"
    );

    // JSON names the kind and the migration.
    let json = schemac(&p, &["--format", "json", "check"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "released-changed")
        .expect("a released-changed finding");
    assert_eq!(f["code"], "E301");
    assert_eq!(f["path"], ROLES_SQL);

    // The same change in a new layer is fine; an unreleased migration may still change.
    std::fs::write(&spec, &original).unwrap();
    std::fs::write(
        p.join("specs/20250101000500_role_comment.yaml"),
        "roles:\n  - name: app_user\n    login: true\n    password_env: APP_USER_PASSWORD\n    comment: Runtime role\n",
    )
    .unwrap();
    let teams = p.join("specs/20250101000300_auth_teams.yaml");
    let t = std::fs::read_to_string(&teams).unwrap();
    std::fs::write(
        &teams,
        t.replacen("idx_auth_teams_created_by", "idx_teams_by", 1),
    )
    .unwrap();
    let out = schemac(&p, &["generate"]);
    assert_exit(&out, 0);
    assert!(
        text(&out.stdout).contains("wrote generated/migrations/20250101000500_role_comment.sql")
    );
    assert!(text(&out.stdout).contains("wrote generated/migrations/20250101000300_auth_teams.sql"));
    assert_exit(&schemac(&p, &["check"]), 0);
}

#[test]
fn a_released_layer_that_disappears_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    assert_exit(&schemac(&p, &["release"]), 0);
    let rbac = p.join("specs/20250101000400_rbac.yaml");
    let renamed = p.join("specs/20250101000400_rbac2.yaml");
    std::fs::rename(&rbac, &renamed).unwrap();
    let out = schemac(&p, &["check"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("error[E302]: released migration 20250101000400_rbac is now produced as 20250101000400_rbac2"),
        "{}",
        both(&out)
    );
    std::fs::remove_file(&renamed).unwrap();
    let out = schemac(&p, &["generate"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains(
            "error[E302]: released migration 20250101000400_rbac is no longer produced by any layer"
        ),
        "{}",
        both(&out)
    );
    assert!(p
        .join("generated/migrations/20250101000400_rbac.sql")
        .exists());
}

#[test]
fn hand_edited_deleted_and_renamed_files_are_reported_and_never_silently_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    let g = p.join("generated/migrations");
    let teams = g.join("20250101000300_auth_teams.sql");
    let mut edited = std::fs::read_to_string(&teams).unwrap();
    edited.push_str("-- a hand-made fix\n");
    std::fs::write(&teams, &edited).unwrap();
    std::fs::remove_file(g.join("20250101000400_rbac.sql")).unwrap();
    std::fs::rename(
        g.join("20250101000200_auth.sql"),
        g.join("20250101000200_login.sql"),
    )
    .unwrap();
    let before = read_tree(&p.join("generated"));

    let check = schemac(&p, &["check"]);
    assert_exit(&check, 1);
    let stderr = text(&check.stderr);
    for expected in [
        "generated/migrations/20250101000300_auth_teams.sql:280:1: error[E303]: generated file was edited by hand",
        "generated/migrations/20250101000400_rbac.sql:1:1: error[E304]: generated file was deleted",
        "generated/migrations/20250101000200_auth.sql:1:1: error[E304]: generated file was deleted",
        "generated/migrations/20250101000200_login.sql:1:1: error[E305]: generated file is a renamed copy of generated/migrations/20250101000200_auth.sql",
    ] {
        assert!(stderr.contains(expected), "lacks `{expected}`:\n{stderr}");
    }
    assert!(text(&check.stdout).contains("-- a hand-made fix"));

    let out = schemac(&p, &["generate"]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("nothing was written (`schemac generate --force`"));
    assert_eq!(
        before,
        read_tree(&p.join("generated")),
        "generate wrote despite refusing"
    );

    let out = schemac(&p, &["generate", "--force"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("wrote generated/migrations/20250101000300_auth_teams.sql"),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed generated/migrations/20250101000200_login.sql"),
        "{stdout}"
    );
    assert!(!std::fs::read_to_string(&teams)
        .unwrap()
        .contains("hand-made"));
    assert_exit(&schemac(&p, &["check"]), 0);
}

#[test]
fn the_leftover_of_a_deleted_unreleased_layer_is_removed_and_unknown_files_stay() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    std::fs::remove_file(p.join("specs/20250101000400_rbac.yaml")).unwrap();
    let check = schemac(&p, &["check"]);
    assert_exit(&check, 1);
    assert!(
        text(&check.stderr).contains("extra:   generated/migrations/20250101000400_rbac.sql (its layer is gone; `schemac generate` removes it)"),
        "{}",
        both(&check)
    );
    let stray = p.join("generated/migrations/20250101000200_hotfix.sql");
    std::fs::write(&stray, "-- migrate:up\nSELECT 1;\n-- migrate:down\n").unwrap();
    let out = schemac(&p, &["generate"]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("removed generated/migrations/20250101000400_rbac.sql"));
    assert!(!p
        .join("generated/migrations/20250101000400_rbac.sql")
        .exists());
    // A file schemac never wrote is never removed; dbmate would trip over its version.
    assert!(stray.exists());
    assert!(
        text(&out.stderr).contains("warning: generated/migrations/20250101000200_hotfix.sql"),
        "{}",
        both(&out)
    );
    let check = schemac(&p, &["check"]);
    assert_exit(&check, 1);
    assert!(
        text(&check.stderr).contains(
            "its version 20250101000200 is also a layer's: dbmate would apply only one of the two"
        ),
        "{}",
        both(&check)
    );
}

#[test]
fn versions_dbmate_would_order_wrongly_are_errors_with_positions() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    assert_exit(&schemac(&p, &["release"]), 0);
    // A layer added on a branch with an older version than the released ones.
    std::fs::write(
        p.join("specs/20250101000250_late.yaml"),
        "description: late\n",
    )
    .unwrap();
    for cmd in ["check", "generate"] {
        let out = schemac(&p, &[cmd]);
        assert_exit(&out, 1);
        assert!(
            text(&out.stderr).contains("specs/20250101000250_late.yaml:1:1: error[E307]: layer 20250101000250 is not released but sorts before the released migration 20250101000400_rbac"),
            "{cmd}: {}",
            both(&out)
        );
    }
    assert!(!p
        .join("generated/migrations/20250101000250_late.sql")
        .exists());
    // Widths dbmate would compare wrongly as strings, and a duplicate: errors before anything else.
    std::fs::rename(
        p.join("specs/20250101000250_late.yaml"),
        p.join("specs/202501010005_late.yaml"),
    )
    .unwrap();
    std::fs::write(p.join("specs/20250101000400_again.yaml"), "").unwrap();
    let out = schemac(&p, &["generate"]);
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "specs/202501010005_late.yaml:1:1: error[E004]: version 202501010005 has 12 digits"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("error[E003]: version 20250101000400 is used by two layers"),
        "{stderr}"
    );
}

#[test]
fn a_merge_conflict_in_the_lock_is_resolved_by_generate() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    let lock_path = p.join("generated/schemac.lock");
    let ours = std::fs::read_to_string(&lock_path).unwrap();
    // "Theirs" released everything; git could not merge the total line.
    assert_exit(&schemac(&p, &["release"]), 0);
    let theirs = std::fs::read_to_string(&lock_path).unwrap();
    std::fs::write(
        &lock_path,
        format!("<<<<<<< HEAD\n{ours}=======\n{theirs}>>>>>>> theirs\n"),
    )
    .unwrap();
    let check = schemac(&p, &["check"]);
    assert_exit(&check, 1);
    assert!(
        text(&check.stderr)
            .contains("stale:   generated/schemac.lock (it holds git conflict markers"),
        "{}",
        both(&check)
    );
    assert_exit(&schemac(&p, &["generate"]), 0);
    assert_eq!(
        std::fs::read_to_string(&lock_path).unwrap(),
        theirs,
        "released marks survive the merge"
    );
    // A broken line is reported at its position, and generate will not guess.
    std::fs::write(&lock_path, theirs.replacen(" released\n", " shipped\n", 1)).unwrap();
    let out = schemac(&p, &["generate"]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("generated/schemac.lock:5:"),
        "{}",
        both(&out)
    );
    assert!(
        text(&out.stderr)
            .contains("error[E308]: the lock cannot be read: unknown status `shipped`"),
        "{}",
        both(&out)
    );
}

// ----- bundle -------------------------------------------------------------------------------

fn untar(bytes: &[u8], into: &Path) {
    tar::Archive::new(flate2::read::GzDecoder::new(bytes))
        .unpack(into)
        .unwrap();
}

#[test]
fn bundles_are_identical_across_directories_and_apply_with_dbmate() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let pa = project(a.path());
    let pb_root = b.path().join("elsewhere/deeper");
    std::fs::create_dir_all(&pb_root).unwrap();
    let pb = project(&pb_root);
    let (out_a, out_b) = (a.path().join("dist"), b.path().join("out"));
    let ra = schemac(&pa, &["bundle", "--out", out_a.to_str().unwrap()]);
    assert_exit(&ra, 0);
    assert!(text(&ra.stdout).contains("written "), "{}", both(&ra));
    assert!(text(&ra.stdout).contains("released 4 migration(s) through 20250101000400"));
    let rb = schemac(&pb, &["bundle", "--out", out_b.to_str().unwrap()]);
    assert_exit(&rb, 0);
    let name = "demo-20250101000400.tar.gz";
    let bytes_a = std::fs::read(out_a.join(name)).unwrap();
    let bytes_b = std::fs::read(out_b.join(name)).unwrap();
    assert!(bytes_a == bytes_b, "bundles differ between directories");
    // Bundling is idempotent, and the lock now marks every migration released.
    let again = schemac(&pa, &["bundle", "--out", out_a.to_str().unwrap()]);
    assert_exit(&again, 0);
    assert!(
        text(&again.stdout).starts_with("unchanged "),
        "{}",
        both(&again)
    );
    assert_eq!(std::fs::read(out_a.join(name)).unwrap(), bytes_a);
    let lock = std::fs::read_to_string(pa.join("generated/schemac.lock")).unwrap();
    assert_eq!(lock.matches(" released\n").count(), 4, "{lock}");
    assert_exit(&schemac(&pa, &["check"]), 0);

    // Contents: dbmate's layout, schema.sql, a manifest whose checksums hold.
    let x = tempfile::tempdir().unwrap();
    untar(&bytes_a, x.path());
    let root = x.path().join("demo-20250101000400");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["project"], "demo");
    assert_eq!(manifest["version"], "20250101000400");
    assert_eq!(manifest["schemac_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(manifest["min_postgres"], 15);
    assert_eq!(manifest["spec_digest"].as_str().unwrap().len(), 64);
    assert_eq!(manifest["migrations"].as_array().unwrap().len(), 4);
    let files = manifest["files"].as_array().unwrap();
    assert_eq!(files.len(), 5, "{files:?}");
    for f in files {
        let path = f["path"].as_str().unwrap();
        let bytes = std::fs::read(root.join(path)).unwrap();
        assert_eq!(f["sha256"], schemac::lock::sha256_hex(&bytes), "{path}");
        let generated = pa.join("generated").join(path.trim_start_matches("db/"));
        assert_eq!(bytes, std::fs::read(generated).unwrap(), "{path}");
    }
    let secrets = text(&bytes_a);
    assert!(!secrets.contains("PASSWORD '"), "a password in the bundle");

    // The extracted bundle applies with the real dbmate, from its own folder's defaults.
    let pg = support::server();
    let _guard = support::lock();
    let url = pg.create_database("bundle_apply");
    let out = pg.dbmate(&url, &root.join("db/migrations"), &["up"]);
    assert!(out.status.success(), "dbmate up: {}", both(&out));
    let status = pg.dbmate(&url, &root.join("db/migrations"), &["status"]);
    assert!(
        text(&status.stdout).contains("Applied: 4"),
        "{}",
        both(&status)
    );
    let seeded: u32 = pg
        .psql(&url, "SELECT count(*) FROM rbac.permissions")
        .unwrap()
        .parse()
        .unwrap();
    assert!(seeded > 0, "the seed rows of the rbac layer are missing");
    assert_eq!(
        pg.psql(&url, "SELECT to_regclass('auth.team_members') IS NOT NULL")
            .unwrap(),
        "t"
    );
    // Roles are cluster-wide: roll everything back so no test after this one sees them.
    for _ in 0..4 {
        let out = pg.dbmate(&url, &root.join("db/migrations"), &["rollback"]);
        assert!(out.status.success(), "dbmate rollback: {}", both(&out));
    }
    pg.drop_database(&url);
}

#[test]
fn bundle_refuses_stale_files_and_needs_a_name() {
    let tmp = tempfile::tempdir().unwrap();
    let p = project(tmp.path());
    let dist = tmp.path().join("dist");
    let spec = p.join(ROLES);
    let original = std::fs::read_to_string(&spec).unwrap();
    std::fs::write(
        &spec,
        original.replacen("Runtime web application role", "Runtime role", 1),
    )
    .unwrap();
    let out = schemac(&p, &["bundle", "--out", dist.to_str().unwrap()]);
    assert_exit(&out, 1);
    assert!(
        text(&out.stderr).contains("stale:   generated/migrations/20250101000100_roles.sql"),
        "{}",
        both(&out)
    );
    assert!(text(&out.stderr).contains("no bundle was written"));
    assert!(!dist.exists());
    assert!(!std::fs::read_to_string(p.join("generated/schemac.lock"))
        .unwrap()
        .contains(" released\n"));

    std::fs::write(&spec, original).unwrap();
    std::fs::write(p.join("schemac.yaml"), "migrator: app_migrator\n").unwrap();
    let out = schemac(&p, &["bundle", "--out", dist.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("add `name: <project>` to schemac.yaml"),
        "{}",
        both(&out)
    );
    std::fs::write(
        p.join("schemac.yaml"),
        "# settings\nname: ../evil\nmigrator: app_migrator\n",
    )
    .unwrap();
    let out = schemac(&p, &["bundle", "--out", dist.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("schemac.yaml:2:7: error[E320]: `../evil` cannot name a bundle"),
        "{}",
        both(&out)
    );
    assert!(!dist.exists());
}

// ----- roles sync -----------------------------------------------------------------------------

#[test]
fn roles_sync_sets_passwords_that_log_in_and_changes_nothing_when_a_variable_is_missing() {
    let pg = support::server();
    let _guard = support::lock();
    let tag = format!(
        "{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let (r1, r2) = (format!("sync_app_{tag}"), format!("sync \"odd\" {tag}"));
    let (v1, v2) = (format!("SYNC_APP_PW_{tag}"), format!("SYNC_ODD_PW_{tag}"));
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("proj");
    std::fs::create_dir_all(p.join("specs")).unwrap();
    std::fs::write(
        p.join("specs/20250101000100_roles.yaml"),
        format!(
            "roles:\n  - name: {r1}\n    login: true\n    password_env: {v1}\n  - name: '{}'\n    login: true\n    password_env: {v2}\n  - name: sync_nologin_{tag}\n",
            r2.replace('\'', "''")
        ),
    )
    .unwrap();
    assert_exit(&schemac(&p, &["generate"]), 0);
    let url = pg.create_database("roles_sync");
    let out = pg.dbmate(&url, &p.join("generated/migrations"), &["up"]);
    assert!(out.status.success(), "{}", both(&out));
    let secret1 = "c0rrect horse 'battery' $tap\\le";
    let secret2 = "second-secret";
    let authid = |role: &str| {
        pg.psql(
            &url,
            &format!(
                "SELECT coalesce(rolpassword, '<null>') FROM pg_authid WHERE rolname = {}",
                support::quote_literal(role)
            ),
        )
        .unwrap()
    };
    assert_eq!(authid(&r1), "<null>");

    // One variable missing: nothing changes, and the message names it (and not the other).
    let out = schemac_env(
        &p,
        &["roles", "sync", "--database-url", &url],
        &[(v1.as_str(), secret1)],
    );
    assert_exit(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("error: {v2} is not set (password of role {r2}, declared at specs/20250101000100_roles.yaml:5:11)")), "{stderr}");
    assert!(!stderr.contains(&format!("error: {v1}")), "{stderr}");
    assert!(stderr.contains("nothing was changed"));
    assert!(!both(&out).contains(secret1), "a secret was printed");
    assert_eq!(
        authid(&r1),
        "<null>",
        "a password was set although a variable was missing"
    );

    // Dry run: no connection, no change.
    let out = schemac_env(
        &p,
        &["roles", "sync", "--dry-run"],
        &[(v1.as_str(), secret1), (v2.as_str(), secret2)],
    );
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains(&format!("would set the password of role {r1} from {v1}")));
    assert_eq!(authid(&r1), "<null>");

    // Both set: through DATABASE_URL, in dbmate's socket URL form.
    let out = schemac_env(
        &p,
        &["roles", "sync"],
        &[
            (v1.as_str(), secret1),
            (v2.as_str(), secret2),
            ("DATABASE_URL", url.as_str()),
        ],
    );
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("set the password of role {r1} (from {v1})")),
        "{stdout}"
    );
    assert!(
        !both(&out).contains(secret1) && !both(&out).contains(secret2),
        "a secret was printed"
    );
    let stored = authid(&r1);
    assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
    assert!(!stored.contains(secret1));
    assert_ne!(authid(&r2), "<null>");

    // The password logs in; a wrong one does not.
    if pg.require_password_for(&r1) {
        let db = url
            .split('/')
            .nth(3)
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let login = |pw: &str| pg.psql(&pg.url_as(&r1, pw, &db), "SELECT current_user");
        let mut refused = false;
        for _ in 0..50 {
            // The reload is asynchronous: wait until a wrong password is refused.
            if login("wrong").is_err() {
                refused = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert!(refused, "the cluster never started to require a password");
        assert_eq!(login(secret1).unwrap(), r1);
        let err = login("wrong").unwrap_err();
        assert!(err.contains("password authentication failed"), "{err}");
    }

    // A remote host without TLS is refused before connecting.
    let out = schemac_env(
        &p,
        &[
            "roles",
            "sync",
            "--database-url",
            "postgres://u@db.example.invalid/x",
        ],
        &[(v1.as_str(), secret1), (v2.as_str(), secret2)],
    );
    assert_exit(&out, 2);
    assert!(
        text(&out.stderr).contains("refusing to connect to db.example.invalid without TLS"),
        "{}",
        both(&out)
    );

    pg.drop_database(&url);
    for r in [&r1, &r2, &format!("sync_nologin_{tag}")] {
        pg.psql(
            pg.admin_url(),
            &format!("DROP ROLE IF EXISTS {}", support::quote_ident(r)),
        )
        .unwrap();
    }
}
