//! The one table of keys. Each row is one line of help: the keys, where they apply, on which
//! backend, and what they do; and its `binds` are the keymap itself: the key, the place it acts
//! in, what it does there and the word a dialog's hint line gives it. `keymap` finds a pressed
//! key here (it only decides which places have the keyboard), the help overlay shows the rows of
//! the backend in use (so it never offers a key the backend does not have), dialogs build their
//! hint lines with `hints`, and the README's key table is `markdown` (a test fails when the
//! README differs and prints the table to paste). Tests check each row's keys text names every
//! key it binds, and that no place binds a key twice.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Motion, QuickKey};
use super::copy::CopyWhat;
use super::text::TextEdit;

/// Where a key acts: what has the keyboard. `keymap::places` says which places have it now,
/// first place first; a key bound in none of them does nothing (or the layer's catch-all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Everywhere, before anything else.
    Anywhere,
    /// The list and the detail pane.
    Panes,
    /// Moving and scrolling, shared by the panes, triage, help, the `E` list, the journal and
    /// the review.
    Scroll,
    /// The key after `y`.
    AfterY,
    /// The `/` filter line.
    Filter,
    Triage,
    /// Typing a reason to reject (or disable) with, in a prompt or in triage.
    Reason,
    Stats,
    Form,
    /// A one-line field of the form: a line of text, a choice, a pick.
    FormLine,
    /// A field with a few values to choose from (the status).
    FormChoice,
    /// A reference to another resource, picked from a searchable list.
    FormPick,
    /// A field of several lines (metadata, split details).
    FormLines,
    /// Editing the text that has the keyboard: a field, the filter, a prompt.
    Typing,
    /// The `:` command line.
    Command,
    Picker,
    BulkErrors,
    Journal,
    Review,
    MoveReview,
    Conflict,
    /// A yes/no question.
    YesNo,
    RestoreDraft,
    QuitQuestion,
}

/// A key as pressed. Shift is not part of a character (`G` is `G`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chord {
    /// This key with exactly these modifiers.
    Key(KeyCode, KeyModifiers),
    /// Any character typed without Ctrl or Alt.
    Typed,
    /// Alt and a digit from 1 to 9.
    AltDigit,
}

/// What a bound key does.
#[derive(Debug, Clone)]
pub enum Does {
    Act(Action),
    /// An edit of the text that has the keyboard (`keymap` says which text it is).
    Edit(TextEdit),
    /// Types the character pressed into the text that has the keyboard.
    Type,
    /// An action built from the character pressed.
    Letter(fn(char) -> Action),
    /// An action built from the digit pressed, counted from 0 (`Alt-1` is 0).
    Digit(fn(usize) -> Action),
}

/// One key of the keymap.
#[derive(Debug, Clone)]
pub struct Bind {
    pub at: Place,
    pub chord: Chord,
    pub does: Does,
    /// The word a dialog's hint line shows after the key ("send"); empty: not in hints.
    pub hint: &'static str,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Key {
    /// The keys, as written in the README (`code` in backticks).
    pub keys: &'static str,
    /// Where they apply.
    pub at: &'static str,
    /// The only backend they apply on; None: every backend.
    pub backend: Option<&'static str>,
    pub does: &'static str,
    pub binds: &'static [Bind],
}

const NONE: KeyModifiers = KeyModifiers::NONE;

const fn ch(c: char) -> Chord {
    Chord::Key(KeyCode::Char(c), NONE)
}

const fn ctrl(c: char) -> Chord {
    Chord::Key(KeyCode::Char(c), KeyModifiers::CONTROL)
}

const fn code(code: KeyCode) -> Chord {
    Chord::Key(code, NONE)
}

const fn act(at: Place, chord: Chord, action: Action, hint: &'static str) -> Bind {
    Bind {
        at,
        chord,
        does: Does::Act(action),
        hint,
    }
}

const fn edit(chord: Chord, edit: TextEdit) -> Bind {
    Bind {
        at: Place::Typing,
        chord,
        does: Does::Edit(edit),
        hint: "",
    }
}

const fn go(at: Place, chord: Chord, motion: Motion, hint: &'static str) -> Bind {
    act(at, chord, Action::Move(motion), hint)
}

use KeyCode::{BackTab, Backspace, Delete, Down, End, Enter, Esc, Home, Left, PageDown, PageUp};
use KeyCode::{F, Right, Tab, Up};
use Place::*;

const VANTIO: Option<&str> = Some("vantio");
const FIRSTPROMOTER: Option<&str> = Some("firstpromoter");

const STATS: &[Bind] = &[
    act(Panes, ch('S'), Action::Stats, ""),
    act(Stats, ch('S'), Action::Stats, "close"),
    act(Stats, code(Esc), Action::Back, "close"),
    act(Stats, ch('q'), Action::Back, "close"),
];
const PICK_REASON: Bind = Bind {
    at: Reason,
    chord: Chord::AltDigit,
    does: Does::Digit(Action::PickReason),
    hint: "",
};
const COMMAND: &[Bind] = &[act(Panes, ch(':'), Action::CommandStart, "")];
const FILTER: &[Bind] = &[act(Panes, ch('/'), Action::FilterStart, "")];

pub const KEYS: &[Key] = &[
    Key {
        keys: "`j`/`k`, `↑`/`↓`, `g`/`G`, `Home`/`End`, `PgUp`/`PgDn`, `Ctrl-f`/`Ctrl-b`",
        at: "list, detail, triage, help, `E` list, journal, review",
        backend: None,
        does: "move the cursor, or scroll what has the focus",
        binds: &[
            go(Scroll, ch('j'), Motion::Down, "move"),
            go(Scroll, ch('k'), Motion::Up, "move"),
            go(Scroll, code(Down), Motion::Down, ""),
            go(Scroll, code(Up), Motion::Up, ""),
            go(Scroll, ch('g'), Motion::Top, "first/last"),
            go(Scroll, ch('G'), Motion::Bottom, "first/last"),
            go(Scroll, code(Home), Motion::Top, ""),
            go(Scroll, code(End), Motion::Bottom, ""),
            go(Scroll, code(PageUp), Motion::PageUp, ""),
            go(Scroll, code(PageDown), Motion::PageDown, ""),
            go(Scroll, ctrl('f'), Motion::PageDown, ""),
            go(Scroll, ctrl('b'), Motion::PageUp, ""),
        ],
    },
    Key {
        keys: "`Enter`",
        at: "list",
        backend: None,
        does: "open the detail pane",
        binds: &[act(Panes, code(Enter), Action::OpenDetail, "")],
    },
    Key {
        keys: "`Tab`, `Shift-Tab`",
        at: "list, detail",
        backend: None,
        does: "switch pane (`j`/`k` then scroll the detail)",
        binds: &[
            act(Panes, code(Tab), Action::SwitchPane, ""),
            act(Panes, code(BackTab), Action::SwitchPane, ""),
        ],
    },
    Key {
        keys: "`/`",
        at: "list",
        backend: VANTIO,
        does: "filter as you type, in the filter language of `referee list --where`: free words search name, email, id or ambassador's name; `status=converted created:<7d -ambassador:andre` test fields. A mistake (an unknown key, a status that does not exist) is shown under the filter line while the list keeps the last filter that made sense",
        binds: FILTER,
    },
    Key {
        keys: "`/`",
        at: "list",
        backend: FIRSTPROMOTER,
        does: "filter as you type, in the filter language of `referee list --where`: free words search name, email, uid, username, website, promoter and campaign names; `state=pending created:<7d -promoter:felix fraud:any` test fields. A mistake (an unknown key, a state that does not exist) is shown under the filter line while the list keeps the last filter that made sense",
        binds: FILTER,
    },
    Key {
        keys: "`Enter`, `Esc`, `↑`/`↓`",
        at: "`/` filter",
        backend: None,
        does: "keep the filter / clear it / move in the list while typing",
        binds: &[
            act(Filter, code(Enter), Action::FilterDone, ""),
            act(Filter, code(Esc), Action::FilterClear, ""),
            go(Filter, code(Up), Motion::Up, ""),
            go(Filter, code(Down), Motion::Down, ""),
        ],
    },
    Key {
        keys: "`e`",
        at: "list, detail",
        backend: None,
        does: "edit the selected referral",
        binds: &[act(Panes, ch('e'), Action::Edit, "")],
    },
    Key {
        keys: "`v`",
        at: "list, detail, triage",
        backend: VANTIO,
        does: "verified: sets `verified_at` to now unless already set, and `metadata.verified_by`",
        binds: &[
            act(Panes, ch('v'), Action::Quick(QuickKey::Verify), ""),
            act(Triage, ch('v'), Action::Quick(QuickKey::Verify), "verify"),
        ],
    },
    Key {
        keys: "`v`",
        at: "list, detail, triage",
        backend: FIRSTPROMOTER,
        does: "approve: `pending` or `denied` becomes `signup` or `active` (a batch action)",
        binds: &[
            act(Panes, ch('v'), Action::Quick(QuickKey::Verify), ""),
            act(Triage, ch('v'), Action::Quick(QuickKey::Verify), "approve"),
        ],
    },
    Key {
        keys: "`c` / `p`",
        at: "list, detail",
        backend: VANTIO,
        does: "converted / pending",
        binds: &[
            act(Panes, ch('c'), Action::Quick(QuickKey::Convert), ""),
            act(Panes, ch('p'), Action::Quick(QuickKey::Pending), ""),
        ],
    },
    Key {
        keys: "`p`",
        at: "list, detail",
        backend: FIRSTPROMOTER,
        does: "enable: `denied` becomes `signup` or `active` again",
        binds: &[act(Panes, ch('p'), Action::Quick(QuickKey::Pending), "")],
    },
    Key {
        keys: "`x`",
        at: "list, detail, triage",
        backend: VANTIO,
        does: "rejected: asks for a reason, stored as `metadata.rejection_reason`",
        binds: &[
            act(Panes, ch('x'), Action::Quick(QuickKey::Reject), ""),
            act(Triage, ch('x'), Action::Quick(QuickKey::Reject), "reject"),
        ],
    },
    Key {
        keys: "`x`",
        at: "list, detail, triage",
        backend: FIRSTPROMOTER,
        does: "disable: asks for a reason, kept in referee's local journal only (v2 has nowhere to store it)",
        binds: &[
            act(Panes, ch('x'), Action::Quick(QuickKey::Reject), ""),
            act(Triage, ch('x'), Action::Quick(QuickKey::Reject), "disable"),
        ],
    },
    Key {
        keys: "`s`",
        at: "list",
        backend: None,
        does: "sort: the first column shown ascending (▲ in its header), descending (▼), then the next column shown…, then the loaded order again; the cursor stays on its referral and marks stay; rows that arrive or are saved take their place in the sort",
        binds: &[act(Panes, ch('s'), Action::SortNext, "")],
    },
    Key {
        keys: "`r`",
        at: "list",
        backend: None,
        does: "reload from the server; marks stay on the referrals it brings back and the cursor on its referral (unless you move it meanwhile); the status bar says when the list was last loaded (`loaded 3 min ago`)",
        binds: &[act(Panes, ch('r'), Action::Reload, "")],
    },
    Key {
        keys: "`Esc`",
        at: "list",
        backend: None,
        does: "go back a layer: clear the marks, else close the detail pane, else clear the filter; with none of these while loading, stop the load (what has arrived stays; `r` loads again)",
        binds: &[act(Panes, code(Esc), Action::Back, "")],
    },
    Key {
        keys: "`Space` / `V`",
        at: "list",
        backend: None,
        does: "mark a row / every row the filter shows; `Esc` clears the marks",
        binds: &[
            act(Panes, ch(' '), Action::ToggleMark, ""),
            act(Panes, ch('V'), Action::MarkAll, ""),
        ],
    },
    Key {
        keys: "`t`",
        at: "list",
        backend: None,
        does: "triage: the shown rows (with no filter: converted, oldest first) one at a time; the header shows decisions per minute as a sparkline",
        binds: &[act(Panes, ch('t'), Action::TriageStart, "")],
    },
    Key {
        keys: "`s`, `q` / `Esc`",
        at: "triage",
        backend: None,
        does: "skip this referral / end triage and see its summary",
        binds: &[
            act(Triage, ch('s'), Action::TriageSkip, "skip"),
            act(Triage, ch('q'), Action::Back, "leave"),
            act(Triage, code(Esc), Action::Back, "leave"),
        ],
    },
    Key {
        keys: "`Enter`, `Esc`, `Alt-1`…`Alt-9`",
        at: "reason prompt (`x`, also in triage)",
        backend: VANTIO,
        does: "reject with the reason typed / cancel / in triage, reject with that recent reason (the prompt lists them)",
        binds: &[
            act(Reason, code(Enter), Action::PromptSubmit, "reject"),
            act(Reason, code(Esc), Action::Dismiss, "cancel"),
            PICK_REASON,
        ],
    },
    Key {
        keys: "`Enter`, `Esc`, `Alt-1`…`Alt-9`",
        at: "reason prompt (`x`, also in triage)",
        backend: FIRSTPROMOTER,
        does: "disable with the reason typed / cancel / in triage, disable with that recent reason (the prompt lists them)",
        binds: &[
            act(Reason, code(Enter), Action::PromptSubmit, "disable"),
            act(Reason, code(Esc), Action::Dismiss, "cancel"),
            PICK_REASON,
        ],
    },
    Key {
        keys: "`S`, `q`, `Esc`",
        at: "list, stats",
        backend: VANTIO,
        does: "stats of the rows the filter shows: referrals per status as bars (pending → converted → verified, then rejected) and the share converted, the top ambassadors by referrals and by conversion, and verifications per day over the last 30 days (`verified_at`), as a sparkline; it follows pages and writes as they arrive. `Esc`, `q` or `S` closes it (also `:stats`)",
        binds: STATS,
    },
    Key {
        keys: "`S`, `q`, `Esc`",
        at: "list, stats",
        backend: FIRSTPROMOTER,
        does: "stats of the rows the filter shows: referrals per state as bars (pending → signup → subscribed → active, then denied, cancelled, refunded, moved) and the share that became customers, the top promoters by referrals and by conversion, and new customers per day over the last 30 days (`customer_since`), as a sparkline; it follows pages and writes as they arrive. `Esc`, `q` or `S` closes it (also `:stats`)",
        binds: STATS,
    },
    Key {
        keys: "`u`",
        at: "list, detail, triage",
        backend: None,
        does: "undo the last change that reached the server (repeatable, newest first)",
        binds: &[
            act(Panes, ch('u'), Action::Undo, ""),
            act(Triage, ch('u'), Action::Undo, "undo"),
        ],
    },
    Key {
        keys: "`R`",
        at: "list",
        backend: None,
        does: "send the failed rows of the last bulk change again",
        binds: &[act(Panes, ch('R'), Action::RetryFailed, "")],
    },
    Key {
        keys: "`E`",
        at: "list, detail",
        backend: None,
        does: "list the rows of the last bulk change that failed (✗), met a conflict (!) or are unknown (?), each with its error (the detail pane of such a row shows it too). A finished bulk's marks, bar and message clear on `r` and 2 minutes after it ended",
        binds: &[act(Panes, ch('E'), Action::ShowBulkErrors, "")],
    },
    Key {
        keys: "`Enter`, `Esc` / `q` / `E`",
        at: "`E` list",
        backend: None,
        does: "select that referral in the list, its detail pane open / close",
        binds: &[
            act(
                BulkErrors,
                code(Enter),
                Action::OpenDetail,
                "show in the list",
            ),
            act(BulkErrors, code(Esc), Action::Dismiss, "close"),
            act(BulkErrors, ch('q'), Action::Dismiss, ""),
            act(BulkErrors, ch('E'), Action::Dismiss, ""),
        ],
    },
    Key {
        keys: "`y` then `i` / `e` / `j`",
        at: "list, detail",
        backend: None,
        does: "copy the selected referral's id / email / whole record as JSON to the clipboard (OSC 52: works over SSH, if your terminal allows it; tmux needs `set -g set-clipboard on`); any other key copies nothing",
        binds: &[
            act(Panes, ch('y'), Action::CopyStart, ""),
            act(AfterY, ch('i'), Action::Copy(Some(CopyWhat::Id)), ""),
            act(AfterY, ch('e'), Action::Copy(Some(CopyWhat::Email)), ""),
            act(AfterY, ch('j'), Action::Copy(Some(CopyWhat::Json)), ""),
        ],
    },
    Key {
        keys: "`:`",
        at: "list",
        backend: VANTIO,
        does: "command: `find id ref_…` opens that referral; `sort created desc` sorts by a column, named by its title or a filter key of one of its fields (`sort` alone: the loaded order); `stats` opens the stats view; `journal` shows your recent writes; `export csv ~/referrals.csv` (or `json`) writes the rows shown, filtered and sorted as they are, as `referee list --format csv` (`json`) prints them, asking before it replaces a file",
        binds: COMMAND,
    },
    Key {
        keys: "`:`",
        at: "list",
        backend: FIRSTPROMOTER,
        does: "command: `find id 5002`, `find email a@b.com`, `find uid …`, `find username …` open that referral; `sort created desc` sorts by a column, named by its title or a filter key of one of its fields (`sort` alone: the loaded order); `stats` opens the stats view; `journal` shows your recent writes; `export csv ~/referrals.csv` (or `json`) writes the rows shown, filtered and sorted as they are, as `referee list --format csv` (`json`) prints them, asking before it replaces a file",
        binds: COMMAND,
    },
    Key {
        keys: "`Enter`, `Esc`",
        at: "`:` prompt",
        backend: None,
        does: "run the command / cancel",
        binds: &[
            act(Command, code(Enter), Action::PromptSubmit, "run"),
            act(Command, code(Esc), Action::Dismiss, "cancel"),
        ],
    },
    Key {
        keys: "`s`, `Esc` / `q`",
        at: "journal",
        backend: None,
        does: "send the selected write again (one that failed or is unknown) / close",
        binds: &[
            act(Journal, ch('s'), Action::Resend, "send again"),
            act(Journal, code(Esc), Action::Dismiss, "close"),
            act(Journal, ch('q'), Action::Dismiss, ""),
        ],
    },
    Key {
        keys: "`Tab`/`Shift-Tab`, `↑`/`↓`, `Enter`",
        at: "form",
        backend: None,
        does: "next / previous field (in metadata `↑`/`↓` move between lines and `Enter` adds one)",
        binds: &[
            act(Form, code(Tab), Action::FormNext, "next field"),
            act(Form, code(BackTab), Action::FormPrev, ""),
            act(FormLine, code(Up), Action::FormPrev, ""),
            act(FormLine, code(Down), Action::FormNext, "next field"),
            act(FormLine, code(Enter), Action::FormNext, ""),
        ],
    },
    Key {
        keys: "`Ctrl-w` / `Ctrl-u`, `Ctrl-a` / `Ctrl-e`, `←`/`→`/`↑`/`↓`, `Home`/`End`, `Backspace`/`Delete`, `Enter`",
        at: "form, `/` filter, `:` and reason prompts",
        backend: None,
        does: "delete the word before the cursor / everything before it; go to the start / end of the line (in metadata `Ctrl-e` opens the editor; `End` goes to the end); the arrows, `Home`/`End`, `Backspace`/`Delete` as usual; `Enter` adds a line in metadata",
        binds: &[
            edit(ctrl('w'), TextEdit::DeleteWordBack),
            edit(ctrl('u'), TextEdit::ClearToStart),
            edit(ctrl('a'), TextEdit::Home),
            edit(ctrl('e'), TextEdit::End),
            edit(code(Left), TextEdit::Left),
            edit(code(Right), TextEdit::Right),
            edit(code(Up), TextEdit::Up),
            edit(code(Down), TextEdit::Down),
            edit(code(Home), TextEdit::Home),
            edit(code(End), TextEdit::End),
            edit(code(Backspace), TextEdit::Backspace),
            edit(code(Delete), TextEdit::Delete),
            edit(code(Enter), TextEdit::Newline),
            Bind {
                at: Typing,
                chord: Chord::Typed,
                does: Does::Type,
                hint: "",
            },
        ],
    },
    Key {
        keys: "mouse",
        at: "list, form, help and long dialogs",
        backend: None,
        does: "a click on a row selects it and a click on the selected row (or a double click) opens its detail pane; a click on a form field gives it the keyboard; the wheel moves through the list (or the detail pane when it has the focus) and scrolls help, the review, the conflict dialog, the journal and the `E` list. To select text with the mouse on, hold `Shift` (most terminals; `Option` in macOS Terminal and iTerm2)",
        binds: &[],
    },
    Key {
        keys: "paste",
        at: "form, `/` filter, prompts",
        backend: None,
        does: "pasted text goes in at the cursor (terminal bracketed paste); in a one-line field line breaks become spaces (a trailing one is dropped), so a paste never submits or leaves the field; control characters are dropped",
        binds: &[],
    },
    Key {
        keys: "`Ctrl-e`",
        at: "form, metadata",
        backend: None,
        does: "edit the field in `$VISUAL` / `$EDITOR` (else `vi`), as pretty JSON; the saved text is put in the field and checked, errors under the field",
        binds: &[act(
            FormLines,
            ctrl('e'),
            Action::FormOpenEditor,
            "edit in $EDITOR",
        )],
    },
    Key {
        keys: "`←`/`→`, `Space`, a letter",
        at: "form, status",
        backend: None,
        does: "pick the status (a letter: the next one starting with it)",
        binds: &[
            act(FormChoice, code(Left), Action::FormPick(-1), "pick"),
            act(FormChoice, code(Right), Action::FormPick(1), "pick"),
            act(FormChoice, ch(' '), Action::FormPick(1), ""),
            Bind {
                at: FormChoice,
                chord: Chord::Typed,
                does: Does::Letter(Action::FormPickLetter),
                hint: "",
            },
        ],
    },
    Key {
        keys: "`Enter`, `Space`, a letter",
        at: "form, promoter campaign",
        backend: FIRSTPROMOTER,
        does: "open the searchable picker (promoter name and campaign); a letter starts the search with it",
        binds: &[
            act(FormPick, code(Enter), Action::FormOpenPicker(None), "pick"),
            act(FormPick, ch(' '), Action::FormOpenPicker(None), ""),
            Bind {
                at: FormPick,
                chord: Chord::Typed,
                does: Does::Letter(|c| Action::FormOpenPicker(Some(c))),
                hint: "",
            },
        ],
    },
    Key {
        keys: "`↑`/`↓`, `PgUp`/`PgDn`, `Enter`, `Esc`",
        at: "picker",
        backend: None,
        does: "choose / pick it / cancel; typing narrows the list",
        binds: &[
            act(Picker, code(Up), Action::PickerMove(-1), "choose"),
            act(Picker, code(Down), Action::PickerMove(1), "choose"),
            act(Picker, code(PageUp), Action::PickerMove(-10), ""),
            act(Picker, code(PageDown), Action::PickerMove(10), ""),
            act(Picker, code(Enter), Action::PromptSubmit, "pick"),
            act(Picker, code(Esc), Action::Dismiss, "cancel"),
        ],
    },
    Key {
        keys: "`Ctrl-p`",
        at: "form",
        backend: FIRSTPROMOTER,
        does: "move the referral to another promoter (`move_to_promoter`), reviewed first",
        binds: &[act(Form, ctrl('p'), Action::FormMoveToPromoter, "")],
    },
    Key {
        keys: "`y` / `m` / `n`, `Esc`, `Enter`",
        at: "move review",
        backend: FIRSTPROMOTER,
        does: "move it / commissions move too, on or off / back (`Enter` is `n`)",
        binds: &[
            act(MoveReview, ch('y'), Action::Answer(true), "move"),
            act(
                MoveReview,
                ch('m'),
                Action::ToggleCommissions,
                "commissions on/off",
            ),
            act(MoveReview, ch('n'), Action::Answer(false), "back"),
            // Caps Lock on answers the same.
            act(MoveReview, ch('Y'), Action::Answer(true), ""),
            act(MoveReview, ch('N'), Action::Answer(false), ""),
            act(MoveReview, code(Esc), Action::Dismiss, "back"),
            act(MoveReview, code(Enter), Action::Answer(false), ""),
        ],
    },
    Key {
        keys: "`Ctrl-s`",
        at: "form",
        backend: None,
        does: "check every field and review the change: before → after and the exact JSON body",
        binds: &[act(Form, ctrl('s'), Action::FormSubmit, "review and send")],
    },
    Key {
        keys: "`y` / `n`, `Esc`, `Enter`",
        at: "review",
        backend: None,
        does: "send / back to the form with everything still typed (`Enter` is `n`; `j`/`k` scroll a long body)",
        binds: &[
            act(Review, ch('y'), Action::Answer(true), "send"),
            act(Review, ch('n'), Action::Answer(false), "back to the form"),
            // Caps Lock on answers the same.
            act(Review, ch('Y'), Action::Answer(true), ""),
            act(Review, ch('N'), Action::Answer(false), ""),
            act(Review, code(Esc), Action::Dismiss, "back to the form"),
            act(Review, code(Enter), Action::Answer(false), ""),
        ],
    },
    Key {
        keys: "`k` / `t` / `b`, `Esc`, `↑`/`↓`, `PgUp`/`PgDn`",
        at: "conflict",
        backend: None,
        does: "keep mine (send anyway) / take theirs into the form / back to the form / scroll",
        binds: &[
            act(
                Conflict,
                ch('k'),
                Action::KeepMine,
                "keep mine (send anyway)",
            ),
            act(Conflict, ch('t'), Action::TakeTheirs, "take theirs"),
            act(Conflict, ch('b'), Action::Dismiss, "back"),
            act(Conflict, code(Esc), Action::Dismiss, ""),
            go(Conflict, code(Up), Motion::Up, ""),
            go(Conflict, code(Down), Motion::Down, ""),
            go(Conflict, code(PageUp), Motion::Up, ""),
            go(Conflict, code(PageDown), Motion::Down, ""),
        ],
    },
    Key {
        keys: "`Esc`",
        at: "form",
        backend: None,
        does: "leave the form (asks first if you changed something)",
        binds: &[act(Form, code(Esc), Action::FormCancel, "leave")],
    },
    Key {
        keys: "`y` / `n`, `Enter`, `Esc`",
        at: "questions, a kept draft",
        backend: None,
        does: "yes / no (`Enter` is no; for a kept draft `Enter` and `Esc` ask again later, only `n` discards it). `Y`/`N` answer too, here and in the reviews",
        binds: &[
            act(YesNo, ch('y'), Action::Answer(true), "yes"),
            act(YesNo, ch('n'), Action::Answer(false), "no"),
            // Caps Lock on answers the same.
            act(YesNo, ch('Y'), Action::Answer(true), ""),
            act(YesNo, ch('N'), Action::Answer(false), ""),
            act(YesNo, code(Enter), Action::Answer(false), ""),
            act(YesNo, code(Esc), Action::Dismiss, ""),
            act(
                RestoreDraft,
                ch('y'),
                Action::Answer(true),
                "restore it into the form",
            ),
            act(RestoreDraft, ch('n'), Action::Answer(false), "discard it"),
            // Caps Lock on answers the same.
            act(RestoreDraft, ch('Y'), Action::Answer(true), ""),
            act(RestoreDraft, ch('N'), Action::Answer(false), ""),
            act(RestoreDraft, code(Esc), Action::Dismiss, "later"),
            act(RestoreDraft, code(Enter), Action::Dismiss, ""),
        ],
    },
    Key {
        keys: "`?`, `F1`",
        at: "anywhere (`F1` also in the form and the filter)",
        backend: None,
        does: "help (`j`/`k` scroll it; any other key closes it)",
        binds: &[
            act(Panes, ch('?'), Action::Help, "keys"),
            act(Panes, code(F(1)), Action::Help, ""),
            act(Triage, ch('?'), Action::Help, ""),
            act(Triage, code(F(1)), Action::Help, ""),
            act(Stats, ch('?'), Action::Help, "keys"),
            act(Stats, code(F(1)), Action::Help, ""),
            act(Filter, code(F(1)), Action::Help, ""),
            act(Form, code(F(1)), Action::Help, ""),
        ],
    },
    Key {
        keys: "`q`, `Ctrl-c`, `Ctrl-q`; `y` / `w` / `n`, `Enter`, `Esc`",
        at: "anywhere (`Ctrl-c` in the form)",
        backend: None,
        does: "quit; asks first if a form is unsent or writes are in flight (`y` quit now, `w` wait for them, then quit, `n` (`Enter`, `Esc`) stay)",
        binds: &[
            act(Panes, ch('q'), Action::Quit, "quit"),
            act(Anywhere, ctrl('c'), Action::Quit, ""),
            act(Anywhere, ctrl('q'), Action::Quit, ""),
            act(QuitQuestion, ch('y'), Action::Answer(true), "quit now"),
            act(
                QuitQuestion,
                ch('w'),
                Action::WaitThenQuit,
                "wait, then quit",
            ),
            act(QuitQuestion, ch('n'), Action::Answer(false), "stay"),
            // Caps Lock on answers the same.
            act(QuitQuestion, ch('Y'), Action::Answer(true), ""),
            act(QuitQuestion, ch('N'), Action::Answer(false), ""),
            act(QuitQuestion, code(Enter), Action::Answer(false), ""),
            act(QuitQuestion, code(Esc), Action::Dismiss, ""),
        ],
    },
];

/// The rows that apply on `backend`, in table order.
pub fn for_backend(backend: &str) -> impl Iterator<Item = &'static Key> + '_ {
    KEYS.iter()
        .filter(move |key| key.backend.is_none_or(|only| only == backend))
}

/// What `key` does in the first of `places` that binds it, on `backend`: a bound key first; then
/// a named key (an arrow, `Enter`, `Esc`…) pressed with Ctrl or Alt as the key alone, as
/// terminals and habits mix them; then a typed character (so `Space` can pick while letters type).
pub fn find(places: &[Place], backend: &str, key: KeyEvent) -> Option<&'static Does> {
    let binds = || for_backend(backend).flat_map(|row| row.binds);
    // Shift is part of the character (`G`) or of the key (`Shift-Tab` is `BackTab`).
    let modifiers = key.modifiers - KeyModifiers::SHIFT;
    let pressed = Chord::Key(key.code, modifiers);
    let named_alone = match key.code {
        KeyCode::Char(_) => None,
        code => Some(Chord::Key(code, KeyModifiers::NONE)),
    };
    places.iter().find_map(|place| {
        let here = || binds().filter(move |bind| bind.at == *place);
        here()
            .find(|bind| bind.chord == pressed)
            .or_else(|| here().find(|bind| Some(bind.chord) == named_alone))
            .or_else(|| here().find(|bind| bind.chord.takes(key)))
            .map(|bind| &bind.does)
    })
}

impl Chord {
    /// Whether this catch-all chord takes `key`.
    fn takes(&self, key: KeyEvent) -> bool {
        let KeyCode::Char(c) = key.code else {
            return false;
        };
        let modifiers = key.modifiers - KeyModifiers::SHIFT;
        match self {
            Chord::Key(..) => false,
            Chord::Typed => modifiers.is_empty(),
            Chord::AltDigit => modifiers == KeyModifiers::ALT && ('1'..='9').contains(&c),
        }
    }

    /// The key as help and hints name it: `j`, `Ctrl-s`, `↑`, `PgDn`.
    pub fn name(&self) -> String {
        let (code, modifiers) = match self {
            Chord::Key(code, modifiers) => (code, modifiers),
            Chord::Typed => return "a letter".into(),
            Chord::AltDigit => return "Alt-1…9".into(),
        };
        let key = match code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            other => format!("{other:?}"),
        };
        if modifiers.contains(KeyModifiers::CONTROL) {
            format!("Ctrl-{key}")
        } else if modifiers.contains(KeyModifiers::ALT) {
            format!("Alt-{key}")
        } else {
            key
        }
    }
}

/// A dialog's hint line from the words its keys have in `places`: keys with the same word in a
/// row share it ("j/k move · y send · n/Esc back").
pub fn hints(places: &[Place], backend: &str) -> String {
    let mut parts: Vec<(String, &str)> = Vec::new();
    for place in places {
        let binds = for_backend(backend)
            .flat_map(|row| row.binds)
            .filter(|bind| bind.at == *place && !bind.hint.is_empty());
        for bind in binds {
            match parts.last_mut() {
                Some((keys, word)) if *word == bind.hint => {
                    keys.push('/');
                    keys.push_str(&bind.chord.name());
                }
                _ => parts.push((bind.chord.name(), bind.hint)),
            }
        }
    }
    let parts: Vec<String> = parts
        .into_iter()
        .map(|(keys, word)| format!("{keys} {word}"))
        .collect();
    parts.join(" · ")
}

/// Table text without the README's backticks, for the screen.
pub fn plain(text: &str) -> String {
    text.replace('`', "")
}

/// The table as the README shows it.
pub fn markdown() -> String {
    let mut table = String::from("| key | where | backend | does |\n|---|---|---|---|\n");
    for key in KEYS {
        let backend = key.backend.unwrap_or("both");
        table.push_str(&format!(
            "| {} | {} | {backend} | {} |\n",
            key.keys, key.at, key.does
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter examples the `/` rows give are ones their backend's filter language takes.
    #[test]
    fn each_backends_filter_example_is_a_filter_it_takes() {
        use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};
        for schema in [&V1_SCHEMA, &V2_SCHEMA] {
            let row = for_backend(schema.backend)
                .find(|k| k.keys == "`/`")
                .expect("a / row");
            let example = row.does.split('`').nth(3).expect("an example in backticks");
            crate::domain::filter::Filter::parse(schema, example)
                .unwrap_or_else(|e| panic!("{}: {example}: {e:?}", schema.backend));
        }
    }

    #[test]
    fn the_readme_key_table_is_this_table() {
        let readme = include_str!("../../README.md");
        assert!(
            readme.contains(&markdown()),
            "the README's key table differs; paste this under ## Keys:\n{}",
            markdown()
        );
    }

    /// Help cannot leave out a key the keymap has: every key a row binds is named in its text.
    #[test]
    fn each_row_names_every_key_it_binds() {
        for row in KEYS {
            let words: Vec<&str> = row.keys.split('`').skip(1).step_by(2).collect();
            for bind in row.binds {
                let name = bind.chord.name();
                let named = match bind.chord {
                    // `Y` and `N` answer as `y` and `n` do (Caps Lock), which the table says once.
                    Chord::Key(KeyCode::Char(c @ ('Y' | 'N')), _) => {
                        words.contains(&c.to_ascii_lowercase().to_string().as_str())
                            && KEYS.iter().any(|r| r.does.contains("`Y`/`N`"))
                    }
                    Chord::Key(..) => words.contains(&name.as_str()),
                    Chord::Typed => row.keys.contains("a letter") || row.at.contains("typing"),
                    Chord::AltDigit => row.keys.contains("`Alt-1`…`Alt-9`"),
                };
                // Typing is the text keys' own row: letters type there.
                let named = named || (bind.at == Typing && bind.chord == Chord::Typed);
                assert!(
                    named,
                    "{:?} binds {name}, its keys text does not say so",
                    row.keys
                );
            }
        }
    }

    /// A key means one thing in one place on one backend.
    #[test]
    fn no_place_binds_a_key_twice() {
        for backend in ["vantio", "firstpromoter"] {
            let binds: Vec<&Bind> = for_backend(backend).flat_map(|row| row.binds).collect();
            for (i, bind) in binds.iter().enumerate() {
                let twin = binds[i + 1..]
                    .iter()
                    .find(|other| other.at == bind.at && other.chord == bind.chord);
                // The shared rows (reject, stats, filter, command) are one bind per backend row.
                let shared = twin.is_some_and(|other| std::ptr::eq(*other, *bind));
                assert!(
                    twin.is_none() || shared,
                    "{backend}: {} twice in {:?}",
                    bind.chord.name(),
                    bind.at
                );
            }
        }
    }

    #[test]
    fn each_backend_is_offered_only_its_own_keys_and_commands() {
        let text = |backend| {
            for_backend(backend)
                .map(|k| format!("{} {}", k.keys, k.does))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let (v1, v2) = (text("vantio"), text("firstpromoter"));
        assert!(!v1.contains("find email") && v2.contains("find email"));
        assert!(!v1.contains("Ctrl-p") && v2.contains("Ctrl-p"));
        assert!(v1.contains("`c` / `p`") && !v2.contains("`c`"));
        assert!(v2.contains("approve") && !v1.contains("approve"));
    }

    /// One row per dialog: its hint line, built from the words of its keys.
    #[test]
    fn hint_lines_come_from_the_keys_words() {
        for (places, backend, line) in [
            (
                &[Review, Scroll][..],
                "vantio",
                "y send · n/Esc back to the form · j/k move · g/G first/last",
            ),
            (
                &[Triage][..],
                "vantio",
                "v verify · x reject · s skip · q/Esc leave · u undo",
            ),
            (
                &[Triage][..],
                "firstpromoter",
                "v approve · x disable · s skip · q/Esc leave · u undo",
            ),
            (
                &[QuitQuestion][..],
                "vantio",
                "y quit now · w wait, then quit · n stay",
            ),
            (
                &[Conflict][..],
                "vantio",
                "k keep mine (send anyway) · t take theirs · b back",
            ),
        ] {
            assert_eq!(hints(places, backend), line, "{places:?}");
        }
    }
}
