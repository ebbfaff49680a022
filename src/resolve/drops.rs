//! Resolve a layer's `drop:` section: objects declared by earlier layers are removed from
//! the state (a table's parts are dropped in its patch, see `table`).

use crate::catalog::*;
use crate::diagnostic::suggest;
use crate::spec::{self, Spanned};

use super::Resolver;

impl Resolver<'_> {
    pub(super) fn drops(&mut self, d: &spec::DropSpec) {
        for n in &d.roles {
            let found = self.state.roles.remove(&n.value).is_some();
            self.dropped(found, n, "role", self.state.roles.keys().cloned().collect());
        }
        for n in &d.schemas {
            let found = self.state.schemas.remove(&n.value).is_some();
            self.dropped(
                found,
                n,
                "schema",
                self.state.schemas.keys().cloned().collect(),
            );
        }
        for n in &d.extensions {
            let found = self.state.extensions.remove(&n.value).is_some();
            self.dropped(
                found,
                n,
                "extension",
                self.state.extensions.keys().cloned().collect(),
            );
        }
        for n in &d.enums {
            let Some(q) = self.qname(n) else { continue };
            let found = self.state.enums.remove(&q).is_some();
            self.dropped(
                found,
                n,
                "enum",
                self.state.enums.keys().map(|k| k.to_string()).collect(),
            );
        }
        for n in &d.sequences {
            let Some(q) = self.qname(n) else { continue };
            let found = self.state.sequences.remove(&q).is_some();
            self.dropped(
                found,
                n,
                "sequence",
                self.state.sequences.keys().map(|k| k.to_string()).collect(),
            );
        }
        for n in &d.tables {
            let Some(q) = self.qname(n) else { continue };
            let span = self.span(n);
            self.transition
                .causes
                .insert(Loss::Table { table: q.clone() }, span);
            let found = self.state.tables.remove(&q).is_some();
            self.state.rows.retain(|k, _| k.table != q);
            self.dropped(
                found,
                n,
                "table",
                self.state.tables.keys().map(|k| k.to_string()).collect(),
            );
        }
        for n in &d.views {
            let Some(q) = self.qname(n) else { continue };
            let found = self.state.views.remove(&q).is_some();
            self.dropped(
                found,
                n,
                "view",
                self.state.views.keys().map(|k| k.to_string()).collect(),
            );
        }
        for n in &d.functions {
            let before = self.state.functions.len();
            let text = n.value.clone();
            self.state.functions.retain(|k, _| {
                k.to_string() != text && !(k.overload.is_none() && k.name.to_string() == text)
            });
            let found = self.state.functions.len() != before;
            self.dropped(
                found,
                n,
                "function",
                self.state.functions.keys().map(|k| k.to_string()).collect(),
            );
        }
        for dp in &d.default_privileges {
            let Some(object_type) = ["tables", "sequences", "functions", "types", "schemas"]
                .iter()
                .find(|t| t.eq_ignore_ascii_case(&dp.value.on))
                .map(|t| t.to_ascii_uppercase())
            else {
                let sp = self.span(dp);
                self.err(
                    "E062",
                    sp,
                    format!("`{}` is not a default privilege object type", dp.value.on),
                    "use tables, sequences, functions, types or schemas",
                );
                continue;
            };
            for to in &dp.value.to {
                let grantee = if to.eq_ignore_ascii_case("public") {
                    "PUBLIC".to_string()
                } else {
                    to.clone()
                };
                let key = DefaultPrivilegeKey {
                    for_role: dp.value.for_role.clone(),
                    in_schema: dp.value.in_schema.clone(),
                    object_type: object_type.clone(),
                    grantee,
                };
                if self.state.default_privileges.remove(&key).is_none() {
                    let sp = self.span(dp);
                    self.err(
                        "E036",
                        sp,
                        format!("no earlier layer declares default privileges for `{to}` here"),
                        "check for_role, in_schema, on and to against the declaration",
                    );
                }
            }
        }
        for r in &d.rows {
            let Ok(table) = QName::parse(&r.value.table) else {
                let sp = self.span(r);
                self.err(
                    "E021",
                    sp,
                    format!("invalid table name `{}`", r.value.table),
                    "write it as `schema.table`",
                );
                continue;
            };
            let key: Vec<(String, Option<String>)> = r
                .value
                .key
                .iter()
                .map(|(k, v)| (k.clone(), v.as_ref().map(spec::ScalarValue::as_text)))
                .collect();
            let found = self
                .state
                .rows
                .keys()
                .find(|rk| {
                    rk.table == table && {
                        let mut a = rk.key.clone();
                        a.sort();
                        a == key
                    }
                })
                .cloned();
            match found {
                Some(k) => {
                    self.state.rows.remove(&k);
                }
                None => {
                    let sp = self.span(r);
                    self.err(
                        "E036",
                        sp,
                        format!("no earlier layer declares a row of `{table}` with this key"),
                        "give the key columns and values exactly as declared",
                    );
                }
            }
        }
    }

    fn dropped(&mut self, found: bool, n: &Spanned<String>, what: &str, known: Vec<String>) {
        if found {
            return;
        }
        let help = suggest(
            &n.value,
            known.iter().map(String::as_str),
            format!("only a {what} declared by an earlier layer can be dropped"),
        );
        let sp = self.span(n);
        self.err(
            "E036",
            sp,
            format!(
                "cannot drop {what} `{}`: no earlier layer declares it",
                n.value
            ),
            help,
        );
    }
}
