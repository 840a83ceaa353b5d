//! A backend-neutral record: an id plus the field values the server sent, as JSON.

use serde_json::{Map, Value};

use super::schema::Schema;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    /// Every field the server sent, keyed as on the wire; a missing key reads as null.
    pub values: Map<String, Value>,
}

static NULL: Value = Value::Null;

impl Record {
    /// A record `ref_1` holding the fields of a JSON object, for tests.
    #[cfg(test)]
    pub fn sample(values: Value) -> Record {
        Record {
            id: "ref_1".into(),
            values: values.as_object().cloned().unwrap_or_default(),
        }
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

    /// "Jane Doe" for the schema's title fields, or the id when they are all empty.
    pub fn title(&self, schema: &Schema) -> String {
        let joined = schema
            .title_fields
            .iter()
            .map(|k| self.text(k))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if joined.is_empty() {
            self.id.clone()
        } else {
            joined
        }
    }
}

pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
