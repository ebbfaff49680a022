//! Transitions: what a layer says about getting from the previous state to the next that the
//! states themselves cannot express.
//! - Renames (a renamed table and a new table with the old one dropped look the same). A
//!   layer declares them (`renamed_from`); they are applied to the previous state before
//!   diffing, so everything else compares by the new names, and emitted first as
//!   `ALTER ... RENAME`. The rollback runs the inverse.
//! - How values convert when a column's type changes (`using`).
//! - Which losses of data the layer accepts (`accept_data_loss`), and where each object whose
//!   data could be lost was touched, for messages.

use std::collections::BTreeMap;

use serde::Serialize;

use super::*;
use crate::diagnostic::Span;

/// Data a change destroys.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Loss {
    Table { table: QName },
    Column { table: QName, column: String },
    EnumValue { enum_name: QName, value: String },
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Table { table } => write!(f, "table `{table}`"),
            Loss::Column { table, column } => write!(f, "column `{table}.{column}`"),
            Loss::EnumValue { enum_name, value } => {
                write!(f, "value `{value}` of enum `{enum_name}`")
            }
        }
    }
}

impl Loss {
    /// How to acknowledge it under `accept_data_loss:`.
    pub fn ack_hint(&self) -> String {
        match self {
            Loss::Table { table } => format!("- table: {table}"),
            Loss::Column { table, column } => format!("- column: {table}.{column}"),
            Loss::EnumValue { enum_name, value } => format!("- enum_value: {enum_name}.{value}"),
        }
    }
}

/// One `accept_data_loss` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Ack {
    pub loss: Loss,
    pub span: Span,
}

/// Everything a layer adds to the pair (previous state, next state).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transition {
    pub renames: Vec<Rename>,
    /// `USING` expressions of columns whose type changes, by (table, column).
    pub usings: BTreeMap<(QName, String), Expr>,
    /// Removed enum values and the value their rows get instead.
    pub enum_replacements: BTreeMap<(QName, String), String>,
    pub acks: Vec<Ack>,
    /// Where the layer touched each object whose data a change could destroy.
    pub causes: BTreeMap<Loss, Span>,
}

impl Transition {
    /// The transition of the rollback: renames undone; conversions by plain casts.
    pub fn inverse(&self) -> Transition {
        Transition {
            renames: inverse_all(&self.renames),
            ..Transition::default()
        }
    }

    /// Where `loss` was caused, falling back to the object that owns it.
    pub fn cause(&self, loss: &Loss) -> Option<&Span> {
        self.causes.get(loss).or_else(|| match loss {
            Loss::Column { table, .. } => self.causes.get(&Loss::Table {
                table: table.clone(),
            }),
            _ => None,
        })
    }
}

/// One rename, in the order it runs. Parts (columns, enum values, policies) name their owner
/// by the owner's name at that moment, so a list is inverted by reversing it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rename {
    Table {
        from: QName,
        to: QName,
    },
    View {
        from: QName,
        to: QName,
    },
    Enum {
        from: QName,
        to: QName,
    },
    Function {
        from: FunctionKey,
        to: FunctionKey,
    },
    Column {
        table: QName,
        from: String,
        to: String,
    },
    EnumValue {
        enum_name: QName,
        from: String,
        to: String,
    },
    Policy {
        table: QName,
        from: String,
        to: String,
    },
}

impl Rename {
    /// The same rename, backwards.
    pub fn inverse(&self) -> Rename {
        match self.clone() {
            Rename::Table { from, to } => Rename::Table { from: to, to: from },
            Rename::View { from, to } => Rename::View { from: to, to: from },
            Rename::Enum { from, to } => Rename::Enum { from: to, to: from },
            Rename::Function { from, to } => Rename::Function { from: to, to: from },
            Rename::Column { table, from, to } => Rename::Column {
                table,
                from: to,
                to: from,
            },
            Rename::EnumValue {
                enum_name,
                from,
                to,
            } => Rename::EnumValue {
                enum_name,
                from: to,
                to: from,
            },
            Rename::Policy { table, from, to } => Rename::Policy {
                table,
                from: to,
                to: from,
            },
        }
    }

    /// Apply the rename to a state. Definitions that name the object structurally (foreign
    /// keys, column types, trigger functions, key columns, rows) follow; SQL text does not
    /// (PostgreSQL follows by OID, and the next state carries the text the user wrote).
    pub fn apply(&self, cat: &mut Catalog) {
        match self {
            Rename::Table { from, to } => {
                if let Some(mut t) = cat.tables.remove(from) {
                    Arc::make_mut(&mut t).name = to.clone();
                    cat.tables.insert(to.clone(), t);
                }
                for t in cat.tables.values_mut() {
                    if t.foreign_keys.iter().any(|fk| &fk.ref_table == from) {
                        for fk in &mut Arc::make_mut(t).foreign_keys {
                            if &fk.ref_table == from {
                                fk.ref_table = to.clone();
                            }
                        }
                    }
                }
                retype(cat, from, to);
                cat.rows = std::mem::take(&mut cat.rows)
                    .into_iter()
                    .map(|(mut k, mut row)| {
                        if &k.table == from {
                            k.table = to.clone();
                            row.key.table = to.clone();
                        }
                        (k, row)
                    })
                    .collect();
            }
            Rename::View { from, to } => {
                if let Some(mut v) = cat.views.remove(from) {
                    Arc::make_mut(&mut v).name = to.clone();
                    cat.views.insert(to.clone(), v);
                }
            }
            Rename::Enum { from, to } => {
                if let Some(mut e) = cat.enums.remove(from) {
                    e.name = to.clone();
                    cat.enums.insert(to.clone(), e);
                }
                retype(cat, from, to);
            }
            Rename::Function { from, to } => {
                if let Some(mut f) = cat.functions.remove(from) {
                    Arc::make_mut(&mut f).name = to.name.clone();
                    cat.functions.insert(to.clone(), f);
                }
                for t in cat.tables.values_mut() {
                    if t.triggers.iter().any(|tr| &tr.function == from) {
                        for tr in &mut Arc::make_mut(t).triggers {
                            if &tr.function == from {
                                tr.function = to.clone();
                            }
                        }
                    }
                }
            }
            Rename::Column { table, from, to } => {
                let swap = |c: &mut String| {
                    if c == from {
                        c.clone_from(to);
                    }
                };
                if let Some(t) = cat.tables.get_mut(table) {
                    let t = Arc::make_mut(t);
                    for c in &mut t.columns {
                        swap(&mut c.name);
                    }
                    for k in t.primary_key.iter_mut().chain(&mut t.uniques) {
                        k.columns.iter_mut().for_each(swap);
                    }
                    for i in &mut t.indexes {
                        i.columns.iter_mut().for_each(swap);
                    }
                    for fk in &mut t.foreign_keys {
                        fk.columns.iter_mut().for_each(swap);
                    }
                    for g in &mut t.grants {
                        g.columns.iter_mut().for_each(swap);
                    }
                }
                for t in cat.tables.values_mut() {
                    if t.foreign_keys.iter().any(|fk| &fk.ref_table == table) {
                        for fk in &mut Arc::make_mut(t).foreign_keys {
                            if &fk.ref_table == table {
                                fk.ref_columns.iter_mut().for_each(swap);
                            }
                        }
                    }
                }
                cat.rows = std::mem::take(&mut cat.rows)
                    .into_iter()
                    .map(|(mut k, mut row)| {
                        if &k.table == table {
                            for (c, _) in k.key.iter_mut().chain(&mut row.key.key) {
                                swap(c);
                            }
                            for (c, _) in &mut row.values {
                                swap(c);
                            }
                            row.values.sort();
                        }
                        (k, row)
                    })
                    .collect();
            }
            Rename::EnumValue {
                enum_name,
                from,
                to,
            } => {
                if let Some(e) = cat.enums.get_mut(enum_name) {
                    for v in &mut e.values {
                        if v == from {
                            v.clone_from(to);
                        }
                    }
                }
            }
            Rename::Policy { table, from, to } => {
                if let Some(t) = cat.tables.get_mut(table) {
                    for p in &mut Arc::make_mut(t).policies {
                        if &p.name == from {
                            p.name.clone_from(to);
                        }
                    }
                }
            }
        }
    }
}

/// Apply renames in order (without copying the state when there are none).
pub fn apply_all<'c>(renames: &[Rename], cat: &'c Catalog) -> std::borrow::Cow<'c, Catalog> {
    if renames.is_empty() {
        return std::borrow::Cow::Borrowed(cat);
    }
    let mut out = cat.clone();
    for r in renames {
        r.apply(&mut out);
    }
    std::borrow::Cow::Owned(out)
}

/// The renames that undo `renames`.
pub fn inverse_all(renames: &[Rename]) -> Vec<Rename> {
    renames.iter().rev().map(Rename::inverse).collect()
}

/// Point every use of the type `from` (columns, arguments, results) at `to`.
fn retype(cat: &mut Catalog, from: &QName, to: &QName) {
    let old_sql = format!("{}.{}", quote_ident(&from.schema), quote_ident(&from.name));
    let new_sql = format!("{}.{}", quote_ident(&to.schema), quote_ident(&to.name));
    let fix = |t: &mut TypeRef| {
        if t.user_type.as_ref() == Some(from) {
            let suffix = t.sql.strip_prefix(&old_sql).unwrap_or("").to_string();
            t.sql = format!("{new_sql}{suffix}");
            t.user_type = Some(to.clone());
        }
    };
    let uses = |t: &TypeRef| t.user_type.as_ref() == Some(from);
    for t in cat.tables.values_mut() {
        if t.columns.iter().any(|c| uses(&c.data_type)) {
            for c in &mut Arc::make_mut(t).columns {
                fix(&mut c.data_type);
            }
        }
    }
    for f in cat.functions.values_mut() {
        let returns = match &f.returns {
            Returns::Type(t) | Returns::SetOf(t) => uses(t),
            Returns::Table(cols) => cols.iter().any(|c| uses(&c.data_type)),
            Returns::Trigger | Returns::Void => false,
        };
        if !returns && !f.args.iter().any(|a| uses(&a.data_type)) {
            continue;
        }
        let f = Arc::make_mut(f);
        for a in &mut f.args {
            fix(&mut a.data_type);
        }
        match &mut f.returns {
            Returns::Type(t) | Returns::SetOf(t) => fix(t),
            Returns::Table(cols) => cols.iter_mut().for_each(|c| fix(&mut c.data_type)),
            Returns::Trigger | Returns::Void => {}
        }
    }
}
