//! Validation of a whole state after a layer is applied: every reference resolves (roles,
//! schemas, tables, columns, types, functions), overload sets are unambiguous, and implied
//! values are filled in (foreign keys referencing a primary key, NOT NULL of key columns).
//! Objects declared by earlier layers are checked too: a drop can leave them dangling.
//!
//! The previous state was valid (folding stops at the first layer with errors), so a table
//! the layer left alone can only have become invalid through something it references: of
//! the tables, only those [`affected`] by the layer are checked, unless the layer already
//! has errors (then all are, as before). Every other kind of object is checked whole.
//! What the layer affects is returned: the differ narrows its states to it.

use crate::catalog::*;
use crate::diagnostic::{did_you_mean, suggest, Diagnostic, Diagnostics, Span};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{function_origin, Externals};
use crate::catalog::affected::{affected, Affected, Referrers};

pub fn validate(
    prev: &Catalog,
    state: &mut Catalog,
    referrers: &Referrers,
    ext: &Externals,
    diags: &mut Diagnostics,
) -> Affected {
    fill_implied(state);
    let state = &*state;
    let changed = affected(prev, state, Some(referrers));
    // A table whose columns all failed to resolve is already reported.
    let earlier_errors = diags.has_errors();
    let only: Option<BTreeSet<&QName>> = (!earlier_errors).then(|| changed.tables.iter().collect());
    let v = Validator {
        state,
        ext,
        earlier_errors,
        tables: only.as_ref(),
    };
    let mut out = Vec::new();
    v.roles(&mut out);
    v.schemas(&mut out);
    v.tables(&mut out);
    v.functions(&mut out);
    v.views(&mut out);
    v.default_privileges(&mut out);
    v.rows(&mut out);
    super::rules::check(prev, v.state, referrers, v.tables, &mut out);
    for d in out {
        diags.push(d);
    }
    changed
}

fn fill_implied(state: &mut Catalog) {
    // Most tables were filled in by an earlier layer: find those that need it, then touch
    // only them (the others stay shared with the previous state).
    let pk_of = |tables: &BTreeMap<QName, Arc<Table>>, q: &QName| -> Option<Vec<String>> {
        tables
            .get(q)?
            .primary_key
            .as_ref()
            .map(|pk| pk.columns.clone())
    };
    // Each table to fill in, with its foreign keys (by position) that get the referenced
    // table's primary key columns.
    type References = Vec<(usize, Vec<String>)>;
    let mut todo: Vec<(QName, References)> = Vec::new();
    for (name, table) in &state.tables {
        let nullable_key = table.primary_key.as_ref().is_some_and(|pk| {
            table
                .columns
                .iter()
                .any(|c| !c.not_null && pk.columns.contains(&c.name))
        });
        let references: Vec<(usize, Vec<String>)> = table
            .foreign_keys
            .iter()
            .enumerate()
            .filter(|(_, fk)| fk.ref_columns.is_empty())
            .filter_map(|(i, fk)| Some((i, pk_of(&state.tables, &fk.ref_table)?)))
            .collect();
        if nullable_key || !references.is_empty() {
            todo.push((name.clone(), references));
        }
    }
    for (name, references) in todo {
        let table = Arc::make_mut(state.tables.get_mut(&name).expect("found above"));
        if let Some(pk) = &table.primary_key {
            for c in table
                .columns
                .iter_mut()
                .filter(|c| pk.columns.contains(&c.name))
            {
                c.not_null = true;
            }
        }
        for (i, cols) in references {
            table.foreign_keys[i].ref_columns = cols;
        }
    }
}

/// Where a diagnostic about an object points, and what it calls the object: made only when
/// there is something to report (checking thousands of valid tables formats nothing).
type Site<'s> = &'s dyn Fn() -> (Option<Span>, String);

struct Validator<'a> {
    state: &'a Catalog,
    ext: &'a Externals,
    earlier_errors: bool,
    /// The tables to check (None: all of them).
    tables: Option<&'a BTreeSet<&'a QName>>,
}

impl Validator<'_> {
    fn at(&self, keys: &[String]) -> Option<Span> {
        keys.iter().find_map(|k| self.state.origins.get(k).cloned())
    }

    fn role_exists(&self, name: &str) -> bool {
        name == "PUBLIC" || self.state.roles.contains_key(name) || self.ext.roles.contains(name)
    }

    fn schema_exists(&self, name: &str) -> bool {
        name == "public"
            || name == "pg_catalog"
            || name == "pg_temp"
            || self.state.schemas.contains_key(name)
            || self.ext.schemas.contains(name)
    }

    /// A schema whose contents the project declares (so references into it are checked).
    fn owned_schema(&self, name: &str) -> bool {
        (self.state.schemas.get(name).is_some_and(|s| s.created) || name == "public")
            && !self.ext.schemas.contains(name)
    }

    fn check_role(&self, out: &mut Vec<Diagnostic>, role: &str, site: Site<'_>) {
        if self.role_exists(role) {
            return;
        }
        let known: Vec<&str> = self
            .state
            .roles
            .keys()
            .map(String::as_str)
            .chain(self.ext.roles.iter().map(String::as_str))
            .collect();
        let help = suggest(role, known, "declare the role under `roles:` (in this or an earlier layer), or list it under `external_roles` in schemac.yaml");
        let (span, context) = site();
        out.push(
            Diagnostic::error(
                "E100",
                format!("{context} names role `{role}`, which is not declared"),
            )
            .at(span)
            .help(help),
        );
    }

    fn check_schema(&self, out: &mut Vec<Diagnostic>, schema: &str, site: Site<'_>) {
        if self.schema_exists(schema) {
            return;
        }
        let help = suggest(schema, self.state.schemas.keys().map(String::as_str), "declare the schema under `schemas:`, or list it under `external_schemas` in schemac.yaml");
        let (span, context) = site();
        out.push(
            Diagnostic::error(
                "E101",
                format!("{context} is in schema `{schema}`, which is not declared"),
            )
            .at(span)
            .help(help),
        );
    }

    fn check_type(&self, out: &mut Vec<Diagnostic>, t: &TypeRef, site: Site<'_>) {
        let Some(q) = &t.user_type else { return };
        if !self.schema_exists(&q.schema) {
            self.check_schema(out, &q.schema, site);
            return;
        }
        if !self.owned_schema(&q.schema) {
            return;
        }
        if self.state.enums.contains_key(q) || self.state.tables.contains_key(q) {
            return;
        }
        let known: Vec<String> = self
            .state
            .enums
            .keys()
            .chain(self.state.tables.keys())
            .map(|k| k.to_string())
            .collect();
        let help = suggest(
            &q.to_string(),
            known.iter().map(String::as_str),
            "declare it under `enums:` (or as a table, for its row type)",
        );
        let (span, context) = site();
        out.push(
            Diagnostic::error(
                "E102",
                format!("{context} uses type `{q}`, which is not declared"),
            )
            .at(span)
            .help(help),
        );
    }

    fn check_refs(&self, out: &mut Vec<Diagnostic>, refs: &Refs, site: Site<'_>) {
        for rel in &refs.relations {
            if !self.owned_schema(&rel.schema)
                || self.state.tables.contains_key(rel)
                || self.state.sequences.contains_key(rel)
                || self.state.views.contains_key(rel)
            {
                continue;
            }
            if !self.schema_exists(&rel.schema) {
                self.check_schema(out, &rel.schema, site);
                continue;
            }
            let known: Vec<String> = self.state.tables.keys().map(|k| k.to_string()).collect();
            let help = suggest(
                &rel.to_string(),
                known.iter().map(String::as_str),
                "declare the table, or fix the name",
            );
            let (span, context) = site();
            out.push(
                Diagnostic::error(
                    "E103",
                    format!("{context} refers to table `{rel}`, which is not declared"),
                )
                .at(span)
                .help(help),
            );
        }
        for t in &refs.types {
            if !self.owned_schema(&t.schema)
                || self.state.enums.contains_key(t)
                || self.state.tables.contains_key(t)
                || self.state.views.contains_key(t)
            {
                continue;
            }
            let known: Vec<String> = self.state.enums.keys().map(|k| k.to_string()).collect();
            let help = suggest(
                &t.to_string(),
                known.iter().map(String::as_str),
                "declare the type, or fix the name",
            );
            let (span, context) = site();
            out.push(
                Diagnostic::error(
                    "E114",
                    format!("{context} uses type `{t}`, which is not declared"),
                )
                .at(span)
                .help(help),
            );
        }
        for f in &refs.functions {
            if !self.owned_schema(&f.schema) || self.state.functions.keys().any(|k| &k.name == f) {
                continue;
            }
            if !self.schema_exists(&f.schema) {
                self.check_schema(out, &f.schema, site);
                continue;
            }
            let known: Vec<String> = self
                .state
                .functions
                .keys()
                .map(|k| k.name.to_string())
                .collect();
            let help = suggest(
                &f.to_string(),
                known.iter().map(String::as_str),
                "declare the function, or fix the name",
            );
            let (span, context) = site();
            out.push(
                Diagnostic::error(
                    "E104",
                    format!("{context} calls function `{f}`, which is not declared"),
                )
                .at(span)
                .help(help),
            );
        }
    }

    fn views(&self, out: &mut Vec<Diagnostic>) {
        for (name, v) in &self.state.views {
            let span = self.at(&[format!("view {name}")]);
            let ctx = format!("view `{name}`");
            self.check_schema(out, &name.schema, &|| (span.clone(), ctx.to_string()));
            self.check_refs(out, &v.query.refs, &|| (span.clone(), ctx.to_string()));
            self.check_grants(out, &v.grants, &|| {
                (span.clone(), format!("a grant on `{name}`"))
            });
        }
    }

    fn check_grants(&self, out: &mut Vec<Diagnostic>, grants: &[Grant], site: Site<'_>) {
        for g in grants {
            self.check_role(out, &g.grantee, site);
        }
    }

    fn check_columns(
        &self,
        out: &mut Vec<Diagnostic>,
        table: &Table,
        cols: &[String],
        site: Site<'_>,
    ) {
        if cols.is_empty() {
            let (span, context) = site();
            out.push(
                Diagnostic::error("E105", format!("{context} lists no columns"))
                    .at(span)
                    .help("name at least one column"),
            );
        }
        for c in cols {
            if table.column(c).is_none() {
                let help = match did_you_mean(c, table.columns.iter().map(|c| c.name.as_str())) {
                    Some(b) => format!("did you mean `{b}`?"),
                    None => format!(
                        "`{}` has columns: {}",
                        table.name,
                        table
                            .columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let (span, context) = site();
                out.push(
                    Diagnostic::error(
                        "E105",
                        format!(
                            "{context} names column `{c}`, which `{}` does not have",
                            table.name
                        ),
                    )
                    .at(span)
                    .help(help),
                );
            }
        }
    }

    fn roles(&self, out: &mut Vec<Diagnostic>) {
        for role in self.state.roles.values() {
            let span = self.at(&[format!("role {}", role.name)]);
            for m in &role.member_of {
                if m == &role.name {
                    out.push(
                        Diagnostic::error(
                            "E106",
                            format!("role `{}` is a member of itself", role.name),
                        )
                        .at(span.clone())
                        .help("remove it from `member_of`"),
                    );
                } else {
                    self.check_role(out, m, &|| {
                        (span.clone(), format!("`member_of` of role `{}`", role.name))
                    });
                }
            }
        }
    }

    fn schemas(&self, out: &mut Vec<Diagnostic>) {
        for s in self.state.schemas.values() {
            let span = self.at(&[format!("schema {}", s.name)]);
            if let Some(o) = &s.owner {
                self.check_role(out, o, &|| {
                    (span.clone(), format!("the owner of schema `{}`", s.name))
                });
            }
            self.check_grants(out, &s.grants, &|| {
                (span.clone(), format!("a grant on schema `{}`", s.name))
            });
        }
        for e in self.state.extensions.values() {
            if let Some(s) = &e.schema {
                self.check_schema(out, s, &|| {
                    (
                        self.at(&[format!("extension {}", e.name)]),
                        format!("extension `{}`", e.name),
                    )
                });
            }
        }
        for e in self.state.enums.values() {
            self.check_schema(out, &e.name.schema, &|| {
                (
                    self.at(&[format!("type {}", e.name)]),
                    format!("enum `{}`", e.name),
                )
            });
        }
        for s in self.state.sequences.values() {
            let span = self.at(&[format!("sequence {}", s.name)]);
            self.check_schema(out, &s.name.schema, &|| {
                (span.clone(), format!("sequence `{}`", s.name))
            });
            self.check_grants(out, &s.grants, &|| {
                (span.clone(), format!("a grant on sequence `{}`", s.name))
            });
        }
    }

    fn tables(&self, out: &mut Vec<Diagnostic>) {
        for t in super::rules::tables(self.state, self.tables) {
            let tkey = || format!("table {}", t.name);
            let span = || self.at(&[tkey()]);
            self.check_schema(out, &t.name.schema, &|| {
                (span(), format!("table `{}`", t.name))
            });
            if t.columns.is_empty() && !self.earlier_errors {
                out.push(
                    Diagnostic::error("E107", format!("table `{}` has no columns", t.name))
                        .at(span())
                        .help("declare its columns under `columns:`"),
                );
            }
            for c in &t.columns {
                let cspan = || self.at(&[format!("{} column {}", tkey(), c.name), tkey()]);
                self.check_type(out, &c.data_type, &|| {
                    (cspan(), format!("column `{}` of `{}`", c.name, t.name))
                });
                if let Some(d) = &c.default {
                    self.check_refs(out, &d.refs, &|| {
                        (cspan(), format!("the default of `{}.{}`", t.name, c.name))
                    });
                }
            }
            if let Some(pk) = &t.primary_key {
                self.check_columns(out, t, &pk.columns, &|| {
                    (span(), format!("the primary key of `{}`", t.name))
                });
            }
            for u in &t.uniques {
                let s = || self.at(&[format!("{} constraint {}", tkey(), u.name), tkey()]);
                self.check_columns(out, t, &u.columns, &|| {
                    (s(), format!("unique constraint `{}`", u.name))
                });
            }
            for c in &t.checks {
                let s = || self.at(&[format!("{} constraint {}", tkey(), c.name), tkey()]);
                self.check_refs(out, &c.expr.refs, &|| (s(), format!("check `{}`", c.name)));
            }
            for fk in &t.foreign_keys {
                let s = || self.at(&[format!("{} constraint {}", tkey(), fk.name), tkey()]);
                self.check_columns(out, t, &fk.columns, &|| {
                    (s(), format!("foreign key `{}`", fk.name))
                });
                match self.state.tables.get(&fk.ref_table) {
                    Some(rt) => {
                        if fk.ref_columns.is_empty() {
                            out.push(Diagnostic::error("E108", format!("foreign key `{}` references `{}`, which has no primary key", fk.name, rt.name)).at(s()).help("name the referenced columns with `ref_columns`"));
                        } else {
                            self.check_columns(out, rt, &fk.ref_columns, &|| {
                                (s(), format!("foreign key `{}`", fk.name))
                            });
                            let is_key = rt
                                .primary_key
                                .as_ref()
                                .is_some_and(|pk| pk.columns == fk.ref_columns)
                                || rt.uniques.iter().any(|u| u.columns == fk.ref_columns)
                                || rt.indexes.iter().any(|i| {
                                    i.unique && i.predicate.is_none() && i.columns == fk.ref_columns
                                });
                            if !is_key {
                                out.push(Diagnostic::error("E108", format!("foreign key `{}` references ({}) of `{}`, which is not a primary key or unique constraint", fk.name, fk.ref_columns.join(", "), rt.name)).at(s()).help("reference the primary key, or declare a unique constraint on those columns"));
                            }
                        }
                        if fk.columns.len() != fk.ref_columns.len() && !fk.ref_columns.is_empty() {
                            out.push(
                                Diagnostic::error(
                                    "E108",
                                    format!(
                                        "foreign key `{}` has {} columns but references {}",
                                        fk.name,
                                        fk.columns.len(),
                                        fk.ref_columns.len()
                                    ),
                                )
                                .at(s())
                                .help("list as many referenced columns as columns"),
                            );
                        }
                    }
                    None if self.owned_schema(&fk.ref_table.schema)
                        || !self.schema_exists(&fk.ref_table.schema) =>
                    {
                        let known: Vec<String> =
                            self.state.tables.keys().map(|k| k.to_string()).collect();
                        let help = suggest(
                            &fk.ref_table.to_string(),
                            known.iter().map(String::as_str),
                            "declare the referenced table",
                        );
                        out.push(
                            Diagnostic::error(
                                "E103",
                                format!(
                                    "foreign key `{}` references table `{}`, which is not declared",
                                    fk.name, fk.ref_table
                                ),
                            )
                            .at(s())
                            .help(help),
                        );
                    }
                    None => {}
                }
            }
            for i in &t.indexes {
                let s = || self.at(&[format!("index {}.{}", t.name.schema, i.name), tkey()]);
                self.check_columns(out, t, &i.columns, &|| (s(), format!("index `{}`", i.name)));
                if let Some(p) = &i.predicate {
                    self.check_refs(out, &p.refs, &|| {
                        (s(), format!("the predicate of index `{}`", i.name))
                    });
                }
            }
            for p in &t.policies {
                let s = || self.at(&[format!("{} policy {}", tkey(), p.name), tkey()]);
                for r in &p.roles {
                    self.check_role(out, r, &|| (s(), format!("policy `{}`", p.name)));
                }
                for e in p.using.iter().chain(p.with_check.iter()) {
                    self.check_refs(out, &e.refs, &|| (s(), format!("policy `{}`", p.name)));
                }
            }
            if !t.policies.is_empty() && !t.rls_enabled {
                out.push(
                    Diagnostic::error(
                        "E110",
                        format!(
                            "table `{}` has policies but row-level security is not enabled",
                            t.name
                        ),
                    )
                    .at(span())
                    .help("add `rls: true`; without it PostgreSQL ignores the policies"),
                );
            }
            for g in &t.grants {
                self.check_role(out, &g.grantee, &|| {
                    (span(), format!("a grant on `{}`", t.name))
                });
                if !g.columns.is_empty() {
                    self.check_columns(out, t, &g.columns, &|| {
                        (span(), format!("a column grant on `{}`", t.name))
                    });
                }
            }
            for tr in &t.triggers {
                let s = || {
                    self.at(&[
                        format!("{} trigger {} function", tkey(), tr.name),
                        format!("{} trigger {}", tkey(), tr.name),
                        tkey(),
                    ])
                };
                let candidates: Vec<&Function> = self
                    .state
                    .functions
                    .iter()
                    .filter(|(k, f)| k.name == tr.function.name && f.identity_types().is_empty())
                    .map(|(_, f)| &**f)
                    .collect();
                match candidates.first() {
                    Some(f) if f.returns == Returns::Trigger => {}
                    Some(_) => out.push(
                        Diagnostic::error(
                            "E111",
                            format!(
                                "trigger `{}` calls `{}`, which does not return trigger",
                                tr.name, tr.function.name
                            ),
                        )
                        .at(s())
                        .help("declare the function with `returns: trigger`"),
                    ),
                    None if !self.owned_schema(&tr.function.name.schema)
                        && self.schema_exists(&tr.function.name.schema) => {}
                    None => {
                        let known: Vec<String> = self
                            .state
                            .functions
                            .keys()
                            .map(|k| k.name.to_string())
                            .collect();
                        let help = suggest(
                            &tr.function.name.to_string(),
                            known.iter().map(String::as_str),
                            "declare a function without arguments that returns trigger",
                        );
                        out.push(
                            Diagnostic::error(
                                "E104",
                                format!(
                                    "trigger `{}` calls function `{}`, which is not declared",
                                    tr.name, tr.function.name
                                ),
                            )
                            .at(s())
                            .help(help),
                        );
                    }
                }
                if let Some(w) = &tr.when {
                    self.check_refs(out, &w.refs, &|| {
                        (
                            self.at(&[format!("{} trigger {}", tkey(), tr.name)]),
                            format!("the condition of trigger `{}`", tr.name),
                        )
                    });
                }
            }
        }
    }

    fn functions(&self, out: &mut Vec<Diagnostic>) {
        for (key, f) in &self.state.functions {
            let span = self.at(&[function_origin(key)]);
            let ctx = format!("function `{key}`");
            self.check_schema(out, &f.name.schema, &|| (span.clone(), ctx.to_string()));
            for a in &f.args {
                self.check_type(out, &a.data_type, &|| (span.clone(), ctx.to_string()));
                if let Some(d) = &a.default {
                    self.check_refs(out, &d.refs, &|| (span.clone(), ctx.to_string()));
                }
            }
            match &f.returns {
                Returns::Type(t) | Returns::SetOf(t) => {
                    self.check_type(out, t, &|| (span.clone(), ctx.to_string()))
                }
                Returns::Table(cols) => {
                    for c in cols {
                        self.check_type(out, &c.data_type, &|| (span.clone(), ctx.to_string()));
                    }
                }
                Returns::Trigger | Returns::Void => {}
            }
            if f.returns == Returns::Trigger && !f.args.is_empty() {
                out.push(Diagnostic::error("E112", format!("trigger function `{key}` declares arguments")).at(span.clone()).help("trigger functions take no declared arguments; pass trigger `args` and read TG_ARGV"));
            }
            let mut seen_default = false;
            for a in f.args.iter().filter(|a| a.mode != "OUT") {
                if a.default.is_some() {
                    seen_default = true;
                } else if seen_default {
                    out.push(Diagnostic::error("E113", format!("in `{key}`, an argument without a default follows one with a default")).at(span.clone()).help("give every argument after the first default a default too"));
                    break;
                }
            }
            if f.language == "sql" {
                self.check_refs(out, &f.body_refs, &|| {
                    (
                        self.at(&[function_origin(key)]),
                        format!("the body of `{key}`"),
                    )
                });
            }
            if let Some(o) = &f.owner {
                self.check_role(out, o, &|| (span.clone(), format!("the owner of `{key}`")));
            }
            if let Some(path) = &f.search_path {
                for s in path {
                    self.check_schema(out, s, &|| {
                        (span.clone(), format!("the search_path of `{key}`"))
                    });
                }
            }
            self.check_grants(out, &f.grants, &|| {
                (span.clone(), format!("a grant on `{key}`"))
            });
        }
        // Overloads a call could not tell apart.
        let overloads: Vec<(&FunctionKey, &Function)> = self
            .state
            .functions
            .iter()
            .filter(|(k, _)| k.overload.is_some())
            .map(|(k, f)| (k, &**f))
            .collect();
        for (i, (ka, fa)) in overloads.iter().enumerate() {
            for (kb, fb) in &overloads[i + 1..] {
                if ka.name == kb.name && ambiguous(fa, fb) {
                    out.push(
                        Diagnostic::error("E044", format!("overloads `{ka}` and `{kb}` cannot be told apart by a call"))
                            .at(self.at(&[function_origin(kb)]))
                            .help("a call giving only the shared leading arguments matches both; remove a default or change an argument type"),
                    );
                }
            }
        }
    }

    fn default_privileges(&self, out: &mut Vec<Diagnostic>) {
        for dp in self.state.default_privileges.values() {
            let span = self.at(&[super::default_privilege_key(&dp.key)]);
            self.check_role(out, &dp.key.for_role, &|| {
                (span.clone(), "default privileges `for_role`".to_string())
            });
            self.check_role(out, &dp.key.grantee, &|| {
                (span.clone(), "default privileges `to`".to_string())
            });
            if let Some(s) = &dp.key.in_schema {
                self.check_schema(out, s, &|| {
                    (span.clone(), "default privileges `in_schema`".to_string())
                });
            }
        }
    }

    fn rows(&self, out: &mut Vec<Diagnostic>) {
        for row in self.state.rows.values() {
            let span = self.at(&[super::row_key(&row.key)]);
            match self.state.tables.get(&row.key.table) {
                Some(t) => {
                    let cols: Vec<String> = row.values.iter().map(|(c, _)| c.clone()).collect();
                    self.check_columns(out, t, &cols, &|| {
                        (span.clone(), format!("a row of `{}`", t.name))
                    });
                }
                None => out.push(
                    Diagnostic::error(
                        "E103",
                        format!(
                            "rows are declared for table `{}`, which is not declared",
                            row.key.table
                        ),
                    )
                    .at(span)
                    .help("declare the table, or fix the name"),
                ),
            }
        }
    }
}

/// Whether some call matches both overloads: the calls of `a` are its required arguments
/// plus any number of its defaulted ones; same for `b`.
fn ambiguous(a: &Function, b: &Function) -> bool {
    let ta = a.identity_types();
    let tb = b.identity_types();
    let required = |f: &Function| {
        f.args
            .iter()
            .filter(|x| x.mode != "OUT" && x.default.is_none())
            .count()
    };
    let lo = required(a).max(required(b));
    let hi = ta.len().min(tb.len());
    lo <= hi && ta[..lo] == tb[..lo] && (lo..=hi).any(|n| ta[..n] == tb[..n])
}
