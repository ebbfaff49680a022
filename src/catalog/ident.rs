//! Identifiers, qualified names and the one quoting helper.
//!
//! Nothing else in schemac writes a quote character into SQL: identifiers go through
//! [`quote_ident`], literals through [`quote_literal`], function bodies through
//! [`dollar_quote`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use foldhash::fast::FixedState;

use serde::Serialize;

/// PostgreSQL's identifier length limit (NAMEDATALEN - 1), in bytes.
pub const MAX_IDENT_BYTES: usize = 63;

/// `name` followed by `suffix`, with `name` shortened (at a character boundary) so the whole
/// stays within [`MAX_IDENT_BYTES`].
pub fn truncated_with_suffix(name: &str, suffix: &str) -> String {
    let mut end = name.len().min(MAX_IDENT_BYTES.saturating_sub(suffix.len()));
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}", &name[..end])
}

/// Quote an identifier the way PostgreSQL's `quote_identifier` does: leave it bare only when
/// it is a plain lower-case identifier that is not a keyword (unreserved keywords may stay
/// bare); otherwise wrap it in double quotes, doubling any embedded `"`.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
}

/// [`quote_ident`] appended to `out`: the templates' filters build a statement's names in one
/// string instead of one string a name.
pub fn push_ident(out: &mut String, name: &str) {
    if is_plain_ident(name) && !is_keyword_needing_quotes(name) {
        out.push_str(name);
    } else {
        // Embedded double quotes are doubled.
        let mut parts = name.split('"');
        out.push('"');
        out.push_str(parts.next().unwrap_or_default());
        for part in parts {
            out.push_str("\"\"");
            out.push_str(part);
        }
        out.push('"');
    }
}

/// Quote a string literal: single quotes with embedded `'` doubled. Generated files assume
/// `standard_conforming_strings = on` (the default since PostgreSQL 9.1), so backslashes need
/// no escaping; a literal containing a backslash is written as an `E''` string to be safe
/// under either setting.
pub fn quote_literal(value: &str) -> String {
    if value.contains('\\') {
        format!("E'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    } else {
        format!("'{}'", value.replace('\'', "''"))
    }
}

/// Dollar-quote a function body with a tag that does not occur in it.
pub fn dollar_quote(body: &str) -> String {
    let mut tag = String::from("$body$");
    let mut n = 0;
    while body.contains(&tag) {
        n += 1;
        tag = format!("$body{n}$");
    }
    let sep = if body.ends_with('\n') { "" } else { "\n" };
    let lead = if body.starts_with('\n') { "" } else { "\n" };
    format!("{tag}{lead}{body}{sep}{tag}")
}

fn is_plain_ident(name: &str) -> bool {
    // Bytes: a plain identifier is ASCII, and any byte of a multi-byte character fails.
    match name.as_bytes() {
        [first, rest @ ..] if first.is_ascii_lowercase() || *first == b'_' => rest
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_' || *b == b'$'),
        _ => false,
    }
}

thread_local! {
    // A fast hash: the keys are names from the specs, and the map lives for one process.
    static KEYWORDS: RefCell<HashMap<String, bool, FixedState>> = RefCell::default();
}

/// Whether PostgreSQL's own scanner classifies `name` as a keyword that cannot be used as a
/// bare identifier everywhere (anything but an unreserved keyword). Results are cached.
/// PostgreSQL's keywords are letters and underscores only (`kwlist.h`): a name with a digit
/// or `$` in it is none, without asking (most generated names, `orders_2024_pkey`, are such).
fn is_keyword_needing_quotes(name: &str) -> bool {
    if name.bytes().any(|b| b.is_ascii_digit() || b == b'$') {
        return false;
    }
    if let Some(hit) = KEYWORDS.with(|k| k.borrow().get(name).copied()) {
        return hit;
    }
    let needs = match pg_query::scan(name) {
        Ok(result) => result.tokens.first().is_some_and(|t| {
            use pg_query::protobuf::KeywordKind;
            t.keyword_kind != KeywordKind::NoKeyword as i32
                && t.keyword_kind != KeywordKind::UnreservedKeyword as i32
        }),
        Err(_) => true,
    };
    KEYWORDS.with(|k| k.borrow_mut().insert(name.to_string(), needs));
    needs
}

/// Check that a name is usable as a PostgreSQL identifier; returns what is wrong.
pub fn validate_ident(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name cannot be empty".into());
    }
    if name.len() > MAX_IDENT_BYTES {
        return Err(format!(
            "`{name}` is {} bytes long; PostgreSQL identifiers are at most {MAX_IDENT_BYTES} bytes",
            name.len()
        ));
    }
    if name.contains('\0') {
        return Err("a name cannot contain a NUL character".into());
    }
    Ok(())
}

/// A schema-qualified name such as `auth.users`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct QName {
    pub schema: String,
    pub name: String,
}

impl QName {
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        QName {
            schema: schema.into(),
            name: name.into(),
        }
    }

    /// Parse `schema.name`; a part may be written in double quotes (with `""` for a quote)
    /// when it contains a dot. Unquoted parts are taken exactly as written.
    pub fn parse(text: &str) -> Result<QName, String> {
        let parts = split_name(text)?;
        match parts.as_slice() {
            [schema, name] => {
                validate_ident(schema)?;
                validate_ident(name)?;
                Ok(QName::new(schema.clone(), name.clone()))
            }
            [_] => Err(format!(
                "`{text}` is not schema-qualified; write it as `schema.{text}`"
            )),
            _ => Err(format!(
                "`{text}` has {} parts; expected `schema.name`",
                parts.len()
            )),
        }
    }

    /// A member of a schema-qualified object, `schema.object.member` (a column, an enum
    /// value); a part holding a dot is written in double quotes, as in [`QName::parse`].
    pub fn parse_member(text: &str) -> Result<(QName, String), String> {
        let parts = split_name(text)?;
        match parts.as_slice() {
            [schema, name, member] if !member.is_empty() => {
                validate_ident(schema)?;
                validate_ident(name)?;
                Ok((QName::new(schema.clone(), name.clone()), member.clone()))
            }
            _ => Err(format!(
                "`{text}` has {} parts; expected `schema.object.member`",
                parts.len()
            )),
        }
    }

    /// The SQL form, each part quoted as needed.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display_part(&self.schema))?;
        f.write_str(".")?;
        f.write_str(&display_part(&self.name))
    }
}

/// How a name part is shown in messages and keys: bare unless it contains a dot or a quote.
fn display_part(part: &str) -> String {
    if part.contains('.') || part.contains('"') {
        format!("\"{}\"", part.replace('"', "\"\""))
    } else {
        part.to_string()
    }
}

fn split_name(text: &str) -> Result<Vec<String>, String> {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(format!("unterminated quoted name in `{text}`")),
                }
            }
            parts.push(part);
            match chars.next() {
                None => return Ok(parts),
                Some('.') => continue,
                Some(c) => return Err(format!("unexpected `{c}` after a quoted name in `{text}`")),
            }
        } else {
            loop {
                match chars.next() {
                    Some('.') => break,
                    Some(c) => part.push(c),
                    None => {
                        parts.push(part);
                        return Ok(parts);
                    }
                }
            }
            parts.push(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote_ident("users"), "users");
        assert_eq!(quote_ident("user"), "\"user\"");
        assert_eq!(quote_ident("select"), "\"select\"");
        assert_eq!(quote_ident("name"), "name"); // unreserved keyword stays bare
        assert_eq!(quote_ident("Users"), "\"Users\"");
        assert_eq!(quote_ident("a b"), "\"a b\"");
        assert_eq!(quote_ident("1x"), "\"1x\"");
        assert_eq!(
            quote_ident("x\"; DROP TABLE t; --"),
            "\"x\"\"; DROP TABLE t; --\""
        );
    }

    #[test]
    fn names_with_digits_or_dollars_are_no_keywords() {
        // What the shortcut in `is_keyword_needing_quotes` assumes, asked of PostgreSQL's
        // scanner for keywords with a digit or `$` added.
        for name in ["user1", "select2", "table_3", "order$", "all0", "x9"] {
            let scanned = pg_query::scan(name).unwrap();
            assert_eq!(scanned.tokens.len(), 1, "{name}");
            assert_eq!(
                scanned.tokens[0].keyword_kind,
                pg_query::protobuf::KeywordKind::NoKeyword as i32,
                "{name}"
            );
            assert_eq!(quote_ident(name), name);
        }
    }

    #[test]
    fn literals_double_quotes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b'"), "E'a\\\\b'''");
    }

    #[test]
    fn dollar_tag_avoids_body() {
        assert_eq!(dollar_quote("SELECT 1"), "$body$\nSELECT 1\n$body$");
        let q = dollar_quote("x $body$ y");
        assert!(q.starts_with("$body1$"), "{q}");
    }

    #[test]
    fn parses_qualified_names() {
        assert_eq!(
            QName::parse("auth.users").unwrap(),
            QName::new("auth", "users")
        );
        assert_eq!(
            QName::parse("\"my.schema\".T").unwrap(),
            QName::new("my.schema", "T")
        );
        assert!(QName::parse("users").is_err());
        assert!(QName::parse("a.b.c").is_err());
        assert!(QName::parse("a.").is_err());
        assert_eq!(QName::new("my.schema", "T").to_string(), "\"my.schema\".T");
    }

    #[test]
    fn parses_members() {
        assert_eq!(
            QName::parse_member("app.\"v1.2\".\"a.b\"").unwrap(),
            (QName::new("app", "v1.2"), "a.b".to_string())
        );
        assert_eq!(
            QName::parse_member("app.level.it's").unwrap(),
            (QName::new("app", "level"), "it's".to_string())
        );
        assert!(QName::parse_member("app.items").is_err());
        assert!(QName::parse_member("app.items.").is_err());
    }
}
