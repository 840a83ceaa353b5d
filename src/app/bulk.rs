//! Bulk status changes on marked rows: the planned writes sent with bounded concurrency, a result
//! per row that comes only from that row's outcome (with its error, for the rows that did not
//! land), and `R` to plan the failed ones again. The HTTP core paces to the server's rate limit,
//! so a large bulk never goes over it. How long a finished bulk stays on screen, and `E`, are
//! `app::bulk_errors`.

use std::collections::{HashMap, VecDeque};

use jiff::Timestamp;

use super::writes::StepRef;
use crate::domain::mutation::{Mutation, Outcome};
use crate::domain::policy::{Plan, QuickKey};

/// What happened to a row in the last bulk change.
#[derive(Debug, Clone, PartialEq)]
pub enum RowResult {
    /// Waiting for its turn.
    Queued,
    Sending,
    Done,
    /// Already as the change would leave it (or the change does not act on it): nothing was sent.
    Unchanged(String),
    Failed(String),
    /// Changed by someone else since it was loaded: nothing was sent. Says which fields.
    Conflict(String),
    /// No readable answer and no way to check yet: the journal keeps it.
    Unknown(String),
}

/// A row's error as kept, cut as everything shown from a server is (`text_safety::capped`): a
/// server's whole error page is not worth keeping for every row of a large bulk.
fn kept(text: &str) -> String {
    crate::text_safety::capped(text).into_owned()
}

impl RowResult {
    /// The mark the list shows beside the row.
    pub fn symbol(&self) -> &'static str {
        match self {
            RowResult::Queued => "○",
            RowResult::Sending => "…",
            RowResult::Done => "✓",
            RowResult::Unchanged(_) => "=",
            RowResult::Failed(_) => "✗",
            RowResult::Conflict(_) => "!",
            RowResult::Unknown(_) => "?",
        }
    }

    /// What went wrong, for a row that did not land: its word ("failed", "conflict",
    /// "unknown") and its error.
    pub fn problem(&self) -> Option<(&'static str, &str)> {
        match self {
            RowResult::Failed(why) => Some(("failed", why)),
            RowResult::Conflict(why) => Some(("conflict", why)),
            RowResult::Unknown(why) => Some(("unknown", why)),
            _ => None,
        }
    }

    fn is_final(&self) -> bool {
        !matches!(self, RowResult::Queued | RowResult::Sending)
    }

    /// Rows `R` sends again.
    fn retryable(&self) -> bool {
        self.problem().is_some()
    }
}

/// What a bulk change does.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkIntent {
    /// A status key on marked rows.
    Key {
        key: QuickKey,
        reason: Option<String>,
    },
    /// Takes back an earlier bulk change as one step.
    Undo,
    /// The same field changes on many referrals (`referee bulk --set`).
    Set,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bulk {
    pub intent: BulkIntent,
    /// The key's verb on this backend ("Undo" for an undo), for the bar.
    pub verb: &'static str,
    /// The undo step its writes make (or, for an undo, take back).
    pub step: StepRef,
    /// Writes not sent yet, in order.
    pub queue: VecDeque<Mutation>,
    /// Each row's result, by referral id; the rows of this bulk.
    pub rows: HashMap<String, RowResult>,
    pub in_flight: usize,
    /// When the last row got its result: the marks and the bar stay a while after that
    /// (`bulk_errors::SHOWN`).
    pub ended: Option<Timestamp>,
    /// The status line when the bulk ended, cleared with the marks unless something else has
    /// been said since.
    pub last_words: Option<String>,
}

impl Bulk {
    pub fn new(intent: BulkIntent, verb: &'static str, step: StepRef, plan: Plan) -> Bulk {
        let mut rows: HashMap<String, RowResult> = plan
            .ids()
            .into_iter()
            .map(|id| (id, RowResult::Queued))
            .collect();
        for (id, why) in plan.skipped {
            rows.insert(id, RowResult::Unchanged(why));
        }
        Bulk {
            intent,
            verb,
            step,
            queue: plan.mutations.into(),
            rows,
            in_flight: 0,
            ended: None,
            last_words: None,
        }
    }

    /// The next write to send while fewer than `limit` are in flight.
    pub fn next(&mut self, limit: usize) -> Option<Mutation> {
        if self.in_flight >= limit.max(1) {
            return None;
        }
        let mutation = self.queue.pop_front()?;
        for id in mutation.ids() {
            self.rows.insert(id, RowResult::Sending);
        }
        self.in_flight += 1;
        Some(mutation)
    }

    /// A write of this bulk was answered: each of its rows takes its outcome.
    pub fn finished(&mut self, mutation: &Mutation, outcome: &Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let conflict = |fields: &str| {
            RowResult::Conflict(format!(
                "changed by someone else since it was read{fields}; nothing was sent"
            ))
        };
        for id in mutation.ids() {
            let result = match outcome {
                Outcome::Applied { .. } => RowResult::Done,
                Outcome::Partly { applied, .. } if applied.contains(&id) => RowResult::Done,
                Outcome::Partly { conflicted, .. } if conflicted.contains(&id) => conflict(""),
                Outcome::Partly { message, .. } => RowResult::Failed(kept(message)),
                Outcome::Refused(error) => RowResult::Failed(kept(&error.user_message())),
                Outcome::Failed { message } => RowResult::Failed(kept(message)),
                Outcome::Conflict { fields, .. } => conflict(&format!(" ({})", fields.join(", "))),
                Outcome::Unknown { message } => RowResult::Unknown(kept(message)),
            };
            self.rows.insert(id, result);
        }
    }

    /// Rows still waiting for their turn.
    pub fn queued(&self) -> usize {
        self.queue.iter().map(|m| m.ids().len()).sum()
    }

    pub fn total(&self) -> usize {
        self.rows.len()
    }

    /// Rows with a final result.
    pub fn finished_count(&self) -> usize {
        self.rows.values().filter(|r| r.is_final()).count()
    }

    pub fn is_running(&self) -> bool {
        self.finished_count() < self.total()
    }

    /// Rows that failed, met a conflict or are unknown, for `R`.
    /// The key that sends the rows that did not land again: `R`, or `u` for an undo's rows,
    /// which stay on the undo stack.
    pub fn again_key(&self) -> char {
        match self.intent {
            BulkIntent::Undo => 'u',
            _ => 'R',
        }
    }

    /// How many rows failed, met a conflict or are unknown: counted, not collected, for each frame.
    pub fn problem_count(&self) -> usize {
        self.rows.values().filter(|r| r.retryable()).count()
    }

    pub fn failed(&self) -> Vec<String> {
        self.problems().map(|(id, _)| id.to_string()).collect()
    }

    /// The rows that failed, met a conflict or are unknown, with their results, by id.
    pub fn problems(&self) -> impl Iterator<Item = (&str, &RowResult)> {
        let mut rows: Vec<(&str, &RowResult)> = self
            .rows
            .iter()
            .filter(|(_, r)| r.retryable())
            .map(|(id, r)| (id.as_str(), r))
            .collect();
        rows.sort_unstable_by_key(|(id, _)| *id);
        rows.into_iter()
    }

    /// "Mark verified 12/45 · 1 failed · 2 changed by others · 3 already so" for the bar and the
    /// status line: failures always, the other kinds when there are any.
    pub fn progress(&self) -> String {
        let count = |test: fn(&RowResult) -> bool| self.rows.values().filter(|r| test(r)).count();
        let mut text = format!(
            "{} {}/{} · {} failed",
            self.verb,
            self.finished_count(),
            self.total(),
            count(|r| matches!(r, RowResult::Failed(_)))
        );
        let others = [
            (
                count(|r| matches!(r, RowResult::Conflict(_))),
                "changed by others",
            ),
            (count(|r| matches!(r, RowResult::Unknown(_))), "unknown"),
            (
                count(|r| matches!(r, RowResult::Unchanged(_))),
                "already so",
            ),
        ];
        for (n, words) in others.into_iter().filter(|(n, _)| *n > 0) {
            text.push_str(&format!(" · {n} {words}"));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::domain::diff::ChangeSet;
    use crate::domain::mutation::FieldWrite;
    use serde_json::Map;

    fn write(id: &str) -> Mutation {
        Mutation::Fields(FieldWrite {
            id: id.into(),
            changes: ChangeSet::default(),
            base: Map::new(),
            guard: true,
        })
    }

    #[test]
    fn an_undo_s_rows_are_sent_again_with_u_and_others_with_r() {
        let mut undo = bulk(&["a"]);
        assert_eq!(undo.again_key(), 'R');
        undo.intent = BulkIntent::Undo;
        assert_eq!(undo.again_key(), 'u');
    }

    fn bulk(ids: &[&str]) -> Bulk {
        let plan = Plan {
            mutations: ids.iter().map(|id| write(id)).collect(),
            skipped: vec![("ref_z".into(), "already verified".into())],
        };
        let intent = BulkIntent::Key {
            key: QuickKey::Verify,
            reason: None,
        };
        let step = StepRef {
            label: "Mark verified 4 referrals".into(),
            group: Some(1),
        };
        Bulk::new(intent, "Mark verified", step, plan)
    }

    #[test]
    fn concurrency_is_bounded_and_rows_move_from_queued_to_sending() {
        let mut bulk = bulk(&["a", "b", "c"]);
        assert_eq!(bulk.total(), 4);
        assert_eq!(
            bulk.finished_count(),
            1,
            "the skipped row is final from the start"
        );
        assert!(bulk.next(2).is_some() && bulk.next(2).is_some());
        assert!(bulk.next(2).is_none(), "two in flight is the limit");
        assert_eq!(bulk.rows["a"], RowResult::Sending);
        assert_eq!(bulk.rows["c"], RowResult::Queued);
    }

    /// One row per outcome: the row's mark and whether `R` sends it again.
    #[test]
    fn each_outcome_marks_its_row() {
        let table: Vec<(Outcome, RowResult, bool)> = vec![
            (
                Outcome::Applied {
                    records: vec![],
                    note: None,
                },
                RowResult::Done,
                false,
            ),
            (
                Outcome::Failed {
                    message: "HTTP 500".into(),
                },
                RowResult::Failed("HTTP 500".into()),
                true,
            ),
            (
                Outcome::Refused(ApiError::Invalid {
                    status: 400,
                    message: "bad".into(),
                    fields: vec![],
                }),
                RowResult::Failed("The server refused the change: bad".into()),
                true,
            ),
            (
                Outcome::Conflict {
                    theirs: crate::domain::Record::new("a", Map::new()),
                    fields: vec!["status".into(), "metadata".into()],
                },
                RowResult::Conflict(
                    "changed by someone else since it was read (status, metadata); nothing was sent"
                        .into(),
                ),
                true,
            ),
            (
                Outcome::Failed {
                    message: "x".repeat(5_000),
                },
                RowResult::Failed(format!(
                    "{}… (3000 more)",
                    "x".repeat(crate::text_safety::SHOWN_CHARS)
                )),
                true,
            ),
            (
                Outcome::Unknown {
                    message: "no answer".into(),
                },
                RowResult::Unknown("no answer".into()),
                true,
            ),
        ];
        for (outcome, mark, retry) in table {
            let mut bulk = bulk(&["a"]);
            let sent = bulk.next(4).unwrap();
            bulk.finished(&sent, &outcome);
            assert_eq!(bulk.rows["a"], mark, "{}", outcome.word());
            assert_eq!(bulk.failed().contains(&"a".to_string()), retry);
            assert_eq!(bulk.problem_count(), usize::from(retry));
            assert!(!bulk.is_running());
        }
    }

    #[test]
    fn the_bar_counts_outcomes_not_sends() {
        let mut bulk = bulk(&["a", "b"]);
        let a = bulk.next(4).unwrap();
        let _b = bulk.next(4).unwrap();
        assert_eq!(
            bulk.progress(),
            "Mark verified 1/3 · 0 failed · 1 already so"
        );
        bulk.finished(
            &a,
            &Outcome::Failed {
                message: "x".into(),
            },
        );
        assert_eq!(
            bulk.progress(),
            "Mark verified 2/3 · 1 failed · 1 already so"
        );
        assert!(bulk.is_running());
    }

    #[test]
    fn a_row_someone_else_changed_is_not_counted_as_failed() {
        let mut bulk = bulk(&["a", "b"]);
        let a = bulk.next(4).unwrap();
        let b = bulk.next(4).unwrap();
        bulk.finished(
            &a,
            &Outcome::Conflict {
                theirs: crate::domain::Record::new("a", Map::new()),
                fields: vec!["status".into()],
            },
        );
        bulk.finished(
            &b,
            &Outcome::Unknown {
                message: "no answer".into(),
            },
        );
        assert_eq!(
            bulk.progress(),
            "Mark verified 3/3 · 0 failed · 1 changed by others · 1 unknown · 1 already so"
        );
    }
}
