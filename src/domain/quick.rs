//! Quick status decisions (`v`, `c`, `p`, `x`): the values each one wants, following the vendor's
//! practice of stamping `verified_at`, `metadata.verified_by` and `metadata.rejection_reason`.

use serde_json::{Map, Value};

use super::clock::Clock;
use super::record::Record;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuickStatus {
    Verified,
    Converted,
    Pending,
    /// Rejected with the reason the admin gave; it must not be empty.
    Rejected(String),
}

impl QuickStatus {
    pub fn word(&self) -> &'static str {
        match self {
            QuickStatus::Verified => "verified",
            QuickStatus::Converted => "converted",
            QuickStatus::Pending => "pending",
            QuickStatus::Rejected(_) => "rejected",
        }
    }
}

/// The field values a quick decision wants for `record`, to be diffed and checked like a form.
pub fn quick_values(
    record: &Record,
    decision: &QuickStatus,
    admin_id: Option<&str>,
    clock: &Clock,
) -> Result<Map<String, Value>, String> {
    let mut wanted = Map::new();
    wanted.insert("status".into(), Value::String(decision.word().into()));
    let mut metadata = match record.get("metadata") {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    match decision {
        QuickStatus::Verified => {
            if record.get("verified_at").is_null() {
                wanted.insert("verified_at".into(), Value::String(clock.now_rfc3339()));
            }
            if let Some(admin) = admin_id {
                metadata.insert("verified_by".into(), Value::String(admin.into()));
            }
        }
        QuickStatus::Rejected(reason) => {
            let reason = reason.trim();
            if reason.is_empty() {
                return Err("Type a reason: it is stored as metadata.rejection_reason.".into());
            }
            metadata.insert("rejection_reason".into(), Value::String(reason.into()));
        }
        QuickStatus::Converted | QuickStatus::Pending => {}
    }
    wanted.insert("metadata".into(), Value::Object(metadata));
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MetadataMode, diff::diff, schema::V1_SCHEMA};
    use jiff::tz::TimeZone;
    use serde_json::json;

    fn clock() -> Clock {
        Clock::fixed("2026-11-21T10:00:00Z".parse().unwrap(), TimeZone::UTC)
    }

    fn record(verified_at: Value) -> Record {
        let v = json!({"status": "converted", "verified_at": verified_at, "metadata": {"source": "flyer"}});
        Record {
            id: "ref_1".into(),
            values: v.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn verify_fills_verified_at_and_verified_by() {
        let r = record(Value::Null);
        let wanted = quick_values(&r, &QuickStatus::Verified, Some("admin_7"), &clock()).unwrap();
        let set = diff(&V1_SCHEMA, &r, &wanted, MetadataMode::Merge);
        assert_eq!(
            Value::Object(set.body),
            json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z",
                   "metadata": {"verified_by": "admin_7"}})
        );
    }

    #[test]
    fn verify_keeps_an_existing_verified_at_and_skips_verified_by_without_admin() {
        let r = record(json!("2026-01-02T03:04:05Z"));
        let wanted = quick_values(&r, &QuickStatus::Verified, None, &clock()).unwrap();
        let set = diff(&V1_SCHEMA, &r, &wanted, MetadataMode::Replace);
        assert_eq!(Value::Object(set.body), json!({"status": "verified"}));
    }

    #[test]
    fn reject_requires_a_reason_and_stores_it() {
        let r = record(Value::Null);
        assert!(quick_values(&r, &QuickStatus::Rejected("  ".into()), None, &clock()).is_err());
        let wanted = quick_values(
            &r,
            &QuickStatus::Rejected("duplicate".into()),
            None,
            &clock(),
        )
        .unwrap();
        let set = diff(&V1_SCHEMA, &r, &wanted, MetadataMode::Replace);
        assert_eq!(
            Value::Object(set.body),
            json!({"status": "rejected", "metadata": {"source": "flyer", "rejection_reason": "duplicate"}})
        );
    }
}
