//! Every PUT goes through here: the form's, the quick keys', bulk's, triage's and undo's. A write
//! carries its *base* (the touched fields as loaded) so the runner can refuse to overwrite someone
//! else's change, and a successful one leaves an undo entry.

use serde_json::{Map, Value};

use super::action::{Effect, RequestId};
use super::state::{Level, Overlay, Pending, State};
use super::{batch, bulk, triage};
use crate::api::{ApiError, BatchAction};
use crate::domain::Record;
use crate::domain::conflict::{base_of, values_like};
use crate::domain::diff::{ChangeSet, FieldChange, diff};
use crate::domain::quick::{QuickStatus, quick_values};
use crate::domain::validate::check_value;

/// After a form closes on a save, status keys wait this long before they act again.
const TYPE_AHEAD_GUARD: jiff::SignedDuration = jiff::SignedDuration::from_millis(700);

/// Who asked for a write, which decides where its answer is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Form,
    Quick,
    Bulk,
    Triage,
    Undo,
}

/// A write in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub changes: ChangeSet,
    /// The touched fields as they were when loaded (see `domain::conflict`).
    pub base: Map<String, Value>,
    pub origin: Origin,
    /// The undo entry this write reverts; it goes back on the stack if the write does not land.
    pub reverts: Option<UndoEntry>,
}

/// A change that reached the server and can be reverted.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoEntry {
    /// A PUT: the touched fields before and after.
    Fields {
        id: String,
        before: Map<String, Value>,
        after: Map<String, Value>,
    },
    /// A batch state action, undone by its inverse action.
    Batch {
        ids: Vec<String>,
        inverse: BatchAction,
    },
}

impl UndoEntry {
    /// The referral an undo brings back (the first, for a batch).
    pub fn first_id(&self) -> Option<&str> {
        match self {
            UndoEntry::Fields { id, .. } => Some(id),
            UndoEntry::Batch { ids, .. } => ids.first().map(String::as_str),
        }
    }
}

/// One conflicting field for the dialog: what it was, what the server has now, what was wanted.
#[derive(Debug, Clone, PartialEq)]
pub struct Clash {
    /// The field's schema key.
    pub key: String,
    pub label: String,
    pub base: Value,
    pub theirs: Value,
    pub mine: Value,
}

/// Sends `changes` to `id`, guarded against other writers unless `guard` is off ("keep mine").
pub fn send(
    state: &mut State,
    id: &str,
    changes: ChangeSet,
    origin: Origin,
    guard: bool,
) -> Vec<Effect> {
    let Some(record) = state.record(id) else {
        state.say(
            Level::Error,
            format!("{id} is no longer in the list; press r to reload."),
        );
        return Vec::new();
    };
    let base = base_of(
        state.schema,
        record,
        &changes.body,
        state.session.metadata_mode,
    );
    send_with_base(state, id, changes, base, origin, guard, None)
}

fn send_with_base(
    state: &mut State,
    id: &str,
    changes: ChangeSet,
    base: Map<String, Value>,
    origin: Origin,
    guard: bool,
    reverts: Option<UndoEntry>,
) -> Vec<Effect> {
    let body = changes.body.clone();
    let job = Job {
        id: id.to_string(),
        changes,
        reverts,
        base: base.clone(),
        origin,
    };
    let req = state.request(Pending::Save(Box::new(job)));
    if origin == Origin::Form
        && let Some(form) = state.form.as_mut()
    {
        form.saving = Some(req);
    }
    vec![Effect::Update {
        req,
        id: id.to_string(),
        body,
        base,
        guard,
        undo: origin == Origin::Undo,
    }]
}

/// The values a quick decision wants, checked like typed ones and diffed against the record.
pub fn quick_changes(state: &State, id: &str, decision: &QuickStatus) -> Result<ChangeSet, String> {
    let record = state
        .record(id)
        .ok_or_else(|| format!("{id} is no longer in the list."))?;
    let wanted = quick_values(
        record,
        decision,
        state.session.admin_id.as_deref(),
        &state.clock,
    )?;
    for (key, value) in &wanted {
        let spec = state
            .schema
            .field(key)
            .ok_or_else(|| format!("`{key}` is not a field of this backend"))?;
        check_value(spec, value, &state.clock).map_err(|e| format!("{}: {e}", spec.label))?;
    }
    Ok(diff(
        state.schema,
        record,
        &wanted,
        state.session.metadata_mode,
    ))
}

/// A quick key on one referral: checked, diffed and sent like the form.
pub fn quick(state: &mut State, id: &str, decision: &QuickStatus) -> Result<Vec<Effect>, String> {
    let changes = quick_changes(state, id, decision)?;
    if changes.is_empty() {
        state.say(
            Level::Info,
            format!("{id} is already {}: nothing to send.", decision.word()),
        );
        return Ok(Vec::new());
    }
    state.say(Level::Info, format!("Marking {id} {}…", decision.word()));
    Ok(send(state, id, changes, Origin::Quick, true))
}

/// What a finished write means for a row, for bulk and triage.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    Failed(String),
    /// Someone else changed a touched field first; nothing was sent.
    Conflict,
}

pub fn saved(state: &mut State, req: RequestId, result: Result<Record, ApiError>) -> Vec<Effect> {
    let Some(Pending::Save(job)) = state.pending.remove(&req) else {
        return Vec::new();
    };
    let outcome = match &result {
        Ok(_) => Outcome::Done,
        Err(error) => Outcome::Failed(error.user_message()),
    };
    match result {
        Ok(record) => {
            if job.origin != Origin::Undo {
                let after = values_like(
                    state.schema,
                    &job.base,
                    &record,
                    state.session.metadata_mode,
                );
                state.undo.push(UndoEntry::Fields {
                    id: job.id.clone(),
                    before: job.base.clone(),
                    after,
                });
            }
            state.replace_records(vec![record]);
            if state.form.as_ref().is_some_and(|f| f.saving == Some(req)) {
                state.form = None;
                // Keys typed ahead for the form must not become status changes in the list.
                state.keys_settle_at = Some(state.clock.now + TYPE_AHEAD_GUARD);
            }
            let verb = if job.origin == Origin::Undo {
                "Undid"
            } else {
                "Saved"
            };
            state.say(
                Level::Success,
                format!("{verb} {} · {}", job.id, job.changes.summary()),
            );
        }
        Err(error) => {
            if let Some(entry) = job.reverts.clone() {
                state.undo.push(entry);
            }
            refused(state, req, &job, error)
        }
    }
    after_outcome(state, &job, outcome)
}

fn refused(state: &mut State, req: RequestId, job: &Job, error: ApiError) {
    let Some(form) = state.form.as_mut().filter(|f| f.saving == Some(req)) else {
        state.say(
            Level::Error,
            format!("{} not saved. {}", job.id, error.user_message()),
        );
        return;
    };
    form.saving = None;
    let ApiError::Invalid {
        message, fields, ..
    } = &error
    else {
        state.say(Level::Error, error.user_message());
        return;
    };
    let placed = fields
        .iter()
        .filter(|(key, text)| form.place_error(key, text))
        .count();
    if placed == 0 {
        form.top_error = Some(message.clone());
    }
    if let Some(index) = form.fields.iter().position(|f| f.error.is_some()) {
        form.focus = index;
    }
    state.say(
        Level::Error,
        "The server refused the change: see the form. Nothing was lost.",
    );
}

fn after_outcome(state: &mut State, job: &Job, outcome: Outcome) -> Vec<Effect> {
    match job.origin {
        Origin::Bulk => bulk::finished(state, &job.id, outcome),
        Origin::Triage => {
            triage::finished(state, &job.id, outcome);
            Vec::new()
        }
        Origin::Form | Origin::Quick | Origin::Undo => Vec::new(),
    }
}

/// The guard found that someone else changed a touched field: nothing was sent.
pub fn conflicted(
    state: &mut State,
    req: RequestId,
    theirs: Record,
    fields: Vec<String>,
) -> Vec<Effect> {
    let Some(Pending::Save(job)) = state.pending.remove(&req) else {
        return Vec::new();
    };
    if let Some(entry) = job.reverts.clone() {
        state.undo.push(entry);
    }
    let clashes: Vec<Clash> = fields
        .iter()
        .filter_map(|key| {
            let spec = state.schema.field(key)?;
            Some(Clash {
                key: key.clone(),
                label: spec.label.to_string(),
                base: job.base.get(key).cloned().unwrap_or(Value::Null),
                theirs: theirs.get(key).clone(),
                mine: job
                    .changes
                    .body
                    .get(spec.body_key())
                    .cloned()
                    .unwrap_or(Value::Null),
            })
        })
        .collect();
    state.replace_records(vec![theirs]);
    let names: Vec<&str> = clashes.iter().map(|c| c.label.as_str()).collect();
    let note = format!(
        "{} was changed by someone else since it was loaded ({}).",
        job.id,
        names.join(", ")
    );
    match job.origin {
        Origin::Form => {
            if let Some(form) = state.form.as_mut() {
                form.saving = None;
            }
            state.overlay = Some(Overlay::Conflict {
                changes: job.changes.clone(),
                clashes,
            });
            state.say(Level::Error, format!("{note} Nothing was sent."));
        }
        Origin::Quick | Origin::Undo => state.say(
            Level::Error,
            format!("{note} Nothing was sent; look and decide again."),
        ),
        Origin::Bulk | Origin::Triage => state.say(Level::Error, note),
    }
    after_outcome(state, &job, Outcome::Conflict)
}

/// `k` in the conflict dialog: send my values anyway, over theirs.
pub fn keep_mine(state: &mut State, changes: ChangeSet) -> Vec<Effect> {
    let Some(id) = state.form.as_ref().map(|f| f.record_id.clone()) else {
        return Vec::new();
    };
    state.say(
        Level::Info,
        format!("Sending your values over theirs for {id}…"),
    );
    send(state, &id, changes, Origin::Form, false)
}

/// How an undone field reads in the status bar: per key for an object (metadata), whole otherwise.
fn reverted(key: &str, label: &str, from: &Value, to: &Value) -> Vec<FieldChange> {
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => "(none)".to_string(),
        Some(v) => crate::domain::record::value_text(v),
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

/// `u`: revert the newest change that reached the server, through the same guard.
pub fn undo(state: &mut State) -> Vec<Effect> {
    match state.undo.pop() {
        None => {
            state.say(Level::Info, "Nothing to undo.");
            Vec::new()
        }
        Some(entry) => revert(state, entry),
    }
}

/// Sends what puts `entry` back.
pub fn revert(state: &mut State, entry: UndoEntry) -> Vec<Effect> {
    let (id, before, after) = match entry.clone() {
        UndoEntry::Batch { ids, inverse } => return batch::undo(state, inverse, ids),
        UndoEntry::Fields { id, before, after } => (id, before, after),
    };
    let mut changes = ChangeSet::default();
    for (key, before) in &before {
        let Some(spec) = state.schema.field(key) else {
            continue;
        };
        changes
            .changes
            .extend(reverted(key, spec.label, &after[key], before));
        changes
            .body
            .insert(spec.body_key().to_string(), before.clone());
    }
    state.say(Level::Info, format!("Undoing the last change to {id}…"));
    send_with_base(state, &id, changes, after, Origin::Undo, true, Some(entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_undone_object_is_described_key_by_key() {
        let from = json!({"source": "flyer", "verified_by": "admin_1"});
        let to = json!({"source": "flyer", "verified_by": null});
        let lines: Vec<String> = reverted("metadata", "Metadata", &from, &to)
            .iter()
            .map(|c| format!("{} {} → {}", c.key, c.before, c.after))
            .collect();
        assert_eq!(lines, ["metadata.verified_by admin_1 → (none)"]);
        let dropped = reverted(
            "metadata",
            "Metadata",
            &json!({"a": 1, "b": 2}),
            &json!({"a": 1}),
        );
        assert_eq!(
            (dropped[0].key.as_str(), dropped[0].after.as_str()),
            ("metadata.b", "(none)")
        );
        let plain = reverted("status", "Status", &json!("verified"), &json!("converted"));
        assert_eq!(
            (plain[0].before.as_str(), plain[0].after.as_str()),
            ("verified", "converted")
        );
    }
}
