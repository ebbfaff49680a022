//! The JSON Schema of the spec format, derived from the serde types in [`crate::spec`] (so it
//! cannot drift from what `load` accepts), for YAML editors: a layer file that starts with
//!
//! ```yaml
//! # yaml-language-server: $schema=../schemac.schema.json
//! ```
//!
//! gets completion and validation. JSON Schema draft 7, which every YAML language server
//! reads. Positions (`Spanned`) are invisible in YAML and so in the schema.

use schemars::generate::SchemaSettings;

use crate::spec::{LayerSpec, ProjectSpec};

/// Which file format a schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A layer, `specs/<version>_<name>.yaml`.
    Layer,
    /// The project settings, `schemac.yaml`.
    Config,
}

/// The schema as a JSON value.
pub fn schema(target: Target) -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    let (mut schema, title, description) = match target {
        Target::Layer => (
            generator.into_root_schema_for::<LayerSpec>(),
            "schemac layer",
            "One layer of a schemac project (specs/<version>_<name>.yaml): the objects it declares, redefines, patches or drops. See docs/spec-format.md.",
        ),
        Target::Config => (
            SchemaSettings::draft07()
                .into_generator()
                .into_root_schema_for::<ProjectSpec>(),
            "schemac project settings",
            "schemac.yaml: where the specs, generated files and template overrides live, and the roles and schemas that exist outside the project.",
        ),
    };
    schema.insert("title".into(), title.into());
    schema.insert("description".into(), description.into());
    schema.to_value()
}

/// The schema as pretty JSON text ending in a newline (what `schemac schema` prints).
pub fn schema_text(target: Target) -> String {
    let mut text = serde_json::to_string_pretty(&schema(target)).expect("a JSON value prints");
    text.push('\n');
    text
}
