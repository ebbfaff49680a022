//! Drift: a live catalog against the expected one, object by object.
//!
//! Both sides are introspected by the same code (the expected one from a scratch database
//! built from the specs, see `scratch`), so both are in PostgreSQL's normal form and an
//! expression PostgreSQL rewrote (casts, parentheses, qualification) compares equal. Both are
//! flattened to the object graph `diff` uses, so a changed grant is one finding, not a
//! changed table. Positions come from the compiled spec state.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::diagnostic::Span;
use crate::diff::graph::{self, Graph, ObjectId};
use crate::diff::{self, Change};
use crate::introspect::Other;
use crate::render::Renderer;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The specs declare it; the database lacks it.
    Missing,
    /// The database has it in what the project owns; the specs do not declare it.
    Unexpected,
    /// Both have it, defined differently.
    Different,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Missing => "missing",
            FindingKind::Unexpected => "unexpected",
            FindingKind::Different => "different",
        }
    }
}

/// One object that differs.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// A readable name (`policy `p` on `app.t``).
    pub object: String,
    /// Where the specs declare it (or its table), when they do.
    #[serde(serialize_with = "span_text")]
    pub origin: Option<Span>,
    /// Its definition as the specs give it (SQL, in PostgreSQL's normal form).
    pub expected: Option<String>,
    /// Its definition in the database.
    pub actual: Option<String>,
    /// Whether the model represents the object (else `--sql` cannot repair it).
    #[serde(skip)]
    pub modelled: bool,
}

fn span_text<S: serde::Serializer>(span: &Option<Span>, s: S) -> Result<S::Ok, S::Error> {
    match span {
        Some(sp) => s.serialize_some(&sp.to_string()),
        None => s.serialize_none(),
    }
}

impl Finding {
    /// A unified diff of the two definitions.
    pub fn unified_diff(&self) -> String {
        let expected = with_newline(self.expected.as_deref().unwrap_or(""));
        let actual = with_newline(self.actual.as_deref().unwrap_or(""));
        similar::TextDiff::from_lines(expected.as_str(), actual.as_str())
            .unified_diff()
            .context_radius(3)
            .header("expected (specs)", "actual (database)")
            .to_string()
    }
}

fn with_newline(s: &str) -> String {
    if s.is_empty() || s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// What counts as the project's in the live database.
#[derive(Clone, Debug, Default)]
pub struct Ownership {
    /// Schemas whose every object is the project's (see `introspect::Introspected`).
    pub schemas: BTreeSet<String>,
}

/// Compare `live` with `expected` (both introspected); `spec` gives positions.
pub fn compare(
    live: &Catalog,
    expected: &Catalog,
    spec: &Catalog,
    owned: &Ownership,
    renderer: &Renderer,
) -> Vec<Finding> {
    let lg = graph::graph(live);
    let eg = graph::graph(expected);
    // With each finding its object's identity, to list them in identity order.
    let mut out: Vec<(&ObjectId, Finding)> = Vec::new();
    for (id, e) in &eg {
        match lg.get(id) {
            None => {
                // Goes with a missing parent: the parent's finding says it.
                if e.parents
                    .iter()
                    .any(|p| !lg.contains_key(p) && eg.contains_key(p))
                {
                    continue;
                }
                out.push((
                    id,
                    finding(
                        FindingKind::Missing,
                        id,
                        Some(&e.object),
                        None,
                        spec,
                        renderer,
                    ),
                ));
            }
            Some(l) if l.object != e.object => out.push((
                id,
                finding(
                    FindingKind::Different,
                    id,
                    Some(&e.object),
                    Some(&l.object),
                    spec,
                    renderer,
                ),
            )),
            Some(_) => {}
        }
    }
    for (id, l) in &lg {
        if eg.contains_key(id) {
            continue;
        }
        if l.parents
            .iter()
            .any(|p| lg.contains_key(p) && !eg.contains_key(p))
        {
            continue; // goes with an unexpected parent
        }
        if !in_scope(id, &lg, &eg, live, owned) {
            continue;
        }
        out.push((
            id,
            finding(
                FindingKind::Unexpected,
                id,
                None,
                Some(&l.object),
                spec,
                renderer,
            ),
        ));
    }
    out.sort_by(|(a, x), (b, y)| a.cmp(b).then(x.kind.cmp(&y.kind)));
    out.into_iter().map(|(_, f)| f).collect()
}

/// Objects the model does not represent: those only one side has, in the schemas the project
/// owns (the specs cannot declare them, so on the expected side they come from raw SQL).
pub fn compare_others(live: &[Other], expected: &[Other], owned: &Ownership) -> Vec<Finding> {
    let mut out = Vec::new();
    let describe = |o: &Other| {
        format!(
            "{} `{}.{}` (not modelled by schemac)",
            o.kind, o.schema, o.name
        )
    };
    let same = |a: &Other, b: &Other| a.kind == b.kind && a.schema == b.schema && a.name == b.name;
    for o in live {
        if !owned.schemas.contains(&o.schema) {
            continue;
        }
        match expected.iter().find(|e| same(e, o)) {
            None => out.push(Finding {
                kind: FindingKind::Unexpected,
                object: describe(o),
                origin: None,
                expected: None,
                actual: Some(o.definition.clone().unwrap_or_default()),
                modelled: false,
            }),
            Some(e) if e.definition != o.definition => out.push(Finding {
                kind: FindingKind::Different,
                object: describe(o),
                origin: None,
                expected: e.definition.clone(),
                actual: o.definition.clone(),
                modelled: false,
            }),
            Some(_) => {}
        }
    }
    for e in expected {
        if !live.iter().any(|o| same(e, o)) {
            out.push(Finding {
                kind: FindingKind::Missing,
                object: describe(e),
                origin: None,
                expected: Some(e.definition.clone().unwrap_or_default()),
                actual: None,
                modelled: false,
            });
        }
    }
    out
}

/// Whether an object only the database has is the project's business: it belongs to an
/// object the specs declare, or lives in a schema the project owns.
fn in_scope(id: &ObjectId, lg: &Graph, eg: &Graph, live: &Catalog, owned: &Ownership) -> bool {
    let node = &lg[id];
    if node.parents.iter().any(|p| eg.contains_key(p)) {
        return true;
    }
    let schema = match id {
        ObjectId::Role(_) | ObjectId::Membership { .. } | ObjectId::DefaultPrivilege(_) => {
            return true
        }
        ObjectId::Schema(s) => Some(s.to_string()),
        ObjectId::Extension(e) => live.extensions.get(*e).and_then(|x| x.schema.clone()),
        ObjectId::Enum(q) | ObjectId::Sequence(q) | ObjectId::Table(q) | ObjectId::View(q) => {
            Some(q.schema.clone())
        }
        ObjectId::Function(k) => Some(k.name.schema.clone()),
        ObjectId::ColumnDefault(q, _)
        | ObjectId::Check(q, _)
        | ObjectId::Index(q, _)
        | ObjectId::ForeignKey(q, _)
        | ObjectId::Policy(q, _)
        | ObjectId::Trigger(q, _)
        | ObjectId::ColumnComment(q, _) => Some(q.schema.clone()),
        ObjectId::Grant(on, _, _) | ObjectId::Comment(on) => {
            return in_scope(on, lg, eg, live, owned)
        }
        ObjectId::Rows(_) => None,
    };
    schema.is_some_and(|s| owned.schemas.contains(&s))
}

fn finding(
    kind: FindingKind,
    id: &ObjectId,
    expected: Option<&graph::Object>,
    actual: Option<&graph::Object>,
    spec: &Catalog,
    renderer: &Renderer,
) -> Finding {
    Finding {
        kind,
        object: diff::describe(id),
        origin: origin(spec, id),
        expected: expected.map(|o| definition(o, renderer)),
        actual: actual.map(|o| definition(o, renderer)),
        modelled: true,
    }
}

/// An object's definition: the SQL that creates it, rendered by the project's templates.
fn definition(object: &graph::Object, renderer: &Renderer) -> String {
    let changes: Vec<Change> = diff::creation(object);
    match renderer.render_all(&changes) {
        Ok(stmts) => stmts
            .iter()
            .map(|s| s.sql.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("-- cannot render: {e}"),
    }
}

/// Where the specs declare an object (or what it belongs to).
pub fn origin(spec: &Catalog, id: &ObjectId) -> Option<Span> {
    let key = match id {
        ObjectId::Role(r) => format!("role {r}"),
        ObjectId::Membership { member, .. } => format!("role {member}"),
        ObjectId::Schema(s) => format!("schema {s}"),
        ObjectId::Extension(e) => format!("extension {e}"),
        ObjectId::DefaultPrivilege(k) => crate::resolve::default_privilege_key(k),
        ObjectId::Enum(q) => format!("type {q}"),
        ObjectId::Sequence(q) => format!("sequence {q}"),
        ObjectId::Table(q) => format!("table {q}"),
        ObjectId::View(q) => format!("view {q}"),
        ObjectId::Function(k) => format!("function {k}"),
        ObjectId::ColumnDefault(q, c) | ObjectId::ColumnComment(q, c) => {
            format!("table {q} column {c}")
        }
        ObjectId::Check(q, n) | ObjectId::ForeignKey(q, n) => format!("table {q} constraint {n}"),
        ObjectId::Index(q, n) => format!("index {}.{n}", q.schema),
        ObjectId::Policy(q, n) => format!("table {q} policy {n}"),
        ObjectId::Trigger(q, n) => format!("table {q} trigger {n}"),
        ObjectId::Grant(on, _, _) | ObjectId::Comment(on) => return origin(spec, on),
        ObjectId::Rows(k) => crate::resolve::row_key(k),
    };
    spec.origin(&key).cloned().or_else(|| match id {
        ObjectId::ColumnDefault(q, _)
        | ObjectId::ColumnComment(q, _)
        | ObjectId::Check(q, _)
        | ObjectId::ForeignKey(q, _)
        | ObjectId::Index(q, _)
        | ObjectId::Policy(q, _)
        | ObjectId::Trigger(q, _) => spec.origin(&format!("table {q}")).cloned(),
        _ => None,
    })
}

/// Counts per kind, for summaries.
pub fn counts(findings: &[Finding]) -> BTreeMap<FindingKind, usize> {
    let mut out = BTreeMap::new();
    for f in findings {
        *out.entry(f.kind).or_default() += 1;
    }
    out
}

/// Colours for the text report (none when not on a terminal).
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The findings as text: one block per object, a unified diff for those that differ.
pub fn report_text(findings: &[Finding], style: Style) -> String {
    let mut out = String::new();
    for f in findings {
        let (code, mark) = match f.kind {
            FindingKind::Missing => ("31", "-"),
            FindingKind::Unexpected => ("33", "+"),
            FindingKind::Different => ("36", "~"),
        };
        let head = format!("{mark} {:<10} {}", f.kind.label(), f.object);
        let _ = write!(out, "{}", style.paint(&format!("1;{code}"), &head));
        if let Some(span) = &f.origin {
            let _ = write!(out, "  ({span})");
        }
        out.push('\n');
        let body = match f.kind {
            FindingKind::Different => f.unified_diff(),
            FindingKind::Missing => indent(f.expected.as_deref().unwrap_or_default(), "    "),
            FindingKind::Unexpected => indent(f.actual.as_deref().unwrap_or_default(), "    "),
        };
        for line in body.lines() {
            let painted = match line.chars().next() {
                _ if f.kind != FindingKind::Different => line.to_string(),
                Some('+') if !line.starts_with("+++") => style.paint("32", line),
                Some('-') if !line.starts_with("---") => style.paint("31", line),
                Some('@') => style.paint("36", line),
                _ => line.to_string(),
            };
            out.push_str(&painted);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

fn indent(text: &str, pad: &str) -> String {
    text.lines()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    fn table(name: &str) -> Table {
        Table {
            name: QName::new("app", name),
            columns: vec![Column {
                name: "id".into(),
                data_type: TypeRef {
                    sql: "integer".into(),
                    user_type: None,
                },
                not_null: true,
                identity: None,
                default: None,
                comment: None,
            }],
            primary_key: None,
            uniques: vec![],
            checks: vec![],
            foreign_keys: vec![],
            indexes: vec![],
            rls_enabled: false,
            rls_forced: false,
            policies: vec![],
            grants: vec![],
            triggers: vec![],
            comment: None,
        }
    }

    fn catalog(tables: &[Table]) -> Catalog {
        let mut c = Catalog::default();
        c.schemas.insert(
            "app".into(),
            Schema {
                name: "app".into(),
                created: true,
                owner: None,
                revoke_public: false,
                grants: vec![],
                comment: None,
            },
        );
        for t in tables {
            c.tables
                .insert(t.name.clone(), std::sync::Arc::new(t.clone()));
        }
        c
    }

    #[test]
    fn finds_missing_unexpected_and_different() {
        let mut changed = table("b");
        changed.grants.push(Grant {
            grantee: "reader".into(),
            privileges: [Privilege::Select].into(),
            columns: vec![],
        });
        let expected = catalog(&[table("a"), table("b")]);
        let live = catalog(&[changed, table("c")]);
        let owned = Ownership {
            schemas: ["app".to_string()].into(),
        };
        let f = compare(&live, &expected, &expected, &owned, Renderer::builtin());
        let kinds: Vec<(FindingKind, String)> =
            f.iter().map(|x| (x.kind, x.object.clone())).collect();
        assert_eq!(
            kinds,
            vec![
                (FindingKind::Missing, "table `app.a`".to_string()),
                (FindingKind::Unexpected, "table `app.c`".to_string()),
                (
                    FindingKind::Unexpected,
                    "the grant to `reader` on table `app.b`".to_string()
                ),
            ]
        );
        // Not owned: an extra table is none of the project's business.
        let f = compare(
            &live,
            &expected,
            &expected,
            &Ownership::default(),
            Renderer::builtin(),
        );
        assert!(f.iter().all(|x| x.object != "table `app.c`"));
        assert!(report_text(&f, Style { color: false }).contains("missing"));
    }
}
