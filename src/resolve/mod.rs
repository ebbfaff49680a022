//! Resolve: turn one layer's spec into the next catalog state. Names are parsed, defaults
//! filled in, SQL fragments checked, redefinitions and patches applied; then the whole state
//! is validated (see [`validate`]). Every problem becomes a diagnostic at its YAML position.

mod drops;
mod evolve;
mod implicit;
mod rules;
pub mod sql;
mod table;
mod validate;
mod view;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::catalog::affected::{Affected, Referrers};
use crate::catalog::*;
use crate::diagnostic::{suggest, Diagnostic, Diagnostics, Span};
use crate::spec::{self, span_of, LayerFile, LayerSpec, Spanned};

pub use validate::validate;

/// What a project assumes exists outside it.
#[derive(Clone, Debug, Default)]
pub struct Externals {
    pub roles: BTreeSet<String>,
    pub schemas: BTreeSet<String>,
    /// The role that runs the migrations (`migrator` in schemac.yaml), when known.
    pub migrator: Option<String>,
}

/// The raw SQL of a layer's escape hatch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawSql {
    pub up: String,
    pub down: String,
}

/// A layer applied to the state before it.
#[derive(Debug)]
pub struct Resolved {
    pub state: Catalog,
    pub raw: Option<RawSql>,
    pub transition: Transition,
    /// The tables and views the layer concerns (see [`crate::catalog::affected`]).
    pub affected: Affected,
}

/// Apply one layer to the state before it. Returns the state after it, the layer's raw SQL,
/// its transition (renames, conversions, accepted data loss) and what it concerns, or every
/// diagnostic found. `layer` names the file, `spec` is what it declares (the file's own, or
/// taken from it); `referrers` indexes the tables of `prev`.
pub fn apply_layer(
    prev: &Catalog,
    layer: &LayerFile,
    spec: &LayerSpec,
    externals: &Externals,
    referrers: &Referrers,
) -> Result<Resolved, Diagnostics> {
    let mut r = Resolver {
        file: layer.display_path.clone(),
        diags: Diagnostics::default(),
        externals,
        state: prev.clone(),
        declared: BTreeSet::new(),
        transition: Transition::default(),
    };
    r.drops(&spec.drop);
    for s in &spec.roles {
        r.role(s);
    }
    for s in &spec.schemas {
        r.schema(s);
    }
    for s in &spec.extensions {
        r.extension(s);
    }
    for s in &spec.enums {
        r.enum_type(s);
    }
    for s in &spec.sequences {
        r.sequence(s);
    }
    for s in &spec.tables {
        r.table(s);
    }
    for s in &spec.functions {
        r.function(s);
    }
    for s in &spec.views {
        r.view(s);
    }
    for s in &spec.default_privileges {
        r.default_privilege(s);
    }
    for s in &spec.rows {
        r.rows(s);
    }
    let raw = spec.sql.as_ref().map(|s| r.raw_sql(s));
    r.accept_data_loss(&spec.accept_data_loss);
    r.default_grants(prev);
    let affected = validate(prev, &mut r.state, referrers, externals, &mut r.diags);
    let Resolver {
        diags,
        state,
        transition,
        ..
    } = r;
    diags.into_result(Resolved {
        state,
        raw,
        transition,
        affected,
    })
}

struct Resolver<'a> {
    file: Arc<str>,
    diags: Diagnostics,
    externals: &'a Externals,
    state: Catalog,
    /// Identities declared by this layer, to catch duplicates.
    declared: BTreeSet<String>,
    transition: Transition,
}

impl Resolver<'_> {
    fn span<T>(&self, s: &Spanned<T>) -> Span {
        span_of(&self.file, s)
    }

    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::error(code, message).at(Some(span)).help(help));
    }

    /// Record a declaration; false (with a diagnostic) when the layer already declared it.
    /// `what` names the object in that diagnostic, made only then.
    fn declare(&mut self, key: String, span: &Span, what: impl FnOnce() -> String) -> bool {
        if !self.declared.insert(key.clone()) {
            let first = self.state.origins.get(&key).cloned();
            let help = match first {
                Some(f) => format!("it is first declared at {f}; keep one declaration per layer"),
                None => "keep one declaration per layer".into(),
            };
            self.err(
                "E020",
                span.clone(),
                format!("{} is declared twice in this layer", what()),
                help,
            );
            return false;
        }
        self.state.origins.insert(key, span.clone());
        true
    }

    fn ident(&mut self, s: &Spanned<String>) -> Option<String> {
        match ident::validate_ident(&s.value) {
            Ok(()) => Some(s.value.clone()),
            Err(msg) => {
                let span = self.span(s);
                self.err(
                    "E021",
                    span,
                    format!("invalid name: {msg}"),
                    "use a name of 1 to 63 bytes",
                );
                None
            }
        }
    }

    fn qname(&mut self, s: &Spanned<String>) -> Option<QName> {
        match QName::parse(&s.value) {
            Ok(q) => Some(q),
            Err(msg) => {
                let span = self.span(s);
                self.err(
                    "E021",
                    span,
                    format!("invalid name: {msg}"),
                    "write schema-qualified names as `schema.name`; quote a part containing a dot: '\"a.b\".c'",
                );
                None
            }
        }
    }

    fn type_ref(&mut self, s: &Spanned<String>) -> Option<TypeRef> {
        self.type_text(&s.value, self.span(s))
    }

    fn type_text(&mut self, text: &str, span: Span) -> Option<TypeRef> {
        match sql::parse_type(text) {
            Ok(t) => Some(t),
            Err(msg) => {
                self.err(
                    "E040",
                    span,
                    msg,
                    "use a PostgreSQL type (`text`, `int`, `timestamptz`, `varchar(40)`, `uuid[]` ...) or a schema-qualified enum or table type (`auth.team_role`)",
                );
                None
            }
        }
    }

    fn expr(&mut self, s: &Spanned<String>, what: &str) -> Option<Expr> {
        let span = self.span(s);
        if !self.no_marker(&s.value, &span) {
            return None;
        }
        match sql::parse_expr(&s.value) {
            Ok(e) => Some(e),
            Err(msg) => {
                self.err(
                    "E050",
                    span,
                    format!("{what} is not a valid SQL expression: {msg}"),
                    "write a single PostgreSQL expression, e.g. `now()` or `owner_id = auth.id()`",
                );
                None
            }
        }
    }

    /// SQL text must not contain a line dbmate would read as a section marker.
    fn no_marker(&mut self, text: &str, span: &Span) -> bool {
        if let Some((n, line)) = text.lines().enumerate().find(|(_, l)| is_dbmate_marker(l)) {
            // serde-saphyr places a block scalar at its first content line, so line n of the
            // text is n lines further down, at the same indentation.
            let at = Span {
                line: span.line + n as u64,
                ..span.clone()
            };
            self.err(
                "E051",
                at,
                format!("a line starts with `{}`, which dbmate reads as a section marker", line.trim_end()),
                "indent the line or change the comment; dbmate splits files at lines starting with `-- migrate:`",
            );
            return false;
        }
        true
    }

    fn role_name(&mut self, s: &Spanned<String>) -> Option<String> {
        if s.value.eq_ignore_ascii_case("public") {
            return Some("PUBLIC".into());
        }
        self.ident(s)
    }

    fn privileges(
        &mut self,
        list: &[Spanned<String>],
        object: PrivilegeObject,
    ) -> BTreeSet<Privilege> {
        let mut out = BTreeSet::new();
        for p in list {
            let word = p.value.to_ascii_lowercase();
            if word == "all" || word == "all privileges" {
                out.extend(object.allowed().iter().copied());
                continue;
            }
            match object
                .allowed()
                .iter()
                .find(|a| a.keyword().eq_ignore_ascii_case(&word))
            {
                Some(a) => {
                    out.insert(*a);
                }
                None => {
                    let names: Vec<String> = object
                        .allowed()
                        .iter()
                        .map(|a| a.keyword().to_ascii_lowercase())
                        .collect();
                    let span = self.span(p);
                    self.err(
                        "E060",
                        span,
                        format!(
                            "`{}` is not a privilege on a {}",
                            p.value,
                            format!("{object:?}").to_ascii_lowercase()
                        ),
                        format!("use one of: {}, all", names.join(", ")),
                    );
                }
            }
        }
        out
    }

    fn grants(&mut self, specs: &[spec::GrantSpec], object: PrivilegeObject) -> Vec<Grant> {
        let mut out: Vec<Grant> = Vec::new();
        for g in specs {
            let kind = if g.columns.is_empty() {
                object
            } else {
                PrivilegeObject::Column
            };
            if !g.columns.is_empty() && object != PrivilegeObject::Table {
                let span = self.span(&g.columns[0]);
                self.err(
                    "E061",
                    span,
                    "column grants exist only on tables",
                    "remove `columns`",
                );
                continue;
            }
            let privileges = self.privileges(&g.privileges, kind);
            let columns: Vec<String> = g.columns.iter().filter_map(|c| self.ident(c)).collect();
            for to in &g.to {
                let Some(grantee) = self.role_name(to) else {
                    continue;
                };
                match out
                    .iter_mut()
                    .find(|x| x.grantee == grantee && x.columns == columns)
                {
                    Some(existing) => existing.privileges.extend(privileges.iter().copied()),
                    None => out.push(Grant {
                        grantee,
                        privileges: privileges.clone(),
                        columns: columns.clone(),
                    }),
                }
            }
        }
        out.sort();
        out
    }

    fn keyword(
        &mut self,
        s: &Spanned<String>,
        allowed: &[(&str, &'static str)],
        what: &str,
    ) -> Option<&'static str> {
        let word = s.value.trim().to_ascii_lowercase().replace('_', " ");
        if let Some((_, kw)) = allowed.iter().find(|(k, _)| *k == word) {
            return Some(kw);
        }
        let names: Vec<&str> = allowed.iter().map(|(k, _)| *k).collect();
        let help = suggest(
            &word,
            names.iter().copied(),
            format!("use one of: {}", names.join(", ")),
        );
        let span = self.span(s);
        self.err(
            "E062",
            span,
            format!("`{}` is not a valid {what}", s.value),
            help,
        );
        None
    }

    // ----- object kinds -------------------------------------------------------------

    fn role(&mut self, s: &spec::RoleSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.ident(&s.name) else {
            return;
        };
        if !self.declare(format!("role {name}"), &span, || format!("role `{name}`")) {
            return;
        }
        let member_of = s.member_of.iter().filter_map(|m| self.ident(m)).collect();
        let password_env = match &s.password_env {
            Some(env) if !is_env_name(&env.value) => {
                let sp = self.span(env);
                self.err("E022", sp, format!("`{}` is not an environment variable name", env.value), "name the variable that holds the password, e.g. `APP_USER_PASSWORD`; never the password itself");
                None
            }
            Some(env) if !s.login => {
                let sp = self.span(env);
                self.err(
                    "E022",
                    sp,
                    format!("role `{name}` has a password but cannot log in"),
                    "add `login: true` or remove `password_env`",
                );
                None
            }
            other => other.as_ref().map(|e| e.value.clone()),
        };
        self.state.roles.insert(
            name.clone(),
            Role {
                name,
                login: s.login,
                inherit: s.inherit,
                bypassrls: s.bypassrls,
                createdb: s.createdb,
                createrole: s.createrole,
                connection_limit: s.connection_limit.unwrap_or(-1),
                password_env,
                member_of,
                comment: s.comment.clone(),
            },
        );
    }

    fn schema(&mut self, s: &spec::SchemaSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.ident(&s.name) else {
            return;
        };
        if !self.declare(format!("schema {name}"), &span, || {
            format!("schema `{name}`")
        }) {
            return;
        }
        let owner = s.owner.as_ref().and_then(|o| self.ident(o));
        let grants = self.grants(&s.grants, PrivilegeObject::Schema);
        let created = name != "public" && !self.externals.schemas.contains(&name);
        self.state.schemas.insert(
            name.clone(),
            Schema {
                name,
                created,
                owner,
                revoke_public: s.revoke_public,
                grants,
                comment: s.comment.clone(),
            },
        );
    }

    fn extension(&mut self, s: &spec::ExtensionSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.ident(&s.name) else {
            return;
        };
        if !self.declare(format!("extension {name}"), &span, || {
            format!("extension `{name}`")
        }) {
            return;
        }
        let schema = s.schema.as_ref().and_then(|x| self.ident(x));
        self.state
            .extensions
            .insert(name.clone(), Extension { name, schema });
    }

    fn sequence(&mut self, s: &spec::SequenceSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.qname(&s.name) else {
            return;
        };
        if !self.declare(format!("sequence {name}"), &span, || {
            format!("sequence `{name}`")
        }) {
            return;
        }
        let data_type = match &s.data_type {
            Some(t) => self.type_ref(t),
            None => sql::parse_type("bigint").ok(),
        };
        let Some(data_type) = data_type else { return };
        let grants = self.grants(&s.grants, PrivilegeObject::Sequence);
        let seq = Sequence {
            name: name.clone(),
            data_type,
            start: s.start.unwrap_or(1),
            increment: s.increment.unwrap_or(1),
            grants,
            comment: s.comment.clone(),
        };
        if seq.increment == 0 {
            self.err(
                "E025",
                span,
                "a sequence increment cannot be 0",
                "use 1 (or -1 for a descending sequence)",
            );
            return;
        }
        self.state.sequences.insert(name, seq);
    }

    fn function(&mut self, s: &spec::FunctionSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.qname(&s.name) else {
            return;
        };
        let mut args = Vec::new();
        let mut ok = true;
        for a in &s.args {
            let aname = match &a.name {
                Some(n) => match self.ident(n) {
                    Some(n) => Some(n),
                    None => {
                        ok = false;
                        continue;
                    }
                },
                None => None,
            };
            let mode = match &a.mode {
                Some(m) => self.keyword(
                    m,
                    &[
                        ("in", "IN"),
                        ("out", "OUT"),
                        ("inout", "INOUT"),
                        ("variadic", "VARIADIC"),
                    ],
                    "argument mode",
                ),
                None => Some("IN"),
            };
            let data_type = self.type_ref(&a.data_type);
            let default = a
                .default
                .as_ref()
                .and_then(|d| self.expr(d, "the argument default"));
            match (mode, data_type) {
                (Some(mode), Some(data_type)) => args.push(Arg {
                    name: aname,
                    mode: mode.into(),
                    data_type,
                    default,
                }),
                _ => ok = false,
            }
        }
        let returns = self.returns(&s.returns);
        let language = match &s.language {
            Some(l) => self.keyword(
                l,
                &[("plpgsql", "plpgsql"), ("sql", "sql")],
                "function language",
            ),
            None => {
                self.err(
                    "E042",
                    span.clone(),
                    format!("function `{name}` does not say its language"),
                    "add `language: plpgsql` or `language: sql`",
                );
                None
            }
        };
        let volatility = match &s.volatility {
            Some(v) => self.keyword(
                v,
                &[
                    ("volatile", "VOLATILE"),
                    ("stable", "STABLE"),
                    ("immutable", "IMMUTABLE"),
                ],
                "volatility",
            ),
            None => Some("VOLATILE"),
        };
        let security_definer = match &s.security {
            Some(x) => {
                self.keyword(
                    x,
                    &[("invoker", "INVOKER"), ("definer", "DEFINER")],
                    "security",
                ) == Some("DEFINER")
            }
            None => false,
        };
        let search_path = s
            .search_path
            .as_ref()
            .map(|p| p.iter().filter_map(|x| self.ident(x)).collect());
        let owner = s.owner.as_ref().and_then(|o| self.ident(o));
        let grants = self.grants(&s.grants, PrivilegeObject::Function);
        let body_span = self.span(&s.body);
        let body_ok = self.no_marker(&s.body.value, &body_span);
        let (Some(returns), Some(language), Some(volatility)) = (returns, language, volatility)
        else {
            return;
        };
        if !ok || !body_ok {
            return;
        }
        let mut f = Function {
            name: name.clone(),
            overload: s.overload,
            args,
            returns,
            language: language.into(),
            volatility: volatility.into(),
            strict: s.strict,
            security_definer,
            search_path,
            owner,
            revoke_public: s.revoke_public,
            grants,
            comment: s.comment.clone(),
            body: s.body.value.clone(),
            body_refs: Refs::default(),
        };
        match f.language.as_str() {
            "sql" => match sql::parse_sql_body(&f.body) {
                Ok(refs) => f.body_refs = refs,
                Err(msg) => {
                    self.err(
                        "E052",
                        body_span,
                        format!("the body of `{name}` is not valid SQL: {msg}"),
                        "an SQL function body is one or more SQL statements",
                    );
                    return;
                }
            },
            _ => {
                let text = crate::render::plpgsql_check_text(&f);
                if let Err(msg) = sql::parse_plpgsql(&text) {
                    self.err(
                        "E052",
                        body_span,
                        format!("the body of `{name}` is not valid PL/pgSQL: {msg}"),
                        "a PL/pgSQL body is a block: [DECLARE ...] BEGIN ... END;",
                    );
                    return;
                }
            }
        }
        let key = FunctionKey {
            name: name.clone(),
            overload: s.overload.then(|| f.identity_types()),
        };
        if !self.declare(format!("function {key}"), &span, || {
            format!("function `{key}`")
        }) {
            return;
        }
        // Where the body starts, for findings about a line of it (`verify`'s plpgsql_check).
        self.state
            .origins
            .insert(format!("function {key} body"), body_span.clone());
        if let Some(from) = &s.renamed_from {
            self.rename_function(from, &key);
        }
        // A plain declaration replaces the earlier function of that name, whatever its
        // signature; overloads and plain declarations of one name do not mix.
        let same_name: Vec<FunctionKey> = self
            .state
            .functions
            .keys()
            .filter(|k| k.name == name)
            .cloned()
            .collect();
        let clash = same_name
            .iter()
            .find(|k| k.overload.is_some() != s.overload);
        if let Some(other) = clash {
            let help = if s.overload {
                format!("`{name}` is declared earlier as a single function; drop it first or declare it with `overload: true` there")
            } else {
                format!("`{other}` is declared as an overload; add `overload: true` here, or drop the overloads first")
            };
            self.err(
                "E041",
                span,
                format!("function `{name}` mixes an overload and a single declaration"),
                help,
            );
            return;
        }
        self.state.functions.insert(key, Arc::new(f));
    }

    fn returns(&mut self, s: &Spanned<spec::ReturnsSpec>) -> Option<Returns> {
        let span = self.span(s);
        match &s.value {
            spec::ReturnsSpec::Type(t) if t.eq_ignore_ascii_case("void") => Some(Returns::Void),
            spec::ReturnsSpec::Type(t) if t.eq_ignore_ascii_case("trigger") => {
                Some(Returns::Trigger)
            }
            spec::ReturnsSpec::Type(t) => self.type_text(t, span).map(Returns::Type),
            spec::ReturnsSpec::SetOf { setof } => self.type_text(setof, span).map(Returns::SetOf),
            spec::ReturnsSpec::Table { table } => {
                let mut cols = Vec::new();
                for c in table {
                    if let Err(msg) = ident::validate_ident(&c.name) {
                        self.err(
                            "E021",
                            span.clone(),
                            format!("invalid name: {msg}"),
                            "use a name of 1 to 63 bytes",
                        );
                        return None;
                    }
                    cols.push(ReturnColumn {
                        name: c.name.clone(),
                        data_type: self.type_text(&c.data_type, span.clone())?,
                    });
                }
                if cols.is_empty() {
                    self.err(
                        "E043",
                        span,
                        "`returns: {table: []}` has no columns",
                        "list the columns the function returns",
                    );
                    return None;
                }
                Some(Returns::Table(cols))
            }
        }
    }

    fn default_privilege(&mut self, s: &spec::DefaultPrivilegeSpec) {
        let Some(for_role) = self.ident(&s.for_role) else {
            return;
        };
        let in_schema = s.in_schema.as_ref().and_then(|x| self.ident(x));
        let Some(object_type) = self.keyword(
            &s.on,
            &[
                ("tables", "TABLES"),
                ("sequences", "SEQUENCES"),
                ("functions", "FUNCTIONS"),
                ("types", "TYPES"),
                ("schemas", "SCHEMAS"),
            ],
            "default privilege object type",
        ) else {
            return;
        };
        if object_type == "SCHEMAS" && in_schema.is_some() {
            let sp = self.span(&s.on);
            self.err(
                "E063",
                sp,
                "default privileges on schemas cannot be limited to a schema",
                "remove `in_schema`",
            );
            return;
        }
        let kind = match object_type {
            "TABLES" => PrivilegeObject::Table,
            "SEQUENCES" => PrivilegeObject::Sequence,
            "FUNCTIONS" => PrivilegeObject::Function,
            "TYPES" => PrivilegeObject::Type,
            _ => PrivilegeObject::Schema,
        };
        let privileges = self.privileges(&s.privileges, kind);
        for to in &s.to {
            let Some(grantee) = self.role_name(to) else {
                continue;
            };
            let key = DefaultPrivilegeKey {
                for_role: for_role.clone(),
                in_schema: in_schema.clone(),
                object_type: object_type.into(),
                grantee,
            };
            let okey = default_privilege_key(&key);
            let span = self.span(to);
            if !self.declare(okey, &span, || {
                format!(
                    "default privileges for `{}` on {}",
                    key.grantee,
                    object_type.to_lowercase()
                )
            }) {
                continue;
            }
            self.state.default_privileges.insert(
                key.clone(),
                DefaultPrivilege {
                    key,
                    privileges: privileges.clone(),
                },
            );
        }
    }

    fn rows(&mut self, s: &spec::RowsSpec) {
        let Some(table) = self.qname(&s.table) else {
            return;
        };
        if s.key.value.is_empty() {
            let sp = self.span(&s.key);
            self.err(
                "E070",
                sp,
                "`key` lists no columns",
                "name the columns that identify a row, e.g. `key: [name]`",
            );
            return;
        }
        for row in &s.values {
            let rspan = self.span(row);
            let mut values: Vec<(String, Option<String>)> = row
                .value
                .iter()
                .map(|(k, v)| (k.clone(), v.as_ref().map(spec::ScalarValue::as_text)))
                .collect();
            values.sort();
            let mut key = Vec::new();
            for k in &s.key.value {
                match values.iter().find(|(c, _)| c == k) {
                    Some(v) => key.push(v.clone()),
                    None => {
                        self.err(
                            "E071",
                            rspan.clone(),
                            format!("this row has no value for key column `{k}`"),
                            "every row must give its key columns",
                        );
                    }
                }
            }
            if key.len() != s.key.value.len() {
                continue;
            }
            let rk = RowKey {
                table: table.clone(),
                key,
            };
            let okey = row_key(&rk);
            if !self.declare(okey, &rspan, || format!("a row of `{table}` with this key")) {
                continue;
            }
            self.state.rows.insert(rk.clone(), Row { key: rk, values });
        }
    }

    fn raw_sql(&mut self, s: &spec::RawSqlSpec) -> RawSql {
        for part in [&s.up, &s.down] {
            let span = self.span(part);
            if self.no_marker(&part.value, &span) {
                if let Err(msg) = sql::parse_script(&part.value) {
                    self.err(
                        "E053",
                        span,
                        format!("the raw SQL is not valid: {msg}"),
                        "`sql.up` and `sql.down` hold complete SQL statements",
                    );
                }
            }
        }
        RawSql {
            up: s.up.value.clone(),
            down: s.down.value.clone(),
        }
    }
}

fn upsert_by<T>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> &String) {
    match list.iter_mut().find(|x| key(x) == key(&item)) {
        Some(existing) => *existing = item,
        None => list.push(item),
    }
}

fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether dbmate would read this line as a section marker (`^--\s*migrate:`).
pub fn is_dbmate_marker(line: &str) -> bool {
    line.strip_prefix("--")
        .is_some_and(|rest| rest.trim_start().starts_with("migrate:"))
}

pub(crate) fn default_privilege_key(k: &DefaultPrivilegeKey) -> String {
    format!(
        "default privileges {} {:?} {} {}",
        k.for_role, k.in_schema, k.object_type, k.grantee
    )
}

pub(crate) fn row_key(k: &RowKey) -> String {
    format!("row {} {:?}", k.table, k.key)
}

/// The declared-origin map key of a function.
pub(crate) fn function_origin(k: &FunctionKey) -> String {
    format!("function {k}")
}
