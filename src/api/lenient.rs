//! Reading server answers leniently. Each backend describes the fields it documents as `Shape`s; a
//! value that does not fit its shape is set aside as `Unreadable` (kept as sent, shown in the detail
//! pane) instead of failing the answer. Only an entry's `id` is needed: an entry without a usable
//! one, or one that is not an object, is skipped and counted, never the whole page.
//!
//! What can be read is stored in the type the API documents, so the rest of the console sees one
//! form: whole numbers sent as strings (`"5002"`) become numbers, numbers sent where text belongs
//! become text, percentages sent as `"25.0"` become numbers. Absent and null stay absent and null;
//! fields no shape names are dropped.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error as _};
use serde_json::{Map, Number, Value};

use super::Page;
use crate::domain::Record;
use crate::domain::record::{Unreadable, quote, value_text};

/// What the API documents a value to be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// Text; a number is read as its digits.
    Text,
    /// A whole number; a string of one (`"5002"`) is read too.
    Integer,
    /// A number; a string of one (`"25.0"`) is read too.
    Number,
    /// true or false, also when sent as the words.
    Flag,
    /// A free-form JSON object (metadata), kept as it is.
    AnyObject,
    /// An object with these fields; others are dropped.
    Object(&'static [Field]),
    /// A list whose items have this shape. An item that cannot be read is left out of the list.
    List(&'static Shape),
}

/// A field's key and shape.
pub type Field = (&'static str, Shape);

/// The fields of one kind of entry the API lists (a referral, a promoter campaign), `id` among them.
pub trait Documented {
    const FIELDS: &'static [Field];
}

impl Shape {
    fn expected(self) -> &'static str {
        match self {
            Shape::Text => "text",
            Shape::Integer => "a whole number",
            Shape::Number => "a number",
            Shape::Flag => "true or false",
            Shape::AnyObject | Shape::Object(_) => "an object",
            Shape::List(_) => "a list",
        }
    }
}

/// `value` read as `shape`, or None when it cannot be, which is recorded in `unreadable` at `path`.
fn read(value: Value, shape: Shape, path: &str, unreadable: &mut Vec<Unreadable>) -> Option<Value> {
    if value.is_null() {
        return Some(Value::Null);
    }
    let read = match (shape, value) {
        (Shape::Text, Value::String(text)) => Ok(Value::String(text)),
        (Shape::Text, Value::Number(number)) => Ok(Value::String(number.to_string())),
        (Shape::Integer, value) => integer(&value).map(Value::from).ok_or(value),
        (Shape::Number, value) => number(&value).map(Value::Number).ok_or(value),
        (Shape::Flag, Value::Bool(flag)) => Ok(Value::Bool(flag)),
        (Shape::Flag, Value::String(word)) => match word.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(Value::String(word)),
        },
        (Shape::AnyObject, Value::Object(map)) => Ok(Value::Object(map)),
        (Shape::Object(fields), Value::Object(map)) => Ok(Value::Object(
            object(map, fields, path, unreadable)
                .into_iter()
                .map(|(key, value)| (key.to_string(), value))
                .collect(),
        )),
        (Shape::List(item), Value::Array(items)) => Ok(Value::Array(
            items
                .into_iter()
                .enumerate()
                .filter_map(|(i, v)| read(v, *item, &format!("{path}[{i}]"), unreadable))
                .collect(),
        )),
        (_, value) => Err(value),
    };
    read.map_err(|raw| {
        unreadable.push(Unreadable {
            path: path.to_string(),
            expected: shape.expected(),
            raw,
        })
    })
    .ok()
}

/// The fields of `map` that `fields` names, each read as its shape, in the order `fields` gives.
fn object(
    mut map: Map<String, Value>,
    fields: &[Field],
    path: &str,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<(&'static str, Value)> {
    let mut kept = Vec::with_capacity(fields.len());
    for (key, shape) in fields {
        let Some(value) = map.remove(*key) else {
            continue;
        };
        let at = if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        };
        if let Some(value) = read(value, *shape, &at, unreadable) {
            kept.push((*key, value));
        }
    }
    kept
}

/// A whole number from a number without a fraction or a string of digits.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// A number, from a JSON number or a string of one, stored as a float the way percentages are.
fn number(value: &Value) -> Option<Number> {
    let float = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    }?;
    Number::from_f64(float)
}

/// One entry read as documented: its id as text, what could be read, what could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The canonical id: `5002` and `"5002"` are both `5002`.
    pub id: String,
    /// The documented fields read, keyed as the shape names them.
    pub values: Vec<(&'static str, Value)>,
    pub unreadable: Vec<Unreadable>,
}

impl Entry {
    /// Reads `value` as an entry with `fields`; why not, when it has no usable id or is no object.
    pub fn read(value: Value, fields: &[Field]) -> Result<Entry, String> {
        let Value::Object(map) = value else {
            return Err(format!("not an object: got {}", quote(&value)));
        };
        let mut unreadable = Vec::new();
        let values = object(map, fields, "", &mut unreadable);
        let id = values
            .iter()
            .find(|(key, _)| *key == "id")
            .map(|(_, id)| value_text(id))
            .unwrap_or_default();
        if id.trim().is_empty() {
            return Err(match unreadable.iter().find(|u| u.path == "id") {
                Some(bad) => format!("no usable id: {}", bad.note("id")),
                None => "no id".to_string(),
            });
        }
        Ok(Entry {
            id,
            values,
            unreadable,
        })
    }
}

impl From<Entry> for Record {
    fn from(entry: Entry) -> Record {
        Record::from_fields(
            entry.id,
            entry.values.iter().map(|(key, value)| (*key, value)),
            entry.unreadable,
        )
    }
}

/// A JSON array of entries shaped as `S`: those that could be read, and why the others could not.
/// Anything but an array is a decode error for the whole answer.
#[derive(Debug)]
pub struct Rows<S> {
    pub entries: Vec<Entry>,
    /// Why each entry that could not be read was skipped, in page order.
    pub skipped: Vec<String>,
    /// How many entries the server sent, read or not: paging ends by this count.
    pub sent: usize,
    /// A hash of the array as sent (an object hashes the same whatever its keys' order).
    fingerprint: u64,
    shape: PhantomData<fn() -> S>,
}

impl<'de, S: Documented> Deserialize<'de> for Rows<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<Value>::deserialize(deserializer)?;
        let mut hasher = DefaultHasher::new();
        values.hash(&mut hasher);
        let mut rows = Rows {
            entries: Vec::with_capacity(values.len()),
            skipped: Vec::new(),
            sent: values.len(),
            fingerprint: hasher.finish(),
            shape: PhantomData,
        };
        for (i, value) in values.into_iter().enumerate() {
            match Entry::read(value, S::FIELDS) {
                Ok(entry) => rows.entries.push(entry),
                Err(why) => rows.skipped.push(format!("entry {}: {why}", i + 1)),
            }
        }
        Ok(rows)
    }
}

impl<S> Rows<S> {
    /// The page these rows make, each entry turned into an item; `last` is the backend's rule.
    pub fn page<T>(self, last: bool, item: impl FnMut(Entry) -> T) -> Page<T> {
        Page {
            items: self.entries.into_iter().map(item).collect(),
            last,
            skipped: self.skipped,
            fingerprint: self.fingerprint,
        }
    }
}

/// One entry shaped as `S`, the whole answer: without a usable id it is a decode error.
#[derive(Debug)]
pub struct One<S> {
    pub entry: Entry,
    shape: PhantomData<fn() -> S>,
}

impl<'de, S: Documented> Deserialize<'de> for One<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let entry = Entry::read(value, S::FIELDS).map_err(D::Error::custom)?;
        Ok(One {
            entry,
            shape: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PERSON: &[Field] = &[
        ("id", Shape::Integer),
        ("name", Shape::Text),
        ("active", Shape::Flag),
    ];
    const ITEM: Shape = Shape::Object(&[("id", Shape::Integer), ("share", Shape::Number)]);
    const FIELDS: &[Field] = &[
        ("id", Shape::Integer),
        ("name", Shape::Text),
        ("active", Shape::Flag),
        ("meta", Shape::AnyObject),
        ("owner", Shape::Object(PERSON)),
        ("items", Shape::List(&ITEM)),
    ];

    struct Thing;
    impl Documented for Thing {
        const FIELDS: &'static [Field] = FIELDS;
    }

    fn read(value: Value) -> Result<Entry, String> {
        Entry::read(value, FIELDS)
    }

    fn paths(entry: &Entry) -> Vec<&str> {
        entry.unreadable.iter().map(|u| u.path.as_str()).collect()
    }

    /// One case per rule: what is sent, what is kept, where the unreadable values were.
    #[test]
    fn each_value_is_read_as_its_shape_or_set_aside() {
        let cases: &[(&str, Value, Value, &[&str])] = &[
            (
                "an integer id",
                json!({"id": 5002}),
                json!({"id": 5002}),
                &[],
            ),
            (
                "an id as a string of digits",
                json!({"id": " 5002 "}),
                json!({"id": 5002}),
                &[],
            ),
            (
                "a whole float id",
                json!({"id": 5002.0}),
                json!({"id": 5002}),
                &[],
            ),
            (
                "a number where text belongs",
                json!({"id": 1, "name": 42}),
                json!({"id": 1, "name": "42"}),
                &[],
            ),
            (
                "text where an object belongs",
                json!({"id": 1, "name": {"first": "Ada"}}),
                json!({"id": 1}),
                &["name"],
            ),
            (
                "flags as words",
                json!({"id": 1, "active": "true"}),
                json!({"id": 1, "active": true}),
                &[],
            ),
            (
                "a flag that is neither",
                json!({"id": 1, "active": "maybe"}),
                json!({"id": 1}),
                &["active"],
            ),
            (
                "null stays null, absent stays absent",
                json!({"id": 1, "name": null, "owner": null}),
                json!({"id": 1, "name": null, "owner": null}),
                &[],
            ),
            (
                "fields no shape names are dropped",
                json!({"id": 1, "extra": [1, 2]}),
                json!({"id": 1}),
                &[],
            ),
            (
                "free-form objects are kept whole, anything else is not one",
                json!({"id": 1, "meta": {"a": [1]}}),
                json!({"id": 1, "meta": {"a": [1]}}),
                &[],
            ),
            (
                "metadata that is not an object",
                json!({"id": 1, "meta": "{}"}),
                json!({"id": 1}),
                &["meta"],
            ),
            (
                "a nested object without its id keeps the rest",
                json!({"id": 1, "owner": {"name": "Ada"}}),
                json!({"id": 1, "owner": {"name": "Ada"}}),
                &[],
            ),
            (
                "a nested id that is not a number",
                json!({"id": 1, "owner": {"id": "x7", "name": "Ada"}}),
                json!({"id": 1, "owner": {"name": "Ada"}}),
                &["owner.id"],
            ),
            (
                "numbers sent as strings in a list",
                json!({"id": 1, "items": [{"id": "3", "share": "25.0"}]}),
                json!({"id": 1, "items": [{"id": 3, "share": 25.0}]}),
                &[],
            ),
            (
                "an unreadable part of a list item, and an item that is no object",
                json!({"id": 1, "items": [{"id": 3, "share": {"of": 4}}, 7, {"share": 5}]}),
                json!({"id": 1, "items": [{"id": 3}, {"share": 5.0}]}),
                &["items[0].share", "items[1]"],
            ),
        ];
        for (rule, sent, kept, bad) in cases {
            let entry = read(sent.clone()).unwrap_or_else(|e| panic!("{rule}: {e}"));
            let read: Map<String, Value> = entry
                .values
                .iter()
                .map(|(key, value)| (key.to_string(), value.clone()))
                .collect();
            assert_eq!(&Value::Object(read), kept, "{rule}");
            assert_eq!(paths(&entry), *bad, "{rule}");
        }
    }

    #[test]
    fn the_id_is_canonical_text() {
        assert_eq!(read(json!({"id": "0042"})).unwrap().id, "42");
        assert_eq!(read(json!({"id": 42})).unwrap().id, "42");
    }

    #[test]
    fn an_entry_without_a_usable_id_or_that_is_no_object_cannot_be_read() {
        let cases: &[(Value, &str)] = &[
            (json!({"name": "Ada"}), "no id"),
            (json!({"id": null}), "no id"),
            (
                json!({"id": "ref_1"}),
                r#"no usable id: (unreadable: expected a whole number, got "ref_1")"#,
            ),
            (
                json!({"id": 4.5}),
                "no usable id: (unreadable: expected a whole number, got 4.5)",
            ),
            (json!([1, 2]), "not an object: got [1,2]"),
            (json!("5002"), r#"not an object: got "5002""#),
        ];
        for (sent, why) in cases {
            assert_eq!(read(sent.clone()).unwrap_err(), *why, "{sent}");
        }
    }

    #[test]
    fn the_unreadable_value_is_kept_as_sent() {
        let entry = read(json!({"id": 1, "items": [{"id": 3, "share": {"of": 4}}]})).unwrap();
        assert_eq!(entry.unreadable[0].raw, json!({"of": 4}));
        assert_eq!(entry.unreadable[0].expected, "a number");
    }

    #[test]
    fn rows_skip_and_count_what_cannot_be_read_and_only_a_non_array_fails() {
        let rows: Rows<Thing> =
            serde_json::from_value(json!([{"id": 1}, {"name": "no id"}, 2, {"id": "3"}])).unwrap();
        let page = rows.page(false, Record::from);
        let ids: Vec<&str> = page.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["1", "3"]);
        assert_eq!(
            page.skipped,
            ["entry 2: no id", "entry 3: not an object: got 2"]
        );
        assert!(serde_json::from_value::<Rows<Thing>>(json!({"data": []})).is_err());
        assert!(serde_json::from_value::<One<Thing>>(json!({"name": "x"})).is_err());
        assert_eq!(
            serde_json::from_value::<One<Thing>>(json!({"id": "9"}))
                .unwrap()
                .entry
                .id,
            "9"
        );
    }

    #[test]
    fn the_same_array_has_the_same_fingerprint() {
        let page = |v: Value| {
            serde_json::from_value::<Rows<Thing>>(v)
                .unwrap()
                .page(false, |e| e)
                .fingerprint
        };
        assert_eq!(page(json!([{"id": 1}, 2])), page(json!([{"id": 1}, 2])));
        assert_ne!(page(json!([{"id": 1}])), page(json!([{"id": 2}])));
    }
}
