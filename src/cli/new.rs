//! `schemac new NAME`: create the next layer file with a dbmate-style 14-digit UTC version.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};

use crate::spec::parse_layer_file_name;

pub fn run(root: &Path, name: &str) -> anyhow::Result<ExitCode> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        bail!("`{name}` is not a layer name: use lower-case letters, digits and `_` (e.g. add_invoices)");
    }
    let project = crate::spec::ProjectSpec::default();
    let config = root.join("schemac.yaml");
    let specs_name = if config.exists() {
        let text = std::fs::read_to_string(&config)
            .with_context(|| format!("reading {}", config.display()))?;
        crate::spec::parse_yaml::<crate::spec::ProjectSpec>(&"schemac.yaml".into(), &text)
            .map_err(|d| anyhow::anyhow!("{d}"))?
            .specs
    } else {
        project.specs
    };
    let dir = root.join(&specs_name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let latest: Option<u64> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().and_then(parse_layer_file_name))
        .filter(|(v, _)| v.len() == 14)
        .filter_map(|(v, _)| v.parse().ok())
        .max();
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day][hour][minute][second]"
        ))
        .context("formatting the version")?;
    let mut version: u64 = stamp.parse().context("version")?;
    if let Some(latest) = latest {
        // Two layers in one second (or a clock behind the latest layer) still get increasing versions.
        version = version.max(latest + 1);
    }
    let file = dir.join(format!("{version:014}_{name}.yaml"));
    let body = format!(
        "# Layer `{name}`. Declare what this layer adds or changes; see docs/spec-format.md.\n\
         # Run `schemac generate` to compile it into {}/migrations/.\n\
         description: {name}\n",
        "generated"
    );
    crate::migration::write_atomic(&file, &body)
        .with_context(|| format!("writing {}", file.display()))?;
    println!(
        "created {specs_name}/{}",
        file.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}
