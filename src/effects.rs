//! The effects runner: the I/O behind each Effect, run as a tokio task, answering with Actions on
//! the app's queue. Every write is journaled before it is sent and after it is decided; an answer
//! that does not say whether a write landed is settled by re-reading the referral, never guessed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::api::{ApiError, Client, Page};
use crate::app::{Action, Effect, RequestId};
use crate::domain::mutation::{
    ActionWrite, AfterAnswer, FieldWrite, Mutation, Outcome, Reading, after_answer, after_of,
    decide, lost_answer, settle,
};
use crate::domain::{MetadataMode, Record, Schema};
use crate::store::journal::{Intent, Journal, Recorded, Stored, Verdict};

/// The newest journal entries `:journal` shows.
const JOURNAL_SHOWN: usize = 200;
/// How long to wait between polls of a running batch.
const BATCH_POLL_INTERVAL: Duration = Duration::from_millis(400);
/// A batch still running after this long is reported as such, not waited for any more.
const BATCH_POLL_LIMIT: Duration = Duration::from_secs(120);

/// Who is writing, for the journal.
#[derive(Debug, Clone)]
pub struct Writer {
    pub profile: String,
    pub backend: String,
    pub admin_id: Option<String>,
}

/// What every background task needs.
pub struct Context {
    pub client: Client,
    pub schema: &'static Schema,
    pub mode: MetadataMode,
    pub writer: Writer,
    /// Where writes are recorded before and after they are sent.
    pub journal: Arc<Journal>,
}

type Answers = mpsc::UnboundedSender<Action>;

/// Does one Effect's I/O and answers with Actions. A closed channel means the app is gone.
pub async fn perform(context: &Context, effect: Effect, tx: Answers) {
    let client = &context.client;
    match effect {
        Effect::LoadReferrals { req } => {
            let deliver = |records, last| {
                tx.send(Action::ReferralsPage { req, records, last })
                    .is_ok()
            };
            if let Err(error) = page_through(|i| client.referrals_page(i), deliver).await {
                tracing::warn!(%error, "loading referrals failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::LoadLookup { req, kind } => {
            let deliver =
                |entries, last| tx.send(Action::LookupPage { req, entries, last }).is_ok();
            if let Err(error) = page_through(|i| client.lookup_page(kind, i), deliver).await {
                tracing::warn!(%error, ?kind, "loading names failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::Find { req, by, value } => {
            let result = client.find(&by, &value).await;
            let _ = tx.send(Action::Found { req, result });
        }
        Effect::Mutate { req, mutation, why } => {
            let outcome = mutate(context, req, &mutation, why, &tx).await;
            let _ = tx.send(Action::Written { req, outcome });
        }
        Effect::LoadReasons { req } => {
            let reasons = context
                .journal
                .entries(None)
                .map(|entries| recent_reasons(&entries, &context.writer.profile))
                .unwrap_or_else(|error| {
                    tracing::warn!(%error, "could not read recent reasons from the journal");
                    Vec::new()
                });
            let _ = tx.send(Action::ReasonsLoaded { req, reasons });
        }
        Effect::LoadJournal { req } => {
            let result = context
                .journal
                .entries(None)
                .map(|all| {
                    let mine = all
                        .into_iter()
                        .filter(|e| e.intent.profile == context.writer.profile);
                    let mut mine: Vec<_> = mine.collect();
                    let keep = mine.len().saturating_sub(JOURNAL_SHOWN);
                    mine.drain(..keep);
                    mine
                })
                .map_err(|e| e.to_string());
            let _ = tx.send(Action::JournalLoaded { req, result });
        }
        Effect::Reconcile { req } => {
            let result = reconcile(context).await;
            let _ = tx.send(Action::Reconciled { req, result });
        }
        Effect::LoadDraft { req, id } => {
            let result = context.journal.draft(&context.writer.profile, &id);
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Action::DraftLoaded { req, result });
        }
        Effect::SaveDraft {
            req,
            id,
            fields,
            time,
        } => {
            let result = context
                .journal
                .save_draft(&context.writer.profile, &id, &fields, time);
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Action::DraftSaved { req, result });
        }
        Effect::DiscardDraft { req, id } => {
            let result = context.journal.discard_draft(&context.writer.profile, &id);
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Action::DraftSaved { req, result });
        }
        Effect::RecordSession { detail } => {
            let mut intent = intent(context, "session", "summary", Vec::new());
            intent.detail = detail;
            let recorded = recorded(Verdict::Applied, None, Map::new(), None);
            if let Err(error) = context.journal.record_event(&intent, &recorded) {
                tracing::error!(%error, "could not journal the triage summary");
            }
        }
    }
}

/// The last distinct rejection reasons `profile` wrote, newest first: stored as
/// `metadata.rejection_reason` (v1) or kept only in the journal (v2 actions).
pub fn recent_reasons(entries: &[Stored], profile: &str) -> Vec<String> {
    let mut reasons: Vec<String> = Vec::new();
    for entry in entries.iter().rev().filter(|e| e.intent.profile == profile) {
        let intent = &entry.intent;
        let reason = intent.body["metadata"]["rejection_reason"]
            .as_str()
            .or(intent.detail["reason"].as_str());
        if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty())
            && !reasons.iter().any(|r| r == reason)
        {
            reasons.push(reason.to_string());
            if reasons.len() == crate::app::triage::RECENT_REASONS {
                break;
            }
        }
    }
    reasons
}

/// Journals, sends and decides one write.
pub async fn mutate(
    context: &Context,
    req: RequestId,
    mutation: &Mutation,
    why: &str,
    tx: &Answers,
) -> Outcome {
    let entry = match context
        .journal
        .record_intent(&intent_of(context, mutation, why))
    {
        Ok(entry) => Some(entry),
        Err(error) => {
            // The write is not sent unrecorded: an admin must be able to see what was done.
            tracing::error!(%error, "could not journal a write; not sent");
            return Outcome::Failed {
                message: format!("Not sent: the journal could not record it ({error})."),
            };
        }
    };
    let outcome = match mutation {
        Mutation::Fields(write) => write_fields(context, write).await,
        Mutation::Action(action) => run_action(context, req, action, tx).await,
    };
    if let Some(entry) = entry {
        let record = recorded_of(context, mutation, &outcome);
        if let Err(error) = context.journal.record_outcome(entry, &record) {
            tracing::error!(%error, entry, "could not journal a write's outcome");
        }
    }
    outcome
}

/// The conflict guard (a fresh GET compared with the base), the PUT, and a re-read when the answer
/// leaves the write's fate open.
async fn write_fields(context: &Context, write: &FieldWrite) -> Outcome {
    if write.guard {
        match fetch_one(context, &write.id).await {
            Ok(fresh) => match decide(context.schema, context.mode, write, &fresh) {
                Reading::NotApplied => {}
                // Our own earlier write (sent again after its answer was lost) is not someone
                // else's change: there is nothing left to send.
                Reading::Applied => {
                    return Outcome::Applied {
                        records: vec![fresh],
                        note: Some("the server already had these values".into()),
                    };
                }
                Reading::Other(fields) => {
                    tracing::warn!(id = %write.id, ?fields, "conflict: changed on the server since it was loaded; not sent");
                    return Outcome::Conflict {
                        theirs: fresh,
                        fields,
                    };
                }
            },
            Err(error) => {
                return Outcome::Failed {
                    message: format!("Nothing was sent. {}", error.user_message()),
                };
            }
        }
    }
    let body = &write.changes.body;
    tracing::info!(id = %write.id, body = %serde_json::Value::Object(body.clone()), "PUT");
    let answer = context.client.update(&write.id, body).await;
    let cause = match after_answer(answer.clone()) {
        AfterAnswer::Done(outcome) => return outcome,
        AfterAnswer::Reread => answer.expect_err("only an error leaves the fate open"),
    };
    tracing::warn!(id = %write.id, error = %cause, "the answer does not say whether the write landed; re-reading");
    let fresh = fetch_one(context, &write.id).await;
    settle(
        context.schema,
        context.mode,
        write,
        &lost_answer(&cause),
        fresh,
    )
}

async fn fetch_one(context: &Context, id: &str) -> Result<Record, ApiError> {
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
    // The conflict guard: referrals whose watched field changed since they were loaded are left out.
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
        .partition(|r| write.before.get(&r.id) == Some(r.get(write.watched)));
    if unchanged.is_empty() {
        let Some(theirs) = moved.into_iter().next() else {
            return Outcome::Failed {
                message: "Nothing was sent: none of these referrals is on the server any more."
                    .into(),
            };
        };
        return Outcome::Conflict {
            theirs,
            fields: vec![write.watched.to_string()],
        };
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

/// Starts an action, polls it until it ends (or for at most `BATCH_POLL_LIMIT`), then re-reads
/// every referral: one counts as applied only if its watched field changed.
async fn send_action(
    context: &Context,
    req: RequestId,
    write: &ActionWrite,
    tx: &Answers,
) -> Outcome {
    let client = &context.client;
    let started = client.start_batch(write.action, &write.ids).await;
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
            None
        }
    };
    let deadline = tokio::time::Instant::now() + BATCH_POLL_LIMIT;
    while let Some(running) = batch.as_ref().filter(|b| !b.is_finished()) {
        let _ = tx.send(Action::WriteProgress {
            req,
            batch: running.clone(),
        });
        if tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(BATCH_POLL_INTERVAL).await;
        match client.batch(running.id).await {
            Ok(next) => batch = Some(next),
            Err(error) => tracing::warn!(%error, "polling a batch failed; trying again"),
        }
    }
    let still_running = batch.as_ref().is_some_and(|b| !b.is_finished());
    let problem = batch
        .as_ref()
        .and_then(|b| b.processing_errors.first())
        .map(crate::domain::record::value_text);
    let message = match (still_running, problem) {
        (true, _) => Some(format!(
            "still running on the server after {} min; r reloads to see the rest",
            BATCH_POLL_LIMIT.as_secs() / 60
        )),
        (false, problem) => problem,
    };
    match client.refresh(&write.ids).await {
        Ok(records) => changed_outcome(
            write.watched,
            &write.before,
            records,
            message,
            still_running,
        ),
        Err(error) => Outcome::Unknown {
            message: format!(
                "{} was sent, and re-reading the referrals failed ({error})",
                write.action.path()
            ),
        },
    }
}

/// Which referrals an action changed, from fresh copies of them: those whose `watched` value is
/// no longer what it was `before`. `open` says the action may still change the rest.
fn changed_outcome(
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
            .is_some_and(|r| Some(r.get(watched)) != before.get(id))
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

/// What was found for the writes an earlier run left without an outcome.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reconciliation {
    pub applied: usize,
    pub not_applied: usize,
    pub conflicts: usize,
    pub unknown: usize,
    /// Fresh copies of the referrals that were checked.
    pub records: Vec<Record>,
}

/// Checks every journaled write of this profile that has no outcome (the console was killed or quit
/// mid-write) by re-reading its referrals, and records what was found.
pub async fn reconcile(context: &Context) -> Result<Reconciliation, String> {
    const WHY: &str = "the console stopped before its answer came";
    let open = context
        .journal
        .unresolved(&context.writer.profile)
        .map_err(|e| e.to_string())?;
    let mut report = Reconciliation::default();
    for stored in open {
        let intent = &stored.intent;
        let (mutation, outcome) = match intent.kind.as_str() {
            "write" => {
                let Some(write) =
                    FieldWrite::from_journal(&intent.ids, &intent.body, &intent.before)
                else {
                    continue;
                };
                let fresh = fetch_one(context, &write.id).await;
                let outcome = settle(context.schema, context.mode, &write, WHY, fresh);
                (Mutation::Fields(write), outcome)
            }
            "action" => {
                let watched = intent.detail["watched"].as_str().unwrap_or("state");
                let outcome = match context.client.refresh(&intent.ids).await {
                    Ok(records) => changed_outcome(watched, &intent.before, records, None, false),
                    Err(error) => Outcome::Unknown {
                        message: format!("{WHY}, and re-reading failed ({error})"),
                    },
                };
                let Some(write) = action_write_of(intent) else {
                    continue;
                };
                (Mutation::Action(write), outcome)
            }
            _ => continue,
        };
        match &outcome {
            Outcome::Applied { records, .. } | Outcome::Partly { records, .. } => {
                report.applied += 1;
                report.records.extend(records.iter().cloned());
            }
            Outcome::Failed { .. } | Outcome::Refused(_) => report.not_applied += 1,
            Outcome::Conflict { theirs, .. } => {
                report.conflicts += 1;
                report.records.push(theirs.clone());
            }
            Outcome::Unknown { .. } => report.unknown += 1,
        }
        let recorded = recorded_of(context, &mutation, &outcome);
        if let Err(error) = context.journal.record_outcome(stored.entry, &recorded) {
            tracing::error!(%error, "could not journal a reconciled write");
        }
    }
    Ok(report)
}

/// A journaled action, enough to tell which referrals it changed.
fn action_write_of(intent: &Intent) -> Option<ActionWrite> {
    let action = crate::api::BatchAction::from_journal(intent.action.as_deref()?, &intent.body)?;
    Some(ActionWrite {
        action,
        ids: intent.ids.clone(),
        reason: None,
        watched: if intent.detail["watched"] == "state" {
            "state"
        } else {
            "promoter_campaign.id"
        },
        before: intent.before.clone(),
        inverse: None,
    })
}

fn intent(context: &Context, why: &str, kind: &str, ids: Vec<String>) -> Intent {
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

/// What the journal records before a write is sent.
fn intent_of(context: &Context, mutation: &Mutation, why: &str) -> Intent {
    match mutation {
        Mutation::Fields(write) => {
            let mut intent = intent(context, why, "write", vec![write.id.clone()]);
            intent.body = Value::Object(write.changes.body.clone());
            intent.before = write.base.clone();
            intent.wanted = write.wanted(context.schema);
            if !write.guard {
                // Only "keep mine" writes skip the guard; a resend must know.
                intent.detail = json!({ "guard": false });
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
    }
}

fn recorded(
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
fn recorded_of(context: &Context, mutation: &Mutation, outcome: &Outcome) -> Recorded {
    let after = |records: &[Record]| match mutation {
        Mutation::Fields(write) => records
            .iter()
            .find(|r| r.id == write.id)
            .map(|r| after_of(context.schema, write, r, context.mode))
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
        } => recorded(
            Verdict::Applied,
            None,
            after(records),
            Some(format!("only {}: {message}", applied.join(", "))),
        ),
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

/// Fetches pages from 0 until the last, handing each to `deliver`; stops early if it says so.
async fn page_through<T, F, Fut>(
    fetch: F,
    mut deliver: impl FnMut(Vec<T>, bool) -> bool,
) -> Result<(), ApiError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Page<T>>,
{
    let mut index = 0;
    loop {
        let (items, last) = fetch(index).await?;
        if !deliver(items, last) || last {
            return Ok(());
        }
        index += 1;
    }
}
