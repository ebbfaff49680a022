//! dbmate's semantics, for `verify` and `diff`: how a migration file splits into its up and
//! down sections, how a section runs (one transaction with the version row, unless the
//! section says `transaction:false`), and the `schema_migrations` table (see
//! `shared/DBMATE-FACTS.md`). schemac runs sections itself, through the same simple-query
//! protocol dbmate uses (the whole section in one `Exec`), so no dbmate binary is needed.

use sqlx::postgres::PgConnection;
use sqlx::Connection;

use crate::catalog::{quote_ident, QName};
use crate::db::DbError;

/// One section of a migration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub sql: String,
    /// False when the marker says `transaction:false`.
    pub transaction: bool,
    /// The 1-based line of the marker in the file.
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationFile {
    pub version: String,
    pub name: String,
    pub up: Section,
    pub down: Section,
}

impl MigrationFile {
    pub fn file_name(&self) -> String {
        format!("{}_{}.sql", self.version, self.name)
    }
}

/// Which marker a line is, and its options, with dbmate's regex
/// `(?m)^--\s*migrate:(up|down)(\s*$|\s+\S+)`.
fn marker(line: &str) -> Option<(&'static str, bool)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let rest = line.strip_prefix("--")?.trim_start();
    let (kind, rest) = if let Some(r) = rest.strip_prefix("migrate:up") {
        ("up", r)
    } else if let Some(r) = rest.strip_prefix("migrate:down") {
        ("down", r)
    } else {
        return None;
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let transaction = !rest.split_whitespace().any(|o| o == "transaction:false");
    Some((kind, transaction))
}

/// Split a migration file as dbmate does; errors where dbmate refuses the file.
pub fn parse(file_name: &str, text: &str) -> Result<MigrationFile, String> {
    let stem = file_name.strip_suffix(".sql").unwrap_or(file_name);
    let digits = stem.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return Err(format!(
            "{file_name}: the name does not start with a version"
        ));
    }
    let version = stem[..digits].to_string();
    let name = stem[digits..].trim_start_matches('_').to_string();
    let mut up: Option<(usize, bool, usize)> = None;
    let mut down: Option<(usize, bool, usize)> = None;
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        offset += line.len();
        let Some((kind, transaction)) = marker(line.trim_end_matches('\n')) else {
            continue;
        };
        if kind == "down" && up.is_none() {
            return Err(format!(
                "{file_name}:{}: `-- migrate:down` before `-- migrate:up`",
                i + 1
            ));
        }
        let slot = if kind == "up" { &mut up } else { &mut down };
        if slot.is_some() {
            return Err(format!(
                "{file_name}:{}: a second `-- migrate:{kind}`",
                i + 1
            ));
        }
        *slot = Some((offset, transaction, i + 1));
    }
    let (up_start, up_tx, up_line) =
        up.ok_or_else(|| format!("{file_name}: no `-- migrate:up` section"))?;
    let (down_start, down_tx, down_line) =
        down.ok_or_else(|| format!("{file_name}: no `-- migrate:down` section"))?;
    let down_marker_start = text[..down_start]
        .trim_end_matches('\n')
        .rfind('\n')
        .map_or(0, |i| i + 1);
    Ok(MigrationFile {
        version,
        name,
        up: Section {
            sql: text[up_start..down_marker_start].to_string(),
            transaction: up_tx,
            line: up_line,
        },
        down: Section {
            sql: text[down_start..].to_string(),
            transaction: down_tx,
            line: down_line,
        },
    })
}

/// The migrations table in `schema`.
pub fn migrations_table(schema: &str) -> QName {
    QName::new(schema, "schema_migrations")
}

/// The versions recorded in `table`, or `None` when the table does not exist.
pub async fn applied_versions(
    conn: &mut PgConnection,
    table: &QName,
) -> Result<Option<Vec<String>>, DbError> {
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(table.quoted())
        .fetch_one(&mut *conn)
        .await
        .map_err(DbError::query("looking for dbmate's migrations table"))?;
    if exists.is_none() {
        return Ok(None);
    }
    let sql = format!("SELECT version::text FROM {} ORDER BY 1", table.quoted());
    let versions: Vec<String> = sqlx::query_scalar(&sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(DbError::query(format!("reading {table}")))?;
    Ok(Some(versions))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// A section that failed: the database error and the line of the file it points at.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {direction} failed{}: {message}", line.map(|l| format!(" at line {l}")).unwrap_or_default())]
pub struct SectionError {
    pub file: String,
    pub direction: &'static str,
    pub line: Option<usize>,
    pub message: String,
}

/// Run one section as dbmate does and record (up) or delete (down) the version row in the
/// same transaction; under `transaction:false` the section runs on its own first.
pub async fn run(
    conn: &mut PgConnection,
    table: &QName,
    file: &MigrationFile,
    direction: Direction,
) -> Result<(), SectionError> {
    let (section, what) = match direction {
        Direction::Up => (&file.up, "up"),
        Direction::Down => (&file.down, "down"),
    };
    let fail = |e: sqlx::Error, line: Option<usize>| SectionError {
        file: file.file_name(),
        direction: what,
        line,
        message: e.to_string(),
    };
    let setup = format!(
        "CREATE SCHEMA IF NOT EXISTS {}; CREATE TABLE IF NOT EXISTS {} (version varchar PRIMARY KEY)",
        quote_ident(&table.schema),
        table.quoted()
    );
    sqlx::raw_sql(&setup)
        .execute(&mut *conn)
        .await
        .map_err(|e| fail(e, None))?;
    let record = match direction {
        Direction::Up => format!(
            "INSERT INTO {} (version) VALUES ({})",
            table.quoted(),
            crate::catalog::quote_literal(&file.version)
        ),
        Direction::Down => format!(
            "DELETE FROM {} WHERE version = {}",
            table.quoted(),
            crate::catalog::quote_literal(&file.version)
        ),
    };
    let line_of = |e: &sqlx::Error| -> Option<usize> {
        let pos = e
            .as_database_error()?
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?
            .position()?;
        let offset = match pos {
            sqlx::postgres::PgErrorPosition::Original(p) => p,
            sqlx::postgres::PgErrorPosition::Internal { .. } => return None,
        };
        let upto: String = section.sql.chars().take(offset.saturating_sub(1)).collect();
        Some(section.line + upto.matches('\n').count() + 1)
    };
    if section.transaction {
        let mut tx = conn.begin().await.map_err(|e| fail(e, None))?;
        if let Err(e) = sqlx::raw_sql(&section.sql).execute(&mut *tx).await {
            let line = line_of(&e);
            return Err(fail(e, line));
        }
        sqlx::raw_sql(&record)
            .execute(&mut *tx)
            .await
            .map_err(|e| fail(e, None))?;
        tx.commit().await.map_err(|e| fail(e, None))?;
    } else {
        if let Err(e) = sqlx::raw_sql(&section.sql).execute(&mut *conn).await {
            let line = line_of(&e);
            return Err(fail(e, line));
        }
        sqlx::raw_sql(&record)
            .execute(&mut *conn)
            .await
            .map_err(|e| fail(e, None))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_dbmate() {
        let text = "-- header\n-- migrate:up transaction:false\nCREATE TABLE a();\n\n-- migrate:down\nDROP TABLE a;\n";
        let m = parse("20250101000100_a_b.sql", text).unwrap();
        assert_eq!(m.version, "20250101000100");
        assert_eq!(m.name, "a_b");
        assert_eq!(m.up.sql, "CREATE TABLE a();\n\n");
        assert!(!m.up.transaction);
        assert_eq!(m.up.line, 2);
        assert_eq!(m.down.sql, "DROP TABLE a;\n");
        assert!(m.down.transaction);
        assert_eq!(m.down.line, 5);
        assert!(parse("1_x.sql", "-- migrate:down\n-- migrate:up\n").is_err());
        assert!(parse("1_x.sql", "-- migrate:up\n").is_err());
        assert_eq!(marker("--migrate:up"), Some(("up", true)));
        assert_eq!(marker("-- migrate:upgrade"), None);
        assert_eq!(
            marker("-- migrate:up transaction: false"),
            Some(("up", true))
        );
    }
}
