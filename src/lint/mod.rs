//! Lint: rules over the compiled model (the last state) and the planned changes (each
//! layer's up section), run by `schemac lint` and by `schemac check`. Each rule is a small
//! file here with its code, severity and tests; findings are diagnostics pointing at the YAML
//! that declared the object. A finding can be silenced in a layer with
//! `lint_allow: [{rule, object, reason}]`.
//!
//! Codes: `L1xx` security of the final schema, `L2xx` safety of a migration on a live
//! database. Errors fail `lint` and `check`; warnings are reported only. (Policies on a table
//! without row-level security are not a lint: the compiler refuses them, E110.)

mod l101_exposed_table_without_rls;
mod l102_rls_without_policy;
mod l104_always_true_write_policy;
mod l105_definer_without_search_path;
mod l106_definer_executable_by_public;
mod l107_grant_to_public;
mod l108_runtime_role_owns_or_creates;
mod l109_login_bypassrls;
mod l110_multiple_permissive_policies;
mod l111_foreign_key_without_index;
mod l201_data_loss;
mod l202_not_null_on_existing_table;
mod l203_rewriting_type_change;
mod l204_index_on_existing_table;
mod l205_constraint_on_existing_table;
mod l206_enum_value_removal;

use std::collections::BTreeSet;

use crate::catalog::{Catalog, QName};
use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Severity, Span};
use crate::diff::{self, Change};
use crate::layers::{Folded, Layer};
use crate::spec::{span_of, Project};

/// One rule: a stable code, a short name, what it looks at, and the check.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    check: fn(&Ctx, &mut Findings),
}

/// Every rule, in code order.
pub const RULES: &[Rule] = &[
    l101_exposed_table_without_rls::RULE,
    l102_rls_without_policy::RULE,
    l104_always_true_write_policy::RULE,
    l105_definer_without_search_path::RULE,
    l106_definer_executable_by_public::RULE,
    l107_grant_to_public::RULE,
    l108_runtime_role_owns_or_creates::RULE,
    l109_login_bypassrls::RULE,
    l110_multiple_permissive_policies::RULE,
    l111_foreign_key_without_index::RULE,
    l201_data_loss::RULE,
    l202_not_null_on_existing_table::RULE,
    l203_rewriting_type_change::RULE,
    l204_index_on_existing_table::RULE,
    l205_constraint_on_existing_table::RULE,
    l206_enum_value_removal::RULE,
];

/// What the rules look at.
pub struct Ctx<'a> {
    /// The state after the last layer: what ships.
    pub state: &'a Catalog,
    /// The role that runs the migrations (`migrator` in schemac.yaml).
    pub migrator: Option<&'a str>,
    /// Layers with the states around them and their up changes (for the L2xx rules, which
    /// run one layer at a time; empty for the others).
    pub plans: Vec<Plan<'a>>,
}

pub struct Plan<'a> {
    pub layer: &'a Layer,
    pub before: &'a Catalog,
    pub after: &'a Catalog,
    pub changes: &'a [Change],
}

impl Plan<'_> {
    /// Whether `table` existed before this layer (so a change to it runs on live rows).
    pub fn existing(&self, table: &QName) -> bool {
        let renamed_from = self
            .layer
            .transition
            .renames
            .iter()
            .rev()
            .find_map(|r| match r {
                crate::catalog::Rename::Table { from, to } if to == table => Some(from),
                _ => None,
            });
        self.before
            .tables
            .contains_key(renamed_from.unwrap_or(table))
    }

    /// Where this layer declares the first of `keys` it declares (see `Catalog::origin`), or
    /// the top of its file (a change caused by something else, e.g. a check re-created
    /// around a retyped column, is still this layer's doing).
    pub fn span(&self, keys: &[&str]) -> Span {
        keys.iter()
            .filter_map(|k| self.after.origin(k))
            .find(|s| *s.file == *self.layer.source)
            .cloned()
            .unwrap_or_else(|| Span {
                file: self.layer.source.as_str().into(),
                line: 1,
                col: 1,
            })
    }
}

/// Findings of one rule, each about one object (its name, as `lint_allow` names it).
pub struct Findings {
    rule: &'static Rule,
    out: Vec<(String, Diagnostic)>,
}

impl Findings {
    pub fn push(
        &mut self,
        object: impl Into<String>,
        span: Option<Span>,
        message: String,
        help: impl Into<String>,
    ) {
        let d = match self.rule.severity {
            Severity::Error => Diagnostic::error(self.rule.code, message),
            Severity::Warning => Diagnostic::warning(self.rule.code, message),
        };
        self.out.push((object.into(), d.at(span).help(help)));
    }
}

/// The result of a lint run.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Diagnostic>,
    /// Findings silenced by `lint_allow`.
    pub silenced: usize,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }
}

/// What the rules about changes (L2xx) found in one layer, rule by rule: all `lint` needs of
/// a layer's planned changes, so compiling keeps these instead of the changes.
#[derive(Debug, Default)]
pub struct LayerFindings(Vec<(&'static str, Vec<(String, Diagnostic)>)>);

impl Rule {
    /// Whether the rule looks at each layer's changes (L2xx) rather than the final state.
    fn per_layer(&self) -> bool {
        self.code.starts_with("L2")
    }
}

/// Run the rules about changes over one layer: `changes` are its up changes, from `before`
/// to `after`.
pub fn lint_layer(
    layer: &Layer,
    before: &Catalog,
    after: &Catalog,
    changes: &[Change],
) -> LayerFindings {
    let ctx = Ctx {
        state: after,
        migrator: None,
        plans: vec![Plan {
            layer,
            before,
            after,
            changes,
        }],
    };
    LayerFindings(
        RULES
            .iter()
            .filter(|r| r.per_layer())
            .map(|rule| {
                let mut f = Findings {
                    rule,
                    out: Vec::new(),
                };
                (rule.check)(&ctx, &mut f);
                (rule.code, f.out)
            })
            .collect(),
    )
}

/// Every layer's findings, planning its changes (when the project was only folded).
pub fn plan(folded: &Folded) -> Result<Vec<LayerFindings>, Diagnostics> {
    folded
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let (before, after) = (&folded.states[i], &folded.states[i + 1]);
            let changes = diff::diff_layer(before, after, &layer.transition, &layer.affected)?;
            Ok(lint_layer(layer, before, after, &changes))
        })
        .collect()
}

/// Run every rule over a folded project: the rules about the final state here, those about
/// changes from each layer's findings (`layers`, from compiling or from [`plan`]), in rule
/// order, layer by layer. `lint_allow` entries that name an unknown rule or have no reason
/// are errors (returned as diagnostics); entries that match no finding are reported as
/// warnings (L001), so they do not outlive what they silence.
pub fn lint(
    project: &Project,
    folded: &Folded,
    layers: &[LayerFindings],
) -> Result<Report, Diagnostics> {
    let ctx = Ctx {
        state: folded.last(),
        migrator: project.config.migrator.as_ref().map(|m| m.value.as_str()),
        plans: Vec::new(),
    };

    // The allow list, from every layer.
    let mut diags = Diagnostics::default();
    let mut allows = Vec::new();
    for file in &project.layers {
        for a in &file.spec.lint_allow {
            let span = span_of(&file.display_path, &a.value.rule);
            if !RULES.iter().any(|r| r.code == a.value.rule.value) {
                let help = suggest(
                    &a.value.rule.value,
                    RULES.iter().map(|r| r.code),
                    "`schemac lint --rules` lists the rules",
                );
                diags.push(
                    Diagnostic::error(
                        "E075",
                        format!("`{}` is not a lint rule", a.value.rule.value),
                    )
                    .at(Some(span))
                    .help(help),
                );
                continue;
            }
            if a.value.reason.value.trim().is_empty() {
                diags.push(
                    Diagnostic::error("E076", "a `lint_allow` entry needs a reason")
                        .at(Some(span_of(&file.display_path, &a.value.reason)))
                        .help("say why the finding does not apply here"),
                );
                continue;
            }
            allows.push((
                a.value.rule.value.clone(),
                a.value.object.value.clone(),
                span_of(&file.display_path, a),
            ));
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }

    let mut report = Report::default();
    let mut used = BTreeSet::new();
    for rule in RULES {
        let found: Vec<(String, Diagnostic)> = if rule.per_layer() {
            layers
                .iter()
                .flat_map(|l| l.0.iter().filter(|(code, _)| *code == rule.code))
                .flat_map(|(_, f)| f.iter().cloned())
                .collect()
        } else {
            let mut f = Findings {
                rule,
                out: Vec::new(),
            };
            (rule.check)(&ctx, &mut f);
            f.out
        };
        for (object, d) in found {
            // Every matching entry counts as used (one may be repeated in a later layer).
            let matching: Vec<usize> = allows
                .iter()
                .enumerate()
                .filter(|(_, (code, o, _))| *code == rule.code && *o == object)
                .map(|(i, _)| i)
                .collect();
            if matching.is_empty() {
                report.findings.push(d);
            } else {
                used.extend(matching);
                report.silenced += 1;
            }
        }
    }
    for (i, (code, object, span)) in allows.iter().enumerate() {
        if !used.contains(&i) {
            report.findings.push(
                Diagnostic::warning(
                    "L001",
                    format!("`lint_allow` silences {code} for `{object}`, but there is no such finding"),
                )
                .at(Some(span.clone()))
                .help("remove the entry (or check the object's name: `schema.table`, `schema.function`, a role or a schema)"),
            );
        }
    }
    Ok(report)
}

/// Whether an SQL expression is the literal `true` (in any case, in parentheses or not).
pub(crate) fn is_literal_true(sql: &str) -> bool {
    let mut s = sql.trim();
    while let Some(inner) = s.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        s = inner.trim();
    }
    s.eq_ignore_ascii_case("true")
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Lint a project made of `layers` (YAML texts, in order) and `config` (schemac.yaml).
    pub fn run(config: &str, layers: &[&str]) -> Report {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("schemac.yaml"), config).expect("write config");
        std::fs::create_dir(dir.path().join("specs")).expect("specs dir");
        for (i, text) in layers.iter().enumerate() {
            let name = format!("2025010100{:04}_layer{i}.yaml", i + 1);
            std::fs::write(dir.path().join("specs").join(name), text).expect("write layer");
        }
        let project = crate::spec::load_project(dir.path()).expect("project loads");
        let folded = crate::layers::fold(&project).unwrap_or_else(|d| panic!("{d:?}"));
        let layers = plan(&folded).unwrap_or_else(|d| panic!("{d:?}"));
        lint(&project, &folded, &layers).unwrap_or_else(|d| panic!("{d:?}"))
    }

    /// The codes found, in order.
    pub fn codes(report: &Report) -> Vec<&'static str> {
        report.findings.iter().map(|d| d.code).collect()
    }

    /// Whether `code` fires, and at which `line` of which layer file.
    pub fn fires_at(report: &Report, code: &str) -> Vec<(String, u64)> {
        report
            .findings
            .iter()
            .filter(|d| d.code == code)
            .filter_map(|d| d.span.as_ref().map(|s| (s.file.to_string(), s.line)))
            .collect()
    }

    pub const BASE: &str = "external_roles: [postgres]\n";
}

#[cfg(test)]
mod tests {
    use super::testing::*;

    #[test]
    fn allow_silences_one_rule_for_one_object_and_stale_entries_warn() {
        let layer = "schemas: [{name: app}]\ntables:\n  - name: app.items\n    columns: [{name: id, type: int}]\n    rls: true\n";
        let r = run(BASE, &[layer]);
        assert_eq!(codes(&r), ["L102"]);
        let allow = format!("{layer}lint_allow:\n  - {{rule: L102, object: app.items, reason: deny-all on purpose}}\n  - {{rule: L102, object: app.other, reason: stale}}\n");
        let r = run(BASE, &[&allow]);
        assert_eq!(r.silenced, 1);
        assert_eq!(codes(&r), ["L001"]);
    }

    #[test]
    fn literal_true() {
        assert!(super::is_literal_true(" (TRUE) "));
        assert!(!super::is_literal_true("true AND false"));
    }
}
