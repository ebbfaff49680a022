//! The command line as a user meets it: exit codes, stdout and stderr, and what is (not)
//! written.

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

/// Every file under `dir`, relative path → contents.
fn read_tree(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
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
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn the_repository_generated_files_are_current() {
    let out = schemac(&repo(), &["check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("is current"));
}

#[test]
fn generate_is_deterministic_and_idempotent() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let b_project = b.path().join("some/other/place");
    for p in [a.path(), b_project.as_path()] {
        copy_dir(&repo().join("specs"), &p.join("specs"));
        std::fs::copy(repo().join("schemac.yaml"), p.join("schemac.yaml")).unwrap();
        let out = schemac(p, &["generate"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("wrote generated/migrations/20250101000400_rbac.sql"));
    }
    let first = read_tree(&a.path().join("generated"));
    assert_eq!(first.len(), 6, "4 migrations, schema.sql and schemac.lock");
    assert_eq!(
        first,
        read_tree(&b_project.join("generated")),
        "output depends on where the project is"
    );
    assert_eq!(
        first,
        read_tree(&repo().join("generated")),
        "the repository's generated/ differs"
    );
    let again = schemac(a.path(), &["generate"]);
    assert!(
        text(&again.stdout).contains("up to date"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(first, read_tree(&a.path().join("generated")));
}

#[test]
fn check_catches_a_one_character_edit_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("specs"), &dir.path().join("specs"));
    std::fs::copy(repo().join("schemac.yaml"), dir.path().join("schemac.yaml")).unwrap();
    copy_dir(&repo().join("generated"), &dir.path().join("generated"));
    assert_eq!(schemac(dir.path(), &["check"]).status.code(), Some(0));
    let spec = dir.path().join("specs/20250101000300_auth_teams.yaml");
    let original = std::fs::read_to_string(&spec).unwrap();
    let edited = original.replacen("idx_auth_teams_created_by", "idx_auth_teams_created_bx", 1);
    assert_ne!(original, edited);
    std::fs::write(&spec, edited).unwrap();
    let before = read_tree(&dir.path().join("generated"));
    let out = schemac(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("--- a/generated/migrations/20250101000300_auth_teams.sql"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-CREATE INDEX idx_auth_teams_created_by ON auth.teams (created_by);"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+CREATE INDEX idx_auth_teams_created_bx ON auth.teams (created_by);"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("stale:   generated/migrations/20250101000300_auth_teams.sql")
    );
    assert!(text(&out.stderr).contains("stale:   generated/schema.sql"));
    assert_eq!(
        before,
        read_tree(&dir.path().join("generated")),
        "check wrote something"
    );
}

#[test]
fn check_reports_missing_and_extra_files() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("specs"), &dir.path().join("specs"));
    std::fs::copy(repo().join("schemac.yaml"), dir.path().join("schemac.yaml")).unwrap();
    copy_dir(&repo().join("generated"), &dir.path().join("generated"));
    std::fs::remove_file(
        dir.path()
            .join("generated/migrations/20250101000100_roles.sql"),
    )
    .unwrap();
    std::fs::write(
        dir.path()
            .join("generated/migrations/20250101000500_orphan.sql"),
        "-- migrate:up\n-- migrate:down\n",
    )
    .unwrap();
    let out = schemac(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    // The lock shows schemac wrote it: a deletion, not a layer still to generate.
    assert!(
        stderr.contains(
            "generated/migrations/20250101000100_roles.sql:1:1: error[E304]: generated file was deleted"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("extra:   generated/migrations/20250101000500_orphan.sql"),
        "{stderr}"
    );
    assert!(text(&out.stdout).contains("+CREATE ROLE anon"));
}

#[test]
fn new_creates_increasing_14_digit_versions() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["first", "second"] {
        let out = schemac(dir.path(), &["new", name]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("specs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2);
    assert!(
        names[0].ends_with("_first.yaml") && names[1].ends_with("_second.yaml"),
        "{names:?}"
    );
    for n in &names {
        let version = n.split('_').next().unwrap();
        assert_eq!(version.len(), 14, "{n}");
        assert!(version.chars().all(|c| c.is_ascii_digit()));
    }
    // The new layers compile (to empty migrations).
    let out = schemac(dir.path(), &["generate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bad = schemac(dir.path(), &["new", "Bad Name"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("not a layer name"));
}

/// One broken layer: the expected `file:line:col` and message fragments.
struct Case {
    name: &'static str,
    yaml: &'static str,
    expect: &'static [&'static str],
}

const BASE: &str = "schemas:\n  - name: app\nroles:\n  - name: anon\n";

const CASES: &[Case] = &[
    Case { name: "yaml_syntax", yaml: "tables:\n  - name: app.t\n    columns: [\n", expect: &["specs/20250101000200_bad.yaml:", "error[E010]"] },
    Case { name: "unknown_key", yaml: "roles:\n  - name: x\n    logn: true\n", expect: &["specs/20250101000200_bad.yaml:3:5", "unknown field `logn`", "did you mean `login`?"] },
    Case {
        name: "undeclared_role",
        yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: id, type: int}\n    grants:\n      - to: [anno]\n        privileges: [select]\n",
        expect: &["specs/20250101000200_bad.yaml:2:11", "names role `anno`, which is not declared", "did you mean `anon`?"],
    },
    Case {
        name: "undeclared_fk_table",
        yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: u, type: int}\n    foreign_keys:\n      - columns: [u]\n        references: app.users\n",
        expect: &["specs/20250101000200_bad.yaml:6:18", "references table `app.users`, which is not declared"],
    },
    Case {
        name: "undeclared_column",
        yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: id, type: int}\n    primary_key: [idd]\n",
        expect: &["specs/20250101000200_bad.yaml:2:11", "names column `idd`", "did you mean `id`?"],
    },
    Case { name: "unknown_type", yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: id, type: strng}\n", expect: &["specs/20250101000200_bad.yaml:4:26", "unknown type `strng`"] },
    Case {
        name: "undeclared_enum",
        yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: m, type: app.mood}\n",
        expect: &["specs/20250101000200_bad.yaml:4:16", "uses type `app.mood`, which is not declared"],
    },
    Case {
        name: "duplicate_table",
        yaml: "tables:\n  - name: app.t\n    columns: [{name: id, type: int}]\n  - name: app.t\n    columns: [{name: id, type: int}]\n",
        expect: &["specs/20250101000200_bad.yaml:4:11", "table `app.t` is declared twice in this layer"],
    },
    Case {
        name: "name_too_long",
        yaml: "roles:\n  - name: a_role_name_that_is_much_longer_than_sixty_three_bytes_allowed_by_pg\n",
        expect: &["specs/20250101000200_bad.yaml:2:11", "identifiers are at most 63 bytes"],
    },
    Case {
        name: "dbmate_marker_in_body",
        yaml: "functions:\n  - name: app.f\n    returns: int\n    language: sql\n    body: |\n      SELECT 1\n      -- migrate:down\n",
        expect: &["specs/20250101000200_bad.yaml:7:7", "error[E051]", "a line starts with `-- migrate:down`"],
    },
    Case {
        name: "ambiguous_overloads",
        yaml: "functions:\n  - name: app.f\n    overload: true\n    args: [{name: a, type: int}]\n    returns: int\n    language: sql\n    body: SELECT 1\n  - name: app.f\n    overload: true\n    args: [{name: a, type: int}, {name: b, type: int, default: '0'}]\n    returns: int\n    language: sql\n    body: SELECT 2\n",
        expect: &["specs/20250101000200_bad.yaml:8:11", "cannot be told apart by a call"],
    },
    Case {
        name: "type_injection",
        yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: id, type: 'int); DROP TABLE x; --'}\n",
        expect: &["specs/20250101000200_bad.yaml:4:26", "is not a type"],
    },
    Case {
        name: "default_injection",
        yaml: "tables:\n  - name: app.t\n    columns:\n      - {name: id, type: int, default: '1); DROP TABLE x; SELECT (1'}\n",
        expect: &["specs/20250101000200_bad.yaml:4:40", "not a valid SQL expression"],
    },
    Case {
        name: "policy_without_rls",
        yaml: "tables:\n  - name: app.t\n    columns: [{name: id, type: int}]\n    policies:\n      - {name: p, for: select, using: 'true'}\n",
        expect: &["specs/20250101000200_bad.yaml:2:11", "has policies but row-level security is not enabled", "rls: true"],
    },
    Case {
        name: "patch_unknown_table",
        yaml: "tables:\n  - name: app.missing\n    patch: true\n    columns: [{name: id, type: int}]\n",
        expect: &["specs/20250101000200_bad.yaml:2:11", "no earlier layer declares table `app.missing`"],
    },
    Case {
        name: "trigger_function_not_trigger",
        yaml: "functions:\n  - name: app.f\n    returns: int\n    language: sql\n    body: SELECT 1\ntables:\n  - name: app.t\n    columns: [{name: id, type: int}]\n    triggers:\n      - {name: tr, timing: before, events: [insert], function: app.f}\n",
        expect: &["specs/20250101000200_bad.yaml:10:64", "does not return trigger"],
    },
    Case {
        name: "plpgsql_syntax",
        yaml: "functions:\n  - name: app.f\n    returns: int\n    language: plpgsql\n    body: |\n      BEGIN\n        RETURN 1\n      EN;\n",
        expect: &["specs/20250101000200_bad.yaml:6:7", "is not valid PL/pgSQL"],
    },
    Case {
        name: "policy_calls_undeclared_function",
        yaml: "tables:\n  - name: app.t\n    columns: [{name: id, type: int}]\n    rls: true\n    policies:\n      - {name: p, for: select, using: 'id = app.current_id()'}\n",
        expect: &["specs/20250101000200_bad.yaml:6:16", "calls function `app.current_id`, which is not declared"],
    },
];

/// An earlier layer the evolution cases change.
const EVOLUTION_BASE: &str = "schemas: [{name: app}]
enums: [{name: app.e, values: [a, b, c]}]
functions:
  - {name: app.f, returns: int, language: sql, body: SELECT 1}
tables:
  - name: app.t
    columns: [{name: id, type: int}, {name: note, type: text}, {name: e, type: app.e}]
    rls: true
    policies: [{name: p, for: select, using: 'true'}]
views:
  - {name: app.v, query: SELECT id FROM app.t}
";

const EVOLUTION_CASES: &[Case] = &[
    Case {
        name: "drop_column_unacknowledged",
        yaml: "tables:\n  - name: app.t\n    patch: true\n    drop: {columns: [note]}\n",
        expect: &["specs/20250101000200_bad.yaml:4:22", "error[E210]", "dropping column `app.t.note`", "accept_data_loss:", "- column: app.t.note"],
    },
    Case {
        name: "drop_table_unacknowledged",
        yaml: "drop:\n  views: [app.v]\n  tables: [app.t]\n",
        expect: &["specs/20250101000200_bad.yaml:3:12", "error[E210]", "dropping table `app.t`", "- table: app.t"],
    },
    Case {
        name: "narrowing_unacknowledged",
        yaml: "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: note, type: varchar(10)}]\n",
        expect: &["specs/20250101000200_bad.yaml:4:34", "error[E210]", "narrowing the type of column `app.t.note`"],
    },
    Case {
        name: "enum_value_removed_unacknowledged",
        yaml: "enums: [{name: app.e, values: [a, c]}]\n",
        expect: &["specs/20250101000200_bad.yaml:1:16", "error[E210]", "value `b` of enum `app.e`", "- enum_value: app.e.b"],
    },
    Case {
        name: "stale_acknowledgement",
        yaml: "accept_data_loss:\n  - {column: app.t.id}\n",
        expect: &["specs/20250101000200_bad.yaml:2:5", "error[E211]", "destroys no data there"],
    },
    Case {
        name: "misspelled_acknowledgement",
        yaml: "tables:\n  - name: app.t\n    patch: true\n    drop: {columns: [note]}\naccept_data_loss:\n  - {column: app.t.notes}\n",
        expect: &["error[E210]", "specs/20250101000200_bad.yaml:6:5: error[E211]", "did you mean `- column: app.t.note`?"],
    },
    Case {
        name: "acknowledgement_two_objects",
        yaml: "accept_data_loss:\n  - {column: app.t.note, table: app.t}\n",
        expect: &["specs/20250101000200_bad.yaml:2:5", "error[E029]", "exactly one of"],
    },
    Case {
        name: "replace_with_unknown_value",
        yaml: "enums: [{name: app.e, values: [a, c]}]\naccept_data_loss:\n  - {enum_value: app.e.b, replace_with: d}\n",
        expect: &["specs/20250101000200_bad.yaml:3:41", "error[E029]", "`d` is not a value of `app.e`"],
    },
    Case {
        name: "rename_from_unknown_table",
        yaml: "tables:\n  - name: app.t2\n    renamed_from: app.tt\n    columns: [{name: id, type: int}]\n",
        expect: &["specs/20250101000200_bad.yaml:3:19", "error[E026]", "no earlier layer declares table `app.tt`", "did you mean `app.t`?"],
    },
    Case {
        name: "rename_across_schemas",
        yaml: "schemas: [{name: other}]\ntables:\n  - name: other.t\n    renamed_from: app.t\n    patch: true\n",
        expect: &["specs/20250101000200_bad.yaml:4:19", "error[E027]", "renames stay within a schema"],
    },
    Case {
        name: "rename_column_unknown",
        yaml: "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: body, renamed_from: notes, type: text}]\n",
        expect: &["specs/20250101000200_bad.yaml:4:42", "error[E026]", "`app.t` has no column `notes`", "did you mean `note`?"],
    },
    Case {
        name: "rename_value_not_listed",
        yaml: "enums: [{name: app.e, values: [a, b, c], rename_values: {b: bee}}]\n",
        expect: &["specs/20250101000200_bad.yaml:1:61", "error[E027]", "which is not in `values`"],
    },
    Case {
        name: "rename_function_unknown",
        yaml: "functions:\n  - {name: app.g, renamed_from: app.ff, returns: int, language: sql, body: SELECT 1}\n",
        expect: &["specs/20250101000200_bad.yaml:2:33", "error[E026]", "function `app.ff`", "did you mean `app.f`?"],
    },
    Case {
        name: "using_without_type_change",
        yaml: "tables:\n  - name: app.t\n    patch: true\n    columns: [{name: note, type: text, using: upper(note)}]\n",
        expect: &["specs/20250101000200_bad.yaml:4:47", "error[E028]", "whose type does not change"],
    },
    Case {
        name: "view_query_not_select",
        yaml: "views:\n  - {name: app.w, query: 'DELETE FROM app.t'}\n",
        expect: &["specs/20250101000200_bad.yaml:2:26", "error[E037]", "exactly one SELECT"],
    },
    Case {
        name: "view_query_injection",
        yaml: "views:\n  - {name: app.w, query: 'SELECT 1; DROP TABLE app.t'}\n",
        expect: &["specs/20250101000200_bad.yaml:2:26", "error[E037]"],
    },
    Case {
        name: "view_of_undeclared_table",
        yaml: "views:\n  - {name: app.w, query: SELECT * FROM app.missing}\n",
        expect: &["specs/20250101000200_bad.yaml:2:12", "view `app.w` refers to table `app.missing`"],
    },
    Case {
        name: "cast_to_undeclared_type",
        yaml: "tables:\n  - name: app.t\n    patch: true\n    checks: [{name: c, expr: \"e <> 'a'::app.ee\"}]\n",
        expect: &["error[E114]", "uses type `app.ee`", "did you mean `app.e`?"],
    },
];

#[test]
fn evolution_mistakes_get_a_positioned_error_and_nothing_is_written() {
    let failures = run_cases(EVOLUTION_BASE, EVOLUTION_CASES);
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

/// `--format json` gives the same diagnostics as objects on stdout.
#[test]
fn json_format_reports_diagnostics_as_objects() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    std::fs::write(
        dir.path().join("specs/20250101000100_base.yaml"),
        EVOLUTION_BASE,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("specs/20250101000200_bad.yaml"),
        "enums: [{name: app.e, values: [a, c]}]\naccept_data_loss:\n  - {column: app.t.id}\n",
    )
    .unwrap();
    let out = schemac(dir.path(), &["--format", "json", "generate"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"], 2);
    let d = &v["diagnostics"];
    assert_eq!(d[0]["code"], "E210");
    assert_eq!(d[0]["file"], "specs/20250101000200_bad.yaml");
    assert_eq!(
        (d[0]["line"].as_u64(), d[0]["column"].as_u64()),
        (Some(1), Some(16))
    );
    assert_eq!(d[1]["code"], "E211");
    assert!(d[1]["help"].as_str().unwrap().contains("remove the entry"));
    assert!(!dir.path().join("generated").exists());
}

fn run_cases(base: &str, cases: &[Case]) -> Vec<String> {
    let mut failures = Vec::new();
    for case in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("specs")).unwrap();
        std::fs::write(dir.path().join("specs/20250101000100_base.yaml"), base).unwrap();
        std::fs::write(dir.path().join("specs/20250101000200_bad.yaml"), case.yaml).unwrap();
        let out = schemac(dir.path(), &["generate"]);
        let stderr = text(&out.stderr);
        if out.status.code() != Some(2) {
            failures.push(format!(
                "{}: exit {:?}\n{stderr}",
                case.name,
                out.status.code()
            ));
            continue;
        }
        for e in case.expect {
            if !stderr.contains(e) {
                failures.push(format!("{}: stderr lacks `{e}`:\n{stderr}", case.name));
            }
        }
        if !stderr.contains("help: ") {
            failures.push(format!("{}: no hint:\n{stderr}", case.name));
        }
        if dir.path().join("generated").exists() {
            failures.push(format!("{}: generated/ was written", case.name));
        }
    }
    failures
}

#[test]
fn bad_input_gets_a_positioned_error_and_nothing_is_written() {
    let failures = run_cases(BASE, CASES);
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn duplicate_and_uneven_versions_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("specs/20250101000100_a.yaml"), BASE).unwrap();
    std::fs::write(dir.path().join("specs/20250101000100_b.yaml"), "").unwrap();
    std::fs::write(dir.path().join("specs/2025_c.yaml"), "").unwrap();
    let out = schemac(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("version 20250101000100 is used by two layers"),
        "{stderr}"
    );
    assert!(stderr.contains("version 2025 has 4 digits"), "{stderr}");
}
