//! The writes in flight: every Mutation the console sends is submitted here, whoever started it
//! (form, quick key, bulk, triage, undo, a resend from the journal), and each answer comes back here
//! once, as an Outcome, to become one `Completion` that `update` routes to whoever started it. The
//! undo stack is kept here too: an applied write leaves its inverse, in one place.

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
            Origin::Undo => "undo",
            Origin::Resend => "resend",
        }
    }
}

/// A write that has been handed to the runner and not yet answered.
#[derive(Debug, Clone, PartialEq)]
pub struct InFlight {
    pub mutation: Mutation,
    pub origin: Origin,
    /// The undo step this write takes back; it goes back on the stack if the write does not land.
    pub reverts: Option<Mutation>,
    /// A backend action's latest progress on the server, while it runs.
    pub progress: Option<Batch>,
}

/// A write's answer, with what it was and who asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub mutation: Mutation,
    pub origin: Origin,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Writes {
    pub in_flight: BTreeMap<RequestId, InFlight>,
    /// What puts back each change that reached the server, newest last, for `u`.
    pub undo: Vec<Mutation>,
}

impl Writes {
    /// Takes `mutation` into flight under `req` and returns the Effect that sends it.
    pub fn submit(
        &mut self,
        req: RequestId,
        mutation: Mutation,
        origin: Origin,
        reverts: Option<Mutation>,
    ) -> Effect {
        self.in_flight.insert(
            req,
            InFlight {
                mutation: mutation.clone(),
                origin,
                reverts,
                progress: None,
            },
        );
        Effect::Mutate {
            req,
            mutation,
            why: origin.word(),
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
        let inverse = match (&flight.mutation, &outcome) {
            (Mutation::Fields(write), Outcome::Applied { records, .. }) => {
                records.iter().find(|r| r.id == write.id).map(|r| {
                    Mutation::Fields(write.inverse(schema, &after_of(schema, write, r, mode)))
                })
            }
            (Mutation::Action(action), Outcome::Applied { .. }) => {
                action.inverse_for(&action.ids).map(Mutation::Action)
            }
            (Mutation::Action(action), Outcome::Partly { applied, .. }) => {
                action.inverse_for(applied).map(Mutation::Action)
            }
            _ => None,
        };
        let landed = matches!(outcome, Outcome::Applied { .. } | Outcome::Partly { .. });
        match (flight.origin, inverse) {
            (Origin::Undo, _) if landed => {}
            (_, Some(inverse)) => self.undo.push(inverse),
            (_, None) if !landed => self.undo.extend(flight.reverts),
            _ => {}
        }
        Some(Completion {
            mutation: flight.mutation,
            origin: flight.origin,
            outcome,
        })
    }

    /// Writes still waiting for an answer.
    pub fn count(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether a write to `id` is in flight.
    pub fn touches(&self, id: &str) -> bool {
        self.in_flight
            .values()
            .any(|f| f.mutation.ids().iter().any(|i| i == id))
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
        let reverts = (origin == Origin::Undo)
            .then(|| writes.undo.pop())
            .flatten();
        writes.submit(RequestId(1), mutation, origin, reverts);
        let done = writes
            .complete(&V1_SCHEMA, MetadataMode::Merge, RequestId(1), outcome)
            .expect("a completion");
        assert_eq!(done.origin, origin);
        assert!(writes.in_flight.is_empty());
    }

    fn undo_bodies(writes: &Writes) -> Vec<Value> {
        writes
            .undo
            .iter()
            .map(|m| match m {
                Mutation::Fields(w) => Value::Object(w.changes.body.clone()),
                Mutation::Action(a) => json!(a.action.path()),
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
        let table: Vec<(Outcome, Vec<Value>)> = vec![
            (applied(), vec![json!({"status": "converted"})]),
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
        let step = writes.undo.last().cloned().unwrap();
        complete(&mut writes, step.clone(), Origin::Undo, failed());
        assert_eq!(
            writes.undo,
            std::slice::from_ref(&step),
            "a failed undo stays undoable"
        );
        complete(&mut writes, step, Origin::Undo, applied());
        assert!(writes.undo.is_empty());
    }

    #[test]
    fn actions_leave_their_inverse_only_when_there_is_one() {
        let mut writes = Writes::default();
        complete(&mut writes, approve(None), Origin::Quick, applied());
        assert!(
            writes.undo.is_empty(),
            "approving a pending referral cannot be undone"
        );
        complete(
            &mut writes,
            approve(Some(BatchAction::Disable)),
            Origin::Bulk,
            Outcome::Partly {
                records: vec![],
                applied: vec!["2".into()],
                failed: vec!["1".into()],
                message: "1 failed".into(),
            },
        );
        match writes.undo.as_slice() {
            [Mutation::Action(a)] => {
                assert_eq!(
                    (a.action, a.ids.clone()),
                    (BatchAction::Disable, vec!["2".to_string()])
                )
            }
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
