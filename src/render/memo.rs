//! Memo: identical changes render once.
//!
//! A compiled project renders the same statement many times: `schema.sql` creates what the
//! layers created (at 5,000 tables 99 % of its statements are in some migration), and a
//! policy re-created in a layer's up section is dropped and created again in its down
//! section. Rendering is a pure function of the value a template sees, the change as serde
//! serializes it, so the statements are kept by that value: [`Memoized`] encodes each change
//! with [`encode`] and renders only those it has not seen.
//!
//! The key is the serialization itself, not a digest of it: two changes share a statement
//! only when their values are equal, whatever the templates. The encoding writes one tag
//! per serde call, the names of structs and variants, the length of every string and bytes,
//! and ends every sequence, map and struct: it can be read back one way only, so equal
//! keys are equal serializations. A field is written without its name: the struct's name
//! stands for its fields, which a derived `Serialize` writes in one order, each field or
//! the mark of a skipped one (the change types derive theirs; none is untagged).

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Mutex;

use foldhash::fast::FixedState;
use serde::ser::{self, Serialize};

use super::{RenderError, Renderer, Statement};
use crate::diff::Change;

/// A renderer that renders each distinct change once and hands out copies after that;
/// shared by the threads of one compile.
pub struct Memoized<'r> {
    renderer: &'r Renderer,
    /// Keys and their statements by the keys' hash; split by hash too, so that threads
    /// seldom wait for each other.
    shards: Vec<Mutex<Shard>>,
}

/// What a [`Memoized`] rendered, without the renderer: handed to whoever compiled, so that
/// freeing it is their choice. At 5,000 tables it is 124,000 keys and statements, which
/// take 45 ms to free one by one at the end of a run that is about to exit anyway.
#[derive(Default)]
pub struct Rendered {
    _shards: Vec<Mutex<Shard>>,
}

/// Keys whose hash is the map's key, each with its statement.
type Shard = HashMap<u64, Vec<(Box<[u8]>, String)>, FixedState>;

/// A power of two: a key's shard is the top bits of its hash.
const SHARDS: usize = 16;

impl<'r> Memoized<'r> {
    pub fn new(renderer: &'r Renderer) -> Memoized<'r> {
        Memoized {
            renderer,
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }

    /// Everything rendered so far, for its owner to free (or not).
    pub fn into_rendered(self) -> Rendered {
        Rendered {
            _shards: self.shards,
        }
    }

    /// [`Renderer::render`], from the memo when an equal change was rendered before.
    pub fn render(&self, change: &Change) -> Result<Statement, RenderError> {
        thread_local! {
            static KEY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        KEY.with_borrow_mut(|key| {
            key.clear();
            if encode(change, key).is_err() {
                return self.renderer.render(change);
            }
            let hash = FixedState::default().hash_one(key.as_slice());
            let shard = &self.shards[(hash >> (64 - SHARDS.trailing_zeros())) as usize];
            let found = lock(shard).get(&hash).and_then(|bucket| {
                bucket
                    .iter()
                    .find(|(k, _)| **k == *key.as_slice())
                    .map(|(_, sql)| sql.clone())
            });
            let sql = match found {
                Some(sql) => sql,
                None => {
                    // Rendered outside the lock: another thread may render it meanwhile,
                    // to the same text.
                    let s = self.renderer.render(change)?;
                    let mut map = lock(shard);
                    let bucket = map.entry(hash).or_default();
                    if !bucket.iter().any(|(k, _)| **k == *key.as_slice()) {
                        bucket.push((key.as_slice().into(), s.sql.clone()));
                    }
                    s.sql
                }
            };
            Ok(Statement {
                sql,
                transactional: Statement::is_transactional(change),
            })
        })
    }

    /// [`Renderer::render_all`] through the memo.
    pub fn render_all(&self, changes: &[Change]) -> Result<Vec<Statement>, RenderError> {
        super::non_empty(changes.iter().map(|c| self.render(c)))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A thread that panicked while holding it left a map of whole entries.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Append the encoding of `value`'s serialization to `out` (see the module documentation).
pub fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Unencodable> {
    value.serialize(&mut Encoder { out })
}

/// A value whose `Serialize` reported an error.
#[derive(Debug)]
pub struct Unencodable;

impl fmt::Display for Unencodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value failed to serialize")
    }
}

impl std::error::Error for Unencodable {}

impl ser::Error for Unencodable {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Unencodable
    }
}

/// One tag per serde call; `End` closes sequences, maps and structs, `Item` opens each of
/// their entries.
#[repr(u8)]
enum Tag {
    Bool,
    Signed,
    Unsigned,
    Signed128,
    Unsigned128,
    F32,
    F64,
    Char,
    Str,
    Bytes,
    None,
    Some,
    Unit,
    UnitStruct,
    UnitVariant,
    NewtypeStruct,
    NewtypeVariant,
    Seq,
    Tuple,
    TupleStruct,
    TupleVariant,
    Map,
    Struct,
    StructVariant,
    Item,
    Skipped,
    End,
}

struct Encoder<'o> {
    out: &'o mut Vec<u8>,
}

impl Encoder<'_> {
    fn tag(&mut self, t: Tag) {
        self.out.push(t as u8);
    }

    /// LEB128: seven bits a byte, the high bit set on all but the last.
    fn len(&mut self, mut n: usize) {
        while n >= 0x80 {
            self.out.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.out.push(n as u8);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }

    fn named(&mut self, t: Tag, names: &[&str]) {
        self.tag(t);
        for n in names {
            self.bytes(n.as_bytes());
        }
    }
}

impl<'e, 'o> ser::Serializer for &'e mut Encoder<'o> {
    type Ok = ();
    type Error = Unencodable;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, v: bool) -> Result<(), Unencodable> {
        self.tag(Tag::Bool);
        self.out.push(v as u8);
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Unencodable> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Unencodable> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Unencodable> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Unencodable> {
        self.tag(Tag::Signed);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Unencodable> {
        self.tag(Tag::Signed128);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Unencodable> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Unencodable> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Unencodable> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Unencodable> {
        self.tag(Tag::Unsigned);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Unencodable> {
        self.tag(Tag::Unsigned128);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Unencodable> {
        self.tag(Tag::F32);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Unencodable> {
        self.tag(Tag::F64);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Unencodable> {
        self.tag(Tag::Char);
        self.out.extend_from_slice(&u32::from(v).to_le_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Unencodable> {
        self.tag(Tag::Str);
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unencodable> {
        self.tag(Tag::Bytes);
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Unencodable> {
        self.tag(Tag::None);
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unencodable> {
        self.tag(Tag::Some);
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Unencodable> {
        self.tag(Tag::Unit);
        Ok(())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<(), Unencodable> {
        self.named(Tag::UnitStruct, &[name]);
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unencodable> {
        self.named(Tag::UnitVariant, &[name, variant]);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Unencodable> {
        self.named(Tag::NewtypeStruct, &[name]);
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unencodable> {
        self.named(Tag::NewtypeVariant, &[name, variant]);
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self, Unencodable> {
        self.tag(Tag::Seq);
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self, Unencodable> {
        self.tag(Tag::Tuple);
        Ok(self)
    }
    fn serialize_tuple_struct(self, name: &'static str, _len: usize) -> Result<Self, Unencodable> {
        self.named(Tag::TupleStruct, &[name]);
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, Unencodable> {
        self.named(Tag::TupleVariant, &[name, variant]);
        Ok(self)
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self, Unencodable> {
        self.tag(Tag::Map);
        Ok(self)
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Self, Unencodable> {
        self.named(Tag::Struct, &[name]);
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, Unencodable> {
        self.named(Tag::StructVariant, &[name, variant]);
        Ok(self)
    }
}

impl Encoder<'_> {
    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        self.tag(Tag::Item);
        value.serialize(self)
    }

    fn end(&mut self) -> Result<(), Unencodable> {
        self.tag(Tag::End);
        Ok(())
    }
}

/// The sequence-like compounds: each entry is an item, the end closes them.
macro_rules! items {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for &mut Encoder<'_> {
            type Ok = ();
            type Error = Unencodable;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
                self.item(value)
            }
            fn end(self) -> Result<(), Unencodable> {
                Encoder::end(self)
            }
        }
    )*};
}

items!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for &mut Encoder<'_> {
    type Ok = ();
    type Error = Unencodable;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unencodable> {
        self.item(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unencodable> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Unencodable> {
        Encoder::end(self)
    }
}

/// Structs and struct variants: fields without their names (see the module documentation).
macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for &mut Encoder<'_> {
            type Ok = ();
            type Error = Unencodable;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), Unencodable> {
                self.item(value)
            }
            fn skip_field(&mut self, _key: &'static str) -> Result<(), Unencodable> {
                self.tag(Tag::Skipped);
                Ok(())
            }
            fn end(self) -> Result<(), Unencodable> {
                Encoder::end(self)
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;

    fn key<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out).unwrap();
        out
    }

    #[test]
    fn values_that_serialize_differently_have_different_keys() {
        // Each pair would meet if strings or sequences were not delimited, or if kinds
        // shared a tag.
        let strings: [(&[&str], &[&str]); 3] = [
            (&["ab", "c"], &["a", "bc"]),
            (&["a", ""], &["a"]),
            (&[""], &[]),
        ];
        for (a, b) in strings {
            assert_ne!(key(a), key(b), "{a:?} / {b:?}");
        }
        assert_ne!(key(&Some(1u8)), key(&1u8));
        assert_ne!(key(&(1u8, 2u8)), key(&vec![1u8, 2u8]));
        assert_ne!(key(&1u64), key(&1i64));
        assert_ne!(key(&0.0f64), key(&-0.0f64));
        assert_ne!(key(&None::<u8>), key(&()));
        let long = "x".repeat(300);
        assert_ne!(key(&[long.as_str()]), key(&[&long[..299], "x"]));
    }

    #[test]
    fn equal_values_have_equal_keys() {
        let a = Change::RunSql {
            sql: "select 1".into(),
        };
        let b = Change::RunSql {
            sql: String::from("select ") + "1",
        };
        assert_eq!(key(&a), key(&b));
    }
}
