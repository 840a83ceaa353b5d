//! The compact form a record's fields are held in (issue 11, memory): one byte buffer per record,
//! sized to the data, instead of a JSON value per field (a `serde_json::Value` is 80 bytes before
//! its text, and every string in it is a heap allocation of its own).
//!
//! ```text
//! fields := (key value)*             the record's top level, to the end of the buffer
//! key    := k < 0xFF                 KEYS[k]: a key the built-in backends use, as one byte
//!         | 0xFF len utf-8           any other key, spelled out
//! value  := NULL | FALSE | TRUE
//!         | INT i64 | UINT u64 | FLOAT f64      (8 bytes, little-endian): numbers exactly as sent
//!         | TEXT len utf-8
//!         | SHARED n                 the value `shared` holds as number n
//!         | OBJECT len fields        len counts the bytes of the fields that follow
//!         | LIST len value*          len counts the bytes of the values that follow
//! len, n := LEB128
//! ```
//!
//! The values of the keys in `SHARED_KEYS` (status words, programs, ambassadors, promoter
//! campaigns) repeat across referrals, so a text, object or list under one of them is held once
//! by `shared` and named here by its number. Reading walks the bytes: a record has a dozen or so
//! fields, and text is handed out as a slice of the buffer, without a copy.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::LazyLock;

use serde_json::{Map, Number, Value};

use super::shared;

/// Keys that one byte stands for: the fields of the built-in backends' referrals and of the objects
/// nested in them. Any other key is spelled out.
const KEYS: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "email",
    "profile_picture",
    "status",
    "verified_at",
    "metadata",
    "program_id",
    "student_id",
    "impression_id",
    "created_at",
    "updated_at",
    "uid",
    "username",
    "website",
    "comment",
    "is_expired",
    "state",
    "entry_source",
    "customer_since",
    "promoter_campaign",
    "fraud_check",
    "created_by_user_email",
    "split_details",
    "campaign_id",
    "promoter_id",
    "promoter",
    "campaign",
    "name",
    "color",
    "promoter_campaign_id",
    "percentage",
    "verified_by",
    "rejection_reason",
];

/// Keys whose values many referrals hold alike; such a value is held once (see `shared`).
const SHARED_KEYS: &[&str] = &[
    "status",
    "state",
    "program_id",
    "student_id",
    "fraud_check",
    "entry_source",
    "created_by_user_email",
    "promoter_campaign",
];

const SPELLED: u8 = 0xFF;

static KEY_BYTES: LazyLock<HashMap<&'static str, u8>> = LazyLock::new(|| {
    KEYS.iter()
        .enumerate()
        .map(|(at, key)| (*key, at as u8))
        .collect()
});

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const INT: u8 = 3;
const UINT: u8 = 4;
const FLOAT: u8 = 5;
const TEXT: u8 = 6;
const SHARED: u8 = 7;
const OBJECT: u8 = 8;
const LIST: u8 = 9;

/// A record's fields, packed.
#[derive(Clone, Default)]
pub struct Packed(Box<[u8]>);

impl Packed {
    /// Packs `fields`, keeping their order.
    pub fn new<'v>(fields: impl IntoIterator<Item = (&'v str, &'v Value)>) -> Packed {
        let mut out = Vec::new();
        for (key, value) in fields {
            put_entry(&mut out, key, value);
        }
        Packed(out.into_boxed_slice())
    }

    /// The top-level fields, in order.
    pub fn fields(&self) -> Entries<'_> {
        Entries { rest: &self.0 }
    }

    /// The top-level field `key`.
    pub fn at_top(&self, key: &str) -> Option<Cell<'_>> {
        self.span(key).map(|(_, cell)| cell)
    }

    /// The value at `path`; dots walk into nested objects (`promoter_campaign.promoter.name`).
    pub fn at(&self, path: &str) -> Option<Cell<'_>> {
        let mut parts = path.split('.');
        let first = self.at_top(parts.next()?)?;
        parts.try_fold(first, |cell, part| cell.get(part))
    }

    /// Sets the top-level field `key`: in its place when there, else last.
    pub fn set(&mut self, key: &str, value: &Value) {
        let mut entry = Vec::new();
        put_entry(&mut entry, key, value);
        let at = match self.span(key) {
            Some((span, _)) => span,
            None => self.0.len()..self.0.len(),
        };
        self.splice(at, &entry);
    }

    /// Takes the top-level field `key` out, keeping the others in order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let (span, cell) = self.span(key)?;
        let value = cell.to_value();
        self.splice(span, &[]);
        Some(value)
    }

    /// Where the top-level field `key` sits (its key and value), and its value.
    fn span(&self, key: &str) -> Option<(Range<usize>, Cell<'_>)> {
        let mut entries = self.fields();
        loop {
            let start = self.0.len() - entries.rest.len();
            let (k, cell) = entries.next()?;
            if k == key {
                return Some((start..self.0.len() - entries.rest.len(), cell));
            }
        }
    }

    fn splice(&mut self, at: Range<usize>, with: &[u8]) {
        let mut bytes = std::mem::take(&mut self.0).into_vec();
        bytes.splice(at, with.iter().copied());
        self.0 = bytes.into_boxed_slice();
    }

    /// The bytes held, for tests that check the size.
    #[cfg(test)]
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// One value read from packed bytes, borrowing its text from them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Text(&'a str),
    /// An object's packed fields.
    Object(&'a [u8]),
    /// A list's packed values.
    List(&'a [u8]),
}

impl<'a> Cell<'a> {
    /// The field `key` of an object.
    pub fn get(self, key: &str) -> Option<Cell<'a>> {
        match self {
            Cell::Object(fields) => Entries { rest: fields }
                .find(|(k, _)| *k == key)
                .map(|(_, cell)| cell),
            _ => None,
        }
    }

    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Cell::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The number, when the value is one.
    pub fn as_f64(self) -> Option<f64> {
        match self {
            Cell::Int(n) => Some(n as f64),
            Cell::Uint(n) => Some(n as f64),
            Cell::Float(f) => Some(f),
            _ => None,
        }
    }

    /// Plain text: text bare, null empty, anything else as compact JSON.
    pub fn text(self) -> Cow<'a, str> {
        match self {
            Cell::Text(text) => Cow::Borrowed(text),
            Cell::Null => Cow::Borrowed(""),
            other => Cow::Owned(other.to_value().to_string()),
        }
    }

    pub fn to_value(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Bool(flag) => Value::Bool(flag),
            Cell::Int(n) => Value::from(n),
            Cell::Uint(n) => Value::from(n),
            Cell::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Cell::Text(text) => Value::String(text.to_string()),
            Cell::Object(fields) => Value::Object(
                Entries { rest: fields }
                    .map(|(k, cell)| (k.to_string(), cell.to_value()))
                    .collect::<Map<_, _>>(),
            ),
            Cell::List(items) => Value::Array(Items { rest: items }.map(Cell::to_value).collect()),
        }
    }
}

/// The (key, value) pairs of packed fields, in order.
pub struct Entries<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, Cell<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let key = take_key(&mut self.rest)?;
        let cell = take_value(&mut self.rest)?;
        Some((key, cell))
    }
}

/// The values of a packed list, in order.
struct Items<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Items<'a> {
    type Item = Cell<'a>;

    fn next(&mut self) -> Option<Cell<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        take_value(&mut self.rest)
    }
}

fn put_entry(out: &mut Vec<u8>, key: &str, value: &Value) {
    match KEY_BYTES.get(key) {
        Some(byte) => out.push(*byte),
        None => {
            out.push(SPELLED);
            put_text(out, key);
        }
    }
    let shareable = matches!(value, Value::String(_) | Value::Object(_) | Value::Array(_));
    if shareable && SHARED_KEYS.contains(&key) {
        let mut packed = Vec::new();
        put_value(&mut packed, value);
        match shared::share(&packed) {
            Some(number) => {
                out.push(SHARED);
                put_len(out, number as usize);
            }
            None => out.extend_from_slice(&packed),
        }
    } else {
        put_value(out, value);
    }
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(int) = n.as_i64() {
                out.push(INT);
                out.extend_from_slice(&int.to_le_bytes());
            } else if let Some(uint) = n.as_u64() {
                out.push(UINT);
                out.extend_from_slice(&uint.to_le_bytes());
            } else if let Some(float) = n.as_f64() {
                out.push(FLOAT);
                out.extend_from_slice(&float.to_le_bytes());
            }
        }
        Value::String(text) => {
            out.push(TEXT);
            put_text(out, text);
        }
        Value::Object(map) => {
            let mut inner = Vec::new();
            for (key, value) in map {
                put_entry(&mut inner, key, value);
            }
            out.push(OBJECT);
            put_len(out, inner.len());
            out.extend_from_slice(&inner);
        }
        Value::Array(items) => {
            let mut inner = Vec::new();
            for item in items {
                put_value(&mut inner, item);
            }
            out.push(LIST);
            put_len(out, inner.len());
            out.extend_from_slice(&inner);
        }
    }
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_len(out, text.len());
    out.extend_from_slice(text.as_bytes());
}

fn put_len(out: &mut Vec<u8>, mut len: usize) {
    while len >= 0x80 {
        out.push((len as u8 & 0x7F) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
}

fn take<'a>(rest: &mut &'a [u8], count: usize) -> Option<&'a [u8]> {
    let (taken, left) = rest.split_at_checked(count)?;
    *rest = left;
    Some(taken)
}

fn take_byte(rest: &mut &[u8]) -> Option<u8> {
    Some(take(rest, 1)?[0])
}

fn take_len(rest: &mut &[u8]) -> Option<usize> {
    let mut len = 0;
    for shift in (0..usize::BITS).step_by(7) {
        let byte = take_byte(rest)?;
        len |= usize::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return Some(len);
        }
    }
    None
}

fn take_eight(rest: &mut &[u8]) -> Option<[u8; 8]> {
    take(rest, 8)?.try_into().ok()
}

fn take_text<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let len = take_len(rest)?;
    std::str::from_utf8(take(rest, len)?).ok()
}

fn take_key<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    match take_byte(rest)? {
        SPELLED => take_text(rest),
        byte => KEYS.get(usize::from(byte)).copied(),
    }
}

fn take_value<'a>(rest: &mut &'a [u8]) -> Option<Cell<'a>> {
    Some(match take_byte(rest)? {
        NULL => Cell::Null,
        FALSE => Cell::Bool(false),
        TRUE => Cell::Bool(true),
        INT => Cell::Int(i64::from_le_bytes(take_eight(rest)?)),
        UINT => Cell::Uint(u64::from_le_bytes(take_eight(rest)?)),
        FLOAT => Cell::Float(f64::from_le_bytes(take_eight(rest)?)),
        TEXT => Cell::Text(take_text(rest)?),
        SHARED => {
            let number = u32::try_from(take_len(rest)?).ok()?;
            take_value(&mut shared::get(number)?)?
        }
        OBJECT => {
            let len = take_len(rest)?;
            Cell::Object(take(rest, len)?)
        }
        LIST => {
            let len = take_len(rest)?;
            Cell::List(take(rest, len)?)
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_table_fits_a_byte_and_has_no_twins() {
        assert!(KEYS.len() < usize::from(SPELLED));
        assert_eq!(KEY_BYTES.len(), KEYS.len());
        for key in SHARED_KEYS {
            assert!(KEYS.contains(key), "{key}");
        }
    }

    #[test]
    fn lengths_round_trip_across_byte_boundaries() {
        for len in [0, 1, 127, 128, 300, 16_383, 16_384, 1 << 30] {
            let mut out = Vec::new();
            put_len(&mut out, len);
            let mut rest = &out[..];
            assert_eq!(take_len(&mut rest), Some(len));
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn truncated_bytes_read_as_nothing_rather_than_panic() {
        let packed = Packed::new([("first_name", &Value::from("Ada"))]);
        for cut in 0..packed.bytes().len() {
            let mut rest = &packed.bytes()[..cut];
            let _ = take_key(&mut rest).and_then(|_| take_value(&mut rest));
        }
        let mut odd: &[u8] = &[0, 42];
        assert_eq!(take_key(&mut odd).and(take_value(&mut odd)), None);
    }
}
