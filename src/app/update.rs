//! `update`: the one place state changes. Pure: it reads no clock and does no I/O; work for the
//! outside world is returned as Effects, and its answers come back as Actions.

use super::action::{Action, Effect, Motion, RequestId};
use super::form::Form;
use super::state::{Level, LoadState, Overlay, Pane, Pending, PickPurpose, Question, State};
use super::text::{TextBuffer, plural};
use super::{bulk_errors, command, copy, dialogs, drafts, editor, export, flows, names, stats};
use crate::api::ApiError;
use crate::api::error::capitalise;
use crate::domain::Record;
use crate::domain::diff::diff;
use crate::domain::policy::QuickKey;
use crate::domain::schema::{FieldKind, RefKind};
use crate::effects::PagingReport;

/// Starts loading referrals and the lookups names come from; the other kinds of reference are
/// named on demand (`app::names`).
pub fn start(state: &mut State, lookup_kinds: &[RefKind]) -> Vec<Effect> {
    names::start(state, lookup_kinds);
    let mut effects = load_referrals(state);
    for kind in lookup_kinds {
        let req = state.request(Pending::Lookup(*kind));
        effects.push(Effect::LoadLookup { req, kind: *kind });
    }
    effects.extend(check_unfinished(state));
    effects
}

/// Asks for the writes an earlier run left without an outcome to be settled by re-reading them
/// (answered by `Reconciled`, said when loading ends).
pub fn check_unfinished(state: &mut State) -> Vec<Effect> {
    let req = state.request(Pending::Reconcile);
    vec![Effect::Reconcile { req }]
}

/// Says what the journal found of an earlier run's unfinished writes.
fn reconciled(
    state: &mut State,
    req: RequestId,
    result: Result<crate::effects::Reconciliation, String>,
) {
    if state.pending.remove(&req).is_none() {
        return;
    }
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            state.say(
                Level::Error,
                format!("Could not check the journal for unfinished writes: {error}"),
            );
            return;
        }
    };
    let checked = report.applied + report.not_applied + report.conflicts + report.unknown;
    if checked == 0 {
        return;
    }
    state.replace_records(report.records);
    let mut parts = vec![];
    for (count, word) in [
        (report.applied, "applied"),
        (report.not_applied, "not sent"),
        (report.conflicts, "changed by someone else since"),
        (report.unknown, "still unknown"),
    ] {
        if count > 0 {
            parts.push(format!("{count} {word}"));
        }
    }
    let level = if report.applied == checked {
        Level::Info
    } else {
        Level::Error
    };
    let note = format!(
        "{checked} write{} from the last run: {} — :journal to see and resend.",
        if checked == 1 { "" } else { "s" },
        parts.join(", ")
    );
    state.say_after_load(level, note);
}

/// Starts loading referrals afresh, stopping a load still under way.
fn load_referrals(state: &mut State) -> Vec<Effect> {
    let mut effects: Vec<Effect> = state
        .pending
        .iter()
        .filter(|(_, p)| **p == Pending::Load)
        .map(|(req, _)| Effect::StopLoad { req: *req })
        .collect();
    state.pending.retain(|_, p| *p != Pending::Load);
    let req = state.request(Pending::Load);
    state.load = LoadState::Loading {
        req,
        loaded: 0,
        awaiting_first: true,
    };
    effects.push(Effect::LoadReferrals { req });
    effects
}

/// Esc while referrals load: the load stops, what has arrived stays, and late pages are dropped
/// (`page_arrived` takes pages only while `Loading` this request).
fn stop_loading(state: &mut State) -> Vec<Effect> {
    let LoadState::Loading { req, .. } = state.load else {
        return Vec::new();
    };
    state.pending.remove(&req);
    state.load = LoadState::Stopped;
    state.loaded_at = Some(state.clock.now);
    state.list.follow = None;
    // Marks on referrals the stopped load never brought back mean nothing any more.
    unmark_unloaded(state);
    let stopped = format!(
        "Loading stopped at {}; r loads again.",
        plural(state.records.len(), "referral")
    );
    if state.loading() {
        // Names are still loading: the notes held for the end of loading follow when they end.
        state.say(Level::Info, stopped);
    } else {
        state.held_notes.insert(0, (Level::Info, stopped));
        state.release_held_notes();
    }
    vec![Effect::StopLoad { req }]
}

pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let before = drafts::watch(state);
    // Time has passed: a finished bulk's marks may be due to clear before this action sees them.
    bulk_errors::expire(state);
    let mut effects = apply(state, action);
    effects.extend(drafts::sync(state, before));
    effects.extend(names::wanted(state));
    stats::follow(state);
    effects
}

fn apply(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Tick => state.spinner = state.spinner.wrapping_add(1),
        Action::Net(status) => return flows::net_changed(state, status),
        Action::Resize { width, height } => {
            state.viewport = (width, height);
            state.move_selection(0);
        }
        Action::ReferralsPage { req, records, end } => page_arrived(state, req, records, end),
        Action::LookupPage { req, entries, end } => lookup_arrived(state, req, entries, end),
        Action::NameLoaded { req, name } => names::arrived(state, req, name),
        Action::Written { req, outcome } => return flows::written(state, req, outcome),
        Action::Unrecorded { message } => state.say(Level::Error, message),
        Action::WriteProgress { req, batch } => state.writes.progress(req, batch),
        Action::Reconciled { req, result } => reconciled(state, req, result),
        Action::JournalLoaded {
            req,
            result,
            damaged,
        } => command::journal_loaded(state, req, result, damaged),
        Action::ReasonsLoaded { req, reasons } => {
            if state.pending.remove(&req).is_some()
                && let Some(triage) = state.triage.as_mut()
            {
                // Reasons typed in this session stay first.
                for reason in reasons.iter().rev() {
                    if !triage.recent_reasons.contains(reason) {
                        triage.recent_reasons.push(reason.clone());
                    }
                }
                triage
                    .recent_reasons
                    .truncate(crate::app::triage::RECENT_REASONS);
            }
        }
        Action::Found { req, result } => command::found(state, req, result),
        Action::RequestFailed { req, error } => request_failed(state, req, error),
        Action::DraftLoaded { req, result } => return drafts::loaded(state, req, result),
        Action::DraftSaved { req, result } => drafts::saved(state, req, result),
        Action::Exported {
            req,
            path,
            count,
            result,
        } => export::finished(state, req, path, count, result),
        Action::Edited { id, field, result } => editor::returned(state, &id, field, result),
        Action::TerminalFailed(why) => state.say(Level::Error, why),
        other => return input(state, other),
    }
    Vec::new()
}

/// Actions that come from keys, routed by what has the keyboard: overlay, form, filter, list.
fn input(state: &mut State, action: Action) -> Vec<Effect> {
    if let Some(effects) = copy::input(state, &action) {
        return effects;
    }
    if let Some(overlay) = state.overlay.take() {
        return dialogs::overlay_input(state, overlay, action);
    }
    if state.form.is_some() {
        return form_input(state, action);
    }
    if state.triage.is_some() {
        return triage_input(state, action);
    }
    if state.stats.is_some() {
        stats::input(state, action);
        return Vec::new();
    }
    match action {
        Action::Move(motion) if state.focus == Pane::Detail => {
            // Stop with the last line still on screen.
            let last = state
                .selected_record()
                .map(|r| detail_lines(state, r))
                .unwrap_or(0)
                .saturating_sub(1) as u16;
            state.detail_scroll = match motion {
                Motion::Up | Motion::PageUp | Motion::Top => state.detail_scroll.saturating_sub(3),
                _ => state.detail_scroll.saturating_add(3).min(last),
            };
        }
        Action::Move(motion) => {
            let page = state.list_rows() as isize;
            let delta = match motion {
                Motion::Up => -1,
                Motion::Down => 1,
                Motion::PageUp => -page,
                Motion::PageDown => page,
                Motion::Top => isize::MIN / 2,
                Motion::Bottom => isize::MAX / 2,
            };
            // The admin chose a row: a reload under way no longer pulls the cursor back.
            state.list.follow = None;
            state.move_selection(delta);
        }
        Action::SelectRow(position) if position < state.list.visible.len() => {
            state.list.follow = None;
            state.focus = Pane::List;
            state.move_selection(position as isize - state.list.selected as isize);
        }
        Action::OpenDetail => {
            state.detail_open = true;
            state.detail_scroll = 0;
            state.list.filtering = false;
        }
        Action::Back if !state.marked.is_empty() => {
            state.marked.clear();
            state.say(Level::Info, "Marks cleared.");
        }
        Action::ToggleMark => {
            if let Some(id) = state.selected_record().map(|r| r.id.clone())
                && !state.marked.remove(&id)
            {
                state.marked.insert(id);
            }
            state.move_selection(1);
        }
        Action::MarkAll => {
            let shown: Vec<String> = state
                .list
                .visible
                .iter()
                .map(|i| state.records[*i].id.clone())
                .collect();
            state.marked.extend(shown);
            state.say(
                Level::Info,
                format!(
                    "{} marked. A status key acts on all of them; Esc clears.",
                    state.marked.len()
                ),
            );
        }
        Action::Back if state.focus == Pane::Detail || state.detail_open => {
            state.detail_open = false;
            state.focus = Pane::List;
        }
        // Nothing left to go back from while loading: back stops the load.
        Action::Back
            if matches!(state.load, LoadState::Loading { .. })
                && state.list.filter.text().is_empty() =>
        {
            return stop_loading(state);
        }
        Action::Back | Action::FilterClear => {
            state.list.filter = TextBuffer::single("");
            state.list.filtering = false;
            state.refilter();
        }
        Action::SwitchPane if state.detail_open => {
            state.focus = if state.focus == Pane::List {
                Pane::Detail
            } else {
                Pane::List
            };
        }
        Action::FilterStart => {
            state.list.filtering = true;
            state.focus = Pane::List;
        }
        Action::FilterEdit(edit) => {
            let changed = state.list.filter.apply(edit);
            if changed {
                state.refilter()
            }
        }
        Action::FilterDone => state.list.filtering = false,
        Action::Reload => {
            bulk_errors::forget(state);
            state.say(Level::Info, "Reloading…");
            return load_referrals(state);
        }
        Action::SortNext => {
            let shown = |column| state.screen.list.is_none_or(|rows| rows.shows(column));
            let next = super::order::Sort::next(
                state.list.order.sort(),
                state.schema.columns.len(),
                shown,
            );
            state.set_sort(next);
        }
        Action::Edit => match state.selected_record() {
            Some(record) => {
                state.form = Some(Form::open(state.schema, record));
                state.list.filtering = false;
                return drafts::opened(state);
            }
            None => state.say(Level::Info, "No referral selected."),
        },
        Action::Quick(key) => return flows::quick(state, key),
        Action::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Action::Undo => return flows::undo(state),
        Action::RetryFailed => return flows::retry_failed(state),
        Action::ShowBulkErrors => bulk_errors::open(state),
        Action::TriageStart => {
            flows::start_triage(state);
            if state.triage.is_some() {
                let req = state.request(Pending::Reasons);
                return vec![Effect::LoadReasons { req }];
            }
        }
        Action::Stats => stats::open(state),
        Action::CommandStart => {
            state.overlay = Some(Overlay::Command {
                input: TextBuffer::single(""),
                error: None,
            })
        }
        Action::Quit if state.pending_writes() > 0 => {
            state.overlay = Some(Overlay::Confirm(Question::Quit))
        }
        Action::Quit => state.should_quit = true,
        _ => {}
    }
    Vec::new()
}

/// The most the triage card scrolls: enough to bring a long metadata value into view.
const TRIAGE_SCROLL_END: u16 = 40;

/// Keys in a verification session: one per decision; the reason prompt when it is open.
fn triage_input(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(triage) = state.triage.as_mut() else {
        return Vec::new();
    };
    if let Some(reason) = triage.reason.as_mut() {
        match action {
            Action::PromptEdit(edit) => {
                reason.apply(edit);
            }
            Action::PromptSubmit => {
                let text = reason.text();
                if !text.trim().is_empty() {
                    return flows::triage_decide(state, QuickKey::Reject, Some(text.trim()));
                }
            }
            Action::PickReason(n) => {
                if let Some(text) = triage.recent_reasons.get(n).cloned() {
                    return flows::triage_decide(state, QuickKey::Reject, Some(&text));
                }
            }
            Action::Dismiss | Action::Back => triage.reason = None,
            _ => {}
        }
        return Vec::new();
    }
    match action {
        Action::Quick(key) => return flows::triage_decide(state, key, None),
        Action::TriageSkip => triage.skip(),
        Action::Move(motion) => {
            triage.scroll = match motion {
                Motion::Up => triage.scroll.saturating_sub(3),
                Motion::Down => triage.scroll.saturating_add(3),
                Motion::PageUp => triage.scroll.saturating_sub(15),
                Motion::PageDown => triage.scroll.saturating_add(15),
                Motion::Top => 0,
                Motion::Bottom => TRIAGE_SCROLL_END,
            }
            .min(TRIAGE_SCROLL_END)
        }
        Action::Undo => return flows::triage_undo(state),
        Action::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        Action::Quit | Action::Back | Action::Dismiss => return flows::leave_triage(state),
        _ => {}
    }
    Vec::new()
}

fn form_input(state: &mut State, action: Action) -> Vec<Effect> {
    let clock = state.clock.clone();
    let Some(form) = state.form.as_mut() else {
        return Vec::new();
    };
    let dirty = form.is_dirty();
    match action {
        Action::Quit if dirty || form.saving.is_some() => {
            state.overlay = Some(Overlay::Confirm(Question::Quit))
        }
        Action::Quit => state.should_quit = true,
        Action::FormCancel if form.saving.is_some() => {
            state.say(Level::Info, "Still saving: wait for the server's answer.");
        }
        Action::FormCancel if dirty => {
            state.overlay = Some(Overlay::Confirm(Question::DiscardForm))
        }
        Action::FormCancel => state.form = None,
        Action::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        _ if form.saving.is_some() => state.say(
            Level::Info,
            "Saving… the form unlocks when the server answers.",
        ),
        Action::FormEdit(edit) => form.edit(edit),
        Action::FormPick(step) => form.pick(step),
        Action::FormPickLetter(letter) => form.pick_letter(letter),
        Action::FormNext => form.move_focus(1, &clock),
        Action::FormPrev => form.move_focus(-1, &clock),
        Action::FormFocus(index) => form.focus_on(index, &clock),
        Action::FormSubmit => return review(state),
        Action::FormOpenEditor => return editor::open(state),
        Action::FormOpenPicker(first) => {
            if let FieldKind::Reference(kind) = form.focused().spec.kind {
                let query = first.map(String::from).unwrap_or_default();
                state.overlay = Some(Overlay::Picker {
                    purpose: PickPurpose::FormField,
                    kind,
                    query: TextBuffer::single(&query),
                    selected: 0,
                });
            }
        }
        Action::FormMoveToPromoter if state.schema.moves_between_promoters => {
            if flows::refused_read_only(state, "a move to another promoter") {
                return Vec::new();
            }
            state.overlay = Some(Overlay::Picker {
                purpose: PickPurpose::MoveTo,
                kind: RefKind::PromoterCampaign,
                query: TextBuffer::single(""),
                selected: 0,
            });
        }
        _ => {}
    }
    Vec::new()
}

/// Ctrl-s: every changed field checked; if all are valid and something changed, the review opens.
fn review(state: &mut State) -> Vec<Effect> {
    if flows::refused_read_only(state, "saving the form") {
        return Vec::new();
    }
    match submit(state) {
        Submitted::Review(changes) => {
            state.overlay = Some(Overlay::Review { changes, scroll: 0 });
            state.say(
                Level::Info,
                "Review the change: y sends it, n goes back to the form.",
            );
        }
        Submitted::Unchanged => {
            state.say(Level::Info, "Nothing changed: there is nothing to send.");
        }
        Submitted::Refused => {}
    }
    Vec::new()
}

/// What checking the form (Ctrl-s) finds.
#[derive(Debug)]
pub enum Submitted {
    /// Every field is valid and this would be sent.
    Review(crate::domain::diff::ChangeSet),
    /// Every field is valid and nothing differs from the server's values.
    Unchanged,
    /// Something is not valid: said in the status bar and marked in the form.
    Refused,
}

/// Checks every changed field of the open form and works out the change it makes, with the
/// companion fields of a status picked; what is wrong is marked in the form and said.
pub fn submit(state: &mut State) -> Submitted {
    let clock = state.clock.clone();
    let Some(form) = state.form.as_mut() else {
        return Submitted::Refused;
    };
    match form.collect(&clock) {
        Err(count) => {
            let noun = if count == 1 { "field is" } else { "fields are" };
            state.say(
                Level::Error,
                format!("{count} {noun} not valid: fix what is marked in red, then Ctrl-s."),
            );
            Submitted::Refused
        }
        Ok(mut wanted) => {
            let id = form.record_id.clone();
            let Some(record) = state.record(&id) else {
                state.say(
                    Level::Error,
                    format!("{id} is no longer in the list; press Esc and r to reload."),
                );
                return Submitted::Refused;
            };
            let context = crate::domain::policy::PlanContext {
                schema: state.schema,
                admin_id: state.session.admin_id.as_deref(),
                clock: &state.clock,
                mode: state.session.metadata_mode,
            };
            let mut broken = state
                .schema
                .cross_check
                .map(|check| check(record, &wanted))
                .unwrap_or_default();
            // A status picked in the form brings its companion fields, as the status keys do.
            if let Err(problem) = state
                .schema
                .policy
                .companions(&context, record, &mut wanted)
            {
                broken.push(problem);
            }
            let mut changes = diff(state.schema, record, &wanted, state.session.metadata_mode);
            changes.mark_now(state.schema, &clock.now_rfc3339());
            if let (Some((_, first)), Some(form)) = (broken.first(), state.form.as_mut()) {
                for (key, message) in &broken {
                    form.place_error(key, message, false);
                }
                if let Some(index) = form.fields.iter().position(|f| f.error.is_some()) {
                    form.focus = index;
                }
                state.say(Level::Error, first.clone());
                return Submitted::Refused;
            }
            if changes.is_empty() {
                Submitted::Unchanged
            } else {
                Submitted::Review(changes)
            }
        }
    }
}

/// Lines the detail pane shows for `record`: one per field, metadata pretty-printed below its label,
/// a heading and a line each for unreadable values no field line shows, and two for the last bulk
/// change's error.
fn detail_lines(state: &State, record: &Record) -> usize {
    let fields: usize = state
        .schema
        .fields
        .iter()
        .map(|spec| match record.get(spec.key) {
            v @ serde_json::Value::Object(_) if spec.kind == FieldKind::JsonObject => {
                1 + serde_json::to_string_pretty(&v)
                    .map(|t| t.lines().count())
                    .unwrap_or(0)
            }
            _ => 1,
        })
        .sum();
    let bulk_note = if bulk_errors::note(state, &record.id).is_some() {
        2
    } else {
        0
    };
    match record.unplaced_unreadable(state.schema).len() {
        0 => fields + bulk_note,
        unplaced => fields + bulk_note + 1 + unplaced,
    }
}

fn page_arrived(
    state: &mut State,
    req: RequestId,
    records: Vec<Record>,
    end: Option<PagingReport>,
) {
    let LoadState::Loading {
        req: current,
        loaded,
        awaiting_first,
    } = state.load
    else {
        return;
    };
    if current != req {
        return;
    }
    if awaiting_first {
        state.list.follow = state.selected_record().map(|r| r.id.clone());
        state.clear_records();
    }
    let loaded = loaded + records.len();
    // A write's answer may have brought one of these while the load ran: it is replaced, not doubled.
    let (known, new): (Vec<Record>, Vec<Record>) = records
        .into_iter()
        .partition(|r| state.records.row_of(&r.id).is_some());
    if !known.is_empty() {
        state.replace_records(known);
    }
    state.append_records(new);
    let Some(report) = end else {
        state.load = LoadState::Loading {
            req,
            loaded,
            awaiting_first: false,
        };
        return;
    };
    state.pending.remove(&req);
    state.load = LoadState::Loaded;
    state.loaded_at = Some(state.clock.now);
    say_loaded(state, loaded, &report);
    unmark_unloaded(state);
    // The referral the cursor followed is gone from the server: stay where the list put it.
    state.list.follow = None;
}

/// Once a load ends, marks on referrals it did not bring are dropped: no key could act on them,
/// and `r` would not bring them back.
fn unmark_unloaded(state: &mut State) {
    let records = &state.records;
    state.marked.retain(|id| records.row_of(id).is_some());
}

/// "Loaded 198 referrals.", then what went wrong while paging and referrals with values that could
/// not be read, in red if any of that is trouble; said with the other held notes once names loaded.
fn say_loaded(state: &mut State, loaded: usize, report: &PagingReport) {
    let mut parts = vec![format!(
        "Loaded {}.",
        crate::app::text::plural(loaded, "referral")
    )];
    parts.extend(report.sentences(("referral", "referrals")));
    let odd = state
        .records
        .iter()
        .filter(|r| !r.unreadable.is_empty())
        .count();
    match odd {
        0 => {}
        1 => parts.push(
            "1 referral has values that could not be read: its detail pane shows them.".into(),
        ),
        n => parts.push(format!(
            "{n} referrals have values that could not be read: their detail panes show them."
        )),
    }
    let level = if parts.len() > 1 {
        Level::Error
    } else {
        Level::Info
    };
    state.held_notes.insert(0, (level, parts.join(" ")));
    state.release_held_notes();
}

/// Names for a kind of referenced resource; trouble paging through them is said when it ends.
fn lookup_arrived(
    state: &mut State,
    req: RequestId,
    entries: Vec<(String, String)>,
    end: Option<PagingReport>,
) {
    let Some(Pending::Lookup(kind)) = state.pending.get(&req).cloned() else {
        return;
    };
    state.lookups.entry(kind).or_default().extend(entries);
    let Some(report) = end else {
        return;
    };
    state.pending.remove(&req);
    // The filter finds referrals by these names from now on.
    state.know_names(kind);
    if report.is_empty() {
        state.release_held_notes();
    } else {
        let said = report.sentences(("entry", "entries")).join(" ");
        let note = format!("{}: {said}", capitalise(kind.noun()));
        state.say_after_load(Level::Error, note);
    }
}

fn request_failed(state: &mut State, req: RequestId, error: ApiError) {
    let Some(what) = state.pending.remove(&req) else {
        return;
    };
    match what {
        Pending::Load => {
            state.load = LoadState::Failed(error.user_message());
            // Said at once, with the notes held for the end of loading (what the journal found).
            let why = error.user_message();
            // A lookup that failed for the same reason says only what did not load.
            for (_, note) in &mut state.held_notes {
                if let Some(what) = note.strip_suffix(why.as_str()) {
                    *note = what.trim_end().to_string();
                }
            }
            state.held_notes.retain(|(_, note)| !note.is_empty());
            state
                .held_notes
                .insert(0, (Level::Error, format!("Loading failed. {why}")));
            state.say_held_notes();
            unmark_unloaded(state);
        }
        // A failed load already explains the same problem; do not bury it. Notes held since are
        // said once the last lookup ends.
        Pending::Lookup(_) if matches!(state.load, LoadState::Failed(_)) => {
            state.release_held_notes()
        }
        Pending::Lookup(kind) => {
            let note = format!("Could not load {}. {}", kind.noun(), error.user_message());
            state.say_after_load(Level::Error, note);
        }
        Pending::Name { kind, id } => names::failed(state, kind, &id, &error),
        // These answer with their own Actions, errors included.
        Pending::Find { .. }
        | Pending::Reconcile
        | Pending::Journal
        | Pending::Reasons
        | Pending::Export { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::record::Unreadable;
    use crate::effects::Stop;

    fn started(state: &mut State) -> (RequestId, RequestId) {
        let effects = start(state, &[RefKind::User]);
        let req = |wanted: fn(&Effect) -> Option<RequestId>| {
            effects
                .iter()
                .find_map(wanted)
                .expect("the effect is asked for")
        };
        (
            req(|e| match e {
                Effect::LoadReferrals { req } => Some(*req),
                _ => None,
            }),
            req(|e| match e {
                Effect::LoadLookup { req, .. } => Some(*req),
                _ => None,
            }),
        )
    }

    fn record(id: &str) -> Record {
        Record::new(
            id,
            json!({"first_name": "Ada"}).as_object().unwrap().clone(),
        )
    }

    fn message(state: &State) -> (String, Option<Level>) {
        state
            .message
            .as_ref()
            .map(|m| (m.text.clone(), Some(m.level)))
            .unwrap_or_default()
    }

    #[test]
    fn loading_ends_saying_what_paging_could_not_do_and_what_lookups_held_back() {
        let mut state = State::sample();
        let (load, users) = started(&mut state);
        let troubled = PagingReport {
            unreadable: vec![(1, 1)],
            ..PagingReport::default()
        };
        update(
            &mut state,
            Action::LookupPage {
                req: users,
                entries: vec![("user_1".into(), "Ada Lovelace".into())],
                end: Some(troubled),
            },
        );
        assert_eq!(state.lookup(RefKind::User, "user_1"), Some("Ada Lovelace"));
        assert_eq!(state.held_notes.len(), 1, "held while referrals load");
        let page = |records, end| Action::ReferralsPage {
            req: load,
            records,
            end,
        };
        update(
            &mut state,
            page(vec![record("ref_1"), record("ref_2")], None),
        );
        assert!(matches!(state.load, LoadState::Loading { loaded: 2, .. }));
        let stopped = PagingReport {
            unreadable: vec![(1, 2)],
            duplicates: 0,
            stopped: Some(Stop::Repeated { page: 2, kept: 2 }),
        };
        update(&mut state, page(vec![], Some(stopped)));
        assert_eq!(state.load, LoadState::Loaded);
        assert!(
            !state
                .pending
                .values()
                .any(|p| matches!(p, Pending::Load | Pending::Lookup(_))),
            "no load is left pending"
        );
        assert_eq!(
            message(&state),
            (
                "Loaded 2 referrals. 2 referrals on page 1 could not be read. The server sent page 1 again as page 2: stopped at 2 referrals — it may not support paging. Ambassador names: 1 entry on page 1 could not be read.".to_string(),
                Some(Level::Error)
            )
        );
        assert!(state.held_notes.is_empty());
    }

    #[test]
    fn a_clean_load_is_plain_and_referrals_with_unreadable_values_are_counted() {
        let mut state = State::sample();
        let Some(Effect::LoadReferrals { req: load }) = update(&mut state, Action::Reload).pop()
        else {
            panic!("a reload loads");
        };
        let end = Some(PagingReport::default());
        let records = vec![record("ref_1")];
        update(
            &mut state,
            Action::ReferralsPage {
                req: load,
                records,
                end,
            },
        );
        assert_eq!(
            message(&state),
            ("Loaded 1 referral.".to_string(), Some(Level::Info))
        );

        let mut odd = record("ref_2");
        odd.unreadable.push(Unreadable {
            path: "status".into(),
            expected: "text",
            raw: json!(["x"]),
        });
        let effects = update(&mut state, Action::Reload);
        let Some(Effect::LoadReferrals { req }) = effects.first().cloned() else {
            panic!("a reload loads: {effects:?}");
        };
        let end = Some(PagingReport::default());
        update(
            &mut state,
            Action::ReferralsPage {
                req,
                records: vec![odd],
                end,
            },
        );
        assert_eq!(
            message(&state),
            (
                "Loaded 1 referral. 1 referral has values that could not be read: its detail pane shows them.".to_string(),
                Some(Level::Error)
            )
        );
    }

    #[test]
    fn names_that_arrive_under_a_filter_bring_the_rows_they_now_match() {
        let mut state = State::sample();
        let (load, users) = started(&mut state);
        state.list.filter = crate::app::text::TextBuffer::single("andre");
        state.refilter();
        let mut ada = Record::sample(json!({"first_name": "Ada", "student_id": "stu_9"}));
        ada.id = "ref_1".into();
        let end = Some(PagingReport::default());
        update(
            &mut state,
            Action::ReferralsPage {
                req: load,
                records: vec![ada],
                end,
            },
        );
        assert!(
            state.list.visible.is_empty(),
            "no name yet: nothing matches"
        );
        let entries = vec![("stu_9".to_string(), "Andre Young".to_string())];
        let end = Some(PagingReport::default());
        update(
            &mut state,
            Action::LookupPage {
                req: users,
                entries,
                end,
            },
        );
        assert_eq!(state.list.visible, [0], "found by the ambassador's name");
    }

    #[test]
    fn loaded_waits_for_the_names_and_is_said_with_their_trouble() {
        let mut state = State::sample();
        let (load, users) = started(&mut state);
        let end = Some(PagingReport::default());
        update(
            &mut state,
            Action::ReferralsPage {
                req: load,
                records: vec![],
                end,
            },
        );
        assert_eq!(state.load, LoadState::Loaded);
        assert_eq!(state.message, None, "said once the names are in too");
        let report = PagingReport {
            stopped: Some(Stop::NothingNew { page: 3, kept: 200 }),
            ..PagingReport::default()
        };
        update(
            &mut state,
            Action::LookupPage {
                req: users,
                entries: vec![],
                end: Some(report),
            },
        );
        assert_eq!(
            message(&state),
            (
                "Loaded 0 referrals. Ambassador names: Page 3 brought only entries already loaded: stopped at 200 entries — the server may not support paging.".to_string(),
                Some(Level::Error)
            )
        );
    }

    #[test]
    fn names_that_fail_to_load_are_said_with_loaded_not_under_it() {
        let mut state = State::sample();
        let (load, users) = started(&mut state);
        let error = ApiError::Server {
            status: 500,
            message: "boom".into(),
        };
        update(&mut state, Action::RequestFailed { req: users, error });
        assert_eq!(state.message, None, "held while referrals load");
        let end = Some(PagingReport::default());
        let records = vec![record("ref_1")];
        update(
            &mut state,
            Action::ReferralsPage {
                req: load,
                records,
                end,
            },
        );
        let (text, level) = message(&state);
        assert!(
            text.starts_with("Loaded 1 referral. Could not load ambassador names."),
            "{text}"
        );
        assert_eq!(level, Some(Level::Error));
    }

    #[test]
    fn esc_while_loading_keeps_what_arrived_and_drops_what_comes_later() {
        let mut state = State::sample();
        let (load, users) = started(&mut state);
        let page = |records, end| Action::ReferralsPage {
            req: load,
            records,
            end,
        };
        update(
            &mut state,
            page(vec![record("ref_1"), record("ref_2")], None),
        );
        // Esc goes back a layer first: the marks, then the detail pane.
        state.marked.insert("ref_1".into());
        assert!(update(&mut state, Action::Back).is_empty());
        assert!(state.marked.is_empty(), "Esc cleared the marks");
        state.detail_open = true;
        assert!(update(&mut state, Action::Back).is_empty());
        assert!(!state.detail_open, "Esc closed the detail pane");
        assert!(matches!(state.load, LoadState::Loading { .. }));
        let effects = update(&mut state, Action::Back);
        assert_eq!(effects, [Effect::StopLoad { req: load }]);
        assert_eq!(state.load, LoadState::Stopped);
        assert!(!state.pending.contains_key(&load));
        assert!(state.pending.contains_key(&users), "names go on loading");
        let stopped = (
            "Loading stopped at 2 referrals; r loads again.".to_string(),
            Some(Level::Info),
        );
        assert_eq!(message(&state), stopped);

        // Answers already on their way for the stopped load change nothing.
        update(
            &mut state,
            page(vec![record("ref_3")], Some(PagingReport::default())),
        );
        let error = ApiError::Server {
            status: 503,
            message: "late".into(),
        };
        update(&mut state, Action::RequestFailed { req: load, error });
        let ids: Vec<&str> = state.records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["ref_1", "ref_2"]);
        assert_eq!(state.list.visible.len(), 2);
        assert_eq!(state.load, LoadState::Stopped);
        assert_eq!(message(&state), stopped);
        assert!(
            update(&mut state, Action::Back).is_empty(),
            "nothing is left to stop"
        );

        // r loads again; a reload while loading stops the load it replaces.
        let first = update(&mut state, Action::Reload);
        let [Effect::LoadReferrals { req: again }] = first[..] else {
            panic!("a reload loads: {first:?}");
        };
        let second = update(&mut state, Action::Reload);
        assert!(
            matches!(second[..], [Effect::StopLoad { req }, Effect::LoadReferrals { .. }] if req == again),
            "{second:?}"
        );
    }

    #[test]
    fn a_stop_when_nothing_else_loads_says_the_notes_held_for_the_end_of_loading() {
        let mut state = State::sample();
        let Some(Effect::LoadReferrals { .. }) = update(&mut state, Action::Reload).pop() else {
            panic!("a reload loads");
        };
        state.say_after_load(Level::Error, "1 write from the last run: 1 unknown.".into());
        update(&mut state, Action::Back);
        assert_eq!(
            message(&state),
            (
                "Loading stopped at 0 referrals; r loads again. 1 write from the last run: 1 unknown."
                    .to_string(),
                Some(Level::Error)
            )
        );
        assert!(state.held_notes.is_empty());
    }

    /// Found by `app::fuzz`: notes held for the end of loading were never said when the referrals
    /// failed to load, nor when the last lookup failed after that.
    #[test]
    fn a_failed_load_says_the_notes_held_until_then_and_later_ones_when_names_end() {
        let mut state = State::sample();
        let effects = start(&mut state, &[RefKind::User, RefKind::Impression]);
        let reqs: Vec<RequestId> = effects
            .iter()
            .map(|e| match e {
                Effect::LoadReferrals { req }
                | Effect::LoadLookup { req, .. }
                | Effect::Reconcile { req } => *req,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let [load, users, impressions, reconcile] = reqs[..] else {
            panic!("{effects:?}")
        };
        let error = || ApiError::Server {
            status: 500,
            message: "boom".into(),
        };
        update(
            &mut state,
            Action::RequestFailed {
                req: users,
                error: error(),
            },
        );
        update(
            &mut state,
            Action::RequestFailed {
                req: load,
                error: error(),
            },
        );
        let (text, level) = message(&state);
        assert!(
            text.starts_with("Loading failed. The server failed"),
            "{text}"
        );
        assert!(
            text.ends_with("try again in a moment. Could not load ambassador names."),
            "the same reason is said once: {text}"
        );
        assert_eq!(text.matches("HTTP 500: boom").count(), 1, "{text}");
        assert_eq!(level, Some(Level::Error));
        assert!(state.held_notes.is_empty());

        let report = crate::effects::Reconciliation {
            applied: 1,
            not_applied: 0,
            conflicts: 0,
            unknown: 0,
            records: vec![],
        };
        let result = Ok(report);
        update(
            &mut state,
            Action::Reconciled {
                req: reconcile,
                result,
            },
        );
        assert_eq!(state.held_notes.len(), 1, "held while names load");
        update(
            &mut state,
            Action::RequestFailed {
                req: impressions,
                error: error(),
            },
        );
        assert!(state.held_notes.is_empty());
        assert_eq!(
            message(&state).0,
            "1 write from the last run: 1 applied — :journal to see and resend."
        );
    }

    /// Found by `app::fuzz`: a reload that no longer brings a marked referral left it marked, and
    /// every status key then said to press r, which could not help.
    #[test]
    fn a_load_that_ends_without_a_marked_referral_unmarks_it() {
        let mut state = State::sample();
        state.replace_records(vec![record("ref_1"), record("ref_2")]);
        update(&mut state, Action::MarkAll);
        assert_eq!(state.marked.len(), 2);
        let Some(Effect::LoadReferrals { req }) = update(&mut state, Action::Reload).pop() else {
            panic!("a reload loads");
        };
        let page = |records, end| Action::ReferralsPage { req, records, end };
        update(&mut state, page(vec![record("ref_2")], None));
        assert_eq!(state.marked.len(), 2, "ref_1 may still come");
        update(&mut state, page(vec![], Some(PagingReport::default())));
        assert_eq!(state.marked.iter().collect::<Vec<_>>(), ["ref_2"]);

        update(&mut state, Action::MarkAll);
        let Some(Effect::LoadReferrals { req }) = update(&mut state, Action::Reload).pop() else {
            panic!("a reload loads");
        };
        update(
            &mut state,
            Action::ReferralsPage {
                req,
                records: vec![record("ref_3")],
                end: None,
            },
        );
        let error = ApiError::Server {
            status: 500,
            message: "boom".into(),
        };
        update(&mut state, Action::RequestFailed { req, error });
        assert!(state.marked.is_empty(), "{:?}", state.marked);
    }

    /// Found by `app::fuzz`: a write answered during a reload brought its referral into the list,
    /// and the page that brought it again doubled it.
    #[test]
    fn a_page_replaces_a_referral_a_write_brought_while_loading() {
        let mut state = State::sample();
        let Some(Effect::LoadReferrals { req }) = update(&mut state, Action::Reload).pop() else {
            panic!("a reload loads");
        };
        let page = |records, end| Action::ReferralsPage { req, records, end };
        update(&mut state, page(vec![record("ref_1")], None));
        state.replace_records(vec![record("ref_2")]);
        let mut fresh = record("ref_2");
        fresh.insert("first_name", json!("Grace"));
        update(&mut state, page(vec![fresh], Some(PagingReport::default())));
        let names: Vec<(&str, &str)> = state
            .records
            .iter()
            .map(|r| (r.id.as_str(), r.str("first_name").unwrap_or_default()))
            .collect();
        assert_eq!(names, [("ref_1", "Ada"), ("ref_2", "Grace")]);
        assert_eq!(state.list.visible, [0, 1]);
        assert_eq!(message(&state).0, "Loaded 2 referrals.");
    }

    /// `r` keeps what the admin had: marks on referrals the reload brings back, the cursor on its
    /// referral wherever it now is, a row the admin moves to meanwhile, and the time it ended.
    #[test]
    fn a_reload_keeps_marks_and_the_cursor_by_referral() {
        let ids = |names: &[&str]| names.iter().map(|id| record(id)).collect::<Vec<_>>();
        let selected = |state: &State| state.selected_record().map(|r| r.id.clone());
        let reload = |state: &mut State| {
            let Some(Effect::LoadReferrals { req }) = update(state, Action::Reload).pop() else {
                panic!("a reload loads");
            };
            move |records, end: bool| Action::ReferralsPage {
                req,
                records,
                end: end.then(PagingReport::default),
            }
        };
        let loaded = || {
            let mut state = State::sample();
            state.replace_records(ids(&["ref_1", "ref_2", "ref_3", "ref_4"]));
            for id in ["ref_2", "ref_4"] {
                state.select(id);
                update(&mut state, Action::ToggleMark);
            }
            state.select("ref_3");
            state
        };

        // The cursor's referral comes on a later page, after a new one: the cursor is on it.
        let mut state = loaded();
        let page = reload(&mut state);
        update(&mut state, page(ids(&["ref_0", "ref_1"]), false));
        update(&mut state, page(ids(&["ref_2", "ref_3", "ref_4"]), true));
        assert_eq!(selected(&state).as_deref(), Some("ref_3"));
        assert_eq!(state.list.selected, 3, "it moved down a row");
        let marked: Vec<&str> = state.marked.iter().map(String::as_str).collect();
        assert_eq!(
            marked,
            ["ref_2", "ref_4"],
            "marks stay on the same referrals"
        );

        // The admin moves while it loads: the row they chose stays chosen.
        let mut state = loaded();
        let page = reload(&mut state);
        update(&mut state, page(ids(&["ref_1", "ref_2"]), false));
        update(&mut state, Action::Move(Motion::Down));
        update(&mut state, page(ids(&["ref_3", "ref_4"]), true));
        assert_eq!(selected(&state).as_deref(), Some("ref_2"));

        // The cursor's referral and a marked one are gone: the first row, the other mark stays.
        let mut state = loaded();
        let page = reload(&mut state);
        update(&mut state, page(ids(&["ref_1", "ref_2"]), true));
        assert_eq!(selected(&state).as_deref(), Some("ref_1"));
        let marked: Vec<&str> = state.marked.iter().map(String::as_str).collect();
        assert_eq!(marked, ["ref_2"]);

        // The time it ended is kept for the status bar's "loaded 3 min ago".
        let first = state.clock.now;
        assert_eq!(state.loaded_at, Some(first));
        state.clock.now += jiff::SignedDuration::from_secs(60);
        let page = reload(&mut state);
        update(&mut state, page(ids(&["ref_1"]), false));
        assert_eq!(
            state.loaded_at,
            Some(first),
            "still the last load's while loading"
        );
        update(&mut state, page(vec![], true));
        assert_eq!(state.loaded_at, Some(state.clock.now));
    }
}
