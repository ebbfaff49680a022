//! The fast YAML reader (`schemac::yaml`) reads what it accepts exactly as serde-saphyr does
//! (value, line and column of every spanned value), and refuses whatever serde-saphyr refuses:
//! on every YAML file of the repository, on the synthetic projects of the benchmark, and on
//! generated documents that mix the forms YAML allows.

#[path = "../benches/support/synth.rs"]
mod synth;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;

use schemac::spec::{LayerSpec, ProjectSpec};

fn slow<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options::<T>(text, options).map_err(|e| e.to_string())
}

/// Debug output without serde-saphyr's character spans (the fast reader leaves them unknown;
/// schemac reads only line and column).
fn shown<T: Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(", span: Span {") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + ", span: ".len()..];
        let mut depth = 0;
        let mut end = tail.len();
        for (j, c) in tail.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[derive(Default, Debug)]
struct Tally {
    fast: usize,
    fallback: usize,
}

/// Compares both readers on one text; returns whether the fast one read it.
fn compare<T: DeserializeOwned + Debug>(what: &str, text: &str) -> bool {
    let fast = schemac::yaml::from_str::<T>(text);
    match (slow::<T>(text), fast) {
        (Ok(s), Some(f)) => {
            let (s, f) = (shown(&s), shown(&f));
            if s != f {
                let at = s
                    .bytes()
                    .zip(f.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(s.len().min(f.len()));
                let from = at.saturating_sub(200);
                panic!(
                    "{what}: the fast reader reads another value\n--- serde-saphyr\n...{}\n--- fast\n...{}\n--- text\n{text}",
                    &s[from..(at + 200).min(s.len())],
                    &f[from..(at + 200).min(f.len())],
                );
            }
            true
        }
        (Err(e), Some(f)) => {
            panic!("{what}: serde-saphyr refuses it ({e}) but the fast reader reads {f:?}\n--- text\n{text}")
        }
        (_, None) => false,
    }
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if name != "target" && name != ".git" && name != "node_modules" {
                yaml_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn every_yaml_file_of_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    yaml_files(root, &mut files);
    files.sort();
    assert!(files.len() > 100, "found {} YAML files", files.len());
    let mut tally = Tally::default();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("reading a YAML file");
        let what = file.strip_prefix(root).unwrap().display().to_string();
        let read = if file.file_name().is_some_and(|n| n == "schemac.yaml") {
            compare::<ProjectSpec>(&what, &text)
        } else {
            // Layer files, and YAML that is not a spec at all (CI workflows): both readers
            // must still agree on success and refusal.
            compare::<LayerSpec>(&what, &text) | compare::<Spanned<Any>>(&what, &text)
        };
        if read {
            tally.fast += 1;
        } else {
            tally.fallback += 1;
        }
    }
    eprintln!("{tally:?}");
    // Most spec files are in the fast reader's subset (else it would not be worth having).
    assert!(tally.fast * 2 > files.len(), "{tally:?}");
}

#[test]
fn the_synthetic_projects_are_read_by_the_fast_reader() {
    let synth = synth::Synth::new(120, 12);
    for (name, text) in synth.files() {
        if name.ends_with("schemac.yaml") {
            assert!(compare::<ProjectSpec>(&name, &text), "{name} fell back");
        } else {
            assert!(compare::<LayerSpec>(&name, &text), "{name} fell back");
        }
    }
}

/// Any YAML value, with the position of every node and key (compared through `Debug`).
#[derive(Debug)]
#[allow(dead_code)]
enum Any {
    Null,
    Bool(bool),
    U(u64),
    I(i64),
    F(f64),
    S(String),
    Seq(Vec<Spanned<Any>>),
    Map(Vec<(Spanned<String>, Spanned<Any>)>),
}

impl<'de> Deserialize<'de> for Any {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Any, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Any;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Any, E> {
                Ok(Any::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Any, E> {
                Ok(Any::Bool(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Any, E> {
                Ok(Any::U(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Any, E> {
                Ok(Any::I(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Any, E> {
                Ok(Any::F(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Any, E> {
                Ok(Any::S(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Any, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Any::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Any, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    entries.push(entry);
                }
                Ok(Any::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

/// A struct without `deny_unknown_fields`: the keys it does not name are ignored values.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Loose {
    key0: Option<f64>,
    key1: Option<f32>,
    key2: Option<Vec<String>>,
    key3: Option<bool>,
    first: Option<i64>,
}

/// A small deterministic generator (xorshift), so that a failure names its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "name",
    "a b",
    "x",
    "true",
    "false",
    "True",
    "null",
    "~",
    "NULL",
    "0",
    "1",
    "-1",
    "42",
    "007",
    "1.5",
    "-0.25",
    "1e3",
    ".inf",
    "0x1F",
    "1_000",
    "+1",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "a:b",
    "a: b",
    "a #b",
    "a#b",
    "#c",
    "- x",
    "-x",
    "?x",
    "? x",
    ":x",
    "[x]",
    "{x}",
    "x,y",
    "'q'",
    "\"d\"",
    "it's",
    "back\\slash",
    "tab\there",
    "é",
    "日本",
    "<<",
    "&a",
    "*a",
    "!t",
    "%p",
    "@a",
    "`b",
    "|",
    ">",
    "",
    " lead",
    "trail ",
    "select 1;",
    "now()",
    "a  b",
    "x:",
    "-",
    "-0",
    "1_0",
    "0x10",
    "10",
    "1e999",
    ".nan",
    "-.inf",
    "1.00000005960464477539062501",
    "340282356779733661637539395458142568448",
    "100000000000000000000000000000000000000000.5",
];

/// Words any reader takes as strings, so that many documents stay in the fast subset.
const PLAIN: &[&str] = &[
    "name",
    "a b",
    "select 1;",
    "now()",
    "app.users",
    "x",
    "1",
    "-1",
    "true",
];

fn word(rng: &mut Rng) -> &'static str {
    if rng.below(3) == 0 {
        rng.pick(WORDS)
    } else {
        rng.pick(PLAIN)
    }
}

/// One scalar in some style; `None` when the style cannot hold the word.
fn scalar(rng: &mut Rng, word: &str, flow: bool) -> Option<String> {
    match rng.below(6) {
        0..=2 => Some(word.to_string()),
        3 => Some(format!("'{}'", word.replace('\'', "''"))),
        4 => {
            let mut s = String::from("\"");
            for c in word.chars() {
                match c {
                    '"' => s.push_str("\\\""),
                    '\\' => s.push_str("\\\\"),
                    '\t' => s.push_str(rng.pick(&["\\t", "\\x09", "\\u0009"])),
                    'é' if rng.below(2) == 0 => s.push_str("\\u00e9"),
                    c => s.push(c),
                }
            }
            s.push('"');
            Some(s)
        }
        _ if flow => Some(word.to_string()),
        _ => None,
    }
}

struct Gen<'r> {
    rng: &'r mut Rng,
    out: String,
}

impl Gen<'_> {
    fn comment(&mut self) {
        if self.rng.below(8) == 0 {
            self.out
                .push_str(self.rng.pick(&[" # note", "  #", " #: x"]));
        }
    }

    fn blank_lines(&mut self, indent: usize) {
        match self.rng.below(10) {
            0 => self.out.push('\n'),
            1 => {
                self.out.push_str(&" ".repeat(self.rng.below(indent + 2)));
                self.out.push_str("# a comment line\n");
            }
            2 => self.out.push_str("   \n"),
            _ => {}
        }
    }

    fn flow(&mut self, depth: usize) -> String {
        match self.rng.below(if depth > 2 { 1 } else { 4 }) {
            0 | 1 => {
                let w = word(self.rng);
                scalar(self.rng, w, true).unwrap_or_else(|| "w".into())
            }
            2 => {
                let n = self.rng.below(4);
                let items: Vec<String> = (0..n).map(|_| self.flow(depth + 1)).collect();
                format!("[{}]", items.join(self.rng.pick(&[", ", ",", " , "])))
            }
            _ => {
                let n = self.rng.below(4);
                let items: Vec<String> = (0..n)
                    .map(|i| {
                        let k = if self.rng.below(3) == 0 {
                            word(self.rng).to_string()
                        } else {
                            format!("k{i}")
                        };
                        format!("{k}: {}", self.flow(depth + 1))
                    })
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
        }
    }

    fn literal(&mut self, indent: usize) {
        let chomp = self.rng.pick(&["", "-", "+"]);
        self.out.push('|');
        self.out.push_str(chomp);
        self.comment();
        self.out.push('\n');
        let pad = indent + 1 + self.rng.below(3);
        let lines = 1 + self.rng.below(4);
        for _ in 0..lines {
            match self.rng.below(6) {
                0 => self.out.push('\n'),
                1 => {
                    self.out.push_str(&" ".repeat(pad + 2));
                    self.out.push_str("deeper # not a comment\n");
                }
                _ => {
                    self.out.push_str(&" ".repeat(pad));
                    let w = word(self.rng);
                    self.out.push_str(w);
                    self.out.push('\n');
                }
            }
        }
        for _ in 0..self.rng.below(3) {
            self.out.push('\n');
        }
    }

    /// A value after `key:` or `- ` at `indent` (the collection's indentation).
    fn value(&mut self, indent: usize, depth: usize) {
        let choice = self.rng.below(if depth > 3 { 3 } else { 6 });
        match choice {
            0 => {
                let w = word(self.rng);
                let s = scalar(self.rng, w, false).unwrap_or_else(|| w.to_string());
                self.out.push(' ');
                self.out.push_str(&s);
                self.comment();
                self.out.push('\n');
            }
            1 => {
                self.out.push(' ');
                let f = self.flow(0);
                self.out.push_str(&f);
                self.comment();
                self.out.push('\n');
            }
            2 => {
                self.out.push(' ');
                self.literal(indent);
            }
            3 => {
                self.comment();
                self.out.push('\n');
                let step = 1 + self.rng.below(3);
                self.map(indent + step, depth + 1);
            }
            _ => {
                self.comment();
                self.out.push('\n');
                // Indentless (the dashes under the key) or indented.
                let step = self.rng.below(3);
                self.seq(indent + step, depth + 1);
            }
        }
    }

    fn map(&mut self, indent: usize, depth: usize) {
        let n = 1 + self.rng.below(4);
        for i in 0..n {
            self.blank_lines(indent);
            self.out.push_str(&" ".repeat(indent));
            let key = match self.rng.below(12) {
                // Spellings serde-saphyr may take for the same integer key.
                0 => self
                    .rng
                    .pick(&["1", "+1", "0x1", "01", "10", "1_0", "0", "-0"])
                    .to_string(),
                // A key whose source is long but whose text is short.
                1 if self.rng.below(10) == 0 => format!("\"{}\"", "\\u0041".repeat(300)),
                2..=4 => {
                    let w = word(self.rng);
                    scalar(self.rng, w, false).unwrap_or_else(|| w.to_string())
                }
                _ => format!("key{i}"),
            };
            self.out.push_str(&key);
            self.out.push(':');
            self.value(indent, depth);
        }
    }

    fn seq(&mut self, indent: usize, depth: usize) {
        let n = 1 + self.rng.below(4);
        for _ in 0..n {
            self.blank_lines(indent);
            self.out.push_str(&" ".repeat(indent));
            self.out.push('-');
            if self.rng.below(3) == 0 && depth < 4 {
                // A compact mapping: its first key on the dash's line.
                let pad = 1 + self.rng.below(2);
                self.out.push_str(&" ".repeat(pad));
                let inner = indent + 1 + pad;
                self.out.push_str("first:");
                self.value(inner, depth + 1);
                if self.rng.below(2) == 0 {
                    self.out.push_str(&" ".repeat(inner));
                    self.out.push_str("second:");
                    self.value(inner, depth + 1);
                }
            } else {
                self.value(indent, depth);
            }
        }
    }
}

/// Damage that YAML refuses or reads otherwise: both readers must agree on it.
fn damage(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.to_string();
    }
    let i = rng.below(lines.len());
    match rng.below(6) {
        0 => lines[i].insert(0, ' '),
        1 => lines[i] = lines[i].trim_start().to_string(),
        2 => lines[i].push_str(" :"),
        3 => lines[i] = format!("  {}", lines[i]),
        4 => lines.insert(i, "x".into()),
        _ => lines[i] = lines[i].replacen(' ', "", 1),
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

#[test]
fn generated_documents_read_alike() {
    let (mut fast, mut total) = (0, 0);
    for seed in 1..=6000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut g = Gen {
            rng: &mut rng,
            out: String::new(),
        };
        if g.rng.below(4) == 0 {
            g.seq(0, 0);
        } else {
            g.map(0, 0);
        }
        let text = std::mem::take(&mut g.out);
        let text = match rng.below(4) {
            0 => damage(&mut rng, &text),
            1 => text.trim_end_matches('\n').to_string(),
            _ => text,
        };
        total += 1;
        let what = format!("seed {seed}");
        if compare::<Spanned<Any>>(&what, &text) {
            fast += 1;
        }
        // Typed targets: floats of both widths, values a struct ignores, lists of strings.
        compare::<Loose>(&what, &text);
        compare::<BTreeMap<String, IgnoredAny>>(&what, &text);
        compare::<Vec<BTreeMap<String, Option<String>>>>(&what, &text);
    }
    eprintln!("{fast} of {total} documents read by the fast reader");
    // The generator must reach into the subset, or this test would prove nothing.
    assert!(fast * 6 > total, "{fast} of {total}");
}
