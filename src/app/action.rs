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
    },
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
