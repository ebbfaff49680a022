//! The YAML spec format as serde types, and loading with positions.
//!
//! Types mirror the YAML exactly (see `docs/spec-format.md`); names, references and SQL
//! fragments are [`Spanned`] so later stages can point at them. Nothing here interprets a
//! value: that is `resolve`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;
pub use serde_saphyr::Spanned;

use crate::diagnostic::{did_you_mean, Diagnostic, Diagnostics, Span};

/// A value with its position. `Spanned` has no `JsonSchema` (it is serde-saphyr's), so every
/// spanned field names its plain type for the schema with `#[schemars(with = "...")]`; a new
/// spanned field without it does not compile, so the schema cannot fall behind the types.
type S<T> = Spanned<T>;

/// One layer file: `specs/<version>_<name>.yaml`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    pub description: Option<String>,
    #[serde(default)]
    pub roles: Vec<RoleSpec>,
    #[serde(default)]
    pub schemas: Vec<SchemaSpec>,
    #[serde(default)]
    pub extensions: Vec<ExtensionSpec>,
    #[serde(default)]
    pub enums: Vec<EnumSpec>,
    #[serde(default)]
    pub sequences: Vec<SequenceSpec>,
    #[serde(default)]
    pub tables: Vec<TableSpec>,
    #[serde(default)]
    pub functions: Vec<FunctionSpec>,
    #[serde(default)]
    pub default_privileges: Vec<DefaultPrivilegeSpec>,
    #[serde(default)]
    pub rows: Vec<RowsSpec>,
    #[serde(default)]
    pub views: Vec<ViewSpec>,
    pub sql: Option<RawSqlSpec>,
    #[serde(default)]
    pub drop: DropSpec,
    /// Objects whose data this layer may destroy (dropped tables and columns, narrowing type
    /// changes, removed enum values); anything else that loses data is an error.
    #[serde(default)]
    #[schemars(with = "Vec<DataLossSpec>")]
    pub accept_data_loss: Vec<S<DataLossSpec>>,
    /// Lint findings silenced on purpose, each for one rule and one object, with a reason.
    #[serde(default)]
    #[schemars(with = "Vec<LintAllowSpec>")]
    pub lint_allow: Vec<S<LintAllowSpec>>,
}

/// `lint_allow` entry: `{rule: L111, object: app.items, reason: ...}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LintAllowSpec {
    /// A rule code (`schemac lint --rules`).
    #[schemars(with = "String")]
    pub rule: S<String>,
    /// The object the finding names: `app.items` (a table, or one of its policies), `app.f`,
    /// a role or a schema.
    #[schemars(with = "String")]
    pub object: S<String>,
    /// Why the finding does not apply.
    #[schemars(with = "String")]
    pub reason: S<String>,
}

/// One acknowledgement of data loss: exactly one of `table`, `column`, `enum_value`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataLossSpec {
    #[schemars(with = "Option<String>")]
    pub table: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub column: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub enum_value: Option<S<String>>,
    /// For a removed enum value: the value rows holding it get instead.
    #[schemars(with = "Option<String>")]
    pub replace_with: Option<S<String>>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "String")]
    pub query: S<String>,
    #[serde(default)]
    pub security_invoker: bool,
    #[serde(default)]
    pub security_barrier: bool,
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<S<String>>,
    #[serde(default)]
    pub grants: Vec<GrantSpec>,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[serde(default)]
    pub login: bool,
    #[serde(default = "yes")]
    pub inherit: bool,
    #[serde(default)]
    pub bypassrls: bool,
    #[serde(default)]
    pub createdb: bool,
    #[serde(default)]
    pub createrole: bool,
    pub connection_limit: Option<i32>,
    #[schemars(with = "Option<String>")]
    pub password_env: Option<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub member_of: Vec<S<String>>,
    pub comment: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    #[schemars(with = "Vec<String>")]
    pub to: Vec<S<String>>,
    #[schemars(with = "Vec<String>")]
    pub privileges: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub columns: Vec<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "Option<String>")]
    pub owner: Option<S<String>>,
    #[serde(default)]
    pub revoke_public: bool,
    #[serde(default)]
    pub grants: Vec<GrantSpec>,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "Option<String>")]
    pub schema: Option<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "Vec<String>")]
    pub values: Vec<S<String>>,
    /// Values renamed since the previous layer: `{old: new}`.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub rename_values: BTreeMap<String, S<String>>,
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<S<String>>,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SequenceSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[serde(rename = "type")]
    #[schemars(with = "Option<String>")]
    pub data_type: Option<S<String>>,
    pub start: Option<i64>,
    pub increment: Option<i64>,
    #[serde(default)]
    pub grants: Vec<GrantSpec>,
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[serde(default)]
    pub patch: bool,
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<S<String>>,
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    #[schemars(with = "Option<PrimaryKeySpec>")]
    pub primary_key: Option<S<PrimaryKeySpec>>,
    #[serde(default)]
    pub unique: Vec<UniqueSpec>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKeySpec>,
    #[serde(default)]
    pub indexes: Vec<IndexSpec>,
    pub rls: Option<RlsSpec>,
    #[serde(default)]
    pub policies: Vec<PolicySpec>,
    #[serde(default)]
    pub grants: Vec<GrantSpec>,
    #[serde(default)]
    pub triggers: Vec<TriggerSpec>,
    pub comment: Option<String>,
    #[schemars(with = "Option<TablePartsDrop>")]
    pub drop: Option<S<TablePartsDrop>>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TablePartsDrop {
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub columns: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub unique: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub checks: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub foreign_keys: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub indexes: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub policies: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub triggers: Vec<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[serde(rename = "type")]
    #[schemars(with = "String")]
    pub data_type: S<String>,
    #[serde(default)]
    pub not_null: bool,
    #[schemars(with = "Option<String>")]
    pub identity: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub default: Option<S<String>>,
    pub comment: Option<String>,
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<S<String>>,
    /// How existing values convert when the type changes (`USING`); defaults to a cast.
    #[schemars(with = "Option<String>")]
    pub using: Option<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum PrimaryKeySpec {
    Columns(Vec<String>),
    Named {
        name: Option<String>,
        columns: Vec<String>,
    },
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UniqueSpec {
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[schemars(with = "Vec<String>")]
    pub columns: S<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "String")]
    pub expr: S<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeySpec {
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[schemars(with = "Vec<String>")]
    pub columns: S<Vec<String>>,
    #[schemars(with = "String")]
    pub references: S<String>,
    #[schemars(with = "Option<Vec<String>>")]
    pub ref_columns: Option<S<Vec<String>>>,
    #[schemars(with = "Option<String>")]
    pub on_delete: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub on_update: Option<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexSpec {
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[schemars(with = "Vec<String>")]
    pub columns: S<Vec<String>>,
    #[serde(default)]
    pub unique: bool,
    #[schemars(with = "Option<String>")]
    pub using: Option<S<String>>,
    #[serde(rename = "where")]
    #[schemars(with = "Option<String>")]
    pub predicate: Option<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum RlsSpec {
    Enabled(bool),
    Detailed {
        #[serde(default = "yes")]
        enabled: bool,
        #[serde(default)]
        force: bool,
    },
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<S<String>>,
    #[serde(rename = "as")]
    #[schemars(with = "Option<String>")]
    pub kind: Option<S<String>>,
    #[serde(rename = "for")]
    #[schemars(with = "Option<String>")]
    pub command: Option<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub to: Vec<S<String>>,
    #[schemars(with = "Option<String>")]
    pub using: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub with_check: Option<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[schemars(with = "String")]
    pub timing: S<String>,
    #[schemars(with = "Vec<String>")]
    pub events: Vec<S<String>>,
    #[schemars(with = "Option<String>")]
    pub for_each: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub when: Option<S<String>>,
    #[schemars(with = "String")]
    pub function: S<String>,
    #[serde(default)]
    pub args: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    #[schemars(with = "String")]
    pub name: S<String>,
    #[serde(default)]
    pub args: Vec<ArgSpec>,
    #[schemars(with = "ReturnsSpec")]
    pub returns: S<ReturnsSpec>,
    #[schemars(with = "Option<String>")]
    pub language: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub volatility: Option<S<String>>,
    #[serde(default)]
    pub strict: bool,
    #[schemars(with = "Option<String>")]
    pub security: Option<S<String>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub search_path: Option<Vec<S<String>>>,
    #[schemars(with = "Option<String>")]
    pub owner: Option<S<String>>,
    #[serde(default)]
    pub revoke_public: bool,
    #[serde(default)]
    pub grants: Vec<GrantSpec>,
    pub comment: Option<String>,
    #[serde(default)]
    pub overload: bool,
    #[schemars(with = "Option<String>")]
    pub renamed_from: Option<S<String>>,
    #[schemars(with = "String")]
    pub body: S<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArgSpec {
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[serde(rename = "type")]
    #[schemars(with = "String")]
    pub data_type: S<String>,
    #[schemars(with = "Option<String>")]
    pub default: Option<S<String>>,
    #[schemars(with = "Option<String>")]
    pub mode: Option<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ReturnsSpec {
    Type(String),
    SetOf { setof: String },
    Table { table: Vec<ReturnColumnSpec> },
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DefaultPrivilegeSpec {
    #[schemars(with = "String")]
    pub for_role: S<String>,
    #[schemars(with = "Option<String>")]
    pub in_schema: Option<S<String>>,
    #[schemars(with = "String")]
    pub on: S<String>,
    #[schemars(with = "Vec<String>")]
    pub to: Vec<S<String>>,
    #[schemars(with = "Vec<String>")]
    pub privileges: Vec<S<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowsSpec {
    #[schemars(with = "String")]
    pub table: S<String>,
    #[schemars(with = "Vec<String>")]
    pub key: S<Vec<String>>,
    #[schemars(with = "Vec<BTreeMap<String, Option<ScalarValue>>>")]
    pub values: Vec<S<BTreeMap<String, Option<ScalarValue>>>>,
}

/// A literal value in a row.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ScalarValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl ScalarValue {
    /// The value as PostgreSQL input text (it is always written as a quoted literal).
    pub fn as_text(&self) -> String {
        match self {
            ScalarValue::Bool(b) => b.to_string(),
            ScalarValue::Int(i) => i.to_string(),
            ScalarValue::Float(f) => f.to_string(),
            ScalarValue::Text(s) => s.clone(),
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSqlSpec {
    #[schemars(with = "String")]
    pub up: S<String>,
    #[schemars(with = "String")]
    pub down: S<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropSpec {
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub roles: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub schemas: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub extensions: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub enums: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub sequences: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub tables: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub functions: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub views: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<DropDefaultPrivilegeSpec>")]
    pub default_privileges: Vec<S<DropDefaultPrivilegeSpec>>,
    #[serde(default)]
    #[schemars(with = "Vec<DropRowSpec>")]
    pub rows: Vec<S<DropRowSpec>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropDefaultPrivilegeSpec {
    pub for_role: String,
    pub in_schema: Option<String>,
    pub on: String,
    pub to: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropRowSpec {
    pub table: String,
    pub key: BTreeMap<String, Option<ScalarValue>>,
}

/// `schemac.yaml`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// The project's name: names release bundles (`<name>-<version>.tar.gz`) and goes into
    /// their manifest. Letters, digits, `.`, `_` and `-`.
    #[schemars(with = "Option<String>")]
    pub name: Option<S<String>>,
    #[serde(default = "default_specs")]
    pub specs: String,
    #[serde(default = "default_generated")]
    pub generated: String,
    #[serde(default = "default_templates")]
    pub templates: String,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub external_roles: Vec<S<String>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub external_schemas: Vec<S<String>>,
    /// The role that runs the migrations. Default privileges `for_role` it reach the objects
    /// the migrations create, and become part of their expected grants.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub migrator: Option<S<String>>,
}

impl ProjectSpec {
    /// The folder of template overrides of the project at `root`.
    pub fn templates_dir(&self, root: &Path) -> PathBuf {
        root.join(&self.templates)
    }
}

impl Default for ProjectSpec {
    fn default() -> Self {
        ProjectSpec {
            name: None,
            specs: default_specs(),
            generated: default_generated(),
            templates: default_templates(),
            external_roles: Vec::new(),
            external_schemas: Vec::new(),
            migrator: None,
        }
    }
}

fn default_specs() -> String {
    "specs".into()
}
fn default_generated() -> String {
    "generated".into()
}
fn default_templates() -> String {
    "templates".into()
}

/// A layer file as loaded: where it is, its version and name, its text and its parsed spec.
#[derive(Debug)]
pub struct LayerFile {
    /// Path as shown in diagnostics (relative to the project when possible).
    pub display_path: Arc<str>,
    pub version: String,
    pub name: String,
    pub text: Arc<str>,
    pub spec: LayerSpec,
}

/// The loaded project: its settings and its layers in version order.
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub config: ProjectSpec,
    pub config_display: Arc<str>,
    pub config_text: Option<String>,
    pub layers: Vec<LayerFile>,
    /// The layers' declarations were taken by `layers::load_and_fold`.
    pub forgotten: bool,
}

impl Project {
    pub fn generated_dir(&self) -> PathBuf {
        self.root.join(&self.config.generated)
    }

    pub fn specs_dir(&self) -> PathBuf {
        self.root.join(&self.config.specs)
    }

    pub fn templates_dir(&self) -> PathBuf {
        self.config.templates_dir(&self.root)
    }

    /// The text of a file named in a diagnostic, for snippets.
    pub fn source(&self, display_path: &str) -> Option<String> {
        if *self.config_display == *display_path {
            return self.config_text.clone();
        }
        self.layers
            .iter()
            .find(|l| &*l.display_path == display_path)
            .map(|l| l.text.to_string())
    }
}

/// Turn a span from serde-saphyr into ours.
pub fn span_of<T>(file: &Arc<str>, s: &Spanned<T>) -> Span {
    Span {
        file: file.clone(),
        line: s.referenced.line(),
        col: s.referenced.column(),
    }
}

/// Read `schemac.yaml` (if any) and every layer under the specs folder.
pub fn load_project(root: &Path) -> Result<Project, Diagnostics> {
    load_project_then(root, |_, _| {})
}

/// [`load_project`], handing each layer to `then` (with the project's settings, read first)
/// as soon as it and every layer before it are read and parsed, while the next ones are
/// parsed on the other cores. Once a layer fails to read or parse, no later one is handed
/// over: the project will not load.
pub fn load_project_then(
    root: &Path,
    mut then: impl FnMut(&ProjectSpec, &mut LayerFile),
) -> Result<Project, Diagnostics> {
    let mut diags = Diagnostics::default();
    let config_path = root.join("schemac.yaml");
    let config_display: Arc<str> = Arc::from("schemac.yaml");
    let (config, config_text) = if config_path.exists() {
        let text = std::fs::read_to_string(&config_path).map_err(|e| {
            Diagnostic::error(
                "E001",
                format!("cannot read {}: {e}", config_path.display()),
            )
        })?;
        match parse_yaml::<ProjectSpec>(&config_display, &text) {
            Ok(c) => (c, Some(text)),
            Err(d) => {
                diags.push(d);
                (ProjectSpec::default(), Some(text))
            }
        }
    } else {
        (ProjectSpec::default(), None)
    };

    let specs_dir = root.join(&config.specs);
    let entries = match std::fs::read_dir(&specs_dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(
                Diagnostic::error("E001", format!("cannot read the specs folder {}: {e}", specs_dir.display()))
                    .help("run schemac in a project folder (or pass --project DIR); `schemac new NAME` creates a first layer"),
            );
            return Err(diags);
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    // Read every layer in order, then parse them on all cores; diagnostics keep file order.
    enum Pending {
        Failed(Diagnostic),
        Read(Box<LayerFile>),
    }
    let mut pending = Vec::new();
    for path in paths {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_dir() || !(file_name.ends_with(".yaml") || file_name.ends_with(".yml")) {
            continue;
        }
        let display: Arc<str> = Arc::from(format!("{}/{}", config.specs, file_name));
        let Some((version, name)) = parse_layer_file_name(&file_name) else {
            pending.push(Pending::Failed(
                Diagnostic::error("E002", format!("`{file_name}` is not named `<version>_<name>.yaml`"))
                    .at(Some(Span { file: display.clone(), line: 1, col: 1 }))
                    .help("name layers like `20250101120000_add_users.yaml` (digits, `_`, lower-case letters, digits and `_`); `schemac new NAME` does it for you"),
            ));
            continue;
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => pending.push(Pending::Read(Box::new(LayerFile {
                display_path: display,
                version,
                name,
                text: text.into(),
                spec: LayerSpec::default(),
            }))),
            Err(e) => pending.push(Pending::Failed(Diagnostic::error(
                "E001",
                format!("cannot read {}: {e}", path.display()),
            ))),
        }
    }
    // What the parsing threads read: (file, text) of each layer to parse.
    let sources: Vec<Option<(Arc<str>, Arc<str>)>> = pending
        .iter()
        .map(|p| match p {
            Pending::Read(l) if !is_blank_yaml(&l.text) => {
                Some((l.display_path.clone(), l.text.clone()))
            }
            _ => None,
        })
        .collect();
    let mut pending = pending.into_iter();
    let mut layers = Vec::new();
    crate::parallel::map_then(
        sources.len(),
        |i| {
            sources[i]
                .as_ref()
                .map(|(file, text)| parse_yaml::<LayerSpec>(file, text))
        },
        |spec| {
            let p = pending.next().expect("one result per pending layer");
            let mut layer = match (p, spec) {
                (Pending::Failed(d), _) | (Pending::Read(_), Some(Err(d))) => {
                    diags.push(d);
                    return;
                }
                (Pending::Read(mut layer), Some(Ok(spec))) => {
                    layer.spec = spec;
                    layer
                }
                (Pending::Read(layer), None) => layer,
            };
            if diags.0.is_empty() {
                then(&config, &mut layer);
            }
            layers.push(*layer);
        },
    );
    check_versions(&layers, &mut diags);
    diags.into_result(Project {
        root: root.to_path_buf(),
        config,
        config_display,
        config_text,
        layers,
        forgotten: false,
    })
}

fn check_versions(layers: &[LayerFile], diags: &mut Diagnostics) {
    let mut seen: BTreeMap<&str, &LayerFile> = BTreeMap::new();
    for layer in layers {
        if let Some(first) = seen.insert(&layer.version, layer) {
            diags.push(
                Diagnostic::error(
                    "E003",
                    format!("version {} is used by two layers", layer.version),
                )
                .at(Some(Span {
                    file: layer.display_path.clone(),
                    line: 1,
                    col: 1,
                }))
                .help(format!(
                    "`{}` has the same version; dbmate would apply only one of them",
                    first.display_path
                )),
            );
        }
    }
    if let Some(first) = layers.first() {
        for layer in layers {
            if layer.version.len() != first.version.len() {
                diags.push(
                    Diagnostic::error(
                        "E004",
                        format!(
                            "version {} has {} digits but {} has {}",
                            layer.version,
                            layer.version.len(),
                            first.version,
                            first.version.len()
                        ),
                    )
                    .at(Some(Span { file: layer.display_path.clone(), line: 1, col: 1 }))
                    .help("dbmate orders migrations by comparing versions as strings: give every layer a version of the same width (14-digit UTC timestamps)"),
                );
            }
        }
    }
}

/// `<digits>_<name>.yaml` → (version, name).
pub fn parse_layer_file_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name
        .strip_suffix(".yaml")
        .or_else(|| file_name.strip_suffix(".yml"))?;
    let (version, name) = stem.split_once('_')?;
    let ok_version = !version.is_empty() && version.chars().all(|c| c.is_ascii_digit());
    let ok_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (ok_version && ok_name).then(|| (version.to_string(), name.to_string()))
}

fn is_blank_yaml(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---"
    })
}

/// Parse YAML into `T`, turning serde-saphyr's error into a diagnostic with position and,
/// for unknown keys, a did-you-mean.
pub fn parse_yaml<T: for<'de> Deserialize<'de>>(
    file: &Arc<str>,
    text: &str,
) -> Result<T, Diagnostic> {
    // Plain files are read by the fast reader; anything else, and every error, by
    // serde-saphyr (the same value, or its error with position and wording).
    if let Some(value) = crate::yaml::from_str::<T>(text) {
        return Ok(value);
    }
    // YAML 1.2 booleans only: `NO`, `y`, `off` are strings (country codes, column names),
    // not the YAML 1.1 booleans they used to be (the fast reader knows only those too).
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<T>(text, options).map_err(|err| {
        let span = err.location().map(|loc| Span {
            file: file.clone(),
            line: loc.line().max(1),
            col: loc.column().max(1),
        });
        let raw = err.without_snippet().to_string();
        let message = first_line_without_position(&raw);
        let mut diag = Diagnostic::error("E010", message.clone()).at(span);
        if let Some((field, expected)) = parse_unknown_field(&message) {
            diag.code = "E011";
            let candidates: Vec<&str> = expected.iter().map(String::as_str).collect();
            diag = match did_you_mean(&field, candidates.iter().copied()) {
                Some(best) => {
                    diag.help(format!("did you mean `{best}`? (see docs/spec-format.md)"))
                }
                None => diag.help(format!("expected one of: {}", expected.join(", "))),
            };
        } else {
            diag = diag.help("check the YAML at this position against docs/spec-format.md");
        }
        diag
    })
}

fn first_line_without_position(raw: &str) -> String {
    let line = raw.lines().next().unwrap_or(raw).trim();
    // serde-saphyr appends " at line L, column C"; our span carries that.
    match line.rfind(" at line ") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// "unknown field `x`, expected one of a, b" (with or without backticks around the
/// expected names) → (x, [a, b]).
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.split("unknown field `").nth(1)?;
    let (field, rest) = rest.split_once('`')?;
    let list = rest
        .split("expected one of")
        .nth(1)
        .or_else(|| rest.split("expected").nth(1))?;
    let expected = list
        .split(',')
        .map(|s| s.trim().trim_matches('`').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    Some((field.to_string(), expected))
}
