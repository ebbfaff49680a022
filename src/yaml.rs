//! A fast reader for the plain YAML that specs are written in, beside serde-saphyr.
//!
//! serde-saphyr reads any YAML and says precisely what is wrong with a bad file, but it is
//! general: half of its time goes to its parser's token queue, the other half to recording
//! and replaying every mapping key. Spec files use a small part of YAML (block mappings and
//! sequences, one-line flow collections, plain, quoted and literal scalars, comments), and
//! this module reads that part directly into a tree and hands it to serde.
//!
//! It is only a fast path. [`from_str`] answers `None` as soon as a file leaves the part it
//! knows (anchors, aliases, tags, merge keys, multi-line plain or flow scalars, folded
//! scalars, tabs, documents markers, nulls, ...) *and* whenever the file does not fit the
//! target type: the caller then reads the file with serde-saphyr, which gives the value, or
//! the error with its position and wording, exactly as before. What this module accepts it
//! must read as serde-saphyr does: value, line and column (tests/yaml_equivalence.rs checks
//! that on every spec of the repository and on generated ones).
//!
//! Positions: [`Spanned`](serde_saphyr::Spanned) values get serde-saphyr's line and column
//! (1-based; the column counts characters); their character span is left unknown, as schemac
//! reads only line and column.

use std::borrow::Cow;

use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

/// Read `text` into `T`, or `None` when the text is not in the subset this reader knows or
/// does not fit `T` (then serde-saphyr must read it).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Option<T> {
    let root = Parser::new(text)?.document()?;
    T::deserialize(NodeDe {
        node: &root,
        key: false,
    })
    .ok()
}

/// How `serde_saphyr::Spanned` asks for its position: a newtype struct of this name, read as
/// a map whose first key is the marker.
const SPANNED_NEWTYPE: &str = "__yaml_spanned";
const SPANNED_MARKER: &str = "__serde_saphyr_private_spanned";

/// Well below serde-saphyr's budget (250,000 nodes, 1,000,000 events, depth 64, keys of 1,024
/// characters, 64 MiB of scalars), so that nothing it refuses is accepted here.
const MAX_NODES: usize = 100_000;
const MAX_DEPTH: usize = 32;
const MAX_KEY_BYTES: usize = 256;
const MAX_SCALAR_BYTES: usize = 16 << 20;
const MAX_INPUT_BYTES: usize = 32 << 20;

#[derive(Debug)]
struct Node<'a> {
    kind: Kind<'a>,
    line: u32,
    column: u32,
}

#[derive(Debug)]
enum Kind<'a> {
    /// A plain scalar: its meaning (string, number, boolean, null) depends on what is asked.
    Plain(&'a str),
    /// A quoted or literal scalar: always a string.
    Text(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    Map(Vec<(Node<'a>, Node<'a>)>),
}

/// Not in the subset: the caller falls back to serde-saphyr.
struct Unsupported;

type R<T> = Result<T, Unsupported>;

struct Parser<'a> {
    /// The lines, without their `\n`.
    lines: Vec<&'a str>,
    /// Whether the text ends with a line break (a literal scalar on the last line needs one).
    ends_with_newline: bool,
    /// The current line, at a line start between block nodes.
    li: usize,
    nodes: usize,
    scalar_bytes: usize,
    depth: usize,
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Blank, or only a comment.
fn is_blank(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

/// Nothing but spaces.
fn is_empty_line(line: &str) -> bool {
    line.bytes().all(|b| b == b' ')
}

/// A block sequence entry: `-` alone or before a space.
fn is_entry(rest: &str) -> bool {
    rest == "-" || rest.starts_with("- ")
}

/// What may follow a scalar, a flow collection or a block scalar's header on its line:
/// spaces, then a comment (after at least one space) or nothing.
fn ends_line(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

/// Characters that cannot start a plain scalar here (YAML's indicators; `-`, `?` and `:`
/// only before a space or the end, checked apart).
fn starts_with_indicator(s: &str) -> bool {
    let b = s.as_bytes();
    match b.first() {
        None => true,
        Some(
            b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
            | b'"' | b'%' | b'@' | b'`',
        ) => true,
        Some(b'-' | b'?' | b':') => matches!(b.get(1), None | Some(b' ')),
        _ => false,
    }
}

/// The column serde-saphyr reports: characters before `byte` in the line, plus one.
fn column(line: &str, byte: usize) -> u32 {
    let prefix = &line[..byte];
    let n = if prefix.is_ascii() {
        prefix.len()
    } else {
        prefix.chars().count()
    };
    n as u32 + 1
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Option<Parser<'a>> {
        if text.len() > MAX_INPUT_BYTES || !plain_characters(text) {
            return None;
        }
        let ends_with_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(text);
        let lines: Vec<&str> = body.split('\n').collect();
        // Document markers and directives.
        if lines
            .iter()
            .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
        {
            return None;
        }
        Some(Parser {
            lines,
            ends_with_newline,
            li: 0,
            nodes: 0,
            scalar_bytes: 0,
            depth: 0,
        })
    }

    fn document(mut self) -> Option<Node<'a>> {
        self.skip_blank();
        if self.li >= self.lines.len() {
            return None;
        }
        let root = self.block_node(-1).ok()?;
        self.skip_blank();
        (self.li >= self.lines.len()).then_some(root)
    }

    fn skip_blank(&mut self) {
        while self.li < self.lines.len() && is_blank(self.lines[self.li]) {
            self.li += 1;
        }
    }

    /// The indentation of the current line, if there is one (call after `skip_blank`).
    fn current_indent(&self) -> Option<usize> {
        self.lines.get(self.li).map(|l| indent(l))
    }

    fn node(&mut self, kind: Kind<'a>, line: usize, byte: usize) -> R<Node<'a>> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Unsupported);
        }
        match &kind {
            Kind::Plain(s) => self.count_scalar(s.len())?,
            Kind::Text(s) => self.count_scalar(s.len())?,
            Kind::Seq(_) | Kind::Map(_) => {}
        }
        Ok(Node {
            kind,
            line: line as u32 + 1,
            column: column(self.lines[line], byte),
        })
    }

    fn count_scalar(&mut self, len: usize) -> R<()> {
        self.scalar_bytes += len;
        if self.scalar_bytes > MAX_SCALAR_BYTES {
            return Err(Unsupported);
        }
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        Ok(())
    }

    /// A block node starting on the current line (at a line start, after `skip_blank`),
    /// indented more than `parent`.
    fn block_node(&mut self, parent: isize) -> R<Node<'a>> {
        let line = self.lines[self.li];
        let ind = indent(line);
        if ind as isize <= parent {
            return Err(Unsupported);
        }
        let rest = &line[ind..];
        if is_entry(rest) {
            self.block_seq(ind, false)
        } else if key_end(rest).is_some() {
            self.block_map(ind)
        } else {
            let li = self.li;
            self.inline_value(li, ind, parent)
        }
    }

    /// Entries `- item` at indentation `ind`, from the current line. serde-saphyr places a
    /// sequence at its first dash, but an indentless one (its dashes under the key that holds
    /// it) past that dash, the spaces after it and a comment.
    fn block_seq(&mut self, ind: usize, indentless: bool) -> R<Node<'a>> {
        self.enter()?;
        let (start_li, mut start_at, mut items) = (self.li, ind, Vec::new());
        loop {
            let line = self.lines[self.li];
            // Past the dash and the spaces after it.
            let after = ind + 1 + indent(&line[ind + 1..]);
            let on_next_line = is_blank(&line[after..]);
            if items.is_empty() && indentless {
                start_at = if on_next_line { line.len() } else { after };
            }
            if on_next_line {
                self.li += 1;
                self.skip_blank();
                match self.current_indent() {
                    Some(k) if k > ind => items.push(self.block_node(ind as isize)?),
                    _ => return Err(Unsupported), // an empty entry is null
                }
            } else {
                let rest = &line[after..];
                if is_entry(rest) {
                    return Err(Unsupported); // `- - x`
                }
                if key_end(rest).is_some() {
                    items.push(self.block_map(after)?);
                } else {
                    let li = self.li;
                    items.push(self.inline_value(li, after, ind as isize)?);
                }
            }
            match self.current_indent() {
                Some(k) if k == ind => {
                    if !is_entry(&self.lines[self.li][k..]) {
                        break;
                    }
                }
                Some(k) if k > ind => return Err(Unsupported),
                _ => break,
            }
        }
        self.depth -= 1;
        self.node(Kind::Seq(items), start_li, start_at)
    }

    /// `key: value` entries whose keys start at column `ind`; the first key is on the
    /// current line at that column (which may follow a `- `).
    fn block_map(&mut self, ind: usize) -> R<Node<'a>> {
        self.enter()?;
        let start_li = self.li;
        let mut entries: Vec<(Node<'a>, Node<'a>)> = Vec::new();
        loop {
            let li = self.li;
            let line = self.lines[li];
            let rest = &line[ind..];
            let Some((raw, colon)) = key_end(rest) else {
                return Err(Unsupported);
            };
            let key = self.scalar_key(raw, li, ind)?;
            check_key(&entries, &key, raw.len())?;
            let after = ind + colon + 1;
            let value_at = after + indent(&line[after..]);
            let value = if is_blank(&line[value_at..]) {
                if value_at < line.len() && value_at == after {
                    return Err(Unsupported); // `key:#`: not a comment
                }
                self.li += 1;
                self.skip_blank();
                match self.current_indent() {
                    Some(k) if k > ind => self.block_node(ind as isize)?,
                    Some(k) if k == ind && is_entry(&self.lines[self.li][k..]) => {
                        self.block_seq(ind, true)?
                    }
                    _ => return Err(Unsupported), // null
                }
            } else {
                self.inline_value(li, value_at, ind as isize)?
            };
            entries.push((key, value));
            match self.current_indent() {
                Some(k) if k == ind => {}
                Some(k) if k > ind => return Err(Unsupported),
                _ => break,
            }
        }
        self.depth -= 1;
        self.node(Kind::Map(entries), start_li, ind)
    }

    /// A key found by [`key_end`]: plain or quoted, on one line.
    fn scalar_key(&mut self, key: &'a str, li: usize, at: usize) -> R<Node<'a>> {
        match key.as_bytes()[0] {
            b'\'' | b'"' => {
                let (text, used) = quoted(key)?;
                if used != key.len() {
                    return Err(Unsupported);
                }
                self.node(Kind::Text(text), li, at)
            }
            _ => {
                if starts_with_indicator(key) || key.contains(" #") {
                    return Err(Unsupported);
                }
                self.node(Kind::Plain(key), li, at)
            }
        }
    }

    /// The value that starts at byte `at` of line `li`, inside a block collection indented
    /// `parent`; afterwards the current line is the next one with content, which must not be
    /// indented more than `parent` (a continuation line is not in the subset).
    fn inline_value(&mut self, li: usize, at: usize, parent: isize) -> R<Node<'a>> {
        let line = self.lines[li];
        let rest = &line[at..];
        let node = match rest.as_bytes()[0] {
            b'|' => return self.literal(li, at, parent),
            b'\'' | b'"' => {
                let (text, used) = quoted(rest)?;
                self.end_of_line(&rest[used..])?;
                self.node(Kind::Text(text), li, at)?
            }
            b'[' | b'{' => {
                let (node, used) = self.flow(li, at)?;
                self.end_of_line(&rest[used..])?;
                node
            }
            _ => {
                if starts_with_indicator(rest) {
                    return Err(Unsupported);
                }
                let text = match rest.find(" #") {
                    Some(i) => &rest[..i],
                    None => rest,
                }
                .trim_end_matches(' ');
                if text.contains(": ") || text.ends_with(':') {
                    return Err(Unsupported);
                }
                self.node(Kind::Plain(text), li, at)?
            }
        };
        self.li = li + 1;
        self.skip_blank();
        match self.current_indent() {
            Some(k) if k as isize > parent => Err(Unsupported),
            _ => Ok(node),
        }
    }

    /// After a scalar or flow collection: only what [`ends_line`] allows.
    fn end_of_line(&self, rest: &str) -> R<()> {
        if ends_line(rest) {
            Ok(())
        } else {
            Err(Unsupported)
        }
    }

    /// A literal block scalar (`|`, `|-`, `|+`) whose indicator is at byte `at` of line
    /// `li`, in a block collection indented `parent`.
    fn literal(&mut self, li: usize, at: usize, parent: isize) -> R<Node<'a>> {
        let line = self.lines[li];
        let header = &line[at + 1..];
        let (chomp, rest) = match header.as_bytes().first() {
            Some(b'-') => (b'-', &header[1..]),
            Some(b'+') => (b'+', &header[1..]),
            _ => (b' ', header),
        };
        if !ends_line(rest) {
            return Err(Unsupported); // an indentation indicator, or text after the header
        }
        // The content's indentation is that of its first non-empty line.
        let mut i = li + 1;
        let mut leading_max = 0;
        while i < self.lines.len() && is_empty_line(self.lines[i]) {
            leading_max = leading_max.max(self.lines[i].len());
            i += 1;
        }
        let Some(first) = self.lines.get(i) else {
            return Err(Unsupported);
        };
        let m = indent(first);
        // serde-saphyr places a literal scalar at its first line of text.
        let (text_li, text_at) = (i, m);
        if m as isize <= parent || leading_max > m {
            return Err(Unsupported);
        }
        let mut out = String::new();
        let mut i = li + 1;
        while i < self.lines.len() {
            let l = self.lines[i];
            if is_empty_line(l) {
                if l.len() > m {
                    return Err(Unsupported); // spaces that would be content
                }
                out.push('\n');
            } else if indent(l) >= m {
                out.push_str(&l[m..]);
                out.push('\n');
            } else {
                break;
            }
            i += 1;
        }
        // The file's last line has no line break of its own: left to serde-saphyr.
        if i == self.lines.len() && !self.ends_with_newline {
            return Err(Unsupported);
        }
        match chomp {
            b'-' => out.truncate(out.trim_end_matches('\n').len()),
            b' ' => {
                let keep = out.trim_end_matches('\n').len();
                out.truncate(if keep == 0 { 0 } else { keep + 1 });
            }
            _ => {}
        }
        let node = self.node(Kind::Text(Cow::Owned(out)), text_li, text_at)?;
        self.li = i;
        // What follows: nothing indented past the collection, and no comment line between
        // the two indentations (where YAML's rules for trailing comments are subtle).
        while self.li < self.lines.len() && is_blank(self.lines[self.li]) {
            let l = self.lines[self.li];
            if !is_empty_line(l) && indent(l) as isize > parent {
                return Err(Unsupported);
            }
            self.li += 1;
        }
        match self.current_indent() {
            Some(k) if k as isize > parent => Err(Unsupported),
            _ => Ok(node),
        }
    }

    /// A flow collection that opens at byte `at` of line `li` and closes on the same line;
    /// returns it and the bytes it used.
    fn flow(&mut self, li: usize, at: usize) -> R<(Node<'a>, usize)> {
        let line = self.lines[li];
        let mut pos = at;
        let node = self.flow_node(li, line, &mut pos)?;
        Ok((node, pos - at))
    }

    fn flow_node(&mut self, li: usize, line: &'a str, pos: &mut usize) -> R<Node<'a>> {
        let start = *pos;
        match line.as_bytes().get(start) {
            Some(b'[') => {
                self.enter()?;
                *pos += 1;
                let mut items = Vec::new();
                skip_spaces(line, pos);
                if line.as_bytes().get(*pos) == Some(&b']') {
                    *pos += 1;
                } else {
                    loop {
                        skip_spaces(line, pos);
                        let item = self.flow_node(li, line, pos)?;
                        if matches!(item.kind, Kind::Plain(_))
                            && line.as_bytes().get(*pos) == Some(&b':')
                        {
                            return Err(Unsupported); // a one-pair mapping in a sequence
                        }
                        items.push(item);
                        if closes(line, pos, b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                self.node(Kind::Seq(items), li, start)
            }
            Some(b'{') => {
                self.enter()?;
                *pos += 1;
                let mut entries: Vec<(Node<'a>, Node<'a>)> = Vec::new();
                skip_spaces(line, pos);
                if line.as_bytes().get(*pos) == Some(&b'}') {
                    *pos += 1;
                } else {
                    loop {
                        skip_spaces(line, pos);
                        let key_start = *pos;
                        let key = self.flow_scalar(li, line, pos)?;
                        check_key(&entries, &key, *pos - key_start)?;
                        // `key: value`, the colon right after the key.
                        if line.as_bytes().get(*pos) != Some(&b':')
                            || line.as_bytes().get(*pos + 1) != Some(&b' ')
                        {
                            return Err(Unsupported);
                        }
                        *pos += 2;
                        skip_spaces(line, pos);
                        let value = self.flow_node(li, line, pos)?;
                        entries.push((key, value));
                        if closes(line, pos, b'}')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                self.node(Kind::Map(entries), li, start)
            }
            _ => self.flow_scalar(li, line, pos),
        }
    }

    /// A quoted or plain scalar inside a flow collection.
    fn flow_scalar(&mut self, li: usize, line: &'a str, pos: &mut usize) -> R<Node<'a>> {
        let start = *pos;
        let rest = &line[start..];
        match rest.as_bytes().first() {
            Some(b'\'' | b'"') => {
                let (text, used) = quoted(rest)?;
                *pos += used;
                self.node(Kind::Text(text), li, start)
            }
            _ => {
                if starts_with_indicator(rest)
                    || (rest.as_bytes()[0] == b'-'
                        && matches!(
                            rest.as_bytes().get(1),
                            Some(b',' | b'[' | b']' | b'{' | b'}')
                        ))
                {
                    return Err(Unsupported);
                }
                // Bytes, not chars: the delimiters are ASCII, which no other UTF-8 character
                // contains, so the first one found is where the scalar ends.
                let end = rest
                    .bytes()
                    .position(|b| matches!(b, b',' | b'[' | b']' | b'{' | b'}' | b':' | b'#'))
                    .unwrap_or(rest.len());
                let text = rest[..end].trim_end_matches(' ');
                if text.is_empty() {
                    return Err(Unsupported);
                }
                // A `:` ends a key only before a space; elsewhere it belongs to the scalar,
                // and a `#` is a comment only after a space: both are left to serde-saphyr.
                match rest.as_bytes().get(end) {
                    Some(b':') if rest.as_bytes().get(end + 1) != Some(&b' ') => {
                        return Err(Unsupported)
                    }
                    Some(b'#') => return Err(Unsupported),
                    _ => {}
                }
                *pos += text.len();
                self.node(Kind::Plain(text), li, start)
            }
        }
    }
}

/// After a flow collection's entry: a comma (false) or its closing bracket (true), either
/// consumed with the spaces before it.
fn closes(line: &str, pos: &mut usize, close: u8) -> R<bool> {
    skip_spaces(line, pos);
    match line.as_bytes().get(*pos) {
        Some(b',') => {
            *pos += 1;
            Ok(false)
        }
        Some(&b) if b == close => {
            *pos += 1;
            Ok(true)
        }
        _ => Err(Unsupported),
    }
}

fn skip_spaces(line: &str, pos: &mut usize) {
    while line.as_bytes().get(*pos) == Some(&b' ') {
        *pos += 1;
    }
}

/// Text without tabs, carriage returns or other control characters, byte order marks or
/// Unicode line separators (YAML gives each a meaning of its own, or refuses it).
fn plain_characters(text: &str) -> bool {
    let ascii_ok = |b: u8| b >= 0x20 && b != 0x7f || b == b'\n' || b >= 0x80;
    // By blocks, each checked whole (no early exit inside one): the compiler checks a block
    // many bytes at a time.
    if !text
        .as_bytes()
        .chunks(64)
        .all(|block| block.iter().fold(true, |ok, &b| ok & ascii_ok(b)))
    {
        return false;
    }
    text.is_ascii()
        || !text.chars().any(|c| {
            matches!(
                c,
                '\u{80}'..='\u{9f}' | '\u{feff}' | '\u{2028}' | '\u{2029}'
            ) || c == '\u{fffe}'
                || c == '\u{ffff}'
        })
}

/// If `rest` starts with a mapping key on this line: the key's text and the byte of its
/// colon (followed by a space or the end of the line).
fn key_end(rest: &str) -> Option<(&str, usize)> {
    let b = rest.as_bytes();
    match b.first()? {
        b'\'' | b'"' => {
            let (_, used) = quoted(rest).ok()?;
            (b.get(used) == Some(&b':') && matches!(b.get(used + 1), None | Some(b' ')))
                .then(|| (&rest[..used], used))
        }
        b'[' | b'{' | b'#' => None,
        _ => {
            let mut from = 0;
            loop {
                let i = from + rest[from..].find(':')?;
                if matches!(b.get(i + 1), None | Some(b' ')) {
                    let key = rest[..i].trim_end_matches(' ');
                    if key.is_empty() || key.len() != i {
                        return None; // `key :` is left to serde-saphyr
                    }
                    return Some((key, i));
                }
                from = i + 1;
            }
        }
    }
}

/// A key this reader may add after `entries`, whose source takes `raw_len` bytes: not too long
/// for serde-saphyr's parser (which counts the source), not a merge key, not a plain key
/// serde-saphyr may compare as an integer (`+1` = `1` = `0x1`, `1_0` = `10`, `-0` = `0`;
/// canonical decimals are compared as text by both), and not one already there.
fn check_key(entries: &[(Node<'_>, Node<'_>)], key: &Node<'_>, raw_len: usize) -> R<()> {
    let integer_like =
        matches!(key.kind, Kind::Plain(s) if may_be_number(s) && !(is_decimal(s) && s != "-0"));
    let text = key_str(key);
    if raw_len > MAX_KEY_BYTES
        || integer_like
        || matches!(key.kind, Kind::Plain("<<"))
        || entries.iter().any(|(k, _)| key_str(k) == text)
    {
        return Err(Unsupported);
    }
    Ok(())
}

fn key_str<'k>(node: &'k Node<'_>) -> &'k str {
    match &node.kind {
        Kind::Plain(s) => s,
        Kind::Text(s) => s,
        _ => unreachable!("keys are scalars"),
    }
}

/// A single- or double-quoted scalar at the start of `s`, closed on the same line: its text
/// and the bytes used, quotes included.
fn quoted(s: &str) -> R<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    if b[0] == b'\'' {
        let mut out: Option<String> = None;
        let mut i = 1;
        let mut from = 1;
        loop {
            let j = i + s[i..].find('\'').ok_or(Unsupported)?;
            if b.get(j + 1) == Some(&b'\'') {
                out.get_or_insert_with(String::new).push_str(&s[from..=j]);
                i = j + 2;
                from = i;
            } else {
                return Ok(match out {
                    None => (Cow::Borrowed(&s[1..j]), j + 1),
                    Some(mut o) => {
                        o.push_str(&s[from..j]);
                        (Cow::Owned(o), j + 1)
                    }
                });
            }
        }
    }
    let mut out: Option<String> = None;
    let mut from = 1;
    let mut i = 1;
    loop {
        match b.get(i) {
            None => return Err(Unsupported),
            Some(b'"') => {
                return Ok(match out {
                    None => (Cow::Borrowed(&s[1..i]), i + 1),
                    Some(mut o) => {
                        o.push_str(&s[from..i]);
                        (Cow::Owned(o), i + 1)
                    }
                });
            }
            Some(b'\\') => {
                let o = out.get_or_insert_with(String::new);
                o.push_str(&s[from..i]);
                let (c, len) = match b.get(i + 1) {
                    Some(b'\\') => ('\\', 2),
                    Some(b'"') => ('"', 2),
                    Some(b'/') => ('/', 2),
                    Some(b'n') => ('\n', 2),
                    Some(b't') => ('\t', 2),
                    Some(b'r') => ('\r', 2),
                    Some(b'0') => ('\0', 2),
                    Some(b' ') => (' ', 2),
                    Some(b'x') => (hex(s, i + 2, 2)?, 4),
                    Some(b'u') => (hex(s, i + 2, 4)?, 6),
                    Some(b'U') => (hex(s, i + 2, 8)?, 10),
                    _ => return Err(Unsupported),
                };
                o.push(c);
                i += len;
                from = i;
            }
            Some(_) => i += 1,
        }
    }
}

fn hex(s: &str, at: usize, len: usize) -> R<char> {
    let digits = s.get(at..at + len).ok_or(Unsupported)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Unsupported);
    }
    let n = u32::from_str_radix(digits, 16).map_err(|_| Unsupported)?;
    char::from_u32(n).ok_or(Unsupported)
}

// ---- serde ----------------------------------------------------------------------------

/// Any error, ours or the target type's: the caller falls back to serde-saphyr, which
/// reports it properly.
#[derive(Debug)]
struct Fallback;

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not read by the fast YAML reader")
    }
}

impl std::error::Error for Fallback {}

impl de::Error for Fallback {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Fallback
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "~" | "null" | "Null" | "NULL")
}

fn bool_of(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A decimal integer as YAML writes it without a leading zero: `0`, `42`, `-7`.
fn is_decimal(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && (d == "0" || !d.starts_with('0'))
}

/// `1.5`, `-0.25`: a decimal fraction both readers parse the same way.
fn is_simple_float(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    match d.split_once('.') {
        Some((int, frac)) => {
            is_decimal(int)
                && !int.starts_with('-')
                && !frac.is_empty()
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// A plain scalar some schema could read as other than a string (a number in any of YAML's
/// spellings, infinity, not-a-number): when its type is inferred, serde-saphyr decides.
fn may_be_number(s: &str) -> bool {
    let t = s.trim_start_matches(['-', '+']);
    t.starts_with(|c: char| c.is_ascii_digit() || c == '.') || s.starts_with(['-', '+'])
}

#[derive(Clone, Copy)]
struct NodeDe<'n, 'a> {
    node: &'n Node<'a>,
    /// A mapping key (whose inferred type is always left to serde-saphyr when not a string).
    key: bool,
}

/// Floats in the spellings both readers parse alike, and finite (serde-saphyr refuses an
/// overflow to infinity).
macro_rules! float {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
            match self.node.kind {
                Kind::Plain(s) if is_decimal(s) || is_simple_float(s) => {
                    let v = s.parse::<$ty>().map_err(|_| Fallback)?;
                    if v.is_finite() {
                        visitor.$visit(v)
                    } else {
                        Err(Fallback)
                    }
                }
                _ => Err(Fallback),
            }
        }
    )*};
}

macro_rules! integer {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
            match self.node.kind {
                Kind::Plain(s) if is_decimal(s) => {
                    visitor.$visit(s.parse::<$ty>().map_err(|_| Fallback)?)
                }
                _ => Err(Fallback),
            }
        }
    )*};
}

impl<'de, 'n, 'a: 'de> de::Deserializer<'de> for NodeDe<'n, 'a> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match &self.node.kind {
            Kind::Plain(s) => {
                let typed = is_null(s) || bool_of(s).is_some() || may_be_number(s);
                if self.key && typed {
                    return Err(Fallback);
                }
                if is_null(s) {
                    visitor.visit_unit()
                } else if let Some(b) = bool_of(s) {
                    visitor.visit_bool(b)
                } else if is_decimal(s) && s.starts_with('-') {
                    self.deserialize_i64(visitor)
                } else if is_decimal(s) {
                    self.deserialize_u64(visitor)
                } else if is_simple_float(s) {
                    self.deserialize_f64(visitor)
                } else if typed || s.starts_with('.') {
                    Err(Fallback) // other numbers, .inf, .nan: serde-saphyr decides
                } else {
                    visitor.visit_borrowed_str(s)
                }
            }
            Kind::Text(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Kind::Text(Cow::Owned(s)) => visitor.visit_str(s),
            Kind::Seq(_) => self.deserialize_seq(visitor),
            Kind::Map(_) => self.deserialize_map(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.node.kind {
            Kind::Plain(s) => visitor.visit_bool(bool_of(s).ok_or(Fallback)?),
            _ => Err(Fallback),
        }
    }

    integer! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16,
        deserialize_i32 visit_i32 i32, deserialize_i64 visit_i64 i64,
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64
    }

    float! {
        deserialize_f32 visit_f32 f32, deserialize_f64 visit_f64 f64
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match &self.node.kind {
            Kind::Plain(s) if !is_null(s) => visitor.visit_borrowed_str(s),
            Kind::Text(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Kind::Text(Cow::Owned(s)) => visitor.visit_str(s),
            _ => Err(Fallback),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.node.kind {
            Kind::Plain(s) if is_null(s) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match self.node.kind {
            Kind::Plain(s) if is_null(s) => visitor.visit_unit(),
            _ => Err(Fallback),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        if name == SPANNED_NEWTYPE {
            visitor.visit_newtype_struct(SpannedDe { inner: self })
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match &self.node.kind {
            Kind::Seq(items) => {
                let mut access = SeqAccess {
                    items: items.iter(),
                };
                let value = visitor.visit_seq(&mut access)?;
                if access.items.len() == 0 {
                    Ok(value)
                } else {
                    Err(Fallback)
                }
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        match &self.node.kind {
            Kind::Map(entries) => {
                let mut access = MapAccess {
                    entries: entries.iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut access)?;
                if access.entries.len() == 0 {
                    Ok(value)
                } else {
                    Err(Fallback)
                }
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Fallback> {
        // Only unit variants written as a plain name; the rest is left to serde-saphyr.
        match self.node.kind {
            Kind::Plain(s) if !is_null(s) => {
                visitor.visit_enum(IntoDeserializer::<Fallback>::into_deserializer(s))
            }
            _ => Err(Fallback),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        // serde-saphyr reads ignored values with deserialize_any (and refuses `.inf`, `1e999`).
        self.deserialize_any(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Fallback> {
        Err(Fallback)
    }
}

struct SeqAccess<'n, 'a> {
    items: std::slice::Iter<'n, Node<'a>>,
}

impl<'de, 'n, 'a: 'de> de::SeqAccess<'de> for SeqAccess<'n, 'a> {
    type Error = Fallback;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Fallback> {
        match self.items.next() {
            Some(node) => seed.deserialize(NodeDe { node, key: false }).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAccess<'n, 'a> {
    entries: std::slice::Iter<'n, (Node<'a>, Node<'a>)>,
    value: Option<&'n Node<'a>>,
}

impl<'de, 'n, 'a: 'de> de::MapAccess<'de> for MapAccess<'n, 'a> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Fallback> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(NodeDe {
                    node: key,
                    key: true,
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Fallback> {
        let node = self.value.take().ok_or(Fallback)?;
        seed.deserialize(NodeDe { node, key: false })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// What `serde_saphyr::Spanned` reads: a map of its marker, the value, and where the value is
/// referenced and defined (the same place: there are no aliases here).
struct SpannedDe<'n, 'a> {
    inner: NodeDe<'n, 'a>,
}

impl<'de, 'n, 'a: 'de> de::Deserializer<'de> for SpannedDe<'n, 'a> {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        visitor.visit_map(SpannedAccess {
            inner: self.inner,
            state: 0,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct SpannedAccess<'n, 'a> {
    inner: NodeDe<'n, 'a>,
    state: u8,
}

impl<'de, 'n, 'a: 'de> de::MapAccess<'de> for SpannedAccess<'n, 'a> {
    type Error = Fallback;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Fallback> {
        let key = match self.state {
            0 => SPANNED_MARKER,
            1 => "value",
            2 => "referenced",
            3 => "defined",
            _ => return Ok(None),
        };
        self.state += 1;
        seed.deserialize(StrDeserializer::<Fallback>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Fallback> {
        match self.state {
            1 => seed.deserialize(true.into_deserializer()),
            2 => seed.deserialize(self.inner),
            3 | 4 => {
                let node = self.inner.node;
                seed.deserialize(LocationDe {
                    line: node.line,
                    column: node.column,
                })
            }
            _ => Err(Fallback),
        }
    }
}

/// A location as serde-saphyr's `Location` reads one: a struct of `line` and `column`.
struct LocationDe {
    line: u32,
    column: u32,
}

impl<'de> de::Deserializer<'de> for LocationDe {
    type Error = Fallback;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Fallback> {
        let fields = [("line", self.line), ("column", self.column)];
        let mut map = MapDeserializer::<'de, _, Fallback>::new(fields.into_iter());
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn read<T: DeserializeOwned>(text: &str) -> Option<T> {
        from_str(text)
    }

    #[test]
    fn reads_the_common_forms() {
        let text = "a: 1\nb:\n  - x\n  - 'y z'\n  - {k: v, n: [1, 2]}\nc: |\n  line 1\n\n  line 2\nd: \"q\\n\"\n";
        let v: BTreeMap<String, serde_json::Value> = read(text).expect("in the subset");
        assert_eq!(v["a"], serde_json::json!(1));
        assert_eq!(
            v["b"],
            serde_json::json!(["x", "y z", {"k": "v", "n": [1, 2]}])
        );
        assert_eq!(v["c"], serde_json::json!("line 1\n\nline 2\n"));
        assert_eq!(v["d"], serde_json::json!("q\n"));
    }

    #[test]
    fn leaves_the_rest_to_serde_saphyr() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a:\n  b: 1\n  <<: {c: 2}\n",
            "a: one\n  two\n",
            "a: >\n  folded\n",
            "a:\tb\n",
            "---\na: 1\n",
            "a:\n",
            "a: 1\na: 2\n",
            "a: [1,\n  2]\n",
            "a: b: c\n",
            "a: 1e3\n",
            "? a\n: b\n",
            "a: |2\n   x\n",
            // Found in review: keys serde-saphyr compares as integers, a lone `-` in a flow
            // collection, a key whose source exceeds serde-saphyr's limit.
            "1: a\n+1: b\n",
            "a: {1: x, 0x1: y}\n",
            "a: [a, -]\n",
            "a: {a: -}\n",
        ] {
            assert!(
                read::<BTreeMap<String, serde_json::Value>>(text).is_none(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn what_serde_saphyr_refuses_is_refused() {
        let long_key = format!("\"{}\": v\n", "\\u0041".repeat(300));
        assert!(read::<BTreeMap<String, String>>(&long_key).is_none());
        let huge = format!("a: 1{}.5\n", "0".repeat(400));
        assert!(read::<BTreeMap<String, serde_json::Value>>(&huge).is_none());
        assert!(read::<BTreeMap<String, f64>>(&huge).is_none());
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct Loose {
            a: String,
        }
        assert!(read::<Loose>("a: b\nzz: .inf\n").is_none());
        assert!(read::<Loose>("a: b\nzz: [1, 2]\n").is_some());
    }

    #[test]
    fn a_value_of_the_wrong_type_falls_back() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            n: u32,
        }
        assert!(read::<T>("n: x\n").is_none());
        assert!(read::<T>("n: 1\nm: 2\n").is_some());
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Strict {
            n: u32,
        }
        assert!(read::<Strict>("n: 1\nm: 2\n").is_none());
    }
}
