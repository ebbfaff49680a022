//! `schemac schema [--config]`: print the JSON Schema of a layer file (or of schemac.yaml),
//! for YAML editors.

use std::process::ExitCode;

use crate::spec_schema::{schema_text, Target};

pub fn run(config: bool) -> anyhow::Result<ExitCode> {
    let target = if config {
        Target::Config
    } else {
        Target::Layer
    };
    print!("{}", schema_text(target));
    Ok(ExitCode::SUCCESS)
}
