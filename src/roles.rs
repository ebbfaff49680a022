//! Deploy-time passwords: `schemac roles sync` sets the password of every declared LOGIN role
//! that names an environment variable (`password_env`), so no secret is ever in a spec, a
//! generated file or a bundle.
//!
//! The password never leaves this process: it is turned into a SCRAM-SHA-256 verifier here
//! (random 16-byte salt, 4096 iterations, as `psql`'s `\password` and libpq's
//! `PQencryptPasswordConn` do) and the server receives
//! `ALTER ROLE <role> PASSWORD 'SCRAM-SHA-256$4096:…'`, which it stores as it is. Neither
//! the wire, the server log (`log_statement`) nor `pg_stat_statements` ever sees the
//! password. All roles are set in one transaction, and only after every variable has been
//! read and every role found: a missing variable or role changes nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection as _;

use crate::catalog::{quote_ident, quote_literal, Catalog};
use crate::diagnostic::Span;

/// Iterations of the SCRAM verifier (PostgreSQL's default `scram_iterations`).
pub const SCRAM_ITERATIONS: u32 = 4096;

/// A LOGIN role whose password comes from an environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordRole {
    pub role: String,
    pub env: String,
    /// Where the role was declared.
    pub origin: Option<Span>,
}

/// The roles of the final state that have a password variable, by name; and the LOGIN roles
/// that have none (left alone).
pub fn password_roles(state: &Catalog) -> (Vec<PasswordRole>, Vec<String>) {
    let mut with = Vec::new();
    let mut without = Vec::new();
    for role in state.roles.values().filter(|r| r.login) {
        match &role.password_env {
            Some(env) => with.push(PasswordRole {
                role: role.name.clone(),
                env: env.clone(),
                origin: state.origin(&format!("role {}", role.name)).cloned(),
            }),
            None => without.push(role.name.clone()),
        }
    }
    (with, without)
}

/// A variable that is not set (or empty, which PostgreSQL would take as "no password").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissingVar {
    pub role: PasswordRole,
    pub empty: bool,
}

/// Read every variable; either all of them or the list of those missing.
pub fn read_secrets(
    roles: &[PasswordRole],
    var: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(PasswordRole, Secret)>, Vec<MissingVar>> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for r in roles {
        match var(&r.env) {
            Some(v) if !v.is_empty() => found.push((r.clone(), Secret(v))),
            Some(_) => missing.push(MissingVar {
                role: r.clone(),
                empty: true,
            }),
            None => missing.push(MissingVar {
                role: r.clone(),
                empty: false,
            }),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(missing)
    }
}

/// A password; never printed (its `Debug` is redacted).
pub struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The SCRAM-SHA-256 verifier PostgreSQL stores for `password`:
/// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (RFC 5802 / 7677). The
/// password is normalized with SASLprep like libpq does, and used as it is when SASLprep
/// rejects it (as PostgreSQL does).
pub fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    let normalized = stringprep::saslprep(password)
        .map(|p| p.into_owned())
        .unwrap_or_else(|_| password.to_string());
    let salted = pbkdf2_sha256(normalized.as_bytes(), salt, iterations);
    let client_key = hmac_sha256(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac_sha256(&salted, b"Server Key");
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA256 with one output block (32 bytes, what SCRAM-SHA-256 needs).
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac_sha256(password, &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac_sha256(password, &u);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

/// `ALTER ROLE <role> PASSWORD '<verifier>'`, quoted by the project's one quoting helper.
pub fn alter_role_sql(role: &str, verifier: &str) -> String {
    format!(
        "ALTER ROLE {} PASSWORD {}",
        quote_ident(role),
        quote_literal(verifier)
    )
}

/// How the connection reaches the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    Socket(PathBuf),
    Loopback(String),
    Remote(String),
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the database URL cannot be read: {0}")]
    Url(String),
    #[error("{0}")]
    Transport(String),
    #[error("cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    #[error("{0}")]
    MissingRoles(String),
    #[error("setting the passwords failed, nothing was changed: {0}")]
    Apply(sqlx::Error),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Parse a database URL. dbmate's `?socket=/dir` (a Unix socket folder) is understood as
/// well as libpq's `?host=/dir`.
pub fn connect_options(url: &str) -> Result<(PgConnectOptions, Transport), SyncError> {
    let socket = url.split_once('?').and_then(|(_, query)| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("socket="))
            .map(percent_decode)
    });
    // `postgres://user@/db` (no host) means the default Unix socket to libpq and dbmate; the
    // URL parser wants a host, so one is put in and the socket set afterwards.
    let (url, empty_host) = fill_empty_host(url);
    let mut opts: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| SyncError::Url(e.to_string()))?;
    match socket {
        Some(dir) => opts = opts.socket(dir),
        None if empty_host => {
            let default = std::path::Path::new("/var/run/postgresql");
            if default.is_dir() {
                opts = opts.socket(default);
            }
        }
        None => {}
    }
    let transport = match opts.get_socket() {
        Some(dir) => Transport::Socket(dir.clone()),
        None => {
            let host = opts.get_host().to_string();
            if host.starts_with('/') {
                Transport::Socket(PathBuf::from(host))
            } else if host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
            {
                Transport::Loopback(host)
            } else {
                Transport::Remote(host)
            }
        }
    };
    Ok((opts, transport))
}

/// The URL with `localhost` as its host when it has none, and whether it had none.
fn fill_empty_host(url: &str) -> (String, bool) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), false);
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host_part = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_part.is_empty() || host_part.starts_with(':') {
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (format!("{u}@"), h),
            None => (String::new(), authority),
        };
        let filled = format!("{scheme}://{userinfo}localhost{host}{}", &rest[end..]);
        (filled, true)
    } else {
        (url.to_string(), false)
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Set every password in one transaction, after checking that every role exists. Returns
/// the roles set. The caller has checked the transport.
pub fn sync(
    opts: PgConnectOptions,
    secrets: &[(PasswordRole, Secret)],
) -> Result<Vec<String>, SyncError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SyncError::Runtime)?;
    runtime.block_on(async {
        let mut conn = PgConnection::connect_with(&opts)
            .await
            .map_err(SyncError::Connect)?;
        let names: Vec<String> = secrets.iter().map(|(r, _)| r.role.clone()).collect();
        let existing: Vec<(String,)> =
            sqlx::query_as("SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)")
                .bind(&names)
                .fetch_all(&mut conn)
                .await
                .map_err(SyncError::Connect)?;
        let existing: BTreeMap<String, ()> = existing.into_iter().map(|(n,)| (n, ())).collect();
        let absent: Vec<&str> = names
            .iter()
            .filter(|n| !existing.contains_key(*n))
            .map(String::as_str)
            .collect();
        if !absent.is_empty() {
            return Err(SyncError::MissingRoles(format!(
                "role{} {} do{} not exist in the database; apply the migrations first (`dbmate up`). Nothing was changed",
                if absent.len() == 1 { "" } else { "s" },
                absent.join(", "),
                if absent.len() == 1 { "es" } else { "" }
            )));
        }
        let mut tx = conn.begin().await.map_err(SyncError::Apply)?;
        for (role, secret) in secrets {
            let mut salt = [0u8; 16];
            getrandom::getrandom(&mut salt)
                .map_err(|e| SyncError::Runtime(std::io::Error::other(e.to_string())))?;
            let verifier = scram_verifier(&secret.0, &salt, SCRAM_ITERATIONS);
            sqlx::raw_sql(&alter_role_sql(&role.role, &verifier))
                .execute(&mut *tx)
                .await
                .map_err(SyncError::Apply)?;
        }
        tx.commit().await.map_err(SyncError::Apply)?;
        conn.close().await.ok();
        Ok(names)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_matches_an_independent_computation() {
        // RFC 7677's password and salt; expected value computed with Python's hashlib/hmac.
        let salt = base64::engine::general_purpose::STANDARD
            .decode("W22ZaJ0SNY7soEsUEjb6gQ==")
            .unwrap();
        assert_eq!(
            scram_verifier("pencil", &salt, 4096),
            "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }

    #[test]
    fn statement_quotes_the_role_and_never_holds_the_password() {
        let v = scram_verifier("it's a secret", &[7; 16], 4096);
        let sql = alter_role_sql("Weird\"Role", &v);
        assert!(sql.starts_with("ALTER ROLE \"Weird\"\"Role\" PASSWORD 'SCRAM-SHA-256$4096:"));
        assert!(!sql.contains("secret"));
        assert!(!format!("{:?}", Secret("it's a secret".into())).contains("secret'"));
    }

    #[test]
    fn missing_and_empty_variables_are_all_reported() {
        let role = |r: &str, e: &str| PasswordRole {
            role: r.into(),
            env: e.into(),
            origin: None,
        };
        let roles = [role("a", "A_PW"), role("b", "B_PW"), role("c", "C_PW")];
        let env = |k: &str| match k {
            "A_PW" => Some("x".to_string()),
            "B_PW" => Some(String::new()),
            _ => None,
        };
        let missing = read_secrets(&roles, env).unwrap_err();
        assert_eq!(
            missing
                .iter()
                .map(|m| (m.role.env.as_str(), m.empty))
                .collect::<Vec<_>>(),
            [("B_PW", true), ("C_PW", false)]
        );
    }

    #[test]
    fn transports() {
        let t = |u: &str| connect_options(u).unwrap().1;
        assert_eq!(
            t("postgres://postgres@/db?socket=/tmp/x%20y&port=5432"),
            Transport::Socket("/tmp/x y".into())
        );
        assert_eq!(
            t("postgres://u@localhost:5432/db"),
            Transport::Loopback("localhost".into())
        );
        assert_eq!(
            t("postgres://u@127.0.0.1/db"),
            Transport::Loopback("127.0.0.1".into())
        );
        assert_eq!(
            t("postgres://u@db.example.com/db"),
            Transport::Remote("db.example.com".into())
        );
    }
}
