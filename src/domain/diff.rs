//! What changed between a stored record and the values an admin wants, and the PUT body that says
//! exactly that: only changed fields ("Only include the fields you want to update").

use serde_json::{Map, Value};

use super::metadata_mode::MetadataMode;
use super::record::{Record, value_text};
use super::schema::{FieldKind, Schema};
use super::splits;

/// One line of the review dialog: a field (or a metadata key) before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    pub key: String,
    pub label: String,
    pub before: String,
    pub after: String,
}

/// The changes and the body that will be sent for them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeSet {
    pub changes: Vec<FieldChange>,
    pub body: Map<String, Value>,
    /// Body keys whose value is "now": set to the moment the write is sent (`stamp`), so a write
    /// that waited in a queue or a review never carries the time it was planned.
    pub at_send: Vec<String>,
}

impl ChangeSet {
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Marks the timestamp fields whose value is `now` (the planning clock's, as sent) to be
    /// stamped with the sending time.
    pub fn mark_now(&mut self, schema: &Schema, now: &str) {
        self.at_send = schema
            .fields
            .iter()
            .filter(|spec| spec.kind == FieldKind::Timestamp)
            .map(|spec| spec.body_key())
            .filter(|key| self.body.get(*key).and_then(Value::as_str) == Some(now))
            .map(str::to_string)
            .collect();
        for key in self.at_send.clone() {
            self.describe_as(schema, &key, "now");
        }
    }

    /// Sets the fields marked by `mark_now` to `sent` (RFC 3339, whole seconds), in the body and in
    /// the lines that describe it.
    pub fn stamp(&mut self, schema: &Schema, sent: &str) {
        for key in self.at_send.clone() {
            self.body
                .insert(key.clone(), Value::String(sent.to_string()));
            self.describe_as(schema, &key, sent);
        }
    }

    fn describe_as(&mut self, schema: &Schema, body_key: &str, after: &str) {
        let field = schema
            .fields
            .iter()
            .find(|spec| spec.body_key() == body_key);
        if let Some(change) =
            field.and_then(|spec| self.changes.iter_mut().find(|c| c.key == spec.key))
        {
            change.after = after.to_string();
        }
    }

    /// "status converted → verified · email a@x → b@x" for the status bar; the body's fields when
    /// the changes were not described (a write read back from the journal).
    pub fn summary(&self) -> String {
        const SHOWN: usize = 2;
        if self.changes.is_empty() {
            return self
                .body
                .iter()
                .map(|(key, value)| format!("{key} → {}", value_text(value)))
                .collect::<Vec<_>>()
                .join(" · ");
        }
        let mut parts: Vec<String> = self
            .changes
            .iter()
            .take(SHOWN)
            .map(|c| format!("{} {} → {}", c.key, c.before, c.after))
            .collect();
        if self.changes.len() > SHOWN {
            parts.push(format!("+{} more", self.changes.len() - SHOWN));
        }
        parts.join(" · ")
    }
}

/// Compares `wanted` (field key → new value) with `record` and builds the body.
pub fn diff(
    schema: &Schema,
    record: &Record,
    wanted: &Map<String, Value>,
    mode: MetadataMode,
) -> ChangeSet {
    let mut set = ChangeSet::default();
    for spec in schema.editable_fields() {
        let Some(after) = wanted.get(spec.key) else {
            continue;
        };
        let before = &record.get(spec.key);
        match spec.kind {
            FieldKind::JsonObject => {
                if let Some(sent) = object_body(before, after, mode) {
                    for (key, value) in object_key_changes(before, after) {
                        set.changes.push(FieldChange {
                            key: format!("{}.{key}", spec.key),
                            label: format!("{} · {key}", spec.label),
                            before: shown(FieldKind::Text, value.0),
                            after: shown(FieldKind::Text, value.1),
                        });
                    }
                    set.body.insert(spec.body_key().to_string(), sent);
                }
            }
            kind if !same(kind, before, after) => {
                set.changes.push(FieldChange {
                    key: spec.key.to_string(),
                    label: spec.label.to_string(),
                    before: shown(kind, before),
                    after: shown(kind, after),
                });
                set.body.insert(spec.body_key().to_string(), after.clone());
            }
            _ => {}
        }
    }
    set
}

fn shown(kind: FieldKind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::Null) => "(none)".to_string(),
        (FieldKind::Splits, v) => splits::summary(v),
        (_, v) => value_text(v),
    }
}

/// Whether two values of a field of `kind` mean the same (instants, split rows).
pub fn same(kind: FieldKind, a: &Value, b: &Value) -> bool {
    match (kind, a, b) {
        (FieldKind::Timestamp, Value::String(x), Value::String(y)) => {
            match (x.parse::<jiff::Timestamp>(), y.parse::<jiff::Timestamp>()) {
                (Ok(x), Ok(y)) => x == y,
                _ => x == y,
            }
        }
        (FieldKind::Splits, _, _) => splits::rows(a) == splits::rows(b),
        // A blank text and none mean the same: emptying sends "" where null is not allowed.
        (FieldKind::Text | FieldKind::Email | FieldKind::Url, Value::Null, Value::String(s))
        | (FieldKind::Text | FieldKind::Email | FieldKind::Url, Value::String(s), Value::Null) => {
            s.is_empty()
        }
        _ => a == b,
    }
}

fn as_object(value: &Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    }
}

/// Keys whose value differs, with (before, after); a removed key reads as null after.
fn object_key_changes<'a>(
    before: &'a Value,
    after: &'a Value,
) -> Vec<(String, (&'a Value, &'a Value))> {
    static NULL: Value = Value::Null;
    let get = |v: &'a Value, k: &str| v.get(k).unwrap_or(&NULL);
    let mut keys: Vec<String> = as_object(after).keys().cloned().collect();
    keys.extend(
        as_object(before)
            .keys()
            .filter(|k| after.get(*k).is_none())
            .cloned(),
    );
    keys.into_iter()
        .filter_map(|k| {
            let pair = (get(before, &k), get(after, &k));
            (pair.0 != pair.1).then_some((k, pair))
        })
        .collect()
}

/// What to send for an object field, or None when nothing changed. Merge mode sends the changed keys
/// and null for removed ones (a merge cannot delete a key); replace mode sends the whole object.
fn object_body(before: &Value, after: &Value, mode: MetadataMode) -> Option<Value> {
    let (old, new) = (as_object(before), as_object(after));
    if old == new {
        return None;
    }
    match mode {
        MetadataMode::Replace => Some(Value::Object(new)),
        MetadataMode::Merge => {
            let mut body = Map::new();
            for (k, v) in &new {
                if old.get(k) != Some(v) {
                    body.insert(k.clone(), v.clone());
                }
            }
            for (k, v) in &old {
                if !new.contains_key(k) && !v.is_null() {
                    body.insert(k.clone(), Value::Null);
                }
            }
            (!body.is_empty()).then_some(Value::Object(body))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::V1_SCHEMA;
    use serde_json::json;

    fn record() -> Record {
        let values = json!({
            "id": "ref_1", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
            "status": "converted", "verified_at": null,
            "metadata": {"source": "flyer", "location": "Library"}
        });
        Record::new("ref_1", values.as_object().unwrap().clone())
    }

    fn wanted(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn unchanged_fields_are_left_out_of_the_body() {
        let w = wanted(json!({"first_name": "Ada", "email": "ada@new.io", "status": "converted"}));
        let set = diff(&V1_SCHEMA, &record(), &w, MetadataMode::Merge);
        assert_eq!(
            Value::Object(set.body.clone()),
            json!({"email": "ada@new.io"})
        );
        assert_eq!(set.changes.len(), 1);
        assert_eq!(set.summary(), "email ada@example.com → ada@new.io");
    }

    #[test]
    fn the_same_instant_written_differently_is_no_change() {
        let mut r = record();
        r.insert("verified_at", json!("2024-01-16T14:20:00.000Z"));
        let w = wanted(json!({"verified_at": "2024-01-16T15:20:00+01:00"}));
        assert!(diff(&V1_SCHEMA, &r, &w, MetadataMode::Merge).is_empty());
        let w = wanted(json!({"verified_at": null}));
        assert_eq!(
            diff(&V1_SCHEMA, &r, &w, MetadataMode::Merge).body["verified_at"],
            Value::Null
        );
    }

    #[test]
    fn a_blank_text_and_none_are_the_same() {
        assert!(same(FieldKind::Text, &Value::Null, &json!("")));
        assert!(same(FieldKind::Email, &json!(""), &Value::Null));
        assert!(!same(FieldKind::Text, &Value::Null, &json!("x")));
        assert!(!same(FieldKind::Timestamp, &Value::Null, &json!("")));
    }

    #[test]
    fn merge_sends_changed_keys_and_null_for_removed_ones() {
        let w = wanted(json!({"metadata": {"source": "flyer", "notes": "ok"}}));
        let set = diff(&V1_SCHEMA, &record(), &w, MetadataMode::Merge);
        assert_eq!(
            set.body["metadata"],
            json!({"notes": "ok", "location": null})
        );
        let keys: Vec<_> = set.changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["metadata.notes", "metadata.location"]);
    }

    #[test]
    fn replace_sends_the_whole_object() {
        let w = wanted(json!({"metadata": {"source": "flyer", "notes": "ok"}}));
        let set = diff(&V1_SCHEMA, &record(), &w, MetadataMode::Replace);
        assert_eq!(
            set.body["metadata"],
            json!({"source": "flyer", "notes": "ok"})
        );
    }

    #[test]
    fn identical_metadata_is_no_change_in_either_mode() {
        let w = wanted(json!({"metadata": {"location": "Library", "source": "flyer"}}));
        assert!(diff(&V1_SCHEMA, &record(), &w, MetadataMode::Merge).is_empty());
        assert!(diff(&V1_SCHEMA, &record(), &w, MetadataMode::Replace).is_empty());
    }

    #[test]
    fn a_now_timestamp_is_marked_and_stamped_with_the_sending_time() {
        let w = wanted(json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z"}));
        let mut set = diff(&V1_SCHEMA, &record(), &w, MetadataMode::Merge);
        set.mark_now(&V1_SCHEMA, "2026-11-21T10:00:00Z");
        assert_eq!(set.at_send, vec!["verified_at".to_string()]);
        let line = |set: &ChangeSet| {
            set.changes
                .iter()
                .find(|c| c.key == "verified_at")
                .unwrap()
                .after
                .clone()
        };
        assert_eq!(
            line(&set),
            "now",
            "the review says it is now, not a time already past"
        );
        set.stamp(&V1_SCHEMA, "2026-11-21T10:07:31Z");
        assert_eq!(set.body["verified_at"], json!("2026-11-21T10:07:31Z"));
        assert_eq!(
            set.body["status"],
            json!("verified"),
            "other fields untouched"
        );
        assert_eq!(line(&set), "2026-11-21T10:07:31Z");
    }

    #[test]
    fn a_typed_time_that_is_not_now_is_sent_as_typed() {
        let w = wanted(json!({"verified_at": "2026-01-02T03:04:05Z"}));
        let mut set = diff(&V1_SCHEMA, &record(), &w, MetadataMode::Merge);
        set.mark_now(&V1_SCHEMA, "2026-11-21T10:00:00Z");
        assert!(set.at_send.is_empty());
        set.stamp(&V1_SCHEMA, "2026-11-21T10:07:31Z");
        assert_eq!(set.body["verified_at"], json!("2026-01-02T03:04:05Z"));
    }
}
