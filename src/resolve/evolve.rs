//! Resolve what a layer says about evolution: renames (`renamed_from`, `rename_values`), enum
//! values that change, and acknowledgements of data loss (`accept_data_loss`). Renames are
//! applied to the working state at once, so the rest of the layer sees the new names; each
//! one is also recorded in the layer's [`Transition`] for the differ.

use crate::catalog::*;
use crate::diagnostic::suggest;
use crate::spec::{self, Spanned};

use super::Resolver;

/// The kinds of object renamed by a schema-qualified name.
#[derive(Clone, Copy)]
pub(super) enum Named {
    Table,
    View,
    Enum,
}

impl Named {
    fn word(self) -> &'static str {
        match self {
            Named::Table => "table",
            Named::View => "view",
            Named::Enum => "enum",
        }
    }

    fn names(self, cat: &Catalog) -> Vec<QName> {
        match self {
            Named::Table => cat.tables.keys().cloned().collect(),
            Named::View => cat.views.keys().cloned().collect(),
            Named::Enum => cat.enums.keys().cloned().collect(),
        }
    }

    fn op(self, from: QName, to: QName) -> Rename {
        match self {
            Named::Table => Rename::Table { from, to },
            Named::View => Rename::View { from, to },
            Named::Enum => Rename::Enum { from, to },
        }
    }
}

impl Resolver<'_> {
    /// Apply and record a rename, after checking that it can run: the old name exists in the
    /// previous state, the new one does not, and both are in the same schema.
    pub(super) fn rename(&mut self, kind: Named, from: &Spanned<String>, to: &QName) -> bool {
        let span = self.span(from);
        let Some(old) = self.qname(from) else {
            return false;
        };
        let names = kind.names(&self.state);
        let word = kind.word();
        if old.schema != to.schema {
            self.err(
                "E027",
                span,
                format!("{word} `{old}` cannot be renamed to `{to}`: renames stay within a schema"),
                "rename it within its schema, or declare the new object and drop the old one (with `accept_data_loss`)",
            );
            return false;
        }
        if !names.contains(&old) {
            let known: Vec<String> = names.iter().map(ToString::to_string).collect();
            let help = suggest(
                &old.to_string(),
                known.iter().map(String::as_str),
                format!("`renamed_from` names a {word} declared by an earlier layer"),
            );
            self.err(
                "E026",
                span,
                format!("`renamed_from`: no earlier layer declares {word} `{old}`"),
                help,
            );
            return false;
        }
        if names.contains(to) {
            self.err(
                "E027",
                span,
                format!("{word} `{old}` cannot be renamed to `{to}`: `{to}` already exists"),
                format!("drop `{to}` in an earlier layer, or remove `renamed_from`"),
            );
            return false;
        }
        self.apply_rename(kind.op(old, to.clone()));
        true
    }

    /// Rename a part of a table (a column or a policy) the previous state has.
    pub(super) fn rename_part(
        &mut self,
        table: &QName,
        from: &Spanned<String>,
        to: &str,
        policy: bool,
    ) {
        let span = self.span(from);
        let word = if policy { "policy" } else { "column" };
        let Some(t) = self.state.tables.get(table) else {
            self.err(
                "E026",
                span,
                format!("`renamed_from` on a {word} of `{table}`, which no earlier layer declares"),
                "a rename changes an object declared by an earlier layer",
            );
            return;
        };
        let names: Vec<String> = if policy {
            t.policies.iter().map(|p| p.name.clone()).collect()
        } else {
            t.columns.iter().map(|c| c.name.clone()).collect()
        };
        if !names.contains(&from.value) {
            let help = suggest(
                &from.value,
                names.iter().map(String::as_str),
                format!("`{table}` has no {word} of that name"),
            );
            self.err(
                "E026",
                span,
                format!("`renamed_from`: `{table}` has no {word} `{}`", from.value),
                help,
            );
            return;
        }
        if names.iter().any(|n| n == to) {
            self.err(
                "E027",
                span,
                format!(
                    "{word} `{}` of `{table}` cannot be renamed to `{to}`: that {word} exists",
                    from.value
                ),
                format!("drop the {word} `{to}` in an earlier layer, or remove `renamed_from`"),
            );
            return;
        }
        let op = if policy {
            Rename::Policy {
                table: table.clone(),
                from: from.value.clone(),
                to: to.to_string(),
            }
        } else {
            Rename::Column {
                table: table.clone(),
                from: from.value.clone(),
                to: to.to_string(),
            }
        };
        self.apply_rename(op);
    }

    pub(super) fn apply_rename(&mut self, op: Rename) {
        op.apply(&mut self.state);
        self.transition.renames.push(op);
    }

    pub(super) fn enum_type(&mut self, s: &spec::EnumSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.qname(&s.name) else {
            return;
        };
        if !self.declare(format!("type {name}"), &span, || format!("enum `{name}`")) {
            return;
        }
        if let Some(from) = &s.renamed_from {
            self.rename(Named::Enum, from, &name);
        }
        let mut values = Vec::new();
        for v in &s.values {
            if values.contains(&v.value) {
                let sp = self.span(v);
                self.err(
                    "E023",
                    sp,
                    format!("enum value `{}` is listed twice", v.value),
                    "list each value once",
                );
            } else if v.value.is_empty() || v.value.len() > ident::MAX_IDENT_BYTES {
                let sp = self.span(v);
                self.err(
                    "E023",
                    sp,
                    format!("enum value `{}` must be 1 to 63 bytes", v.value),
                    "shorten the value",
                );
            } else {
                values.push(v.value.clone());
            }
        }
        for (old, new) in &s.rename_values {
            let sp = self.span(new);
            let Some(prev) = self.state.enums.get(&name) else {
                self.err(
                    "E026",
                    sp,
                    format!("`rename_values` on enum `{name}`, which no earlier layer declares"),
                    "renaming values changes an enum declared by an earlier layer",
                );
                break;
            };
            if !prev.values.contains(old) {
                let help = suggest(
                    old,
                    prev.values.iter().map(String::as_str),
                    format!("the values of `{name}` are: {}", prev.values.join(", ")),
                );
                self.err(
                    "E026",
                    sp,
                    format!("`rename_values`: enum `{name}` has no value `{old}`"),
                    help,
                );
            } else if prev.values.contains(&new.value) {
                self.err(
                    "E027",
                    sp,
                    format!(
                        "value `{old}` of `{name}` cannot be renamed to `{}`: that value exists",
                        new.value
                    ),
                    "rename to a new value",
                );
            } else if !values.contains(&new.value) {
                self.err(
                    "E027",
                    sp,
                    format!(
                        "`rename_values` renames `{old}` to `{}`, which is not in `values`",
                        new.value
                    ),
                    "list the new name in `values`, where the value should be",
                );
            } else {
                self.apply_rename(Rename::EnumValue {
                    enum_name: name.clone(),
                    from: old.clone(),
                    to: new.value.clone(),
                });
            }
        }
        if let Some(prev) = self.state.enums.get(&name) {
            for v in prev.values.iter().filter(|v| !values.contains(v)) {
                self.transition.causes.insert(
                    Loss::EnumValue {
                        enum_name: name.clone(),
                        value: v.clone(),
                    },
                    span.clone(),
                );
            }
        }
        self.state.enums.insert(
            name.clone(),
            Enum {
                name,
                values,
                comment: s.comment.clone(),
            },
        );
    }

    /// `accept_data_loss:` entries (after everything else, so enum values are known).
    pub(super) fn accept_data_loss(&mut self, list: &[Spanned<spec::DataLossSpec>]) {
        for entry in list {
            let span = self.span(entry);
            let a = &entry.value;
            let given = [&a.table, &a.column, &a.enum_value]
                .iter()
                .filter(|x| x.is_some())
                .count();
            if given != 1 {
                self.err(
                    "E029",
                    span,
                    "an `accept_data_loss` entry names exactly one of `table`, `column` or `enum_value`",
                    "write one entry per object, e.g. `- column: app.tickets.legacy_notes`",
                );
                continue;
            }
            if a.replace_with.is_some() && a.enum_value.is_none() {
                self.err(
                    "E029",
                    span,
                    "`replace_with` applies to a removed enum value only",
                    "remove `replace_with`, or acknowledge an `enum_value`",
                );
                continue;
            }
            let loss = if let Some(t) = &a.table {
                let Some(table) = self.qname(t) else { continue };
                Loss::Table { table }
            } else if let Some(c) = &a.column {
                let Some((table, column)) = self.dotted(c, "column", "app.tickets.notes") else {
                    continue;
                };
                Loss::Column { table, column }
            } else if let Some(v) = &a.enum_value {
                let Some((enum_name, value)) = self.dotted(v, "enum value", "app.status.archived")
                else {
                    continue;
                };
                if let Some(rep) = &a.replace_with {
                    let sp = self.span(rep);
                    let values = self
                        .state
                        .enums
                        .get(&enum_name)
                        .map(|e| e.values.clone())
                        .unwrap_or_default();
                    if !values.contains(&rep.value) {
                        let help = suggest(
                            &rep.value,
                            values.iter().map(String::as_str),
                            format!("`replace_with` names a value `{enum_name}` keeps"),
                        );
                        self.err(
                            "E029",
                            sp,
                            format!("`replace_with`: `{}` is not a value of `{enum_name}` after this layer", rep.value),
                            help,
                        );
                        continue;
                    }
                    self.transition
                        .enum_replacements
                        .insert((enum_name.clone(), value.clone()), rep.value.clone());
                }
                Loss::EnumValue { enum_name, value }
            } else {
                continue;
            };
            self.transition.acks.push(Ack { loss, span });
        }
    }

    /// `schema.object.part` → (`schema.object`, `part`).
    fn dotted(
        &mut self,
        s: &Spanned<String>,
        what: &str,
        example: &str,
    ) -> Option<(QName, String)> {
        let parsed = QName::parse_member(&s.value).ok();
        if parsed.is_none() {
            let span = self.span(s);
            self.err(
                "E029",
                span,
                format!("`{}` is not a {what} name", s.value),
                format!("write it as `{example}`"),
            );
        }
        parsed
    }
}

impl Resolver<'_> {
    /// `renamed_from` on a function: the earlier function of that name (the overload with
    /// the same argument types, for overloads) takes the new name.
    pub(super) fn rename_function(&mut self, from: &Spanned<String>, to: &FunctionKey) {
        let span = self.span(from);
        let Some(old) = self.qname(from) else {
            return;
        };
        if old.schema != to.name.schema {
            self.err(
                "E027",
                span,
                format!(
                    "function `{old}` cannot be renamed to `{}`: renames stay within a schema",
                    to.name
                ),
                "rename it within its schema, or declare the new function and drop the old one",
            );
            return;
        }
        let old_key = FunctionKey {
            name: old.clone(),
            overload: to.overload.clone(),
        };
        if !self.state.functions.contains_key(&old_key) {
            let known: Vec<String> = self.state.functions.keys().map(|k| k.to_string()).collect();
            let help = suggest(&old_key.to_string(), known.iter().map(String::as_str), "`renamed_from` names a function declared by an earlier layer (for an overload, with the same argument types)");
            self.err(
                "E026",
                span,
                format!("`renamed_from`: no earlier layer declares function `{old_key}`"),
                help,
            );
            return;
        }
        if self.state.functions.keys().any(|k| k.name == to.name) {
            self.err(
                "E027",
                span,
                format!(
                    "function `{old}` cannot be renamed to `{}`: a function of that name exists",
                    to.name
                ),
                format!(
                    "drop `{}` in an earlier layer, or remove `renamed_from`",
                    to.name
                ),
            );
            return;
        }
        self.apply_rename(Rename::Function {
            from: old_key,
            to: to.clone(),
        });
    }
}
