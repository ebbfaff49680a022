//! Render: changes to SQL through the templates in `templates/` (embedded in the binary; a
//! project may override any of them from its own `templates/` folder). Rendering is a pure
//! function of a change. Values reach templates unquoted and leave them through the quoting
//! filters, which call the one quoting helper in `catalog::ident`.

use std::path::Path;
use std::sync::OnceLock;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use crate::catalog::{dollar_quote, quote_ident, quote_literal, Function};
use crate::diff::Change;

macro_rules! builtin_templates {
    ($($name:literal),* $(,)?) => {
        /// The built-in templates: (file name, source).
        pub const BUILTIN: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../templates/", $name))),)*
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
        env.add_filter("idents", |v: Vec<String>| {
            v.iter()
                .map(|s| quote_ident(s))
                .collect::<Vec<_>>()
                .join(", ")
        });
        env.add_filter("qname", qname);
        env.add_filter("literal", |s: Option<String>| {
            s.map_or_else(|| "NULL".to_string(), |s| quote_literal(&s))
        });
        env.add_filter("dollar", |s: &str| dollar_quote(s));
        env.add_filter("grantee", |s: &str| grantee(s));
        env.add_filter("grantees", |v: Vec<String>| {
            v.iter().map(|s| grantee(s)).collect::<Vec<_>>().join(", ")
        });
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
        let name = format!(
            "{}.sql",
            kind.as_ref().and_then(Value::as_str).unwrap_or_default()
        );
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
            transactional: !matches!(change, Change::AddEnumValue { .. }),
        })
    }

    pub fn render_all(&self, changes: &[Change]) -> Result<Vec<Statement>, RenderError> {
        changes
            .iter()
            .map(|c| self.render(c))
            .filter(|s| !matches!(s, Ok(st) if st.sql.is_empty()))
            .collect()
    }
}

fn qname(v: Value) -> Result<String, Error> {
    let part = |key: &str| -> Result<String, Error> {
        let value = v.get_attr(key)?;
        value.as_str().map(quote_ident).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("qname: `{key}` is not a string"),
            )
        })
    };
    Ok(format!("{}.{}", part("schema")?, part("name")?))
}

fn grantee(s: &str) -> String {
    if s == "PUBLIC" {
        "PUBLIC".into()
    } else {
        quote_ident(s)
    }
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
