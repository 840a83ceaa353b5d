//! A backend-neutral record: an id plus the field values the server sent, as JSON, and the values it
//! sent that could not be read as what the API documents (kept as sent, to be shown as such).
//!
//! Layout (issue 11, memory): the fields are a plain vector of (key, value) pairs in the order the
//! server sent them, sized to fit, rather than a JSON object map (whose hash index, spare capacity
//! and per-record key strings cost several times the JSON itself). A key that is a field of a
//! built-in schema is the schema's own `&'static str`, so the common keys cost no allocation per
//! record; any other key is kept as an owned string. Lookups scan the vector: a record has a dozen
//! or so fields. Nested objects (`metadata`, `promoter_campaign`) stay JSON values.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::schema::{Schema, V1_SCHEMA, V2_SCHEMA};

#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    /// Every field the server sent, keyed as on the wire, in the order sent; a missing key reads
    /// as null. Read through `get`, `iter`; changed through `insert`, `entry`, `remove`.
    fields: Vec<(Cow<'static, str>, Value)>,
    /// Values the server sent that could not be read; each is left out of the fields.
    pub unreadable: Vec<Unreadable>,
}

/// Records are equal when they hold the same fields, whatever order they were sent in (as JSON
/// objects compare).
impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.id == other.id
            && self.unreadable == other.unreadable
            && self.fields.len() == other.fields.len()
            && self.iter().all(|(k, v)| other.field(k) == Some(v))
    }
}

/// `key` as a `&'static str` when it is the (top-level) key of a built-in schema's field, so that
/// records share it; otherwise owned.
fn shared_key(key: String) -> Cow<'static, str> {
    let known = [&V1_SCHEMA, &V2_SCHEMA]
        .into_iter()
        .flat_map(|schema| schema.fields.iter())
        .map(|spec| spec.key.split('.').next().unwrap_or(spec.key))
        .find(|known| *known == key);
    match known {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(key),
    }
}

/// A value the server sent where the API documents something else (an object where a number
/// belongs): kept as sent so the detail pane can show it, and left out of the record's values.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// Where it was: `state`, `promoter_campaign.id`, `split_details[1].percentage`.
    pub path: String,
    /// What the API documents there: "a number", "text", "an object".
    pub expected: &'static str,
    pub raw: Value,
}

/// How much of an unreadable value is quoted: enough to recognise it, never a whole page.
const QUOTED_CHARS: usize = 60;

impl Unreadable {
    /// Whether this value sits at `key` or inside it (`split_details` holds `split_details[1].id`).
    pub fn is_under(&self, key: &str) -> bool {
        self.path
            .strip_prefix(key)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    }

    /// "(unreadable: expected a number, got {"a":1})", naming the place inside `key` when it is
    /// deeper: "(unreadable [1].percentage: expected a number, got "lots")".
    pub fn note(&self, key: &str) -> String {
        let inside = self.path.strip_prefix(key).unwrap_or(&self.path);
        let inside = inside.strip_prefix('.').unwrap_or(inside);
        let place = if inside.is_empty() {
            String::new()
        } else {
            format!(" {inside}")
        };
        format!(
            "(unreadable{place}: expected {}, got {})",
            self.expected,
            quote(&self.raw)
        )
    }
}

/// A value the server sent, quoted in a message as compact JSON (control characters escaped) and
/// cut short.
pub fn quote(value: &Value) -> String {
    let raw = value.to_string();
    if raw.chars().count() > QUOTED_CHARS {
        let cut: String = raw.chars().take(QUOTED_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        raw
    }
}

static NULL: Value = Value::Null;

impl Record {
    /// A record holding what could be read.
    pub fn new(id: impl Into<String>, values: Map<String, Value>) -> Record {
        Record::with_unreadable(id, values, Vec::new())
    }

    /// A record holding what could be read, and what could not.
    pub fn with_unreadable(
        id: impl Into<String>,
        values: Map<String, Value>,
        unreadable: Vec<Unreadable>,
    ) -> Record {
        let mut fields: Vec<_> = values
            .into_iter()
            .map(|(k, v)| (shared_key(k), v))
            .collect();
        fields.shrink_to_fit();
        Record {
            id: id.into(),
            fields,
            unreadable,
        }
    }

    /// The top-level field `key`, if the server sent it.
    fn field(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The top-level fields, in the order the server sent them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The fields as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// Sets the top-level field `key`: in its place when the record has it, else last.
    pub fn insert(&mut self, key: &str, value: Value) {
        *self.entry(key) = value;
    }

    /// The top-level field `key`, added as null (last) when the record does not have it.
    pub fn entry(&mut self, key: &str) -> &mut Value {
        let at = match self.fields.iter().position(|(k, _)| k == key) {
            Some(at) => at,
            None => {
                self.fields.push((shared_key(key.to_string()), Value::Null));
                self.fields.len() - 1
            }
        };
        &mut self.fields[at].1
    }

    /// Takes the top-level field `key` out, keeping the others in order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.fields.iter().position(|(k, _)| k == key)?;
        Some(self.fields.remove(at).1)
    }

    /// A record `ref_1` holding the fields of a JSON object, for tests.
    #[cfg(test)]
    pub fn sample(values: Value) -> Record {
        Record::new("ref_1", values.as_object().cloned().unwrap_or_default())
    }

    /// The value at `key`; dots walk into nested objects (`promoter_campaign.promoter.name`).
    pub fn get(&self, key: &str) -> &Value {
        let mut parts = key.split('.');
        let first = parts.next().and_then(|k| self.field(k)).unwrap_or(&NULL);
        parts.fold(first, |value, part| value.get(part).unwrap_or(&NULL))
    }

    /// The value as plain text: strings bare, null empty, anything else as compact JSON.
    pub fn text(&self, key: &str) -> String {
        value_text(self.get(key))
    }

    /// The values under `key` (at it or inside it) that could not be read.
    pub fn unreadable_under<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Unreadable> {
        self.unreadable.iter().filter(move |u| u.is_under(key))
    }

    /// The values that could not be read and sit under none of `schema`'s fields (a nested object
    /// that is not one, a part the schema does not show).
    pub fn unplaced_unreadable(&self, schema: &Schema) -> Vec<&Unreadable> {
        self.unreadable
            .iter()
            .filter(|u| !schema.fields.iter().any(|f| u.is_under(f.key)))
            .collect()
    }

    /// "Jane Doe" for the schema's title fields, or the id when they are all empty.
    pub fn title(&self, schema: &Schema) -> String {
        let joined = schema
            .title_fields
            .iter()
            .map(|k| self.text(k))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let title = if joined.is_empty() { &self.id } else { &joined };
        crate::text_safety::capped(title).into_owned()
    }
}

pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
