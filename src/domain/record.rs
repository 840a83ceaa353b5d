//! A backend-neutral record: an id plus the field values the server sent, as JSON, and the values it
//! sent that could not be read as what the API documents (kept as sent, to be shown as such).

use serde_json::{Map, Value};

use super::schema::Schema;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    /// Every field the server sent, keyed as on the wire; a missing key reads as null.
    pub values: Map<String, Value>,
    /// Values the server sent that could not be read; each is left out of `values`.
    pub unreadable: Vec<Unreadable>,
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
        Record {
            id: id.into(),
            values,
            unreadable: Vec::new(),
        }
    }

    /// A record `ref_1` holding the fields of a JSON object, for tests.
    #[cfg(test)]
    pub fn sample(values: Value) -> Record {
        Record::new("ref_1", values.as_object().cloned().unwrap_or_default())
    }

    /// The value at `key`; dots walk into nested objects (`promoter_campaign.promoter.name`).
    pub fn get(&self, key: &str) -> &Value {
        let mut parts = key.split('.');
        let first = parts
            .next()
            .and_then(|k| self.values.get(k))
            .unwrap_or(&NULL);
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
