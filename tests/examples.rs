//! The example projects under examples/ (each a schemac project of its own, built from a
//! reference document): their committed generated/ is current, and on a real PostgreSQL 15
//! with the real dbmate every layer applies, the reference workflows hold after it, every
//! layer rolls back to exactly the catalog before it, the chain applies again, and the
//! directly built schema.sql gives the same catalog as the layered migrations.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use support::PgServer;

const EXAMPLES: &[&str] = &["app-auth", "support-tickets"];

fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// The diagnostics of a failed compilation, rendered as the CLI shows them.
fn failure_text(failure: &schemac::migration::CompileFailure) -> String {
    match &failure.error {
        schemac::migration::CompileError::Diagnostics(diags) => diags
            .0
            .iter()
            .map(|d| d.render(&|p: &str| failure.project.as_ref().and_then(|pr| pr.source(p))))
            .collect(),
        other => format!("{other:?}"),
    }
}

/// Every role some layer of the project declares (its migrations create and drop them).
fn project_roles(dir: &Path) -> Vec<String> {
    let project =
        schemac::spec::load_project(dir).unwrap_or_else(|d| panic!("{}: {d:?}", dir.display()));
    let folded =
        schemac::layers::fold(&project).unwrap_or_else(|d| panic!("{}: {d:?}", dir.display()));
    let roles: BTreeSet<String> = folded
        .states
        .iter()
        .flat_map(|s| s.roles.keys().cloned())
        .collect();
    roles.into_iter().collect()
}

#[test]
fn example_generated_files_are_current() {
    for name in EXAMPLES {
        let dir = example_dir(name);
        let (project, compiled) = schemac::migration::compile_dir(&dir)
            .unwrap_or_else(|f| panic!("examples/{name} does not compile:\n{}", failure_text(&f)));
        let files = compiled.files;
        // What `schemac check` compares: every file, and the lock (checksums, release marks).
        let findings =
            schemac::integrity::analyze(&project, &files, schemac::integrity::Diffs::All).findings;
        let diffs: String = findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}: {}\n{}",
                    f.kind,
                    f.path,
                    f.diagnostic.message,
                    f.diff.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert!(
            findings.is_empty(),
            "examples/{name}/generated is not current (run `cargo run -- -p examples/{name} generate`):\n{diffs}"
        );
        assert!(
            files.len() > 2,
            "examples/{name} has too few layers: {}",
            files.len()
        );
    }
}

/// One database of the throwaway server, and the ways the workflows talk to it.
struct Db<'a> {
    pg: &'a PgServer,
    url: String,
}

impl Db<'_> {
    /// Runs a script as the superuser (setup and checks); panics on failure.
    fn sql(&self, sql: &str) -> String {
        self.pg
            .psql_script(&self.url, sql)
            .unwrap_or_else(|e| panic!("{sql}\nfailed: {e}"))
    }

    /// Runs a script in one transaction as `role`, with the PostgREST setting
    /// `request.jwt.claims` set to `claims` when given (what the JWT helpers read).
    fn as_role(&self, role: &str, claims: Option<&str>, sql: &str) -> Result<String, String> {
        let mut script = format!("SET LOCAL ROLE {};\n", support::quote_ident(role));
        if let Some(c) = claims {
            script.push_str(&format!(
                "SET LOCAL request.jwt.claims = {};\n",
                support::quote_literal(c)
            ));
        }
        script.push_str(sql);
        self.pg.psql_script(&self.url, &script)
    }

    /// [`Db::as_role`] that must succeed.
    fn ok_as(&self, role: &str, claims: Option<&str>, sql: &str) -> String {
        self.as_role(role, claims, sql)
            .unwrap_or_else(|e| panic!("as {role} with {claims:?}: {sql}\nfailed: {e}"))
    }

    /// [`Db::as_role`] that must fail with an error containing `expected`.
    fn denied_as(&self, role: &str, claims: Option<&str>, sql: &str, expected: &str) {
        match self.as_role(role, claims, sql) {
            Ok(out) => panic!("as {role} with {claims:?}: {sql}\nsucceeded ({out:?}) but must fail with `{expected}`"),
            Err(e) => assert!(
                e.contains(expected),
                "as {role} with {claims:?}: {sql}\nfailed with\n{e}\ninstead of `{expected}`"
            ),
        }
    }

    fn snapshot(&self, roles: &[&str]) -> String {
        format!(
            "{}\n-- roles --\n{}",
            self.pg.dump_schema(&self.url),
            self.pg.roles_snapshot(&self.url, roles)
        )
    }
}

/// The database goes away with the value, also when a workflow assertion fails: a database
/// left behind would keep the cluster-wide roles in use and fail the next example.
impl Drop for Db<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.pg.try_drop_database(&self.url) {
            eprintln!("dropping {} failed: {e}", self.url);
        }
    }
}

fn ok(out: std::process::Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn drop_roles(db: &Db, roles: &[&str]) {
    for r in roles.iter().rev() {
        db.sql(&format!("DROP ROLE IF EXISTS {}", support::quote_ident(r)));
    }
}

/// The layer name of a migration file: `20250101000100_bootstrap.sql` gives `bootstrap`.
fn layer_name(path: &Path) -> String {
    let stem = path.file_stem().unwrap().to_str().unwrap();
    stem.split_once('_').unwrap().1.to_string()
}

/// Applies the committed migrations of `examples/<name>` one by one with dbmate, running
/// `workflow` after each layer; then rolls back, re-applies, and builds schema.sql directly,
/// comparing catalogs (pg_dump plus the project's roles) at every step. `needles` must appear
/// in the final catalog, so that the comparisons are known to cover real objects.
fn round_trip(name: &str, workflow: fn(&Db, &str), needles: &[&str]) {
    let _guard = support::lock();
    let pg = support::server();
    let dir = example_dir(name);
    let roles = project_roles(&dir);
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let db = Db {
        pg,
        url: pg.create_database(name),
    };
    drop_roles(&db, &roles);

    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("generated/migrations"))
        .unwrap_or_else(|e| panic!("examples/{name}/generated/migrations: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "examples/{name}: {files:?}");

    let tmp = tempfile::tempdir().unwrap();
    let mut states = vec![db.snapshot(&roles)];
    for file in &files {
        std::fs::copy(file, tmp.path().join(file.file_name().unwrap())).unwrap();
        ok(
            pg.dbmate(&db.url, tmp.path(), &["up"]),
            &format!("dbmate up {}", file.display()),
        );
        workflow(&db, &layer_name(file));
        states.push(db.snapshot(&roles));
    }
    let last = states.last().unwrap().clone();
    for needle in needles {
        assert!(
            last.contains(needle),
            "examples/{name}: the final catalog lacks `{needle}`:\n{last}"
        );
    }

    for i in (1..=files.len()).rev() {
        let out = ok(
            pg.dbmate(&db.url, tmp.path(), &["rollback"]),
            &format!("dbmate rollback {}", files[i - 1].display()),
        );
        let file_name = files[i - 1].file_name().unwrap().to_str().unwrap();
        assert!(out.contains(file_name), "{out}");
        let now = db.snapshot(&roles);
        assert!(
            now == states[i - 1],
            "examples/{name}: rollback of {file_name} left a different catalog:\n{}",
            support::text_diff(&states[i - 1], &now)
        );
    }
    assert!(
        !pg.dbmate(&db.url, tmp.path(), &["rollback"])
            .status
            .success(),
        "a rollback past the first migration must fail"
    );

    ok(pg.dbmate(&db.url, tmp.path(), &["up"]), "dbmate up (again)");
    let again = db.snapshot(&roles);
    assert!(
        again == last,
        "examples/{name}: re-applying gave a different catalog:\n{}",
        support::text_diff(&last, &again)
    );
    for _ in &files {
        ok(
            pg.dbmate(&db.url, tmp.path(), &["rollback"]),
            "dbmate rollback (second pass)",
        );
    }
    let empty = db.snapshot(&roles);
    assert!(
        empty == states[0],
        "examples/{name}: the second rollback pass did not end empty:\n{}",
        support::text_diff(&states[0], &empty)
    );

    // schema.sql, built directly from the last state, equals the layered result.
    let direct = Db {
        pg,
        url: pg.create_database(&format!("{name}_direct")),
    };
    let schema = std::fs::read_to_string(dir.join("generated/schema.sql")).unwrap();
    direct.sql(&schema);
    let built = direct.snapshot(&roles);
    assert!(
        built == last,
        "examples/{name}: schema.sql differs from the migrated catalog:\n{}",
        support::text_diff(&last, &built)
    );
    drop(direct);
    drop_roles(&db, &roles);
}

/// JWT claims as PostgREST puts them in `request.jwt.claims` (GoTrue's shape).
fn claims(sub: &str, email: &str, app_role: Option<&str>) -> String {
    let app_metadata = match app_role {
        Some(r) => format!(r#"{{"provider": "email", "role": "{r}"}}"#),
        None => r#"{"provider": "email"}"#.to_string(),
    };
    format!(
        r#"{{"sub": "{sub}", "email": "{email}", "role": "authenticated", "app_metadata": {app_metadata}}}"#
    )
}

// ---------------------------------------------------------------------------
// examples/app-auth (reference 000)
// ---------------------------------------------------------------------------

const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";
const BOSS: &str = "b0550000-0000-4000-8000-000000000002";
const CAROL: &str = "ca201000-0000-4000-8000-000000000003";
const DAVE: &str = "da7e0000-0000-4000-8000-000000000004";

fn app_auth_workflow(db: &Db, layer: &str) {
    let alice = claims(ALICE, "alice@example.com", None);
    let boss = claims(BOSS, "boss@example.com", Some("admin"));
    match layer {
        "bootstrap" => {
            db.denied_as(
                "authenticated",
                None,
                "CREATE TABLE public.nope (id int);",
                "permission denied for schema public",
            );
            // authenticator is NOINHERIT: nothing of the request roles until it switches.
            let usage = "SELECT has_schema_privilege('auth', 'USAGE');";
            assert_eq!(db.ok_as("authenticator", None, usage), "f");
            assert_eq!(db.ok_as("editor", None, usage), "t");
            assert_eq!(
                db.sql("SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'auth'"),
                "supabase_auth_admin"
            );
        }
        "gotrue_standin" => {
            // Users that exist before the app layer: its backfill must copy them.
            db.sql(&format!(
                r#"INSERT INTO auth.users (id, email, raw_user_meta_data, raw_app_meta_data) VALUES
                   ('{ALICE}', 'alice@example.com', '{{"name": "Alice"}}', '{{}}'),
                   ('{BOSS}', 'boss@example.com', '{{"name": "Boss"}}', '{{"role": "admin"}}');"#
            ));
        }
        "app" => {
            assert_eq!(
                db.sql("SELECT string_agg(id || '=' || email || '/' || (raw_user_meta_data ->> 'name'), ',' ORDER BY email) FROM app.users"),
                format!("{ALICE}=alice@example.com/Alice,{BOSS}=boss@example.com/Boss"),
                "the backfill copies the users that existed before the layer"
            );
            // The trigger mirrors a new auth user, then its changes.
            db.sql(&format!(
                r#"INSERT INTO auth.users (id, email, raw_user_meta_data) VALUES ('{CAROL}', 'carol@example.com', '{{"name": "Carol"}}');"#
            ));
            let carol = format!("SELECT email || '/' || (raw_user_meta_data ->> 'name') FROM app.users WHERE id = '{CAROL}'");
            assert_eq!(db.sql(&carol), "carol@example.com/Carol");
            db.sql(&format!(
                r#"UPDATE auth.users SET email = 'carol@example.org', raw_user_meta_data = '{{"name": "Caroline"}}' WHERE id = '{CAROL}';"#
            ));
            assert_eq!(db.sql(&carol), "carol@example.org/Caroline");
            // Deleting an auth user removes its mirror row.
            assert_eq!(
                db.sql(&format!(
                    "INSERT INTO auth.users (id, email) VALUES ('{DAVE}', 'dave@example.com');
                     SELECT count(*) FROM app.users WHERE id = '{DAVE}';
                     DELETE FROM auth.users WHERE id = '{DAVE}';
                     SELECT count(*) FROM app.users WHERE id = '{DAVE}';"
                )),
                "1\n0"
            );
            // The claim helpers read request.jwt.claims, and give {} without it.
            assert_eq!(
                db.ok_as(
                    "postgres",
                    Some(&alice),
                    "SELECT app.jwt_sub() || '|' || app.jwt_role() || '|' || app.jwt_email();"
                ),
                format!("{ALICE}|authenticated|alice@example.com")
            );
            assert_eq!(
                db.sql("SELECT app.jwt_claims()::text || '|' || (app.jwt_sub() IS NULL)"),
                "{}|true"
            );
            // MIG-005 does not open app to the request roles yet.
            db.denied_as(
                "authenticated",
                Some(&alice),
                "SELECT app.jwt_sub();",
                "permission denied for schema app",
            );
        }
        "admin_rpc" => {
            let whoami = "SELECT w ->> 'sub', w ->> 'email', w ->> 'app_role', w ->> 'db_role' FROM app.whoami() w;";
            assert_eq!(
                db.ok_as("authenticated", Some(&alice), whoami),
                format!("{ALICE}|alice@example.com||authenticated")
            );
            assert_eq!(
                db.ok_as("admin", Some(&boss), whoami),
                format!("{BOSS}|boss@example.com|admin|admin")
            );
            db.denied_as(
                "anon",
                None,
                "SELECT app.whoami();",
                "permission denied for schema app",
            );

            // app.users: own row for a user, every row for an admin, none without a JWT.
            let emails =
                "SELECT coalesce(string_agg(email, ',' ORDER BY email), '-') FROM app.users;";
            assert_eq!(
                db.ok_as("authenticated", Some(&alice), emails),
                "alice@example.com"
            );
            assert_eq!(
                db.ok_as("admin", Some(&boss), emails),
                "alice@example.com,boss@example.com,carol@example.org"
            );
            assert_eq!(db.ok_as("authenticated", None, emails), "-");
            db.denied_as(
                "authenticated",
                Some(&alice),
                "SELECT count(*) FROM auth.users;",
                "permission denied for table users",
            );

            // The admin-only RPC.
            let grant_editor = "SELECT app.admin_grant_app_role('Carol@Example.org', 'editor');";
            db.denied_as("authenticated", None, grant_editor, "unauthenticated");
            db.denied_as("authenticated", Some(&alice), grant_editor, "forbidden");
            // A JWT claiming admin for a user whose auth.users row does not say admin.
            let forged = claims(ALICE, "alice@example.com", Some("admin"));
            db.denied_as("admin", Some(&forged), grant_editor, "forbidden");
            db.denied_as(
                "anon",
                None,
                grant_editor,
                "permission denied for schema app",
            );
            assert_eq!(
                db.sql(&format!(
                    "SELECT raw_app_meta_data = '{{}}' FROM auth.users WHERE id = '{CAROL}'"
                )),
                "t",
                "refused calls change nothing"
            );
            let out = db.ok_as(
                "admin",
                Some(&boss),
                "SELECT r ->> 'id', r ->> 'email', r -> 'app_metadata' ->> 'role' FROM app.admin_grant_app_role('Carol@Example.org', 'editor') r;",
            );
            assert_eq!(out, format!("{CAROL}|carol@example.org|editor"));
            assert_eq!(
                db.sql(&format!(
                    "SELECT raw_app_meta_data ->> 'role' FROM auth.users WHERE id = '{CAROL}'"
                )),
                "editor"
            );
            db.denied_as(
                "admin",
                Some(&boss),
                "SELECT app.admin_grant_app_role('carol@example.org', 'superuser');",
                "invalid role",
            );
            db.denied_as(
                "admin",
                Some(&boss),
                "SELECT app.admin_grant_app_role('nobody@example.org', 'admin');",
                "user not found",
            );
            // Demoted since the JWT was issued: the still-valid token no longer works.
            db.sql(&format!(
                "UPDATE auth.users SET raw_app_meta_data = '{{}}' WHERE id = '{BOSS}'"
            ));
            db.denied_as("admin", Some(&boss), grant_editor, "forbidden");
        }
        other => panic!("examples/app-auth: no workflow for layer {other}"),
    }
}

#[test]
fn app_auth_applies_rolls_back_and_reapplies_with_dbmate() {
    round_trip(
        "app-auth",
        app_auth_workflow,
        &[
            "CREATE FUNCTION app.admin_grant_app_role(target_email text, new_role text) RETURNS jsonb",
            "SECURITY DEFINER",
            "CREATE TRIGGER trg_app_sync_user AFTER INSERT OR UPDATE ON auth.users",
            "CREATE POLICY users_select_self_or_admin ON app.users",
            "ALTER FUNCTION app.admin_grant_app_role(target_email text, new_role text) OWNER TO supabase_auth_admin",
            "GRANT USAGE ON SCHEMA app TO authenticated",
            "role authenticator login=true inherit=false",
            "member editor of authenticated",
        ],
    );
}

// ---------------------------------------------------------------------------
// examples/support-tickets (reference 002)
// ---------------------------------------------------------------------------

const OLIVIA: &str = "0a1e0000-0000-4000-8000-000000000001"; // owner of ACME
const MARK: &str = "3a4c0000-0000-4000-8000-000000000002"; // member of ACME
const EVE: &str = "e7e00000-0000-4000-8000-000000000003"; // owner of OTHER
const ACME: &str = "acac0000-0000-4000-8000-0000000000a1";
const OTHER: &str = "07e40000-0000-4000-8000-0000000000b2";
const TICKET_ACME: &str = "71c0000a-0000-4000-8000-0000000000a1";
const TICKET_OTHER: &str = "71c0000b-0000-4000-8000-0000000000b2";
const TICKET_OTHER_2: &str = "71c0000b-0000-4000-8000-0000000000b3";
const MESSAGE_ACME: &str = "3e55a9e0-0000-4000-8000-0000000000a1";
/// The seed layer's user, owner of the seeded Makerkit team account.
const SEED_USER: &str = "31a03e74-1639-45b6-bfa7-77447f1a4762";

fn jwt(sub: &str) -> String {
    claims(sub, "user@example.com", None)
}

/// Rows changed by an UPDATE or DELETE (RLS filters silently; psql -q prints no tag).
fn changed(db: &Db, sub: &str, statement: &str) -> String {
    db.ok_as(
        "authenticated",
        Some(&jwt(sub)),
        &format!("WITH c AS ({statement} RETURNING 1) SELECT count(*) FROM c;"),
    )
}

fn support_tickets_workflow(db: &Db, layer: &str) {
    let titles = "SELECT coalesce(string_agg(title, ',' ORDER BY title), '-') FROM public.tickets;";
    match layer {
        "platform" => {
            assert_eq!(
                db.ok_as("authenticated", Some(&jwt(OLIVIA)), "SELECT auth.uid();"),
                OLIVIA
            );
            assert_eq!(
                db.ok_as("authenticated", None, "SELECT auth.uid() IS NULL;"),
                "t"
            );
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    None,
                    &format!(
                        "SELECT kit.get_storage_filename_as_uuid('{ACME}/x/{MESSAGE_ACME}.png');"
                    )
                ),
                MESSAGE_ACME
            );
            db.denied_as(
                "anon",
                None,
                "SELECT kit.get_storage_filename_as_uuid('a.png');",
                "permission denied for schema kit",
            );
        }
        "makerkit_core" => {
            db.sql(&format!(
                "INSERT INTO auth.users (id, email) VALUES
                   ('{OLIVIA}', 'olivia@acme.test'), ('{MARK}', 'mark@acme.test'), ('{EVE}', 'eve@other.test');
                 INSERT INTO public.accounts (id, primary_owner_user_id, name, is_personal_account) VALUES
                   ('{OLIVIA}', '{OLIVIA}', 'Olivia', true), ('{MARK}', '{MARK}', 'Mark', true),
                   ('{EVE}', '{EVE}', 'Eve', true),
                   ('{ACME}', '{OLIVIA}', 'Acme', false), ('{OTHER}', '{EVE}', 'Other', false);
                 INSERT INTO public.accounts_memberships (user_id, account_id, account_role) VALUES
                   ('{OLIVIA}', '{ACME}', 'owner'), ('{MARK}', '{ACME}', 'member'), ('{EVE}', '{OTHER}', 'owner');"
            ));
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    Some(&jwt(MARK)),
                    &format!(
                        "SELECT public.has_role_on_account('{ACME}'), public.has_role_on_account('{OTHER}'),
                                public.has_role_on_account('{ACME}', 'owner'),
                                public.has_permission('{MARK}', '{ACME}', 'invites.manage'),
                                public.has_permission('{MARK}', '{ACME}', 'members.manage'),
                                public.has_permission('{OLIVIA}', '{ACME}', 'members.manage');"
                    )
                ),
                "t|f|f|t|f|t"
            );
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    Some(&jwt(EVE)),
                    "SELECT string_agg(name, ',' ORDER BY name) FROM public.accounts;"
                ),
                "Eve,Other"
            );
        }
        "support_schema" => {
            assert_eq!(
                db.sql("SELECT id || '/' || name || '/' || public FROM storage.buckets"),
                "attachments/attachments/false"
            );
            // Tickets come in through the server-side API (service_role).
            db.ok_as(
                "service_role",
                None,
                &format!(
                    "INSERT INTO public.tickets (id, account_id, title, customer_email) VALUES
                       ('{TICKET_ACME}', '{ACME}', 'Acme ticket', 'c@acme.test'),
                       ('{TICKET_OTHER}', '{OTHER}', 'Other ticket', 'c@other.test');"
                ),
            );
            // Each account's members see their own tickets only.
            assert_eq!(
                db.ok_as("authenticated", Some(&jwt(OLIVIA)), titles),
                "Acme ticket"
            );
            assert_eq!(
                db.ok_as("authenticated", Some(&jwt(EVE)), titles),
                "Other ticket"
            );
            assert_eq!(db.ok_as("authenticated", None, titles), "-");
            db.denied_as(
                "authenticated",
                Some(&jwt(OLIVIA)),
                &format!(
                    "INSERT INTO public.tickets (account_id, title) VALUES ('{ACME}', 'Direct');"
                ),
                "new row violates row-level security policy for table \"tickets\"",
            );
            // First version of the policies: any member may update, another account may not.
            let bump =
                format!("UPDATE public.tickets SET priority = 'high' WHERE id = '{TICKET_ACME}'");
            assert_eq!(changed(db, MARK, &bump), "1");
            assert_eq!(changed(db, EVE, &bump), "0");

            // The status trigger stamps who closed or resolved the ticket.
            let stamps = format!("SELECT status || '|' || coalesce(closed_by::text, '-') || '|' || (closed_at IS NOT NULL) || '|' || coalesce(resolved_by::text, '-') FROM public.tickets WHERE id = '{TICKET_ACME}'");
            assert_eq!(
                changed(
                    db,
                    OLIVIA,
                    &format!(
                        "UPDATE public.tickets SET status = 'closed' WHERE id = '{TICKET_ACME}'"
                    ),
                ),
                "1"
            );
            assert_eq!(db.sql(&stamps), format!("closed|{OLIVIA}|true|-"));
            assert_eq!(
                changed(
                    db,
                    MARK,
                    &format!(
                        "UPDATE public.tickets SET status = 'resolved' WHERE id = '{TICKET_ACME}'"
                    ),
                ),
                "1"
            );
            assert_eq!(db.sql(&stamps), format!("resolved|-|false|{MARK}"));

            // Messages follow the ticket's account.
            db.ok_as(
                "authenticated",
                Some(&jwt(OLIVIA)),
                &format!("INSERT INTO public.messages (id, ticket_id, author, author_account_id, content) VALUES ('{MESSAGE_ACME}', '{TICKET_ACME}', 'support', '{OLIVIA}', 'On it');"),
            );
            db.denied_as(
                "authenticated",
                Some(&jwt(EVE)),
                &format!("INSERT INTO public.messages (ticket_id, author, content) VALUES ('{TICKET_ACME}', 'customer', 'Hi');"),
                "new row violates row-level security policy for table \"messages\"",
            );
            let messages = "SELECT count(*) FROM public.messages;";
            assert_eq!(db.ok_as("authenticated", Some(&jwt(MARK)), messages), "1");
            assert_eq!(db.ok_as("authenticated", Some(&jwt(EVE)), messages), "0");
            let edit =
                format!("UPDATE public.messages SET content = 'x' WHERE id = '{MESSAGE_ACME}'");
            assert_eq!(changed(db, EVE, &edit), "0");
            assert_eq!(changed(db, MARK, &edit), "1");

            // Attachments are readable by the members of the message's account.
            db.sql(&format!(
                "INSERT INTO storage.objects (bucket_id, name) VALUES ('attachments', '{ACME}/{MESSAGE_ACME}.txt');"
            ));
            let objects = "SELECT count(*) FROM storage.objects;";
            assert_eq!(db.ok_as("authenticated", Some(&jwt(OLIVIA)), objects), "1");
            assert_eq!(db.ok_as("authenticated", Some(&jwt(EVE)), objects), "0");
            // A bucket holding files cannot be deleted: empty it so the layer can roll back.
            db.sql("DELETE FROM storage.objects;");

            // Plan limits: OTHER subscribes to a 2-ticket plan and already has one ticket.
            db.sql(&format!(
                "INSERT INTO public.plans (variant_id, name, max_tickets) VALUES ('test-two', 'Two', 2);
                 INSERT INTO public.subscriptions (id, account_id, active, period_starts_at, period_ends_at)
                   VALUES ('sub_other', '{OTHER}', true, now() - interval '1 day', now() + interval '29 days');
                 INSERT INTO public.subscription_items (id, subscription_id, variant_id, type)
                   VALUES ('si_other', 'sub_other', 'test-two', 'flat');"
            ));
            let remaining = |sub: &str, account: &str| {
                db.ok_as(
                    "authenticated",
                    Some(&jwt(sub)),
                    &format!("SELECT public.get_remaining_tickets('{account}');"),
                )
            };
            assert_eq!(remaining(EVE, OTHER), "1");
            assert_eq!(remaining(OLIVIA, ACME), "49", "free plan: 50 per 30 days");
            db.ok_as(
                "service_role",
                None,
                &format!("INSERT INTO public.tickets (id, account_id, title) VALUES ('{TICKET_OTHER_2}', '{OTHER}', 'Second');"),
            );
            db.denied_as(
                "service_role",
                None,
                &format!(
                    "INSERT INTO public.tickets (account_id, title) VALUES ('{OTHER}', 'Third');"
                ),
                "You have reached the maximum number of tickets allowed for your plan",
            );
            assert_eq!(remaining(EVE, OTHER), "0");

            // The permissions of the next layer do not exist yet.
            db.denied_as(
                "authenticated",
                None,
                "SELECT 'tickets.update'::public.app_permissions;",
                "invalid input value for enum app_permissions",
            );
        }
        "ticket_permissions" => {
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    None,
                    "SELECT 'tickets.update'::public.app_permissions, 'tickets.delete'::public.app_permissions;"
                ),
                "tickets.update|tickets.delete"
            );
            assert_eq!(
                db.sql("SELECT enum_range(NULL::public.app_permissions)"),
                "{roles.manage,billing.manage,settings.manage,members.manage,invites.manage,tickets.update,tickets.delete}"
            );
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    Some(&jwt(MARK)),
                    &format!(
                        "SELECT public.has_permission('{OLIVIA}', '{ACME}', 'tickets.update'),
                                public.has_permission('{MARK}', '{ACME}', 'tickets.update');"
                    )
                ),
                "t|f"
            );
            // Only the owner may update or delete now; members still read.
            let bump =
                format!("UPDATE public.tickets SET priority = 'low' WHERE id = '{TICKET_ACME}'");
            assert_eq!(changed(db, MARK, &bump), "0");
            assert_eq!(changed(db, OLIVIA, &bump), "1");
            let delete = format!("DELETE FROM public.tickets WHERE id = '{TICKET_ACME}'");
            assert_eq!(changed(db, MARK, &delete), "0");
            assert_eq!(
                db.ok_as("authenticated", Some(&jwt(MARK)), titles),
                "Acme ticket"
            );
            assert_eq!(
                changed(
                    db,
                    EVE,
                    &format!("DELETE FROM public.tickets WHERE id = '{TICKET_OTHER_2}'")
                ),
                "1"
            );
            assert_eq!(changed(db, EVE, &delete), "0");
        }
        "seed" => {
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    Some(&jwt(OLIVIA)),
                    "SELECT string_agg(variant_id || '=' || max_tickets, ',' ORDER BY variant_id) FROM public.plans;"
                ),
                "pro-monthly=-1,starter-monthly=100,test-two=2"
            );
            assert_eq!(
                db.ok_as("authenticated", Some(&jwt(SEED_USER)), titles),
                "App crashes on startup,Billing discrepancy,Cannot access account,Feature request: Dark mode"
            );
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    Some(&jwt(SEED_USER)),
                    "SELECT count(*), count(*) FILTER (WHERE author = 'support'), count(attachment_url) FROM public.messages;"
                ),
                "8|3|1"
            );
            assert_eq!(
                db.ok_as("authenticated", Some(&jwt(OLIVIA)), titles),
                "Acme ticket"
            );
            assert_eq!(
                db.ok_as(
                    "authenticated",
                    Some(&jwt(OLIVIA)),
                    "SELECT count(*) FROM public.messages;"
                ),
                "1"
            );
        }
        other => panic!("examples/support-tickets: no workflow for layer {other}"),
    }
}

#[test]
fn support_tickets_applies_rolls_back_and_reapplies_with_dbmate() {
    round_trip(
        "support-tickets",
        support_tickets_workflow,
        &[
            "CREATE POLICY select_tickets ON public.tickets",
            "CREATE POLICY message_attachments ON storage.objects",
            "CREATE TRIGGER check_ticket_limit BEFORE INSERT ON public.tickets",
            "'tickets.update'",
            "GRANT SELECT,INSERT ON TABLE public.tickets TO service_role",
            "role service_role login=false inherit=true bypassrls=true",
        ],
    );
}
