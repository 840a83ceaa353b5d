//! Actions (everything that can happen to the app) and Effects (work `update` asks the runner to do).

use super::text::TextEdit;
use crate::api::{ApiError, Batch};
use crate::domain::Record;
use crate::domain::mutation::{Mutation, Outcome};
use crate::domain::schema::RefKind;

pub use crate::domain::policy::QuickKey;

/// Identifies a background request so its answer can be matched, and a stale one dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Time passed: a quarter second while requests are in flight (the spinner turns), or the
    /// idle loop's slow beat (the runner takes the time afresh, so "loaded 3 min ago" keeps up).
    Tick,
    /// What the HTTP core is waiting for changed (a rate-limit wait, a retried request).
    Net(crate::api::NetStatus),
    /// The terminal's size, so paging and scrolling know how many rows are on screen.
    Resize {
        width: u16,
        height: u16,
    },
    Move(Motion),
    /// A click on the list's row at this position (in `list.visible`): the cursor goes there.
    SelectRow(usize),
    OpenDetail,
    /// Esc in the list: close the detail pane, or clear the filter.
    Back,
    SwitchPane,
    /// Space: mark or unmark the selected row.
    ToggleMark,
    /// `V`: mark every row the filter shows.
    MarkAll,
    FilterStart,
    FilterEdit(TextEdit),
    FilterDone,
    FilterClear,
    Reload,
    /// `s` in the list: the next sort (each column ascending, then descending, then none).
    SortNext,
    Edit,
    Quick(QuickKey),
    Help,
    /// `q` in list and detail, Ctrl-c / Ctrl-q anywhere: quits, asking first if anything is unsent.
    Quit,
    /// Esc / any key on an overlay that only informs.
    Dismiss,
    /// `y` / `n` on a question (review, confirm).
    Answer(bool),
    /// `s` in the journal: send the selected write again.
    Resend,
    /// `w` on the quit question: quit once every write in flight has its outcome.
    WaitThenQuit,
    FormEdit(TextEdit),
    /// Step through a picker's choices.
    FormPick(isize),
    /// Jump a picker to the first choice starting with this letter.
    FormPickLetter(char),
    FormNext,
    FormPrev,
    /// A click on the form's field at this index: it gets the keyboard.
    FormFocus(usize),
    /// Ctrl-s: validate everything and open the review.
    FormSubmit,
    /// Esc in the form: leave it, asking first if it has unsent changes.
    FormCancel,
    PromptEdit(TextEdit),
    PromptSubmit,
    /// Open the searchable picker for the focused form field.
    FormOpenPicker(Option<char>),
    /// Ctrl-p in the form: move the referral to another promoter (a batch action).
    FormMoveToPromoter,
    PickerMove(isize),
    /// `m` in the move review: toggle moving the referral's commissions along.
    ToggleCommissions,
    /// `:` in the list: a command such as `find email a@b.com`.
    CommandStart,
    /// `u`: revert the newest change that reached the server.
    Undo,
    /// `R`: send the failed rows of the last bulk change again.
    RetryFailed,
    /// `E`: list the rows of the last bulk change that did not land, with their errors.
    ShowBulkErrors,
    /// `t`: start a verification session on the list.
    TriageStart,
    /// `S` in the list, `:stats`: open the stats view; `S` in it closes it.
    Stats,
    /// `s` in triage: leave this referral for later.
    TriageSkip,
    /// A number key in the triage reason prompt: the n-th most recent reason (from 0).
    PickReason(usize),
    /// `k` in the conflict dialog: send mine over theirs; `t` take theirs.
    KeepMine,
    TakeTheirs,
    /// `y` in the list: the next key says what to copy.
    CopyStart,
    /// The key after `y`: what to copy of the selected referral (None: another key, nothing).
    Copy(Option<super::copy::CopyWhat>),
    /// Ctrl-e in a multi-line form field: edit its text in `$VISUAL` / `$EDITOR`.
    FormOpenEditor,
    // Answers from background work.
    /// The editor opened with `Effect::OpenEditor` returned: the edited text, or why there is none.
    Edited {
        id: String,
        field: &'static str,
        result: Result<String, String>,
    },
    /// The terminal refused something asked of it (the clipboard write): said in the status bar.
    TerminalFailed(String),
    /// A page of referrals not seen before; `end` is set on the last one, with what went wrong
    /// while paging (entries that could not be read, why paging stopped early).
    ReferralsPage {
        req: RequestId,
        records: Vec<Record>,
        end: Option<crate::effects::PagingReport>,
    },
    /// A page of (id, name) for a kind of referenced resource; `end` as for `ReferralsPage`.
    LookupPage {
        req: RequestId,
        entries: Vec<(String, String)>,
        end: Option<crate::effects::PagingReport>,
    },
    /// The name of one id asked for with `Effect::LoadName`.
    NameLoaded {
        req: RequestId,
        name: String,
    },
    /// A write's outcome, decided by the runner (re-reading the referral when the answer was lost).
    Written {
        req: RequestId,
        outcome: Outcome,
    },
    /// The write just answered could not be recorded in the journal: said in red, at once.
    Unrecorded {
        message: String,
    },
    /// What the journaled writes of an earlier run turned out to be.
    Reconciled {
        req: RequestId,
        result: Result<crate::effects::Reconciliation, String>,
    },
    /// Recent rejection reasons from the journal, newest first, for triage's Alt-1..9.
    ReasonsLoaded {
        req: RequestId,
        reasons: Vec<String>,
    },
    JournalLoaded {
        req: RequestId,
        result: Result<Vec<crate::store::journal::Stored>, String>,
        /// Damaged entries the journal's reads have had to leave out (`Journal::damaged`).
        damaged: usize,
    },
    /// A running backend action's progress on the server.
    WriteProgress {
        req: RequestId,
        batch: Batch,
    },
    Found {
        req: RequestId,
        result: Result<Record, ApiError>,
    },
    RequestFailed {
        req: RequestId,
        error: ApiError,
    },
    /// The store's draft of the referral whose form just opened (None: there is none).
    DraftLoaded {
        req: RequestId,
        result: Result<Option<crate::store::drafts::Draft>, String>,
    },
    /// A draft was saved or discarded, or could not be.
    DraftSaved {
        req: RequestId,
        result: Result<(), String>,
    },
    /// An `Effect::Export` ended: the `count` referrals are in the file at `path` (the path
    /// meant: `~` expanded, made absolute), or nothing was written and why.
    Exported {
        req: RequestId,
        path: String,
        count: usize,
        result: Result<(), crate::export::WriteError>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Page through every referral, answering with one `ReferralsPage` per page.
    LoadReferrals { req: RequestId },
    /// Stop the load answering `req` (the runner ends its task); answers already on their way for
    /// it are dropped as stale.
    StopLoad { req: RequestId },
    /// Page through a kind of referenced resource, answering with `LookupPage`s.
    LoadLookup { req: RequestId, kind: RefKind },
    /// Name one referenced id, answering with `NameLoaded` (or `RequestFailed`).
    LoadName {
        req: RequestId,
        kind: RefKind,
        id: String,
    },
    /// Journal the write, send it (after the conflict guard for a guarded field write), decide its
    /// outcome, journal that, and answer with `Written`.
    Mutate {
        req: RequestId,
        mutation: Mutation,
        /// Why it is written, for the journal: form, quick, bulk, triage, undo, resend.
        why: &'static str,
        /// The bulk change it is a row of, so the journal (and `referee undo --bulk`) can put
        /// the rows of one change together again.
        group: Option<u64>,
    },
    /// Read the rejection reasons this profile used most recently, answering `ReasonsLoaded`.
    LoadReasons { req: RequestId },
    /// Read this profile's newest journal entries, answering `JournalLoaded`.
    LoadJournal { req: RequestId },
    /// Check the journaled writes an earlier run left without an outcome, answering `Reconciled`.
    Reconcile { req: RequestId },
    /// Record a verification session's summary in the journal.
    RecordSession { detail: serde_json::Value },
    /// Read the draft of referral `id` kept for this profile, answering `DraftLoaded`.
    LoadDraft { req: RequestId, id: String },
    /// Keep what is typed in the form of referral `id` (field key -> text), answering `DraftSaved`.
    SaveDraft {
        req: RequestId,
        id: String,
        fields: serde_json::Map<String, serde_json::Value>,
        time: jiff::Timestamp,
    },
    /// Forget the draft of referral `id`, answering `DraftSaved`.
    DiscardDraft { req: RequestId, id: String },
    /// Put `text` on the clipboard of the terminal the console runs in (OSC 52); done by the
    /// runtime itself, answering `TerminalFailed` only if the terminal cannot be written.
    Copy { text: String },
    /// Suspend the console and edit `text` in the user's editor, answering `Edited` with the
    /// form field it came from (form of referral `id`, field `field`).
    OpenEditor {
        id: String,
        field: &'static str,
        text: String,
    },
    /// Write `records` (the rows the list showed, in its order) as `format` to `path` as typed,
    /// off the UI task, answering `Exported`. A file already there is replaced only if `replace`.
    Export {
        req: RequestId,
        format: crate::export::Format,
        path: String,
        replace: bool,
        records: Vec<Record>,
    },
    /// Open a referral by email, uid or username, answering with `Found`.
    Find {
        req: RequestId,
        by: String,
        value: String,
    },
}

impl Effect {
    /// Draft effects run one after another, in the order they were asked for, so a save never
    /// lands after the discard that followed it.
    pub fn is_draft(&self) -> bool {
        matches!(
            self,
            Effect::LoadDraft { .. } | Effect::SaveDraft { .. } | Effect::DiscardDraft { .. }
        )
    }
}
