//! Resolve a table declaration: a whole table, or a patch of one declared earlier (columns,
//! constraints, indexes, policies, grants and triggers merged by name; parts dropped by name).

use crate::catalog::*;
use crate::diagnostic::{suggest, Span};
use crate::spec::{self, Spanned};
use std::sync::Arc;

use super::evolve::Named;
use super::{upsert_by, Resolver};

impl Resolver<'_> {
    pub(super) fn table(&mut self, s: &spec::TableSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.qname(&s.name) else {
            return;
        };
        if !self.declare(format!("table {name}"), &span, || format!("table `{name}`")) {
            return;
        }
        if let Some(from) = &s.renamed_from {
            self.rename(Named::Table, from, &name);
        }
        for c in &s.columns {
            if let Some(from) = &c.renamed_from {
                self.rename_part(&name, from, &c.name.value, false);
            }
        }
        for p in &s.policies {
            if let Some(from) = &p.renamed_from {
                self.rename_part(&name, from, &p.name.value, true);
            }
        }
        self.transition.causes.insert(
            Loss::Table {
                table: name.clone(),
            },
            span.clone(),
        );
        let mut table = if s.patch {
            match self.state.tables.get(&name) {
                Some(t) => Table::clone(t),
                None => {
                    let names: Vec<String> =
                        self.state.tables.keys().map(|k| k.to_string()).collect();
                    let help = suggest(&name.to_string(), names.iter().map(String::as_str), "a patch changes a table declared by an earlier layer; remove `patch: true` to declare it");
                    self.err(
                        "E030",
                        span,
                        format!("`patch: true` but no earlier layer declares table `{name}`"),
                        help,
                    );
                    return;
                }
            }
        } else {
            if let Some(d) = &s.drop {
                let sp = self.span(d);
                self.err(
                    "E031",
                    sp,
                    "`drop` inside a table is only allowed with `patch: true`",
                    "add `patch: true`, or restate the table without the parts",
                );
            }
            Table {
                name: name.clone(),
                columns: Vec::new(),
                primary_key: None,
                uniques: Vec::new(),
                checks: Vec::new(),
                foreign_keys: Vec::new(),
                indexes: Vec::new(),
                rls_enabled: false,
                rls_forced: false,
                policies: Vec::new(),
                grants: Vec::new(),
                triggers: Vec::new(),
                comment: None,
            }
        };
        let tkey = format!("table {name}");

        if let Some(d) = &s.drop {
            self.drop_table_parts(&mut table, d);
        }
        for c in &s.columns {
            let cspan = self.span(&c.name);
            let Some(cname) = self.ident(&c.name) else {
                continue;
            };
            if !self.declare(format!("{tkey} column {cname}"), &cspan, || {
                format!("column `{cname}` of `{name}`")
            }) {
                continue;
            }
            let Some(data_type) = self.type_ref(&c.data_type) else {
                continue;
            };
            let loss = Loss::Column {
                table: name.clone(),
                column: cname.clone(),
            };
            let tspan = self.span(&c.data_type);
            self.transition.causes.insert(loss, tspan);
            if let Some(using) = &c.using {
                let before = self
                    .state
                    .tables
                    .get(&name)
                    .and_then(|t| t.column(&cname))
                    .map(|c| c.data_type.clone());
                if before.as_ref().map_or(true, |b| b == &data_type) {
                    let sp = self.span(using);
                    self.err(
                        "E028",
                        sp,
                        format!(
                            "`using` on column `{cname}`, whose type does not change in this layer"
                        ),
                        "`using` converts existing values when a column's type changes; remove it",
                    );
                } else if let Some(expr) = self.expr(using, "`using`") {
                    self.transition
                        .usings
                        .insert((name.clone(), cname.clone()), expr);
                }
            }
            let identity = c.identity.as_ref().and_then(|i| {
                self.keyword(
                    i,
                    &[("by default", "BY DEFAULT"), ("always", "ALWAYS")],
                    "identity (use by_default or always)",
                )
            });
            let default = c.default.as_ref().and_then(|d| self.expr(d, "the default"));
            if identity.is_some() && default.is_some() {
                self.err(
                    "E032",
                    cspan.clone(),
                    format!("column `{cname}` has both an identity and a default"),
                    "remove one of them",
                );
            }
            let column = Column {
                name: cname.clone(),
                data_type,
                not_null: c.not_null || identity.is_some(),
                identity: identity.map(str::to_string),
                default,
                comment: c.comment.clone(),
            };
            match table.columns.iter_mut().find(|x| x.name == cname) {
                Some(existing) => *existing = column,
                None => table.columns.push(column),
            }
        }
        if let Some(pk) = &s.primary_key {
            let pspan = self.span(pk);
            let (pname, cols) = match &pk.value {
                spec::PrimaryKeySpec::Columns(c) => (None, c.clone()),
                spec::PrimaryKeySpec::Named { name, columns } => (name.clone(), columns.clone()),
            };
            let pname = pname.unwrap_or_else(|| format!("{}_pkey", name.name));
            if self.check_generated_name(&pname, &pspan) {
                table.primary_key = Some(KeyConstraint {
                    name: pname,
                    columns: cols,
                });
            }
        }
        for u in &s.unique {
            let default = format!("{}_{}_key", name.name, u.columns.value.join("_"));
            let uspan = self.span(&u.columns);
            let Some(uname) = self.constraint_name(u.name.as_ref(), default, &uspan, &tkey, &name)
            else {
                continue;
            };
            upsert_by(
                &mut table.uniques,
                KeyConstraint {
                    name: uname,
                    columns: u.columns.value.clone(),
                },
                |x| &x.name,
            );
        }
        for c in &s.checks {
            let cspan = self.span(&c.name);
            let Some(cname) = self.ident(&c.name) else {
                continue;
            };
            if !self.declare(format!("{tkey} constraint {cname}"), &cspan, || {
                format!("constraint `{cname}` of `{name}`")
            }) {
                continue;
            }
            let Some(expr) = self.expr(&c.expr, "the check") else {
                continue;
            };
            upsert_by(&mut table.checks, Check { name: cname, expr }, |x| &x.name);
        }
        for f in &s.foreign_keys {
            let default = format!("{}_{}_fkey", name.name, f.columns.value.join("_"));
            let fspan = self.span(&f.columns);
            let Some(fname) = self.constraint_name(f.name.as_ref(), default, &fspan, &tkey, &name)
            else {
                continue;
            };
            let Some(ref_table) = self.qname(&f.references) else {
                continue;
            };
            const ACTIONS: &[(&str, &str)] = &[
                ("no action", "NO ACTION"),
                ("restrict", "RESTRICT"),
                ("cascade", "CASCADE"),
                ("set null", "SET NULL"),
                ("set default", "SET DEFAULT"),
            ];
            let on_delete = f.on_delete.as_ref().map_or(Some("NO ACTION"), |a| {
                self.keyword(a, ACTIONS, "foreign key action")
            });
            let on_update = f.on_update.as_ref().map_or(Some("NO ACTION"), |a| {
                self.keyword(a, ACTIONS, "foreign key action")
            });
            let (Some(on_delete), Some(on_update)) = (on_delete, on_update) else {
                continue;
            };
            let fk = ForeignKey {
                name: fname.clone(),
                columns: f.columns.value.clone(),
                ref_table,
                // Empty means "the referenced table's primary key"; validate fills it in.
                ref_columns: f
                    .ref_columns
                    .as_ref()
                    .map(|c| c.value.clone())
                    .unwrap_or_default(),
                on_delete: on_delete.into(),
                on_update: on_update.into(),
            };
            upsert_by(&mut table.foreign_keys, fk, |x| &x.name);
        }
        for i in &s.indexes {
            let ispan = self.span(&i.columns);
            let iname = match &i.name {
                Some(n) => self.ident(n),
                None => Some(format!("{}_{}_idx", name.name, i.columns.value.join("_"))),
            };
            let Some(iname) = iname else { continue };
            if !self.check_generated_name(&iname, &ispan)
                || !self.declare(format!("index {}.{iname}", name.schema), &ispan, || {
                    format!("index `{iname}`")
                })
            {
                continue;
            }
            let method = match &i.using {
                Some(m) => self.keyword(
                    m,
                    &[
                        ("btree", "btree"),
                        ("hash", "hash"),
                        ("gin", "gin"),
                        ("gist", "gist"),
                        ("brin", "brin"),
                        ("spgist", "spgist"),
                    ],
                    "index method",
                ),
                None => Some("btree"),
            };
            let Some(method) = method else { continue };
            let predicate = match &i.predicate {
                Some(p) => match self.expr(p, "the index predicate") {
                    Some(e) => Some(e),
                    None => continue,
                },
                None => None,
            };
            let index = Index {
                name: iname,
                columns: i.columns.value.clone(),
                unique: i.unique,
                method: method.into(),
                predicate,
            };
            upsert_by(&mut table.indexes, index, |x| &x.name);
        }
        if let Some(rls) = &s.rls {
            (table.rls_enabled, table.rls_forced) = match rls {
                spec::RlsSpec::Enabled(b) => (*b, false),
                spec::RlsSpec::Detailed { enabled, force } => (*enabled, *force),
            };
        }
        for p in &s.policies {
            let pspan = self.span(&p.name);
            let Some(pname) = self.ident(&p.name) else {
                continue;
            };
            if !self.declare(format!("{tkey} policy {pname}"), &pspan, || {
                format!("policy `{pname}` on `{name}`")
            }) {
                continue;
            }
            let permissive = match &p.kind {
                Some(k) => {
                    self.keyword(
                        k,
                        &[("permissive", "PERMISSIVE"), ("restrictive", "RESTRICTIVE")],
                        "policy kind",
                    ) == Some("PERMISSIVE")
                }
                None => true,
            };
            let command = match &p.command {
                Some(c) => self.keyword(
                    c,
                    &[
                        ("all", "ALL"),
                        ("select", "SELECT"),
                        ("insert", "INSERT"),
                        ("update", "UPDATE"),
                        ("delete", "DELETE"),
                    ],
                    "policy command",
                ),
                None => Some("ALL"),
            };
            let Some(command) = command else { continue };
            let mut roles: Vec<String> = p.to.iter().filter_map(|r| self.role_name(r)).collect();
            if roles.is_empty() {
                roles.push("PUBLIC".into());
            }
            roles.sort();
            roles.dedup();
            let using = p.using.as_ref().and_then(|u| self.expr(u, "`using`"));
            let with_check = p
                .with_check
                .as_ref()
                .and_then(|w| self.expr(w, "`with_check`"));
            if command == "INSERT" && using.is_some() {
                self.err(
                    "E033",
                    pspan.clone(),
                    format!("policy `{pname}` is for insert but has `using`"),
                    "insert policies take only `with_check`",
                );
                continue;
            }
            if matches!(command, "SELECT" | "DELETE") && with_check.is_some() {
                self.err(
                    "E033",
                    pspan.clone(),
                    format!(
                        "policy `{pname}` is for {} but has `with_check`",
                        command.to_lowercase()
                    ),
                    "select and delete policies take only `using`",
                );
                continue;
            }
            if using.is_none() && with_check.is_none() {
                self.err(
                    "E033",
                    pspan.clone(),
                    format!("policy `{pname}` has neither `using` nor `with_check`"),
                    "say which rows the policy allows, e.g. `using: owner_id = auth.id()`",
                );
                continue;
            }
            let policy = Policy {
                name: pname,
                permissive,
                command: command.into(),
                roles,
                using,
                with_check,
            };
            upsert_by(&mut table.policies, policy, |x| &x.name);
        }
        let grants = self.grants(&s.grants, PrivilegeObject::Table);
        for g in grants {
            match table
                .grants
                .iter_mut()
                .find(|x| x.grantee == g.grantee && x.columns == g.columns)
            {
                Some(existing) => *existing = g,
                None => table.grants.push(g),
            }
        }
        table.grants.sort();
        for t in &s.triggers {
            let tspan = self.span(&t.name);
            let Some(tname) = self.ident(&t.name) else {
                continue;
            };
            if !self.declare(format!("{tkey} trigger {tname}"), &tspan, || {
                format!("trigger `{tname}` on `{name}`")
            }) {
                continue;
            }
            let timing = self.keyword(
                &t.timing,
                &[
                    ("before", "BEFORE"),
                    ("after", "AFTER"),
                    ("instead of", "INSTEAD OF"),
                ],
                "trigger timing",
            );
            let mut events = Vec::new();
            for e in &t.events {
                if let Some(kw) = self.keyword(
                    e,
                    &[
                        ("insert", "INSERT"),
                        ("update", "UPDATE"),
                        ("delete", "DELETE"),
                        ("truncate", "TRUNCATE"),
                    ],
                    "trigger event",
                ) {
                    if !events.contains(&kw.to_string()) {
                        events.push(kw.to_string());
                    }
                }
            }
            let for_each_row = match &t.for_each {
                Some(f) => {
                    self.keyword(
                        f,
                        &[("row", "ROW"), ("statement", "STATEMENT")],
                        "trigger level",
                    ) == Some("ROW")
                }
                None => true,
            };
            let when = t
                .when
                .as_ref()
                .and_then(|w| self.expr(w, "the trigger condition"));
            let function = self.qname(&t.function);
            let (Some(timing), Some(function)) = (timing, function) else {
                continue;
            };
            if events.is_empty() {
                self.err(
                    "E034",
                    tspan,
                    format!("trigger `{tname}` has no events"),
                    "list events: insert, update, delete or truncate",
                );
                continue;
            }
            let trigger = Trigger {
                name: tname,
                timing: timing.into(),
                events,
                for_each_row,
                when,
                function: FunctionKey {
                    name: function,
                    overload: None,
                },
                args: t.args.clone(),
            };
            self.state.origins.insert(
                format!("{tkey} trigger {} function", trigger.name),
                self.span(&t.function),
            );
            upsert_by(&mut table.triggers, trigger, |x| &x.name);
        }
        if let Some(c) = &s.comment {
            table.comment = Some(c.clone());
        }
        self.state.tables.insert(name, Arc::new(table));
    }

    /// A constraint's explicit name, or PostgreSQL's default one, checked for length and
    /// declared once per layer.
    fn constraint_name(
        &mut self,
        explicit: Option<&Spanned<String>>,
        default: String,
        span: &Span,
        tkey: &str,
        table: &QName,
    ) -> Option<String> {
        let name = match explicit {
            Some(n) => self.ident(n)?,
            None => default,
        };
        let ok = self.check_generated_name(&name, span)
            && self.declare(format!("{tkey} constraint {name}"), span, || {
                format!("constraint `{name}` of `{table}`")
            });
        ok.then_some(name)
    }

    fn check_generated_name(&mut self, name: &str, span: &Span) -> bool {
        if name.len() > ident::MAX_IDENT_BYTES {
            self.err(
                "E021",
                span.clone(),
                format!("the constraint or index name `{name}` is longer than 63 bytes"),
                "give it a shorter explicit `name:`",
            );
            return false;
        }
        true
    }

    fn drop_table_parts(&mut self, table: &mut Table, d: &Spanned<spec::TablePartsDrop>) {
        fn remove<T>(
            r: &mut Resolver,
            list: &mut Vec<T>,
            names: &[Spanned<String>],
            get: impl Fn(&T) -> &str,
            what: &str,
            table: &QName,
        ) {
            for n in names {
                match list.iter().position(|x| get(x) == n.value) {
                    Some(i) => {
                        list.remove(i);
                    }
                    None => {
                        let known: Vec<&str> = list.iter().map(&get).collect();
                        let help = suggest(
                            &n.value,
                            known.iter().copied(),
                            format!("`{table}` has no {what} of that name"),
                        );
                        let sp = r.span(n);
                        r.err(
                            "E035",
                            sp,
                            format!(
                                "cannot drop {what} `{}`: `{table}` has none of that name",
                                n.value
                            ),
                            help,
                        );
                    }
                }
            }
        }
        let name = table.name.clone();
        for c in &d.value.columns {
            let sp = self.span(c);
            self.transition.causes.insert(
                Loss::Column {
                    table: name.clone(),
                    column: c.value.clone(),
                },
                sp,
            );
        }
        remove(
            self,
            &mut table.columns,
            &d.value.columns,
            |c| &c.name,
            "column",
            &name,
        );
        remove(
            self,
            &mut table.uniques,
            &d.value.unique,
            |c| &c.name,
            "unique constraint",
            &name,
        );
        remove(
            self,
            &mut table.checks,
            &d.value.checks,
            |c| &c.name,
            "check",
            &name,
        );
        remove(
            self,
            &mut table.foreign_keys,
            &d.value.foreign_keys,
            |c| &c.name,
            "foreign key",
            &name,
        );
        remove(
            self,
            &mut table.indexes,
            &d.value.indexes,
            |c| &c.name,
            "index",
            &name,
        );
        remove(
            self,
            &mut table.policies,
            &d.value.policies,
            |c| &c.name,
            "policy",
            &name,
        );
        remove(
            self,
            &mut table.triggers,
            &d.value.triggers,
            |c| &c.name,
            "trigger",
            &name,
        );
    }
}
