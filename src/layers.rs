//! Fold layers into states: state 0 is the empty catalog, state i is state i-1 with layer i
//! applied. Each layer's migration is then `diff(state[i-1], state[i])` and back.

use std::borrow::Borrow;
use std::path::Path;
use std::sync::Arc;

use crate::catalog::affected::{Affected, Referrers};
use crate::catalog::{Catalog, Transition};
use crate::diagnostic::{suggest, Diagnostic, Diagnostics};
use crate::resolve::{self, Externals, RawSql};
use crate::spec::{self, LayerFile, LayerSpec, Project, ProjectSpec};

/// One layer after resolution.
#[derive(Clone, Debug)]
pub struct Layer {
    pub version: String,
    pub name: String,
    pub source: String,
    /// The layer file's text (to point at what a diagnostic found in the output), shared
    /// with the loaded project.
    pub text: Arc<str>,
    pub description: Option<String>,
    pub raw: Option<RawSql>,
    /// Renames, conversions and accepted data loss from the previous state to this one.
    pub transition: Transition,
    /// The tables and views this layer concerns: the differ looks at those only.
    pub affected: Affected,
}

/// Every state of a project: `states[0]` is empty, `states[i]` follows `layers[i - 1]`.
/// States are shared, so that a layer can be compiled while the next ones are folded.
#[derive(Debug)]
pub struct Folded {
    pub layers: Vec<Layer>,
    pub states: Vec<Arc<Catalog>>,
}

impl Folded {
    pub fn last(&self) -> &Catalog {
        self.states.last().expect("states[0] always exists")
    }
}

pub fn externals(config: &ProjectSpec) -> Externals {
    Externals {
        roles: config
            .external_roles
            .iter()
            .map(|r| r.value.clone())
            .collect(),
        schemas: config
            .external_schemas
            .iter()
            .map(|s| s.value.clone())
            .collect(),
        migrator: config.migrator.as_ref().map(|m| m.value.clone()),
    }
}

/// Apply every layer in version order. Folding stops at the first layer with errors (all of
/// that layer's diagnostics are reported): later layers build on it, and checking them
/// against a state without it would only repeat its errors.
pub fn fold(project: &Project) -> Result<Folded, Diagnostics> {
    assert!(
        !project.forgotten,
        "a project whose declarations were dropped cannot be folded again"
    );
    fold_specs(project, project.layers.iter().map(|l| &l.spec))
}

/// Load the project in `root` and fold its layers, each as soon as it is parsed (while the
/// next ones are parsed on the other cores), taking each layer's declarations out of the
/// project and dropping them once it is folded: the parsed YAML of thousands of tables and
/// the states built from it are then never all in memory at once. What later stages read
/// stays: `lint_allow`, and each file's text for snippets. The project cannot be folded
/// again. The diagnostics are those of [`spec::load_project`], else of [`fold`].
pub fn load_and_fold(root: &Path) -> Result<(Project, Result<Folded, Diagnostics>), Diagnostics> {
    load_and_fold_then(root, |_, _, _, _| {})
}

/// [`load_and_fold`], handing each layer to `then` as soon as it is folded, with the
/// project's settings and the states before and after it (while the next layers are parsed
/// and folded). When a later layer fails to fold, what was handed over is not a project's:
/// the caller drops it.
pub fn load_and_fold_then(
    root: &Path,
    mut then: impl FnMut(&ProjectSpec, &Layer, &Arc<Catalog>, &Arc<Catalog>),
) -> Result<(Project, Result<Folded, Diagnostics>), Diagnostics> {
    let mut folder: Option<Folder> = None;
    let mut project = spec::load_project_then(root, |config, file| {
        let lint_allow = std::mem::take(&mut file.spec.lint_allow);
        let spec = std::mem::replace(
            &mut file.spec,
            LayerSpec {
                lint_allow,
                ..LayerSpec::default()
            },
        );
        let folder = folder.get_or_insert_with(|| Folder::new(config));
        if folder.push(file, &spec) {
            let n = folder.states.len();
            let layer = folder.layers.last().expect("a layer was folded");
            then(config, layer, &folder.states[n - 2], &folder.states[n - 1]);
        }
    })?;
    project.forgotten = true;
    let folded = folder
        .unwrap_or_else(|| Folder::new(&project.config))
        .finish(&project);
    Ok((project, folded))
}

fn fold_specs<S: Borrow<LayerSpec>>(
    project: &Project,
    specs: impl Iterator<Item = S>,
) -> Result<Folded, Diagnostics> {
    let mut folder = Folder::new(&project.config);
    for (file, spec) in project.layers.iter().zip(specs) {
        folder.push(file, spec.borrow());
    }
    folder.finish(project)
}

/// The states so far, layer by layer.
struct Folder {
    ext: Externals,
    diags: Diagnostics,
    states: Vec<Arc<Catalog>>,
    layers: Vec<Layer>,
    /// Which tables of the last state reference what, kept up to date layer by layer.
    referrers: Referrers,
    /// A layer had errors: the layers after it are not applied.
    stopped: bool,
}

impl Folder {
    fn new(config: &ProjectSpec) -> Folder {
        Folder {
            ext: externals(config),
            diags: Diagnostics::default(),
            states: vec![Arc::new(Catalog::default())],
            layers: Vec::new(),
            referrers: Referrers::default(),
            stopped: false,
        }
    }

    /// Apply the next layer; whether it was applied.
    fn push(&mut self, file: &LayerFile, spec: &LayerSpec) -> bool {
        if self.stopped {
            return false;
        }
        let prev = self.states.last().expect("non-empty");
        let resolve::Resolved {
            state: next,
            raw,
            transition,
            affected,
        } = match resolve::apply_layer(prev, file, spec, &self.ext, &self.referrers) {
            Ok(r) => r,
            Err(d) => {
                self.diags.extend(d);
                self.stopped = true;
                return false;
            }
        };
        self.referrers.advance(prev, &next);
        self.states.push(Arc::new(next));
        self.layers.push(Layer {
            version: file.version.clone(),
            name: file.name.clone(),
            source: file.display_path.to_string(),
            text: file.text.clone(),
            description: spec.description.clone(),
            raw,
            transition,
            affected,
        });
        true
    }

    /// The folded states, or the diagnostics of the layer that stopped the fold, or a
    /// migrator role no layer declares.
    fn finish(self, project: &Project) -> Result<Folded, Diagnostics> {
        let Folder {
            ext,
            mut diags,
            states,
            layers,
            ..
        } = self;
        if let (Some(m), Some(last)) = (&project.config.migrator, states.last()) {
            let known = ext.roles.contains(&m.value) || last.roles.contains_key(&m.value);
            if diags.0.is_empty() && !known {
                let names = ext
                    .roles
                    .iter()
                    .chain(last.roles.keys())
                    .map(String::as_str);
                diags.push(
                    Diagnostic::error(
                        "E005",
                        format!("the migrator role `{}` is not declared", m.value),
                    )
                    .at(Some(crate::spec::span_of(&project.config_display, m)))
                    .help(suggest(
                        &m.value,
                        names,
                        "declare it under `roles:` in a layer, or list it under `external_roles`",
                    )),
                );
            }
        }
        diags.into_result(Folded { layers, states })
    }
}
