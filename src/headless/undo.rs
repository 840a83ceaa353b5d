//! `referee undo [--last | --bulk]`: the console's `u`, from the shell. The console keeps its undo
//! stack in memory; from the shell it is rebuilt from the journal (`stack`): every applied change
//! of this profile leaves the write that puts it back (the same inverse the console computes), the
//! rows of one bulk change make one step, and each applied undo takes its write off again. The
//! chosen step is put on the console's stack and `u` is pressed: the undo goes through the same
//! guard (it never overwrites a change made since) and is journaled with why `undo`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::bulk::Tally;
use super::{Driver, Exit, Failure};
use crate::api::BatchAction;
use crate::app::Action;
use crate::app::state::{Overlay, Question};
use crate::app::text::plural;
use crate::app::writes::UndoStep;
use crate::config::Profile;
use crate::domain::Record;
use crate::domain::mutation::{ActionWrite, FieldWrite, Mutation};
use crate::domain::schema::Schema;
use crate::domain::schema::firstpromoter_policy;
use crate::store::journal::{Intent, Recorded, Stored, Verdict};

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("which").args(["last", "bulk"])),
    after_help = super::docs::EXIT_STATUSES
)]
pub struct UndoArgs {
    /// Undo the newest change that reached the server (the default), whatever its size: a bulk
    /// change is one change, as for `u` in the console.
    #[arg(long)]
    pub last: bool,
    /// Undo the newest bulk change as a whole; single changes made after it stay (a referral one
    /// of them changed again is a conflict, left as it is).
    #[arg(long)]
    pub bulk: bool,
    /// Print the writes that would put it back, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send without asking (needed when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// One step of the rebuilt stack, with the journal entries it came from.
#[derive(Debug, Clone)]
struct Step {
    step: UndoStep,
    entries: Vec<i64>,
    /// The journal's group for the rows of one bulk change.
    group: Option<String>,
}

/// Why an undo that cannot be sent was passed over, for the journal.
const SKIPPED: &str = "undo-skipped";

/// The undo stack the journal's entries of `profile` leave, oldest first.
fn stack(schema: &'static Schema, profile: &Profile, entries: &[Stored]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for stored in entries {
        let intent = &stored.intent;
        if intent.profile != profile.name || intent.backend != profile.backend.as_str() {
            continue;
        }
        let Some(outcome) = &stored.outcome else {
            continue;
        };
        if intent.kind == SKIPPED {
            let passed: Vec<i64> = intent.detail["entries"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            steps.retain(|s| !s.entries.iter().any(|e| passed.contains(e)));
            continue;
        }
        if outcome.verdict != Verdict::Applied {
            continue;
        }
        if intent.why == "undo" {
            take_off(&mut steps, intent);
            continue;
        }
        let inverse = match intent.kind.as_str() {
            "write" => {
                let Some(write) =
                    FieldWrite::from_journal(&intent.ids, &intent.body, &intent.before)
                else {
                    continue;
                };
                Some(Mutation::Fields(write.inverse(schema, &outcome.after)))
            }
            "action" => match action_inverse(intent, &outcome.after) {
                Some(inverse) => inverse.map(Mutation::Action),
                None => continue,
            },
            _ => continue,
        };
        let group = intent.detail["group"].as_str().map(str::to_string);
        let joined = group
            .as_ref()
            .and_then(|g| steps.iter_mut().rev().find(|s| s.group.as_ref() == Some(g)));
        match joined {
            Some(step) => {
                step.step.writes.extend(inverse);
                step.entries.push(stored.entry);
                let rows = step.entries.len();
                step.step.label = format!("{} of {rows} referrals", intent.why);
            }
            None => steps.push(Step {
                step: UndoStep {
                    label: label(intent),
                    writes: inverse.into_iter().collect(),
                    group: None,
                },
                entries: vec![stored.entry],
                group,
            }),
        }
    }
    for (n, step) in steps.iter_mut().enumerate() {
        // The console's stack knows a bulk step by its group.
        step.step.group = step.group.as_ref().map(|_| n as u64 + 1);
    }
    steps
}

/// "ref_1 · status → verified" or "approve of 5035", as the console labels a change.
fn label(intent: &Intent) -> String {
    match (&intent.action, intent.ids.as_slice()) {
        (Some(action), [one]) => format!("{action} of {one}"),
        (Some(action), many) => format!("{action} of {} referrals", many.len()),
        (None, ids) => {
            let fields: Vec<String> = intent
                .body
                .as_object()
                .map(|b| {
                    b.iter()
                        .map(|(k, v)| format!("{k} → {}", crate::domain::record::value_text(v)))
                        .collect()
                })
                .unwrap_or_default();
            format!("{} · {}", ids.join(", "), fields.join(" · "))
        }
    }
}

/// The action that puts back a journaled action on the referrals it changed; None when the entry
/// cannot be read, Some(None) when the backend has no way back.
fn action_inverse(intent: &Intent, after: &Map<String, Value>) -> Option<Option<ActionWrite>> {
    let action = BatchAction::from_journal(intent.action.as_deref()?, &intent.body)?;
    let watched = match intent.detail["watched"].as_str() {
        Some("state") | None => "state",
        _ => "promoter_campaign.id",
    };
    let applied: Vec<String> = intent
        .ids
        .iter()
        .filter(|id| {
            after
                .get(*id)
                .is_some_and(|a| intent.before.get(*id) != Some(a))
        })
        .cloned()
        .collect();
    // Referrals as they were, and as the action left them, holding the watched field.
    let holding = |values: &Map<String, Value>| -> Vec<Record> {
        applied
            .iter()
            .map(|id| {
                let value = values.get(id).cloned().unwrap_or(Value::Null);
                let fields = match watched {
                    "state" => json!({ "state": value }),
                    _ => json!({ "promoter_campaign": { "id": value } }),
                };
                Record::new(id.clone(), fields.as_object().cloned().unwrap_or_default())
            })
            .collect()
    };
    let before = holding(&intent.before);
    let before_refs: Vec<&Record> = before.iter().collect();
    let done = ActionWrite {
        action,
        ids: applied.clone(),
        reason: None,
        watched,
        before: intent.before.clone(),
        held: serde_json::Map::new(),
        inverse: firstpromoter_policy::inverse(action, &before_refs),
    };
    Some(done.inverse_for(&applied, &holding(after)))
}

/// An applied undo takes the write it sent off the newest step holding it.
fn take_off(steps: &mut Vec<Step>, undo: &Intent) {
    let matches = |write: &Mutation| match write {
        Mutation::Fields(w) => {
            undo.kind == "write" && undo.ids == [w.id.clone()] && {
                Value::Object(w.changes.body.clone()) == undo.body
            }
        }
        Mutation::Action(a) => undo.action.as_deref() == Some(a.action.path()) && undo.ids == a.ids,
    };
    for at in (0..steps.len()).rev() {
        if let Some(found) = steps[at].step.writes.iter().position(matches) {
            steps[at].step.writes.remove(found);
            if steps[at].step.writes.is_empty() {
                steps.remove(at);
            }
            return;
        }
    }
}

pub async fn run(args: UndoArgs, profile: Profile, data_dir: &Path) -> Result<Exit, Failure> {
    if !args.dry_run {
        super::refuse_read_only(&profile, "undo")?;
    }
    let mut driver = Driver::open(&profile, data_dir)?;
    driver.settle_unfinished().await;
    let schema = profile.backend.schema();
    let entries = driver
        .journal
        .entries(None)
        .map_err(|e| Failure::bad(format!("reading the journal: {e}")))?;
    let mut steps = stack(schema, &profile, &entries);
    let chosen = if args.bulk {
        steps.iter().rposition(|s| s.group.is_some())
    } else {
        steps.len().checked_sub(1)
    };
    let Some(at) = chosen else {
        let what = if args.bulk {
            "no bulk change"
        } else {
            "nothing"
        };
        crate::cli::say(&format!(
            "{what} to undo: the journal of profile `{}` holds no change that reached the server and was not undone.",
            profile.name
        ));
        return Ok(Exit::Done);
    };
    let chosen = steps.remove(at);
    if chosen.step.writes.is_empty() {
        // As `u` in the console: said, and passed over, so the next undo goes to the one before.
        if !args.dry_run {
            pass_over(&driver, &profile, &chosen);
        }
        return Err(Failure {
            exit: Exit::SomeFailed,
            message: format!(
                "the last change ({}) cannot be undone on this backend; `referee undo` again undoes the change before it",
                super::shown(&chosen.step.label)
            ),
        });
    }
    let count = chosen.step.writes.len();
    let question = format!(
        "Undo {}: put back {}",
        super::shown(&chosen.step.label),
        plural(count, "write")
    );
    crate::cli::say(&question);
    if args.dry_run {
        chosen.step.writes.iter().for_each(super::print_dry_run);
        crate::cli::say("dry run: nothing was sent.");
        return Ok(Exit::Done);
    }
    if !super::confirm(&format!("{question}?"), args.yes)? {
        return Err(Failure::bad("not sent: you answered no"));
    }
    // The step on the console's stack, and `u` (and `y` for a bulk step), as keys would.
    driver.state().writes.undo = vec![chosen.step.clone()];
    driver.dispatch(Action::Undo);
    if matches!(
        driver.state().overlay,
        Some(Overlay::Confirm(Question::UndoBulk { .. }))
    ) {
        driver.dispatch(Action::Answer(true));
    }
    let mut tally = Tally::default();
    let stopped = if driver.state().bulk.is_some() {
        super::bulk::follow(&mut driver, &mut tally).await
    } else {
        let mut outcomes = BTreeMap::new();
        while driver.state().writes.count() > 0 {
            if let Some(done) = driver.next().await {
                for id in done.mutation.ids() {
                    outcomes.insert(id, done.outcome.clone());
                }
            }
        }
        if outcomes.is_empty() {
            return Err(Failure::bad(format!(
                "not sent: {}",
                super::shown(&driver.message())
            )));
        }
        for (id, outcome) in &outcomes {
            let (word, error) = super::outcome_words(outcome, id);
            tally.print(id, word, error.as_deref());
        }
        false
    };
    crate::cli::say(&tally.summary("Undo"));
    Ok(if stopped {
        Exit::Interrupted
    } else {
        tally.exit()
    })
}

/// Records that a change which cannot be undone was passed over, so the next `referee undo`
/// goes on to the change before it (as a second `u` does in the console).
fn pass_over(driver: &Driver, profile: &Profile, step: &Step) {
    let intent = Intent {
        time: jiff::Timestamp::now(),
        profile: profile.name.clone(),
        backend: profile.backend.as_str().to_string(),
        admin_id: profile.admin_id.clone(),
        why: "undo".into(),
        kind: SKIPPED.into(),
        ids: Vec::new(),
        action: None,
        body: Value::Null,
        before: Map::new(),
        wanted: Map::new(),
        detail: json!({ "entries": step.entries, "label": step.step.label }),
    };
    let recorded = Recorded {
        time: jiff::Timestamp::now(),
        verdict: Verdict::Failed,
        status: None,
        after: Map::new(),
        message: Some(format!(
            "{} cannot be undone on this backend; passed over",
            step.step.label
        )),
    };
    if let Err(error) = driver.journal.record_event(&intent, &recorded) {
        tracing::error!(%error, "could not journal an undo passed over");
    }
}
