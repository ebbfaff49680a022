//! Fold layers into states: state 0 is the empty catalog, state i is state i-1 with layer i
//! applied. Each layer's migration is then `diff(state[i-1], state[i])` and back.

use std::borrow::Borrow;
use std::sync::Arc;

use crate::catalog::affected::{Affected, Referrers};
use crate::catalog::{Catalog, Transition};
use crate::diagnostic::{suggest, Diagnostic, Diagnostics};
use crate::resolve::{self, Externals, RawSql};
use crate::spec::{LayerSpec, Project};

/// One layer after resolution.
#[derive(Debug)]
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
#[derive(Debug)]
pub struct Folded {
    pub layers: Vec<Layer>,
    pub states: Vec<Catalog>,
}

impl Folded {
    pub fn last(&self) -> &Catalog {
        self.states.last().expect("states[0] always exists")
    }
}

pub fn externals(project: &Project) -> Externals {
    Externals {
        roles: project
            .config
            .external_roles
            .iter()
            .map(|r| r.value.clone())
            .collect(),
        schemas: project
            .config
            .external_schemas
            .iter()
            .map(|s| s.value.clone())
            .collect(),
        migrator: project.config.migrator.as_ref().map(|m| m.value.clone()),
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

/// [`fold`], taking each layer's declarations out of the project and dropping them once the
/// layer is folded (the parsed YAML of thousands of tables and the states built from it are
/// then never all in memory at once). What later stages read stays: `lint_allow`, and each
/// file's text for snippets. The project cannot be folded again.
pub fn fold_taking(project: &mut Project) -> Result<Folded, Diagnostics> {
    let specs: Vec<LayerSpec> = project
        .layers
        .iter_mut()
        .map(|l| {
            let lint_allow = std::mem::take(&mut l.spec.lint_allow);
            std::mem::replace(
                &mut l.spec,
                LayerSpec {
                    lint_allow,
                    ..LayerSpec::default()
                },
            )
        })
        .collect();
    project.forgotten = true;
    fold_specs(project, specs.into_iter())
}

fn fold_specs<S: Borrow<LayerSpec>>(
    project: &Project,
    specs: impl Iterator<Item = S>,
) -> Result<Folded, Diagnostics> {
    let ext = externals(project);
    let mut diags = Diagnostics::default();
    let mut states = vec![Catalog::default()];
    let mut layers = Vec::new();
    // Which tables of the last state reference what, kept up to date layer by layer.
    let mut referrers = Referrers::default();
    for (file, spec) in project.layers.iter().zip(specs) {
        let prev = states.last().expect("non-empty");
        let resolve::Resolved {
            state: next,
            raw,
            transition,
            affected,
        } = match resolve::apply_layer(prev, file, spec.borrow(), &ext, &referrers) {
            Ok(r) => r,
            Err(d) => {
                diags.extend(d);
                break;
            }
        };
        referrers.advance(prev, &next);
        states.push(next);
        layers.push(Layer {
            version: file.version.clone(),
            name: file.name.clone(),
            source: file.display_path.to_string(),
            text: file.text.clone(),
            description: spec.borrow().description.clone(),
            raw,
            transition,
            affected,
        });
    }
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
