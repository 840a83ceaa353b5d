//! FirstPromoter's way of changing state: batch actions (approve, disable, enable, move to
//! promoter) started with one request and polled until they finish, then the rows are refreshed.

use super::action::{Effect, QuickKey, RequestId};
use super::state::{Level, Pending, State};
use super::writes::{Outcome, UndoEntry};
use crate::api::{ApiError, Batch, BatchAction};
use crate::domain::Record;

/// The quick keys on a backend whose states change through batch actions.
pub fn quick(state: &mut State, key: QuickKey, ids: Vec<String>) -> Vec<Effect> {
    let action = match key {
        QuickKey::Verify => BatchAction::Approve,
        QuickKey::Pending => BatchAction::Enable,
        QuickKey::Reject => BatchAction::Disable,
        QuickKey::Convert => {
            state.say(
                Level::Info,
                "This backend has no `converted` action: v approves, x disables, p enables.",
            );
            return Vec::new();
        }
    };
    let acting: Vec<String> = ids
        .iter()
        .filter(|id| acts_on(state, action, id))
        .cloned()
        .collect();
    if acting.is_empty() {
        let already = match action {
            BatchAction::Approve => "approve acts on pending or denied referrals",
            BatchAction::Enable => "enable acts on denied referrals",
            _ => "they are already denied",
        };
        state.say(
            Level::Info,
            format!("Nothing to {}: {already}.", action.path()),
        );
        return Vec::new();
    }
    start(state, action, acting, None)
}

/// Whether `action` would change the referral `id` (the sandbox and FirstPromoter leave others as
/// they are and still report them done).
fn acts_on(state: &State, action: BatchAction, id: &str) -> bool {
    let Some(record) = state.record(id) else {
        return true;
    };
    let current = record.text(state.schema.status_field);
    match action {
        BatchAction::Approve => matches!(current.as_str(), "pending" | "denied"),
        BatchAction::Enable => current == "denied",
        BatchAction::Disable => current != "denied",
        BatchAction::MoveToPromoter { .. } => true,
    }
}

/// Starts `action` on `ids`; `reason` only goes to the local log.
pub fn start(
    state: &mut State,
    action: BatchAction,
    ids: Vec<String>,
    reason: Option<String>,
) -> Vec<Effect> {
    let inverse = inverse(state, action, &ids);
    state.say(Level::Info, format!("{} {}…", verb(action), describe(&ids)));
    start_batch(state, action, ids, reason, inverse)
}

/// `u` after a batch action: the inverse action, which itself leaves nothing to undo.
pub fn undo(state: &mut State, action: BatchAction, ids: Vec<String>) -> Vec<Effect> {
    state.say(
        Level::Info,
        format!("Undoing: {} {}…", action.path(), describe(&ids)),
    );
    start_batch(state, action, ids, None, None)
}

fn start_batch(
    state: &mut State,
    action: BatchAction,
    ids: Vec<String>,
    reason: Option<String>,
    inverse: Option<BatchAction>,
) -> Vec<Effect> {
    let req = state.request(Pending::Batch {
        action,
        ids: ids.clone(),
        latest: None,
        inverse,
    });

    vec![Effect::StartBatch {
        req,
        action,
        ids,
        reason,
    }]
}

/// The action that puts `ids` back where they are now, when one exists: disable undoes an approve
/// or enable of denied referrals, enable undoes a disable of approved ones, and a move goes back to
/// the one promoter campaign they all shared.
fn inverse(state: &State, action: BatchAction, ids: &[String]) -> Option<BatchAction> {
    let records: Vec<_> = ids.iter().filter_map(|id| state.record(id)).collect();
    if records.len() != ids.len() {
        return None;
    }
    let all_in = |states: &[&str]| {
        records
            .iter()
            .all(|r| states.contains(&r.text(state.schema.status_field).as_str()))
    };
    match action {
        BatchAction::Approve | BatchAction::Enable if all_in(&["denied"]) => {
            Some(BatchAction::Disable)
        }
        BatchAction::Disable if all_in(&["signup", "active"]) => Some(BatchAction::Enable),
        BatchAction::MoveToPromoter {
            with_commissions, ..
        } => {
            let links: std::collections::BTreeSet<i64> = records
                .iter()
                .filter_map(|r| r.get("promoter_campaign.id").as_i64())
                .collect();
            match (links.len(), links.first()) {
                (1, Some(link)) => Some(BatchAction::MoveToPromoter {
                    link: *link,
                    with_commissions,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}

fn verb(action: BatchAction) -> &'static str {
    match action {
        BatchAction::Approve => "Approving",
        BatchAction::Disable => "Disabling",
        BatchAction::Enable => "Enabling",
        BatchAction::MoveToPromoter { .. } => "Moving",
    }
}

fn describe(ids: &[String]) -> String {
    match ids {
        [one] => one.clone(),
        many => format!("{} referrals", many.len()),
    }
}

/// A batch answered (when started or polled): poll again, or report and refresh the rows.
pub fn progress(state: &mut State, req: RequestId, result: Result<Batch, ApiError>) -> Vec<Effect> {
    let Some(Pending::Batch {
        action,
        ids,
        inverse,
        ..
    }) = state.pending.get(&req).cloned()
    else {
        return Vec::new();
    };
    match result {
        Ok(batch) if !batch.is_finished() => {
            let poll = Effect::PollBatch {
                req,
                batch: batch.id,
            };
            state.pending.insert(
                req,
                Pending::Batch {
                    action,
                    ids,
                    latest: Some(batch),
                    inverse,
                },
            );
            vec![poll]
        }
        Ok(batch) => {
            state.pending.remove(&req);
            if let (Some(inverse), 0) = (inverse, batch.failed_count) {
                state.undo.push(UndoEntry::Batch {
                    ids: ids.clone(),
                    inverse,
                });
            }
            let done = format!(
                "{} {}: {} of {} done, {} failed.",
                action.path(),
                describe(&ids),
                batch.processed_count.saturating_sub(batch.failed_count),
                batch.total,
                batch.failed_count
            );
            match batch.processing_errors.first() {
                Some(first) if batch.failed_count > 0 => {
                    let first = crate::domain::record::value_text(first);
                    state.say(Level::Error, format!("{done} First problem: {first}"));
                    tell_triage(state, &ids, Outcome::Failed(first));
                }
                _ => {
                    state.say(Level::Success, done);
                    tell_triage(state, &ids, Outcome::Done);
                }
            }
            let refresh = state.request(Pending::Refresh);
            vec![Effect::Refresh { req: refresh, ids }]
        }
        Err(error) => {
            state.pending.remove(&req);
            let message = format!(
                "{} {} failed. {}",
                action.path(),
                describe(&ids),
                error.user_message()
            );
            state.say(Level::Error, message.clone());
            tell_triage(state, &ids, Outcome::Failed(message));
            Vec::new()
        }
    }
}

/// A one-referral batch started by a verification session reports back to it.
fn tell_triage(state: &mut State, ids: &[String], outcome: Outcome) {
    if let [id] = ids
        && state
            .triage
            .as_ref()
            .is_some_and(|t| t.sending.contains_key(id))
    {
        super::triage::finished(state, id, outcome);
    }
}

pub fn refreshed(state: &mut State, req: RequestId, result: Result<Vec<Record>, ApiError>) {
    if state.pending.remove(&req).is_none() {
        return;
    }
    match result {
        Ok(records) => state.replace_records(records),
        Err(error) => state.say(
            Level::Error,
            format!(
                "Could not refresh the changed rows; press r to reload. {}",
                error.user_message()
            ),
        ),
    }
}
