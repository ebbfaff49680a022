//! `schemac generate`: compile and write generated/ (only files whose text changes).

use std::path::Path;
use std::process::ExitCode;

use super::Format;
use crate::migration;

pub fn run(root: &Path, format: Format) -> anyhow::Result<ExitCode> {
    let (project, files) = match migration::compile_dir(root) {
        Ok(r) => r,
        Err(failure) => {
            return Ok(super::report(
                root,
                failure.project.as_ref(),
                &failure.error,
                format,
            ))
        }
    };
    let dir = project.generated_dir();
    let written = migration::write_all(&dir, &files)?;
    let extra = migration::extra_files(&dir, &files);
    if format == Format::Json {
        println!(
            "{}",
            serde_json::json!({ "ok": true, "written": written, "files": files.len(), "extra": extra })
        );
        return Ok(ExitCode::SUCCESS);
    }
    for path in &written {
        println!("wrote {}/{path}", project.config.generated);
    }
    if written.is_empty() {
        println!("generated/ is up to date ({} files)", files.len());
    }
    for extra in extra {
        eprintln!(
            "warning: {}/{extra} has no layer in {}/; delete it, or restore its spec",
            project.config.generated, project.config.specs
        );
    }
    Ok(ExitCode::SUCCESS)
}
