//! The conflict dialog's content: each field someone else changed, as base → theirs │ mine, with a
//! metadata object taken apart into one row per key so it reads (and fits) like any other field.

use serde_json::{Map, Value};

use crate::domain::MetadataMode;
use crate::domain::record::value_text;

/// One conflicting field: what it was, what the server has now, what was wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct Clash {
    /// The field's schema key.
    pub key: String,
    pub label: String,
    pub base: Value,
    pub theirs: Value,
    pub mine: Value,
}

/// One line of the dialog, as text.
#[derive(Debug, Clone, PartialEq)]
pub struct ClashRow {
    pub label: String,
    pub base: String,
    pub theirs: String,
    pub mine: String,
}

impl Clash {
    /// The dialog's lines for this field. An object (metadata) gives one line per key that is not
    /// the same in all three: in merge mode the keys the write touches (a key it does not send keeps
    /// theirs); in replace mode every key, since the whole object is sent.
    pub fn rows(&self, mode: MetadataMode) -> Vec<ClashRow> {
        let (Value::Object(theirs), Value::Object(mine)) = (&self.theirs, &self.mine) else {
            return vec![self.row(self.label.clone(), &self.base, &self.theirs, &self.mine)];
        };
        let empty = Map::new();
        let base = self.base.as_object().unwrap_or(&empty);
        let mut keys: Vec<&String> = base.keys().chain(mine.keys()).collect();
        if mode == MetadataMode::Replace {
            keys.extend(theirs.keys());
        }
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter_map(|key| {
                let of = |object: &Map<String, Value>| object.get(key).cloned();
                let base_value = of(base).unwrap_or(Value::Null);
                let theirs_value = of(theirs).unwrap_or(Value::Null);
                let mine_value = match (of(mine), mode) {
                    (Some(value), _) => value,
                    (None, MetadataMode::Merge) => theirs_value.clone(),
                    (None, MetadataMode::Replace) => Value::Null,
                };
                let all_same = base_value == theirs_value && theirs_value == mine_value;
                (!all_same).then(|| {
                    let label = format!("{} · {key}", self.label);
                    self.row(label, &base_value, &theirs_value, &mine_value)
                })
            })
            .collect()
    }

    fn row(&self, label: String, base: &Value, theirs: &Value, mine: &Value) -> ClashRow {
        ClashRow {
            label,
            base: shown(base),
            theirs: shown(theirs),
            mine: shown(mine),
        }
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(none)".to_string(),
        value => value_text(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(base: Value, theirs: Value, mine: Value) -> Clash {
        Clash {
            key: "metadata".into(),
            label: "Metadata".into(),
            base,
            theirs,
            mine,
        }
    }

    fn texts(rows: &[ClashRow]) -> Vec<String> {
        rows.iter()
            .map(|r| format!("{}: {} → {} │ {}", r.label, r.base, r.theirs, r.mine))
            .collect()
    }

    #[test]
    fn a_plain_field_is_one_row() {
        let clash = Clash {
            key: "status".into(),
            label: "Status".into(),
            base: json!("converted"),
            theirs: json!("rejected"),
            mine: json!("verified"),
        };
        assert_eq!(
            texts(&clash.rows(MetadataMode::Merge)),
            ["Status: converted → rejected │ verified"]
        );
    }

    #[test]
    fn merge_shows_the_touched_keys_and_an_untouched_key_keeps_theirs() {
        // The write touched `source` (base holds only touched keys); they changed `source` and
        // added `note`, which a merge leaves alone.
        let clash = metadata(
            json!({"source": "flyer"}),
            json!({"source": "poster", "note": "call back", "location": "Library"}),
            json!({"source": "radio"}),
        );
        assert_eq!(
            texts(&clash.rows(MetadataMode::Merge)),
            ["Metadata · source: flyer → poster │ radio"]
        );
    }

    #[test]
    fn a_key_mine_removes_shows_as_none() {
        let clash = metadata(
            json!({"verified_by": "admin_7"}),
            json!({"verified_by": "admin_maria"}),
            json!({"verified_by": null}),
        );
        assert_eq!(
            texts(&clash.rows(MetadataMode::Merge)),
            ["Metadata · verified_by: admin_7 → admin_maria │ (none)"]
        );
    }

    #[test]
    fn replace_shows_every_key_that_differs_including_theirs_that_mine_drops() {
        let clash = metadata(
            json!({"source": "flyer", "location": "Library"}),
            json!({"source": "flyer", "location": "Hall", "note": "call back"}),
            json!({"source": "flyer", "location": "Annex"}),
        );
        assert_eq!(
            texts(&clash.rows(MetadataMode::Replace)),
            [
                "Metadata · location: Library → Hall │ Annex",
                "Metadata · note: (none) → call back │ (none)",
            ]
        );
    }
}
