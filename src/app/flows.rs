//! Where writes start and where their answers are shown. Status keys, bulk, triage, undo, retries
//! and the form all plan through the backend's policy and submit through `writes`; each
//! `Completion` is routed here to the form, the bulk or the triage that started it.

use serde_json::json;

use super::action::{Effect, RequestId};
use super::bulk::{Bulk, BulkIntent};
use super::bulk_errors;
use super::clash::Clash;
use super::state::{Level, Overlay, Question, State};
use super::text::TextBuffer;
use super::triage::{Triage, Written};
use super::writes::{Completion, Origin, StepRef};
use crate::domain::Record;
use crate::domain::conflict::base_of;
use crate::domain::diff::ChangeSet;
use crate::domain::mutation::{FieldWrite, Mutation, Outcome};
use crate::domain::policy::{Plan, PlanContext, QuickKey};

/// After a form closes on a save, status keys wait this long before they act again.
const TYPE_AHEAD_GUARD: jiff::SignedDuration = jiff::SignedDuration::from_millis(700);

/// On a read-only profile: says that `what` is refused and returns true. Every write path asks
/// this before it plans, asks or sends anything; `submit` asks it again as the last gate.
pub fn refused_read_only(state: &mut State, what: &str) -> bool {
    if state.session.read_only {
        state.say(
            Level::Error,
            format!(
                "read-only profile: {what} refused, nothing was sent (read_only in the profile, REFEREE_READ_ONLY or --read-only)."
            ),
        );
    }
    state.session.read_only
}

/// Sends `mutation` through the pipeline on behalf of `origin`, as part of undo step `step` (None:
/// a step of its own).
pub fn submit(
    state: &mut State,
    mutation: Mutation,
    origin: Origin,
    step: Option<StepRef>,
) -> Vec<Effect> {
    if refused_read_only(state, "writing") {
        return Vec::new();
    }
    let req = state.next_request_id();
    if origin == Origin::Form
        && let Some(form) = state.form.as_mut()
    {
        form.saving = Some(req);
    }
    vec![state.writes.submit(req, mutation, origin, step)]
}

/// What every plan needs from the state (the headless `referee bulk` plans through it too).
pub fn plan(
    state: &State,
    ids: &[String],
    key: QuickKey,
    reason: Option<&str>,
) -> Result<Plan, String> {
    let records: Vec<&Record> = ids.iter().filter_map(|id| state.record(id)).collect();
    if records.len() < ids.len() {
        return Err("Some of these referrals are no longer in the list; press r to reload.".into());
    }
    let context = PlanContext {
        schema: state.schema,
        admin_id: state.session.admin_id.as_deref(),
        clock: &state.clock,
        mode: state.session.metadata_mode,
    };
    let mut plan = state.schema.policy.plan(&context, &records, key, reason)?;
    // A write over a value that could not be read could lose what the server holds.
    let (kept, unsafe_writes): (Vec<Mutation>, Vec<Mutation>) =
        plan.mutations.into_iter().partition(|mutation| {
            let Mutation::Fields(write) = mutation else {
                return true;
            };
            state
                .record(&write.id)
                .is_none_or(|r| write.overwrites_unreadable(state.schema, r).is_none())
        });
    plan.mutations = kept;
    for mutation in unsafe_writes {
        let id = mutation.ids().remove(0);
        plan.skipped.push((id, UNREADABLE_SKIP.to_string()));
    }
    Ok(plan)
}

/// Why a referral is left alone when a change would write over a value referee could not read.
const UNREADABLE_SKIP: &str =
    "part of what this would change could not be read, so it is left alone (see the detail pane)";

/// "already verified" for one skipped referral, "3 already so" for several.
fn skipped_note(plan: &Plan) -> String {
    let unreadable = plan
        .skipped
        .iter()
        .filter(|(_, why)| why == UNREADABLE_SKIP)
        .count();
    match plan.skipped.as_slice() {
        [(id, why)] => format!("{id} — {why}"),
        many if unreadable == 0 => format!("{} referrals are already so", many.len()),
        many => format!(
            "{} referrals left alone: {} already so, {unreadable} with values that could not be read",
            many.len(),
            many.len() - unreadable
        ),
    }
}

/// A status key in the list or detail: planned first, so a key that does nothing here says so
/// without asking; on marked rows it asks once, naming what will really happen.
pub fn quick(state: &mut State, key: QuickKey) -> Vec<Effect> {
    if refused_read_only(state, "a status change") {
        return Vec::new();
    }
    if state
        .keys_settle_at
        .is_some_and(|until| state.clock.now < until)
    {
        state.say(
            Level::Info,
            "The form just closed: press the status key again if you meant it.",
        );
        return Vec::new();
    }
    let bulk = !state.marked.is_empty();
    state.left_alone = None;
    let ids: Vec<String> = match state.selected_record() {
        _ if bulk => state.marked.iter().cloned().collect(),
        Some(record) => vec![record.id.clone()],
        None => {
            state.say(Level::Info, "No referral selected.");
            return Vec::new();
        }
    };
    let plan = match plan(state, &ids, key, None) {
        Ok(plan) => plan,
        Err(message) => {
            state.say(Level::Info, message);
            return Vec::new();
        }
    };
    if plan.mutations.is_empty() {
        if let [(id, _)] = plan.skipped.as_slice() {
            state.left_alone = Some(id.clone());
        }
        state.say(
            Level::Info,
            format!("Nothing to send: {}.", skipped_note(&plan)),
        );
        return Vec::new();
    }
    if bulk {
        state.overlay = Some(Overlay::Confirm(Question::Bulk { key, plan }));
        return Vec::new();
    }
    if key == QuickKey::Reject {
        ask_reason(state, ids);
        return Vec::new();
    }
    let records: Vec<&Record> = ids.iter().filter_map(|id| state.record(id)).collect();
    if !state.schema.policy.undoable(&records, key) {
        state.overlay = Some(Overlay::Confirm(Question::Irreversible { key, plan }));
        return Vec::new();
    }
    send_quick(state, key, plan)
}

/// `y` to a status key whose change cannot be undone: sent as the key would have sent it.
pub fn irreversible_confirmed(state: &mut State, key: QuickKey, plan: Plan) -> Vec<Effect> {
    if refused_read_only(state, "a status change") {
        return Vec::new();
    }
    send_quick(state, key, plan)
}

fn send_quick(state: &mut State, key: QuickKey, plan: Plan) -> Vec<Effect> {
    let effects = send_plan(state, plan, Origin::Quick);
    state.admin_note_owed |= note_missing_admin(state, key);
    effects
}

/// The first verify of a session with no admin id says that `verified_by` stays empty and how to
/// set it, where the backend would have recorded it. True when it was said.
fn note_missing_admin(state: &mut State, key: QuickKey) -> bool {
    if key != QuickKey::Verify || state.session.admin_id.is_some() || state.admin_noted {
        return false;
    }
    let Some(note) = state.schema.policy.admin_note() else {
        return false;
    };
    state.admin_noted = true;
    state.say(Level::Error, note);
    true
}

/// Says the admin-id note owed to a write's answer after whatever the answer said.
fn say_owed_admin_note(state: &mut State) {
    if !std::mem::take(&mut state.admin_note_owed) {
        return;
    }
    let Some(note) = state.schema.policy.admin_note() else {
        return;
    };
    let text = match &state.message {
        Some(said) if !said.text.is_empty() && !said.text.contains(note) => {
            format!("{} {note}", said.text)
        }
        _ => note.to_string(),
    };
    state.say(Level::Error, text);
}

fn send_plan(state: &mut State, plan: Plan, origin: Origin) -> Vec<Effect> {
    let mut effects = Vec::new();
    for mutation in plan.mutations {
        state.say(
            Level::Info,
            format!("Sending {} · {}…", mutation.describe(), mutation.summary()),
        );
        effects.extend(submit(state, mutation, origin, None));
    }
    effects
}

/// Opens the reason prompt for rejecting (or disabling) `ids`.
pub fn ask_reason(state: &mut State, ids: Vec<String>) {
    state.overlay = Some(Overlay::RejectReason {
        ids,
        input: TextBuffer::single(""),
        error: None,
    });
}

/// `y` on the bulk question.
pub fn bulk_confirmed(state: &mut State, key: QuickKey, plan: Plan) -> Vec<Effect> {
    if refused_read_only(state, "a bulk change") {
        return Vec::new();
    }
    if key == QuickKey::Reject {
        ask_reason(state, plan.ids());
        return Vec::new();
    }
    start_bulk(state, key, None, plan)
}

/// Enter in the reason prompt: the rejection planned again with its reason and sent. Err keeps the
/// prompt open with the message.
pub fn reason_given(
    state: &mut State,
    ids: Vec<String>,
    reason: &str,
) -> Result<Vec<Effect>, String> {
    if refused_read_only(state, "a rejection") {
        return Ok(Vec::new());
    }
    let plan = plan(state, &ids, QuickKey::Reject, Some(reason))?;
    let marked = !state.marked.is_empty();
    state.marked.clear();
    if marked || ids.len() > 1 {
        return Ok(start_bulk(
            state,
            QuickKey::Reject,
            Some(reason.into()),
            plan,
        ));
    }
    Ok(send_plan(state, plan, Origin::Quick))
}

/// Starts a bulk change of `key` on the planned rows (after the question, or from `referee bulk`).
pub fn start_bulk(
    state: &mut State,
    key: QuickKey,
    reason: Option<String>,
    plan: Plan,
) -> Vec<Effect> {
    if refused_read_only(state, "a bulk change") {
        return Vec::new();
    }
    let verb = state.schema.policy.verb(key);
    let count = plan.ids().len();
    let step = StepRef {
        label: format!(
            "{verb} {count} referral{}",
            if count == 1 { "" } else { "s" }
        ),
        group: Some(state.next_request_id().0),
    };
    let effects = run_bulk(state, BulkIntent::Key { key, reason }, verb, step, plan);
    // The question said it already; rows answering say their own things.
    note_missing_admin(state, key);
    effects
}

/// `referee bulk --set`: the same field changes on many referrals, planned by the form's rules
/// (`field_write`), sent as one bulk change and one undo step.
pub fn start_set_bulk(state: &mut State, plan: Plan) -> Vec<Effect> {
    if refused_read_only(state, "a bulk change") {
        return Vec::new();
    }
    let count = plan.ids().len();
    let step = StepRef {
        label: format!(
            "Set fields on {count} referral{}",
            if count == 1 { "" } else { "s" }
        ),
        group: Some(state.next_request_id().0),
    };
    run_bulk(state, BulkIntent::Set, "Set fields", step, plan)
}

/// Starts a bulk change unless one is still running.
fn run_bulk(
    state: &mut State,
    intent: BulkIntent,
    verb: &'static str,
    step: StepRef,
    plan: Plan,
) -> Vec<Effect> {
    if let Some(running) = state.bulk.as_ref().filter(|b| b.is_running()) {
        let progress = running.progress();
        state.say(
            Level::Info,
            format!(
                "A bulk change is still running ({progress}): start the next one when it ends."
            ),
        );
        return Vec::new();
    }
    state.bulk = Some(Bulk::new(intent, verb, step, plan));
    state.marked.clear();
    let effects = pump(state);
    bulk_errors::note_end(state);
    effects
}

/// Bulk writes in flight at most now: the profile's `concurrency`, or one while the HTTP core
/// holds requests for the server's rate limit. The rest stay queued meanwhile (not journaled, not
/// sent, left unsent by a quit) rather than waiting inside the core as rows shown sending; the
/// window opens again when the wait ends (`net_changed`).
fn window(state: &State) -> usize {
    if state.net.rate_wait_until.is_some() {
        1
    } else {
        state.session.concurrency
    }
}

/// What the HTTP core waits for changed: when a rate-limit wait ends, a bulk with rows queued
/// fills its window again.
pub fn net_changed(state: &mut State, status: crate::api::NetStatus) -> Vec<Effect> {
    let waited = state.net.rate_wait_until.is_some();
    state.net = status;
    let queued = state.bulk.as_ref().is_some_and(|b| !b.queue.is_empty());
    if waited && state.net.rate_wait_until.is_none() && queued {
        pump(state)
    } else {
        Vec::new()
    }
}

/// Sends queued bulk writes until the window (`window`) is in flight.
fn pump(state: &mut State) -> Vec<Effect> {
    let limit = window(state);
    let mut effects = Vec::new();
    if state.quit_when_idle {
        // Quitting: the rows not sent yet stay unsent; only the writes in flight are waited for.
        return effects;
    }
    while let Some(bulk) = state.bulk.as_mut() {
        let Some(mutation) = bulk.next(limit) else {
            break;
        };
        let origin = match bulk.intent {
            BulkIntent::Key { .. } | BulkIntent::Set => Origin::Bulk,
            BulkIntent::Undo => Origin::BulkUndo,
        };
        let step = bulk.step.clone();
        effects.extend(submit(state, mutation, origin, Some(step)));
    }
    report_bulk(state);
    effects
}

fn report_bulk(state: &mut State) {
    let Some(bulk) = &state.bulk else { return };
    let text = bulk.progress();
    let again = match bulk.intent {
        BulkIntent::Key { .. } => "E shows why; R plans the rows that did not land again.",
        BulkIntent::Set => {
            "E shows why; run the same command on the failed ones to send them again."
        }
        BulkIntent::Undo => "E shows why; u tries the ones not undone again.",
    };
    if bulk.is_running() {
        state.say(Level::Info, text);
    } else if bulk.problem_count() == 0 {
        state.say(Level::Success, format!("Done: {text}."));
    } else {
        state.say(Level::Error, format!("Done: {text}. {again}"));
    }
}

/// `R`: the failed rows of the last bulk, planned again from what the server showed.
pub fn retry_failed(state: &mut State) -> Vec<Effect> {
    if refused_read_only(state, "sending failed rows again") {
        return Vec::new();
    }
    let Some(bulk) = &state.bulk else {
        state.say(Level::Info, "No failed rows to send again.");
        return Vec::new();
    };
    if bulk.is_running() {
        state.say(
            Level::Info,
            "The bulk change is still running; R works once it ends.",
        );
        return Vec::new();
    }
    let ids = bulk.failed();
    // The rows sent again belong to the same change: one `u` still takes all of it back.
    let step = bulk.step.clone();
    let (key, reason) = match bulk.intent.clone() {
        BulkIntent::Key { key, reason } => (key, reason),
        BulkIntent::Set => {
            state.say(
                Level::Info,
                "Run the same command on the failed ones to send them again.",
            );
            return Vec::new();
        }
        BulkIntent::Undo => {
            state.say(
                Level::Info,
                "The rows an undo could not put back are on the undo stack: u tries them again.",
            );
            return Vec::new();
        }
    };
    if ids.is_empty() {
        state.say(Level::Info, "No failed rows to send again.");
        return Vec::new();
    }
    match plan(state, &ids, key, reason.as_deref()) {
        Ok(plan) => {
            let verb = state.schema.policy.verb(key);
            run_bulk(state, BulkIntent::Key { key, reason }, verb, step, plan)
        }
        Err(message) => {
            state.say(Level::Error, message);
            Vec::new()
        }
    }
}

/// `y` in the form's review: the form's changes as a guarded write.
pub fn send_form(state: &mut State, mut changes: ChangeSet, guard: bool) -> Vec<Effect> {
    if refused_read_only(state, "saving the form") {
        return Vec::new();
    }
    let Some(id) = state.form.as_ref().map(|f| f.record_id.clone()) else {
        return Vec::new();
    };
    let Some(record) = state.record(&id) else {
        state.say(
            Level::Error,
            format!("{id} is no longer in the list; press r to reload."),
        );
        return Vec::new();
    };
    if !guard {
        // "Keep mine" replaces what the server has now (theirs), not what was first loaded.
        for change in &mut changes.changes {
            change.before = match record.get(&change.key) {
                serde_json::Value::Null => "(none)".to_string(),
                value => crate::domain::record::value_text(&value),
            };
        }
    }
    let mut write = field_write(state, record, changes);
    write.guard = guard;
    let verb = if guard {
        "Saving"
    } else {
        "Sending your values over theirs for"
    };
    state.say(Level::Info, format!("{verb} {id}…"));
    submit(state, Mutation::Fields(write), Origin::Form, None)
}

/// The guarded write of a reviewed change to `record`: the body, and the values it replaces as
/// `record` holds them (what the guard compares and an undo restores).
pub fn field_write(state: &State, record: &Record, changes: ChangeSet) -> FieldWrite {
    let base = base_of(
        state.schema,
        record,
        &changes.body,
        state.session.metadata_mode,
    );
    FieldWrite {
        id: record.id.clone(),
        changes,
        base,
        guard: true,
    }
}

/// `u`: take back the newest change that reached the server, as one step, through the same
/// guard. A change the backend cannot undo says so and stops there; a bulk change asks first.
pub fn undo(state: &mut State) -> Vec<Effect> {
    if refused_read_only(state, "undo") {
        return Vec::new();
    }
    if state.bulk.as_ref().is_some_and(|b| b.is_running()) {
        // Its rows are still joining its undo step: taking part of it back now would split it.
        state.say(
            Level::Info,
            "A bulk change is still running: undo it when it ends.",
        );
        return Vec::new();
    }
    let Some(step) = state.writes.undo.last() else {
        state.say(Level::Info, "Nothing to undo.");
        return Vec::new();
    };
    match step.writes.len() {
        0 => {
            let step = state.writes.undo.pop().expect("checked above");
            state.say(
                Level::Error,
                format!(
                    "The last change ({}) cannot be undone on this backend. u again undoes the change before it.",
                    step.label
                ),
            );
            Vec::new()
        }
        // One write on one referral goes at once; a batch action on many asks, as a bulk does.
        1 if step.writes[0].ids().len() <= 1 => {
            let step = state.writes.undo.pop().expect("checked above");
            state.say(Level::Info, format!("Undoing {}…", step.label));
            let write = step.writes[0].clone();
            submit(state, write, Origin::Undo, Some(step.step_ref()))
        }
        _ => {
            let at = state.writes.undo.len() - 1;
            state.overlay = Some(Overlay::Confirm(Question::UndoBulk { at }));
            Vec::new()
        }
    }
}

/// `y` on the question of undoing a bulk change: the writes of the step it named (at `at`), as
/// one bulk.
pub fn undo_bulk_confirmed(state: &mut State, at: usize) -> Vec<Effect> {
    if refused_read_only(state, "undo") {
        return Vec::new();
    }
    if at >= state.writes.undo.len() {
        return Vec::new();
    }
    let step = state.writes.undo.remove(at);
    let plan = Plan {
        mutations: step.writes.clone(),
        skipped: Vec::new(),
    };
    let taken_back = StepRef {
        label: step.label.clone(),
        group: Some(state.next_request_id().0),
    };
    state.say(Level::Info, format!("Undoing {}…", step.label));
    run_bulk(state, BulkIntent::Undo, "Undo", taken_back, plan)
}

/// A write answered: the one place its outcome reaches the screen.
pub fn written(state: &mut State, req: RequestId, outcome: Outcome) -> Vec<Effect> {
    let (schema, mode) = (state.schema, state.session.metadata_mode);
    let Some(done) = state.writes.complete(schema, mode, req, outcome) else {
        return Vec::new();
    };
    let warning = replaced_metadata(state, &done);
    match &done.outcome {
        Outcome::Applied { records, .. } | Outcome::Partly { records, .. } => {
            state.replace_records(records.clone())
        }
        Outcome::Conflict { theirs, .. } => state.replace_records(vec![theirs.clone()]),
        _ => {}
    }
    let effects = match done.origin {
        Origin::Form => {
            form_answered(state, req, &done);
            Vec::new()
        }
        Origin::Bulk | Origin::BulkUndo => {
            if let Some(bulk) = state.bulk.as_mut() {
                bulk.finished(&done.mutation, &done.outcome);
            }
            let effects = pump(state);
            // A row's problem is shown over the progress line; the bar keeps counting. The
            // last row's gives way to the summary the end of the bulk brings.
            say_outcome(state, &done, false);
            if state.bulk.as_ref().is_some_and(|b| !b.is_running()) {
                report_bulk(state);
            }
            bulk_errors::note_end(state);
            effects
        }
        Origin::Triage => triage_answered(state, &done),
        Origin::Quick | Origin::Undo | Origin::Resend => {
            say_outcome(state, &done, true);
            Vec::new()
        }
    };
    say_owed_admin_note(state);
    if let Some(warning) = warning {
        // Over whatever the write's own message said: the profile is wrong for this server.
        state.say(Level::Error, warning);
    }
    if state.quit_when_idle && state.writes.count() == 0 {
        state.should_quit = true;
    }
    effects
}

/// In merge mode, an applied PUT whose answer lost metadata keys it did not send means the server
/// replaces metadata: say so at once, and make `u` put the whole previous object back. Runs before
/// the answer replaces the loaded record, which still holds the old object. An undo's answer is
/// not looked at: it is not a change of its own, and its step is already off the stack.
fn replaced_metadata(state: &mut State, done: &Completion) -> Option<String> {
    let (Mutation::Fields(write), Outcome::Applied { records, .. }) =
        (&done.mutation, &done.outcome)
    else {
        return None;
    };
    if state.session.metadata_mode != crate::domain::MetadataMode::Merge || done.origin.is_undo() {
        return None;
    }
    let spec = state
        .schema
        .fields
        .iter()
        .find(|f| f.kind == crate::domain::schema::FieldKind::JsonObject)?;
    let sent = write.changes.body.get(spec.body_key())?.as_object()?;
    let old = state.record(&write.id)?.get(spec.key).clone();
    let new = records
        .iter()
        .find(|r| r.id == write.id)?
        .get(spec.key)
        .clone();
    let old_keys = old.as_object()?;
    let vanished: Vec<&String> = old_keys
        .keys()
        .filter(|k| !sent.contains_key(*k) && new.get(k.as_str()).is_none())
        .collect();
    if vanished.is_empty() {
        return None;
    }
    let warning = format!(
        "Your server replaces metadata: {} vanished from {}. Set metadata_mode = \"replace\" for this profile; u puts the whole previous object back.",
        vanished
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        write.id
    );
    // The undo this write just made sends the whole previous object.
    if let Some(Mutation::Fields(undo)) = state.writes.undo_of(done)
        && undo.id == write.id
    {
        undo.changes
            .body
            .insert(spec.body_key().to_string(), old.clone());
        undo.base.insert(spec.key.to_string(), new);
    }
    Some(warning)
}

/// The status line for a finished write; `success` also says a success (bulk rows do not).
fn say_outcome(state: &mut State, done: &Completion, success: bool) {
    let what = done.mutation.describe();
    match &done.outcome {
        Outcome::Applied { note, .. } if success => {
            let how = note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default();
            let text = if done.origin.is_undo() {
                format!("Undid {}{how}", done.step.label)
            } else {
                format!("Saved {}{how}", done.step.label)
            };
            state.say(Level::Success, text);
        }
        Outcome::Applied { .. } => {}
        Outcome::Partly {
            applied,
            failed,
            conflicted,
            message,
            ..
        } => {
            let mut parts = vec![format!("{} done", applied.len())];
            if !failed.is_empty() {
                parts.push(format!("{} not changed ({message})", failed.len()));
            }
            if !conflicted.is_empty() {
                parts.push(format!(
                    "{} left out: changed by someone else since loaded ({})",
                    conflicted.len(),
                    conflicted.join(", ")
                ));
            }
            state.say(
                Level::Error,
                format!("{} {what}: {}.", done.mutation.summary(), parts.join(", ")),
            );
        }
        Outcome::Refused(error) => state.say(
            Level::Error,
            format!("{what} not saved. {}", error.user_message()),
        ),
        Outcome::Failed { message } => state.say(
            Level::Error,
            format!("{what} not saved. {}", crate::api::error::capitalise(message)),
        ),
        Outcome::Conflict { fields, .. } => state.say(
            Level::Error,
            format!(
                "{what} was changed by someone else since it was loaded ({}). Nothing was sent; look and decide again.",
                labels(state, fields).join(", ")
            ),
        ),
        Outcome::Unknown { message } => state.say(
            Level::Error,
            format!(
                "Could not tell whether {what} was saved: {message}. The journal keeps it; it is checked again at the next start (:journal)."
            ),
        ),
    }
}

fn labels(state: &State, fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .map(|key| {
            state
                .schema
                .field(key)
                .map(|f| f.label.to_string())
                .unwrap_or_else(|| key.clone())
        })
        .collect()
}

/// The form's write answered: it closes on success, shows refusals under their fields, and opens
/// the conflict dialog.
fn form_answered(state: &mut State, req: RequestId, done: &Completion) {
    let ours = state.form.as_ref().is_some_and(|f| f.saving == Some(req));
    if !ours {
        say_outcome(state, done, true);
        return;
    }
    if let Some(form) = state.form.as_mut() {
        form.saving = None;
    }
    match &done.outcome {
        Outcome::Applied { .. } => {
            state.form = None;
            // Keys typed ahead for the form must not become status changes in the list.
            state.keys_settle_at = Some(state.clock.now + TYPE_AHEAD_GUARD);
            say_outcome(state, done, true);
        }
        Outcome::Refused(crate::api::ApiError::Invalid {
            message, fields, ..
        }) => {
            let Some(form) = state.form.as_mut() else {
                return;
            };
            let placed = fields
                .iter()
                .filter(|(key, text)| form.place_error(key, text, true))
                .count();
            if placed == 0 {
                form.top_error = Some(message.clone());
            }
            if let Some(index) = form.fields.iter().position(|f| f.error.is_some()) {
                form.focus = index;
            }
            state.say(
                Level::Error,
                "The server refused the change: see the form. Nothing was lost.",
            );
        }
        Outcome::Conflict { theirs, fields } => {
            let Mutation::Fields(write) = &done.mutation else {
                return;
            };
            let clashes = fields
                .iter()
                .filter_map(|key| {
                    let spec = state.schema.field(key)?;
                    Some(Clash {
                        key: key.clone(),
                        label: spec.label.to_string(),
                        base: write.base.get(key).cloned().unwrap_or_default(),
                        theirs: theirs.get(key).clone(),
                        mine: write
                            .changes
                            .body
                            .get(spec.body_key())
                            .cloned()
                            .unwrap_or_default(),
                    })
                })
                .collect();
            state.overlay = Some(Overlay::Conflict {
                changes: write.changes.clone(),
                clashes,
                scroll: 0,
            });
            state.say(
                Level::Error,
                format!(
                    "{} was changed by someone else since it was loaded ({}). Nothing was sent.",
                    write.id,
                    labels(state, fields).join(", ")
                ),
            );
        }
        _ => say_outcome(state, done, true),
    }
}

/// `t`: the shown rows as a queue; with no filter, the schema's default (oldest first).
pub fn start_triage(state: &mut State) {
    let mut queue: Vec<&Record> = state
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
    state.triage = Some(Triage::new(queue, state.clock.now));
}

/// A decision on the referral on screen: planned, sent in the background, and the next one shows
/// at once. A rejection opens the reason prompt first.
pub fn triage_decide(state: &mut State, key: QuickKey, reason: Option<&str>) -> Vec<Effect> {
    if refused_read_only(state, "a triage decision") {
        return Vec::new();
    }
    let Some(id) = state
        .triage
        .as_ref()
        .and_then(|t| t.current())
        .map(str::to_string)
    else {
        return Vec::new();
    };
    if key == QuickKey::Reject && reason.is_none() {
        if let Some(triage) = state.triage.as_mut() {
            triage.reason = Some(TextBuffer::single(""));
        }
        return Vec::new();
    }
    let plan = match plan(state, std::slice::from_ref(&id), key, reason) {
        Ok(plan) => plan,
        Err(message) => {
            state.say(Level::Error, message);
            return Vec::new();
        }
    };
    let (rejection, now) = (key == QuickKey::Reject, state.clock.now);
    let Some(triage) = state.triage.as_mut() else {
        return Vec::new();
    };
    if let Some(reason) = reason {
        triage.remember_reason(reason);
        triage.reason = None;
    }
    if plan.mutations.is_empty() {
        triage.decide(&id, rejection, Written::Already, now);
        state.say(
            Level::Info,
            format!("Nothing to send: {}.", skipped_note(&plan)),
        );
        return Vec::new();
    }
    triage.decide(&id, rejection, Written::Sending, now);
    let mut effects = Vec::new();
    for mutation in plan.mutations {
        effects.extend(submit(state, mutation, Origin::Triage, None));
    }
    state.admin_note_owed |= note_missing_admin(state, key);
    effects
}

/// A triage write answered: the session (open or already left) counts it.
fn triage_answered(state: &mut State, done: &Completion) -> Vec<Effect> {
    if !matches!(done.outcome, Outcome::Applied { .. }) {
        say_outcome(state, done, false);
    }
    let ids = done.mutation.ids();
    for triage in [state.triage.as_mut(), state.triage_past.as_mut()]
        .into_iter()
        .flatten()
    {
        for id in &ids {
            triage.finished(id, &done.outcome);
        }
    }
    let mut effects = record_summary_when_settled(state);
    let waiting = state
        .triage
        .as_mut()
        .filter(|t| t.undo_when_written && !t.sending());
    if let Some(triage) = waiting {
        triage.undo_when_written = false;
        effects.extend(triage_undo(state));
    }
    effects
}

/// `u` in triage: take back the session's last decision (its write is undone where the backend
/// can) and show that referral again.
pub fn triage_undo(state: &mut State) -> Vec<Effect> {
    if refused_read_only(state, "undo") {
        return Vec::new();
    }
    let Some(triage) = state.triage.as_mut() else {
        return Vec::new();
    };
    let decision = match triage.take_back() {
        Ok(decision) => decision,
        Err(message) => {
            state.say(Level::Info, message);
            return Vec::new();
        }
    };
    let id = decision.id.clone();
    let step = state.writes.undo.iter().rposition(|step| {
        step.group.is_none() && step.writes.iter().any(|w| w.ids().contains(&id))
    });
    match step {
        Some(index) if decision.written == Written::Applied => {
            let step = state.writes.undo.remove(index);
            state.say(Level::Info, format!("Undoing the decision on {id}…"));
            let write = step.writes[0].clone();
            submit(state, write, Origin::Undo, Some(step.step_ref()))
        }
        _ if decision.written == Written::Applied => {
            // The server keeps it: the session must keep counting it, not show it as undecided.
            if let Some(triage) = state.triage.as_mut() {
                triage.put_back(decision);
            }
            state.say(
                Level::Error,
                format!("The last decision on {id} cannot be undone on this backend; it stands."),
            );
            Vec::new()
        }
        _ => {
            state.say(
                Level::Info,
                format!("{id} is back in the queue (nothing had been sent for it)."),
            );
            Vec::new()
        }
    }
}

/// Leaving: the summary on screen, and in the journal once every decision's write has answered.
pub fn leave_triage(state: &mut State) -> Vec<Effect> {
    let Some(mut triage) = state.triage.take() else {
        return Vec::new();
    };
    triage.ended = Some(state.clock.now);
    state.triage_past = Some(triage);
    state.overlay = Some(Overlay::TriageSummary);
    record_summary_when_settled(state)
}

/// The summary goes to the journal once, when the session is left and nothing is still sending.
fn record_summary_when_settled(state: &mut State) -> Vec<Effect> {
    let now = state.clock.now;
    let Some(triage) = state
        .triage_past
        .as_mut()
        .filter(|t| !t.recorded && !t.sending())
    else {
        return Vec::new();
    };
    triage.recorded = true;
    let summary = triage.summary(now);
    let detail = json!({
        "verified": summary.verified, "rejected": summary.rejected, "already": summary.already,
        "skipped": summary.skipped,
        "failed": summary.failed, "unknown": summary.unknown,
        "minutes": (summary.minutes * 10.0).round() / 10.0, "queue": triage.total,
    });
    vec![Effect::RecordSession { detail }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::app::Action;
    use crate::app::bulk::RowResult;
    use crate::app::form::Form;

    use crate::app::update::update;
    use crate::domain::schema::V1_SCHEMA;

    use serde_json::{Value, json};

    fn record(id: &str, status: &str) -> Record {
        let v = json!({"id": id, "first_name": "Ada", "last_name": "L", "email": "ada@x.io",
            "status": status, "verified_at": null, "metadata": {}});
        Record::new(id, v.as_object().unwrap().clone())
    }

    fn state() -> State {
        let mut state = State::sample();
        state.replace_records(vec![
            record("ref_1", "converted"),
            record("ref_2", "converted"),
            record("ref_3", "verified"),
        ]);
        state
    }

    /// The request ids of the writes `effects` send.
    fn sent(effects: &[Effect]) -> Vec<RequestId> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Mutate { req, .. } => Some(*req),
                _ => None,
            })
            .collect()
    }

    fn applied(id: &str) -> Outcome {
        Outcome::Applied {
            records: vec![record(id, "verified")],
            note: None,
        }
    }

    fn refused() -> Outcome {
        Outcome::Refused(ApiError::Invalid {
            status: 400,
            message: "Invalid email: already used".into(),
            fields: vec![("email".into(), "already used".into())],
        })
    }

    fn conflict(id: &str) -> Outcome {
        Outcome::Conflict {
            theirs: record(id, "rejected"),
            fields: vec!["status".into()],
        }
    }

    fn failed() -> Outcome {
        Outcome::Failed {
            message: "HTTP 500; re-reading shows the change did not land".into(),
        }
    }

    fn unknown() -> Outcome {
        Outcome::Unknown {
            message: "the answer was lost, and re-reading it failed too".into(),
        }
    }

    fn message(state: &State) -> String {
        state
            .message
            .as_ref()
            .map(|m| m.text.clone())
            .unwrap_or_default()
    }

    /// A quick key's write, answered each way: what the status bar says and what `u` can undo.
    #[test]
    fn a_quick_key_shows_each_outcome() {
        let table: Vec<(Outcome, &str, usize)> = vec![
            (applied("ref_1"), "Saved ref_1", 1),
            (refused(), "ref_1 not saved. The server refused", 0),
            (conflict("ref_1"), "changed by someone else", 0),
            (failed(), "ref_1 not saved", 0),
            (unknown(), "Could not tell whether ref_1 was saved", 0),
        ];
        for (outcome, says, undoable) in table {
            let mut state = state();
            let word = outcome.word();
            let effects = update(&mut state, Action::Quick(QuickKey::Verify));
            let [req] = sent(&effects)[..] else {
                panic!("{word}: one write, got {effects:?}")
            };
            assert_eq!(state.writes.count(), 1);
            update(&mut state, Action::Written { req, outcome });
            assert!(
                message(&state).contains(says),
                "{word}: {}",
                message(&state)
            );
            assert_eq!(state.writes.undo.len(), undoable, "{word}");
            assert_eq!(state.writes.count(), 0);
        }
    }

    #[test]
    fn a_quick_key_never_writes_over_a_value_that_could_not_be_read() {
        let mut state = State::sample();
        let mut odd = record("ref_1", "converted");
        odd.remove("metadata");
        odd.unreadable.push(crate::domain::record::Unreadable {
            path: "metadata".into(),
            expected: "an object",
            raw: json!([1, 2]),
        });
        state.replace_records(vec![odd]);
        let effects = update(&mut state, Action::Quick(QuickKey::Verify));
        assert!(sent(&effects).is_empty(), "{effects:?}");
        assert!(
            message(&state).contains("could not be read"),
            "{}",
            message(&state)
        );
    }

    /// The form's write: applied closes it, a refusal lands under the field, a conflict opens the
    /// dialog, anything else keeps the form as typed.
    #[test]
    fn the_form_shows_each_outcome() {
        for outcome in [
            applied("ref_1"),
            refused(),
            conflict("ref_1"),
            failed(),
            unknown(),
        ] {
            let word = outcome.word();
            let mut state = state();
            state.form = Some(Form::open(&V1_SCHEMA, &record("ref_1", "converted")));
            let mut changes = ChangeSet::default();
            changes.body.insert("email".into(), json!("new@x.io"));
            let effects = send_form(&mut state, changes, true);
            let [req] = sent(&effects)[..] else {
                panic!("{word}")
            };
            assert_eq!(state.form.as_ref().unwrap().saving, Some(req));
            update(&mut state, Action::Written { req, outcome });
            let form = state.form.as_ref();
            match word {
                "applied" => assert!(form.is_none(), "closed"),
                "refused" => {
                    let email = form.unwrap().fields.iter().find(|f| f.spec.key == "email");
                    assert!(
                        email.unwrap().error.is_some(),
                        "the error is under the field"
                    );
                }
                "conflict" => assert!(matches!(state.overlay, Some(Overlay::Conflict { .. }))),
                _ => {
                    assert!(
                        form.is_some_and(|f| f.saving.is_none()),
                        "{word}: form kept"
                    );
                    assert!(message(&state).contains("ref_1"), "{word}");
                }
            }
        }
    }

    /// A bulk: each row takes its own outcome, the bar counts outcomes, and more rows are sent as
    /// earlier ones answer.
    #[test]
    fn a_bulk_counts_outcomes_and_refills_its_window() {
        let mut state = state();
        for id in ["ref_1", "ref_2", "ref_3"] {
            state.marked.insert(id.into());
        }
        update(&mut state, Action::Quick(QuickKey::Convert));
        assert!(
            matches!(&state.overlay, Some(Overlay::Confirm(Question::Bulk { plan, .. })) if plan.ids() == ["ref_3"]),
            "only the verified one changes: {:?}",
            state.overlay
        );
        update(&mut state, Action::Dismiss);
        update(&mut state, Action::Quick(QuickKey::Verify));
        let effects = update(&mut state, Action::Answer(true));
        let first = sent(&effects);
        assert_eq!(first.len(), 2, "two rows to verify, both within the window");
        let bulk = state.bulk.as_ref().unwrap();
        assert_eq!(
            bulk.rows["ref_3"],
            RowResult::Unchanged("already verified".into())
        );
        update(
            &mut state,
            Action::Written {
                req: first[0],
                outcome: unknown(),
            },
        );
        update(
            &mut state,
            Action::Written {
                req: first[1],
                outcome: applied("ref_2"),
            },
        );
        let bulk = state.bulk.as_ref().unwrap();
        assert!(matches!(bulk.rows["ref_1"], RowResult::Unknown(_)));
        assert_eq!(bulk.rows["ref_2"], RowResult::Done);
        assert!(!bulk.is_running());
        assert_eq!(bulk.failed(), ["ref_1"], "R sends the unknown one again");
    }

    /// A failing row says so over the progress line, but the last one gives way to the summary.
    /// A batch action's undo on many referrals asks first, as a bulk's does; on one it goes.
    #[test]
    fn undoing_a_batch_action_on_many_referrals_asks_first() {
        for (ids, asks) in [(vec!["5001", "5002"], true), (vec!["5001"], false)] {
            let mut state = state();
            state.writes.undo.push(crate::app::writes::UndoStep {
                label: "Approve".into(),
                writes: vec![Mutation::Action(crate::domain::mutation::ActionWrite {
                    action: crate::api::BatchAction::Disable,
                    ids: ids.iter().map(|id| id.to_string()).collect(),
                    reason: None,
                    watched: "state",
                    before: Default::default(),
                    held: Default::default(),
                    inverse: None,
                })],
                group: None,
            });
            let effects = update(&mut state, Action::Undo);
            let asked = matches!(
                state.overlay,
                Some(Overlay::Confirm(Question::UndoBulk { at: 0 }))
            );
            assert_eq!(asked, asks, "{ids:?}");
            assert_eq!(
                effects.is_empty(),
                asks,
                "sent only when not asked: {ids:?}"
            );
        }
    }

    #[test]
    fn a_bulk_ends_on_its_summary_even_when_its_last_row_failed() {
        let mut state = state();
        state
            .marked
            .extend(["ref_1".to_string(), "ref_2".to_string()]);
        update(&mut state, Action::Quick(QuickKey::Verify));
        let reqs = sent(&update(&mut state, Action::Answer(true)));
        update(
            &mut state,
            Action::Written {
                req: reqs[0],
                outcome: failed(),
            },
        );
        assert!(
            message(&state).contains("ref_1 not saved"),
            "{}",
            message(&state)
        );
        update(
            &mut state,
            Action::Written {
                req: reqs[1],
                outcome: failed(),
            },
        );
        assert!(
            message(&state).starts_with("Done: Mark verified 2/2 · 2 failed"),
            "{}",
            message(&state)
        );
    }

    /// A bulk's undo is one step: `u` waits for the bulk to end, and `y` undoes the step the
    /// question named even if a write landed on top of it meanwhile.
    #[test]
    fn a_bulk_is_undone_whole_and_as_asked() {
        let mut state = state();
        state
            .marked
            .extend(["ref_1".to_string(), "ref_2".to_string()]);
        update(&mut state, Action::Quick(QuickKey::Verify));
        let reqs = sent(&update(&mut state, Action::Answer(true)));
        let outcome = applied("ref_1");
        update(
            &mut state,
            Action::Written {
                req: reqs[0],
                outcome,
            },
        );
        assert!(update(&mut state, Action::Undo).is_empty());
        assert!(
            message(&state).contains("still running"),
            "{}",
            message(&state)
        );
        let outcome = applied("ref_2");
        update(
            &mut state,
            Action::Written {
                req: reqs[1],
                outcome,
            },
        );
        update(&mut state, Action::Undo);
        assert!(matches!(
            state.overlay,
            Some(Overlay::Confirm(Question::UndoBulk { at: 0 }))
        ));
        // A single write lands on top while the question is open.
        state.writes.undo.push(crate::app::writes::UndoStep {
            label: "ref_3 · email".into(),
            writes: vec![],
            group: None,
        });
        let effects = update(&mut state, Action::Answer(true));
        assert_eq!(sent(&effects).len(), 2, "both rows of the bulk go back");
        assert_eq!(state.writes.undo.len(), 1);
        assert_eq!(
            state.writes.undo[0].label, "ref_3 · email",
            "the newer step stays"
        );
    }

    /// A status key on a referral already so sends nothing and says who made it so: a single key
    /// marks the row `=`, and triage counts it as already so, not as a verification of its own.
    #[test]
    fn a_referral_already_so_is_left_alone_and_counted_as_such() {
        let mut values = record("ref_3", "verified").to_json();
        values["verified_at"] = json!("2026-07-15T09:00:00Z");
        values["metadata"] = json!({"verified_by": "admin_maria"});
        let verified = Record::new("ref_3", values.as_object().unwrap().clone());

        let mut single = state();
        single.replace_records(vec![verified.clone()]);
        single.select("ref_3");
        assert!(sent(&update(&mut single, Action::Quick(QuickKey::Verify))).is_empty());
        assert_eq!(single.left_alone.as_deref(), Some("ref_3"));
        assert!(
            message(&single).contains("already verified by admin_maria on 15 Jul 2026"),
            "{}",
            message(&single)
        );
        update(&mut single, Action::Quick(QuickKey::Convert));
        assert_eq!(
            single.left_alone, None,
            "the next status key clears the mark"
        );

        let mut state = state();
        state.replace_records(vec![verified]);
        state.list.filter = TextBuffer::single("status:verified");
        state.refilter();
        update(&mut state, Action::TriageStart);
        assert!(sent(&update(&mut state, Action::Quick(QuickKey::Verify))).is_empty());
        assert!(
            message(&state).contains("already verified by admin_maria"),
            "{}",
            message(&state)
        );
        let summary = state.triage.as_ref().unwrap().summary(state.clock.now);
        assert_eq!((summary.verified, summary.already), (0, 1));
    }

    /// A single status key whose change cannot be undone (FirstPromoter's approve from pending)
    /// asks first, saying so; `y` sends it and `n` sends nothing. One that can be undone does not ask.
    #[test]
    fn a_change_that_cannot_be_undone_is_asked_about_first() {
        let v2 = |state: &str| {
            let v = json!({"id": 5035, "email": "ada@x.io", "state": state,
                "promoter_campaign": {"id": 7}});
            Record::new("5035", v.as_object().unwrap().clone())
        };
        let console = |record: Record| {
            let mut state = State::sample();
            state.schema = &crate::domain::schema::V2_SCHEMA;
            state.session.backend = "firstpromoter";
            state.replace_records(vec![record]);
            state
        };
        for (answer, sends) in [(true, 1), (false, 0)] {
            let mut state = console(v2("pending"));
            assert!(sent(&update(&mut state, Action::Quick(QuickKey::Verify))).is_empty());
            assert!(
                matches!(
                    state.overlay,
                    Some(Overlay::Confirm(Question::Irreversible { .. }))
                ),
                "{:?}",
                state.overlay
            );
            assert_eq!(
                sent(&update(&mut state, Action::Answer(answer))).len(),
                sends
            );
            assert!(state.overlay.is_none());
        }
        let mut state = console(v2("denied"));
        assert_eq!(
            sent(&update(&mut state, Action::Quick(QuickKey::Pending))).len(),
            1,
            "enable can be undone: sent at once"
        );
    }

    /// With no admin id, the first verify's note is not covered by its own "Saved": the answer
    /// says both.
    #[test]
    fn the_missing_admin_id_is_still_said_when_the_first_verify_answers() {
        let verified = |state: &mut State, id: &str| {
            state.select(id);
            let [req] = sent(&update(state, Action::Quick(QuickKey::Verify)))[..] else {
                panic!("one write")
            };
            let outcome = applied(id);
            update(state, Action::Written { req, outcome });
            state.message.clone().expect("a message")
        };
        let mut state = state();
        state.session.admin_id = None;
        let said = verified(&mut state, "ref_1");
        assert!(said.text.contains("Saved ref_1"), "{}", said.text);
        let note = "set admin_id in the profile or REFEREE_ADMIN_ID";
        assert!(said.text.contains(note), "{}", said.text);
        assert_eq!(said.level, Level::Error);
        let said = verified(&mut state, "ref_2");
        assert!(
            !said.text.contains(note),
            "said once a session: {}",
            said.text
        );
    }

    /// A server that replaces metadata is named after the write that shows it, and that write's
    /// undo sends the whole previous object; an undo's own answer is not taken for another sign,
    /// and never rewrites an older change's undo.
    #[test]
    fn a_server_replacing_metadata_is_named_and_each_undo_puts_back_its_own_object() {
        let with = |status: &str, metadata: Value| {
            let mut values = record("ref_1", status).to_json();
            values["metadata"] = metadata;
            Record::new("ref_1", values.as_object().unwrap().clone())
        };
        let answer = |record: Record| Outcome::Applied {
            records: vec![record],
            note: None,
        };
        let original = json!({"source": "flyer", "location": "Library"});
        let mut state = State::sample();
        state.replace_records(vec![with("converted", original.clone())]);
        let undo_body = |state: &State, at: usize| match &state.writes.undo[at].writes[..] {
            [Mutation::Fields(undo)] => undo.changes.body.get("metadata").cloned(),
            other => panic!("one field write: {other:?}"),
        };

        // v: the answer lost source and location, which v did not send.
        let [req] = sent(&update(&mut state, Action::Quick(QuickKey::Verify)))[..] else {
            panic!("one write")
        };
        let verified = with("verified", json!({"verified_by": "admin_1"}));
        update(
            &mut state,
            Action::Written {
                req,
                outcome: answer(verified),
            },
        );
        assert!(
            message(&state).contains("replaces metadata: source, location vanished"),
            "{}",
            message(&state)
        );
        assert_eq!(
            undo_body(&state, 0),
            Some(original.clone()),
            "u puts the whole object back"
        );

        // A second change whose answer brings a key the console never had (another writer).
        let [req] = sent(&update(&mut state, Action::Quick(QuickKey::Convert)))[..] else {
            panic!("one write")
        };
        let converted = with("converted", json!({"notes": "from elsewhere"}));
        update(
            &mut state,
            Action::Written {
                req,
                outcome: answer(converted),
            },
        );

        // Its undo's answer lacks `notes`: no new warning, and the first change's undo is intact.
        let [req] = sent(&update(&mut state, Action::Undo))[..] else {
            panic!("one undo write")
        };
        let back = with("verified", json!({"verified_by": "admin_1"}));
        update(
            &mut state,
            Action::Written {
                req,
                outcome: answer(back),
            },
        );
        assert!(
            !message(&state).contains("replaces metadata"),
            "{}",
            message(&state)
        );
        assert_eq!(state.writes.undo.len(), 1);
        assert_eq!(
            undo_body(&state, 0),
            Some(original),
            "the older undo still sends the original"
        );
    }

    /// Rows `R` sends again belong to the bulk they failed in: one `u` takes back all of it.
    #[test]
    fn rows_sent_again_are_undone_with_their_bulk() {
        let mut state = state();
        state
            .marked
            .extend(["ref_1".to_string(), "ref_2".to_string()]);
        update(&mut state, Action::Quick(QuickKey::Verify));
        let reqs = sent(&update(&mut state, Action::Answer(true)));
        let outcomes = [applied("ref_1"), failed()];
        for (req, outcome) in reqs.into_iter().zip(outcomes) {
            update(&mut state, Action::Written { req, outcome });
        }
        let [again] = sent(&update(&mut state, Action::RetryFailed))[..] else {
            panic!("R sends the failed row")
        };
        let outcome = applied("ref_2");
        update(
            &mut state,
            Action::Written {
                req: again,
                outcome,
            },
        );
        assert_eq!(state.writes.undo.len(), 1, "{:?}", state.writes.undo);
        update(&mut state, Action::Undo);
        assert!(matches!(
            state.overlay,
            Some(Overlay::Confirm(Question::UndoBulk { at: 0 }))
        ));
        assert_eq!(sent(&update(&mut state, Action::Answer(true))).len(), 2);
    }

    /// Triage counts a decision when its write answers, even after the session was left.
    #[test]
    fn triage_counts_outcomes_that_arrive_after_leaving() {
        let mut state = state();
        start_triage(&mut state);
        let effects = update(&mut state, Action::Quick(QuickKey::Verify));
        let [req] = sent(&effects)[..] else { panic!() };
        let effects = update(&mut state, Action::Back);
        assert!(effects.is_empty(), "the summary waits for the write");
        assert_eq!(
            state
                .triage_past
                .as_ref()
                .unwrap()
                .summary(state.clock.now)
                .verified,
            0
        );
        let effects = update(
            &mut state,
            Action::Written {
                req,
                outcome: applied("ref_1"),
            },
        );
        let past = state.triage_past.as_ref().unwrap();
        assert_eq!(past.summary(state.clock.now).verified, 1);
        match effects.as_slice() {
            [Effect::RecordSession { detail }] => assert_eq!(detail["verified"], Value::from(1)),
            other => panic!("the summary is journaled once settled: {other:?}"),
        }
    }

    #[test]
    fn quitting_with_writes_in_flight_can_wait_for_them() {
        let mut state = state();
        let effects = update(&mut state, Action::Quick(QuickKey::Verify));
        let [req] = sent(&effects)[..] else { panic!() };
        update(&mut state, Action::Quit);
        assert!(matches!(
            state.overlay,
            Some(Overlay::Confirm(Question::Quit))
        ));
        update(&mut state, Action::WaitThenQuit);
        assert!(!state.should_quit, "still waiting");
        update(
            &mut state,
            Action::Written {
                req,
                outcome: applied("ref_1"),
            },
        );
        assert!(state.should_quit, "quits once the write has its outcome");
    }

    #[test]
    fn quit_now_after_waiting_to_quit_quits_at_once() {
        let mut state = state();
        update(&mut state, Action::Quick(QuickKey::Verify));
        update(&mut state, Action::Quit);
        update(&mut state, Action::WaitThenQuit);
        update(&mut state, Action::Quit);
        assert!(
            matches!(state.overlay, Some(Overlay::Confirm(Question::Quit))),
            "asked again"
        );
        update(&mut state, Action::Answer(true));
        assert!(state.should_quit);
        assert!(!state.quit_when_idle, "no longer waiting: it quit now");
    }

    #[test]
    fn a_rate_limit_wait_narrows_the_bulk_window_to_one_until_it_ends() {
        let mut state = state();
        state.replace_records(
            (1..=6)
                .map(|n| record(&format!("ref_{n}"), "converted"))
                .collect(),
        );
        state.session.concurrency = 4;
        let waiting = crate::api::NetStatus {
            rate_wait_until: Some("2026-11-21T10:01:00Z".parse().unwrap()),
            ..Default::default()
        };
        update(&mut state, Action::Net(waiting.clone()));
        for n in 1..=6 {
            state.marked.insert(format!("ref_{n}"));
        }
        update(&mut state, Action::Quick(QuickKey::Verify));
        let first = sent(&update(&mut state, Action::Answer(true)));
        assert_eq!(first.len(), 1, "one goes out to wait for the window");
        let answered = Action::Written {
            req: first[0],
            outcome: applied("ref_1"),
        };
        let second = sent(&update(&mut state, answered));
        assert_eq!(second.len(), 1, "still one at a time while the wait lasts");
        // Another change of status while still waiting opens nothing.
        assert!(sent(&update(&mut state, Action::Net(waiting))).is_empty());
        let opened = sent(&update(&mut state, Action::Net(Default::default())));
        assert_eq!(opened.len(), 3, "the wait ended: the window of 4 fills");
        assert_eq!(state.bulk.as_ref().unwrap().in_flight, 4);
        assert!(
            sent(&update(&mut state, Action::Net(Default::default()))).is_empty(),
            "no wait ended"
        );
    }

    #[test]
    fn waiting_to_quit_sends_no_more_queued_bulk_rows() {
        let mut state = state();
        state.session.concurrency = 1;
        for id in ["ref_1", "ref_2"] {
            state.marked.insert(id.into());
        }
        update(&mut state, Action::Quick(QuickKey::Verify));
        let first = sent(&update(&mut state, Action::Answer(true)));
        assert_eq!(first.len(), 1, "one at a time");
        update(&mut state, Action::Quit);
        update(&mut state, Action::WaitThenQuit);
        assert!(
            message(&state).contains("The queued bulk row is not sent"),
            "{}",
            message(&state)
        );
        let next = update(
            &mut state,
            Action::Written {
                req: first[0],
                outcome: applied("ref_1"),
            },
        );
        assert!(sent(&next).is_empty(), "the queued row is not sent");
        assert!(state.should_quit);
    }

    /// A read-only profile: every write path of the console refuses before anything is sent,
    /// and says why. One row per path.
    #[test]
    fn a_read_only_profile_refuses_every_write_path() {
        use crate::app::text::TextBuffer;
        use crate::store::journal::{Intent, Recorded, Stored, Verdict};
        fn marked(state: &mut State) {
            state
                .marked
                .extend(["ref_1".to_string(), "ref_2".to_string()]);
        }
        let journal_entry = Stored {
            entry: 1,
            intent: Intent {
                time: "2026-11-21T09:00:00Z".parse().unwrap(),
                profile: "test".into(),
                backend: "vantio".into(),
                admin_id: None,
                why: "form".into(),
                kind: "write".into(),
                ids: vec!["ref_1".into()],
                action: None,
                body: json!({"first_name": "Bea"}),
                before: json!({"first_name": "Ada"}).as_object().unwrap().clone(),
                wanted: Default::default(),
                detail: Value::Null,
            },
            outcome: Some(Recorded {
                time: "2026-11-21T09:00:01Z".parse().unwrap(),
                verdict: Verdict::Failed,
                status: None,
                after: Default::default(),
                message: None,
            }),
        };
        type Path = Box<dyn Fn(&mut State) -> Vec<Effect>>;
        let paths: Vec<(&str, Path)> = vec![
            (
                "quick key",
                Box::new(|s| update(s, Action::Quick(QuickKey::Verify))),
            ),
            (
                "bulk on marked rows",
                Box::new(|s| {
                    marked(s);
                    update(s, Action::Quick(QuickKey::Verify))
                }),
            ),
            (
                "bulk question answered",
                Box::new(|s| {
                    let ids = ["ref_1".to_string(), "ref_2".to_string()];
                    let plan = plan(s, &ids, QuickKey::Verify, None).unwrap();
                    let key = QuickKey::Verify;
                    s.overlay = Some(Overlay::Confirm(Question::Bulk { key, plan }));
                    update(s, Action::Answer(true))
                }),
            ),
            (
                "reject reason given",
                Box::new(|s| {
                    s.overlay = Some(Overlay::RejectReason {
                        ids: vec!["ref_1".into()],
                        input: TextBuffer::single("spam"),
                        error: None,
                    });
                    update(s, Action::PromptSubmit)
                }),
            ),
            (
                "triage decision",
                Box::new(|s| {
                    start_triage(s);
                    update(s, Action::Quick(QuickKey::Verify))
                }),
            ),
            (
                "form review (Ctrl-s)",
                Box::new(|s| {
                    s.form = Some(Form::open(&V1_SCHEMA, &record("ref_1", "converted")));
                    s.form
                        .as_mut()
                        .unwrap()
                        .restore("first_name", "Bea", &s.clock.clone());
                    update(s, Action::FormSubmit)
                }),
            ),
            (
                "form sent (y on the review)",
                Box::new(|s| {
                    s.form = Some(Form::open(&V1_SCHEMA, &record("ref_1", "converted")));
                    let mut changes = ChangeSet::default();
                    changes.body.insert("first_name".into(), json!("Bea"));
                    s.overlay = Some(Overlay::Review { changes, scroll: 0 });
                    update(s, Action::Answer(true))
                }),
            ),
            (
                "undo",
                Box::new(|s| {
                    let write = plan(s, &["ref_1".to_string()], QuickKey::Verify, None)
                        .unwrap()
                        .mutations
                        .remove(0);
                    s.writes.undo.push(crate::app::writes::UndoStep {
                        label: "ref_1".into(),
                        writes: vec![write],
                        group: None,
                    });
                    update(s, Action::Undo)
                }),
            ),
            (
                "journal resend",
                Box::new(move |s| {
                    s.overlay = Some(Overlay::Journal {
                        entries: vec![journal_entry.clone()],
                        resendable: vec![true],
                        selected: 0,
                    });
                    update(s, Action::Resend)
                }),
            ),
            (
                "R on failed rows",
                Box::new(|s| update(s, Action::RetryFailed)),
            ),
        ];
        for (name, path) in paths {
            let mut state = state();
            state.session.read_only = true;
            let effects = path(&mut state);
            assert!(sent(&effects).is_empty(), "{name}: {effects:?}");
            assert_eq!(state.writes.count(), 0, "{name}");
            assert!(
                message(&state).starts_with("read-only profile:"),
                "{name}: {}",
                message(&state)
            );
            assert!(
                !matches!(state.overlay, Some(Overlay::Confirm(_))),
                "{name}: nothing is asked either"
            );
        }
    }

    #[test]
    fn a_fast_u_after_a_triage_decision_is_not_dropped() {
        let mut state = state();
        start_triage(&mut state);
        let req = sent(&update(&mut state, Action::Quick(QuickKey::Verify)))[0];
        let early = update(&mut state, Action::Undo);
        assert!(sent(&early).is_empty(), "nothing to undo on the server yet");
        let later = update(
            &mut state,
            Action::Written {
                req,
                outcome: applied("ref_1"),
            },
        );
        assert_eq!(
            sent(&later).len(),
            1,
            "the undo goes out once the decision landed"
        );
        let triage = state.triage.as_ref().unwrap();
        assert_eq!(
            triage.current(),
            Some("ref_1"),
            "the referral is back on screen"
        );
        assert_eq!(triage.decided(), 0);
    }
}
