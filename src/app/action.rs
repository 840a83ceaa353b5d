//! Actions (everything that can happen to the app) and Effects (work `update` asks the runner to do).

use serde_json::{Map, Value};

use super::text::TextEdit;
use crate::api::{ApiError, Batch, BatchAction};
use crate::domain::Record;
use crate::domain::schema::RefKind;

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

/// The status keys of list and detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickKey {
    Verify,
    Convert,
    Pending,
    Reject,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A quarter second passed while requests are in flight: the spinner turns.
    Tick,
    /// The terminal's size, so paging and scrolling know how many rows are on screen.
    Resize {
        width: u16,
        height: u16,
    },
    Move(Motion),
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
    Edit,
    Quick(QuickKey),
    Help,
    /// `q` in list and detail, Ctrl-c / Ctrl-q anywhere: quits, asking first if anything is unsent.
    Quit,
    /// Esc / any key on an overlay that only informs.
    Dismiss,
    /// `y` / `n` on a question (review, confirm).
    Answer(bool),
    FormEdit(TextEdit),
    /// Step through a picker's choices.
    FormPick(isize),
    /// Jump a picker to the first choice starting with this letter.
    FormPickLetter(char),
    FormNext,
    FormPrev,
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
    /// `t`: start a verification session on the list.
    TriageStart,
    /// `s` in triage: leave this referral for later.
    TriageSkip,
    /// A number key in the triage reason prompt: the n-th most recent reason (from 0).
    PickReason(usize),
    /// `k` in the conflict dialog: send mine over theirs; `t` take theirs.
    KeepMine,
    TakeTheirs,
    // Answers from background work.
    ReferralsPage {
        req: RequestId,
        records: Vec<Record>,
        last: bool,
    },
    LookupPage {
        req: RequestId,
        entries: Vec<(String, String)>,
        last: bool,
    },
    Saved {
        req: RequestId,
        result: Result<Record, ApiError>,
    },
    /// The conflict guard found `fields` changed on the server since load; nothing was sent.
    Conflict {
        req: RequestId,
        theirs: Record,
        fields: Vec<String>,
    },
    /// A batch action's state, when started and at each poll.
    BatchProgress {
        req: RequestId,
        result: Result<Batch, ApiError>,
    },
    Refreshed {
        req: RequestId,
        result: Result<Vec<Record>, ApiError>,
    },
    Found {
        req: RequestId,
        result: Result<Record, ApiError>,
    },
    RequestFailed {
        req: RequestId,
        error: ApiError,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Page through every referral, answering with one `ReferralsPage` per page.
    LoadReferrals { req: RequestId },
    /// Page through a kind of referenced resource, answering with `LookupPage`s.
    LoadLookup { req: RequestId, kind: RefKind },
    /// PUT exactly `body` to the referral `id`, answering with `Saved`.
    Update {
        req: RequestId,
        id: String,
        body: Map<String, Value>,
        /// The touched fields as loaded, for the audit log and the guard.
        base: Map<String, Value>,
        /// Refuse (answering `Conflict`) when the server's values differ from `base`; off for
        /// "keep mine".
        guard: bool,
        /// This write reverts an earlier one (recorded as such in the audit log).
        undo: bool,
    },
    /// Append a line to the audit log.
    Audit(Box<crate::store::audit::Entry>),
    /// Start a batch state action; `reason` is written to the local log (v2 cannot store it).
    StartBatch {
        req: RequestId,
        action: BatchAction,
        ids: Vec<String>,
        reason: Option<String>,
    },
    /// Ask for a batch's state again after a short pause, answering with `BatchProgress`.
    PollBatch { req: RequestId, batch: i64 },
    /// Fetch fresh copies of these referrals, answering with `Refreshed`.
    Refresh { req: RequestId, ids: Vec<String> },
    /// Open a referral by email, uid or username, answering with `Found`.
    Find {
        req: RequestId,
        by: String,
        value: String,
    },
}
