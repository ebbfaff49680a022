//! Connections to PostgreSQL for the live stages (`introspect`, `drift`, `verify`): URLs in
//! dbmate's form, read-only sessions, and the small async runtime the CLI drives them with.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("`{url}` is not a PostgreSQL URL: {reason}")]
    Url { url: String, reason: String },
    #[error("cannot connect to {target}: {source}")]
    Connect { target: String, source: sqlx::Error },
    #[error("{what}: {source}")]
    Query { what: String, source: sqlx::Error },
}

impl DbError {
    pub fn query(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> DbError {
        let what = what.into();
        move |source| DbError::Query { what, source }
    }
}

/// A parsed connection URL: what sqlx needs, plus dbmate's own parameters.
#[derive(Clone, Debug)]
pub struct DbUrl {
    pub options: PgConnectOptions,
    /// dbmate's `search_path` parameter: its first schema holds `schema_migrations`.
    pub search_path: Option<String>,
    /// The URL with any password hidden, for messages.
    pub display: String,
}

impl DbUrl {
    /// Parse `postgres://user:pw@host:port/db?...`, also in dbmate's Unix-socket form
    /// (`postgres://user@/db?socket=/run/postgresql`). Parameters sqlx does not know and
    /// dbmate uses (`socket`, `search_path`) are taken out first.
    pub fn parse(url: &str) -> Result<DbUrl, DbError> {
        let bad = |reason: &str| DbError::Url {
            url: redact(url),
            reason: reason.into(),
        };
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("it must start with postgres:// or postgresql://"))?;
        let (base, query) = match rest.split_once('?') {
            Some((b, q)) => (b, q),
            None => (rest, ""),
        };
        let mut kept = Vec::new();
        let mut socket = None;
        let mut search_path = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "socket" => socket = Some(percent_decode(v)),
                "search_path" => search_path = Some(percent_decode(v)),
                _ => kept.push(pair),
            }
        }
        // sqlx wants a host even when a socket is given (dbmate's `postgres://u@/db?socket=`).
        let (authority, path) = base.split_at(base.find('/').unwrap_or(base.len()));
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let host = if host.is_empty() || host.starts_with(':') {
            format!("localhost{host}")
        } else {
            host.to_string()
        };
        let authority = match userinfo {
            Some(u) => format!("{u}@{host}"),
            None => host,
        };
        let mut clean = format!("postgres://{authority}{path}");
        if !kept.is_empty() {
            clean.push('?');
            clean.push_str(&kept.join("&"));
        }
        let mut options = PgConnectOptions::from_str(&clean).map_err(|e| bad(&e.to_string()))?;
        if let Some(dir) = socket {
            options = options.socket(dir);
        }
        options = options
            .application_name("schemac")
            .disable_statement_logging();
        Ok(DbUrl {
            options,
            search_path,
            display: redact(url),
        })
    }

    /// The same server, another database.
    pub fn with_database(&self, name: &str) -> DbUrl {
        DbUrl {
            options: self.options.clone().database(name),
            search_path: self.search_path.clone(),
            display: format!("{} (database {name})", self.display),
        }
    }

    /// The schema of dbmate's migrations table: the first `search_path` entry, else `public`
    /// (dbmate falls back to `current_schema()`, which is `public` on a default setup).
    pub fn migrations_schema(&self) -> String {
        self.search_path
            .as_deref()
            .and_then(|p| p.split(',').next())
            .map(|s| s.trim().trim_matches('"').to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "public".into())
    }

    pub async fn connect(&self) -> Result<PgConnection, DbError> {
        PgConnection::connect_with(&self.options)
            .await
            .map_err(|source| DbError::Connect {
                target: self.display.clone(),
                source,
            })
    }

    /// A session that refuses to write: every transaction in it is read only
    /// (`default_transaction_read_only`), set before anything else runs.
    pub async fn connect_read_only(&self) -> Result<PgConnection, DbError> {
        let options = self
            .options
            .clone()
            .options([("default_transaction_read_only", "on")]);
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|source| DbError::Connect {
                target: self.display.clone(),
                source,
            })?;
        sqlx::raw_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .execute(&mut conn)
            .await
            .map_err(DbError::query("making the session read only"))?;
        Ok(conn)
    }
}

/// The URL with its password replaced by `***`: in the user info (up to the last `@`, so an
/// unencoded `/` or `?` in the password stays hidden) and in a `password=` parameter.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let rest = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => rest.to_string(),
    };
    let rest = match rest.split_once('?') {
        Some((base, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{base}?{}", params.join("&"))
        }
        None => rest,
    };
    format!("{scheme}://{rest}")
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
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The single-threaded runtime the commands run their database work on.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db?sslmode=disable"),
            "postgres://u:***@h:5432/db?sslmode=disable"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("postgres://u@h/db?sslmode=disable&password=s3cret"),
            "postgres://u@h/db?sslmode=disable&password=***"
        );
        assert_eq!(redact("postgres://u:pa/ss?x@h/db"), "postgres://u:***@h/db");
    }

    #[test]
    fn percent_decoding_never_panics_on_multibyte_text() {
        assert_eq!(percent_decode("x%€"), "x%€");
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%41b"), "Ab");
    }

    #[test]
    fn reads_dbmate_socket_urls() {
        let u = DbUrl::parse(
            "postgres://postgres@/app?socket=/tmp/x%20y&port=5433&sslmode=disable&search_path=audit,public",
        )
        .unwrap();
        assert_eq!(
            u.options.get_socket(),
            Some(&std::path::PathBuf::from("/tmp/x y"))
        );
        assert_eq!(u.options.get_port(), 5433);
        assert_eq!(u.options.get_database(), Some("app"));
        assert_eq!(u.migrations_schema(), "audit");
        assert!(DbUrl::parse("mysql://x").is_err());
    }
}
