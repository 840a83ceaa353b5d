//! The status keys on FirstPromoter v2: states change only through batch actions — `v` approves
//! (pending or denied referrals), `x` disables, `p` enables (denied ones); there is no "converted".
//! A reason cannot be stored by v2, so it goes to the journal only.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::api::BatchAction;
use crate::domain::mutation::{ActionWrite, Mutation};
use crate::domain::policy::{Plan, PlanContext, Policy, QuickKey, Tone};
use crate::domain::record::Record;

#[derive(Debug)]
pub struct FirstPromoterPolicy;

const STATE: &str = "state";
const LINK: &str = "promoter_campaign.id";

/// The action a key starts.
fn action_for(key: QuickKey) -> Option<BatchAction> {
    match key {
        QuickKey::Verify => Some(BatchAction::Approve),
        QuickKey::Pending => Some(BatchAction::Enable),
        QuickKey::Reject => Some(BatchAction::Disable),
        QuickKey::Convert => None,
    }
}

/// Whether `action` would change a referral in `state` (the server leaves others as they are and
/// still reports them done); Err says why not.
fn acts_on(action: BatchAction, state: &str) -> Result<(), String> {
    match action {
        BatchAction::Approve if matches!(state, "pending" | "denied") => Ok(()),
        BatchAction::Approve => Err(format!(
            "approve acts on pending or denied referrals, not {state}"
        )),
        BatchAction::Enable if state == "denied" => Ok(()),
        BatchAction::Enable => Err(format!("enable acts on denied referrals, not {state}")),
        BatchAction::Disable if state != "denied" => Ok(()),
        BatchAction::Disable => Err("already denied".to_string()),
        BatchAction::MoveToPromoter { .. } => Ok(()),
    }
}

/// The action that puts `records` back where they are now, when one exists: disable undoes an
/// approve or enable of denied referrals, enable undoes a disable of approved ones, and a move goes
/// back to the one promoter campaign they all shared. Approving a pending referral has no inverse.
pub fn inverse(action: BatchAction, records: &[&Record]) -> Option<BatchAction> {
    let all_in = |states: &[&str]| records.iter().all(|r| states.contains(&&*r.text(STATE)));
    match action {
        BatchAction::Approve | BatchAction::Enable if all_in(&["denied"]) => {
            Some(BatchAction::Disable)
        }
        BatchAction::Disable if all_in(&["signup", "active"]) => Some(BatchAction::Enable),
        BatchAction::MoveToPromoter {
            with_commissions, ..
        } => {
            let links: BTreeSet<i64> = records
                .iter()
                .filter_map(|r| r.get(LINK).as_i64())
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

/// An action on `records` as a write, with what it replaces and what undoes it.
pub fn action_write(action: BatchAction, records: &[&Record], reason: Option<&str>) -> ActionWrite {
    let watched = match action {
        BatchAction::MoveToPromoter { .. } => LINK,
        _ => STATE,
    };
    let other = if watched == STATE { LINK } else { STATE };
    let before: Map<String, Value> = records
        .iter()
        .map(|r| (r.id.clone(), r.get(watched).clone()))
        .collect();
    let held: Map<String, Value> = records
        .iter()
        .map(|r| (r.id.clone(), serde_json::json!({ other: r.get(other) })))
        .collect();
    ActionWrite {
        action,
        ids: records.iter().map(|r| r.id.clone()).collect(),
        reason: reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty()),
        watched,
        before,
        held,
        inverse: inverse(action, records),
    }
}

impl Policy for FirstPromoterPolicy {
    fn plan(
        &self,
        _context: &PlanContext,
        records: &[&Record],
        key: QuickKey,
        reason: Option<&str>,
    ) -> Result<Plan, String> {
        let action = action_for(key)
            .ok_or("FirstPromoter has no `converted` action: v approves, x disables, p enables.")?;
        if key == QuickKey::Reject && reason.is_some_and(|r| r.trim().is_empty()) {
            return Err("Type a reason: it goes to referee's journal.".into());
        }
        let mut plan = Plan::default();
        let mut acting = Vec::new();
        for record in records {
            match acts_on(action, &record.text(STATE)) {
                Ok(()) => acting.push(*record),
                Err(why) => plan.skipped.push((record.id.clone(), why)),
            }
        }
        if !acting.is_empty() {
            plan.mutations
                .push(Mutation::Action(action_write(action, &acting, reason)));
        }
        Ok(plan)
    }

    fn status_words(&self) -> &'static [(&'static str, QuickKey)] {
        // States change only through actions, so the actions are the words.
        &[
            ("approve", QuickKey::Verify),
            ("enable", QuickKey::Pending),
            ("disable", QuickKey::Reject),
        ]
    }

    fn verb(&self, key: QuickKey) -> &'static str {
        match key {
            QuickKey::Verify => "Approve",
            QuickKey::Pending => "Enable",
            QuickKey::Reject => "Disable",
            QuickKey::Convert => "Convert",
        }
    }

    fn reason_note(&self) -> &'static str {
        "Reason (v2 cannot store it: it goes to referee's local journal only):"
    }

    fn find_by(&self) -> &'static [&'static str] {
        &["email", "uid", "username", "id"]
    }

    fn tone(&self, status: &str) -> Tone {
        match status {
            "pending" => Tone::Waiting,
            "signup" => Tone::Progressing,
            "active" => Tone::Good,
            "subscribed" => Tone::Customer,
            "denied" => Tone::Refused,
            "refunded" => Tone::Reversed,
            "cancelled" | "moved" => Tone::Closed,
            _ => Tone::Unknown,
        }
    }

    fn undoable(&self, records: &[&Record], key: QuickKey) -> bool {
        action_for(key).is_some_and(|action| inverse(action, records).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::V2_SCHEMA;
    use crate::domain::{Clock, MetadataMode};
    use serde_json::json;

    fn record(id: &str, state: &str) -> Record {
        let v = json!({"state": state, "promoter_campaign": {"id": 7}});
        Record::new(id, v.as_object().unwrap().clone())
    }

    fn plan(records: &[Record], key: QuickKey) -> Result<Plan, String> {
        let clock = Clock::fixed(
            "2026-11-21T10:00:00Z".parse().unwrap(),
            jiff::tz::TimeZone::UTC,
        );
        let context = PlanContext {
            schema: &V2_SCHEMA,
            admin_id: None,
            clock: &clock,
            mode: MetadataMode::Merge,
        };
        let refs: Vec<&Record> = records.iter().collect();
        FirstPromoterPolicy.plan(&context, &refs, key, Some("dup"))
    }

    /// The FirstPromoter conflict guard, one row per rule: (the action, the referral as the server
    /// holds it when the action is about to go, the fields that stop it).
    #[test]
    fn an_action_stops_when_the_state_or_the_promoter_campaign_moved() {
        let moved_to = |state: &str, link: i64| {
            let v = json!({"state": state, "promoter_campaign": {"id": link}});
            Record::new("5002", v.as_object().unwrap().clone())
        };
        let move_to = BatchAction::MoveToPromoter {
            link: 9,
            with_commissions: true,
        };
        let table: Vec<(BatchAction, Record, Vec<&str>)> = vec![
            (BatchAction::Disable, moved_to("pending", 7), vec![]),
            (BatchAction::Disable, moved_to("active", 7), vec![STATE]),
            (BatchAction::Disable, moved_to("pending", 8), vec![LINK]),
            (
                BatchAction::Approve,
                moved_to("denied", 8),
                vec![STATE, LINK],
            ),
            (move_to, moved_to("pending", 7), vec![]),
            (move_to, moved_to("pending", 8), vec![LINK]),
            (move_to, moved_to("denied", 7), vec![STATE]),
        ];
        let loaded = record("5002", "pending");
        for (action, fresh, stops) in table {
            let write = action_write(action, &[&loaded], None);
            assert_eq!(
                write.changed_since_loaded(&fresh),
                stops,
                "{action:?} on {:?}",
                fresh.to_json()
            );
        }
    }

    /// One row per rule: (starting state, key, the action sent or None when it does not apply,
    /// the inverse that `u` would send).
    #[test]
    fn each_key_on_each_state() {
        use BatchAction::*;
        let table: &[(&str, QuickKey, Option<BatchAction>, Option<BatchAction>)] = &[
            ("pending", QuickKey::Verify, Some(Approve), None),
            ("denied", QuickKey::Verify, Some(Approve), Some(Disable)),
            ("active", QuickKey::Verify, None, None),
            ("signup", QuickKey::Reject, Some(Disable), Some(Enable)),
            ("pending", QuickKey::Reject, Some(Disable), None),
            ("denied", QuickKey::Reject, None, None),
            ("denied", QuickKey::Pending, Some(Enable), Some(Disable)),
            ("pending", QuickKey::Pending, None, None),
        ];
        for (state, key, sent, undo) in table {
            let plan = plan(&[record("5", state)], *key).unwrap();
            match (sent, plan.mutations.first()) {
                (Some(sent), Some(Mutation::Action(write))) => {
                    assert_eq!(write.action, *sent, "{state} {key:?}");
                    assert_eq!(write.inverse, *undo, "{state} {key:?}");
                    assert_eq!(write.before["5"], json!(state));
                }
                (None, None) => assert_eq!(plan.skipped[0].0, "5", "{state} {key:?}"),
                (sent, got) => panic!("{state} {key:?}: expected {sent:?}, planned {got:?}"),
            }
        }
    }

    #[test]
    fn convert_does_not_exist_here_and_says_so_before_asking() {
        let error = plan(&[record("5", "pending")], QuickKey::Convert).unwrap_err();
        assert!(error.contains("no `converted` action"), "{error}");
    }

    #[test]
    fn marked_referrals_become_one_action_on_those_it_changes() {
        let records = [
            record("1", "pending"),
            record("2", "active"),
            record("3", "denied"),
        ];
        let plan = plan(&records, QuickKey::Verify).unwrap();
        assert_eq!(plan.mutations.len(), 1);
        assert_eq!(plan.ids(), ["1", "3"]);
        assert_eq!(
            plan.skipped,
            [(
                "2".to_string(),
                "approve acts on pending or denied referrals, not active".to_string()
            )]
        );
    }

    #[test]
    fn a_move_is_undone_by_moving_back_to_the_shared_campaign() {
        let records = [record("1", "active"), record("2", "active")];
        let refs: Vec<&Record> = records.iter().collect();
        let to = BatchAction::MoveToPromoter {
            link: 9,
            with_commissions: true,
        };
        assert_eq!(
            inverse(to, &refs),
            Some(BatchAction::MoveToPromoter {
                link: 7,
                with_commissions: true
            })
        );
    }
}
