//! Verification sessions: a queue shown one referral at a time. One key per decision and no
//! waiting: the next referral shows at once while the write runs. Counts come from the writes'
//! outcomes as they arrive — also after the session was left — and a decision whose write failed
//! comes back to the queue with its error.

use std::collections::HashMap;

use jiff::Timestamp;

use super::text::TextBuffer;
use crate::domain::mutation::Outcome;

/// Why a decision on a referral someone else changed first comes back.
const CHANGED: &str = "Changed by someone else since it was loaded: look again.";

/// Reasons remembered for the number keys of the reason prompt.
pub const RECENT_REASONS: usize = 9;

/// Where a decision's write stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    Sending,
    Applied,
    /// Nothing to send: the referral was already so.
    Already,
    /// No readable answer yet; the journal keeps it.
    Unknown,
}

/// One decision of the session that stands (a failed one leaves this list for `errors`).
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub id: String,
    pub rejection: bool,
    pub written: Written,
    /// When it was made, for the header's decisions per minute.
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub queue: Vec<String>,
    /// Index of the referral on screen; equal to the queue's length when all are done.
    pub position: usize,
    pub total: usize,
    pub skipped: usize,
    /// Referrals whose last write failed, with the error shown when they come back.
    pub errors: HashMap<String, String>,
    pub started: Timestamp,
    /// Newest first; `1`..`9` in the reason prompt pick one.
    pub recent_reasons: Vec<String>,
    /// The reason prompt, open after `x`.
    pub reason: Option<TextBuffer>,
    /// How far the card on screen is scrolled (it may be taller than a small terminal).
    pub scroll: u16,
    /// This session's decisions that stand, oldest first.
    pub decisions: Vec<Decision>,
    /// When the session was left, for the summary's length.
    pub ended: Option<Timestamp>,
    /// The summary is in the journal (written once, when every decision has its outcome).
    pub recorded: bool,
    /// `u` was pressed while the last decision was still being written: it is taken back as soon
    /// as that write answers, so a fast `vu` is never dropped.
    pub undo_when_written: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub verified: usize,
    pub rejected: usize,
    /// Decisions on referrals that already were so: nothing was sent.
    pub already: usize,
    pub skipped: usize,
    pub failed: usize,
    /// Decisions whose write has not answered yet.
    pub sending: usize,
    pub unknown: usize,
    pub minutes: f64,
}

impl Triage {
    pub fn new(queue: Vec<String>, now: Timestamp) -> Triage {
        Triage {
            total: queue.len(),
            queue,
            position: 0,
            skipped: 0,
            errors: HashMap::new(),
            started: now,
            recent_reasons: Vec::new(),
            reason: None,
            scroll: 0,
            decisions: Vec::new(),
            ended: None,
            recorded: false,
            undo_when_written: false,
        }
    }

    pub fn current(&self) -> Option<&str> {
        self.queue.get(self.position).map(String::as_str)
    }

    /// Decisions that stand: applied, already so, or still being written.
    pub fn decided(&self) -> usize {
        self.decisions.len()
    }

    /// Decisions per hour so far; None in the first minute, when a rate would mean little.
    pub fn per_hour(&self, now: Timestamp) -> Option<f64> {
        let seconds = now.as_second() - self.started.as_second();
        (seconds >= 60).then(|| self.decided() as f64 * 3600.0 / seconds as f64)
    }

    /// Whether a decision's write is still waiting for its answer.
    pub fn sending(&self) -> bool {
        self.decisions.iter().any(|d| d.written == Written::Sending)
    }

    /// A decision on the referral on screen, made at `at`; the next one shows at once.
    pub fn decide(&mut self, id: &str, rejection: bool, written: Written, at: Timestamp) {
        self.errors.remove(id);
        self.position += 1;
        self.scroll = 0;
        self.decisions.push(Decision {
            id: id.to_string(),
            rejection,
            written,
            at,
        });
    }

    /// Decisions that stand, per minute of the session from its start to `now` (the last minute
    /// is the one under way), for the header's sparkline.
    pub fn per_minute(&self, now: Timestamp) -> Vec<u64> {
        let minute = |at: Timestamp| (at.as_second() - self.started.as_second()).max(0) / 60;
        let mut counts = vec![0; minute(now) as usize + 1];
        for decision in &self.decisions {
            let at = (minute(decision.at) as usize).min(counts.len() - 1);
            counts[at] += 1;
        }
        counts
    }

    pub fn remember_reason(&mut self, reason: &str) {
        self.recent_reasons.retain(|r| r != reason);
        self.recent_reasons.insert(0, reason.to_string());
        self.recent_reasons.truncate(RECENT_REASONS);
    }

    pub fn skip(&mut self) {
        if self.position < self.queue.len() {
            self.skipped += 1;
            self.position += 1;
            self.scroll = 0;
        }
    }

    /// A decision's write answered; a failed one goes back into the queue, right after the one on
    /// screen (or at the end of a session already left).
    pub fn finished(&mut self, id: &str, outcome: &Outcome) {
        let Some(at) = self
            .decisions
            .iter()
            .rposition(|d| d.id == id && d.written == Written::Sending)
        else {
            return;
        };
        let error = match outcome {
            Outcome::Applied { .. } => {
                self.decisions[at].written = Written::Applied;
                return;
            }
            Outcome::Partly { applied, .. } if applied.iter().any(|a| a == id) => {
                self.decisions[at].written = Written::Applied;
                return;
            }
            Outcome::Unknown { .. } => {
                self.decisions[at].written = Written::Unknown;
                return;
            }
            Outcome::Conflict { .. } => CHANGED.to_string(),
            Outcome::Partly { conflicted, .. } if conflicted.iter().any(|c| c == id) => {
                CHANGED.to_string()
            }
            Outcome::Partly { message, .. } | Outcome::Failed { message } => message.clone(),
            Outcome::Refused(error) => error.user_message(),
        };
        if at + 1 == self.decisions.len() {
            // The decision a waiting `u` meant did not land: it comes back anyway.
            self.undo_when_written = false;
        }
        self.decisions.remove(at);
        self.errors.insert(id.to_string(), error);
        let at = (self.position + 1).min(self.queue.len());
        self.queue.insert(at, id.to_string());
    }

    /// `u`: takes back the last decision that stands and shows that referral again. Returns it, or
    /// why it cannot be taken back yet.
    pub fn take_back(&mut self) -> Result<Decision, String> {
        let Some(last) = self.decisions.last() else {
            return Err("Nothing decided in this session yet.".to_string());
        };
        if last.written == Written::Sending {
            let message = format!(
                "{} is still being written: it is taken back as soon as the server answers.",
                last.id
            );
            self.undo_when_written = true;
            return Err(message);
        }
        let decision = self.decisions.pop().expect("checked above");
        self.queue.insert(self.position, decision.id.clone());
        Ok(decision)
    }

    /// Undoes `take_back` for a decision that cannot be taken back after all.
    pub fn put_back(&mut self, decision: Decision) {
        if self.queue.get(self.position) == Some(&decision.id) {
            self.queue.remove(self.position);
        }
        self.decisions.push(decision);
    }

    /// The session's counts from its outcomes so far.
    pub fn summary(&self, now: Timestamp) -> Summary {
        let count = |rejection: bool| {
            self.decisions
                .iter()
                .filter(|d| d.rejection == rejection && d.written == Written::Applied)
                .count()
        };
        let written = |w: Written| self.decisions.iter().filter(|d| d.written == w).count();
        let end = self.ended.unwrap_or(now);
        Summary {
            verified: count(false),
            rejected: count(true),
            already: written(Written::Already),
            skipped: self.skipped,
            failed: self.errors.len(),
            sending: written(Written::Sending),
            unknown: written(Written::Unknown),
            minutes: (end.as_second() - self.started.as_second()) as f64 / 60.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-21T10:00:00Z".parse().unwrap()
    }

    fn session() -> Triage {
        Triage::new(vec!["a".into(), "b".into(), "c".into()], now())
    }

    fn applied() -> Outcome {
        Outcome::Applied {
            records: vec![],
            note: None,
        }
    }

    /// One row per outcome: how the session's counts and queue take it.
    #[test]
    fn counts_come_from_outcomes() {
        // (outcome, (verified, failed, sending, unknown) after it, queue length after it)
        type Row = (Outcome, (usize, usize, usize, usize), usize);
        let table: Vec<Row> = vec![
            (applied(), (1, 0, 0, 0), 3),
            (
                Outcome::Failed {
                    message: "500".into(),
                },
                (0, 1, 0, 0),
                4,
            ),
            (
                Outcome::Unknown {
                    message: "lost".into(),
                },
                (0, 0, 0, 1),
                3,
            ),
        ];
        for (outcome, (verified, failed, sending, unknown), queue) in table {
            let mut triage = session();
            triage.decide("a", false, Written::Sending, now());
            let before = triage.summary(now());
            assert_eq!(
                (before.verified, before.sending),
                (0, 1),
                "not counted while sending"
            );
            triage.finished("a", &outcome);
            let after = triage.summary(now());
            assert_eq!(
                (after.verified, after.failed, after.sending, after.unknown),
                (verified, failed, sending, unknown),
                "{}",
                outcome.word()
            );
            assert_eq!(triage.queue.len(), queue, "{}", outcome.word());
        }
    }

    #[test]
    fn a_failed_decision_comes_back_after_the_one_on_screen_and_leaves_the_count() {
        let mut triage = session();
        triage.decide("a", true, Written::Sending, now());
        assert_eq!(triage.decided(), 1);
        triage.finished(
            "a",
            &Outcome::Failed {
                message: "HTTP 500".into(),
            },
        );
        assert_eq!(triage.decided(), 0);
        assert_eq!(triage.queue, ["a", "b", "a", "c"]);
        assert_eq!(triage.errors["a"], "HTTP 500");
        triage.skip();
        triage.decide("a", true, Written::Sending, now());
        assert!(triage.errors.is_empty(), "decided again: the error is gone");
    }

    #[test]
    fn an_outcome_after_leaving_still_counts() {
        let mut triage = session();
        triage.decide("a", false, Written::Sending, now());
        triage.ended = Some(now());
        triage.finished("a", &applied());
        assert_eq!(triage.summary(now()).verified, 1);
        assert!(!triage.sending());
    }

    #[test]
    fn take_back_waits_for_the_write_and_requeues_the_referral() {
        let mut triage = session();
        triage.decide("a", false, Written::Sending, now());
        assert!(
            triage
                .take_back()
                .unwrap_err()
                .contains("still being written")
        );
        triage.finished("a", &applied());
        let taken = triage.take_back().unwrap();
        assert_eq!(taken.id, "a");
        assert_eq!(triage.current(), Some("a"));
        assert_eq!(triage.decided(), 0);
    }

    /// Decisions per minute count the decisions that stand, each in the minute it was made.
    #[test]
    fn decisions_are_counted_per_minute_of_the_session() {
        let at = |seconds: i64| now() + jiff::SignedDuration::from_secs(seconds);
        let mut triage = Triage::new(["a", "b", "c", "d", "e"].map(String::from).to_vec(), now());
        assert_eq!(
            triage.per_minute(now()),
            [0],
            "the first minute, nothing yet"
        );
        triage.decide("a", false, Written::Applied, at(5));
        triage.decide("b", false, Written::Applied, at(59));
        triage.decide("c", true, Written::Sending, at(130));
        triage.decide("d", false, Written::Sending, at(150));
        triage.finished(
            "d",
            &Outcome::Failed {
                message: "500".into(),
            },
        );
        assert_eq!(
            triage.per_minute(at(200)),
            [2, 0, 1, 0],
            "the failed decision is no longer one"
        );
    }
}
