//! PostgreSQL's own restrictions that a spec can break while every name resolves: reserved
//! names, one namespace for relations per schema, identity and sequence types, and what
//! triggers may do. Checked on the whole state after each layer, like `validate` (and, like
//! it, on the tables it names when the layer has no other errors).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use foldhash::fast::FixedState;

use crate::catalog::affected::{merge_join, Referrers};
use crate::catalog::*;
use crate::diagnostic::{Diagnostic, Span};

/// The integer types identities and sequences accept.
const SERIAL_TYPES: &[&str] = &["smallint", "integer", "bigint"];

/// The tables of `state` named by `only`, or all of them, in name order.
pub(super) fn tables<'a>(
    state: &'a Catalog,
    only: Option<&'a BTreeSet<&'a QName>>,
) -> Box<dyn Iterator<Item = &'a Table> + 'a> {
    match only {
        None => Box::new(state.tables.values().map(|t| &**t)),
        Some(names) => Box::new(
            names
                .iter()
                .filter_map(|q| state.tables.get(*q))
                .map(|t| &**t),
        ),
    }
}

/// `prev` is the state before the layer, `referrers` the index of its tables.
pub fn check(
    prev: &Catalog,
    state: &Catalog,
    referrers: &Referrers,
    only: Option<&BTreeSet<&QName>>,
    out: &mut Vec<Diagnostic>,
) {
    let at = |keys: &[String]| keys.iter().find_map(|k| state.origins.get(k).cloned());
    for r in state.roles.keys().filter(|r| r.starts_with("pg_")) {
        out.push(
            Diagnostic::error(
                "E117",
                format!(
                    "role name `{r}` is reserved: names starting with `pg_` belong to PostgreSQL"
                ),
            )
            .at(at(&[format!("role {r}")]))
            .help("choose a name that does not start with `pg_`"),
        );
    }
    for s in state.schemas.keys().filter(|s| s.starts_with("pg_")) {
        out.push(
            Diagnostic::error(
                "E117",
                format!(
                    "schema name `{s}` is reserved: names starting with `pg_` belong to PostgreSQL"
                ),
            )
            .at(at(&[format!("schema {s}")]))
            .help("choose a name that does not start with `pg_`"),
        );
    }
    if only.is_none() || may_share_names(prev, state, referrers) {
        relation_names(state, out, &at);
    }
    for s in state.sequences.values() {
        if !SERIAL_TYPES.contains(&s.data_type.sql.as_str()) {
            out.push(
                Diagnostic::error(
                    "E115",
                    format!(
                        "sequence `{}` has type {}; sequences are smallint, integer or bigint",
                        s.name, s.data_type.sql
                    ),
                )
                .at(at(&[format!("sequence {}", s.name)]))
                .help("use `type: bigint` (the default) or another integer type"),
            );
        }
    }
    for (key, f) in &state.functions {
        if f.returns == Returns::Trigger && f.language != "plpgsql" {
            out.push(
                Diagnostic::error("E112", format!("trigger function `{key}` is written in {}; PostgreSQL runs trigger functions in PL/pgSQL only here", f.language))
                    .at(at(&[format!("function {key}")]))
                    .help("use `language: plpgsql` and `RETURN NEW;` (or OLD / NULL)"),
            );
        }
    }
    for t in tables(state, only) {
        let tkey = || format!("table {}", t.name);
        for c in &t.columns {
            if c.identity.is_some() && !SERIAL_TYPES.contains(&c.data_type.sql.as_str()) {
                out.push(
                    Diagnostic::error("E115", format!("identity column `{}.{}` has type {}; identities are smallint, integer or bigint", t.name, c.name, c.data_type.sql))
                        .at(at(&[format!("{} column {}", tkey(), c.name), tkey()]))
                        .help("make the column an integer type, or use a default such as `gen_random_uuid()` instead of an identity"),
                );
            }
        }
        for tr in &t.triggers {
            let span = || at(&[format!("{} trigger {}", tkey(), tr.name), tkey()]);
            let mut bad = |msg: String, help: &str| {
                out.push(Diagnostic::error("E116", msg).at(span()).help(help));
            };
            if tr.timing == "INSTEAD OF" {
                bad(
                    format!(
                        "trigger `{}`: `{}` is a table, and INSTEAD OF triggers are for views",
                        tr.name, t.name
                    ),
                    "use `timing: before` or `after`",
                );
            }
            if tr.for_each_row && tr.events.iter().any(|e| e == "TRUNCATE") {
                bad(format!("trigger `{}` fires for each row on TRUNCATE, which PostgreSQL does not support", tr.name), "use `for_each: statement` for TRUNCATE triggers");
            }
            if !tr.for_each_row && tr.when.as_ref().is_some_and(|w| !w.refs.columns.is_empty()) {
                bad(format!("trigger `{}` runs for each statement, so its `when` cannot read column values (NEW, OLD)", tr.name), "use `for_each: row`, or test the condition inside the function");
            }
        }
    }
}

/// Whether a name that a table changed from `prev`, or a view or sequence, takes may be
/// used twice in its schema's relation namespace (every name was unique in `prev`, whose
/// tables `referrers` indexes). A quick test over borrowed names and the index's counts;
/// [`relation_names`] then finds and reports the clashes.
fn may_share_names(prev: &Catalog, state: &Catalog, referrers: &Referrers) -> bool {
    // How many more (or fewer) times each name is used than the index counts.
    let mut delta: HashMap<(&str, &str), i64, FixedState> = HashMap::default();
    merge_join(&prev.tables, &state.tables, |_, before, after| {
        for (t, step) in [(before, -1), (after, 1)] {
            let Some(t) = t else { continue };
            for name in t.relation_names() {
                *delta.entry((&t.name.schema, name)).or_default() += step;
            }
        }
    });
    // Views and sequences are not in the index.
    for q in state.views.keys().chain(state.sequences.keys()) {
        *delta.entry((&q.schema, &q.name)).or_default() += 1;
    }
    delta.iter().any(|(&(schema, name), &d)| {
        d > 0 && i64::from(referrers.relation_name_uses(schema, name)) + d > 1
    })
}

/// Tables, views, sequences, indexes and the indexes behind primary keys and unique
/// constraints share one namespace per schema.
fn relation_names(
    state: &Catalog,
    out: &mut Vec<Diagnostic>,
    at: &dyn Fn(&[String]) -> Option<Span>,
) {
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut add = |schema: &str, name: &str, what: String, span: Option<Span>| {
        let key = (schema.to_string(), name.to_string());
        match seen.get(&key) {
            Some(first) => out.push(
                Diagnostic::error("E109", format!("{what} is named `{name}`, like {first} in schema `{schema}`"))
                    .at(span)
                    .help("tables, views, sequences, indexes and the indexes of primary keys and unique constraints share one namespace per schema; rename one"),
            ),
            None => {
                seen.insert(key, what);
            }
        }
    };
    for t in state.tables.values() {
        let tkey = format!("table {}", t.name);
        add(
            &t.name.schema,
            &t.name.name,
            format!("table `{}`", t.name),
            at(&[tkey]),
        );
    }
    for v in state.views.values() {
        add(
            &v.name.schema,
            &v.name.name,
            format!("view `{}`", v.name),
            at(&[format!("view {}", v.name)]),
        );
    }
    for q in state.sequences.values() {
        add(
            &q.name.schema,
            &q.name.name,
            format!("sequence `{}`", q.name),
            at(&[format!("sequence {}", q.name)]),
        );
    }
    for t in state.tables.values() {
        let tkey = format!("table {}", t.name);
        let s = &t.name.schema;
        for k in t.primary_key.iter().chain(&t.uniques) {
            add(
                s,
                &k.name,
                format!("the index of constraint `{}` on `{}`", k.name, t.name),
                at(&[format!("{tkey} constraint {}", k.name), tkey.clone()]),
            );
        }
        for i in &t.indexes {
            add(
                s,
                &i.name,
                format!("index `{}` on `{}`", i.name, t.name),
                at(&[format!("index {s}.{}", i.name), tkey.clone()]),
            );
        }
    }
}
