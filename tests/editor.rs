//! Editor support and new projects: `schemac schema` (the JSON Schema of the spec format,
//! checked against every spec in the repository and against broken ones) and `schemac init`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use schemac::spec_schema::{schema, schema_text, Target};

fn schemac(project: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schemac"))
        .arg("--project")
        .arg(project)
        .args(args)
        .env_remove("SCHEMAC_PROJECT")
        .output()
        .expect("run schemac")
}

fn both(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every layer file of the repository: the project itself, examples/*, tests/corpus/*.
fn every_spec() -> Vec<PathBuf> {
    let mut dirs = vec![repo().join("specs")];
    for parent in ["examples", "tests/corpus"] {
        for e in std::fs::read_dir(repo().join(parent)).unwrap() {
            let p = e.unwrap().path().join("specs");
            if p.is_dir() {
                dirs.push(p);
            }
        }
    }
    let mut files = Vec::new();
    for d in dirs {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn yaml_to_json(text: &str) -> serde_json::Value {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim().starts_with('#'))
    {
        return serde_json::json!({});
    }
    serde_saphyr::from_str::<serde_json::Value>(text).expect("YAML reads")
}

fn validator(target: Target) -> jsonschema::Validator {
    jsonschema::draft7::new(&schema(target)).expect("the schema is a valid draft-7 schema")
}

fn errors(v: &jsonschema::Validator, instance: &serde_json::Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

#[test]
fn the_schema_command_prints_the_schema_and_the_committed_copies_are_current() {
    let out = schemac(&repo(), &["schema"]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        schema_text(Target::Layer)
    );
    let out = schemac(&repo(), &["schema", "--config"]);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        schema_text(Target::Config)
    );
    // docs/ holds copies for editors (see the README); they follow the spec types.
    for (file, target) in [
        ("docs/schemac.schema.json", Target::Layer),
        ("docs/schemac.config.schema.json", Target::Config),
    ] {
        let committed = std::fs::read_to_string(repo().join(file)).unwrap_or_default();
        assert!(
            committed == schema_text(target),
            "{file} is not current: run `cargo run -- schema{} > {file}`",
            if target == Target::Config {
                " --config"
            } else {
                ""
            }
        );
    }
    let v = schema(Target::Layer);
    assert_eq!(v["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(v["additionalProperties"], false);
    for key in [
        "roles",
        "tables",
        "functions",
        "drop",
        "accept_data_loss",
        "sql",
    ] {
        assert!(v["properties"][key].is_object(), "no `{key}` in the schema");
    }
}

#[test]
fn every_spec_in_the_repository_validates() {
    let layer = validator(Target::Layer);
    let specs = every_spec();
    assert!(specs.len() >= 15, "found only {} specs", specs.len());
    let mut failures = Vec::new();
    for path in &specs {
        let text = std::fs::read_to_string(path).unwrap();
        let errs = errors(&layer, &yaml_to_json(&text));
        if !errs.is_empty() {
            failures.push(format!("{}:\n  {}", path.display(), errs.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let config = validator(Target::Config);
    for dir in ["examples/app-auth", "examples/support-tickets"] {
        let text = std::fs::read_to_string(repo().join(dir).join("schemac.yaml")).unwrap();
        let errs = errors(&config, &yaml_to_json(&text));
        assert!(errs.is_empty(), "{dir}/schemac.yaml: {errs:?}");
    }
}

#[test]
fn broken_specs_are_rejected_by_the_schema_as_by_the_loader() {
    let layer = validator(Target::Layer);
    let cases: &[(&str, &str)] = &[
        ("roles:\n  - name: x\n    logn: true\n", "/roles/0"),
        (
            "tables:\n  - name: app.t\n    columns:\n      - {name: id}\n",
            "/tables/0/columns/0",
        ),
        (
            "tables:\n  - name: app.t\n    rls: sometimes\n",
            "/tables/0/rls",
        ),
        (
            "functions:\n  - name: app.f\n    returns: {table: yes}\n    body: SELECT 1\n",
            "/functions/0/returns",
        ),
        ("roles: {name: x}\n", "/roles"),
        ("tabels: []\n", ""),
        ("drop:\n  tables: [1, {x: y}]\n", "/drop/tables/1"),
    ];
    for (yaml, path) in cases {
        let errs = errors(&layer, &yaml_to_json(yaml));
        assert!(
            errs.iter().any(|e| e.starts_with(&format!("{path}:"))),
            "the schema accepts (at {path:?}):\n{yaml}\n{errs:?}"
        );
        // The loader agrees: a schema that rejects what schemac accepts would mislead.
        let loaded = schemac::spec::parse_yaml::<schemac::spec::LayerSpec>(&"x.yaml".into(), yaml);
        assert!(
            loaded.is_err(),
            "schemac accepts what the schema rejects:\n{yaml}"
        );
    }
    let config = validator(Target::Config);
    assert!(!errors(&config, &yaml_to_json("spec: specs\n")).is_empty());
    assert!(errors(&config, &yaml_to_json("name: app\nspecs: s\n")).is_empty());
}

#[test]
fn init_scaffolds_a_project_that_generates_and_checks_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("My Shop");
    let out = schemac(tmp.path(), &["init", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("created schemac.yaml"), "{stdout}");
    assert!(stdout.contains("wrote generated/schemac.lock"), "{stdout}");
    let config = std::fs::read_to_string(dir.join("schemac.yaml")).unwrap();
    assert!(config.contains("name: my-shop\n"), "{config}");
    let layers: Vec<PathBuf> = std::fs::read_dir(dir.join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(layers.len(), 1);
    let layer = std::fs::read_to_string(&layers[0]).unwrap();
    assert!(layer.starts_with("# yaml-language-server: $schema=../schemac.schema.json\n"));
    assert_eq!(
        std::fs::read_to_string(dir.join("schemac.schema.json")).unwrap(),
        schema_text(Target::Layer)
    );
    // The first layer validates against the schema its header names.
    assert!(errors(&validator(Target::Layer), &yaml_to_json(&layer)).is_empty());
    let sql = std::fs::read_dir(dir.join("generated/migrations"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(sql.contains("CREATE TABLE app.notes"), "{sql}");
    assert!(sql.contains("ENABLE ROW LEVEL SECURITY"), "{sql}");
    assert!(!sql.contains("PASSWORD '"), "{sql}");

    let check = schemac(&dir, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{}", both(&check));
    let again = schemac(&dir, &["generate"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("up to date"));
    let dry = Command::new(env!("CARGO_BIN_EXE_schemac"))
        .args([
            "--project",
            dir.to_str().unwrap(),
            "roles",
            "sync",
            "--dry-run",
        ])
        .env("APP_USER_PASSWORD", "x")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("would set the password of role app_user")
    );

    // A second init touches nothing.
    let before = std::fs::read_to_string(dir.join("schemac.yaml")).unwrap();
    let out = schemac(tmp.path(), &["init", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        both(&out).contains("already holds a schemac project"),
        "{}",
        both(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("schemac.yaml")).unwrap(),
        before
    );
}
