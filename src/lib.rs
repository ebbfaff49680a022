//! schemac: a declarative schema-as-code compiler for PostgreSQL.
//!
//! YAML layers go through named stages, one module each (see `ARCHITECTURE.md`):
//! [`spec`] (load with positions) → [`resolve`] (names, defaults, checks) → [`layers`] (fold
//! into states) → [`diff`] (ordered changes) → [`render`] (SQL through templates) →
//! [`migration`] (dbmate files, written atomically; `check` compares in memory) →
//! [`integrity`] (the [`lock`] and what is on disk, as [`findings`]), and [`lint`] (security
//! and migration-safety rules over the states and the changes). Releases: [`bundle`]
//! (reproducible archives), [`roles`] (deploy-time passwords); editors: [`spec_schema`].
//!
//! The live path: [`introspect`] (a database read into the same catalog model), [`scratch`]
//! (the expected state built on a throwaway database, for PostgreSQL's normal form),
//! [`drift`] / [`live`] (`schemac diff`), [`verify`] with [`dbmate`]'s semantics, over the
//! connections of [`db`].

pub mod bundle;
pub mod catalog;
pub mod cli;
pub mod db;
pub mod dbmate;
pub mod diagnostic;
pub mod diff;
pub mod drift;
pub mod findings;
pub mod integrity;
pub mod introspect;
pub mod layers;
pub mod lint;
pub mod live;
pub mod lock;
pub mod migration;
pub mod parallel;
pub mod render;
pub mod resolve;
pub mod roles;
pub mod scratch;
pub mod spec;
pub mod spec_schema;
pub mod verify;
pub mod yaml;
