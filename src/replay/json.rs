//! A parsed JSON event as an ordered tree: what `serde_json::Value` holds, without the
//! hash map per object (fpx's `preserve_order` feature makes that an `IndexMap`, whose
//! hashing costs a replay more than the parse itself), and with keys and strings
//! borrowed from the text where they hold no escape (most keys, most values but
//! Windows paths), so parsing a line allocates little. Keys stay in order; a repeated
//! key is kept twice and lookups take the last, so every reading agrees with `Value`'s
//! (the last value wins).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

/// A JSON value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// The value under `key` of an object (the last, if repeated).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json<'a>> {
        match self {
            Json::Object(entries) => entries.iter_mut().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a path of object keys (`["Event", "System"]`).
    pub fn path_mut(&mut self, path: &[&str]) -> Option<&mut Json<'a>> {
        path.iter().try_fold(self, |value, key| value.get_mut(key))
    }

    /// The value, leaving `null` in its place.
    pub fn take(&mut self) -> Json<'a> {
        std::mem::take(self)
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    /// The same value as a `serde_json::Value` (for printing a compound value).
    pub fn into_value(self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => Value::Number(n),
            Json::String(s) => Value::String(s.into_owned()),
            Json::Array(items) => Value::Array(items.into_iter().map(Json::into_value).collect()),
            Json::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_value()))
                    .collect(),
            ),
        }
    }
}

/// Deepest nesting [`read_fast`] reads: below `serde_json`'s limit (128), so that
/// every text it reads `serde_json` reads too.
const FAST_DEPTH: usize = 100;

/// [`read_fast`]'s value as a tree.
#[cfg(test)]
pub fn parse_fast(buffer: &mut Vec<u8>) -> Option<Json<'_>> {
    read_fast(buffer, |value| value.to_json())
}

/// What `read` makes of the one JSON value in `buffer`, read by simd-json onto a tape
/// (strings unescaped in place, so every string is borrowed), when simd-json reads it
/// as `serde_json` would; `None` when simd-json cannot read it or might read it
/// differently: not one value, a floating-point number (each parser rounds its own
/// way), a control byte (simd-json lets some through in strings), nesting past
/// [`FAST_DEPTH`]. The caller then reads the text with `serde_json`, from a copy:
/// `buffer` may have been changed.
pub fn read_fast<'a, R>(buffer: &'a mut Vec<u8>, read: impl FnOnce(TapeValue<'_, 'a>) -> Option<R>) -> Option<R> {
    use simd_json::{Node, StaticNode};
    use std::cell::RefCell;
    thread_local! {
        static BUFFERS: RefCell<simd_json::Buffers> =
            RefCell::new(simd_json::Buffers::with_max_depth(4096, FAST_DEPTH));
        // A tape kept empty between lines, for its allocation.
        static TAPE: RefCell<simd_json::Tape<'static>> = RefCell::new(simd_json::Tape::null().reset());
    }
    let len = buffer.len();
    if has_control_byte(buffer) || negative_zero(buffer) {
        return None;
    }
    // Padding for simd-json to read past the end, so it need not copy the text.
    buffer.resize(len + simd_json::INPUT_PADDING, 0);
    let mut tape = TAPE
        .with(|t| std::mem::replace(&mut *t.borrow_mut(), simd_json::Tape::null().reset()))
        .reset();
    let filled = BUFFERS.with(|b| simd_json::fill_tape_padded(buffer, len, &mut b.borrow_mut(), &mut tape));
    let nodes = &tape.0;
    // One value, the whole tape, and no float anywhere in it.
    let one_value = nodes
        .first()
        .is_some_and(|_| TapeValue { tape: nodes, at: 0 }.end() == nodes.len());
    let floats = nodes.iter().any(|n| matches!(n, Node::Static(StaticNode::F64(_))));
    let value = match filled {
        Ok(()) if one_value && !floats => read(TapeValue { tape: nodes, at: 0 }),
        _ => None,
    };
    TAPE.with(|t| *t.borrow_mut() = tape.reset());
    value
}

/// A value on a simd-json tape, read where it lies (no tree is built): `'a` is the
/// text its strings borrow. An object's key read twice: its last value, as `Json`.
#[derive(Clone, Copy)]
pub struct TapeValue<'t, 'a> {
    tape: &'t [simd_json::Node<'a>],
    at: usize,
}

impl<'t, 'a> TapeValue<'t, 'a> {
    /// Where the value's nodes end on the tape (a container's `count` is the nodes
    /// after it, its contents').
    fn end(&self) -> usize {
        use simd_json::Node;
        match self.tape[self.at] {
            Node::Object { count, .. } | Node::Array { count, .. } => self.at + 1 + count,
            _ => self.at + 1,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.tape[self.at], simd_json::Node::Object { .. })
    }

    pub fn is_array(&self) -> bool {
        matches!(self.tape[self.at], simd_json::Node::Array { .. })
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.tape[self.at] {
            simd_json::Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// An object's keys and values, in order (none for another value).
    pub fn entries(self) -> impl Iterator<Item = (&'a str, TapeValue<'t, 'a>)> {
        let end = if self.is_object() { self.end() } else { self.at + 1 };
        let mut next = self.at + 1;
        std::iter::from_fn(move || {
            let key = match self.tape.get(next).filter(|_| next < end)? {
                simd_json::Node::String(key) => *key,
                _ => return None,
            };
            let value = TapeValue {
                tape: self.tape,
                at: next + 1,
            };
            next = value.end();
            Some((key, value))
        })
    }

    /// An array's elements, in order (none for another value).
    pub fn items(self) -> impl Iterator<Item = TapeValue<'t, 'a>> {
        let end = if self.is_array() { self.end() } else { self.at + 1 };
        let mut next = self.at + 1;
        std::iter::from_fn(move || {
            (next < end).then(|| {
                let item = TapeValue {
                    tape: self.tape,
                    at: next,
                };
                next = item.end();
                item
            })
        })
    }

    /// The value under `key` of an object (the last, if repeated).
    pub fn get(self, key: &str) -> Option<TapeValue<'t, 'a>> {
        self.entries().filter(|(k, _)| *k == key).last().map(|(_, v)| v)
    }

    /// The value at a path of object keys.
    pub fn path(self, path: &[&str]) -> Option<TapeValue<'t, 'a>> {
        path.iter().try_fold(self, |value, key| value.get(key))
    }

    /// The value as a tree (`None` for a float, which `serde_json` reads instead).
    pub fn to_json(self) -> Option<Json<'a>> {
        let mut at = self.at;
        from_tape(self.tape, &mut at)
    }
}

/// Whether `text` holds a byte below 0x20 (tested a block at a time, which compiles
/// to vector instructions).
fn has_control_byte(text: &[u8]) -> bool {
    text.chunks(64)
        .any(|block| block.iter().fold(false, |found, &b| found | (b < 0x20)))
}

/// Whether `text` may hold the number `-0` (or `-0.0`, ...), which `serde_json` reads
/// as a float and simd-json as the integer 0: a `-0` after `:`, `[` or `,` (a string
/// holding one too only sends the text to `serde_json`).
fn negative_zero(text: &[u8]) -> bool {
    // Built once: building a searcher per line was a percent of reading an event.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"-0"));
    FINDER.find_iter(text).any(|at| {
        text[..at]
            .iter()
            .rev()
            .find(|b| !b.is_ascii_whitespace())
            .is_none_or(|b| matches!(b, b':' | b'[' | b','))
    })
}

/// The value that starts at `tape[*at]`, moving `at` past it.
fn from_tape<'a>(tape: &[simd_json::Node<'a>], at: &mut usize) -> Option<Json<'a>> {
    use simd_json::{Node, StaticNode};
    let node = *tape.get(*at)?;
    *at += 1;
    Some(match node {
        Node::String(s) => Json::String(Cow::Borrowed(s)),
        Node::Static(StaticNode::Null) => Json::Null,
        Node::Static(StaticNode::Bool(b)) => Json::Bool(b),
        Node::Static(StaticNode::I64(n)) => Json::Number(n.into()),
        Node::Static(StaticNode::U64(n)) => Json::Number(n.into()),
        Node::Static(StaticNode::F64(_)) => return None,
        Node::Array { len, .. } => {
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(from_tape(tape, at)?);
            }
            Json::Array(items)
        }
        Node::Object { len, .. } => {
            let mut entries = Vec::with_capacity(len);
            for _ in 0..len {
                let Some(&Node::String(key)) = tape.get(*at) else {
                    return None;
                };
                *at += 1;
                entries.push((Cow::Borrowed(key), from_tape(tape, at)?));
            }
            Json::Object(entries)
        }
    })
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor(PhantomData))
    }
}

struct JsonVisitor<'de>(PhantomData<&'de ()>);

impl<'de> Visitor<'de> for JsonVisitor<'de> {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((key, value)) = map.next_entry::<Key<'de>, Json<'de>>()? {
            entries.push((key.0, value));
        }
        Ok(Json::Object(entries))
    }
}

/// An object's key, borrowed from the text when it holds no escape.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_str(KeyVisitor(PhantomData))
    }
}

struct KeyVisitor<'de>(PhantomData<&'de ()>);

impl<'de> Visitor<'de> for KeyVisitor<'de> {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What `serde_json` reads from `text`, when it reads one value.
    fn serde_reads(text: &str) -> Option<Value> {
        serde_json::from_str::<Json>(text).ok().map(Json::into_value)
    }

    /// Whatever simd-json reads, `serde_json` reads the same.
    fn fast_agrees(text: &str) -> Result<(), TestCaseError> {
        let mut buffer = text.as_bytes().to_vec();
        if let Some(fast) = parse_fast(&mut buffer) {
            prop_assert_eq!(Some(fast.into_value()), serde_reads(text), "{}", text);
        }
        Ok(())
    }

    #[test]
    fn the_fast_reader_reads_what_serde_json_reads() {
        for text in [
            r#"{"a": "C:\\Windows\\x.exe", "b": [1, -2, 18446744073709551615, true, null], "c": {"d": "\u00e9\/"}}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"Event": {"System": {"EventID": 1}, "EventData": {"Image": "\ud83d\ude00"}}}"#,
            "[]",
            "\"x\"",
        ] {
            let mut buffer = text.as_bytes().to_vec();
            let fast = parse_fast(&mut buffer).expect(text).into_value();
            assert_eq!(Some(fast), serde_reads(text), "{text}");
        }
        // Left to `serde_json`, or read as it reads them: floats, several values,
        // control bytes, deep nesting, bad escapes, numbers out of range.
        let deep = format!("{}{}", "[".repeat(120), "]".repeat(120));
        for text in [
            r#"{"a": 1.5}"#,
            r#"{"a": 1}{"a": 2}"#,
            "{\"a\": \"x\ty\"}",
            &deep,
            r#"{"a": "\ud800"}"#,
            r#"{"a": "\x"}"#,
            r#"{"a": 123456789012345678901234567890}"#,
            r#"{"a": -0}"#,
            "-0",
            r#"[1,-0]"#,
            r#"{"a": 01}"#,
        ] {
            fast_agrees(text).unwrap();
        }
    }

    proptest! {
        /// On JSON-like text (valid or not), what the fast reader reads is what
        /// `serde_json` reads.
        #[test]
        fn the_fast_reader_never_disagrees(text in r#"[\[\]{}":,a-c0-9\\ .eE+\-nultr\x00-\x1fé]{0,40}"#) {
            fast_agrees(&text)?;
        }

        /// It reads objects of strings with escapes.
        #[test]
        fn the_fast_reader_reads_escaped_strings(
            pairs in prop::collection::vec(("[a-c\\\\\"/é]{0,6}", "[a-c\\\\\"/\n\t\u{1F600}]{0,6}"), 0..8),
        ) {
            let value: serde_json::Map<String, Value> = pairs.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            let text = serde_json::to_string(&value).unwrap();
            let mut buffer = text.as_bytes().to_vec();
            prop_assert!(parse_fast(&mut buffer).is_some(), "{}", text);
            fast_agrees(&text)?;
        }

        /// On any JSON value, and on it with one byte changed or a `-` added, the fast reader reads
        /// what `serde_json` reads.
        #[test]
        fn the_fast_reader_agrees_on_json_and_near_json(value in json_value(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let text = serde_json::to_string(&value).unwrap();
            fast_agrees(&text)?;
            let mut bytes = text.into_bytes();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            if let Ok(changed) = String::from_utf8(bytes.clone()) {
                fast_agrees(&changed)?;
            }
            bytes.insert(i, b'-');
            if let Ok(changed) = String::from_utf8(bytes) {
                fast_agrees(&changed)?;
            }
        }
    }

    /// JSON values: integers of every size, strings of any characters, nesting.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            Just(Value::Number(0.into())),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| Value::Number(n.into())),
            any::<u64>().prop_map(|n| Value::Number(n.into())),
            any::<String>().prop_map(Value::String),
            "[a-c\\\\\"-0]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-c\\\\\"é]{0,3}", inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn reads_as_serde_json_reads() {
        for text in [
            r#"{"a": 1, "b": [true, null, 1.5, -3, 18446744073709551615], "c": {"d": "é\n"}}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"[1e3, 0.1, "x"]"#,
        ] {
            let mine: Json = serde_json::from_str(text).unwrap();
            let theirs: Value = serde_json::from_str(text).unwrap();
            assert_eq!(mine.into_value(), theirs, "{text}");
        }
    }
}
