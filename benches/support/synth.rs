//! Synthetic but realistic schemac projects for the scale benchmark (`benches/scale.rs`) and
//! for the test that keeps them valid (`tests/synth.rs`).
//!
//! A project of `tables` tables over `layers` layers (layer 1 sets the stage, the others add
//! tables evenly):
//! - roles for a migrator / runtime split; six schemas owned by the migrator, with usage
//!   grants and default privileges (so later tables get grants they never state);
//! - per schema: a `status` enum that gains values in two later layers (one in the middle of
//!   the list, one at the end), and three PL/pgSQL / SQL helpers: `current_account()`
//!   (SECURITY DEFINER), `has_role(text)` and the trigger function `touch_updated_at()`;
//!   `has_role` is redefined with a new body, then with a new argument, `current_account`
//!   with a new return type (their policies are dropped and re-created around them);
//! - every table: 8 to 12 columns (identity key, enum status with a default, numeric,
//!   jsonb, date, boolean with a check), a foreign key to an earlier table, a unique
//!   constraint, two indexes (one on the foreign key), RLS with 2 to 4 policies calling the
//!   helpers, table and column grants, an `updated_at` trigger, comments;
//! - later layers patch about 1 % of the existing tables (a new column and a comment).
//!
//! Role names carry a prefix so that projects of several sizes can share one cluster.
//! Everything is deterministic: the same parameters give the same bytes.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Synth {
    pub tables: usize,
    pub layers: usize,
    /// Prefix of every role name (roles are cluster-wide).
    pub role_prefix: String,
}

const SCHEMAS: &[&str] = &[
    "crm",
    "billing",
    "inventory",
    "support",
    "content",
    "analytics",
];

const NOUNS: &[&str] = &[
    "accounts",
    "orders",
    "invoices",
    "payments",
    "products",
    "shipments",
    "tickets",
    "messages",
    "articles",
    "events",
    "contacts",
    "contracts",
    "assets",
    "reports",
    "tasks",
    "notes",
];

/// Layers where the helpers are redefined or the enums gain values (scaled to `layers`).
struct Milestones {
    has_role_body: usize,
    enum_middle: usize,
    has_role_signature: usize,
    current_account_return: usize,
    enum_end: usize,
    has_role_body_again: usize,
}

impl Milestones {
    fn of(layers: usize) -> Milestones {
        let at = |percent: usize| (layers * percent / 100).clamp(2, layers.max(2));
        Milestones {
            has_role_body: at(20),
            enum_middle: at(30),
            has_role_signature: at(40),
            current_account_return: at(60),
            enum_end: at(70),
            has_role_body_again: at(80),
        }
    }
}

/// A small deterministic generator (SplitMix64): no dependency, same numbers everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

impl Synth {
    pub fn new(tables: usize, layers: usize) -> Synth {
        Synth {
            tables,
            layers,
            role_prefix: format!("t{tables}_"),
        }
    }

    fn role(&self, name: &str) -> String {
        format!("{}{name}", self.role_prefix)
    }

    fn schemas(&self) -> &'static [&'static str] {
        &SCHEMAS[..SCHEMAS.len().min(self.tables.max(1))]
    }

    /// The schema and name of table `t`.
    fn table(&self, t: usize) -> (&'static str, String) {
        let schemas = self.schemas();
        let schema = schemas[t % schemas.len()];
        (schema, format!("{}_{:05}", NOUNS[t % NOUNS.len()], t))
    }

    /// The layer (1-based) that creates table `t`: layers 2..=layers share the tables.
    fn layer_of(&self, t: usize) -> usize {
        2 + t * (self.layers - 1) / self.tables.max(1)
    }

    fn version(layer: usize) -> String {
        format!("2026010100{layer:04}")
    }

    /// Every file of the project: `schemac.yaml` and `specs/<version>_<name>.yaml`.
    pub fn files(&self) -> Vec<(String, String)> {
        assert!(
            self.layers >= 2,
            "one layer sets the stage, the others add tables"
        );
        let mut files = vec![(
            "schemac.yaml".to_string(),
            format!(
                "name: synth-{}\nexternal_roles: [postgres]\nmigrator: {}\n",
                self.tables,
                self.role("migrator")
            ),
        )];
        let m = Milestones::of(self.layers);
        let mut rng = Rng(self.tables as u64);
        for layer in 1..=self.layers {
            let mut y = String::new();
            if layer == 1 {
                self.base_layer(&mut y);
            } else {
                writeln!(y, "description: Layer {layer} of the synthetic project").unwrap();
                self.layer_enums(&mut y, layer, &m);
                self.layer_functions(&mut y, layer, &m);
                self.layer_tables(&mut y, layer, &m, &mut rng);
            }
            files.push((
                format!("specs/{}_layer_{layer:02}.yaml", Self::version(layer)),
                y,
            ));
        }
        files
    }

    /// Write the project into `dir` (which should be empty).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("specs"))?;
        for (path, text) in self.files() {
            std::fs::write(dir.join(path), text)?;
        }
        Ok(())
    }

    fn base_layer(&self, y: &mut String) {
        let (migrator, user, service, auth, anon, readonly) = (
            self.role("migrator"),
            self.role("app_user"),
            self.role("app_service"),
            self.role("authenticated"),
            self.role("anon"),
            self.role("readonly"),
        );
        y.push_str(
            "description: Roles, schemas, default privileges, enums and helper functions\n\n",
        );
        writeln!(y, "roles:").unwrap();
        writeln!(y, "  - {{name: {migrator}, login: true, bypassrls: true, password_env: MIGRATOR_PASSWORD, comment: Runs the migrations}}").unwrap();
        writeln!(
            y,
            "  - {{name: {anon}, comment: Requests without a session}}"
        )
        .unwrap();
        writeln!(y, "  - {{name: {auth}, comment: Requests with a session}}").unwrap();
        writeln!(y, "  - {{name: {user}, login: true, password_env: APP_USER_PASSWORD, member_of: [{auth}], comment: The web application}}").unwrap();
        writeln!(y, "  - {{name: {service}, login: true, password_env: APP_SERVICE_PASSWORD, comment: Background workers}}").unwrap();
        writeln!(y, "  - {{name: {readonly}, comment: Reporting}}").unwrap();
        writeln!(y, "\nschemas:").unwrap();
        writeln!(y, "  - {{name: public, revoke_public: true}}").unwrap();
        for s in self.schemas() {
            writeln!(y, "  - name: {s}\n    owner: {migrator}\n    grants:\n      - {{to: [{user}, {service}, {auth}, {readonly}], privileges: [usage]}}\n    comment: The {s} module").unwrap();
        }
        writeln!(y, "\ndefault_privileges:").unwrap();
        for s in self.schemas() {
            writeln!(y, "  - {{for_role: {migrator}, in_schema: {s}, on: tables, to: [{service}], privileges: [select, insert, update, delete]}}").unwrap();
            writeln!(y, "  - {{for_role: {migrator}, in_schema: {s}, on: sequences, to: [{user}, {service}], privileges: [usage, select]}}").unwrap();
        }
        writeln!(y, "\nenums:").unwrap();
        for s in self.schemas() {
            writeln!(
                y,
                "  - {{name: {s}.status, values: [draft, active, archived], comment: Lifecycle of a row}}"
            )
            .unwrap();
        }
        writeln!(y, "\nfunctions:").unwrap();
        for s in self.schemas() {
            self.current_account(y, s, "int");
            self.has_role(
                y,
                s,
                false,
                "p_role = ANY (string_to_array(current_setting('app.roles', true), ','))",
            );
            writeln!(
                y,
                "  - name: {s}.touch_updated_at\n    returns: trigger\n    language: plpgsql\n    revoke_public: true\n    comment: Keeps updated_at current\n    body: |\n      BEGIN\n        NEW.updated_at := now();\n        RETURN NEW;\n      END;"
            )
            .unwrap();
        }
    }

    fn current_account(&self, y: &mut String, s: &str, returns: &str) {
        writeln!(
            y,
            "  - name: {s}.current_account\n    returns: {returns}\n    language: sql\n    volatility: stable\n    security: definer\n    search_path: [pg_catalog]\n    revoke_public: true\n    grants:\n      - {{to: [{}, {}], privileges: [execute]}}\n    comment: The account of the current request\n    body: |\n      SELECT nullif(current_setting('app.account_id', true), '')::{returns}",
            self.role("app_user"),
            self.role("authenticated"),
        )
        .unwrap();
    }

    fn has_role(&self, y: &mut String, s: &str, with_account: bool, test: &str) {
        let args = if with_account {
            "\n    args:\n      - {name: p_role, type: text}\n      - {name: p_account, type: int, default: \"NULL\"}"
        } else {
            "\n    args:\n      - {name: p_role, type: text}"
        };
        let account = if with_account {
            "\n        IF p_account IS NOT NULL AND p_account::text IS DISTINCT FROM current_setting('app.account_id', true) THEN\n          RETURN false;\n        END IF;"
        } else {
            ""
        };
        writeln!(
            y,
            "  - name: {s}.has_role{args}\n    returns: boolean\n    language: plpgsql\n    volatility: stable\n    revoke_public: true\n    grants:\n      - {{to: [{}, {}], privileges: [execute]}}\n    comment: Whether the current request carries a role\n    body: |\n      BEGIN{account}\n        RETURN coalesce({test}, false);\n      END;",
            self.role("app_user"),
            self.role("authenticated"),
        )
        .unwrap();
    }

    fn layer_enums(&self, y: &mut String, layer: usize, m: &Milestones) {
        let values = if layer == m.enum_middle {
            "[draft, active, suspended, archived]"
        } else if layer == m.enum_end {
            "[draft, active, suspended, archived, deleted]"
        } else {
            return;
        };
        writeln!(y, "\nenums:").unwrap();
        for s in self.schemas() {
            writeln!(
                y,
                "  - {{name: {s}.status, values: {values}, comment: Lifecycle of a row}}"
            )
            .unwrap();
        }
    }

    fn layer_functions(&self, y: &mut String, layer: usize, m: &Milestones) {
        let trimmed_test = "p_role = ANY (string_to_array(replace(current_setting('app.roles', true), ' ', ''), ','))";
        let with_account = layer >= m.has_role_signature;
        let has_role = if layer == m.has_role_body || layer == m.has_role_signature {
            Some(trimmed_test)
        } else if layer == m.has_role_body_again {
            Some("p_role = ANY (string_to_array(lower(replace(current_setting('app.roles', true), ' ', '')), ','))")
        } else {
            None
        };
        let account_return = (layer == m.current_account_return).then_some("bigint");
        if has_role.is_none() && account_return.is_none() {
            return;
        }
        writeln!(y, "\nfunctions:").unwrap();
        for s in self.schemas() {
            if let Some(test) = has_role {
                self.has_role(y, s, with_account, test);
            }
            if let Some(returns) = account_return {
                self.current_account(y, s, returns);
            }
        }
    }

    fn layer_tables(&self, y: &mut String, layer: usize, m: &Milestones, rng: &mut Rng) {
        let new: Vec<usize> = (0..self.tables)
            .filter(|&t| self.layer_of(t) == layer)
            .collect();
        let existing = new.first().copied().unwrap_or_else(|| {
            (0..self.tables)
                .take_while(|&t| self.layer_of(t) < layer)
                .count()
        });
        // About 1 % of the tables that exist already get a column and a new comment.
        let patches: Vec<usize> = if existing == 0 {
            Vec::new()
        } else {
            let n = (existing / 100).max(1);
            let mut picked: Vec<usize> = (0..n).map(|_| rng.below(existing)).collect();
            picked.sort_unstable();
            picked.dedup();
            picked
        };
        if new.is_empty() && patches.is_empty() {
            return;
        }
        writeln!(y, "\ntables:").unwrap();
        for &t in &patches {
            let (s, name) = self.table(t);
            writeln!(
                y,
                "  - name: {s}.{name}\n    patch: true\n    columns:\n      - {{name: extra_{layer:02}, type: text, comment: Added in layer {layer}}}\n    comment: Table {t}, patched in layer {layer}"
            )
            .unwrap();
        }
        for &t in &new {
            self.new_table(y, t, layer, m, rng);
        }
    }

    fn new_table(&self, y: &mut String, t: usize, layer: usize, m: &Milestones, rng: &mut Rng) {
        let (s, name) = self.table(t);
        let (user, auth, readonly) = (
            self.role("app_user"),
            self.role("authenticated"),
            self.role("readonly"),
        );
        writeln!(y, "  - name: {s}.{name}\n    columns:").unwrap();
        y.push_str("      - {name: id, type: bigint, identity: by_default}\n");
        y.push_str("      - {name: account_id, type: int, not_null: true}\n");
        writeln!(
            y,
            "      - {{name: status, type: {s}.status, not_null: true, default: \"'draft'\"}}"
        )
        .unwrap();
        y.push_str("      - {name: name, type: text, not_null: true}\n");
        y.push_str(
            "      - {name: created_at, type: timestamptz, not_null: true, default: now()}\n",
        );
        y.push_str(
            "      - {name: updated_at, type: timestamptz, not_null: true, default: now()}\n",
        );
        y.push_str(
            "      - {name: parent_id, type: bigint, comment: The row this one belongs to}\n",
        );
        y.push_str(
            "      - {name: amount, type: \"numeric(12,2)\", not_null: true, default: \"0\"}\n",
        );
        let extras = [
            "      - {name: note, type: text}\n",
            "      - {name: payload, type: jsonb, not_null: true, default: \"'{}'::jsonb\"}\n",
            "      - {name: due_on, type: date}\n",
            "      - {name: quantity, type: int, not_null: true, default: \"0\"}\n",
        ];
        for extra in &extras[..t % 5] {
            y.push_str(extra);
        }
        y.push_str("    primary_key: [id]\n");
        writeln!(y, "    unique:\n      - {{columns: [account_id, name]}}").unwrap();
        y.push_str("    checks:\n");
        writeln!(
            y,
            "      - {{name: {name}_name_not_blank, expr: \"btrim(name) <> ''\"}}"
        )
        .unwrap();
        if t % 5 == 4 {
            writeln!(
                y,
                "      - {{name: {name}_quantity_positive, expr: \"quantity >= 0\"}}"
            )
            .unwrap();
        }
        // A foreign key to an earlier table, in any schema.
        if t > 0 {
            let (ps, pname) = self.table(rng.below(t));
            writeln!(
                y,
                "    foreign_keys:\n      - {{columns: [parent_id], references: {ps}.{pname}, on_delete: set null}}"
            )
            .unwrap();
        }
        writeln!(
            y,
            "    indexes:\n      - {{name: {name}_parent_idx, columns: [parent_id]}}\n      - {{name: {name}_account_created_idx, columns: [account_id, created_at]}}"
        )
        .unwrap();
        // Policies are written against the helpers as they are when the table is created.
        let account = if layer >= m.has_role_signature {
            ", account_id"
        } else {
            ""
        };
        let own = format!("account_id = {s}.current_account()");
        writeln!(y, "    rls: true\n    policies:").unwrap();
        writeln!(
            y,
            "      - {{name: {name}_select, for: select, to: [{user}, {auth}], using: \"{own}\"}}"
        )
        .unwrap();
        writeln!(
            y,
            "      - {{name: {name}_insert, for: insert, to: [{user}], with_check: \"{own} AND {s}.has_role('editor'{account})\"}}"
        )
        .unwrap();
        if t % 3 >= 1 {
            writeln!(
                y,
                "      - {{name: {name}_update, for: update, to: [{user}], using: \"{own}\", with_check: \"{own} AND {s}.has_role('editor'{account})\"}}"
            )
            .unwrap();
        }
        if t % 3 == 2 {
            writeln!(
                y,
                "      - {{name: {name}_delete, for: delete, to: [{user}], using: \"{own} AND {s}.has_role('admin'{account})\"}}"
            )
            .unwrap();
        }
        writeln!(
            y,
            "    grants:\n      - {{to: [{user}], privileges: [select, insert, update, delete]}}\n      - {{to: [{auth}], privileges: [select]}}\n      - {{to: [{readonly}], privileges: [select], columns: [id, account_id, status, created_at]}}"
        )
        .unwrap();
        writeln!(
            y,
            "    triggers:\n      - {{name: {name}_touch, timing: before, events: [update], for_each: row, function: {s}.touch_updated_at}}"
        )
        .unwrap();
        writeln!(y, "    comment: Table {t} of the synthetic project").unwrap();
    }
}
