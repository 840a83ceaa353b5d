//! Everything the console knows at one moment. `update` changes it; `ui::render` only reads it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::action::{QuickKey, RequestId};
use super::bulk::Bulk;
use super::clash::Clash;
use super::form::Form;
use super::order::{Order, Sort, Source};
use super::records::{Needle, Records};
use super::stats::StatsView;
use super::text::TextBuffer;
use super::triage::Triage;
use super::writes::Writes;
use crate::domain::diff::ChangeSet;
use crate::domain::policy::Plan;
use crate::domain::schema::{RefKind, Schema};
use crate::domain::{Clock, MetadataMode, Record};

/// Who we are talking to, for the status bar and for what writes must contain.
#[derive(Debug, Clone)]
pub struct Session {
    pub profile: String,
    pub backend: &'static str,
    pub admin_id: Option<String>,
    pub metadata_mode: MetadataMode,
    /// Bulk writes in flight at once.
    pub concurrency: usize,
    /// Every write path refuses before anything is sent (`read_only` in the profile, or
    /// `--read-only`); the status bar says READ-ONLY.
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading {
        req: RequestId,
        loaded: usize,
        /// No page of this load has arrived yet: the first one replaces the list (even an empty
        /// one, or one whose referrals could not all be read).
        awaiting_first: bool,
    },
    Loaded,
    /// The admin stopped the load (Esc): the list holds what had arrived by then.
    Stopped,
    Failed(String),
}

/// What a request in flight is for, so its answer can be applied and counted.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Load,
    Lookup(RefKind),
    /// Checking the writes an earlier run left without an outcome.
    Reconcile,
    /// Reading the journal for `:journal`.
    Journal,
    /// Reading recent rejection reasons for triage.
    Reasons,
    Find {
        by: String,
        value: String,
    },
    /// The name of one referenced id the detail pane shows (`app::names`).
    Name {
        kind: RefKind,
        id: String,
    },
    /// Writing the rows shown to a file (`app::export`); `whole`: every referral was loaded.
    Export {
        format: crate::export::Format,
        whole: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Success,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub level: Level,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    List,
    Detail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Question {
    /// Quit with a dirty form or writes still in flight.
    Quit,
    /// Leave the form and lose what was typed.
    DiscardForm,
    /// Apply a status key to every marked row: the writes it would make, planned before asking.
    Bulk { key: QuickKey, plan: Plan },
    /// A status key on one referral whose change the backend cannot take back (FirstPromoter's
    /// approve from pending): said before it is sent.
    Irreversible { key: QuickKey, plan: Plan },
    /// Put a draft kept from an earlier session back into the form (the offer is on the form:
    /// `Form::draft`).
    RestoreDraft,
    /// Take back a bulk change as one step: the undo step at `at` (the newest when asked; a
    /// write that lands while the question is open goes on top of it and is not what was asked).
    UndoBulk { at: usize },
    /// `:export` found a file at `path` (as meant: `~` expanded, absolute): write over it?
    ReplaceFile {
        format: crate::export::Format,
        path: String,
    },
}

/// A modal layer over the screen; it gets every key while shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The keys (`app::keys`), scrolled this many lines.
    Help {
        scroll: u16,
    },
    /// The change about to be sent for the open form.
    Review {
        changes: ChangeSet,
        scroll: u16,
    },
    /// The reason for rejecting `id`.
    RejectReason {
        ids: Vec<String>,
        input: TextBuffer,
        error: Option<String>,
    },
    Confirm(Question),
    /// A searchable list of referenced resources (promoter campaigns).
    Picker {
        purpose: PickPurpose,
        kind: RefKind,
        query: TextBuffer,
        selected: usize,
    },
    /// The move-to-promoter batch about to be sent for the open form's referral.
    MoveReview {
        link: i64,
        with_commissions: bool,
    },
    /// Someone else changed fields the form's write touches: base / theirs / mine per field.
    Conflict {
        changes: ChangeSet,
        clashes: Vec<Clash>,
        /// Lines scrolled past, when the rows do not fit.
        scroll: u16,
    },
    /// What the verification session just left did (`State::triage_past`), counted as its writes
    /// answer.
    TriageSummary,
    /// `E`: the rows of the last bulk change that did not land, with their errors
    /// (`app::bulk_errors`; read from `State::bulk` as it is now), the cursor on the `selected`th.
    BulkErrors {
        selected: usize,
    },
    /// `:journal`: this profile's newest writes, newest first, and what became of them.
    Journal {
        entries: Vec<crate::store::journal::Stored>,
        /// Whether `s` may send each entry again, worked out once when the journal is read.
        resendable: Vec<bool>,
        selected: usize,
    },
    /// The `:` command line.
    Command {
        input: TextBuffer,
        error: Option<String>,
    },
}

/// What a pick is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickPurpose {
    /// Set the focused form field.
    FormField,
    /// Move the form's referral to the picked promoter campaign.
    MoveTo,
}

/// The filtered list and where the cursor is in it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListView {
    pub filter: TextBuffer,
    /// The filter line has the keyboard.
    pub filtering: bool,
    /// Why the filter as typed is not a filter (an unknown key, a bad value), shown under the
    /// filter line; the list keeps showing the last valid filter (`needle`) meanwhile.
    pub filter_error: Option<String>,
    /// Indices into `State::records` that match the filter, in the list's order (`order`).
    pub visible: Vec<usize>,
    /// The sort, if any, and each row's place in it.
    pub order: Order,
    /// The last valid filter, the one `visible` was computed for: a filter that narrows it scans
    /// only `visible`, and records that arrive or change are matched against it alone.
    pub needle: Needle,
    /// Index into `visible`.
    pub selected: usize,
    /// First visible row on screen.
    pub offset: usize,
    /// While a reload pages in, the referral the cursor was on, to land on it again when it arrives
    /// (until the admin moves the cursor themselves).
    pub follow: Option<String>,
    /// Goes up whenever the rows shown or their values change, so what is derived from them (the
    /// stats view) knows to be computed again.
    pub generation: u64,
}

pub struct State {
    pub session: Session,
    pub schema: &'static Schema,
    /// The loaded referrals in list order; changed only through `State`'s methods, which keep
    /// `list.visible` in step.
    pub records: Records,
    /// Names for referenced ids (ambassadors, impressions).
    pub lookups: HashMap<RefKind, HashMap<String, String>>,
    /// Which references are named one id at a time, when shown, and the ids asked for.
    pub names: crate::app::names::OnDemand,
    pub load: LoadState,
    /// When the last load of referrals ended (or was stopped): the status bar says how long ago
    /// ("loaded 3 min ago"), so an admin knows how fresh the list is.
    pub loaded_at: Option<jiff::Timestamp>,
    pub list: ListView,
    pub detail_open: bool,
    pub focus: Pane,
    pub detail_scroll: u16,
    pub form: Option<Form>,
    pub overlay: Option<Overlay>,
    pub pending: BTreeMap<RequestId, Pending>,
    /// Draft reads and writes in the local store (`app::drafts`), kept apart from `pending` so
    /// they never look like server requests (no spinner for them).
    pub draft_io: BTreeMap<RequestId, crate::app::drafts::DraftIo>,
    /// `y` was pressed in the list: the next key says what to copy (`app::copy`).
    pub copy_pending: bool,
    /// Rows marked with Space; a status key then acts on all of them after one confirmation.
    pub marked: BTreeSet<String>,
    /// Writes in flight and the undo stack.
    pub writes: Writes,
    /// The last bulk change, with a result per row shown beside it.
    pub bulk: Option<Bulk>,
    pub triage: Option<Triage>,
    /// The stats view (`S`), shown instead of the list while open.
    pub stats: Option<StatsView>,
    /// The verification session last left: its writes may still be answering.
    pub triage_past: Option<Triage>,
    /// `w` on the quit question: quit once every write in flight has its outcome.
    pub quit_when_idle: bool,
    /// The missing admin id has been pointed out this session.
    pub admin_noted: bool,
    /// The missing admin id is said again with the answer to the write that brought it up, whose
    /// "Saved …" would otherwise cover it at once.
    pub admin_note_owed: bool,
    /// The referral the last single status key left alone because it already was so: its row
    /// shows `=` until the next status key.
    pub left_alone: Option<String>,
    pub message: Option<Message>,
    /// Messages that arrived while referrals or names were loading (what the journal found of the
    /// last run, lookups that had trouble, "Loaded …" itself), said together when loading ends so
    /// none hides another.
    pub held_notes: Vec<(Level, String)>,
    pub clock: Clock,
    /// Where the last frame drew the list's rows and the form's fields, for the mouse
    /// (`app::mouse`); the runner sets it after each draw.
    pub screen: crate::app::mouse::Screen,
    /// Terminal size (columns, rows), for paging.
    pub viewport: (u16, u16),
    pub next_request: u64,
    /// Until this time status keys are ignored: the form just closed and keys typed ahead for it
    /// must not change a referral.
    pub keys_settle_at: Option<jiff::Timestamp>,
    /// What the HTTP core is waiting for, so the status bar can say it.
    pub net: crate::api::NetStatus,
    /// Turns while requests are in flight, for the status bar's spinner.
    pub spinner: usize,
    /// Draw without colour (`NO_COLOR` is set): emphasis is carried by reverse video and bold.
    pub no_color: bool,
    pub should_quit: bool,
}

impl State {
    pub fn new(session: Session, schema: &'static Schema, clock: Clock) -> State {
        State {
            session,
            schema,
            records: Records::new(schema),
            lookups: HashMap::new(),
            names: Default::default(),
            load: LoadState::Loaded,
            loaded_at: None,
            list: ListView {
                filter: TextBuffer::single(""),
                filtering: false,
                filter_error: None,
                visible: Vec::new(),
                order: Order::default(),
                needle: Needle::default(),
                selected: 0,
                offset: 0,
                follow: None,
                generation: 0,
            },
            detail_open: false,
            focus: Pane::List,
            detail_scroll: 0,
            form: None,
            overlay: None,
            pending: BTreeMap::new(),
            draft_io: BTreeMap::new(),
            copy_pending: false,
            marked: BTreeSet::new(),
            writes: Writes::default(),
            bulk: None,
            triage: None,
            stats: None,
            triage_past: None,
            quit_when_idle: false,
            admin_noted: false,
            admin_note_owed: false,
            left_alone: None,
            message: None,
            held_notes: Vec::new(),
            clock,
            screen: Default::default(),
            viewport: (80, 24),
            next_request: 1,
            net: Default::default(),
            spinner: 0,
            no_color: false,
            keys_settle_at: None,
            should_quit: false,
        }
    }

    /// A v1 console for tests: profile `test`, admin `admin_1`, merge mode, two writes at once,
    /// the clock fixed at 2026-11-21 10:00 UTC, nothing loaded.
    #[cfg(test)]
    pub fn sample() -> State {
        let session = Session {
            profile: "test".into(),
            backend: "vantio",
            admin_id: Some("admin_1".into()),
            metadata_mode: MetadataMode::Merge,
            concurrency: 2,
            read_only: false,
        };
        let now = "2026-11-21T10:00:00Z".parse().expect("a valid time");
        let clock = Clock::fixed(now, jiff::tz::TimeZone::UTC);
        State::new(session, &crate::domain::schema::V1_SCHEMA, clock)
    }

    pub fn request(&mut self, what: Pending) -> RequestId {
        let req = self.next_request_id();
        self.pending.insert(req, what);
        req
    }

    /// A fresh id for a background request.
    pub fn next_request_id(&mut self) -> RequestId {
        let req = RequestId(self.next_request);
        self.next_request += 1;
        req
    }

    /// Whether anything is still waiting for a server: loads, lookups or writes.
    pub fn busy(&self) -> bool {
        !self.pending.is_empty() || self.writes.count() > 0
    }

    pub fn selected_record(&self) -> Option<&Record> {
        // `visible` may be stale for a moment while a reload replaces the records.
        let index = self.list.visible.get(self.list.selected)?;
        self.records.get(*index)
    }

    pub fn record(&self, id: &str) -> Option<&Record> {
        self.records.by_id(id)
    }

    pub fn pending_writes(&self) -> usize {
        self.writes.count()
    }

    /// Puts fresh copies of records in place (adding unknown ones) and keeps the list in step,
    /// matching only the records that changed.
    pub fn replace_records(&mut self, fresh: Vec<Record>) {
        let keep = self.cursor_record();
        for record in fresh {
            // Out of the list at its old place (its old key), back in at its new one if it matches.
            if let Some(old) = self.records.row_of(&record.id)
                && let Ok(at) = self.list.order.position(&self.list.visible, old)
            {
                self.list.visible.remove(at);
            }
            let row = self.records.put(record);
            let mut order = std::mem::take(&mut self.list.order);
            order.replaced(&self.order_source(), row);
            self.list.order = order;
            let shown = self
                .list
                .needle
                .matches(&self.records, row, &self.lookups, self.clock.now);
            if shown && let Err(at) = self.list.order.position(&self.list.visible, row) {
                self.list.visible.insert(at, row);
            }
        }
        self.list.generation += 1;
        self.catch_up_filter();
        self.settle_cursor(keep);
    }

    /// Adds records after the last row (a page that arrived), matching only them.
    pub fn append_records(&mut self, records: Vec<Record>) {
        let keep = self.cursor_record();
        let rows = self.records.append(records);
        let mut order = std::mem::take(&mut self.list.order);
        order.appended(&self.order_source(), rows.clone());
        self.list.order = order;
        let shown = self
            .list
            .needle
            .select(&self.records, rows, &self.lookups, self.clock.now);
        self.list.order.merge(&mut self.list.visible, shown);
        self.list.generation += 1;
        self.catch_up_filter();
        self.settle_cursor(keep);
    }

    /// Forgets every record (a reload starts); the cursor stays where it was in the list.
    pub fn clear_records(&mut self) {
        self.records.clear();
        self.list.visible.clear();
        self.list.order.clear();
        self.list.generation += 1;
    }

    /// What the list's sort keys are made from.
    fn order_source(&self) -> Source<'_> {
        Source {
            schema: self.schema,
            records: &self.records,
            names: &self.lookups,
        }
    }

    /// Sorts the list by `sort` (or puts it back in the records' order), keeping the cursor on
    /// its referral.
    pub fn set_sort(&mut self, sort: Option<Sort>) {
        let keep = self.cursor_record();
        let mut order = std::mem::take(&mut self.list.order);
        order.set(sort, &self.order_source());
        order.arrange(&mut self.list.visible);
        if sort.is_none() {
            self.list.visible.sort_unstable();
        }
        self.list.order = order;
        self.settle_cursor(keep);
    }

    /// Moves the cursor to the record with this id, clearing a filter that hides it.
    pub fn select(&mut self, id: &str) {
        if self.visible_position(id).is_none() {
            self.list.filter = TextBuffer::single("");
            self.refilter();
        }
        if let Some(position) = self.visible_position(id) {
            self.list.selected = position;
            self.move_selection(0);
        }
    }

    /// Where the record with this id is in the list as filtered; None when it is hidden.
    pub fn visible_position(&self, id: &str) -> Option<usize> {
        let row = self.records.row_of(id)?;
        self.list.order.position(&self.list.visible, row).ok()
    }

    pub fn lookup(&self, kind: RefKind, id: &str) -> Option<&str> {
        self.lookups.get(&kind)?.get(id).map(String::as_str)
    }

    /// Rows of the list on screen: the terminal less the status bar, borders and header.
    pub fn list_rows(&self) -> usize {
        (self.viewport.1 as usize).saturating_sub(4).max(1)
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            level,
        });
    }

    /// Whether referrals, or the names shown with them, are still loading.
    pub fn loading(&self) -> bool {
        matches!(self.load, LoadState::Loading { .. })
            || self
                .pending
                .values()
                .any(|p| matches!(p, Pending::Lookup(_)))
    }

    /// Says `text` now, or once loading ends if it is under way (`held_notes`).
    pub fn say_after_load(&mut self, level: Level, text: String) {
        self.held_notes.push((level, text));
        self.release_held_notes();
    }

    /// Once nothing is loading, says the held notes as one message, in red if any of them is.
    pub fn release_held_notes(&mut self) {
        if !self.loading() {
            self.say_held_notes();
        }
    }

    /// Says the held notes now, as one message, in red if any of them is.
    pub fn say_held_notes(&mut self) {
        if self.held_notes.is_empty() {
            return;
        }
        let notes = std::mem::take(&mut self.held_notes);
        let level = if notes.iter().any(|(level, _)| *level == Level::Error) {
            Level::Error
        } else {
            notes[0].0
        };
        let text: Vec<String> = notes.into_iter().map(|(_, text)| text).collect();
        self.say(level, text.join(" "));
    }

    /// Recomputes the filtered rows, keeping the cursor on the same record when it is still shown.
    /// A filter that narrows the last one (typing on) looks only at the rows shown now.
    pub fn refilter(&mut self) {
        let keep = self.cursor_record();
        self.filter_rows(false);
        self.settle_cursor(keep);
    }

    /// Takes the names of a kind of referenced resource into what the filter searches (a v1
    /// ambassador's name) and matches every row again: rows the filter hid may match now.
    pub fn know_names(&mut self, kind: RefKind) {
        let Some(names) = self.lookups.get(&kind) else {
            return;
        };
        self.records.know_names(kind, names);
        let mut order = std::mem::take(&mut self.list.order);
        order.refresh(&self.order_source());
        self.list.order = order;
        let keep = self.cursor_record();
        self.filter_rows(true);
        self.settle_cursor(keep);
    }

    /// Matches the rows against the filter as typed now; from the rows shown when the filter only
    /// narrowed, unless `every_row` (the searched text itself changed). A filter with a mistake
    /// is said in `filter_error` and the last valid one stays.
    fn filter_rows(&mut self, every_row: bool) {
        let needle = match Needle::parse(self.schema, &self.list.filter.text()) {
            Ok(needle) => {
                self.list.filter_error = None;
                needle
            }
            Err(error) => {
                self.list.filter_error = Some(error.to_string());
                if !every_row {
                    return;
                }
                self.list.needle.clone()
            }
        };
        let shown = std::mem::take(&mut self.list.visible);
        let (names, now) = (&self.lookups, self.clock.now);
        self.list.visible = if !every_row && needle.narrows(&self.list.needle) {
            needle.select(&self.records, shown.into_iter(), names, now)
        } else {
            let every = self.list.order.rows(self.records.len());
            needle.select(&self.records, every, names, now)
        };
        self.list.needle = needle;
        self.list.generation += 1;
    }

    /// Filters the rows again if the filter was edited without `refilter` (`list.visible` is then
    /// for the filter before).
    fn catch_up_filter(&mut self) {
        if self.list.filter.text() != self.list.needle.text() {
            self.filter_rows(false);
        }
    }

    /// The record the cursor should stay on while the list changes: the one a reload follows, or
    /// the selected one.
    fn cursor_record(&self) -> Option<String> {
        self.list
            .follow
            .clone()
            .or_else(|| self.selected_record().map(|r| r.id.clone()))
    }

    /// Puts the cursor back on `keep` when it is shown (the reload found it), else on the first row.
    fn settle_cursor(&mut self, keep: Option<String>) {
        let position = keep.and_then(|id| self.visible_position(&id));
        if position.is_some() {
            self.list.follow = None;
        }
        self.list.selected = position.unwrap_or(0);
        self.scroll_to_selection();
    }

    pub fn move_selection(&mut self, delta: isize) {
        let last = self.list.visible.len().saturating_sub(1) as isize;
        self.list.selected = (self.list.selected as isize + delta).clamp(0, last.max(0)) as usize;
        self.detail_scroll = 0;
        self.scroll_to_selection();
    }

    fn scroll_to_selection(&mut self) {
        let rows = self.list_rows();
        let list = &mut self.list;
        if list.selected < list.offset {
            list.offset = list.selected;
        } else if list.selected >= list.offset + rows {
            list.offset = list.selected + 1 - rows;
        }
        list.offset = list.offset.min(list.visible.len().saturating_sub(rows));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::text::TextEdit;

    fn person(id: &str, first: &str) -> Record {
        Record::new(
            id,
            json!({"first_name": first}).as_object().unwrap().clone(),
        )
    }

    /// Rows `r0`… with the given first names.
    fn loaded(names: &[&str]) -> State {
        let mut state = State::sample();
        let records = names
            .iter()
            .enumerate()
            .map(|(i, name)| person(&format!("r{i}"), name))
            .collect();
        state.append_records(records);
        state
    }

    fn shown(state: &State) -> Vec<&str> {
        state
            .list
            .visible
            .iter()
            .map(|row| state.records[*row].id.as_str())
            .collect()
    }

    fn type_filter(state: &mut State, text: &str) {
        state.list.filter = TextBuffer::single(text);
        state.refilter();
    }

    #[test]
    fn a_longer_filter_narrows_from_the_rows_shown() {
        let mut state = loaded(&["Ada", "Adam", "Bob"]);
        type_filter(&mut state, "ad");
        assert_eq!(shown(&state), ["r0", "r1"]);
        // Take "Adam" out of the rows shown: "ada" would match it, so it staying out proves
        // that typing on scans only the previous matches.
        state.list.visible.retain(|row| *row != 1);
        type_filter(&mut state, "ada");
        assert_eq!(shown(&state), ["r0"]);
        state.list.filter.apply(TextEdit::Insert('m'));
        state.refilter();
        assert!(shown(&state).is_empty());
    }

    #[test]
    fn a_filter_with_a_mistake_is_said_and_the_last_valid_one_stays() {
        let mut state = loaded(&["Ada", "Adam", "Bob"]);
        type_filter(&mut state, "ad");
        // (typed, error says, rows shown)
        let cases: &[(&str, Option<&str>, &[&str])] = &[
            (
                "ad colour:red",
                Some("unknown filter key `colour`"),
                &["r0", "r1"],
            ),
            ("ad status=convrted", Some("status=convrted"), &["r0", "r1"]),
            ("ad status=pending", None, &[]),
            ("ad -first_name:adam", None, &["r0"]),
            ("ad created:>soon", Some("not a date"), &["r0"]),
            ("", None, &["r0", "r1", "r2"]),
        ];
        for (typed, error, rows) in cases {
            type_filter(&mut state, typed);
            let said = state.list.filter_error.as_deref();
            match error {
                Some(words) => {
                    assert!(said.is_some_and(|e| e.contains(words)), "{typed}: {said:?}")
                }
                None => assert_eq!(said, None, "{typed}"),
            }
            assert_eq!(shown(&state), *rows, "{typed}");
        }
    }

    #[test]
    fn keyed_terms_of_a_reference_match_its_looked_up_name() {
        let mut state = loaded(&["Ada", "Bob"]);
        let mut ada = person("r0", "Ada");
        ada.insert("student_id", json!("stu_9"));
        state.replace_records(vec![ada]);
        state.lookups.insert(
            RefKind::User,
            HashMap::from([("stu_9".into(), "Andre Young".into())]),
        );
        type_filter(&mut state, "ambassador:andre");
        assert_eq!(shown(&state), ["r0"]);
    }

    #[test]
    fn a_sort_keeps_the_cursor_and_marks_and_places_new_and_saved_rows() {
        let mut state = loaded(&["Cy", "Ada", "Bo"]);
        state.select("r2");
        state.marked.insert("r0".into());
        let name = Some(Sort {
            column: 0,
            descending: false,
        });
        state.set_sort(name);
        assert_eq!(shown(&state), ["r1", "r2", "r0"]);
        assert_eq!(
            state.selected_record().unwrap().id,
            "r2",
            "the cursor stays"
        );
        assert!(state.marked.contains("r0"), "marks stay");
        // A page arrives: its rows go to their places.
        state.append_records(vec![person("r3", "Ben"), person("r4", "Al")]);
        assert_eq!(shown(&state), ["r1", "r4", "r3", "r2", "r0"]);
        // A saved row moves to its new place; a filtered one stays in order too.
        state.replace_records(vec![person("r1", "Zoe")]);
        assert_eq!(shown(&state), ["r4", "r3", "r2", "r0", "r1"]);
        assert_eq!(state.selected_record().unwrap().id, "r2");
        type_filter(&mut state, "o");
        assert_eq!(shown(&state), ["r2", "r1"]);
        type_filter(&mut state, "");
        state.set_sort(Some(Sort {
            column: 0,
            descending: true,
        }));
        assert_eq!(shown(&state), ["r1", "r0", "r2", "r3", "r4"]);
        state.set_sort(None);
        assert_eq!(shown(&state), ["r0", "r1", "r2", "r3", "r4"]);
        assert_eq!(state.selected_record().unwrap().id, "r2");
    }

    #[test]
    fn a_shorter_filter_scans_every_row_again() {
        let mut state = loaded(&["Ada", "Adam", "Bob"]);
        type_filter(&mut state, "adam");
        assert_eq!(shown(&state), ["r1"]);
        type_filter(&mut state, "ad");
        assert_eq!(shown(&state), ["r0", "r1"]);
        type_filter(&mut state, "");
        assert_eq!(shown(&state), ["r0", "r1", "r2"]);
    }

    #[test]
    fn an_arriving_page_is_matched_alone_and_keeps_the_order() {
        let mut state = loaded(&["Ada", "Bob"]);
        type_filter(&mut state, "a");
        state.list.selected = 0;
        state.append_records(vec![person("r2", "Cara"), person("r3", "Dov")]);
        assert_eq!(shown(&state), ["r0", "r2"]);
        assert_eq!(
            state.selected_record().unwrap().id,
            "r0",
            "the cursor stays"
        );
    }

    #[test]
    fn a_replaced_record_is_matched_again_alone() {
        let mut state = loaded(&["Ada", "Bob", "Cara"]);
        type_filter(&mut state, "a");
        assert_eq!(shown(&state), ["r0", "r2"]);
        state.select("r2");
        state.replace_records(vec![person("r1", "Bea")]);
        assert_eq!(
            shown(&state),
            ["r0", "r1", "r2"],
            "now matches: shown in its place"
        );
        assert_eq!(
            state.selected_record().unwrap().id,
            "r2",
            "the cursor stays"
        );
        state.replace_records(vec![person("r0", "Bo")]);
        assert_eq!(shown(&state), ["r1", "r2"], "no longer matches: hidden");
        state.replace_records(vec![person("r9", "Zara")]);
        assert_eq!(
            shown(&state),
            ["r1", "r2", "r9"],
            "an unknown record is added"
        );
        assert_eq!(state.record("r9").unwrap().text("first_name"), "Zara");
    }

    #[test]
    fn records_follow_the_filter_typed_even_before_a_refilter() {
        let mut state = loaded(&["Ada", "Bob"]);
        state.list.filter = TextBuffer::single("bob");
        state.append_records(vec![person("r2", "Bobby")]);
        assert_eq!(shown(&state), ["r1", "r2"]);
    }

    #[test]
    fn the_id_index_stays_right_across_clear_and_reload() {
        let mut state = loaded(&["Ada", "Bob"]);
        state.select("r1");
        state.list.follow = Some("r1".into());
        state.clear_records();
        assert!(state.record("r0").is_none() && state.list.visible.is_empty());
        state.append_records(vec![person("r5", "Eve")]);
        assert_eq!(state.list.follow.as_deref(), Some("r1"), "still following");
        state.append_records(vec![person("r1", "Bob")]);
        assert_eq!(state.selected_record().unwrap().id, "r1", "found again");
        assert_eq!(state.list.follow, None);
        assert_eq!(state.record("r1").unwrap().text("first_name"), "Bob");
        assert!(state.record("r0").is_none());
    }
}
