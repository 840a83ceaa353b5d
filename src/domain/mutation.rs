//! A write as a plain value: field changes for one referral (with the values they replace), or a
//! backend action on a set of referrals. Every change the console makes is one of these, and what
//! became of it is an `Outcome`. `decide` is the pure rule that settles a write whose answer was lost
//! by comparing a fresh copy of the referral with what the write replaced and what it wanted.

use serde_json::{Map, Value};

use super::conflict::{conflicts, values_like};
use super::diff::{ChangeSet, FieldChange};
use super::metadata_mode::MetadataMode;
use super::record::{Record, value_text};
use super::schema::Schema;
use crate::api::{ApiError, BatchAction};

#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    Fields(FieldWrite),
    Action(ActionWrite),
}

/// A PUT of changed fields to one referral.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWrite {
    pub id: String,
    pub changes: ChangeSet,
    /// The touched fields (schema keys) as loaded: what the conflict guard compares the server's
    /// copy with, and what an undo restores.
    pub base: Map<String, Value>,
    /// Refuse (a conflict) when the server's values differ from `base`; off for "keep mine".
    pub guard: bool,
}

/// A backend state action on referrals (FirstPromoter's approve, disable, enable, move).
#[derive(Debug, Clone, PartialEq)]
pub struct ActionWrite {
    pub action: BatchAction,
    pub ids: Vec<String>,
    /// Why, for the journal (the backend cannot store it).
    pub reason: Option<String>,
    /// The field the action changes (state, or the promoter campaign for a move).
    pub watched: &'static str,
    /// Each referral's `watched` value before the action, by id.
    pub before: Map<String, Value>,
    /// Other fields the conflict guard checks, as each referral held them when it was loaded (id
    /// -> {field: value}): a state action also stops when the promoter campaign moved, and a move
    /// when the state changed. Empty: `watched` alone is checked.
    pub held: Map<String, Value>,
    /// The action that puts these referrals back, when the backend has one.
    pub inverse: Option<BatchAction>,
}

impl Mutation {
    /// The referrals it touches.
    pub fn ids(&self) -> Vec<String> {
        match self {
            Mutation::Fields(write) => vec![write.id.clone()],
            Mutation::Action(action) => action.ids.clone(),
        }
    }

    /// "ref_1" or "12 referrals", for messages.
    pub fn describe(&self) -> String {
        match self.ids().as_slice() {
            [one] => one.clone(),
            many => format!("{} referrals", many.len()),
        }
    }

    /// "ref_1 · status converted → verified" or "approve of 5035": the change, for messages.
    pub fn label(&self) -> String {
        match self {
            Mutation::Fields(write) => format!("{} · {}", write.id, write.changes.summary()),
            Mutation::Action(action) => format!("{} of {}", action.action.path(), self.describe()),
        }
    }

    /// The same write with its "now" fields set to `sent`, the moment it goes out.
    pub fn stamped(&self, schema: &Schema, sent: &str) -> Mutation {
        let mut stamped = self.clone();
        if let Mutation::Fields(write) = &mut stamped {
            write.changes.stamp(schema, sent);
        }
        stamped
    }

    /// "status converted → verified" or "approve", for the status bar.
    pub fn summary(&self) -> String {
        match self {
            Mutation::Fields(write) => write.changes.summary(),
            Mutation::Action(action) => action.action.path().to_string(),
        }
    }
}

impl FieldWrite {
    /// A journaled write as the guarded write it was: the referral, the body sent, the values it
    /// replaced.
    pub fn from_journal(
        ids: &[String],
        body: &Value,
        before: &Map<String, Value>,
    ) -> Option<FieldWrite> {
        Some(FieldWrite {
            id: ids.first()?.clone(),
            changes: ChangeSet {
                changes: Vec::new(),
                body: body.as_object()?.clone(),
                at_send: Vec::new(),
            },
            base: before.clone(),
            guard: true,
        })
    }

    /// A value this write would replace that could not be read from `record`: writing over it
    /// could lose what the server holds, so such a write is not made.
    pub fn overwrites_unreadable<'a>(
        &self,
        schema: &Schema,
        record: &'a Record,
    ) -> Option<&'a crate::domain::record::Unreadable> {
        schema
            .fields
            .iter()
            .filter(|spec| self.changes.body.contains_key(spec.body_key()))
            .find_map(|spec| record.unreadable_under(spec.key).next())
    }

    /// The values (schema keys) the server holds once this write is applied, shaped like `base`.
    pub fn wanted(&self, schema: &Schema) -> Map<String, Value> {
        schema
            .fields
            .iter()
            .filter_map(|spec| {
                let sent = self.changes.body.get(spec.body_key())?;
                Some((spec.key.to_string(), sent.clone()))
            })
            .collect()
    }

    /// The write that puts back what this one replaced, given what it left (`after`). Guarded, so an
    /// undo never overwrites a change someone made since.
    pub fn inverse(&self, schema: &Schema, after: &Map<String, Value>) -> FieldWrite {
        let mut changes = ChangeSet::default();
        for (key, before) in &self.base {
            let Some(spec) = schema.field(key) else {
                continue;
            };
            let now = after.get(key).unwrap_or(&Value::Null);
            changes
                .changes
                .extend(reverted(key, spec.label, now, before));
            let restored = match before {
                Value::Null if spec.blank_is_empty_string => Value::String(String::new()),
                value => value.clone(),
            };
            changes.body.insert(spec.body_key().to_string(), restored);
        }
        FieldWrite {
            id: self.id.clone(),
            changes,
            base: after.clone(),
            guard: true,
        }
    }
}

impl ActionWrite {
    /// The guarded fields that `fresh` no longer holds as they were loaded: `watched`, and those
    /// in `held`. Empty: the action may go.
    pub fn changed_since_loaded(&self, fresh: &Record) -> Vec<String> {
        let mut changed = Vec::new();
        if self.before.get(&fresh.id) != Some(&fresh.get(self.watched)) {
            changed.push(self.watched.to_string());
        }
        if let Some(Value::Object(held)) = self.held.get(&fresh.id) {
            let moved = held
                .iter()
                .filter(|(field, value)| fresh.get(field) != **value);
            changed.extend(moved.map(|(field, _)| field.clone()));
        }
        changed
    }

    /// The action that puts back the referrals in `applied`, when the backend has one; `records`
    /// are fresh copies after this action, the base its guard compares with.
    pub fn inverse_for(&self, applied: &[String], records: &[Record]) -> Option<ActionWrite> {
        let action = self.inverse?;
        let applied_ids: std::collections::HashSet<&str> =
            applied.iter().map(String::as_str).collect();
        let before: Map<String, Value> = records
            .iter()
            .filter(|r| applied_ids.contains(r.id.as_str()))
            .map(|r| (r.id.clone(), r.get(self.watched).clone()))
            .collect();
        (!applied.is_empty()).then(|| ActionWrite {
            action,
            ids: applied.to_vec(),
            reason: None,
            watched: self.watched,
            before,
            held: Map::new(),
            inverse: None,
        })
    }
}

/// How an undone field reads in the status bar: per key for an object (metadata), whole otherwise.
fn reverted(key: &str, label: &str, from: &Value, to: &Value) -> Vec<FieldChange> {
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(v) => value_text(v),
    };
    match (from, to) {
        (Value::Object(from), Value::Object(to)) => {
            let keys = to
                .keys()
                .chain(from.keys().filter(|k| !to.contains_key(*k)));
            keys.filter(|k| from.get(*k) != to.get(*k))
                .map(|k| FieldChange {
                    key: format!("{key}.{k}"),
                    label: format!("{label} · {k}"),
                    before: text(from.get(k)),
                    after: text(to.get(k)),
                })
                .collect()
        }
        _ => vec![FieldChange {
            key: key.to_string(),
            label: label.to_string(),
            before: text(Some(from)),
            after: text(Some(to)),
        }],
    }
}

/// What became of a write, decided from the server's answer or, when the answer was lost, from a
/// fresh copy of the referral. Never guessed.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server holds the intended values. `records` are fresh copies of what was touched.
    Applied {
        records: Vec<Record>,
        /// How it was known, when not from the answer itself ("re-read after the answer was lost").
        note: Option<String>,
    },
    /// An action that changed some referrals and not others.
    Partly {
        records: Vec<Record>,
        applied: Vec<String>,
        failed: Vec<String>,
        /// Left out before sending: someone else changed them since they were loaded.
        conflicted: Vec<String>,
        message: String,
    },
    /// The server refused the values (400/422): field errors go under their fields.
    Refused(ApiError),
    /// Someone else changed a touched field first; nothing was sent (or what was found is neither
    /// the old values nor ours).
    Conflict { theirs: Record, fields: Vec<String> },
    /// Nothing was applied; safe to send again.
    Failed { message: String },
    /// No readable answer and the re-read failed too: the journal keeps it for later.
    Unknown { message: String },
}

impl Outcome {
    /// Whether the server holds at least some of what the write meant.
    pub fn landed(&self) -> bool {
        match self {
            Outcome::Applied { .. } => true,
            Outcome::Partly { applied, .. } => !applied.is_empty(),
            _ => false,
        }
    }

    /// The journal's word for it.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Partly { applied, .. } if applied.is_empty() => "failed",
            Outcome::Applied { .. } | Outcome::Partly { .. } => "applied",
            Outcome::Refused(_) => "refused",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Failed { .. } => "failed",
            Outcome::Unknown { .. } => "unknown",
        }
    }
}

/// What a fresh copy of the referral says about a field write whose answer was lost.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// It shows the values the write wanted.
    Applied,
    /// It still shows the values the write replaced.
    NotApplied,
    /// It shows something else: someone else wrote these fields.
    Other(Vec<String>),
}

/// Reads a fresh copy against what `write` replaced and wanted.
pub fn decide(schema: &Schema, mode: MetadataMode, write: &FieldWrite, fresh: &Record) -> Reading {
    let wanted = write.wanted(schema);
    if conflicts(schema, &wanted, fresh, mode).is_empty() {
        return Reading::Applied;
    }
    let differing = conflicts(schema, &write.base, fresh, mode);
    if differing.is_empty() {
        Reading::NotApplied
    } else {
        Reading::Other(differing)
    }
}

/// The touched fields as `record` holds them, shaped like the write's base.
pub fn after_of(
    schema: &Schema,
    write: &FieldWrite,
    record: &Record,
    mode: MetadataMode,
) -> Map<String, Value> {
    values_like(schema, &write.base, record, mode)
}

/// What to do with the answer to a field write's PUT.
#[derive(Debug, Clone, PartialEq)]
pub enum AfterAnswer {
    Done(Outcome),
    /// The answer does not say whether the write landed: re-read the referral and `settle`.
    Reread,
}

/// Whether an error leaves a write's fate open: the request may have reached the server and its
/// answer was lost or unreadable, or the server failed in a way that may have left it applied.
pub fn fate_unknown(error: &ApiError) -> bool {
    match error {
        ApiError::Server { .. } => true,
        ApiError::Refused { status, .. } => matches!(status, 409 | 412),
        other => other.outcome_unknown(),
    }
}

/// Decides a field write from its PUT's answer, when the answer is enough.
pub fn after_answer(answer: Result<Record, ApiError>) -> AfterAnswer {
    match answer {
        Ok(record) => AfterAnswer::Done(Outcome::Applied {
            records: vec![record],
            note: None,
        }),
        Err(error) if fate_unknown(&error) => AfterAnswer::Reread,
        Err(error @ ApiError::Invalid { .. }) => AfterAnswer::Done(Outcome::Refused(error)),
        Err(error) => AfterAnswer::Done(Outcome::Failed {
            message: error.user_message(),
        }),
    }
}

/// Decides a field write whose fate was left open (`why`: its answer was lost, or the console
/// stopped before it came) from a fresh copy of the referral: applied, not applied (safe to send
/// again), someone else's values, or still unknown.
pub fn settle(
    schema: &Schema,
    mode: MetadataMode,
    write: &FieldWrite,
    why: &str,
    fresh: Result<Record, ApiError>,
) -> Outcome {
    let fresh = match fresh {
        Ok(fresh) => fresh,
        Err(error) => {
            return Outcome::Unknown {
                message: format!("{why}, and re-reading it failed too ({error})"),
            };
        }
    };
    match decide(schema, mode, write, &fresh) {
        Reading::Applied => Outcome::Applied {
            records: vec![fresh],
            note: Some(format!("confirmed by re-reading it after {why}")),
        },
        Reading::NotApplied => Outcome::Failed {
            message: format!(
                "{why}; re-reading shows the change did not land, so it is safe to send again"
            ),
        },
        Reading::Other(fields) => Outcome::Conflict {
            theirs: fresh,
            fields,
        },
    }
}

/// Why a write's fate was open, in words for the status bar.
pub fn lost_answer(cause: &ApiError) -> String {
    match cause {
        ApiError::Transport { message, .. } => format!("the answer was lost ({message})"),
        ApiError::Decode { message, .. } => format!("the answer could not be read ({message})"),
        ApiError::BrokenOff { message, .. } => format!("the answer broke off ({message})"),
        ApiError::Server { status, message } => {
            format!("the server failed (HTTP {status}: {message})")
        }
        ApiError::Refused { status, message } => {
            format!("the server reported a conflict (HTTP {status}: {message})")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::diff::diff;
    use crate::domain::schema::V1_SCHEMA;
    use serde_json::json;

    fn record(v: Value) -> Record {
        Record::sample(v)
    }

    fn verify_write(mode: MetadataMode) -> (FieldWrite, Record) {
        let loaded = record(json!({"status": "converted", "verified_at": null,
            "metadata": {"source": "flyer"}}));
        let wanted = json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z",
            "metadata": {"source": "flyer", "verified_by": "admin_1"}});
        let changes = diff(&V1_SCHEMA, &loaded, wanted.as_object().unwrap(), mode);
        let base = crate::domain::conflict::base_of(&V1_SCHEMA, &loaded, &changes.body, mode);
        let write = FieldWrite {
            id: "ref_1".into(),
            changes,
            base,
            guard: true,
        };
        (write, loaded)
    }

    /// Why a write's fate was open keeps what the server said, so the row's error shows it.
    #[test]
    fn a_lost_answer_keeps_the_servers_words() {
        let server = ApiError::Server {
            status: 500,
            message: "Internal Server Error: Injected failure (chaos)".into(),
        };
        assert_eq!(
            lost_answer(&server),
            "the server failed (HTTP 500: Internal Server Error: Injected failure (chaos))"
        );
        let conflict = ApiError::Refused {
            status: 409,
            message: "Conflict: stale".into(),
        };
        assert!(lost_answer(&conflict).ends_with("(HTTP 409: Conflict: stale)"));
    }

    #[test]
    fn a_lost_answer_is_decided_by_what_the_server_shows() {
        for mode in [MetadataMode::Merge, MetadataMode::Replace] {
            let (write, loaded) = verify_write(mode);
            let applied = record(json!({"status": "verified",
                "verified_at": "2026-11-21T11:00:00+01:00",
                "metadata": {"source": "flyer", "verified_by": "admin_1"}}));
            assert_eq!(
                decide(&V1_SCHEMA, mode, &write, &applied),
                Reading::Applied,
                "{mode:?}"
            );
            assert_eq!(
                decide(&V1_SCHEMA, mode, &write, &loaded),
                Reading::NotApplied,
                "{mode:?}"
            );
            let someone_else = record(json!({"status": "rejected", "verified_at": null,
                "metadata": {"source": "flyer"}}));
            assert_eq!(
                decide(&V1_SCHEMA, mode, &write, &someone_else),
                Reading::Other(vec!["status".into()]),
                "{mode:?}"
            );
        }
    }

    #[test]
    fn the_inverse_restores_the_base_and_guards_on_what_was_left() {
        let (write, _) = verify_write(MetadataMode::Merge);
        let after = json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z",
            "metadata": {"verified_by": "admin_1"}});
        let undo = write.inverse(&V1_SCHEMA, after.as_object().unwrap());
        assert_eq!(
            Value::Object(undo.changes.body.clone()),
            json!({"status": "converted", "verified_at": null, "metadata": {"verified_by": null}})
        );
        assert_eq!(Value::Object(undo.base.clone()), after);
        let lines: Vec<String> = undo
            .changes
            .changes
            .iter()
            .map(|c| format!("{} {} → {}", c.key, c.before, c.after))
            .collect();
        assert!(
            lines.contains(&"metadata.verified_by admin_1 → (none)".to_string()),
            "{lines:?}"
        );
    }

    #[test]
    fn undoing_a_v2_text_field_that_was_empty_sends_an_empty_string() {
        use crate::domain::schema::V2_SCHEMA;
        let write = FieldWrite {
            id: "5001".into(),
            changes: ChangeSet::default(),
            base: json!({"username": null}).as_object().unwrap().clone(),
            guard: true,
        };
        let after = json!({"username": "ada"});
        let undo = write.inverse(&V2_SCHEMA, after.as_object().unwrap());
        assert_eq!(undo.changes.body["username"], json!(""));
    }

    fn transport() -> ApiError {
        ApiError::Transport {
            endpoint: "PUT /referrals/ref_1".into(),
            message: "the request timed out".into(),
            sent: true,
        }
    }

    /// One row per kind of answer to a PUT: decided at once, or only after re-reading.
    #[test]
    fn each_answer_is_decided_or_sent_to_a_reread() {
        let saved = record(json!({"status": "verified"}));
        let invalid = ApiError::Invalid {
            status: 422,
            message: "Email is taken".into(),
            fields: vec![("email".into(), "is taken".into())],
        };
        let table: Vec<(&str, Result<Record, ApiError>, Option<&str>)> = vec![
            ("200", Ok(saved), Some("applied")),
            ("4xx field error", Err(invalid), Some("refused")),
            (
                "429 after waiting",
                Err(ApiError::RateLimited { retry_after: None }),
                Some("failed"),
            ),
            (
                "401",
                Err(ApiError::Unauthorized {
                    message: "no".into(),
                }),
                Some("failed"),
            ),
            (
                "404",
                Err(ApiError::NotFound {
                    endpoint: "x".into(),
                    message: "gone".into(),
                }),
                Some("failed"),
            ),
            (
                "409",
                Err(ApiError::Refused {
                    status: 409,
                    message: "conflict".into(),
                }),
                None,
            ),
            (
                "412",
                Err(ApiError::Refused {
                    status: 412,
                    message: "precondition".into(),
                }),
                None,
            ),
            (
                "5xx",
                Err(ApiError::Server {
                    status: 500,
                    message: "boom".into(),
                }),
                None,
            ),
            ("timeout", Err(transport()), None),
            (
                "connection refused: nothing was sent",
                Err(ApiError::Transport {
                    endpoint: "x".into(),
                    message: "connection refused".into(),
                    sent: false,
                }),
                Some("failed"),
            ),
            (
                "undecodable 200",
                Err(ApiError::Decode {
                    endpoint: "x".into(),
                    message: "HTML".into(),
                    status: 200,
                }),
                None,
            ),
        ];
        for (name, answer, expected) in table {
            let got = match after_answer(answer) {
                AfterAnswer::Done(outcome) => Some(outcome.word()),
                AfterAnswer::Reread => None,
            };
            assert_eq!(got, expected, "{name}");
        }
    }

    /// One row per re-read: the write landed, did not, someone else wrote, or the re-read failed.
    #[test]
    fn a_reread_settles_the_write() {
        let (write, loaded) = verify_write(MetadataMode::Merge);
        let landed = record(
            json!({"status": "verified", "verified_at": "2026-11-21T10:00:00Z",
            "metadata": {"source": "flyer", "verified_by": "admin_1"}}),
        );
        let theirs = record(json!({"status": "rejected", "verified_at": null, "metadata": {}}));
        let table: Vec<(&str, Result<Record, ApiError>, &str)> = vec![
            ("timeout then applied", Ok(landed), "applied"),
            ("timeout then not applied", Ok(loaded), "failed"),
            ("someone else", Ok(theirs), "conflict"),
            ("re-read failed", Err(transport()), "unknown"),
        ];
        for (name, fresh, expected) in table {
            let why = lost_answer(&transport());
            let outcome = settle(&V1_SCHEMA, MetadataMode::Merge, &write, &why, fresh);
            assert_eq!(outcome.word(), expected, "{name}: {outcome:?}");
            if let Outcome::Applied { note, .. } = &outcome {
                assert!(
                    note.as_deref().unwrap_or("").contains("re-reading"),
                    "{note:?}"
                );
            }
        }
    }
}
