//! The writes in flight: every Mutation the console sends is submitted here, whoever started it
//! (form, quick key, bulk, triage, undo, a resend from the journal), and each answer comes back here
//! once, as an Outcome, to become one `Completion` that `update` routes to whoever started it. The
//! undo stack is kept here too: an applied write leaves its inverse, in one place, and the rows of
//! one bulk change gather in one step.

use std::collections::BTreeMap;

use super::action::{Effect, RequestId};
use crate::api::Batch;
use crate::domain::MetadataMode;
use crate::domain::mutation::{Mutation, Outcome, after_of};
use crate::domain::schema::Schema;

/// Who asked for a write, which decides where its completion is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Form,
    Quick,
    Bulk,
    Triage,
    Undo,
    /// A row of a bulk change being undone as one step.
    BulkUndo,
    /// Sent again from the journal after an earlier run.
    Resend,
}

impl Origin {
    /// The journal's word for why a write was made.
    pub fn word(self) -> &'static str {
        match self {
            Origin::Form => "form",
            Origin::Quick => "quick",
            Origin::Bulk => "bulk",
            Origin::Triage => "triage",
            Origin::Undo | Origin::BulkUndo => "undo",
            Origin::Resend => "resend",
        }
    }

    pub fn is_undo(self) -> bool {
        matches!(self, Origin::Undo | Origin::BulkUndo)
    }
}

/// The undo step a write belongs to: the change it makes, or the change it takes back.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRef {
    /// "approve of 5035", "Mark verified 126 referrals".
    pub label: String,
    /// Writes of one bulk change share a group, so one `u` takes them all back.
    pub group: Option<u64>,
}

/// One step of `u`: everything one change did, to be put back together.
#[derive(Debug, Clone, PartialEq)]
pub struct UndoStep {
    pub label: String,
    /// The writes that put it back; empty when the backend cannot undo it.
    pub writes: Vec<Mutation>,
    pub group: Option<u64>,
}

impl UndoStep {
    pub fn step_ref(&self) -> StepRef {
        StepRef {
            label: self.label.clone(),
            group: self.group,
        }
    }
}

/// A write that has been handed to the runner and not yet answered.
#[derive(Debug, Clone, PartialEq)]
pub struct InFlight {
    pub mutation: Mutation,
    pub origin: Origin,
    /// The undo step it makes (or, for an undo, the one it takes back).
    pub step: StepRef,
    /// A backend action's latest progress on the server, while it runs.
    pub progress: Option<Batch>,
}

/// A write's answer, with what it was and who asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub mutation: Mutation,
    pub origin: Origin,
    /// The change it made or took back: its label for messages, and the undo step it is in.
    pub step: StepRef,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Writes {
    pub in_flight: BTreeMap<RequestId, InFlight>,
    /// What puts back each change that reached the server, newest last, for `u`.
    pub undo: Vec<UndoStep>,
}

impl Writes {
    /// Takes `mutation` into flight under `req` and returns the Effect that sends it. `step` is the
    /// undo step it belongs to; None makes one of its own.
    pub fn submit(
        &mut self,
        req: RequestId,
        mutation: Mutation,
        origin: Origin,
        step: Option<StepRef>,
    ) -> Effect {
        let step = step.unwrap_or_else(|| StepRef {
            label: mutation.label(),
            group: None,
        });
        let group = step.group;
        self.in_flight.insert(
            req,
            InFlight {
                mutation: mutation.clone(),
                origin,
                step,
                progress: None,
            },
        );
        Effect::Mutate {
            req,
            mutation,
            why: origin.word(),
            group,
        }
    }

    /// A running action's progress on the server.
    pub fn progress(&mut self, req: RequestId, batch: Batch) {
        if let Some(flight) = self.in_flight.get_mut(&req) {
            flight.progress = Some(batch);
        }
    }

    /// The one place an answer is taken: the write leaves flight, an applied one leaves its inverse
    /// on the undo stack (unless it was itself an undo), and an undo that did not land goes back.
    pub fn complete(
        &mut self,
        schema: &Schema,
        mode: MetadataMode,
        req: RequestId,
        outcome: Outcome,
    ) -> Option<Completion> {
        let flight = self.in_flight.remove(&req)?;
        let landed = outcome.landed();
        if flight.origin.is_undo() {
            if !landed {
                self.add_to_step(&flight.step, Some(flight.mutation.clone()));
            }
        } else if landed {
            let inverse = inverse_of(schema, mode, &flight.mutation, &outcome);
            self.add_to_step(&flight.step, inverse);
        }
        Some(Completion {
            mutation: flight.mutation,
            origin: flight.origin,
            step: flight.step,
            outcome,
        })
    }

    /// The undo write that the applied (not undo) write `done` just left on the stack: the newest
    /// write of its step.
    pub fn undo_of(&mut self, done: &Completion) -> Option<&mut Mutation> {
        if done.origin.is_undo() {
            return None;
        }
        let step = match done.step.group {
            Some(group) => self.undo.iter_mut().rev().find(|s| s.group == Some(group)),
            None => self.undo.last_mut().filter(|s| s.label == done.step.label),
        }?;
        step.writes.last_mut()
    }

    /// Adds `write` to the step `step` names (its group's, or a new one on top). A change with no
    /// inverse still makes a step, so `u` says it cannot be undone rather than skipping it.
    fn add_to_step(&mut self, step: &StepRef, write: Option<Mutation>) {
        let existing = step
            .group
            .and_then(|g| self.undo.iter_mut().rev().find(|s| s.group == Some(g)));
        match existing {
            Some(found) => found.writes.extend(write),
            None => self.undo.push(UndoStep {
                label: step.label.clone(),
                writes: write.into_iter().collect(),
                group: step.group,
            }),
        }
    }

    /// Writes still waiting for an answer.
    pub fn count(&self) -> usize {
        self.in_flight.len()
    }
}

/// What puts back what an applied write did, when the backend can.
fn inverse_of(
    schema: &Schema,
    mode: MetadataMode,
    mutation: &Mutation,
    outcome: &Outcome,
) -> Option<Mutation> {
    match (mutation, outcome) {
        (Mutation::Fields(write), Outcome::Applied { records, .. }) => {
            let record = records.iter().find(|r| r.id == write.id)?;
            let after = after_of(schema, write, record, mode);
            Some(Mutation::Fields(write.inverse(schema, &after)))
        }
        (Mutation::Action(action), Outcome::Applied { records, .. }) => action
            .inverse_for(&action.ids, records)
            .map(Mutation::Action),
        (
            Mutation::Action(action),
            Outcome::Partly {
                applied, records, ..
            },
        ) => action.inverse_for(applied, records).map(Mutation::Action),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiError, BatchAction};
    use crate::domain::Record;
    use crate::domain::conflict::base_of;
    use crate::domain::diff::diff;
    use crate::domain::mutation::{ActionWrite, FieldWrite};
    use crate::domain::schema::V1_SCHEMA;
    use serde_json::{Map, Value, json};

    fn record(v: Value) -> Record {
        Record::sample(v)
    }

    fn verify() -> Mutation {
        let loaded = record(json!({"status": "converted"}));
        let wanted = json!({"status": "verified"});
        let changes = diff(
            &V1_SCHEMA,
            &loaded,
            wanted.as_object().unwrap(),
            MetadataMode::Merge,
        );
        let base = base_of(&V1_SCHEMA, &loaded, &changes.body, MetadataMode::Merge);
        Mutation::Fields(FieldWrite {
            id: "ref_1".into(),
            changes,
            base,
            guard: true,
        })
    }

    fn approve(inverse: Option<BatchAction>) -> Mutation {
        Mutation::Action(ActionWrite {
            action: BatchAction::Approve,
            ids: vec!["1".into(), "2".into()],
            reason: None,
            watched: "state",
            before: Map::new(),
            held: Map::new(),
            inverse,
        })
    }

    fn applied() -> Outcome {
        Outcome::Applied {
            records: vec![record(json!({"status": "verified"}))],
            note: None,
        }
    }

    fn failed() -> Outcome {
        Outcome::Failed {
            message: "500".into(),
        }
    }

    fn complete(writes: &mut Writes, mutation: Mutation, origin: Origin, outcome: Outcome) {
        complete_in(writes, mutation, origin, None, outcome)
    }

    fn complete_in(
        writes: &mut Writes,
        mutation: Mutation,
        origin: Origin,
        step: Option<StepRef>,
        outcome: Outcome,
    ) {
        writes.submit(RequestId(1), mutation, origin, step);
        let done = writes
            .complete(&V1_SCHEMA, MetadataMode::Merge, RequestId(1), outcome)
            .expect("a completion");
        assert_eq!(done.origin, origin);
        assert!(writes.in_flight.is_empty());
    }

    /// The bodies each undo step would send, newest last.
    fn undo_bodies(writes: &Writes) -> Vec<Vec<Value>> {
        writes
            .undo
            .iter()
            .map(|step| {
                step.writes
                    .iter()
                    .map(|m| match m {
                        Mutation::Fields(w) => Value::Object(w.changes.body.clone()),
                        Mutation::Action(a) => json!(a.action.path()),
                    })
                    .collect()
            })
            .collect()
    }

    /// One row per rule: what each kind of answer leaves on the undo stack.
    #[test]
    fn the_undo_stack_follows_outcomes() {
        let refused = Outcome::Refused(ApiError::Invalid {
            status: 400,
            message: "no".into(),
            fields: vec![],
        });
        let conflict = Outcome::Conflict {
            theirs: record(json!({"status": "rejected"})),
            fields: vec!["status".into()],
        };
        let unknown = Outcome::Unknown {
            message: "no answer".into(),
        };
        let table: Vec<(Outcome, Vec<Vec<Value>>)> = vec![
            (applied(), vec![vec![json!({"status": "converted"})]]),
            (refused, vec![]),
            (conflict, vec![]),
            (failed(), vec![]),
            (unknown, vec![]),
        ];
        for (outcome, expected) in table {
            let mut writes = Writes::default();
            let word = outcome.word();
            complete(&mut writes, verify(), Origin::Quick, outcome);
            assert_eq!(undo_bodies(&writes), expected, "{word}");
        }
    }

    #[test]
    fn an_undo_that_lands_leaves_nothing_and_one_that_fails_goes_back() {
        let mut writes = Writes::default();
        complete(&mut writes, verify(), Origin::Form, applied());
        let step = writes.undo.pop().unwrap();
        assert_eq!(step.label, "ref_1 · status converted → verified");
        let write = step.writes[0].clone();
        complete_in(
            &mut writes,
            write.clone(),
            Origin::Undo,
            Some(step.step_ref()),
            failed(),
        );
        assert_eq!(
            writes.undo,
            std::slice::from_ref(&step),
            "a failed undo stays undoable"
        );
        writes.undo.pop();
        complete_in(
            &mut writes,
            write,
            Origin::Undo,
            Some(step.step_ref()),
            applied(),
        );
        assert!(writes.undo.is_empty());
    }

    #[test]
    fn the_rows_of_one_bulk_make_one_step() {
        let mut writes = Writes::default();
        let bulk = StepRef {
            label: "Mark verified 3 referrals".into(),
            group: Some(7),
        };
        for _ in 0..3 {
            complete_in(
                &mut writes,
                verify(),
                Origin::Bulk,
                Some(bulk.clone()),
                applied(),
            );
        }
        complete(&mut writes, verify(), Origin::Quick, applied());
        assert_eq!(writes.undo.len(), 2);
        assert_eq!(writes.undo[0].label, "Mark verified 3 referrals");
        assert_eq!(writes.undo[0].writes.len(), 3);
    }

    #[test]
    fn a_change_without_an_inverse_still_makes_a_step_that_says_so() {
        let mut writes = Writes::default();
        complete(&mut writes, approve(None), Origin::Quick, applied());
        assert_eq!(
            writes.undo.len(),
            1,
            "approving a pending referral is remembered"
        );
        assert!(writes.undo[0].writes.is_empty(), "… as not undoable");
        assert_eq!(writes.undo[0].label, "approve of 2 referrals");
        complete(
            &mut writes,
            approve(Some(BatchAction::Disable)),
            Origin::Bulk,
            Outcome::Partly {
                records: vec![],
                applied: vec!["2".into()],
                failed: vec!["1".into()],
                conflicted: vec![],
                message: "1 failed".into(),
            },
        );
        match writes.undo[1].writes.as_slice() {
            [Mutation::Action(a)] => assert_eq!(
                (a.action, a.ids.clone()),
                (BatchAction::Disable, vec!["2".to_string()])
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_answer_for_no_write_in_flight_is_dropped() {
        let mut writes = Writes::default();
        assert!(
            writes
                .complete(&V1_SCHEMA, MetadataMode::Merge, RequestId(9), failed())
                .is_none()
        );
    }
}
