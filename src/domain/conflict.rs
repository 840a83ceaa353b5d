//! What a write changes from, and whether someone else changed it since: the conflict guard's view.
//!
//! A write's *base* holds, per touched field (schema key), the value it had when loaded. In merge
//! mode only the metadata keys the write touches matter, so the base keeps just those (missing ones
//! as null); in replace mode it keeps the whole object.

use serde_json::{Map, Value};

use super::diff::same;
use super::metadata_mode::MetadataMode;
use super::record::Record;
use super::schema::{FieldKind, Schema};

/// The values in `record` of the fields `body` touches.
pub fn base_of(
    schema: &Schema,
    record: &Record,
    body: &Map<String, Value>,
    mode: MetadataMode,
) -> Map<String, Value> {
    let mut base = Map::new();
    for spec in schema
        .fields
        .iter()
        .filter(|f| body.contains_key(f.body_key()))
    {
        let value = match (spec.kind, mode, &body[spec.body_key()]) {
            (FieldKind::JsonObject, MetadataMode::Merge, Value::Object(sent)) => {
                Value::Object(pick(&record.get(spec.key), sent.keys()))
            }
            _ => record.get(spec.key),
        };
        base.insert(spec.key.to_string(), value);
    }
    base
}

/// The same fields as `base`, read from `record` (the server's answer): what the write left.
pub fn values_like(
    schema: &Schema,
    base: &Map<String, Value>,
    record: &Record,
    mode: MetadataMode,
) -> Map<String, Value> {
    base.iter()
        .map(|(key, old)| {
            let value = match (schema.field(key).map(|f| f.kind), mode, old) {
                (Some(FieldKind::JsonObject), MetadataMode::Merge, Value::Object(keys)) => {
                    Value::Object(pick(&record.get(key), keys.keys()))
                }
                _ => record.get(key),
            };
            (key.clone(), value)
        })
        .collect()
}

/// Keys of `base` whose value on the server (`fresh`) is no longer what the write started from.
pub fn conflicts(
    schema: &Schema,
    base: &Map<String, Value>,
    fresh: &Record,
    mode: MetadataMode,
) -> Vec<String> {
    let now = values_like(schema, base, fresh, mode);
    base.iter()
        .filter(|(key, old)| {
            let kind = schema.field(key).map(|f| f.kind).unwrap_or(FieldKind::Text);
            !same(kind, old, &now[*key])
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// The object's values for `keys`, null where a key is absent.
fn pick<'a>(object: &Value, keys: impl Iterator<Item = &'a String>) -> Map<String, Value> {
    keys.map(|k| (k.clone(), object.get(k).cloned().unwrap_or(Value::Null)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::V1_SCHEMA;
    use serde_json::json;

    fn record(v: Value) -> Record {
        Record::sample(v)
    }

    #[test]
    fn merge_mode_guards_only_the_touched_metadata_keys() {
        let loaded =
            record(json!({"status": "converted", "metadata": {"source": "flyer", "notes": "a"}}));
        let body = json!({"status": "verified", "metadata": {"verified_by": "admin"}});
        let base = base_of(
            &V1_SCHEMA,
            &loaded,
            body.as_object().unwrap(),
            MetadataMode::Merge,
        );
        assert_eq!(
            Value::Object(base.clone()),
            json!({"status": "converted", "metadata": {"verified_by": null}})
        );
        let someone_edited_notes =
            record(json!({"status": "converted", "metadata": {"source": "flyer", "notes": "b"}}));
        assert!(
            conflicts(
                &V1_SCHEMA,
                &base,
                &someone_edited_notes,
                MetadataMode::Merge
            )
            .is_empty()
        );
        let someone_verified =
            record(json!({"status": "verified", "metadata": {"verified_by": "other"}}));
        assert_eq!(
            conflicts(&V1_SCHEMA, &base, &someone_verified, MetadataMode::Merge),
            ["status", "metadata"]
        );
    }

    #[test]
    fn replace_mode_guards_the_whole_object_and_instants_compare_as_instants() {
        let loaded = record(json!({"verified_at": "2026-01-01T10:00:00Z", "metadata": {"a": 1}}));
        let body = json!({"verified_at": null, "metadata": {"a": 2}});
        let base = base_of(
            &V1_SCHEMA,
            &loaded,
            body.as_object().unwrap(),
            MetadataMode::Replace,
        );
        let same_instant =
            record(json!({"verified_at": "2026-01-01T11:00:00+01:00", "metadata": {"a": 1}}));
        assert!(conflicts(&V1_SCHEMA, &base, &same_instant, MetadataMode::Replace).is_empty());
        let other_key =
            record(json!({"verified_at": "2026-01-01T10:00:00Z", "metadata": {"a": 1, "b": 2}}));
        assert_eq!(
            conflicts(&V1_SCHEMA, &base, &other_key, MetadataMode::Replace),
            ["metadata"]
        );
    }
}
