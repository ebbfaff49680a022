//! `schemac init [DIR]`: scaffold a project: `schemac.yaml`, a first layer, the JSON Schemas
//! its editor header points at, and `generated/` compiled from it (so `schemac check` is
//! clean at once). Refuses to touch a folder that already holds a project.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context as _};

use super::Format;
use crate::spec_schema::{schema_text, Target};

/// File names of the schemas `init` writes next to `schemac.yaml`.
pub const LAYER_SCHEMA_FILE: &str = "schemac.schema.json";
pub const CONFIG_SCHEMA_FILE: &str = "schemac.config.schema.json";

pub fn run(dir: &Path, name: Option<&str>, format: Format) -> anyhow::Result<ExitCode> {
    if dir.join("schemac.yaml").exists() {
        bail!(
            "{} already holds a schemac project (schemac.yaml); nothing was written",
            dir.display()
        );
    }
    let specs = dir.join("specs");
    if std::fs::read_dir(&specs).is_ok_and(|mut e| e.next().is_some()) {
        bail!(
            "{} is not empty; nothing was written (`schemac init` starts new projects)",
            specs.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = match name {
        Some(n) if crate::bundle::valid_name(n) => n.to_string(),
        Some(n) => {
            bail!("`{n}` cannot name a project: use letters, digits, `.`, `_` and `-` (not first)")
        }
        None => default_name(dir),
    };
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .context("formatting the version")?;
    let layer = format!("specs/{stamp}_init.yaml");
    let files = [
        ("schemac.yaml".to_string(), config_text(&name)),
        (LAYER_SCHEMA_FILE.to_string(), schema_text(Target::Layer)),
        (CONFIG_SCHEMA_FILE.to_string(), schema_text(Target::Config)),
        (layer.clone(), LAYER.to_string()),
    ];
    for (path, text) in &files {
        let full = dir.join(path);
        crate::migration::write_atomic(&full, text)
            .with_context(|| format!("writing {}", full.display()))?;
    }
    if format == Format::Text {
        for (path, _) in &files {
            println!("created {path}");
        }
    }
    let code = super::generate::run(dir, format, false)?;
    if format == Format::Text && code == ExitCode::SUCCESS {
        println!(
            "\nnext: edit {layer} (or `schemac new NAME` for the next layer), then `schemac generate`;\n\
             `schemac check` in CI; `schemac bundle --out dist` for a release"
        );
    }
    Ok(code)
}

/// The folder's name, made into a valid project name (`app` when nothing is left).
fn default_name(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_start_matches(['.', '-'])
        .to_string();
    if crate::bundle::valid_name(&cleaned) {
        cleaned
    } else {
        "app".into()
    }
}

fn config_text(name: &str) -> String {
    format!(
        "# yaml-language-server: $schema={CONFIG_SCHEMA_FILE}\n\
         # schemac project settings; every key is optional except `name`, which names release bundles.\n\
         name: {name}\n\
         specs: specs\n\
         generated: generated\n\
         templates: templates\n\
         # Roles and schemas that exist without this project (created by the platform):\n\
         external_roles: []\n\
         external_schemas: []\n"
    )
}

/// The first layer: a schema, a runtime role whose password is set at deploy time, and one
/// table with row-level security. Small, but each kind of declaration a project starts with.
const LAYER: &str = "# yaml-language-server: $schema=../schemac.schema.json
# The first layer. Change it freely until it is released (`schemac release`); after that,
# put changes in a new layer (`schemac new NAME`). See docs/spec-format.md for every key.
description: The app schema, its runtime role and a first table

roles:
  - name: app_user
    login: true
    password_env: APP_USER_PASSWORD   # set at deploy time by `schemac roles sync`
    comment: The application connects as this role

schemas:
  - name: app
    grants:
      - to: [app_user]
        privileges: [usage]

tables:
  - name: app.notes
    columns:
      - name: id
        type: bigint
        identity: always
      - name: owner
        type: text
        not_null: true
        default: current_user
      - name: body
        type: text
        not_null: true
    primary_key: [id]
    rls: true
    policies:
      - name: notes_own
        for: all
        to: [app_user]
        using: owner = current_user
        with_check: owner = current_user
    grants:
      - to: [app_user]
        privileges: [select, insert, update, delete]
";
