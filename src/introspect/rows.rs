//! Rows of the introspection queries to the catalog model, one function per query.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use sqlx::postgres::PgRow;
use sqlx::Row as _;

use super::Scope;
use crate::catalog::*;
use crate::db::DbError;
use crate::resolve::sql;

pub(super) fn get<'r, T>(row: &'r PgRow, col: &str) -> Result<T, DbError>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(col).map_err(|source| DbError::Query {
        what: format!("decoding column `{col}`"),
        source,
    })
}

/// An ACL as the queries return it: `PRIVILEGE grantee` items (empty grantee: PUBLIC).
fn acl_items(acl: &[String]) -> Vec<(Privilege, String)> {
    acl.iter()
        .filter_map(|item| {
            let (p, grantee) = item.split_once(' ')?;
            let p = privilege(p)?;
            let grantee = if grantee.is_empty() {
                "PUBLIC".to_string()
            } else {
                grantee.to_string()
            };
            Some((p, grantee))
        })
        .collect()
}

fn privilege(p: &str) -> Option<Privilege> {
    Some(match p {
        "SELECT" => Privilege::Select,
        "INSERT" => Privilege::Insert,
        "UPDATE" => Privilege::Update,
        "DELETE" => Privilege::Delete,
        "TRUNCATE" => Privilege::Truncate,
        "REFERENCES" => Privilege::References,
        "TRIGGER" => Privilege::Trigger,
        "USAGE" => Privilege::Usage,
        "CREATE" => Privilege::Create,
        "EXECUTE" => Privilege::Execute,
        _ => return None,
    })
}

/// Grants of an object, one per grantee, leaving out the owner's own privileges (implicit)
/// and whatever `skip` says is PostgreSQL's default.
fn grants(
    acl: &[(Privilege, String)],
    owner: &str,
    skip: impl Fn(Privilege, &str) -> bool,
) -> Vec<Grant> {
    let mut by: BTreeMap<String, BTreeSet<Privilege>> = BTreeMap::new();
    for (p, g) in acl {
        if g == owner || skip(*p, g) {
            continue;
        }
        by.entry(g.clone()).or_default().insert(*p);
    }
    by.into_iter()
        .map(|(grantee, privileges)| Grant {
            grantee,
            privileges,
            columns: Vec::new(),
        })
        .collect()
}

/// A type as `format_type` prints it, with the user-defined type it names (element type for
/// arrays) when that lives outside `pg_catalog`.
fn type_ref(sql_text: String, qualified: Option<&str>) -> TypeRef {
    let user_type = qualified
        .and_then(|q| q.split_once('.'))
        .filter(|(s, _)| *s != "pg_catalog")
        .map(|(s, n)| QName::new(s, n));
    TypeRef {
        sql: sql_text,
        user_type,
    }
}

/// An expression as PostgreSQL prints it, with what it references (parsed by pg_query, as
/// the spec's are; an expression it cannot parse keeps empty references).
fn expr(text: String) -> Expr {
    match sql::parse_expr(&text) {
        Ok(mut e) => {
            e.sql = text;
            e
        }
        Err(_) => Expr {
            sql: text,
            refs: Arc::default(),
        },
    }
}

pub(super) fn roles(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let name: String = get(r, "name")?;
        let member_of: Vec<String> = get(r, "member_of")?;
        cat.roles.insert(
            name.clone(),
            Role {
                name,
                login: get(r, "login")?,
                inherit: get(r, "inherit")?,
                bypassrls: get(r, "bypassrls")?,
                createdb: get(r, "createdb")?,
                createrole: get(r, "createrole")?,
                connection_limit: get(r, "connection_limit")?,
                password_env: None,
                member_of: member_of.into_iter().collect(),
                comment: get(r, "comment")?,
            },
        );
    }
    Ok(())
}

pub(super) fn schemas(
    cat: &mut Catalog,
    rows: &[PgRow],
    scope: &Scope,
) -> Result<BTreeSet<String>, DbError> {
    let mut owned = BTreeSet::new();
    for r in rows {
        let name: String = get(r, "name")?;
        let owner: String = get(r, "owner")?;
        let acl: Option<Vec<String>> = get(r, "acl")?;
        let items = acl_items(acl.as_deref().unwrap_or_default());
        let created = !scope.not_created.contains(&name);
        if created {
            owned.insert(name.clone());
        } else if !scope.declared_schemas.contains(&name) {
            // `public` (or an external schema) the project only puts objects in: its owner
            // and grants are the platform's.
            continue;
        }
        // PUBLIC's USAGE on a schema the project does not create (`public`) is PostgreSQL's
        // default, stated by `revoke_public`; anything else PUBLIC has is a grant.
        let revoke_public = !created
            && !items
                .iter()
                .any(|(p, g)| g == "PUBLIC" && *p == Privilege::Usage);
        let schema_grants = grants(&items, &owner, |p, g| {
            !created && g == "PUBLIC" && p == Privilege::Usage
        });
        cat.schemas.insert(
            name.clone(),
            Schema {
                name,
                created,
                owner: Some(owner),
                revoke_public,
                grants: schema_grants,
                comment: get(r, "comment")?,
            },
        );
    }
    Ok(owned)
}

pub(super) fn extensions(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let name: String = get(r, "name")?;
        cat.extensions.insert(
            name.clone(),
            Extension {
                name,
                schema: Some(get(r, "schema")?),
            },
        );
    }
    Ok(())
}

pub(super) fn enums(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let name = QName::new(get::<String>(r, "schema")?, get::<String>(r, "name")?);
        cat.enums.insert(
            name.clone(),
            Enum {
                name,
                values: get(r, "labels")?,
                comment: get(r, "comment")?,
            },
        );
    }
    Ok(())
}

pub(super) fn relations(cat: &mut Catalog, rows: &[PgRow], scope: &Scope) -> Result<(), DbError> {
    for r in rows {
        let name = QName::new(get::<String>(r, "schema")?, get::<String>(r, "name")?);
        if scope.exclude_tables.contains(&name) {
            continue;
        }
        let kind: String = get(r, "kind")?;
        let owner: String = get(r, "owner")?;
        let acl: Option<Vec<String>> = get(r, "acl")?;
        let items = acl_items(acl.as_deref().unwrap_or_default());
        let object_grants = grants(&items, &owner, |_, _| false);
        let comment: Option<String> = get(r, "comment")?;
        match kind.as_str() {
            "v" => {
                let options: Vec<String> = get(r, "options")?;
                let on = |key: &str| {
                    options.iter().any(|o| {
                        o.split_once('=')
                            .is_some_and(|(k, v)| k == key && matches!(v, "true" | "on" | "1"))
                    })
                };
                let text: String = get::<Option<String>>(r, "view_query")?.unwrap_or_default();
                let text = text.trim().trim_end_matches(';').trim_end().to_string();
                let query = match sql::parse_query(&text) {
                    Ok(mut e) => {
                        e.sql = text;
                        e
                    }
                    Err(_) => Expr {
                        sql: text,
                        refs: Arc::default(),
                    },
                };
                cat.views.insert(
                    name.clone(),
                    Arc::new(View {
                        name,
                        query,
                        security_invoker: on("security_invoker"),
                        security_barrier: on("security_barrier"),
                        grants: object_grants,
                        comment,
                    }),
                );
            }
            "S" => {
                let data_type: String = get::<Option<String>>(r, "seq_type")?.unwrap_or_default();
                cat.sequences.insert(
                    name.clone(),
                    Sequence {
                        name,
                        data_type: type_ref(data_type, None),
                        start: get::<Option<i64>>(r, "seq_start")?.unwrap_or(1),
                        increment: get::<Option<i64>>(r, "seq_increment")?.unwrap_or(1),
                        grants: object_grants,
                        comment,
                    },
                );
            }
            _ => {
                cat.tables.insert(
                    name.clone(),
                    Arc::new(Table {
                        name,
                        columns: Vec::new(),
                        primary_key: None,
                        uniques: Vec::new(),
                        checks: Vec::new(),
                        foreign_keys: Vec::new(),
                        indexes: Vec::new(),
                        rls_enabled: get(r, "rls_enabled")?,
                        rls_forced: get(r, "rls_forced")?,
                        policies: Vec::new(),
                        grants: object_grants,
                        triggers: Vec::new(),
                        comment,
                    }),
                );
            }
        }
    }
    Ok(())
}

fn table_of<'c>(cat: &'c mut Catalog, r: &PgRow) -> Result<Option<&'c mut Table>, DbError> {
    let name = QName::new(get::<String>(r, "schema")?, get::<String>(r, "table_name")?);
    Ok(cat.tables.get_mut(&name).map(Arc::make_mut))
}

pub(super) fn columns(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    // Column grants, grouped per table by grantee and privilege set.
    let mut column_grants: BTreeMap<(QName, String, BTreeSet<Privilege>), Vec<String>> =
        BTreeMap::new();
    for r in rows {
        let Some(table) = table_of(cat, r)? else {
            continue;
        };
        let name: String = get(r, "name")?;
        let type_schema: String = get(r, "type_schema")?;
        let type_name: String = get(r, "type_name")?;
        let identity = match get::<String>(r, "identity")?.as_str() {
            "a" => Some("ALWAYS".to_string()),
            "d" => Some("BY DEFAULT".to_string()),
            _ => None,
        };
        let default: Option<String> = get(r, "default_expr")?;
        let acl: Option<Vec<String>> = get(r, "acl")?;
        let mut per_grantee: BTreeMap<String, BTreeSet<Privilege>> = BTreeMap::new();
        for (p, g) in acl_items(acl.as_deref().unwrap_or_default()) {
            per_grantee.entry(g).or_default().insert(p);
        }
        for (grantee, privileges) in per_grantee {
            column_grants
                .entry((table.name.clone(), grantee, privileges))
                .or_default()
                .push(name.clone());
        }
        table.columns.push(Column {
            name,
            data_type: type_ref(
                get(r, "data_type")?,
                Some(&format!("{type_schema}.{type_name}")),
            ),
            not_null: get(r, "not_null")?,
            identity,
            default: default.map(expr),
            comment: get(r, "comment")?,
        });
    }
    for ((table, grantee, privileges), cols) in column_grants {
        if let Some(t) = cat.tables.get_mut(&table) {
            let t = Arc::make_mut(t);
            t.grants.push(Grant {
                grantee,
                privileges,
                columns: cols,
            });
            t.grants.sort();
        }
    }
    Ok(())
}

fn fk_action(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_string()
}

pub(super) fn constraints(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let Some(table) = table_of(cat, r)? else {
            continue;
        };
        let name: String = get(r, "name")?;
        let columns: Vec<String> = get(r, "columns")?;
        match get::<String>(r, "kind")?.as_str() {
            "p" => table.primary_key = Some(KeyConstraint { name, columns }),
            "u" => table.uniques.push(KeyConstraint { name, columns }),
            "c" => {
                let text: Option<String> = get(r, "check_expr")?;
                table.checks.push(Check {
                    name,
                    expr: expr(text.unwrap_or_default()),
                });
            }
            "f" => {
                let ref_table = QName::new(
                    get::<Option<String>>(r, "ref_schema")?.unwrap_or_default(),
                    get::<Option<String>>(r, "ref_table")?.unwrap_or_default(),
                );
                table.foreign_keys.push(ForeignKey {
                    name,
                    columns,
                    ref_table,
                    ref_columns: get(r, "ref_columns")?,
                    on_delete: fk_action(&get::<String>(r, "on_delete")?),
                    on_update: fk_action(&get::<String>(r, "on_update")?),
                });
            }
            // Exclusion constraints have no place in the model: shown as a check with
            // PostgreSQL's definition, so that one that should not be there is seen.
            _ => {
                let definition: String = get(r, "definition")?;
                table.checks.push(Check {
                    name,
                    expr: Expr {
                        sql: definition,
                        refs: Arc::default(),
                    },
                });
            }
        }
    }
    Ok(())
}

pub(super) fn indexes(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let Some(table) = table_of(cat, r)? else {
            continue;
        };
        let predicate: Option<String> = get(r, "predicate")?;
        table.indexes.push(Index {
            name: get(r, "name")?,
            columns: get(r, "columns")?,
            unique: get(r, "is_unique")?,
            method: get(r, "method")?,
            predicate: predicate.map(expr),
        });
    }
    Ok(())
}

pub(super) fn policies(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let Some(table) = table_of(cat, r)? else {
            continue;
        };
        let command = match get::<String>(r, "command")?.as_str() {
            "r" => "SELECT",
            "a" => "INSERT",
            "w" => "UPDATE",
            "d" => "DELETE",
            _ => "ALL",
        };
        let using: Option<String> = get(r, "using_expr")?;
        let with_check: Option<String> = get(r, "check_expr")?;
        table.policies.push(Policy {
            name: get(r, "name")?,
            permissive: get(r, "permissive")?,
            command: command.into(),
            roles: get(r, "roles")?,
            using: using.map(expr),
            with_check: with_check.map(expr),
        });
    }
    Ok(())
}

const TRIGGER_ROW: i32 = 1 << 0;
const TRIGGER_BEFORE: i32 = 1 << 1;
const TRIGGER_INSERT: i32 = 1 << 2;
const TRIGGER_DELETE: i32 = 1 << 3;
const TRIGGER_UPDATE: i32 = 1 << 4;
const TRIGGER_TRUNCATE: i32 = 1 << 5;
const TRIGGER_INSTEAD: i32 = 1 << 6;

pub(super) fn triggers(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let Some(table) = table_of(cat, r)? else {
            continue;
        };
        let t: i32 = get(r, "tgtype")?;
        let timing = if t & TRIGGER_INSTEAD != 0 {
            "INSTEAD OF"
        } else if t & TRIGGER_BEFORE != 0 {
            "BEFORE"
        } else {
            "AFTER"
        };
        let update_columns: Vec<String> = get(r, "update_columns")?;
        let mut events = Vec::new();
        if t & TRIGGER_INSERT != 0 {
            events.push("INSERT".to_string());
        }
        if t & TRIGGER_UPDATE != 0 {
            if update_columns.is_empty() {
                events.push("UPDATE".to_string());
            } else {
                let cols: Vec<String> = update_columns.iter().map(|c| quote_ident(c)).collect();
                events.push(format!("UPDATE OF {}", cols.join(", ")));
            }
        }
        if t & TRIGGER_DELETE != 0 {
            events.push("DELETE".to_string());
        }
        if t & TRIGGER_TRUNCATE != 0 {
            events.push("TRUNCATE".to_string());
        }
        let nargs: i32 = get(r, "nargs")?;
        let raw: Vec<u8> = get(r, "args")?;
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .take(nargs.max(0) as usize)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let definition: String = get(r, "definition")?;
        let when = if get::<bool>(r, "has_when")? {
            when_clause(&definition).map(expr)
        } else {
            None
        };
        table.triggers.push(Trigger {
            name: get(r, "name")?,
            timing: timing.into(),
            events,
            for_each_row: t & TRIGGER_ROW != 0,
            when,
            function: FunctionKey {
                name: QName::new(
                    get::<String>(r, "function_schema")?,
                    get::<String>(r, "function_name")?,
                ),
                overload: None,
            },
            args,
        });
    }
    Ok(())
}

/// The condition of `CREATE TRIGGER ... WHEN (cond) EXECUTE FUNCTION ...` as
/// `pg_get_triggerdef` prints it.
fn when_clause(definition: &str) -> Option<String> {
    let start = definition.find(" WHEN (")? + " WHEN (".len();
    let end = definition.rfind(") EXECUTE FUNCTION ")?;
    (end > start).then(|| definition[start..end].to_string())
}

pub(super) fn functions(cat: &mut Catalog, rows: &[PgRow], scope: &Scope) -> Result<(), DbError> {
    let mut found: Vec<Function> = Vec::new();
    for r in rows {
        // Procedures, aggregates and window functions have no place in the model.
        if get::<String>(r, "kind")? != "f" {
            continue;
        }
        let name = QName::new(get::<String>(r, "schema")?, get::<String>(r, "name")?);
        let types: Vec<String> = get(r, "arg_types")?;
        let type_names: Vec<String> = get(r, "arg_type_names")?;
        let names: Vec<String> = get(r, "arg_names")?;
        let modes: Vec<String> = get(r, "arg_modes")?;
        let defaults: Vec<String> = get(r, "arg_defaults")?;
        let mut args = Vec::new();
        let mut table_columns = Vec::new();
        for (i, ty) in types.iter().enumerate() {
            let data_type = type_ref(ty.clone(), type_names.get(i).map(String::as_str));
            let arg_name = names.get(i).filter(|n| !n.is_empty()).cloned();
            let mode = match modes.get(i).map(String::as_str) {
                Some("o") => "OUT",
                Some("b") => "INOUT",
                Some("v") => "VARIADIC",
                Some("t") => {
                    table_columns.push(ReturnColumn {
                        name: arg_name.unwrap_or_default(),
                        data_type,
                    });
                    continue;
                }
                _ => "IN",
            };
            let default = defaults
                .get(i)
                .filter(|d| !d.is_empty())
                .map(|d| expr(d.clone()));
            args.push(Arg {
                name: arg_name,
                mode: mode.into(),
                data_type,
                default,
            });
        }
        let return_type: String = get(r, "return_type")?;
        let return_name: String = get(r, "return_type_name")?;
        let returns = if !table_columns.is_empty() {
            Returns::Table(table_columns)
        } else if return_type == "trigger" {
            Returns::Trigger
        } else if return_type == "void" {
            Returns::Void
        } else if get::<bool>(r, "returns_set")? {
            Returns::SetOf(type_ref(return_type, Some(&return_name)))
        } else {
            Returns::Type(type_ref(return_type, Some(&return_name)))
        };
        let owner: String = get(r, "owner")?;
        let acl: Option<Vec<String>> = get(r, "acl")?;
        let items = acl_items(acl.as_deref().unwrap_or_default());
        // A NULL ACL is PostgreSQL's default: EXECUTE for PUBLIC.
        let revoke_public = acl.is_some()
            && !items
                .iter()
                .any(|(p, g)| g == "PUBLIC" && *p == Privilege::Execute);
        let config: Vec<String> = get(r, "config")?;
        let search_path = config
            .iter()
            .find_map(|c| c.strip_prefix("search_path="))
            .map(parse_search_path);
        let language: String = get(r, "language")?;
        let body: String = get(r, "body")?;
        let body_refs = if language == "sql" {
            sql::parse_sql_body(&body).unwrap_or_default()
        } else {
            Refs::default()
        };
        found.push(Function {
            name,
            overload: false,
            args,
            returns,
            language,
            volatility: match get::<String>(r, "volatility")?.as_str() {
                "i" => "IMMUTABLE",
                "s" => "STABLE",
                _ => "VOLATILE",
            }
            .into(),
            strict: get(r, "strict")?,
            security_definer: get(r, "security_definer")?,
            search_path,
            owner: Some(owner.clone()),
            revoke_public,
            grants: grants(&items, &owner, |_, g| g == "PUBLIC"),
            comment: get(r, "comment")?,
            body,
            body_refs,
        });
    }
    let mut count: BTreeMap<QName, usize> = BTreeMap::new();
    for f in &found {
        *count.entry(f.name.clone()).or_default() += 1;
    }
    for mut f in found {
        f.overload = scope.overloaded.contains(&f.name) || count[&f.name] > 1;
        let key = FunctionKey {
            name: f.name.clone(),
            overload: f.overload.then(|| f.identity_types()),
        };
        cat.functions.insert(key, Arc::new(f));
    }
    Ok(())
}

/// `a, "B", pg_temp` (as `proconfig` stores it) to its names; `""` alone is the empty path.
fn parse_search_path(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c if c.is_whitespace() && !quoted => {}
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.retain(|s| !s.is_empty());
    out
}

pub(super) fn default_privileges(cat: &mut Catalog, rows: &[PgRow]) -> Result<(), DbError> {
    for r in rows {
        let for_role: String = get(r, "for_role")?;
        let in_schema: Option<String> = get(r, "in_schema")?;
        let object_type = match get::<String>(r, "object_type")?.as_str() {
            "r" => "TABLES",
            "S" => "SEQUENCES",
            "f" => "FUNCTIONS",
            "T" => "TYPES",
            "n" => "SCHEMAS",
            _ => continue,
        };
        let acl: Vec<String> = get(r, "acl")?;
        let global = in_schema.is_none();
        // A global entry holds the whole ACL new objects get: the owner's privileges and,
        // for functions and types, PUBLIC's default EXECUTE / USAGE are not grants.
        let list = grants(&acl_items(&acl), &for_role, |p, g| {
            global
                && g == "PUBLIC"
                && matches!(
                    (object_type, p),
                    ("FUNCTIONS", Privilege::Execute) | ("TYPES", Privilege::Usage)
                )
        });
        for g in list {
            let key = DefaultPrivilegeKey {
                for_role: for_role.clone(),
                in_schema: in_schema.clone(),
                object_type: object_type.into(),
                grantee: g.grantee,
            };
            cat.default_privileges.insert(
                key.clone(),
                DefaultPrivilege {
                    key,
                    privileges: g.privileges,
                },
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_paths() {
        assert_eq!(parse_search_path("app, pg_temp"), vec!["app", "pg_temp"]);
        assert_eq!(parse_search_path("\"\""), Vec::<String>::new());
        assert_eq!(parse_search_path("\"My \"\"S\", x"), vec!["My \"S", "x"]);
    }

    #[test]
    fn trigger_conditions() {
        let def = "CREATE TRIGGER t BEFORE UPDATE ON a.b FOR EACH ROW WHEN ((old.x IS DISTINCT FROM new.x)) EXECUTE FUNCTION a.f('x')";
        assert_eq!(
            when_clause(def).as_deref(),
            Some("(old.x IS DISTINCT FROM new.x)")
        );
    }

    #[test]
    fn acl_items_keep_public_apart() {
        let items = acl_items(&["SELECT ".into(), "INSERT app user".into()]);
        assert_eq!(
            items,
            vec![
                (Privilege::Select, "PUBLIC".into()),
                (Privilege::Insert, "app user".into())
            ]
        );
    }
}
