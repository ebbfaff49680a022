//! Resolve a view: its query checked by PostgreSQL's parser (and what it reads, for the
//! dependency graph), its options, grants and comment.

use crate::catalog::*;
use crate::spec;
use std::sync::Arc;

use super::evolve::Named;
use super::{sql, Resolver};

impl Resolver<'_> {
    pub(super) fn view(&mut self, s: &spec::ViewSpec) {
        let span = self.span(&s.name);
        let Some(name) = self.qname(&s.name) else {
            return;
        };
        if !self.declare(format!("view {name}"), &span, || format!("view `{name}`")) {
            return;
        }
        if self.state.tables.contains_key(&name) {
            self.err(
                "E022",
                span.clone(),
                format!("view `{name}` has the name of a table"),
                "tables and views share one namespace; rename one of them",
            );
            return;
        }
        if let Some(from) = &s.renamed_from {
            self.rename(Named::View, from, &name);
        }
        let qspan = self.span(&s.query);
        if !self.no_marker(&s.query.value, &qspan) {
            return;
        }
        let query = match sql::parse_query(&s.query.value) {
            Ok(q) => q,
            Err(msg) => {
                self.err(
                    "E037",
                    qspan,
                    format!("the query of view `{name}` is not valid: {msg}"),
                    "write one SELECT statement, without a trailing `;`",
                );
                return;
            }
        };
        let grants = self.grants(&s.grants, PrivilegeObject::Table);
        self.state.views.insert(
            name.clone(),
            Arc::new(View {
                name,
                query,
                security_invoker: s.security_invoker,
                security_barrier: s.security_barrier,
                grants,
                comment: s.comment.clone(),
            }),
        );
    }
}
