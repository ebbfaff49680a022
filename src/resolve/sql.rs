//! SQL fragments checked with PostgreSQL's own parser (pg_query): types are re-rendered from
//! the parse tree (so a type can never carry anything but a type), expressions must parse as
//! exactly one expression, bodies must parse, and the schema-qualified relations and
//! functions they name are collected for dependency ordering and reference checks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use pg_query::protobuf::{a_const, node::Node as N};
use pg_query::NodeEnum;

use crate::catalog::{quote_ident, Expr, QName, Refs, TypeRef};

/// Built-in type names that are written without `pg_catalog.` (those the grammar does not
/// rewrite to a `pg_catalog` name).
const BUILTIN_TYPES: &[&str] = &[
    "text",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "date",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "money",
    "xml",
    "tsvector",
    "tsquery",
    "point",
    "line",
    "lseg",
    "box",
    "circle",
    "polygon",
    "path",
    "regclass",
    "regproc",
    "regprocedure",
    "regtype",
    "regrole",
    "regnamespace",
    "oid",
    "name",
    "serial",
    "bigserial",
    "smallserial",
    "serial4",
    "serial8",
    "serial2",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
    "int4multirange",
    "int8multirange",
    "nummultirange",
    "tsmultirange",
    "tstzmultirange",
    "datemultirange",
    "record",
    "anyelement",
    "anyarray",
    "anynonarray",
    "anyenum",
    "anyrange",
    "anycompatible",
    "anycompatiblearray",
    "void",
    "trigger",
    "event_trigger",
    "cstring",
    "jsonpath",
    "pg_lsn",
    "txid_snapshot",
    "pg_snapshot",
    "xid",
    "xid8",
    "cid",
    "tid",
    "bit",
    "varbit",
    "char",
    "citext",
    "hstore",
    "ltree",
    "lquery",
    "ltxtquery",
    "vector",
    "halfvec",
    "sparsevec",
    "geometry",
    "geography",
    "int2vector",
    "oidvector",
    "refcursor",
    "unknown",
];

/// Internal names the grammar leaves unqualified when written bare (`timestamptz`, `int4`).
const ALIASES: &[&str] = &[
    "int2",
    "int4",
    "int8",
    "float4",
    "float8",
    "bool",
    "timestamptz",
    "timetz",
    "varbit",
];

/// Fragments repeat across a project (`now()` in every table, the same policy expression on
/// hundreds of tables): each distinct text is parsed once (per thread), since the result
/// depends on the text alone.
fn memo<T: Clone>(
    cache: &'static std::thread::LocalKey<RefCell<Memo<T>>>,
    text: &str,
    parse: impl FnOnce(&str) -> T,
) -> T {
    if let Some(hit) = cache.with(|c| c.borrow().get(text).cloned()) {
        return hit;
    }
    let parsed = parse(text);
    cache.with(|c| c.borrow_mut().insert(text.to_string(), parsed.clone()));
    parsed
}

/// Parsed fragments by text, with a fast hash (the texts are the project's own).
type Memo<T> = HashMap<String, T, foldhash::fast::FixedState>;

thread_local! {
    static TYPES: RefCell<Memo<Result<TypeRef, String>>> = RefCell::default();
    static EXPRS: RefCell<Memo<Result<Expr, String>>> = RefCell::default();
}

/// Parse a type such as `int`, `varchar(40)`, `auth.team_role[]` or `timestamptz`.
pub fn parse_type(text: &str) -> Result<TypeRef, String> {
    memo(&TYPES, text, parse_type_text)
}

fn parse_type_text(text: &str) -> Result<TypeRef, String> {
    let wrapped = format!("SELECT NULL::{text}");
    let parsed = pg_query::parse(&wrapped, pg_query::ParserOptions::DEFAULT)
        .map_err(|e| format!("`{text}` is not a type: {}", clean_error(&e)))?;
    let stmt = single_select(&parsed).ok_or_else(|| format!("`{text}` is not a type"))?;
    let target = single_target(stmt).ok_or_else(|| format!("`{text}` is not a type"))?;
    let Some(N::TypeCast(cast)) = target else {
        return Err(format!("`{text}` is not a type"));
    };
    let type_name = cast
        .type_name
        .as_ref()
        .ok_or_else(|| format!("`{text}` is not a type"))?;
    if type_name.setof || type_name.pct_type {
        return Err(format!(
            "`{text}` is not a plain type (SETOF and %TYPE are not allowed here)"
        ));
    }
    let names: Vec<String> = type_name
        .names
        .iter()
        .filter_map(|n| match &n.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect();
    let mut mods = Vec::new();
    for m in &type_name.typmods {
        match &m.node {
            Some(N::AConst(c)) => match &c.val {
                Some(a_const::Val::Ival(i)) => mods.push(i.ival.to_string()),
                _ => {
                    return Err(format!(
                        "`{text}`: only integer type modifiers are supported"
                    ))
                }
            },
            _ => {
                return Err(format!(
                    "`{text}`: only integer type modifiers are supported"
                ))
            }
        }
    }
    let array = "[]".repeat(type_name.array_bounds.len());
    let modifier = if mods.is_empty() {
        String::new()
    } else {
        format!("({})", mods.join(","))
    };
    let (sql, user_type) = match names.as_slice() {
        [schema, name] if schema == "pg_catalog" => (builtin_sql(name, &modifier), None),
        [name] if ALIASES.contains(&name.as_str()) => (builtin_sql(name, &modifier), None),
        [name] => {
            if !BUILTIN_TYPES.contains(&name.as_str()) {
                return Err(format!("unknown type `{name}`"));
            }
            (format!("{}{modifier}", quote_ident(name)), None)
        }
        [schema, name] => (
            format!("{}.{}{modifier}", quote_ident(schema), quote_ident(name)),
            Some(QName::new(schema.clone(), name.clone())),
        ),
        _ => {
            return Err(format!(
                "`{text}` is not a type name PostgreSQL accepts here"
            ))
        }
    };
    Ok(TypeRef {
        sql: format!("{sql}{array}"),
        user_type,
    })
}

/// The SQL spelling PostgreSQL's `format_type` uses for the built-ins the grammar rewrites.
fn builtin_sql(name: &str, modifier: &str) -> String {
    let plain = |s: &str| format!("{s}{modifier}");
    match name {
        "int2" => plain("smallint"),
        "int4" => plain("integer"),
        "int8" => plain("bigint"),
        "float4" => plain("real"),
        "float8" => plain("double precision"),
        "bool" => plain("boolean"),
        "varchar" => plain("character varying"),
        "bpchar" => plain("character"),
        "numeric" => plain("numeric"),
        "timestamptz" => format!("timestamp{modifier} with time zone"),
        "timestamp" => format!("timestamp{modifier} without time zone"),
        "timetz" => format!("time{modifier} with time zone"),
        "time" => format!("time{modifier} without time zone"),
        "interval" => plain("interval"),
        "bit" => plain("bit"),
        "varbit" => plain("bit varying"),
        other => format!("pg_catalog.{}{modifier}", quote_ident(other)),
    }
}

/// Parse one SQL expression, exactly as it will be rendered: `(<text>)`, with the text
/// trimmed. A fragment that ends in a `--` comment keeps a line break after it (see
/// [`keep_comment_open`]), so the comment cannot swallow what the template writes after it.
pub fn parse_expr(text: &str) -> Result<Expr, String> {
    memo(&EXPRS, text, parse_expr_text)
}

fn parse_expr_text(text: &str) -> Result<Expr, String> {
    let sql = keep_comment_open(text.trim());
    if sql.is_empty() {
        return Err("the expression is empty".into());
    }
    let wrapped = format!("SELECT ({sql})");
    let parsed =
        pg_query::parse(&wrapped, pg_query::ParserOptions::DEFAULT).map_err(|e| clean_error(&e))?;
    let Some(target) = single_select(&parsed).and_then(single_target) else {
        return Err("expected exactly one SQL expression".into());
    };
    if let Some(N::RowExpr(r)) = target {
        if r.row_format == pg_query::protobuf::CoercionForm::CoerceImplicitCast as i32 {
            return Err(
                "this is a list of expressions separated by commas (a row); write one expression"
                    .into(),
            );
        }
    }
    Ok(Expr {
        sql,
        refs: Arc::new(refs_of(&parsed)),
    })
}

/// A trimmed fragment whose last token is a `--` comment gets its line break back: rendered
/// on one line, the comment would run over the `)`, `,` or `;` that follows it.
fn keep_comment_open(trimmed: &str) -> String {
    let ends_in_comment = pg_query::scan(trimmed)
        .ok()
        .and_then(|s| s.tokens.last().map(|t| t.token))
        .is_some_and(|t| t == pg_query::protobuf::Token::SqlComment as i32);
    if ends_in_comment {
        format!("{trimmed}\n")
    } else {
        trimmed.to_string()
    }
}

/// Parse an SQL-language function body (one or more statements).
pub fn parse_sql_body(body: &str) -> Result<Refs, String> {
    let parsed =
        pg_query::parse(body, pg_query::ParserOptions::DEFAULT).map_err(|e| clean_error(&e))?;
    Ok(refs_of(&parsed))
}

/// Parse a view's query: exactly one `SELECT` (or `VALUES`, `WITH ... SELECT`) statement.
pub fn parse_query(text: &str) -> Result<Expr, String> {
    if text.trim().is_empty() {
        return Err("the query is empty".into());
    }
    let parsed =
        pg_query::parse(text, pg_query::ParserOptions::DEFAULT).map_err(|e| clean_error(&e))?;
    let stmts = &parsed.protobuf.stmts;
    let is_select = stmts.len() == 1
        && matches!(
            stmts[0].stmt.as_ref().and_then(|s| s.node.as_ref()),
            Some(N::SelectStmt(_))
        );
    if !is_select {
        return Err("a view's query must be exactly one SELECT statement".into());
    }
    Ok(Expr {
        sql: keep_comment_open(text.trim().trim_end_matches(';').trim_end()),
        refs: Arc::new(refs_of(&parsed)),
    })
}

/// Parse a raw SQL script (the escape hatch).
pub fn parse_script(sql: &str) -> Result<(), String> {
    pg_query::parse(sql, pg_query::ParserOptions::DEFAULT)
        .map(|_| ())
        .map_err(|e| clean_error(&e))
}

/// Check a PL/pgSQL body with PostgreSQL's PL/pgSQL parser, given the whole `CREATE FUNCTION`
/// statement (so parameters and trigger variables are known).
pub fn parse_plpgsql(create_function: &str) -> Result<(), String> {
    match pg_query::parse_plpgsql(create_function) {
        Ok(_) => Ok(()),
        // libpg_query's PL/pgSQL parser cannot resolve some declarations without a catalog
        // (e.g. `v auth.users;` outside pg_catalog and public); PostgreSQL checks those when
        // the function is created.
        Err(pg_query::Error::Parse(m)) if m.starts_with("Not implemented") => Ok(()),
        // Its JSON output is malformed for some valid bodies (seen with trigger functions
        // assigning to NEW); a syntax error always comes back as `Parse`.
        Err(pg_query::Error::InvalidJson(_)) => Ok(()),
        Err(e) => Err(clean_error(&e)),
    }
}

fn clean_error(e: &pg_query::Error) -> String {
    match e {
        pg_query::Error::Parse(m) => m.clone(),
        other => other.to_string(),
    }
}

fn single_select(parsed: &pg_query::ParseResult) -> Option<&pg_query::protobuf::SelectStmt> {
    let stmts = &parsed.protobuf.stmts;
    if stmts.len() != 1 {
        return None;
    }
    match stmts[0].stmt.as_ref()?.node.as_ref()? {
        N::SelectStmt(s) => {
            let plain = s.from_clause.is_empty()
                && s.where_clause.is_none()
                && s.group_clause.is_empty()
                && s.having_clause.is_none()
                && s.sort_clause.is_empty()
                && s.limit_count.is_none()
                && s.limit_offset.is_none()
                && s.with_clause.is_none()
                && s.op == pg_query::protobuf::SetOperation::SetopNone as i32;
            plain.then_some(&**s)
        }
        _ => None,
    }
}

fn single_target(stmt: &pg_query::protobuf::SelectStmt) -> Option<Option<&N>> {
    if stmt.target_list.len() != 1 {
        return None;
    }
    match stmt.target_list[0].node.as_ref()? {
        N::ResTarget(t) if t.name.is_empty() => Some(t.val.as_ref().and_then(|v| v.node.as_ref())),
        _ => None,
    }
}

/// Schema-qualified relations and functions named anywhere in a parse tree.
fn refs_of(parsed: &pg_query::ParseResult) -> Refs {
    let mut refs = Refs::default();
    for (node, _, _, _) in parsed.protobuf.nodes() {
        match node.to_enum() {
            NodeEnum::RangeVar(rv) if !rv.schemaname.is_empty() => {
                refs.relations
                    .insert(QName::new(rv.schemaname.clone(), rv.relname.clone()));
            }
            NodeEnum::FuncCall(fc) => {
                let names: Vec<String> = fc
                    .funcname
                    .iter()
                    .filter_map(|n| match &n.node {
                        Some(N::String(s)) => Some(s.sval.clone()),
                        _ => None,
                    })
                    .collect();
                if let [schema, name] = names.as_slice() {
                    if schema != "pg_catalog" {
                        refs.functions
                            .insert(QName::new(schema.clone(), name.clone()));
                    }
                }
            }
            NodeEnum::ColumnRef(cr) => {
                let last = cr.fields.last().and_then(|n| n.node.as_ref());
                match last {
                    Some(N::String(s)) => {
                        refs.columns.insert(s.sval.clone());
                    }
                    Some(N::AStar(_)) => {
                        refs.columns.insert("*".into());
                    }
                    _ => {}
                }
            }
            NodeEnum::TypeCast(tc) => {
                if let Some(tn) = &tc.type_name {
                    type_ref_of(tn, &mut refs);
                }
            }
            NodeEnum::TypeName(tn) => type_ref_of(&tn, &mut refs),
            _ => {}
        }
    }
    refs
}

fn type_ref_of(tn: &pg_query::protobuf::TypeName, refs: &mut Refs) {
    let names: Vec<String> = tn
        .names
        .iter()
        .filter_map(|n| match &n.node {
            Some(N::String(s)) => Some(s.sval.clone()),
            _ => None,
        })
        .collect();
    if let [schema, name] = names.as_slice() {
        if schema != "pg_catalog" {
            refs.types.insert(QName::new(schema.clone(), name.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_canonical() {
        assert_eq!(parse_type("int").unwrap().sql, "integer");
        assert_eq!(
            parse_type("timestamptz").unwrap().sql,
            "timestamp with time zone"
        );
        assert_eq!(
            parse_type("timestamp with time zone").unwrap().sql,
            "timestamp with time zone"
        );
        assert_eq!(parse_type("int4").unwrap().sql, "integer");
        assert_eq!(
            parse_type("varchar(40)").unwrap().sql,
            "character varying(40)"
        );
        assert_eq!(parse_type("text[]").unwrap().sql, "text[]");
        let t = parse_type("auth.team_role").unwrap();
        assert_eq!(t.sql, "auth.team_role");
        assert_eq!(t.user_type, Some(QName::new("auth", "team_role")));
        assert_eq!(
            parse_type("\"My Schema\".\"T\"").unwrap().sql,
            "\"My Schema\".\"T\""
        );
    }

    #[test]
    fn types_reject_injection_and_unknowns() {
        assert!(parse_type("int); DROP TABLE x; --").is_err());
        assert!(parse_type("int, b text").is_err());
        assert!(parse_type("strng").is_err());
    }

    #[test]
    fn expressions_are_single() {
        let e = parse_expr("id = auth.id() AND EXISTS (SELECT 1 FROM auth.users u)").unwrap();
        assert!(e.refs.functions.contains(&QName::new("auth", "id")));
        assert!(e.refs.relations.contains(&QName::new("auth", "users")));
        assert!(parse_expr("true); DROP TABLE x; --").is_err());
        assert!(parse_expr("1), (2").is_err());
        assert!(parse_expr("1 -- c\n) ; DROP TABLE x; SELECT (1").is_err());
        // A trailing comment keeps its line break, so nothing rendered after it is swallowed.
        assert_eq!(parse_expr("now() -- c\n").unwrap().sql, "now() -- c\n");
        assert_eq!(parse_expr("  now()  \n").unwrap().sql, "now()");
        assert!(parse_expr("").is_err());
    }
}
