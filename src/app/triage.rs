//! Verification sessions: the filtered list (by default converted referrals, oldest first) as a
//! queue shown one referral at a time. One key per decision and no waiting: the next referral shows
//! at once while the write runs; a failed write comes back to the queue with its error.

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::json;

use super::action::{Effect, QuickKey};
use super::state::{Level, Overlay, State};
use super::text::TextBuffer;
use super::writes::{self, Outcome};
use crate::api::BatchAction;
use crate::domain::quick::QuickStatus;
use crate::domain::schema::QuickStyle;
use crate::store::audit::Entry;

/// Reasons remembered for the number keys of the reason prompt.
const RECENT_REASONS: usize = 9;

#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub queue: Vec<String>,
    /// Index of the referral on screen; equal to the queue's length when all are done.
    pub position: usize,
    pub total: usize,
    pub verified: usize,
    pub rejected: usize,
    pub skipped: usize,
    /// Referrals whose last write failed, with the error shown when they come back.
    pub errors: HashMap<String, String>,
    pub started: Timestamp,
    /// Newest first; `1`..`9` in the reason prompt pick one.
    pub recent_reasons: Vec<String>,
    /// The reason prompt, open after `x`.
    pub reason: Option<TextBuffer>,
    /// Decisions still being written: id → whether it was a rejection, to uncount a failure.
    pub sending: HashMap<String, bool>,
    /// How far the card on screen is scrolled (it may be taller than a small terminal).
    pub scroll: u16,
    /// This session's decisions that stand, newest last: (id, whether it was a rejection), for `u`.
    pub decisions: Vec<(String, bool)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub verified: usize,
    pub rejected: usize,
    pub skipped: usize,
    pub failed: usize,
    pub minutes: f64,
}

impl Triage {
    pub fn current(&self) -> Option<&str> {
        self.queue.get(self.position).map(String::as_str)
    }

    pub fn decided(&self) -> usize {
        self.verified + self.rejected
    }

    /// Decisions per hour so far; None in the first minute, when a rate would mean little.
    pub fn per_hour(&self, now: Timestamp) -> Option<f64> {
        let seconds = now.as_second() - self.started.as_second();
        (seconds >= 60).then(|| self.decided() as f64 * 3600.0 / seconds as f64)
    }
}

/// `t`: the shown rows as a queue; with no filter, the schema's default (converted, oldest first).
pub fn start(state: &mut State) {
    let mut queue: Vec<&crate::domain::Record> = state
        .list
        .visible
        .iter()
        .map(|i| &state.records[*i])
        .collect();
    if state.list.filter.text().trim().is_empty() {
        let (field, value) = state.schema.triage_default;
        queue.retain(|r| r.text(field) == value);
        queue.sort_by_key(|r| r.text("created_at"));
    }
    let queue: Vec<String> = queue.into_iter().map(|r| r.id.clone()).collect();
    if queue.is_empty() {
        state.say(Level::Info, "Nothing to triage: the queue would be empty.");
        return;
    }
    state.say(
        Level::Info,
        format!(
            "Triage: {} referrals. v verify · x reject · s skip · u undo · q leave",
            queue.len()
        ),
    );
    state.triage = Some(Triage {
        total: queue.len(),
        queue,
        position: 0,
        verified: 0,
        rejected: 0,
        skipped: 0,
        errors: HashMap::new(),
        started: state.clock.now,
        recent_reasons: Vec::new(),
        reason: None,
        sending: HashMap::new(),
        decisions: Vec::new(),
        scroll: 0,
    });
}

/// A decision on the referral on screen: sent in the background, and the next one shows at once.
pub fn decide(state: &mut State, key: QuickKey) -> Vec<Effect> {
    let Some(id) = state
        .triage
        .as_ref()
        .and_then(|t| t.current())
        .map(str::to_string)
    else {
        return Vec::new();
    };
    let decision = match key {
        QuickKey::Verify => QuickStatus::Verified,
        QuickKey::Reject => {
            if let Some(triage) = state.triage.as_mut() {
                triage.reason = Some(TextBuffer::single(""));
            }
            return Vec::new();
        }
        QuickKey::Convert => QuickStatus::Converted,
        QuickKey::Pending => QuickStatus::Pending,
    };
    send(state, &id, decision)
}

/// Enter in the reason prompt, or a number key picking a recent reason.
pub fn reject_with(state: &mut State, reason: String) -> Vec<Effect> {
    let Some(triage) = state.triage.as_mut() else {
        return Vec::new();
    };
    if reason.trim().is_empty() {
        return Vec::new();
    }
    triage.reason = None;
    triage.recent_reasons.retain(|r| *r != reason);
    triage.recent_reasons.insert(0, reason.clone());
    triage.recent_reasons.truncate(RECENT_REASONS);
    let Some(id) = triage.current().map(str::to_string) else {
        return Vec::new();
    };
    send(state, &id, QuickStatus::Rejected(reason))
}

fn send(state: &mut State, id: &str, decision: QuickStatus) -> Vec<Effect> {
    if state.schema.quick == QuickStyle::BatchActions {
        return send_as_batch(state, id, decision);
    }
    let changes = match writes::quick_changes(state, id, &decision) {
        Ok(changes) => changes,
        Err(message) => {
            state.say(Level::Error, message);
            return Vec::new();
        }
    };
    let rejection = matches!(decision, QuickStatus::Rejected(_));
    count_decision(state, id, rejection, !changes.is_empty());
    if changes.is_empty() {
        return Vec::new();
    }
    writes::send(state, id, changes, writes::Origin::Triage, true)
}

/// Counts a decision, moves to the next referral, and remembers a write going out for it.
fn count_decision(state: &mut State, id: &str, rejection: bool, sending: bool) {
    let Some(triage) = state.triage.as_mut() else {
        return;
    };
    if rejection {
        triage.rejected += 1;
    } else {
        triage.verified += 1;
    }
    triage.errors.remove(id);
    triage.position += 1;
    triage.scroll = 0;
    triage.decisions.push((id.to_string(), rejection));
    if sending {
        triage.sending.insert(id.to_string(), rejection);
    }
}

/// On a batch-action backend a decision is an approve or a disable of the one referral.
fn send_as_batch(state: &mut State, id: &str, decision: QuickStatus) -> Vec<Effect> {
    let (action, reason) = match decision {
        QuickStatus::Rejected(reason) => (BatchAction::Disable, Some(reason)),
        _ => (BatchAction::Approve, None),
    };
    count_decision(state, id, reason.is_some(), true);
    super::batch::start(state, action, vec![id.to_string()], reason)
}

pub fn skip(state: &mut State) {
    if let Some(triage) = state.triage.as_mut()
        && triage.position < triage.queue.len()
    {
        triage.skipped += 1;
        triage.position += 1;
        triage.scroll = 0;
    }
}

/// A triage write answered; a failed one goes back into the queue, right after the one on screen.
pub fn finished(state: &mut State, id: &str, outcome: Outcome) {
    let Some(triage) = state.triage.as_mut() else {
        return;
    };
    let rejection = triage.sending.remove(id).unwrap_or(false);
    let error = match outcome {
        Outcome::Done => return,
        Outcome::Failed(message) => message,
        Outcome::Conflict => "Changed by someone else since it was loaded: look again.".to_string(),
    };
    triage.errors.insert(id.to_string(), error);
    if let Some(at) = triage
        .decisions
        .iter()
        .rposition(|(decided, _)| decided == id)
    {
        triage.decisions.remove(at);
    }
    // The decision did not land: it is counted again when it is made again.
    if rejection {
        triage.rejected = triage.rejected.saturating_sub(1);
    } else {
        triage.verified = triage.verified.saturating_sub(1);
    }
    let at = (triage.position + 1).min(triage.queue.len());
    triage.queue.insert(at, id.to_string());
}

/// `u` in triage: take back this session's last decision (its write is undone where the backend
/// can) and show that referral again.
pub fn undo(state: &mut State) -> Vec<Effect> {
    let Some(triage) = state.triage.as_mut() else {
        return Vec::new();
    };
    let Some((id, rejection)) = triage.decisions.last().cloned() else {
        state.say(Level::Info, "Nothing decided in this session yet.");
        return Vec::new();
    };
    if triage.sending.contains_key(&id) {
        state.say(
            Level::Info,
            format!("{id} is still being written: press u again in a moment."),
        );
        return Vec::new();
    }
    triage.decisions.pop();
    if rejection {
        triage.rejected = triage.rejected.saturating_sub(1);
    } else {
        triage.verified = triage.verified.saturating_sub(1);
    }
    triage.queue.insert(triage.position, id.clone());
    match state
        .undo
        .iter()
        .rposition(|entry| entry.first_id() == Some(id.as_str()))
    {
        Some(index) => {
            let entry = state.undo.remove(index);
            writes::revert(state, entry)
        }
        None => {
            state.say(
                Level::Info,
                format!("{id} is back in the queue; its change cannot be undone here."),
            );
            Vec::new()
        }
    }
}

/// Leaving: the summary on screen and in the audit log.
pub fn leave(state: &mut State) -> Vec<Effect> {
    let Some(triage) = state.triage.take() else {
        return Vec::new();
    };
    let summary = Summary {
        verified: triage.verified,
        rejected: triage.rejected,
        skipped: triage.skipped,
        failed: triage.errors.len(),
        minutes: (state.clock.now.as_second() - triage.started.as_second()) as f64 / 60.0,
    };
    let session = &state.session;
    let mut entry = Entry::new(
        state.clock.now_rfc3339(),
        &session.profile,
        session.backend,
        session.admin_id.as_deref(),
        "triage_summary",
    );
    entry.detail = json!({
        "verified": summary.verified, "rejected": summary.rejected, "skipped": summary.skipped,
        "failed": summary.failed, "minutes": (summary.minutes * 10.0).round() / 10.0,
        "queue": triage.total,
    });

    state.overlay = Some(Overlay::TriageSummary(summary));
    vec![Effect::Audit(Box::new(entry))]
}
