//! A backend-neutral record: an id plus the field values the server sent, and the values it sent
//! that could not be read as what the API documents (kept as sent, to be shown as such).
//!
//! Layout (issue 11, memory): the fields are packed into one byte buffer per record, in the order
//! the server sent them (`packed`), with the values many referrals share held once (`shared`).
//! Nothing keeps a `serde_json::Value` per field: `get` builds one on demand (the list builds one
//! per visible cell), and the search text and sorting read text in place through `str` and `text`.

mod packed;
mod shared;

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use self::packed::Packed;
use super::schema::Schema;

#[derive(Clone)]
pub struct Record {
    pub id: String,
    /// Every field the server sent, keyed as on the wire, in the order sent; a missing key reads
    /// as null. Read through `get`, `str`, `text`, `iter`; changed through `insert`, `remove`.
    fields: Packed,
    /// Values the server sent that could not be read; each is left out of the fields.
    pub unreadable: Vec<Unreadable>,
}

/// Records are equal when they hold the same fields, whatever order they were sent in (as JSON
/// objects compare).
impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.id == other.id
            && self.unreadable == other.unreadable
            && self.fields.fields().count() == other.fields.fields().count()
            && self.fields.fields().all(|(k, v)| {
                other
                    .fields
                    .at_top(k)
                    .is_some_and(|theirs| theirs.to_value() == v.to_value())
            })
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("id", &self.id)
            .field("fields", &self.to_json())
            .field("unreadable", &self.unreadable)
            .finish()
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
        Record::from_fields(id, values.iter().map(|(k, v)| (k.as_str(), v)), unreadable)
    }

    /// A record holding `fields`, in the order given, and what could not be read.
    pub fn from_fields<'v>(
        id: impl Into<String>,
        fields: impl IntoIterator<Item = (&'v str, &'v Value)>,
        unreadable: Vec<Unreadable>,
    ) -> Record {
        Record {
            id: id.into(),
            fields: Packed::new(fields),
            unreadable,
        }
    }

    /// The top-level fields, in the order the server sent them.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Value)> {
        self.fields.fields().map(|(k, v)| (k, v.to_value()))
    }

    /// The fields as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// Sets the top-level field `key`: in its place when the record has it, else last.
    pub fn insert(&mut self, key: &str, value: Value) {
        self.fields.set(key, &value);
    }

    /// Takes the top-level field `key` out, keeping the others in order.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.fields.remove(key)
    }

    /// A record `ref_1` holding the fields of a JSON object, for tests.
    #[cfg(test)]
    pub fn sample(values: Value) -> Record {
        Record::new("ref_1", values.as_object().cloned().unwrap_or_default())
    }

    /// The value at `key`, null when there is none; dots walk into nested objects
    /// (`promoter_campaign.promoter.name`). Built on demand: prefer `str` or `text` to read text.
    pub fn get(&self, key: &str) -> Value {
        self.fields
            .at(key)
            .map_or(Value::Null, |cell| cell.to_value())
    }

    /// The text at `key`, when the value there is text.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.fields.at(key)?.as_str()
    }

    /// The number at `key`, when the value there is a number (read in place).
    pub fn number(&self, key: &str) -> Option<f64> {
        self.fields.at(key)?.as_f64()
    }

    /// The value as plain text: strings bare, null empty, anything else as compact JSON.
    pub fn text(&self, key: &str) -> Cow<'_, str> {
        self.fields
            .at(key)
            .map_or(Cow::Borrowed(""), |cell| cell.text())
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A record holding the JSON object `text`, keys in the order written.
    fn sent(text: &str) -> Record {
        Record::new("r", serde_json::from_str(text).unwrap())
    }

    #[test]
    fn to_json_gives_back_exactly_what_was_sent() {
        // One case per rule: order, numbers as sent (whole, negative, beyond i64, fractional, a
        // whole float, a numeric string), nesting, lists, keys no backend uses, text that is long.
        let long = "x".repeat(300);
        let cases = [
            r#"{"status":"pending","id":"ref_1","email":null,"first_name":"Ada"}"#.to_string(),
            r#"{"a":5002,"b":-7,"c":18446744073709551615,"d":25.5,"e":1.0,"f":"5002","g":2.5e-8}"#
                .to_string(),
            r#"{"promoter_campaign":{"id":1004,"promoter":{"name":"Jo","email":"jo@x.io"}}}"#
                .to_string(),
            r#"{"split_details":[{"promoter_campaign_id":1,"percentage":20.0},[],{}],"t":true,"f":false}"#
                .to_string(),
            r#"{"metadata":{"zeta":1,"alpha":{"deep":["x",null]}},"ünïcode key":"✓"}"#.to_string(),
            format!(r#"{{"comment":"{long}"}}"#),
        ];
        for text in cases {
            assert_eq!(sent(&text).to_json().to_string(), text);
        }
    }

    #[test]
    fn reading_at_a_key() {
        let record = sent(
            r#"{"first_name":"Ada","n":5,"x":-2.5,"none":null,"flag":true,
                "promoter_campaign":{"id":1004,"promoter":{"name":"Jo"}}}"#,
        );
        // (key, get, str, text)
        let cases: &[(&str, Value, Option<&str>, &str)] = &[
            ("first_name", json!("Ada"), Some("Ada"), "Ada"),
            ("n", json!(5), None, "5"),
            ("x", json!(-2.5), None, "-2.5"),
            ("none", Value::Null, None, ""),
            ("flag", json!(true), None, "true"),
            ("missing", Value::Null, None, ""),
            (
                "promoter_campaign.promoter.name",
                json!("Jo"),
                Some("Jo"),
                "Jo",
            ),
            ("promoter_campaign.id", json!(1004), None, "1004"),
            (
                "promoter_campaign.promoter",
                json!({"name": "Jo"}),
                None,
                r#"{"name":"Jo"}"#,
            ),
            ("promoter_campaign.nothing.name", Value::Null, None, ""),
            ("first_name.inside", Value::Null, None, ""),
        ];
        for (key, value, str, text) in cases {
            assert_eq!(&record.get(key), value, "get {key}");
            assert_eq!(record.str(key), *str, "str {key}");
            assert_eq!(record.text(key), *text, "text {key}");
            assert_eq!(record.number(key), value.as_f64(), "number {key}");
        }
        let sent = record.to_json();
        assert!(sent.get("none").is_some() && sent.get("missing").is_none());
    }

    #[test]
    fn insert_and_remove_keep_the_order_sent() {
        let mut record = sent(r#"{"a":1,"status":"pending","c":3}"#);
        record.insert("status", json!("verified"));
        assert_eq!(
            record.to_json().to_string(),
            r#"{"a":1,"status":"verified","c":3}"#
        );
        record.insert("d", json!({"x": [1]}));
        assert_eq!(
            record.to_json().to_string(),
            r#"{"a":1,"status":"verified","c":3,"d":{"x":[1]}}"#
        );
        assert_eq!(record.remove("a"), Some(json!(1)));
        assert_eq!(record.remove("a"), None);
        assert_eq!(
            record.to_json().to_string(),
            r#"{"status":"verified","c":3,"d":{"x":[1]}}"#
        );
        record.insert("c", Value::Null);
        assert_eq!(record.get("c"), Value::Null);
        assert_eq!(
            record.to_json().to_string(),
            r#"{"status":"verified","c":null,"d":{"x":[1]}}"#,
            "null is held, not dropped"
        );
    }

    #[test]
    fn repeated_values_are_held_once() {
        let a = sent(r#"{"status":"pending","first_name":"Ada","promoter_campaign":{"id":1}}"#);
        let b = sent(r#"{"first_name":"Ada","status":"pending","promoter_campaign":{"id":1}}"#);
        let at = |r: &Record, key| r.str(key).unwrap().as_ptr();
        assert_eq!(
            at(&a, "status"),
            at(&b, "status"),
            "a status word is shared"
        );
        assert_ne!(at(&a, "first_name"), at(&b, "first_name"), "a name is not");
        assert!(
            a.fields.bytes().len()
                < r#""status":"pending""#.len() + r#""promoter_campaign":{"id":1}"#.len(),
            "shared values cost a few bytes each: {:?}",
            a.fields.bytes()
        );
    }

    #[test]
    fn a_referral_takes_fewer_bytes_than_its_json() {
        let text = r#"{"id":"ref_000001","first_name":"Ben","last_name":"Nguyen","email":"ben.nguyen1@example.com","status":"verified","program_id":"prog_1","student_id":"amb_1","impression_id":"imp_1","created_at":"2026-11-01T09:30:00Z","updated_at":"2026-11-02T09:30:00Z","metadata":{"source":"bench","batch":1}}"#;
        let bytes = sent(text).fields.bytes().len();
        assert!(
            bytes * 10 < text.len() * 6,
            "{bytes} bytes for {} of JSON",
            text.len()
        );
    }

    #[test]
    fn equal_records_hold_the_same_fields_in_any_order() {
        let base = r#"{"a":1,"b":{"x":1,"y":2}}"#;
        // (other, equal)
        let cases = [
            (r#"{"a":1,"b":{"x":1,"y":2}}"#, true),
            (r#"{"b":{"y":2,"x":1},"a":1}"#, true),
            (r#"{"a":1.0,"b":{"x":1,"y":2}}"#, false),
            (r#"{"a":1,"b":{"x":1,"y":2},"c":null}"#, false),
            (r#"{"a":1}"#, false),
        ];
        for (other, equal) in cases {
            assert_eq!(sent(base) == sent(other), equal, "{other}");
        }
        let mut odd = sent(base);
        odd.unreadable.push(Unreadable {
            path: "b.x".into(),
            expected: "text",
            raw: json!([1]),
        });
        assert_ne!(odd, sent(base), "what could not be read counts");
    }

    #[test]
    fn unreadable_values_are_kept_with_the_record() {
        let record = Record::with_unreadable(
            "r",
            Map::new(),
            vec![Unreadable {
                path: "split_details[1].percentage".into(),
                expected: "a number",
                raw: json!("lots"),
            }],
        );
        assert_eq!(record.unreadable_under("split_details").count(), 1);
        assert_eq!(record.unreadable_under("split").count(), 0);
        assert_eq!(
            record.unreadable[0].note("split_details"),
            r#"(unreadable [1].percentage: expected a number, got "lots")"#
        );
    }
}
