//! The change kinds (verb + noun) and how each object is created, dropped or altered in place.
//! Drops carry the whole old object: the down side of a migration is rendered from them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::graph::{function_target, ColumnCore, Core, Object, TableCore, Target};
use crate::catalog::*;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateRole {
        role: Box<Role>,
    },
    AlterRole {
        role: Box<Role>,
    },
    DropRole {
        role: Box<Role>,
    },
    GrantMembership {
        group: String,
        member: String,
    },
    RevokeMembership {
        group: String,
        member: String,
    },
    CreateSchema {
        schema: Box<Schema>,
    },
    AlterSchemaOwner {
        name: String,
        owner: OwnerTo,
    },
    /// Grant (`true`) or revoke (`false`) the USAGE PostgreSQL gives PUBLIC on `public`.
    SetSchemaPublicAccess {
        name: String,
        granted: bool,
    },
    DropSchema {
        schema: Box<Schema>,
    },
    CreateExtension {
        extension: Extension,
    },
    DropExtension {
        extension: Extension,
    },
    GrantDefaultPrivileges {
        key: Box<DefaultPrivilegeKey>,
        privileges: BTreeSet<Privilege>,
    },
    RevokeDefaultPrivileges {
        key: Box<DefaultPrivilegeKey>,
        privileges: BTreeSet<Privilege>,
    },
    CreateEnum {
        enum_type: Box<Enum>,
    },
    /// `ALTER TYPE ... ADD VALUE`: cannot be used in the transaction that adds it, so the
    /// migration commits these first (see `migration`). Names are those before any rename of
    /// the same layer, since they run first.
    AddEnumValue {
        enum_name: QName,
        value: String,
        before: Option<String>,
        after: Option<String>,
    },
    /// Values removed or reordered: PostgreSQL cannot, so the type is built again under its
    /// name and every column using it converted (dependents were dropped before).
    RebuildEnum {
        enum_type: Box<Enum>,
        old_values: Vec<String>,
        /// The temporary name of the old type while columns convert.
        old_name: String,
        columns: Vec<EnumColumn>,
        /// Removed values no replacement is given for: rows holding one stop the migration.
        removed: Vec<String>,
        /// Removed values and what rows holding them get instead.
        replacements: Vec<(String, String)>,
    },
    DropEnum {
        enum_type: Box<Enum>,
    },
    RenameTable {
        from: QName,
        to: String,
    },
    RenameView {
        from: QName,
        to: String,
    },
    RenameEnum {
        from: QName,
        to: String,
    },
    RenameFunction {
        target: Box<Target>,
        to: String,
    },
    RenameColumn {
        table: QName,
        from: String,
        to: String,
    },
    RenameEnumValue {
        enum_name: QName,
        from: String,
        to: String,
    },
    RenamePolicy {
        table: QName,
        from: String,
        to: String,
    },
    CreateView {
        view: Box<View>,
    },
    /// Only the options changed (`security_invoker`, `security_barrier`).
    AlterView {
        view: Box<View>,
    },
    DropView {
        view: Box<View>,
    },
    /// The down section of a migration that destroyed data: it cannot be undone.
    Irreversible {
        migration: String,
        losses: Vec<String>,
    },
    CreateSequence {
        sequence: Box<Sequence>,
    },
    AlterSequence {
        sequence: Box<Sequence>,
    },
    DropSequence {
        sequence: Box<Sequence>,
    },
    CreateTable {
        table: Box<TableCore>,
    },
    AlterTable {
        table: QName,
        actions: Vec<TableAction>,
    },
    DropTable {
        table: Box<TableCore>,
    },
    SetColumnDefault {
        table: QName,
        column: String,
        expr: Box<Expr>,
    },
    DropColumnDefault {
        table: QName,
        column: String,
    },
    AddCheck {
        table: QName,
        check: Box<Check>,
    },
    DropCheck {
        table: QName,
        check: Box<Check>,
    },
    CreateIndex {
        table: QName,
        index: Box<Index>,
    },
    DropIndex {
        table: QName,
        index: Box<Index>,
    },
    AddForeignKey {
        table: QName,
        fk: Box<ForeignKey>,
    },
    DropForeignKey {
        table: QName,
        fk: Box<ForeignKey>,
    },
    CreatePolicy {
        table: QName,
        policy: Box<Policy>,
    },
    DropPolicy {
        table: QName,
        policy: Box<Policy>,
    },
    CreateTrigger {
        table: QName,
        trigger: Box<Trigger>,
    },
    DropTrigger {
        table: QName,
        trigger: Box<Trigger>,
    },
    /// `CREATE [OR REPLACE] FUNCTION`.
    CreateFunction {
        function: Box<Function>,
        replace: bool,
    },
    DropFunction {
        function: Box<Function>,
        target: Box<Target>,
    },
    SetFunctionOwner {
        target: Box<Target>,
        owner: OwnerTo,
    },
    /// Grant (`true`) or revoke (`false`) PostgreSQL's default EXECUTE for PUBLIC.
    SetPublicExecute {
        target: Box<Target>,
        granted: bool,
    },
    Grant {
        target: Box<Target>,
        grant: Grant,
    },
    Revoke {
        target: Box<Target>,
        grant: Grant,
    },
    SetComment {
        target: Box<Target>,
        text: Option<String>,
    },
    InsertRow {
        row: Box<Row>,
    },
    DeleteRow {
        row: Box<Row>,
    },
    RunSql {
        sql: String,
    },
}

/// A column of an enum type that a rebuild converts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnumColumn {
    pub table: QName,
    pub column: String,
    pub array: bool,
    /// The column's type as written (the enum, or an array of it).
    pub data_type: String,
}

/// `OWNER TO role`, or back to the role running the migration.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "to", content = "role", rename_all = "snake_case")]
pub enum OwnerTo {
    Role(String),
    CurrentUser,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum TableAction {
    AddColumn {
        column: ColumnCore,
        default: Option<Expr>,
    },
    DropColumn {
        column: ColumnCore,
    },
    AlterColumnType {
        column: String,
        data_type: TypeRef,
        /// How values convert: the layer's `using`; without one, an explicit cast.
        using: Option<String>,
        /// Whether the new type may not hold every value of the old one.
        lossy: bool,
    },
    SetNotNull {
        column: String,
    },
    DropNotNull {
        column: String,
    },
    AddIdentity {
        column: String,
        identity: String,
    },
    /// `SET GENERATED ALWAYS | BY DEFAULT` on an identity column.
    SetIdentity {
        column: String,
        identity: String,
    },
    DropIdentity {
        column: String,
    },
    AddPrimaryKey {
        key: KeyConstraint,
    },
    AddUnique {
        key: KeyConstraint,
    },
    DropConstraint {
        name: String,
    },
    EnableRls,
    DisableRls,
    ForceRls,
    NoForceRls,
}

impl Change {
    /// The kind of change as its serde tag (`create_table`, ...): the template that renders
    /// it is `templates/<kind>.sql`.
    pub fn kind(&self) -> String {
        match serde_json::to_value(self) {
            Ok(v) => v["change"].as_str().unwrap_or_default().to_string(),
            Err(_) => String::new(),
        }
    }
}

/// `ALTER ... RENAME` for each rename, in order, naming objects as they are at that point.
pub fn renames(from: &Catalog, renames: &[Rename]) -> Vec<Change> {
    let mut state = if renames.is_empty() {
        return Vec::new();
    } else {
        from.clone()
    };
    let mut out = Vec::new();
    for r in renames {
        out.push(match r.clone() {
            Rename::Table { from, to } => Change::RenameTable { from, to: to.name },
            Rename::View { from, to } => Change::RenameView { from, to: to.name },
            Rename::Enum { from, to } => Change::RenameEnum { from, to: to.name },
            Rename::Function { from, to } => {
                let target = match state.functions.get(&from) {
                    Some(f) => function_target(f),
                    None => continue,
                };
                Change::RenameFunction {
                    target: Box::new(target),
                    to: to.name.name,
                }
            }
            Rename::Column { table, from, to } => Change::RenameColumn { table, from, to },
            Rename::EnumValue {
                enum_name,
                from,
                to,
            } => Change::RenameEnumValue {
                enum_name,
                from,
                to,
            },
            Rename::Policy { table, from, to } => Change::RenamePolicy { table, from, to },
        });
        r.apply(&mut state);
    }
    out
}

/// The changes that create `object` (in state `to`).
pub fn create(object: &Object) -> Vec<Change> {
    match object {
        Object::Role(role) => vec![Change::CreateRole {
            role: Box::new(role.owned()),
        }],
        Object::Membership { group, member } => vec![Change::GrantMembership {
            group: group.to_string(),
            member: member.to_string(),
        }],
        Object::Schema(schema) => create_schema(schema.owned()),
        Object::Extension(extension) => vec![Change::CreateExtension {
            extension: (*extension).clone(),
        }],
        Object::DefaultPrivilege(dp) => vec![Change::GrantDefaultPrivileges {
            key: Box::new(dp.key.clone()),
            privileges: dp.privileges.clone(),
        }],
        Object::Enum(enum_type) => vec![Change::CreateEnum {
            enum_type: Box::new(enum_type.owned()),
        }],
        Object::Sequence(sequence) => vec![Change::CreateSequence {
            sequence: Box::new(sequence.owned()),
        }],
        Object::Table(table) => vec![Change::CreateTable {
            table: Box::new(table.owned()),
        }],
        Object::Function(function) => {
            let function = function.owned();
            let target = function_target(&function);
            let mut out = Vec::new();
            if let Some(owner) = &function.owner {
                out.push(Change::SetFunctionOwner {
                    target: Box::new(target.clone()),
                    owner: OwnerTo::Role(owner.clone()),
                });
            }
            if function.revoke_public {
                out.push(Change::SetPublicExecute {
                    target: Box::new(target),
                    granted: false,
                });
            }
            out.insert(
                0,
                Change::CreateFunction {
                    function: Box::new(function),
                    replace: false,
                },
            );
            out
        }
        Object::ColumnDefault {
            table,
            column,
            expr,
        } => vec![Change::SetColumnDefault {
            table: (*table).clone(),
            column: column.to_string(),
            expr: Box::new((*expr).clone()),
        }],
        Object::Check { table, check } => vec![Change::AddCheck {
            table: (*table).clone(),
            check: Box::new((*check).clone()),
        }],
        Object::Index { table, index } => vec![Change::CreateIndex {
            table: (*table).clone(),
            index: Box::new((*index).clone()),
        }],
        Object::ForeignKey { table, fk } => vec![Change::AddForeignKey {
            table: (*table).clone(),
            fk: Box::new((*fk).clone()),
        }],
        Object::Policy { table, policy } => vec![Change::CreatePolicy {
            table: (*table).clone(),
            policy: Box::new((*policy).clone()),
        }],
        Object::Trigger { table, trigger } => vec![Change::CreateTrigger {
            table: (*table).clone(),
            trigger: Box::new((*trigger).clone()),
        }],
        Object::Grant { target, grant } => vec![Change::Grant {
            target: Box::new(Target::clone(target)),
            grant: grant.clone(),
        }],
        Object::Comment { target, text } => vec![Change::SetComment {
            target: Box::new(Target::clone(target)),
            text: Some(text.to_string()),
        }],
        Object::Rows(row) => vec![Change::InsertRow {
            row: Box::new((*row).clone()),
        }],
        Object::View(view) => vec![Change::CreateView {
            view: Box::new(view.owned()),
        }],
    }
}

/// The changes that drop `object` (from state `from`).
pub fn drop(object: &Object) -> Vec<Change> {
    match object {
        Object::Role(role) => vec![Change::DropRole {
            role: Box::new(role.owned()),
        }],
        Object::Membership { group, member } => vec![Change::RevokeMembership {
            group: group.to_string(),
            member: member.to_string(),
        }],
        Object::Schema(schema) => drop_schema(schema.owned()),
        Object::Extension(extension) => vec![Change::DropExtension {
            extension: (*extension).clone(),
        }],
        Object::DefaultPrivilege(dp) => vec![Change::RevokeDefaultPrivileges {
            key: Box::new(dp.key.clone()),
            privileges: dp.privileges.clone(),
        }],
        Object::Enum(enum_type) => vec![Change::DropEnum {
            enum_type: Box::new(enum_type.owned()),
        }],
        Object::Sequence(sequence) => vec![Change::DropSequence {
            sequence: Box::new(sequence.owned()),
        }],
        Object::Table(table) => vec![Change::DropTable {
            table: Box::new(table.owned()),
        }],
        Object::Function(function) => {
            let function = function.owned();
            vec![Change::DropFunction {
                target: Box::new(function_target(&function)),
                function: Box::new(function),
            }]
        }
        Object::ColumnDefault { table, column, .. } => vec![Change::DropColumnDefault {
            table: (*table).clone(),
            column: column.to_string(),
        }],
        Object::Check { table, check } => vec![Change::DropCheck {
            table: (*table).clone(),
            check: Box::new((*check).clone()),
        }],
        Object::Index { table, index } => vec![Change::DropIndex {
            table: (*table).clone(),
            index: Box::new((*index).clone()),
        }],
        Object::ForeignKey { table, fk } => vec![Change::DropForeignKey {
            table: (*table).clone(),
            fk: Box::new((*fk).clone()),
        }],
        Object::Policy { table, policy } => vec![Change::DropPolicy {
            table: (*table).clone(),
            policy: Box::new((*policy).clone()),
        }],
        Object::Trigger { table, trigger } => vec![Change::DropTrigger {
            table: (*table).clone(),
            trigger: Box::new((*trigger).clone()),
        }],
        Object::Grant { target, grant } => vec![Change::Revoke {
            target: Box::new(Target::clone(target)),
            grant: grant.clone(),
        }],
        Object::Comment { target, .. } => vec![Change::SetComment {
            target: Box::new(Target::clone(target)),
            text: None,
        }],
        Object::Rows(row) => vec![Change::DeleteRow {
            row: Box::new((*row).clone()),
        }],
        Object::View(view) => vec![Change::DropView {
            view: Box::new(view.owned()),
        }],
    }
}

/// The changes that turn `prev` into `next` in place, or `None` when the object must be
/// dropped and created again.
pub fn alter(
    prev: &Object,
    next: &Object,
    usings: &BTreeMap<(QName, String), Expr>,
) -> Option<Vec<Change>> {
    match (prev, next) {
        (Object::Role(_), Object::Role(b)) => Some(vec![Change::AlterRole {
            role: Box::new(b.owned()),
        }]),
        (Object::Schema(a), Object::Schema(b)) if a.created == b.created => {
            let mut out = Vec::new();
            if a.owner != b.owner {
                let owner = match &b.owner {
                    Some(o) => OwnerTo::Role(o.clone()),
                    None => original_owner(b),
                };
                out.push(Change::AlterSchemaOwner {
                    name: b.name.clone(),
                    owner,
                });
                let target = Target {
                    kind: "SCHEMA",
                    schema: None,
                    name: b.name.clone(),
                    args: None,
                    table: None,
                };
                out.extend(owner_regrants(&target, &b.grants, &a.owner, &b.owner));
            }
            if a.revoke_public != b.revoke_public && (b.revoke_public || !b.created) {
                out.push(Change::SetSchemaPublicAccess {
                    name: b.name.clone(),
                    granted: !b.revoke_public,
                });
            }
            Some(out)
        }
        (Object::Sequence(a), Object::Sequence(b)) if a.data_type == b.data_type => {
            Some(vec![Change::AlterSequence {
                sequence: Box::new(b.owned()),
            }])
        }
        (Object::DefaultPrivilege(a), Object::DefaultPrivilege(b)) => {
            let mut out = Vec::new();
            let removed: BTreeSet<Privilege> =
                a.privileges.difference(&b.privileges).copied().collect();
            let added: BTreeSet<Privilege> =
                b.privileges.difference(&a.privileges).copied().collect();
            if !removed.is_empty() {
                out.push(Change::RevokeDefaultPrivileges {
                    key: Box::new(a.key.clone()),
                    privileges: removed,
                });
            }
            if !added.is_empty() {
                out.push(Change::GrantDefaultPrivileges {
                    key: Box::new(b.key.clone()),
                    privileges: added,
                });
            }
            Some(out)
        }
        (Object::Enum(a), Object::Enum(b)) => add_enum_values(a, b).map(|values| {
            values
                .into_iter()
                .map(|(value, before, after)| Change::AddEnumValue {
                    enum_name: b.name.clone(),
                    value,
                    before,
                    after,
                })
                .collect()
        }),
        (Object::View(a), Object::View(b)) if a.query == b.query => Some(vec![Change::AlterView {
            view: Box::new(b.owned()),
        }]),
        (Object::Table(a), Object::Table(b)) => {
            alter_table(&a.owned(), &b.owned(), Some(b.0), usings).map(|actions| {
                vec![Change::AlterTable {
                    table: b.name.clone(),
                    actions,
                }]
            })
        }
        (Object::Function(a), Object::Function(b)) if a.replaceable_by(b) => {
            let target = function_target(b);
            let mut out = Vec::new();
            let mut same = a.owned();
            same.owner = b.owner.clone();
            same.revoke_public = b.revoke_public;
            if Core(&same) != *b {
                out.push(Change::CreateFunction {
                    function: Box::new(b.owned()),
                    replace: true,
                });
            }
            if a.owner != b.owner {
                let owner = b.owner.clone().map_or(OwnerTo::CurrentUser, OwnerTo::Role);
                out.push(Change::SetFunctionOwner {
                    target: Box::new(target.clone()),
                    owner,
                });
                out.extend(owner_regrants(&target, &b.grants, &a.owner, &b.owner));
            }
            if a.revoke_public != b.revoke_public {
                out.push(Change::SetPublicExecute {
                    target: Box::new(target),
                    granted: !b.revoke_public,
                });
            }
            Some(out)
        }
        (Object::ColumnDefault { table, column, .. }, Object::ColumnDefault { expr, .. }) => {
            Some(vec![Change::SetColumnDefault {
                table: (*table).clone(),
                column: column.to_string(),
                expr: Box::new((*expr).clone()),
            }])
        }
        (Object::Grant { target, grant: a }, Object::Grant { grant: b, .. }) => {
            let mut out = Vec::new();
            let removed: BTreeSet<Privilege> =
                a.privileges.difference(&b.privileges).copied().collect();
            let added: BTreeSet<Privilege> =
                b.privileges.difference(&a.privileges).copied().collect();
            if !removed.is_empty() {
                out.push(Change::Revoke {
                    target: Box::new(Target::clone(target)),
                    grant: Grant {
                        privileges: removed,
                        ..a.clone()
                    },
                });
            }
            if !added.is_empty() {
                out.push(Change::Grant {
                    target: Box::new(Target::clone(target)),
                    grant: Grant {
                        privileges: added,
                        ..b.clone()
                    },
                });
            }
            Some(out)
        }
        (Object::Comment { target, .. }, Object::Comment { text, .. }) => {
            Some(vec![Change::SetComment {
                target: Box::new(Target::clone(target)),
                text: Some(text.to_string()),
            }])
        }
        _ => None,
    }
}

/// A value to add: (value, `BEFORE` anchor, `AFTER` anchor).
type NewEnumValue = (String, Option<String>, Option<String>);

/// The values `next` adds to `prev`, each with its place (`BEFORE` the first old value, else
/// `AFTER` the value before it), when `next` keeps every old value in order; `None` when
/// values are removed or reordered (the type must be rebuilt).
fn add_enum_values(prev: &Enum, next: &Enum) -> Option<Vec<NewEnumValue>> {
    if !next.extends(prev) {
        return None;
    }
    let mut out = Vec::new();
    for (i, v) in next.values.iter().enumerate() {
        if prev.values.contains(v) {
            continue;
        }
        if i == 0 {
            out.push((v.clone(), prev.values.first().cloned(), None));
        } else {
            out.push((v.clone(), None, Some(next.values[i - 1].clone())));
        }
    }
    Some(out)
}

/// Whether every value of type `from` fits `to` unchanged (so retyping loses nothing).
fn widening(from: &TypeRef, to: &TypeRef) -> bool {
    let (a, b) = (from.sql.as_str(), to.sql.as_str());
    let length = |t: &str, base: &str| -> Option<Option<u32>> {
        let rest = t.strip_prefix(base)?;
        if rest.is_empty() {
            return Some(None);
        }
        rest.strip_prefix('(')?
            .strip_suffix(')')?
            .parse()
            .ok()
            .map(Some)
    };
    let numeric_rank = |t: &str| match t {
        "smallint" => Some(1),
        "integer" => Some(2),
        "bigint" => Some(3),
        "numeric" => Some(4),
        _ => None,
    };
    if let (Some(x), Some(y)) = (numeric_rank(a), numeric_rank(b)) {
        return x <= y;
    }
    if b == "text" {
        return a == "text"
            || length(a, "character varying").is_some()
            || length(a, "character").is_some()
            || from.user_type.is_some() && !a.ends_with("[]");
    }
    for base in ["character varying", "character"] {
        if let (Some(x), Some(y)) = (length(a, base), length(b, "character varying")) {
            return match (x, y) {
                (_, None) => true,
                (Some(x), Some(y)) => x <= y,
                (None, Some(_)) => false,
            };
        }
    }
    matches!(
        (a, b),
        ("real", "double precision")
            | ("timestamp without time zone", "timestamp with time zone")
            | ("json", "jsonb")
    )
}

fn alter_table(
    a: &TableCore,
    b: &TableCore,
    full: Option<&Table>,
    usings: &BTreeMap<(QName, String), Expr>,
) -> Option<Vec<TableAction>> {
    let mut drops = Vec::new();
    let mut adds = Vec::new();
    let mut alters = Vec::new();
    if a.primary_key != b.primary_key {
        if let Some(pk) = &a.primary_key {
            drops.push(TableAction::DropConstraint {
                name: pk.name.clone(),
            });
        }
        if let Some(pk) = &b.primary_key {
            adds.push(TableAction::AddPrimaryKey { key: pk.clone() });
        }
    }
    for u in &a.uniques {
        if !b.uniques.contains(u) {
            drops.push(TableAction::DropConstraint {
                name: u.name.clone(),
            });
        }
    }
    for u in &b.uniques {
        if !a.uniques.contains(u) {
            adds.push(TableAction::AddUnique { key: u.clone() });
        }
    }
    for c in &a.columns {
        if !b.columns.iter().any(|x| x.name == c.name) {
            drops.push(TableAction::DropColumn { column: c.clone() });
        }
    }
    for c in &b.columns {
        match a.columns.iter().find(|x| x.name == c.name) {
            None => {
                // Existing rows need the default of a new NOT NULL column at once.
                let default = full
                    .and_then(|t| t.column(&c.name))
                    .filter(|col| col.not_null)
                    .and_then(|col| col.default.clone());
                alters.push(TableAction::AddColumn {
                    column: c.clone(),
                    default,
                })
            }
            Some(old) if old == c => {}
            Some(old) => {
                // ALWAYS <-> BY DEFAULT keeps the sequence (and where it is).
                let switch = old.identity.is_some() && c.identity.is_some();
                if old.identity.is_some() && old.identity != c.identity && !switch {
                    alters.push(TableAction::DropIdentity {
                        column: c.name.clone(),
                    });
                }
                if old.data_type != c.data_type {
                    let using = usings
                        .get(&(b.name.clone(), c.name.clone()))
                        .map(|e| e.sql.clone());
                    alters.push(TableAction::AlterColumnType {
                        column: c.name.clone(),
                        data_type: c.data_type.clone(),
                        using,
                        lossy: !widening(&old.data_type, &c.data_type),
                    });
                }
                let not_null_was = old.not_null;
                let identity_kept = old.identity.is_some() && old.identity == c.identity;
                if switch && old.identity != c.identity {
                    alters.push(TableAction::SetIdentity {
                        column: c.name.clone(),
                        identity: c.identity.clone().unwrap_or_default(),
                    });
                } else if c.identity.is_some() && old.identity != c.identity {
                    alters.push(TableAction::AddIdentity {
                        column: c.name.clone(),
                        identity: c.identity.clone().unwrap_or_default(),
                    });
                } else if !identity_kept && not_null_was != c.not_null {
                    alters.push(if c.not_null {
                        TableAction::SetNotNull {
                            column: c.name.clone(),
                        }
                    } else {
                        TableAction::DropNotNull {
                            column: c.name.clone(),
                        }
                    });
                }
            }
        }
    }
    let mut out = drops;
    out.extend(alters);
    out.extend(adds);
    if a.rls_enabled != b.rls_enabled {
        out.push(if b.rls_enabled {
            TableAction::EnableRls
        } else {
            TableAction::DisableRls
        });
    }
    if a.rls_forced != b.rls_forced {
        out.push(if b.rls_forced {
            TableAction::ForceRls
        } else {
            TableAction::NoForceRls
        });
    }
    Some(out)
}

/// An owner change folds the new owner's grants into its owner privileges and hands the old
/// owner's over to the new one: the grants the target state gives either of them are made
/// again (GRANT is idempotent).
fn owner_regrants(
    target: &Target,
    grants: &[Grant],
    old: &Option<String>,
    new: &Option<String>,
) -> Vec<Change> {
    grants
        .iter()
        .filter(|g| Some(&g.grantee) == old.as_ref() || Some(&g.grantee) == new.as_ref())
        .map(|g| Change::Grant {
            target: Box::new(target.clone()),
            grant: g.clone(),
        })
        .collect()
}

/// A new schema is created; a schema that exists without the project (`public`, external
/// ones) only gets the owner and PUBLIC access the spec asks for.
fn create_schema(schema: Schema) -> Vec<Change> {
    let mut out = Vec::new();
    let name = schema.name.clone();
    let revoke = schema.revoke_public;
    if schema.created {
        out.push(Change::CreateSchema {
            schema: Box::new(schema),
        });
    } else if let Some(owner) = &schema.owner {
        out.push(Change::AlterSchemaOwner {
            name: name.clone(),
            owner: OwnerTo::Role(owner.clone()),
        });
    }
    if revoke {
        out.push(Change::SetSchemaPublicAccess {
            name,
            granted: false,
        });
    }
    out
}

/// Dropping a schema the project did not create gives back what PostgreSQL set up.
fn drop_schema(schema: Schema) -> Vec<Change> {
    if schema.created {
        return vec![Change::DropSchema {
            schema: Box::new(schema),
        }];
    }
    let mut out = Vec::new();
    if schema.revoke_public {
        out.push(Change::SetSchemaPublicAccess {
            name: schema.name.clone(),
            granted: true,
        });
    }
    if schema.owner.is_some() {
        out.push(Change::AlterSchemaOwner {
            name: schema.name.clone(),
            owner: original_owner(&schema),
        });
    }
    out
}

/// Who owns a schema when the project does not say: `public` belongs to pg_database_owner
/// (PostgreSQL 15 and later); a created schema to the role running the migration.
fn original_owner(schema: &Schema) -> OwnerTo {
    if schema.name == "public" && !schema.created {
        OwnerTo::Role("pg_database_owner".into())
    } else {
        OwnerTo::CurrentUser
    }
}
