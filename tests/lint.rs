//! `schemac lint` and the lint part of `check`, from the command line: the repository's
//! projects are clean, a bad project fails with positioned findings in every output format,
//! and `lint_allow` entries are checked. Each rule's own firing is tested next to it
//! (src/lint/l*.rs).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn schemac(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schemac"))
        .arg("--project")
        .arg(project)
        .args(args)
        .env_remove("SCHEMAC_PROJECT")
        .output()
        .expect("run schemac")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A project whose one layer breaks several rules at once.
fn bad_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("specs")).unwrap();
    std::fs::write(
        dir.path().join("specs/20250101000001_bad.yaml"),
        "roles:
  - {name: web}
  - {name: svc, login: true, bypassrls: true}
schemas:
  - {name: app, grants: [{to: [web], privileges: [usage]}]}
tables:
  - name: app.items
    columns: [{name: id, type: int}]
    grants: [{to: [web], privileges: [select]}]
functions:
  - {name: app.f, returns: int, language: sql, body: SELECT 1, security: definer}
",
    )
    .unwrap();
    dir
}

#[test]
fn the_repository_projects_are_clean() {
    let mut projects = vec![repo()];
    for e in std::fs::read_dir(repo().join("examples")).unwrap() {
        projects.push(e.unwrap().path());
    }
    for p in projects {
        let out = schemac(&p, &["--format", "json", "lint"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", p.display(), text(&out.stderr)));
        assert_eq!(out.status.code(), Some(0), "{}: {v}", p.display());
        assert_eq!(v["errors"], 0, "{}: {v}", p.display());
        assert_eq!(v["warnings"], 0, "{}: {v}", p.display());
    }
}

#[test]
fn a_bad_project_fails_lint_and_check_with_positions() {
    let dir = bad_project();
    let out = schemac(dir.path(), &["lint"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for expected in [
        "specs/20250101000001_bad.yaml:7:11: error[L101]: table `app.items` is granted to `web`",
        "specs/20250101000001_bad.yaml:3:12: error[L109]: login role `svc` bypasses row-level security",
        "specs/20250101000001_bad.yaml:11:12: error[L105]",
        "error[L106]: SECURITY DEFINER function `app.f` can be executed by PUBLIC",
        "help: ",
        "lint: 4 error(s), 0 warning(s)",
    ] {
        assert!(err.contains(expected), "missing `{expected}` in:\n{err}");
    }
    // `check` runs the same rules: generated/ is missing too, but the findings are shown.
    let out = schemac(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error[L101]"));

    // `release` and `bundle` refuse a project with lint errors, even when generated/ is current.
    assert_eq!(schemac(dir.path(), &["generate"]).status.code(), Some(0));
    let out = schemac(dir.path(), &["bundle", "--out", "dist", "--name", "bad"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("lint errors: no bundle was written"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !dir.path().join("dist").exists()
            || std::fs::read_dir(dir.path().join("dist"))
                .unwrap()
                .next()
                .is_none()
    );
    let out = schemac(dir.path(), &["release"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("lint errors: nothing was released"));

    // JSON: one object with the findings.
    let out = schemac(dir.path(), &["--format", "json", "lint"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"], 4);
    let f = v["findings"].as_array().unwrap();
    assert!(f.iter().any(|x| x["code"] == "L101"
        && x["line"] == 7
        && x["file"] == "specs/20250101000001_bad.yaml"));

    // GitHub annotations.
    let out = schemac(dir.path(), &["--format", "github", "lint"]);
    let s = text(&out.stdout);
    let annotation = s
        .lines()
        .find(|l| l.contains("title=L109"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(annotation.starts_with("::error file="), "{annotation}");
    assert!(
        annotation.contains("specs/20250101000001_bad.yaml,line=3,col=12,title=L109::"),
        "{annotation}"
    );
    assert!(!annotation.contains('\n'));

    // --deny-warnings fails on warnings only when there are some.
    let clean = repo().join("examples/app-auth");
    assert_eq!(
        schemac(&clean, &["lint", "--deny-warnings"]).status.code(),
        Some(0)
    );
    let warned = tempfile::tempdir().unwrap();
    std::fs::create_dir(warned.path().join("specs")).unwrap();
    std::fs::write(
        warned.path().join("specs/20250101000001_deny_all.yaml"),
        "schemas: [{name: app}]\ntables:\n  - {name: app.t, columns: [{name: id, type: int}], rls: true}\n",
    )
    .unwrap();
    assert_eq!(schemac(warned.path(), &["lint"]).status.code(), Some(0));
    let out = schemac(warned.path(), &["lint", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("warning[L102]"));
}

#[test]
fn lint_allow_entries_are_checked() {
    let dir = bad_project();
    let layer = dir.path().join("specs/20250101000001_bad.yaml");
    let mut yaml = std::fs::read_to_string(&layer).unwrap();
    yaml.push_str("lint_allow:\n  - {rule: L109, object: svc, reason: the service role}\n  - {rule: L19, object: svc, reason: typo}\n");
    std::fs::write(&layer, &yaml).unwrap();
    let out = schemac(dir.path(), &["lint"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error[E075]: `L19` is not a lint rule"),
        "{err}"
    );

    let yaml = yaml.replace("  - {rule: L19, object: svc, reason: typo}\n", "");
    std::fs::write(&layer, &yaml).unwrap();
    let out = schemac(dir.path(), &["lint"]);
    let err = text(&out.stderr);
    assert!(!err.contains("L109"), "{err}");
    assert!(
        err.contains("lint: 3 error(s), 0 warning(s), 1 silenced by lint_allow"),
        "{err}"
    );
}

#[test]
fn rules_are_listed() {
    let out = schemac(&repo(), &["lint", "--rules"]);
    let s = text(&out.stdout);
    assert!(out.status.success());
    for code in ["L101", "L111", "L201", "L206"] {
        assert!(s.contains(code), "{s}");
    }
}
