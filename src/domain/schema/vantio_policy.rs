//! The status keys on Referral API v1: each is a PUT of `status` and its companion fields, following
//! the vendor's practice of stamping `verified_at`, `metadata.verified_by` and
//! `metadata.rejection_reason`.

use serde_json::{Map, Value};

use crate::domain::conflict::base_of;
use crate::domain::diff::diff;
use crate::domain::mutation::{FieldWrite, Mutation};
use crate::domain::policy::{Plan, PlanContext, Policy, QuickKey, Tone};
use crate::domain::record::{Record, value_text};
use crate::domain::validate::check_value;

#[derive(Debug)]
pub struct VantioPolicy;

/// The status word a key sets.
fn status_word(key: QuickKey) -> &'static str {
    match key {
        QuickKey::Verify => "verified",
        QuickKey::Convert => "converted",
        QuickKey::Pending => "pending",
        QuickKey::Reject => "rejected",
    }
}

/// The field values `key` wants for `record`, to be diffed and checked like a form.
pub fn quick_values(
    record: &Record,
    key: QuickKey,
    reason: Option<&str>,
    admin_id: Option<&str>,
    now: &str,
) -> Result<Map<String, Value>, String> {
    status_values(record, record, status_word(key), reason, admin_id, now)
}

/// Status `to` and the companion fields that go with it, so nothing contradicts it: verifying
/// stamps `verified_at` (unless set) and `metadata.verified_by`; rejecting stores the reason;
/// leaving `verified` clears both, leaving `rejected` clears the reason. `loaded` is the record as
/// the server has it (its status is the one being left); `seen` is it with the form's edits.
fn status_values(
    loaded: &Record,
    seen: &Record,
    to: &str,
    reason: Option<&str>,
    admin_id: Option<&str>,
    now: &str,
) -> Result<Map<String, Value>, String> {
    let mut wanted = Map::new();
    wanted.insert("status".into(), Value::String(to.into()));
    let mut metadata = match seen.get("metadata") {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let from = loaded.text("status");
    if from == "verified" && to != "verified" {
        wanted.insert("verified_at".into(), Value::Null);
        metadata.remove("verified_by");
    }
    if from == "rejected" && to != "rejected" {
        metadata.remove("rejection_reason");
    }
    match to {
        "verified" => {
            if seen.get("verified_at").is_null() {
                wanted.insert("verified_at".into(), Value::String(now.into()));
            }
            if let Some(admin) = admin_id {
                metadata.insert("verified_by".into(), Value::String(admin.into()));
            }
        }
        "rejected" => {
            let given = reason.map(str::trim).filter(|r| !r.is_empty());
            let kept = seen.text("metadata.rejection_reason");
            let reason = given.or((!kept.trim().is_empty()).then_some(&*kept));
            let Some(reason) = reason else {
                return Err("Type a reason: it is stored as metadata.rejection_reason.".into());
            };
            metadata.insert("rejection_reason".into(), Value::String(reason.into()));
        }
        _ => {}
    }
    wanted.insert("metadata".into(), Value::Object(metadata));
    Ok(wanted)
}

impl VantioPolicy {
    fn plan_one(
        &self,
        context: &PlanContext,
        record: &Record,
        key: QuickKey,
        reason: Option<&str>,
    ) -> Result<Option<FieldWrite>, String> {
        if record.text("status") == status_word(key) {
            // Already so: nothing is sent, so nobody's verified_by or reason is replaced.
            return Ok(None);
        }
        let now = context.clock.now_rfc3339();
        let wanted = quick_values(record, key, reason, context.admin_id, &now)?;
        for (field, value) in &wanted {
            let spec = context
                .schema
                .field(field)
                .ok_or_else(|| format!("`{field}` is not a field of this backend"))?;
            check_value(spec, value, context.clock).map_err(|e| format!("{}: {e}", spec.label))?;
        }
        let mut changes = diff(context.schema, record, &wanted, context.mode);
        if changes.is_empty() {
            return Ok(None);
        }
        changes.mark_now(context.schema, &now);
        let base = base_of(context.schema, record, &changes.body, context.mode);
        Ok(Some(FieldWrite {
            id: record.id.clone(),
            changes,
            base,
            guard: true,
        }))
    }
}

/// "already verified by admin_maria on 15 Jul 2026" when the record says who and when.
fn already(context: &PlanContext, record: &Record, key: QuickKey) -> String {
    let mut text = format!("already {}", status_word(key));
    if key == QuickKey::Verify {
        let by = record.text("metadata.verified_by");
        if !by.is_empty() {
            text.push_str(&format!(" by {by}"));
        }
        if let Ok(at) = record.text("verified_at").parse::<jiff::Timestamp>() {
            let day = at.to_zoned(context.clock.tz.clone()).strftime("%-d %b %Y");
            text.push_str(&format!(" on {day}"));
        }
    }
    text
}

impl Policy for VantioPolicy {
    fn plan(
        &self,
        context: &PlanContext,
        records: &[&Record],
        key: QuickKey,
        reason: Option<&str>,
    ) -> Result<Plan, String> {
        // Asking whether a rejection applies: any reason will do.
        let reason = match (key, reason) {
            (QuickKey::Reject, None) => Some("?"),
            _ => reason,
        };
        let mut plan = Plan::default();
        for record in records {
            match self.plan_one(context, record, key, reason)? {
                Some(write) => plan.mutations.push(Mutation::Fields(write)),
                None => plan
                    .skipped
                    .push((record.id.clone(), already(context, record, key))),
            }
        }
        Ok(plan)
    }

    fn status_words(&self) -> &'static [(&'static str, QuickKey)] {
        &[
            ("pending", QuickKey::Pending),
            ("converted", QuickKey::Convert),
            ("verified", QuickKey::Verify),
            ("rejected", QuickKey::Reject),
        ]
    }

    fn verb(&self, key: QuickKey) -> &'static str {
        match key {
            QuickKey::Verify => "Mark verified",
            QuickKey::Convert => "Mark converted",
            QuickKey::Pending => "Mark pending",
            QuickKey::Reject => "Reject",
        }
    }

    fn reason_note(&self) -> &'static str {
        "Reason, stored as metadata.rejection_reason:"
    }

    fn find_by(&self) -> &'static [&'static str] {
        &["id"]
    }

    fn companions(
        &self,
        context: &PlanContext,
        record: &Record,
        wanted: &mut Map<String, Value>,
    ) -> Result<(), (&'static str, String)> {
        let to = wanted.get("status").map(value_text).unwrap_or_default();
        if to.is_empty() || to == record.text("status") {
            return Ok(());
        }
        let mut seen = record.clone();
        for (k, v) in wanted.iter() {
            seen.insert(k, v.clone());
        }
        let now = context.clock.now_rfc3339();
        let companions = status_values(record, &seen, &to, None, context.admin_id, &now)
            .map_err(|_| {
                (
                    "metadata",
                    "Rejecting needs a reason: add \"rejection_reason\" here (x in the list asks for it)."
                        .to_string(),
                )
            })?;
        wanted.extend(companions);
        Ok(())
    }

    fn admin_note(&self) -> Option<&'static str> {
        Some(
            "No admin id is set, so metadata.verified_by stays empty: set admin_id in the profile or REFEREE_ADMIN_ID.",
        )
    }

    fn tone(&self, status: &str) -> Tone {
        match status {
            "pending" => Tone::Waiting,
            "converted" => Tone::Progressing,
            "verified" => Tone::Good,
            "rejected" => Tone::Refused,
            _ => Tone::Unknown,
        }
    }

    fn undoable(&self, _records: &[&Record], _key: QuickKey) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::V1_SCHEMA;
    use crate::domain::{Clock, MetadataMode};
    use jiff::tz::TimeZone;
    use serde_json::json;

    fn clock() -> Clock {
        Clock::fixed("2026-11-21T10:00:00Z".parse().unwrap(), TimeZone::UTC)
    }

    fn record(id: &str, status: &str, verified_at: Value) -> Record {
        let v =
            json!({"status": status, "verified_at": verified_at, "metadata": {"source": "flyer"}});
        Record::new(id, v.as_object().unwrap().clone())
    }

    fn plan(
        records: &[Record],
        key: QuickKey,
        reason: Option<&str>,
        admin: Option<&str>,
        mode: MetadataMode,
    ) -> Result<Plan, String> {
        let clock = clock();
        let context = PlanContext {
            schema: &V1_SCHEMA,
            admin_id: admin,
            clock: &clock,
            mode,
        };
        let refs: Vec<&Record> = records.iter().collect();
        VantioPolicy.plan(&context, &refs, key, reason)
    }

    fn body(plan: &Plan, at: usize) -> Value {
        match &plan.mutations[at] {
            Mutation::Fields(write) => Value::Object(write.changes.body.clone()),
            other => panic!("a field write, not {other:?}"),
        }
    }

    /// One row per rule: (starting status, key, reason, admin, expected body or None when skipped).
    #[test]
    fn each_key_on_each_status() {
        type Row<'a> = (
            &'a str,
            QuickKey,
            Option<&'a str>,
            Option<&'a str>,
            Option<Value>,
        );
        let table: &[Row] = &[
            (
                "converted",
                QuickKey::Verify,
                None,
                Some("admin_7"),
                Some(
                    json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z",
                         "metadata": {"verified_by": "admin_7"}}),
                ),
            ),
            (
                "converted",
                QuickKey::Verify,
                None,
                None,
                Some(json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z"})),
            ),
            (
                "pending",
                QuickKey::Convert,
                None,
                None,
                Some(json!({"status": "converted"})),
            ),
            ("converted", QuickKey::Convert, None, None, None),
            ("pending", QuickKey::Pending, None, None, None),
            (
                "verified",
                QuickKey::Pending,
                None,
                None,
                Some(json!({"status": "pending"})),
            ),
            (
                "pending",
                QuickKey::Reject,
                Some("duplicate"),
                None,
                Some(json!({"status": "rejected", "metadata": {"rejection_reason": "duplicate"}})),
            ),
        ];
        for (status, key, reason, admin, expected) in table {
            let records = [record("ref_1", status, Value::Null)];
            let plan = plan(&records, *key, *reason, *admin, MetadataMode::Merge).unwrap();
            match expected {
                Some(expected) => assert_eq!(&body(&plan, 0), expected, "{status} {key:?}"),
                None => {
                    assert!(plan.mutations.is_empty(), "{status} {key:?}");
                    assert_eq!(plan.skipped[0].0, "ref_1");
                }
            }
        }
    }

    #[test]
    fn an_already_verified_referral_keeps_who_verified_it() {
        let mut verified = record("ref_1", "verified", json!("2026-07-15T09:00:00Z"));
        verified.insert("metadata", json!({"verified_by": "admin_maria"}));
        let plan = plan(
            &[verified],
            QuickKey::Verify,
            None,
            Some("admin_7"),
            MetadataMode::Merge,
        )
        .unwrap();
        assert!(plan.mutations.is_empty(), "nothing is sent");
        assert_eq!(
            plan.skipped[0].1,
            "already verified by admin_maria on 15 Jul 2026"
        );
    }

    #[test]
    fn verify_keeps_an_existing_verified_at() {
        let records = [record("ref_1", "converted", json!("2026-01-02T03:04:05Z"))];
        let plan = plan(
            &records,
            QuickKey::Verify,
            None,
            None,
            MetadataMode::Replace,
        )
        .unwrap();
        assert_eq!(body(&plan, 0), json!({"status": "verified"}));
        let Mutation::Fields(write) = &plan.mutations[0] else {
            panic!("a field write")
        };
        assert!(
            write.changes.at_send.is_empty(),
            "a kept time is not re-stamped"
        );
    }

    #[test]
    fn a_stamped_verified_at_is_set_when_the_write_is_sent() {
        let records = [record("ref_1", "converted", Value::Null)];
        let plan = plan(&records, QuickKey::Verify, None, None, MetadataMode::Merge).unwrap();
        let sent = plan.mutations[0].stamped(&V1_SCHEMA, "2026-11-21T10:09:59Z");
        let Mutation::Fields(write) = sent else {
            panic!("a field write")
        };
        assert_eq!(
            write.changes.body["verified_at"],
            json!("2026-11-21T10:09:59Z")
        );
    }

    #[test]
    fn a_rejection_needs_a_reason_only_when_sent() {
        let records = [record("ref_1", "converted", Value::Null)];
        assert!(
            plan(
                &records,
                QuickKey::Reject,
                Some("  "),
                None,
                MetadataMode::Merge
            )
            .is_err()
        );
        let asking = plan(&records, QuickKey::Reject, None, None, MetadataMode::Merge).unwrap();
        assert_eq!(
            asking.mutations.len(),
            1,
            "asking whether it applies needs no reason"
        );
    }

    #[test]
    fn a_bulk_plan_writes_each_referral_that_changes_and_skips_the_rest() {
        let records = [
            record("ref_1", "converted", Value::Null),
            record("ref_2", "pending", Value::Null),
            record("ref_3", "converted", Value::Null),
        ];
        let plan = plan(&records, QuickKey::Convert, None, None, MetadataMode::Merge).unwrap();
        assert_eq!(plan.ids(), ["ref_2"]);
        assert_eq!(plan.skipped.len(), 2);
        assert_eq!(plan.skipped[0].1, "already converted");
    }

    /// One row per status left: the companion fields it clears (sent as null in merge mode).
    #[test]
    fn leaving_a_status_clears_its_companions() {
        let mut verified = record("ref_1", "verified", json!("2026-07-15T09:00:00Z"));
        verified.insert(
            "metadata",
            json!({"source": "flyer", "verified_by": "admin_maria"}),
        );
        let mut rejected = record("ref_2", "rejected", Value::Null);
        rejected.insert(
            "metadata",
            json!({"source": "flyer", "rejection_reason": "spam"}),
        );
        let table = [
            (
                verified.clone(),
                QuickKey::Pending,
                json!({"status": "pending", "verified_at": null, "metadata": {"verified_by": null}}),
            ),
            (
                verified,
                QuickKey::Convert,
                json!({"status": "converted", "verified_at": null, "metadata": {"verified_by": null}}),
            ),
            (
                rejected,
                QuickKey::Convert,
                json!({"status": "converted", "metadata": {"rejection_reason": null}}),
            ),
        ];
        for (record, key, expected) in table {
            let plan = plan(&[record], key, None, None, MetadataMode::Merge).unwrap();
            assert_eq!(body(&plan, 0), expected, "{key:?}");
        }
    }

    fn form_companions(
        record: &Record,
        wanted: Value,
        admin: Option<&str>,
    ) -> Result<Value, (&'static str, String)> {
        let clock = clock();
        let context = PlanContext {
            schema: &V1_SCHEMA,
            admin_id: admin,
            clock: &clock,
            mode: MetadataMode::Merge,
        };
        let mut wanted = wanted.as_object().unwrap().clone();
        VantioPolicy.companions(&context, record, &mut wanted)?;
        Ok(Value::Object(wanted))
    }

    #[test]
    fn the_forms_status_picker_brings_the_same_companions_as_the_keys() {
        let converted = record("ref_1", "converted", Value::Null);
        let picked = form_companions(
            &converted,
            json!({"status": "verified", "verified_at": null, "metadata": {"source": "flyer"}}),
            Some("admin_7"),
        )
        .unwrap();
        assert_eq!(picked["verified_at"], "2026-11-21T10:00:00Z");
        assert_eq!(picked["metadata"]["verified_by"], "admin_7");
        let typed = form_companions(
            &converted,
            json!({"status": "verified", "verified_at": "2026-01-01T00:00:00Z", "metadata": {}}),
            None,
        )
        .unwrap();
        assert_eq!(
            typed["verified_at"], "2026-01-01T00:00:00Z",
            "a typed time is kept"
        );
        let no_reason = form_companions(
            &converted,
            json!({"status": "rejected", "metadata": {}}),
            None,
        );
        assert_eq!(no_reason.unwrap_err().0, "metadata");
        let with_reason = form_companions(
            &converted,
            json!({"status": "rejected", "metadata": {"rejection_reason": "dup"}}),
            None,
        );
        assert!(with_reason.is_ok());
        let unchanged = json!({"status": "converted", "metadata": {}});
        assert_eq!(
            form_companions(&converted, unchanged.clone(), None).unwrap(),
            unchanged
        );
    }

    #[test]
    fn a_missing_admin_id_is_pointed_out() {
        assert!(
            VantioPolicy
                .admin_note()
                .unwrap()
                .contains("REFEREE_ADMIN_ID")
        );
    }
}
