//! One write from intent to outcome: journaled before it is sent, guarded against other writers,
//! sent, settled by re-reading when its answer was lost, and journaled again with what became of it.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{Answers, Context};
use crate::api::ApiError;
use crate::app::{Action, RequestId};
use crate::domain::Record;
use crate::domain::mutation::{
    ActionWrite, AfterAnswer, FieldWrite, Mutation, Outcome, Reading, after_answer, after_of,
    decide, lost_answer, settle,
};
use crate::store::journal::{Intent, Recorded, Verdict};

/// How long to wait between polls of a running batch.
const BATCH_POLL_INTERVAL: Duration = Duration::from_millis(400);
/// A batch still running after this long is reported as such, not waited for any more.
pub const BATCH_POLL_LIMIT: Duration = Duration::from_secs(120);

/// Journals, sends and decides one write. The second value, when there is one, says that the
/// outcome could not be recorded in the journal (it is kept in memory and tried again).
pub async fn mutate(
    context: &Context,
    req: RequestId,
    mutation: &Mutation,
    why: &str,
    group: Option<u64>,
    tx: &Answers,
) -> (Outcome, Option<String>) {
    let guarded = match mutation {
        Mutation::Fields(write) if write.guard => guard(context, write).await,
        _ => None,
    };
    if let Some(outcome) = guarded {
        // Decided by the guard: nothing was sent; the journal holds the write and why.
        let mutation = mutation.stamped(context.schema, &wire_now());
        let record = recorded_of(context, &mutation, &outcome);
        let intent = intent_of(context, &mutation, why, group);
        if let Err(error) = context.journal.record_event(&intent, &record) {
            tracing::error!(%error, "could not journal a write the guard stopped");
        }
        return (outcome, None);
    }
    let (outcome, journaled) = match mutation {
        Mutation::Fields(write) => put(context, write, why, group).await,
        Mutation::Action(action) => match journal_intent(context, mutation, why, group) {
            Ok(entry) => (
                run_action(context, req, action, tx).await,
                Some((mutation.clone(), entry)),
            ),
            Err(message) => (Outcome::Failed { message }, None),
        },
    };
    let Some((mutation, entry)) = journaled else {
        return (outcome, None);
    };
    let record = recorded_of(context, &mutation, &outcome);
    let unrecorded = record_outcome(context, entry, record).map(|error| {
        let what = if outcome.landed() {
            "reached the server but"
        } else {
            "was decided but its outcome"
        };
        format!(
            "{} {what} could not be recorded in the journal ({error}). referee keeps the record in memory and tries again with the next write.",
            mutation.label()
        )
    });
    (outcome, unrecorded)
}

/// The present second as the wire writes times.
fn wire_now() -> String {
    crate::domain::clock::to_wire(jiff::Timestamp::now())
}

/// Records a write in the journal before it is sent; a write the journal cannot record is not
/// sent, since an admin must be able to see what was done.
fn journal_intent(
    context: &Context,
    mutation: &Mutation,
    why: &str,
    group: Option<u64>,
) -> Result<i64, String> {
    let intent = intent_of(context, mutation, why, group);
    context.journal.record_intent(&intent).map_err(|error| {
        tracing::error!(%error, "could not journal a write; not sent");
        format!("the journal could not record it ({error})")
    })
}

/// Records an outcome in the journal, first retrying those that could not be recorded before;
/// one that cannot be recorded now is kept for the next try, and the error is returned.
fn record_outcome(context: &Context, entry: i64, record: Recorded) -> Option<String> {
    let mut waiting = context
        .unrecorded
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    waiting.push((entry, record));
    let mut last_error = None;
    waiting.retain(|(entry, record)| match context.journal.record_outcome(*entry, record) {
        Ok(()) => false,
        Err(error) => {
            tracing::error!(%error, entry, "could not journal a write's outcome; kept to retry");
            last_error = Some(error.to_string());
            true
        }
    });
    // Only this write's own failure is news: older ones were said when they happened.
    last_error.filter(|_| waiting.iter().any(|(kept, _)| *kept == entry))
}

/// The conflict guard: a fresh GET compared with the base. None when the write may go; else its
/// outcome, decided without sending anything.
async fn guard(context: &Context, write: &FieldWrite) -> Option<Outcome> {
    match fetch_one(context, &write.id).await {
        Ok(fresh) => match decide(context.schema, context.mode, write, &fresh) {
            Reading::NotApplied => None,
            // Our own earlier write (sent again after its answer was lost) is not someone else's
            // change: there is nothing left to send.
            Reading::Applied => Some(Outcome::Applied {
                records: vec![fresh],
                note: Some("the server already had these values".into()),
            }),
            Reading::Other(fields) => {
                tracing::warn!(id = %write.id, ?fields, "conflict: changed on the server since it was loaded; not sent");
                Some(Outcome::Conflict {
                    theirs: fresh,
                    fields,
                })
            }
        },
        Err(error) => Some(Outcome::Failed {
            message: format!("Nothing was sent. {}", error.user_message()),
        }),
    }
}

/// The PUT, and a re-read when the answer leaves the write's fate open. Its body is made when
/// the PUT may leave (after any wait for the rate limit): "now" is stamped with that second and
/// the write journaled as sent. Also returns the write as sent and its journal entry, unless it
/// never got that far.
async fn put(
    context: &Context,
    write: &FieldWrite,
    why: &str,
    group: Option<u64>,
) -> (Outcome, Option<(Mutation, i64)>) {
    let sending: Mutex<Option<(FieldWrite, i64)>> = Mutex::new(None);
    let body = || {
        let mut sending = sending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((sent, _)) = &*sending {
            // Sent again after a 429, which applied nothing: the same write goes.
            return Ok(sent.changes.body.clone());
        }
        let mut stamped = write.clone();
        stamped.changes.stamp(context.schema, &wire_now());
        let entry = journal_intent(context, &Mutation::Fields(stamped.clone()), why, group)?;
        let body = stamped.changes.body.clone();
        tracing::info!(id = %write.id, body = %serde_json::Value::Object(body.clone()), "PUT");
        *sending = Some((stamped, entry));
        Ok(body)
    };
    let answer = context.client.update_made(&write.id, &body).await;
    let Some((write, entry)) = sending
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
    else {
        // Never made, so never sent: the answer says why.
        let message = answer
            .err()
            .map_or_else(String::new, |error| error.user_message());
        return (Outcome::Failed { message }, None);
    };
    let journaled = Some((Mutation::Fields(write.clone()), entry));
    let cause = match after_answer(answer.clone()) {
        AfterAnswer::Done(outcome) => return (outcome, journaled),
        AfterAnswer::Reread => answer.expect_err("only an error leaves the fate open"),
    };
    tracing::warn!(id = %write.id, error = %cause, "the answer does not say whether the write landed; re-reading");
    let fresh = fetch_one(context, &write.id).await;
    let outcome = settle(
        context.schema,
        context.mode,
        &write,
        &lost_answer(&cause),
        fresh,
    );
    (outcome, journaled)
}

pub(super) async fn fetch_one(context: &Context, id: &str) -> Result<Record, ApiError> {
    let mut found = context.client.refresh(&[id.to_string()]).await?;
    match found.iter().position(|r| r.id == id) {
        Some(at) => Ok(found.swap_remove(at)),
        None => Err(ApiError::NotFound {
            endpoint: format!("GET /referrals/{id}"),
            message: "Referral not found".into(),
        }),
    }
}

/// A backend action, guarded: referrals someone else changed since they were loaded are left out
/// and reported as conflicts; the rest are sent.
async fn run_action(
    context: &Context,
    req: RequestId,
    write: &ActionWrite,
    tx: &Answers,
) -> Outcome {
    let client = &context.client;
    // The conflict guard: referrals whose guarded fields changed since they were loaded are left
    // out.
    let fresh = match client.refresh(&write.ids).await {
        Ok(fresh) => fresh,
        Err(error) => {
            return Outcome::Failed {
                message: format!("Nothing was sent. {}", error.user_message()),
            };
        }
    };
    let (unchanged, moved): (Vec<Record>, Vec<Record>) = fresh
        .into_iter()
        .partition(|r| write.changed_since_loaded(r).is_empty());
    if unchanged.is_empty() {
        let Some(theirs) = moved.into_iter().next() else {
            return Outcome::Failed {
                message: "Nothing was sent: none of these referrals is on the server any more."
                    .into(),
            };
        };
        let fields = write.changed_since_loaded(&theirs);
        return Outcome::Conflict { theirs, fields };
    }
    let mut acting = write.clone();
    acting.ids = unchanged.iter().map(|r| r.id.clone()).collect();
    acting.before.retain(|id, _| acting.ids.contains(id));
    let outcome = send_action(context, req, &acting, tx).await;
    with_left_out(outcome, &acting.ids, moved)
}

/// An action's outcome on the referrals it was sent for, with those the guard left out added.
fn with_left_out(outcome: Outcome, sent: &[String], moved: Vec<Record>) -> Outcome {
    if moved.is_empty() {
        return outcome;
    }
    let conflicted: Vec<String> = moved.iter().map(|r| r.id.clone()).collect();
    let message = "changed by someone else since it was loaded".to_string();
    match outcome {
        Outcome::Applied { mut records, .. } => {
            records.extend(moved);
            Outcome::Partly {
                records,
                applied: sent.to_vec(),
                failed: Vec::new(),
                conflicted,
                message,
            }
        }
        Outcome::Partly {
            mut records,
            applied,
            failed,
            message,
            ..
        } => {
            records.extend(moved);
            Outcome::Partly {
                records,
                applied,
                failed,
                conflicted,
                message,
            }
        }
        Outcome::Failed { message } => Outcome::Partly {
            records: moved,
            applied: Vec::new(),
            failed: sent.to_vec(),
            conflicted,
            message,
        },
        other => other,
    }
}

/// Starts an action, polls it until it ends (or for at most `context.batch_wait`), then re-reads
/// every referral: one counts as applied only if its watched field changed.
async fn send_action(
    context: &Context,
    req: RequestId,
    write: &ActionWrite,
    tx: &Answers,
) -> Outcome {
    let client = &context.client;
    let started = client.start_batch(write.action, &write.ids).await;
    // Why the batch's answer is missing when it may have been accepted (it came and could not
    // be read, or never came): the batch may be running still, so unchanged rows prove nothing.
    let mut lost = None;
    let mut batch = match started {
        Ok(batch) => Some(batch),
        Err(error @ ApiError::Invalid { .. }) => return Outcome::Refused(error),
        Err(error) if !crate::domain::mutation::fate_unknown(&error) => {
            return Outcome::Failed {
                message: error.user_message(),
            };
        }
        Err(error) => {
            tracing::warn!(%error, "a batch action's answer was lost; re-reading its referrals");
            if error.outcome_unknown() {
                lost = Some(lost_answer(&error));
            }
            None
        }
    };
    let deadline = tokio::time::Instant::now() + context.batch_wait;
    while let Some(running) = batch.as_ref().filter(|b| !b.is_finished()) {
        let _ = tx.send(Action::WriteProgress {
            req,
            batch: running.clone(),
        });
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(BATCH_POLL_INTERVAL).await;
        // A batch the server named no id for cannot be polled; its referrals are re-read below.
        let Some(id) = running.id else { break };
        match client.batch(id).await {
            Ok(next) => batch = Some(next),
            Err(error) => tracing::warn!(%error, "polling a batch failed; trying again"),
        }
    }
    let still_running = batch.as_ref().is_some_and(|b| !b.is_finished());
    let unnamed = batch.as_ref().is_some_and(|b| b.id.is_none());
    let problem = batch
        .as_ref()
        .and_then(|b| b.processing_errors.first())
        .map(crate::domain::record::value_text);
    let message = match (still_running, unnamed, problem) {
        (true, true, _) => Some(
            "accepted by the server, which named no batch to follow; r reloads to see the rest"
                .to_string(),
        ),
        (true, false, _) => Some(format!(
            "still running on the server after {}; r reloads to see the rest",
            waited(context.batch_wait)
        )),
        (false, _, problem) => problem,
    };
    let open = still_running || lost.is_some();
    let message = message.or_else(|| {
        lost.map(|why| {
            format!("{why}; the server may still be running it, so r reloads to see the rest")
        })
    });
    match client.refresh(&write.ids).await {
        Ok(records) => changed_outcome(write.watched, &write.before, records, message, open),
        Err(error) => Outcome::Unknown {
            message: format!(
                "{} was sent, and re-reading the referrals failed ({error})",
                write.action.path()
            ),
        },
    }
}

/// "2 min" or "3 s": how long a batch was followed.
fn waited(time: Duration) -> String {
    match time.as_secs() {
        seconds if seconds >= 60 && seconds % 60 == 0 => format!("{} min", seconds / 60),
        seconds => format!("{} s", seconds.max(1)),
    }
}

/// Which referrals an action changed, from fresh copies of them: those whose `watched` value is
/// no longer what it was `before`. `open` says the action may still change the rest.
pub(super) fn changed_outcome(
    watched: &str,
    before: &Map<String, Value>,
    records: Vec<Record>,
    message: Option<String>,
    open: bool,
) -> Outcome {
    let (applied, failed): (Vec<String>, Vec<String>) = before.keys().cloned().partition(|id| {
        records
            .iter()
            .find(|r| &r.id == id)
            .is_some_and(|r| Some(&r.get(watched)) != before.get(id))
    });
    let message = message.unwrap_or_else(|| "the server left them as they were".to_string());
    match (applied.is_empty(), failed.is_empty()) {
        (_, true) => Outcome::Applied {
            records,
            note: None,
        },
        (true, false) if open => Outcome::Unknown { message },
        (true, false) => Outcome::Failed { message },
        (false, false) => Outcome::Partly {
            records,
            applied,
            failed,
            conflicted: Vec::new(),
            message,
        },
    }
}

pub(super) fn intent(context: &Context, why: &str, kind: &str, ids: Vec<String>) -> Intent {
    Intent {
        time: jiff::Timestamp::now(),
        profile: context.writer.profile.clone(),
        backend: context.writer.backend.clone(),
        admin_id: context.writer.admin_id.clone(),
        why: why.to_string(),
        kind: kind.to_string(),
        ids,
        action: None,
        body: Value::Null,
        before: Map::new(),
        wanted: Map::new(),
        detail: Value::Null,
    }
}

/// What the journal records before a write is sent. A bulk change's rows share a `group`, so
/// they can be taken back together later.
fn intent_of(context: &Context, mutation: &Mutation, why: &str, group: Option<u64>) -> Intent {
    let mut intent = match mutation {
        Mutation::Fields(write) => {
            let mut intent = intent(context, why, "write", vec![write.id.clone()]);
            intent.body = Value::Object(write.changes.body.clone());
            intent.before = write.base.clone();
            intent.wanted = write.wanted(context.schema);
            let mut detail = Map::new();
            if !write.guard {
                // Only "keep mine" writes skip the guard; a resend must know.
                detail.insert("guard".into(), false.into());
            }
            if !write.changes.at_send.is_empty() {
                // Fields stamped "now" as the PUT left: a resend stamps them again.
                detail.insert("at_send".into(), json!(write.changes.at_send));
            }
            if !detail.is_empty() {
                intent.detail = Value::Object(detail);
            }
            intent
        }
        Mutation::Action(write) => {
            let mut intent = intent(context, why, "action", write.ids.clone());
            intent.action = Some(write.action.path().to_string());
            intent.body = write.action.body(&write.ids);
            intent.before = write.before.clone();
            intent.detail = json!({ "watched": write.watched, "reason": write.reason });
            intent
        }
    };
    if let Some(group) = group {
        let key = Value::String(format!("{}-{group}", context.run));
        match &mut intent.detail {
            Value::Object(detail) => {
                detail.insert("group".into(), key);
            }
            detail => *detail = json!({ "group": key }),
        }
    }
    intent
}

pub(super) fn recorded(
    verdict: Verdict,
    status: Option<u16>,
    after: Map<String, Value>,
    message: Option<String>,
) -> Recorded {
    Recorded {
        time: jiff::Timestamp::now(),
        verdict,
        status,
        after,
        message,
    }
}

/// What the journal records once a write is decided.
pub(super) fn recorded_of(context: &Context, mutation: &Mutation, outcome: &Outcome) -> Recorded {
    decided(context.schema, context.mode, mutation, outcome)
}

/// What the journal records of `outcome`. `after` holds only what the write changed: a
/// referral an action left out (someone else changed it first) is not recorded as changed, so
/// `referee undo` never takes back another admin's change.
fn decided(
    schema: &crate::domain::Schema,
    mode: crate::domain::MetadataMode,
    mutation: &Mutation,
    outcome: &Outcome,
) -> Recorded {
    let after = |records: &[Record]| match mutation {
        Mutation::Fields(write) => records
            .iter()
            .find(|r| r.id == write.id)
            .map(|r| after_of(schema, write, r, mode))
            .unwrap_or_default(),
        Mutation::Action(write) => records
            .iter()
            .map(|r| (r.id.clone(), r.get(write.watched).clone()))
            .collect(),
    };
    match outcome {
        Outcome::Applied { records, note } => {
            recorded(Verdict::Applied, None, after(records), note.clone())
        }
        Outcome::Partly {
            records,
            applied,
            message,
            ..
        } => {
            let changed: Vec<Record> = records
                .iter()
                .filter(|r| applied.contains(&r.id))
                .cloned()
                .collect();
            recorded(
                Verdict::Applied,
                None,
                after(&changed),
                Some(format!("only {}: {message}", applied.join(", "))),
            )
        }
        Outcome::Refused(error) => recorded(
            Verdict::Refused,
            error.status(),
            Map::new(),
            Some(error.to_string()),
        ),
        Outcome::Conflict { theirs, fields } => recorded(
            Verdict::Conflict,
            None,
            after(std::slice::from_ref(theirs)),
            Some(format!("changed by someone else: {}", fields.join(", "))),
        ),
        Outcome::Failed { message } => {
            recorded(Verdict::Failed, None, Map::new(), Some(message.clone()))
        }
        Outcome::Unknown { message } => {
            recorded(Verdict::Unknown, None, Map::new(), Some(message.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BatchAction;
    use crate::domain::MetadataMode;
    use crate::domain::schema::V2_SCHEMA;
    use crate::domain::schema::firstpromoter_policy::action_write;

    fn referral(id: &str, state: &str) -> Record {
        let v = json!({"state": state, "promoter_campaign": {"id": 7}});
        Record::new(id, v.as_object().unwrap().clone())
    }

    /// An approve that the guard narrowed: the referral someone else disabled first is not
    /// journaled as changed by this write.
    #[test]
    fn an_action_records_as_changed_only_the_referrals_it_changed() {
        let loaded = [referral("5001", "pending"), referral("5002", "pending")];
        let write = action_write(BatchAction::Approve, &[&loaded[0], &loaded[1]], None);
        let outcome = Outcome::Partly {
            records: vec![referral("5001", "signup"), referral("5002", "denied")],
            applied: vec!["5001".into()],
            failed: Vec::new(),
            conflicted: vec!["5002".into()],
            message: "changed by someone else since it was loaded".into(),
        };
        let record = decided(
            &V2_SCHEMA,
            MetadataMode::Merge,
            &Mutation::Action(write),
            &outcome,
        );
        assert_eq!(record.verdict, Verdict::Applied);
        assert_eq!(
            Value::Object(record.after),
            json!({"5001": "signup"}),
            "5002 was left out"
        );
    }
}
