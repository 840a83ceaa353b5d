//! What the journal knows from earlier runs: writes left without an outcome, settled at start by
//! re-reading their referrals, and the rejection reasons used recently.

use super::Context;
use super::write::{changed_outcome, fetch_one, recorded_of};
use crate::domain::Record;
use crate::domain::mutation::{ActionWrite, FieldWrite, Mutation, Outcome, settle};
use crate::store::journal::{Intent, Stored};

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
        let recorded = recorded_of(context, &mutation, &outcome);
        match context.journal.settle(stored.entry, &recorded) {
            Ok(true) => {}
            // Its writer (another referee still running) recorded its answer meanwhile.
            Ok(false) => continue,
            Err(error) => tracing::error!(%error, "could not journal a reconciled write"),
        }
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
        held: serde_json::Map::new(),
        inverse: None,
    })
}
