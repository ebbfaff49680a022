//! Render: changes to SQL through the templates in `templates/` (embedded in the binary; a
//! project may override any of them from its own `templates/` folder). Rendering is a pure
//! function of a change. Values reach templates unquoted and leave them through the quoting
//! filters, which call the one quoting helper in `catalog::ident`.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use crate::catalog::{dollar_quote, push_ident, quote_ident, quote_literal, Function};
use crate::diff::Change;

mod memo;
pub use memo::{Memoized, Rendered};

macro_rules! builtin_templates {
    ($($name:literal),* $(,)?) => {
        /// The built-in templates: (file name, source).
        pub const BUILTIN: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../templates/", $name))),)*
        ];
    };
}

builtin_templates!(
    "_macros.sql",
    "create_role.sql",
    "alter_role.sql",
    "drop_role.sql",
    "grant_membership.sql",
    "revoke_membership.sql",
    "create_schema.sql",
    "alter_schema_owner.sql",
    "set_schema_public_access.sql",
    "drop_schema.sql",
    "create_extension.sql",
    "drop_extension.sql",
    "grant_default_privileges.sql",
    "revoke_default_privileges.sql",
    "create_enum.sql",
    "add_enum_value.sql",
    "rebuild_enum.sql",
    "drop_enum.sql",
    "rename_table.sql",
    "rename_view.sql",
    "rename_enum.sql",
    "rename_function.sql",
    "rename_column.sql",
    "rename_enum_value.sql",
    "rename_policy.sql",
    "create_view.sql",
    "alter_view.sql",
    "drop_view.sql",
    "irreversible.sql",
    "create_sequence.sql",
    "alter_sequence.sql",
    "drop_sequence.sql",
    "create_table.sql",
    "alter_table.sql",
    "drop_table.sql",
    "set_column_default.sql",
    "drop_column_default.sql",
    "add_check.sql",
    "drop_check.sql",
    "create_index.sql",
    "drop_index.sql",
    "add_foreign_key.sql",
    "drop_foreign_key.sql",
    "create_policy.sql",
    "drop_policy.sql",
    "create_trigger.sql",
    "drop_trigger.sql",
    "create_function.sql",
    "drop_function.sql",
    "set_function_owner.sql",
    "set_public_execute.sql",
    "grant.sql",
    "revoke.sql",
    "set_comment.sql",
    "insert_row.sql",
    "delete_row.sql",
    "run_sql.sql",
);

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read template override {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("template {name}: {source:#}")]
    Template { name: String, source: Error },
}

/// One rendered statement.
#[derive(Clone, Debug)]
pub struct Statement {
    pub sql: String,
    /// Whether it may run inside the migration's transaction. An enum value added there
    /// cannot be used before it commits, so additions are committed first.
    pub transactional: bool,
}

impl Statement {
    fn is_transactional(change: &Change) -> bool {
        !matches!(change, Change::AddEnumValue { .. })
    }
}

pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// The built-in templates, with any file of the same name in `overrides` taking its place.
    pub fn new(overrides: Option<&Path>) -> Result<Renderer, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.add_filter("ident", |s: &str| quote_ident(s));
        env.add_filter("idents", |v: Vec<String>| comma_list(&v, push_ident));
        env.add_filter("qname", qname);
        env.add_filter("target", target);
        env.add_filter("privileges", privileges);
        env.add_filter("literal", |s: Option<String>| {
            s.map_or_else(|| "NULL".to_string(), |s| quote_literal(&s))
        });
        env.add_filter("dollar", |s: &str| dollar_quote(s));
        env.add_filter("grantee", |s: &str| grantee(s));
        env.add_filter("grantees", |v: Vec<String>| comma_list(&v, push_grantee));
        for (name, source) in BUILTIN {
            let text = match overrides.map(|dir| dir.join(name)).filter(|p| p.is_file()) {
                Some(path) => {
                    std::fs::read_to_string(&path).map_err(|source| RenderError::Read {
                        path: path.display().to_string(),
                        source,
                    })?
                }
                None => (*source).to_string(),
            };
            env.add_template_owned(*name, text)
                .map_err(|source| RenderError::Template {
                    name: (*name).into(),
                    source,
                })?;
        }
        Ok(Renderer { env })
    }

    /// The renderer with the built-in templates only.
    pub fn builtin() -> &'static Renderer {
        static BUILTIN_RENDERER: OnceLock<Renderer> = OnceLock::new();
        BUILTIN_RENDERER.get_or_init(|| Renderer::new(None).expect("built-in templates compile"))
    }

    pub fn render(&self, change: &Change) -> Result<Statement, RenderError> {
        let value = Value::from(minijinja::value::Serde(change));
        // The serde tag of the change names its template.
        let kind = value.get_attr("change").ok();
        let kind = kind.as_ref().and_then(Value::as_str).unwrap_or_default();
        let mut name = String::with_capacity(kind.len() + 4);
        name.push_str(kind);
        name.push_str(".sql");
        let template = self
            .env
            .get_template(&name)
            .map_err(|source| RenderError::Template {
                name: name.clone(),
                source,
            })?;
        let sql = template
            .render(value)
            .map_err(|source| RenderError::Template {
                name: name.clone(),
                source,
            })?;
        let trimmed = sql.trim();
        let sql = if trimmed.len() == sql.len() {
            sql
        } else {
            trimmed.to_string()
        };
        Ok(Statement {
            sql,
            transactional: Statement::is_transactional(change),
        })
    }

    pub fn render_all(&self, changes: &[Change]) -> Result<Vec<Statement>, RenderError> {
        non_empty(changes.iter().map(|c| self.render(c)))
    }
}

/// The statements rendered, without the empty ones (a template may render nothing), or the
/// first failure.
fn non_empty(
    rendered: impl Iterator<Item = Result<Statement, RenderError>>,
) -> Result<Vec<Statement>, RenderError> {
    rendered
        .filter(|s| !matches!(s, Ok(st) if st.sql.is_empty()))
        .collect()
}

fn qname(v: Value) -> Result<String, Error> {
    let mut out = String::new();
    push_qname(&mut out, &v)?;
    Ok(out)
}

/// `schema.name` of a value with those two attributes, quoted, appended to `out`.
fn push_qname(out: &mut String, v: &Value) -> Result<(), Error> {
    let (schema, name) = (v.get_attr("schema")?, v.get_attr("name")?);
    let (schema, name) = (string(&schema, "schema")?, string(&name, "name")?);
    out.reserve(schema.len() + name.len() + 5);
    push_ident(out, schema);
    out.push('.');
    push_ident(out, name);
    Ok(())
}

/// What a grant, comment, drop or rename names, from a `Target`: `TABLE s.t`,
/// `FUNCTION s.f(integer)`, `POLICY p ON s.t`, `COLUMN s.t.c`, `ROLE r`. A filter rather
/// than a macro: macros cost three times as much to call, and tens of thousands of grants
/// and comments call this.
fn target(t: Value) -> Result<String, Error> {
    let (kind, name) = (t.get_attr("kind")?, t.get_attr("name")?);
    let (kind, name) = (string(&kind, "kind")?, string(&name, "name")?);
    let mut out = String::with_capacity(kind.len() + name.len() * 3);
    match kind {
        "POLICY" | "TRIGGER" | "CONSTRAINT" => {
            out.push_str(kind);
            out.push(' ');
            push_ident(&mut out, name);
            out.push_str(" ON ");
            push_qname(&mut out, &t.get_attr("table")?)?;
        }
        "COLUMN" => {
            out.push_str("COLUMN ");
            push_qname(&mut out, &t.get_attr("table")?)?;
            out.push('.');
            push_ident(&mut out, name);
        }
        _ => {
            out.push_str(kind);
            out.push(' ');
            let schema = t.get_attr("schema")?;
            if !schema.is_none() {
                push_ident(&mut out, string(&schema, "schema")?);
                out.push('.');
            }
            push_ident(&mut out, name);
            let args = t.get_attr("args")?;
            if !schema.is_none() && !args.is_none() {
                out.push('(');
                push_list(&mut out, args.try_iter()?, |out, a| {
                    write!(out, "{a}").expect("writing to a String");
                    Ok::<(), Error>(())
                })?;
                out.push(')');
            }
        }
    }
    Ok(out)
}

/// A `Grant`'s privileges, each with the grant's columns when it has any:
/// `SELECT, UPDATE` or `SELECT (a, b)`.
fn privileges(g: Value) -> Result<String, Error> {
    let columns = g.get_attr("columns")?;
    let mut cols = String::new();
    if columns.is_true() {
        cols.push_str(" (");
        push_list(&mut cols, columns.try_iter()?, |out, c| {
            push_ident(out, string(&c, "columns")?);
            Ok::<(), Error>(())
        })?;
        cols.push(')');
    }
    let mut out = String::new();
    push_list(&mut out, g.get_attr("privileges")?.try_iter()?, |out, p| {
        write!(out, "{p}{cols}").expect("writing to a String");
        Ok::<(), Error>(())
    })?;
    Ok(out)
}

/// The string `v`, the value of `key`, or an error naming `key`.
fn string<'v>(v: &'v Value, key: &str) -> Result<&'v str, Error> {
    v.as_str().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("`{key}` is not a string"),
        )
    })
}

fn grantee(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    push_grantee(&mut out, s);
    out
}

fn push_grantee(out: &mut String, s: &str) {
    if s == "PUBLIC" {
        out.push_str("PUBLIC");
    } else {
        push_ident(out, s);
    }
}

/// Each of `names`, written by `push`, separated by commas.
fn comma_list(names: &[String], push: fn(&mut String, &str)) -> String {
    let mut out = String::with_capacity(names.iter().map(|n| n.len() + 4).sum());
    let Ok(()) = push_list(&mut out, names, |out, n| {
        push(out, n);
        Ok::<(), std::convert::Infallible>(())
    });
    out
}

/// Each of `items`, written by `push` into `out`, separated by commas.
fn push_list<T, E>(
    out: &mut String,
    items: impl IntoIterator<Item = T>,
    mut push: impl FnMut(&mut String, T) -> Result<(), E>,
) -> Result<(), E> {
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push(out, item)?;
    }
    Ok(())
}

/// The `CREATE FUNCTION` statement for `f`, rendered with the built-in template, for checking
/// a PL/pgSQL body with PostgreSQL's PL/pgSQL parser.
pub fn plpgsql_check_text(f: &Function) -> String {
    let change = Change::CreateFunction {
        function: Box::new(f.clone()),
        replace: false,
    };
    Renderer::builtin()
        .render(&change)
        .map(|s| s.sql)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Grant, Privilege, QName};
    use crate::diff::Target;

    fn target(kind: &'static str, schema: Option<&str>, name: &str) -> Target {
        Target {
            kind,
            schema: schema.map(str::to_string),
            name: name.into(),
            args: None,
            table: None,
        }
    }

    #[test]
    fn targets_name_each_kind_of_object_as_postgresql_spells_it() {
        let table = QName {
            schema: "app".into(),
            name: "Order".into(),
        };
        let on_table = |kind, name: &str| Target {
            table: Some(table.clone()),
            ..target(kind, None, name)
        };
        let function = Target {
            args: Some(vec!["integer".into(), "text[]".into()]),
            ..target("FUNCTION", Some("auth"), "has_role")
        };
        let cases = [
            (
                target("TABLE", Some("app"), "Order"),
                r#"TABLE app."Order""#,
            ),
            (target("ROLE", None, "select"), r#"ROLE "select""#),
            (on_table("COLUMN", "id"), r#"COLUMN app."Order".id"#),
            (
                on_table("POLICY", "own rows"),
                r#"POLICY "own rows" ON app."Order""#,
            ),
            (
                on_table("TRIGGER", "touch"),
                r#"TRIGGER touch ON app."Order""#,
            ),
            (
                on_table("CONSTRAINT", "order_pkey"),
                r#"CONSTRAINT order_pkey ON app."Order""#,
            ),
            (function, "FUNCTION auth.has_role(integer, text[])"),
        ];
        for (t, expected) in cases {
            let sql = Renderer::builtin()
                .render(&Change::SetComment {
                    target: Box::new(t),
                    text: Some("it's".into()),
                })
                .unwrap()
                .sql;
            assert_eq!(sql, format!("COMMENT ON {expected} IS 'it''s';"));
        }
    }

    #[test]
    fn privileges_carry_the_columns_of_their_grant() {
        let grant = |columns: &[&str]| Change::Grant {
            target: Box::new(target("TABLE", Some("app"), "t")),
            grant: Grant {
                grantee: "PUBLIC".into(),
                privileges: [Privilege::Update, Privilege::Select].into_iter().collect(),
                columns: columns.iter().map(|c| c.to_string()).collect(),
            },
        };
        let sql = |c: Change| Renderer::builtin().render(&c).unwrap().sql;
        assert_eq!(
            sql(grant(&[])),
            "GRANT SELECT, UPDATE ON TABLE app.t TO PUBLIC;"
        );
        assert_eq!(
            sql(grant(&["a", "Note"])),
            r#"GRANT SELECT (a, "Note"), UPDATE (a, "Note") ON TABLE app.t TO PUBLIC;"#
        );
    }

    #[test]
    fn the_macros_give_what_the_filters_give() {
        // A project template written against the macros renders as before.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("grant.sql"),
            "{% import \"_macros.sql\" as m -%}\nGRANT {{ m.privileges(grant) }} ON {{ m.target(target) }} TO {{ grant.grantee|grantee }};\n",
        )
        .unwrap();
        let with_macros = Renderer::new(Some(dir.path())).unwrap();
        let change = Change::Grant {
            target: Box::new(target("SCHEMA", None, "app")),
            grant: Grant {
                grantee: "runtime".into(),
                privileges: [Privilege::Usage].into_iter().collect(),
                columns: vec![],
            },
        };
        let expected = Renderer::builtin().render(&change).unwrap().sql;
        assert_eq!(expected, "GRANT USAGE ON SCHEMA app TO runtime;");
        assert_eq!(with_macros.render(&change).unwrap().sql, expected);
    }
}
