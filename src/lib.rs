//! schemac: a declarative schema-as-code compiler for PostgreSQL.
//!
//! YAML layers go through named stages, one module each (see `ARCHITECTURE.md`):
//! [`spec`] (load with positions) → [`resolve`] (names, defaults, checks) → [`layers`] (fold
//! into states) → [`diff`] (ordered changes) → [`render`] (SQL through templates) →
//! [`migration`] (dbmate files, written atomically; `check` compares in memory) →
//! [`integrity`] (the [`lock`] and what is on disk, as [`findings`]). Releases: [`bundle`]
//! (reproducible archives), [`roles`] (deploy-time passwords); editors: [`spec_schema`].

pub mod bundle;
pub mod catalog;
pub mod cli;
pub mod diagnostic;
pub mod diff;
pub mod findings;
pub mod integrity;
pub mod layers;
pub mod lock;
pub mod migration;
pub mod render;
pub mod resolve;
pub mod roles;
pub mod spec;
pub mod spec_schema;
