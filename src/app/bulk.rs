//! Bulk status changes on marked rows (field-write backends): a queue sent with bounded concurrency,
//! a result per row, and `R` to send the failed ones again. The HTTP core paces to the server's
//! rate-limit headers, so a large bulk never goes over the limit.

use std::collections::VecDeque;

use super::action::Effect;
use super::state::{Level, State};
use super::writes::{self, Origin, Outcome};
use crate::domain::quick::QuickStatus;

/// What happened to a row in the last bulk change.
#[derive(Debug, Clone, PartialEq)]
pub enum RowResult {
    /// Waiting for its turn.
    Queued,
    Sending,
    Done,
    /// Already in the wanted state: nothing was sent.
    Unchanged,
    Failed(String),
    Conflict,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bulk {
    pub decision: QuickStatus,
    /// Rows not sent yet, in order.
    pub queue: VecDeque<String>,
    pub total: usize,
    pub in_flight: usize,
    pub finished: usize,
    /// Rows that failed or met a conflict, for `R`.
    pub failed: Vec<String>,
}

pub fn start(state: &mut State, decision: QuickStatus, ids: Vec<String>) -> Vec<Effect> {
    if let Some(running) = state.bulk.as_ref().filter(|b| b.finished < b.total) {
        let progress = format!("{}/{}", running.finished, running.total);
        state.say(
            Level::Info,
            format!(
                "A bulk change is still running ({progress}): start the next one when it ends."
            ),
        );
        return Vec::new();
    }
    for id in &ids {
        state.row_results.insert(id.clone(), RowResult::Queued);
    }
    state.bulk = Some(Bulk {
        decision,
        total: ids.len(),
        queue: ids.into(),
        in_flight: 0,
        finished: 0,
        failed: Vec::new(),
    });
    state.marked.clear();
    pump(state)
}

/// Sends queued rows until `concurrency` are in flight.
fn pump(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    let limit = state.session.concurrency.max(1);
    while let Some(bulk) = state.bulk.as_mut().filter(|b| b.in_flight < limit) {
        let Some(id) = bulk.queue.pop_front() else {
            break;
        };
        let decision = bulk.decision.clone();
        match writes::quick_changes(state, &id, &decision) {
            Ok(changes) if changes.is_empty() => record(state, &id, RowResult::Unchanged),
            Ok(changes) => {
                if let Some(bulk) = state.bulk.as_mut() {
                    bulk.in_flight += 1;
                }
                state.row_results.insert(id.clone(), RowResult::Sending);
                effects.extend(writes::send(state, &id, changes, Origin::Bulk, true));
            }
            Err(message) => record(state, &id, RowResult::Failed(message)),
        }
    }
    report(state);
    effects
}

fn record(state: &mut State, id: &str, result: RowResult) {
    if let Some(bulk) = state.bulk.as_mut() {
        bulk.finished += 1;
        if matches!(result, RowResult::Failed(_) | RowResult::Conflict) {
            bulk.failed.push(id.to_string());
        }
    }
    state.row_results.insert(id.to_string(), result);
}

/// A bulk row's write answered.
pub fn finished(state: &mut State, id: &str, outcome: Outcome) -> Vec<Effect> {
    if let Some(bulk) = state.bulk.as_mut() {
        bulk.in_flight = bulk.in_flight.saturating_sub(1);
    }
    let result = match outcome {
        Outcome::Done => RowResult::Done,
        Outcome::Failed(message) => RowResult::Failed(message),
        Outcome::Conflict => RowResult::Conflict,
    };
    record(state, id, result);
    pump(state)
}

/// The status line while a bulk runs and once it ends.
fn report(state: &mut State) {
    let Some(bulk) = &state.bulk else { return };
    let failed = bulk.failed.len();
    let text = format!(
        "{} {}/{} · {failed} failed",
        bulk.decision.word(),
        bulk.finished,
        bulk.total
    );
    if bulk.finished < bulk.total {
        state.say(Level::Info, text);
    } else if failed == 0 {
        state.say(Level::Success, format!("Done: {text}."));
    } else {
        state.say(
            Level::Error,
            format!("Done: {text}. R sends the failed ones again."),
        );
    }
}

/// `R`: the failed rows of the last bulk, once more.
pub fn retry_failed(state: &mut State) -> Vec<Effect> {
    match &state.bulk {
        Some(bulk) if bulk.queue.is_empty() && bulk.in_flight == 0 && !bulk.failed.is_empty() => {
            let (decision, ids) = (bulk.decision.clone(), bulk.failed.clone());
            start(state, decision, ids)
        }
        Some(bulk) if bulk.finished < bulk.total => {
            state.say(
                Level::Info,
                "The bulk change is still running; R works once it ends.",
            );
            Vec::new()
        }
        _ => {
            state.say(Level::Info, "No failed rows to send again.");
            Vec::new()
        }
    }
}
