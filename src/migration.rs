//! Migration: frame rendered statements as dbmate files, write them atomically, and compare
//! them with what is on disk (`check`).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::catalog::{Catalog, Loss};
use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Span};
use crate::diff;
use crate::layers::{self, Folded, Layer};
use crate::lint::{self, LayerFindings};
use crate::render::{Memoized, RenderError, Rendered, Renderer, Statement};
use crate::resolve::is_dbmate_marker;
use crate::spec::{Project, ProjectSpec};

/// A generated file: its path relative to the project's `generated/` folder and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    pub path: String,
    pub contents: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error("the specs have errors")]
    Diagnostics(Diagnostics),
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl From<Diagnostics> for CompileError {
    fn from(d: Diagnostics) -> Self {
        CompileError::Diagnostics(d)
    }
}

/// A compiled project: its states, what the lint rules about changes found in each layer,
/// and the files it generates.
pub struct Compiled {
    pub folded: Folded,
    pub lint: Vec<LayerFindings>,
    pub files: Vec<GeneratedFile>,
    /// The statements the compile rendered (read by nothing; the CLI never frees them).
    pub rendered: Rendered,
}

/// The whole pipeline for a loaded project: fold, diff each layer both ways, render, frame.
pub fn compile(project: &Project) -> Result<Compiled, CompileError> {
    let folded = layers::fold(project)?;
    let renderer = Renderer::new(Some(&project.templates_dir()))?;
    let Output {
        files,
        lint,
        rendered,
    } = compile_folded(&folded, &renderer)?;
    Ok(Compiled {
        folded,
        lint,
        files,
        rendered,
    })
}

/// A failed compilation, with the project when it loaded (for source snippets).
#[derive(Debug)]
pub struct CompileFailure {
    pub project: Option<Project>,
    pub error: CompileError,
}

/// Load and compile the project at `root`. Each layer compiles on the other cores as soon
/// as it is folded, while the next ones are parsed and folded; `schema.sql`, which needs the
/// last state, compiles on this thread once the fold is done. The output, diagnostics
/// included, is that of [`compile_folded`] after [`layers::load_and_fold`].
pub fn compile_dir(root: &Path) -> Result<(Project, Compiled), Box<CompileFailure>> {
    struct Job {
        layer: Layer,
        before: Arc<Catalog>,
        after: Arc<Catalog>,
    }
    // Made with the first layer (the templates' folder is a setting of the project).
    let renderer: OnceLock<Result<Renderer, RenderError>> = OnceLock::new();
    let made = |config: &ProjectSpec| {
        renderer.get_or_init(|| Renderer::new(Some(&config.templates_dir(root))))
    };
    // What the layers and schema.sql render, shared: most statements of schema.sql are in
    // some layer's migration too.
    let memo: OnceLock<Memoized> = OnceLock::new();
    let memoized = || {
        memo.get_or_init(|| {
            let renderer = renderer.get().and_then(|r| r.as_ref().ok());
            Memoized::new(renderer.expect("jobs are made once the templates loaded"))
        })
    };
    let work = |job: Job| compile_layer(&job.layer, &job.before, &job.after, memoized());
    let ((loaded, schema), layers) = crate::parallel::overlap(work, |push| {
        // Each layer is folded as soon as it is parsed, and its declarations dropped: only
        // the states are read after this.
        let loaded = layers::load_and_fold_then(root, |config, layer, before, after| {
            if made(config).is_ok() {
                push(Job {
                    layer: layer.clone(),
                    before: before.clone(),
                    after: after.clone(),
                });
            }
        });
        let schema = match &loaded {
            Ok((project, Ok(folded))) => match made(&project.config) {
                Ok(_) => Some(schema_file(folded, memoized())),
                Err(_) => None,
            },
            _ => None,
        };
        (loaded, schema)
    });
    let (project, folded) = loaded.map_err(|d| {
        Box::new(CompileFailure {
            project: None,
            error: CompileError::Diagnostics(d),
        })
    })?;
    let folded = match folded {
        Ok(f) => f,
        Err(d) => {
            return Err(Box::new(CompileFailure {
                project: Some(project),
                error: d.into(),
            }))
        }
    };
    let rendered = memo
        .into_inner()
        .map(Memoized::into_rendered)
        .unwrap_or_default();
    // The fold succeeded: the templates were loaded after it at the latest.
    let compiled = match renderer
        .into_inner()
        .expect("loaded once the fold succeeded")
    {
        Err(e) => Err(CompileError::from(e)),
        Ok(_) => collect_output(
            schema.expect("schema.sql compiles once the fold and the templates succeed"),
            layers.into_iter(),
            rendered,
        ),
    };
    match compiled {
        Ok(Output {
            files,
            lint,
            rendered,
        }) => Ok((
            project,
            Compiled {
                folded,
                lint,
                files,
                rendered,
            },
        )),
        Err(error) => Err(Box::new(CompileFailure {
            project: Some(project),
            error,
        })),
    }
}

/// What the folded layers compile to.
pub struct Output {
    pub files: Vec<GeneratedFile>,
    /// What the lint rules about changes found in each layer's up changes.
    pub lint: Vec<LayerFindings>,
    /// The statements rendered, for the caller to free (or not).
    pub rendered: Rendered,
}

/// Compile every layer (and `schema.sql`). Layers compile independently once folded, so they
/// run on all the machine's cores (`SCHEMAC_THREADS` sets how many); the output is the same
/// as in order, diagnostics included.
pub fn compile_folded(folded: &Folded, renderer: &Renderer) -> Result<Output, CompileError> {
    enum Job {
        Layer(LayerResult),
        Schema(Result<String, CompileError>),
    }
    // schema.sql first: it is the longest job.
    let n = folded.layers.len();
    let memo = Memoized::new(renderer);
    let mut jobs = crate::parallel::map(n + 1, |j| match j {
        0 => Job::Schema(schema_file(folded, &memo)),
        _ => Job::Layer(compile_layer(
            &folded.layers[j - 1],
            &folded.states[j - 1],
            &folded.states[j],
            &memo,
        )),
    })
    .into_iter();
    let Some(Job::Schema(schema)) = jobs.next() else {
        unreachable!("job 0 is schema.sql")
    };
    let layers = jobs.map(|job| match job {
        Job::Layer(result) => result,
        Job::Schema(_) => unreachable!("jobs 1.. are layers"),
    });
    collect_output(schema, layers, memo.into_rendered())
}

/// A layer's migration and lint findings, its diagnostics, or a template failure.
type LayerResult = Result<Result<(GeneratedFile, LayerFindings), Diagnostics>, RenderError>;

/// The output of the compiled layers (in order) and `schema.sql`, or what went wrong first.
fn collect_output(
    schema: Result<String, CompileError>,
    layers: impl Iterator<Item = LayerResult>,
    rendered: Rendered,
) -> Result<Output, CompileError> {
    let mut files = Vec::new();
    let mut lint = Vec::new();
    let mut diags = Diagnostics::default();
    for result in layers {
        match result? {
            Ok((file, found)) => {
                files.push(file);
                lint.push(found);
            }
            Err(d) => diags.extend(d),
        }
    }
    if diags.has_errors() {
        return Err(diags.into_result(()).unwrap_err().into());
    }
    files.push(GeneratedFile {
        path: "schema.sql".into(),
        contents: schema?,
    });
    Ok(Output {
        files,
        lint,
        rendered,
    })
}

/// A layer's migration (up and down, framed) from the states before and after it, and what
/// the lint rules about changes find in it, or its diagnostics.
fn compile_layer(
    layer: &Layer,
    before: &Catalog,
    after: &Catalog,
    renderer: &Memoized,
) -> LayerResult {
    // The down section only when the up section loses no data (else it refuses to run).
    let mut losses = Vec::new();
    let both = diff::diff_layer_both(before, after, &layer.transition, &layer.affected, |up| {
        losses = diff::losses(up);
        losses.is_empty()
    });
    let (up_changes, down_changes) = match both {
        Ok(c) => c,
        Err(d) => return Ok(Err(d)),
    };
    if let Err(d) = check_data_loss(layer, &losses, after) {
        return Ok(Err(d));
    }
    let down_changes = match down_changes {
        Some(c) => c,
        None => vec![diff::Change::Irreversible {
            migration: format!("{}_{}", layer.version, layer.name),
            losses: losses.iter().map(ToString::to_string).collect(),
        }],
    };
    let mut up = renderer.render_all(&up_changes)?;
    let mut down = renderer.render_all(&down_changes)?;
    // At thousands of tables a layer's changes and statements are tens of megabytes, and
    // other layers compile meanwhile: what is no longer needed goes as soon as it can.
    drop(down_changes);
    if let Some(raw) = &layer.raw {
        up.extend(renderer.render_all(&[diff::Change::RunSql {
            sql: raw.up.clone(),
        }])?);
        if losses.is_empty() {
            down.splice(
                0..0,
                renderer.render_all(&[diff::Change::RunSql {
                    sql: raw.down.clone(),
                }])?,
            );
        }
    }
    let contents = frame(&layer.source, layer.description.as_deref(), &up, &down);
    drop((up, down));
    if let Err(d) = check_markers(&contents, layer) {
        return Ok(Err(d.into()));
    }
    let file = GeneratedFile {
        path: format!("migrations/{}_{}.sql", layer.version, layer.name),
        contents,
    };
    let found = lint::lint_layer(layer, before, after, &up_changes);
    Ok(Ok((file, found)))
}

/// Every loss of data in a layer's up section must be acknowledged by the layer, and every
/// acknowledgement must match a loss (a stale one would silently cover a later mistake).
fn check_data_loss(layer: &Layer, losses: &[Loss], after: &Catalog) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::default();
    let t = &layer.transition;
    let fallback = Span {
        file: layer.source.as_str().into(),
        line: 1,
        col: 1,
    };
    for loss in losses {
        if t.acks.iter().any(|a| &a.loss == loss) {
            continue;
        }
        let what = match loss {
            Loss::Table { .. } => "dropping",
            Loss::Column { table, column } => {
                let kept = after
                    .tables
                    .get(table)
                    .is_some_and(|t| t.column(column).is_some());
                if kept {
                    "narrowing the type of"
                } else {
                    "dropping"
                }
            }
            Loss::EnumValue { .. } => "removing",
        };
        diags.push(
            Diagnostic::error(
                "E210",
                format!("this layer destroys data: {what} {loss} is not acknowledged"),
            )
            .at(Some(t.cause(loss).cloned().unwrap_or_else(|| fallback.clone())))
            .help(format!(
                "if that is intended, add to the layer:\naccept_data_loss:\n  {}\n(the migration's down section will then refuse to run: data cannot be restored)",
                loss.ack_hint()
            )),
        );
    }
    let unacknowledged: Vec<String> = losses
        .iter()
        .filter(|l| !t.acks.iter().any(|a| &a.loss == *l))
        .map(Loss::ack_hint)
        .collect();
    for ack in &t.acks {
        if !losses.contains(&ack.loss) {
            let help = suggest(
                &ack.loss.ack_hint(),
                unacknowledged.iter().map(String::as_str),
                "remove the entry: an acknowledgement covers only the layer that loses the data",
            );
            diags.push(
                Diagnostic::error(
                    "E211",
                    format!(
                        "`accept_data_loss` names {}, but this layer destroys no data there",
                        ack.loss
                    ),
                )
                .at(Some(ack.span.clone()))
                .help(help),
            );
        }
    }
    diags.into_result(())
}

/// The final schema as one script: `diff(empty, last state)` plus every layer's raw SQL.
fn schema_file(folded: &Folded, renderer: &Memoized) -> Result<String, CompileError> {
    let mut out = String::from("-- Generated by schemac: the schema after the last layer, built directly.\n-- Do not edit; change the specs and run `schemac generate`.\n\n");
    // Statements go into the file as they are rendered: at thousands of tables the file is
    // the largest thing compiled, and nothing else needs them.
    let mut push = |change: &diff::Change| -> Result<(), RenderError> {
        let s = renderer.render(change)?;
        if !s.sql.is_empty() {
            out.push_str(&s.sql);
            out.push_str("\n\n");
        }
        Ok(())
    };
    // By value: each change's data is freed once it is rendered.
    for change in diff::diff(&Catalog::default(), folded.last())? {
        push(&change)?;
    }
    for layer in &folded.layers {
        if let Some(raw) = &layer.raw {
            push(&diff::Change::RunSql {
                sql: raw.up.clone(),
            })?;
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    Ok(out)
}

/// A dbmate migration: a header comment, `-- migrate:up`, `-- migrate:down`.
pub fn frame(
    source: &str,
    description: Option<&str>,
    up: &[Statement],
    down: &[Statement],
) -> String {
    let mut out = format!("-- Generated by schemac from {source}. Do not edit: change the spec and run `schemac generate`.\n");
    // Megabytes at thousands of tables: room for it all at once, not by doubling and copying.
    out.reserve(
        256 + up
            .iter()
            .chain(down)
            .map(|s| s.sql.len() + 2)
            .sum::<usize>(),
    );
    if let Some(d) = description {
        let one_line: Vec<&str> = d.split_whitespace().collect();
        out.push_str(&format!("-- description: {}\n", one_line.join(" ")));
    }
    // Enum values added here cannot be used in the transaction that adds them: such a
    // section runs outside dbmate's transaction, commits the additions (idempotent, so a
    // failed run can be repeated), then runs the rest in a transaction of its own.
    let (early, rest): (Vec<&Statement>, Vec<&Statement>) =
        up.iter().partition(|s| !s.transactional);
    if early.is_empty() {
        out.push_str("\n-- migrate:up\n");
        section(&mut out, up.iter());
    } else {
        out.push_str("\n-- migrate:up transaction:false\n");
        section(&mut out, early.into_iter());
        out.push_str("COMMIT;\n\nBEGIN;\n\n");
        section(&mut out, rest.into_iter());
        out.push_str("\nCOMMIT;\n");
    }
    out.push_str("\n-- migrate:down\n");
    section(&mut out, down.iter());
    out
}

fn section<'a>(out: &mut String, stmts: impl ExactSizeIterator<Item = &'a Statement>) {
    if stmts.len() == 0 {
        out.push_str("-- (nothing to do)\n");
    }
    for (i, s) in stmts.enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&s.sql);
        out.push('\n');
    }
}

/// A generated file may contain exactly one up and one down marker, ours.
fn check_markers(contents: &str, layer: &Layer) -> Result<(), Diagnostic> {
    let markers = marker_lines(contents);
    if markers == ["-- migrate:up", "-- migrate:down"]
        || markers == ["-- migrate:up transaction:false", "-- migrate:down"]
    {
        return Ok(());
    }
    // Point at the first `-- migrate:` in the layer file (a block scalar's line, or an
    // escaped line break in a quoted value); the top of the file when it is not there as such.
    let (line, col) = layer
        .text
        .lines()
        .enumerate()
        .find_map(|(i, l)| {
            l.find("-- migrate:")
                .map(|c| (i as u64 + 1, l[..c].chars().count() as u64 + 1))
        })
        .unwrap_or((1, 1));
    Err(Diagnostic::error("E054", "a value in this layer puts a line starting with `-- migrate:` into the migration")
        .at(Some(Span { file: layer.source.as_str().into(), line, col }))
        .help("dbmate splits files at such lines; remove the line break before `-- migrate:` in comments, names or values"))
}

/// The lines of `text` that dbmate reads as markers, as `str::lines` gives them. Only a line
/// that holds `migrate:` can be one: those are found by searching for it (a migration is
/// megabytes of lines, a handful of them markers; memchr's search is vectorised).
fn marker_lines(text: &str) -> Vec<&str> {
    let mut markers = Vec::new();
    let mut checked = 0; // the end of the last line looked at
    for at in memchr::memmem::find_iter(text.as_bytes(), b"migrate:") {
        if at < checked {
            continue;
        }
        let start = memchr::memrchr(b'\n', &text.as_bytes()[..at]).map_or(0, |n| n + 1);
        let (end, next) = match memchr::memchr(b'\n', &text.as_bytes()[at..]) {
            Some(n) => (at + n, at + n + 1),
            None => (text.len(), text.len()),
        };
        // A line break is `\n` or `\r\n`.
        let mut line = &text[start..end];
        if next > end {
            line = line.strip_suffix('\r').unwrap_or(line);
        }
        if is_dbmate_marker(line) {
            markers.push(line);
        }
        checked = next;
    }
    markers
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Write `files` (those whose text the disk does not hold: [`holds`]), each to a temporary
/// name then renamed. Returns the paths written.
pub fn write_all(
    generated_dir: &Path,
    files: &[&GeneratedFile],
) -> Result<Vec<String>, WriteError> {
    // On all cores: each file is written and synced on its own (a new project of 5,000
    // tables is 52 files, 36 MB).
    crate::parallel::map(files.len(), |i| {
        let f = files[i];
        let path = generated_dir.join(&f.path);
        write_atomic(&path, &f.contents).map_err(|source| WriteError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(f.path.clone())
    })
    .into_iter()
    .collect()
}

/// Whether the file at `path` holds exactly `contents`. Read in blocks into one buffer: the
/// files that are current, nearly all of them, cost no allocation of their size.
pub fn holds(path: &Path, contents: &str) -> bool {
    use std::io::Read as _;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut rest = contents.as_bytes();
    if file
        .metadata()
        .map_or(true, |m| m.len() != rest.len() as u64)
    {
        return false;
    }
    let mut block = vec![0; 1 << 16];
    loop {
        let n = match file.read(&mut block) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        };
        if n == 0 {
            return rest.is_empty();
        }
        match rest.split_at_checked(n) {
            Some((head, tail)) if head == &block[..n] => rest = tail,
            _ => return false,
        }
    }
}

pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("schemac-tmp");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// How a generated file on disk differs from what the specs give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Staleness {
    Missing {
        path: String,
        expected: String,
    },
    Changed {
        path: String,
        on_disk: String,
        expected: String,
    },
    Extra {
        path: String,
        on_disk: String,
    },
}

/// Compare the compiled files with `generated/` on disk; nothing is written.
pub fn stale_files(generated_dir: &Path, files: &[GeneratedFile]) -> Vec<Staleness> {
    let mut out = Vec::new();
    let expected: BTreeMap<&str, &str> = files
        .iter()
        .map(|f| (f.path.as_str(), f.contents.as_str()))
        .collect();
    for (path, contents) in &expected {
        match std::fs::read_to_string(generated_dir.join(path)) {
            Ok(on_disk) if on_disk == *contents => {}
            Ok(on_disk) => out.push(Staleness::Changed {
                path: path.to_string(),
                on_disk,
                expected: contents.to_string(),
            }),
            Err(_) => out.push(Staleness::Missing {
                path: path.to_string(),
                expected: contents.to_string(),
            }),
        }
    }
    for path in extra_files(generated_dir, files) {
        let on_disk = std::fs::read_to_string(generated_dir.join(&path)).unwrap_or_default();
        out.push(Staleness::Extra { path, on_disk });
    }
    out
}

/// `.sql` files under `generated/migrations` that no layer produces.
pub fn extra_files(generated_dir: &Path, files: &[GeneratedFile]) -> Vec<String> {
    let dir: PathBuf = generated_dir.join("migrations");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut extra: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".sql"))
        .map(|n| format!("migrations/{n}"))
        .filter(|p| !files.iter().any(|f| &f.path == p))
        .collect();
    extra.sort();
    extra
}

/// A unified diff of one stale file, paths shown relative to the project.
pub fn unified_diff(generated_name: &str, s: &Staleness) -> String {
    let (path, old, new) = match s {
        Staleness::Missing { path, expected } => (path, "", expected.as_str()),
        Staleness::Changed {
            path,
            on_disk,
            expected,
        } => (path, on_disk.as_str(), expected.as_str()),
        Staleness::Extra { path, on_disk } => (path, on_disk.as_str(), ""),
    };
    let shown = format!("{generated_name}/{path}");
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("a/{shown} (on disk)"),
            &format!("b/{shown} (from specs)"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `marker_lines` gives what filtering `str::lines` gives, for every text of up to five
    /// pieces drawn from those that make or break a marker (line breaks of both kinds, a lone
    /// `\r`, Unicode whitespace, two markers on one line, none at the end).
    #[test]
    fn marker_lines_are_the_marker_lines_of_lines() {
        const PIECES: [&str; 10] = [
            "--", "-", " ", "\t", "\r", "\n", "migrate:", "up", "\u{a0}", "x",
        ];
        let mut texts = vec![String::new()];
        let mut all = 0;
        for _ in 0..5 {
            texts = texts
                .iter()
                .flat_map(|t| PIECES.iter().map(move |p| format!("{t}{p}")))
                .collect();
            for text in &texts {
                let expected: Vec<&str> = text.lines().filter(|l| is_dbmate_marker(l)).collect();
                assert_eq!(marker_lines(text), expected, "{text:?}");
                all += 1;
            }
        }
        assert_eq!(all, 111_110);
    }
}
