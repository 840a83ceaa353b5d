//! Keys to Actions, by what has the keyboard: an overlay, the form, the filter line, or the panes.
//! In the form and the filter every printable key types; no shortcut fires while typing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Motion, QuickKey};
use super::copy::CopyWhat;
use super::form::FieldInput;
use super::state::{LoadState, Overlay, Question, State};
use super::text::TextEdit;

pub fn map_key(state: &State, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('q')) {
        return Some(Action::Quit);
    }
    if let Some(overlay) = &state.overlay {
        return overlay_key(overlay, key);
    }
    if let Some(form) = &state.form {
        let multiline = matches!(&form.focused().input, FieldInput::Text(b) if b.is_multiline());
        let picker = matches!(form.focused().input, FieldInput::Choice { .. });
        let lookup = matches!(form.focused().input, FieldInput::Pick { .. });
        return match key.code {
            KeyCode::Char('s') if ctrl => Some(Action::FormSubmit),
            KeyCode::Char('p') if ctrl => Some(Action::FormMoveToPromoter),
            KeyCode::Char('e') if ctrl && multiline => Some(Action::FormOpenEditor),
            KeyCode::Enter | KeyCode::Char(' ') if lookup => Some(Action::FormOpenPicker(None)),
            KeyCode::Char(c) if lookup && !ctrl => Some(Action::FormOpenPicker(Some(c))),
            KeyCode::Esc => Some(Action::FormCancel),
            KeyCode::Tab => Some(Action::FormNext),
            KeyCode::BackTab => Some(Action::FormPrev),
            KeyCode::Up if !multiline => Some(Action::FormPrev),
            KeyCode::Down if !multiline => Some(Action::FormNext),
            KeyCode::Enter if !multiline => Some(Action::FormNext),
            KeyCode::F(1) => Some(Action::Help),
            KeyCode::Left if picker => Some(Action::FormPick(-1)),
            KeyCode::Right | KeyCode::Char(' ') if picker => Some(Action::FormPick(1)),
            KeyCode::Char(c) if picker && !ctrl => Some(Action::FormPickLetter(c)),
            _ => text_edit(key).map(Action::FormEdit),
        };
    }
    if let Some(triage) = &state.triage {
        if triage.reason.is_some() {
            return match key.code {
                KeyCode::Enter => Some(Action::PromptSubmit),
                KeyCode::Esc => Some(Action::Dismiss),
                // Alt-digit picks a recent reason; a plain digit is part of a typed reason.
                KeyCode::Char(d @ '1'..='9')
                    if alt && triage.recent_reasons.len() > d as usize - '1' as usize =>
                {
                    Some(Action::PickReason(d as usize - '1' as usize))
                }
                KeyCode::Char(_) if alt => None,
                _ => text_edit(key).map(Action::PromptEdit),
            };
        }
        return match key.code {
            // Ctrl- and Alt-letters are not the plain letter's action.
            KeyCode::Char(_) if ctrl || alt => None,
            KeyCode::Char('v') => Some(Action::Quick(QuickKey::Verify)),
            KeyCode::Char('x') => Some(Action::Quick(QuickKey::Reject)),
            KeyCode::Char('s') => Some(Action::TriageSkip),
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Move(Motion::Down)),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Move(Motion::Up)),
            KeyCode::Char('u') => Some(Action::Undo),
            KeyCode::Char('?') | KeyCode::F(1) => Some(Action::Help),
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Back),
            _ => None,
        };
    }
    if state.stats.is_some() {
        return match key.code {
            KeyCode::Char(_) if ctrl || alt => None,
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Back),
            KeyCode::Char('S') => Some(Action::Stats),
            KeyCode::Char('?') | KeyCode::F(1) => Some(Action::Help),
            _ => None,
        };
    }
    if state.list.filtering {
        return match key.code {
            KeyCode::F(1) => Some(Action::Help),
            KeyCode::Esc => Some(Action::FilterClear),
            KeyCode::Enter => Some(Action::FilterDone),
            KeyCode::Up => Some(Action::Move(Motion::Up)),
            KeyCode::Down => Some(Action::Move(Motion::Down)),
            _ => text_edit(key).map(Action::FilterEdit),
        };
    }
    // Issue 13: the key after `y` says what to copy; any other key copies nothing.
    if state.copy_pending {
        return Some(Action::Copy(match key.code {
            KeyCode::Char(_) if ctrl || alt => None,
            KeyCode::Char('i') => Some(CopyWhat::Id),
            KeyCode::Char('e') => Some(CopyWhat::Email),
            KeyCode::Char('j') => Some(CopyWhat::Json),
            _ => None,
        }));
    }
    Some(match key.code {
        KeyCode::Char('j') | KeyCode::Down => Action::Move(Motion::Down),
        KeyCode::Char('k') | KeyCode::Up => Action::Move(Motion::Up),
        KeyCode::Char('g') | KeyCode::Home => Action::Move(Motion::Top),
        KeyCode::Char('G') | KeyCode::End => Action::Move(Motion::Bottom),
        KeyCode::PageDown => Action::Move(Motion::PageDown),
        KeyCode::PageUp => Action::Move(Motion::PageUp),
        KeyCode::Char('f') if ctrl => Action::Move(Motion::PageDown),
        KeyCode::Char('b') if ctrl => Action::Move(Motion::PageUp),
        // Any other Ctrl- or Alt-letter is not the plain letter's action (Ctrl-v must not verify).
        KeyCode::Char(_) if ctrl || alt => return None,
        KeyCode::Enter => Action::OpenDetail,
        // Esc goes back a layer (marks, the detail pane, the filter) before it stops a load.
        KeyCode::Esc
            if matches!(state.load, LoadState::Loading { .. })
                && state.marked.is_empty()
                && !state.detail_open
                && state.list.filter.text().is_empty() =>
        {
            Action::StopLoad
        }
        KeyCode::Esc => Action::Back,
        KeyCode::Tab | KeyCode::BackTab => Action::SwitchPane,
        KeyCode::Char('/') => Action::FilterStart,
        KeyCode::Char(':') => Action::CommandStart,
        KeyCode::Char(' ') => Action::ToggleMark,
        KeyCode::Char('V') => Action::MarkAll,
        KeyCode::Char('e') => Action::Edit,
        KeyCode::Char('v') => Action::Quick(QuickKey::Verify),
        KeyCode::Char('c') => Action::Quick(QuickKey::Convert),
        KeyCode::Char('p') => Action::Quick(QuickKey::Pending),
        KeyCode::Char('x') => Action::Quick(QuickKey::Reject),
        KeyCode::Char('r') => Action::Reload,
        KeyCode::Char('s') => Action::SortNext,
        KeyCode::Char('?') | KeyCode::F(1) => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('u') => Action::Undo,
        KeyCode::Char('R') => Action::RetryFailed,
        KeyCode::Char('E') => Action::ShowBulkErrors,
        KeyCode::Char('t') => Action::TriageStart,
        // Issue 13: copy, bulk errors, stats.
        KeyCode::Char('y') => Action::CopyStart,
        KeyCode::Char('S') => Action::Stats,
        _ => return None,
    })
}

/// A bracketed paste goes, as one edit, to whatever has the keyboard and takes text: the focused
/// text field of the form, the filter line, a prompt. Elsewhere it does nothing.
pub fn map_paste(state: &State, text: String) -> Option<Action> {
    let paste = TextEdit::Paste(text);
    match (&state.overlay, &state.form, &state.triage) {
        (
            Some(Overlay::RejectReason { .. } | Overlay::Command { .. } | Overlay::Picker { .. }),
            ..,
        ) => Some(Action::PromptEdit(paste)),
        (Some(_), ..) => None,
        (None, Some(form), _) => {
            matches!(form.focused().input, FieldInput::Text(_)).then_some(Action::FormEdit(paste))
        }
        (None, None, Some(triage)) => triage.reason.is_some().then_some(Action::PromptEdit(paste)),
        (None, None, None) if state.list.filtering => Some(Action::FilterEdit(paste)),
        (None, None, None) => None,
    }
}

fn overlay_key(overlay: &Overlay, key: KeyEvent) -> Option<Action> {
    let typing = matches!(
        overlay,
        Overlay::RejectReason { .. } | Overlay::Command { .. } | Overlay::Picker { .. }
    );
    let modified = key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    if !typing && modified && matches!(key.code, KeyCode::Char(_)) {
        // Ctrl-y is not a yes.
        return None;
    }
    match overlay {
        Overlay::RejectReason { .. } | Overlay::Command { .. } => match key.code {
            KeyCode::Enter => Some(Action::PromptSubmit),
            KeyCode::Esc => Some(Action::Dismiss),
            _ => text_edit(key).map(Action::PromptEdit),
        },
        Overlay::Picker { .. } => match key.code {
            KeyCode::Enter => Some(Action::PromptSubmit),
            KeyCode::Esc => Some(Action::Dismiss),
            KeyCode::Up => Some(Action::PickerMove(-1)),
            KeyCode::Down => Some(Action::PickerMove(1)),
            KeyCode::PageUp => Some(Action::PickerMove(-10)),
            KeyCode::PageDown => Some(Action::PickerMove(10)),
            _ => text_edit(key).map(Action::PromptEdit),
        },
        Overlay::MoveReview { .. } if key.code == KeyCode::Char('m') => {
            Some(Action::ToggleCommissions)
        }
        Overlay::Help { .. } => match key.code {
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Move(Motion::Down)),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Move(Motion::Up)),
            KeyCode::PageDown => Some(Action::Move(Motion::PageDown)),
            KeyCode::PageUp => Some(Action::Move(Motion::PageUp)),
            KeyCode::Char('G') | KeyCode::End => Some(Action::Move(Motion::Bottom)),
            KeyCode::Char('g') | KeyCode::Home => Some(Action::Move(Motion::Top)),
            _ => Some(Action::Dismiss),
        },
        Overlay::TriageSummary => Some(Action::Dismiss),
        Overlay::BulkErrors { .. } => match key.code {
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Move(Motion::Down)),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Move(Motion::Up)),
            KeyCode::PageDown => Some(Action::Move(Motion::PageDown)),
            KeyCode::PageUp => Some(Action::Move(Motion::PageUp)),
            KeyCode::Char('g') | KeyCode::Home => Some(Action::Move(Motion::Top)),
            KeyCode::Char('G') | KeyCode::End => Some(Action::Move(Motion::Bottom)),
            KeyCode::Enter => Some(Action::OpenDetail),
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('E') => Some(Action::Dismiss),
            _ => None,
        },
        Overlay::Journal { .. } => match key.code {
            KeyCode::Char('j') | KeyCode::Down => Some(Action::Move(Motion::Down)),
            KeyCode::Char('k') | KeyCode::Up => Some(Action::Move(Motion::Up)),
            KeyCode::PageDown => Some(Action::Move(Motion::PageDown)),
            KeyCode::PageUp => Some(Action::Move(Motion::PageUp)),
            KeyCode::Char('s') => Some(Action::Resend),
            KeyCode::Esc | KeyCode::Char('q') => Some(Action::Dismiss),
            _ => None,
        },
        // Enter does not throw a kept draft away: only `n` does.
        Overlay::Confirm(Question::RestoreDraft) if key.code == KeyCode::Enter => {
            Some(Action::Dismiss)
        }
        Overlay::Confirm(Question::Quit) if key.code == KeyCode::Char('w') => {
            Some(Action::WaitThenQuit)
        }
        Overlay::Conflict { .. } => match key.code {
            KeyCode::Char('k') => Some(Action::KeepMine),
            KeyCode::Char('t') => Some(Action::TakeTheirs),
            KeyCode::Char('b') | KeyCode::Esc => Some(Action::Dismiss),
            KeyCode::Down | KeyCode::PageDown => Some(Action::Move(Motion::Down)),
            KeyCode::Up | KeyCode::PageUp => Some(Action::Move(Motion::Up)),
            _ => None,
        },
        Overlay::Review { .. }
            if matches!(
                key.code,
                KeyCode::Char('j') | KeyCode::Down | KeyCode::PageDown
            ) =>
        {
            Some(Action::Move(Motion::Down))
        }
        Overlay::Review { .. }
            if matches!(key.code, KeyCode::Char('k') | KeyCode::Up | KeyCode::PageUp) =>
        {
            Some(Action::Move(Motion::Up))
        }
        Overlay::Review { .. } | Overlay::Confirm(_) | Overlay::MoveReview { .. } => match key.code
        {
            KeyCode::Char('y') | KeyCode::Char('Y') => Some(Action::Answer(true)),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Enter => Some(Action::Answer(false)),
            KeyCode::Esc => Some(Action::Dismiss),
            _ => None,
        },
    }
}

fn text_edit(key: KeyEvent) -> Option<TextEdit> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('u') if ctrl => TextEdit::ClearToStart,
        KeyCode::Char('w') if ctrl => TextEdit::DeleteWordBack,
        KeyCode::Char('a') if ctrl => TextEdit::Home,
        KeyCode::Char('e') if ctrl => TextEdit::End,
        KeyCode::Char(_) if ctrl => return None,
        KeyCode::Char(c) => TextEdit::Insert(c),
        KeyCode::Enter => TextEdit::Newline,
        KeyCode::Backspace => TextEdit::Backspace,
        KeyCode::Delete => TextEdit::Delete,
        KeyCode::Left => TextEdit::Left,
        KeyCode::Right => TextEdit::Right,
        KeyCode::Up => TextEdit::Up,
        KeyCode::Down => TextEdit::Down,
        KeyCode::Home => TextEdit::Home,
        KeyCode::End => TextEdit::End,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::Question;
    use crate::app::triage::Triage;

    fn state() -> State {
        State::sample()
    }

    fn key(c: char, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), modifiers)
    }

    /// One row per key: a Ctrl- or Alt-letter never does what the plain letter does.
    #[test]
    fn modified_letters_are_not_plain_letters() {
        let list = state();
        // (Ctrl-c quits everywhere, by design.)
        for c in ['v', 'p', 'x', 'u', 't', 'e', 'r', 'R', 'E'] {
            assert!(map_key(&list, key(c, KeyModifiers::NONE)).is_some(), "{c}");
            assert_eq!(
                map_key(&list, key(c, KeyModifiers::CONTROL)),
                None,
                "Ctrl-{c}"
            );
            assert_eq!(map_key(&list, key(c, KeyModifiers::ALT)), None, "Alt-{c}");
        }
        assert_eq!(
            map_key(&list, key('f', KeyModifiers::CONTROL)),
            Some(Action::Move(Motion::PageDown))
        );
        let mut triage = state();
        triage.triage = Some(Triage::new(vec!["ref_1".into()], triage.clock.now));
        assert_eq!(map_key(&triage, key('v', KeyModifiers::CONTROL)), None);
        let mut asking = state();
        asking.overlay = Some(Overlay::Confirm(Question::Quit));
        assert_eq!(map_key(&asking, key('y', KeyModifiers::CONTROL)), None);
        assert_eq!(
            map_key(&asking, key('y', KeyModifiers::NONE)),
            Some(Action::Answer(true))
        );
    }

    #[test]
    fn y_starts_a_copy_and_the_next_key_says_what() {
        let mut list = state();
        let plain = KeyModifiers::NONE;
        assert_eq!(map_key(&list, key('y', plain)), Some(Action::CopyStart));
        list.copy_pending = true;
        for (c, modifiers, what) in [
            ('i', plain, Some(CopyWhat::Id)),
            ('e', plain, Some(CopyWhat::Email)),
            ('j', plain, Some(CopyWhat::Json)),
            ('q', plain, None),
            ('i', KeyModifiers::CONTROL, None),
        ] {
            assert_eq!(
                map_key(&list, key(c, modifiers)),
                Some(Action::Copy(what)),
                "{c}"
            );
        }
    }

    /// The stats view takes its own keys: it closes, help opens over it, and no key of the list
    /// underneath acts on a referral.
    #[test]
    fn the_stats_view_closes_and_passes_no_key_to_the_list() {
        let mut list = state();
        let plain = KeyModifiers::NONE;
        assert_eq!(map_key(&list, key('S', plain)), Some(Action::Stats));
        crate::app::stats::open(&mut list);
        let esc = KeyEvent::new(KeyCode::Esc, plain);
        assert_eq!(map_key(&list, esc), Some(Action::Back));
        assert_eq!(map_key(&list, key('q', plain)), Some(Action::Back));
        assert_eq!(map_key(&list, key('S', plain)), Some(Action::Stats));
        assert_eq!(map_key(&list, key('?', plain)), Some(Action::Help));
        for c in ['v', 'x', 'e', 'j', '/', 'y', ' '] {
            assert_eq!(map_key(&list, key(c, plain)), None, "{c}");
        }
        assert_eq!(map_key(&list, key('S', KeyModifiers::ALT)), None);
    }

    /// One row per place: where a paste goes.
    #[test]
    fn a_paste_goes_to_what_takes_text() {
        let text = || "a b".to_string();
        let paste = || TextEdit::Paste(text());
        let list = state();
        assert_eq!(map_paste(&list, text()), None, "the list takes no text");
        let mut filtering = state();
        filtering.list.filtering = true;
        assert_eq!(
            map_paste(&filtering, text()),
            Some(Action::FilterEdit(paste()))
        );
        let mut command = state();
        command.overlay = Some(Overlay::Command {
            input: crate::app::text::TextBuffer::single(""),
            error: None,
        });
        assert_eq!(
            map_paste(&command, text()),
            Some(Action::PromptEdit(paste()))
        );
        let mut asking = state();
        asking.overlay = Some(Overlay::Confirm(Question::Quit));
        assert_eq!(map_paste(&asking, text()), None, "a paste is no answer");
    }

    #[test]
    fn ctrl_w_deletes_a_word_and_ctrl_e_opens_the_editor_in_a_multi_line_field() {
        let mut filtering = state();
        filtering.list.filtering = true;
        assert_eq!(
            map_key(&filtering, key('w', KeyModifiers::CONTROL)),
            Some(Action::FilterEdit(TextEdit::DeleteWordBack))
        );
        let mut form = state();
        let fields = serde_json::json!({"email": "a@x.io", "metadata": {}});
        let record = crate::domain::Record::new("ref_1", fields.as_object().unwrap().clone());
        let mut open = crate::app::form::Form::open(form.schema, &record);
        form.form = Some(open.clone());
        assert_eq!(
            map_key(&form, key('e', KeyModifiers::CONTROL)),
            Some(Action::FormEdit(TextEdit::End)),
            "a one-line field: Ctrl-e is End"
        );
        open.focus = open
            .fields
            .iter()
            .position(|f| f.spec.key == "metadata")
            .unwrap();
        form.form = Some(open);
        assert_eq!(
            map_key(&form, key('e', KeyModifiers::CONTROL)),
            Some(Action::FormOpenEditor)
        );
    }

    #[test]
    fn digits_type_into_a_reason_and_alt_digits_pick_a_recent_one() {
        let mut state = state();
        let mut triage = Triage::new(vec!["ref_1".into()], state.clock.now);
        triage.remember_reason("duplicate");
        triage.reason = Some(crate::app::text::TextBuffer::single(""));
        state.triage = Some(triage);
        assert_eq!(
            map_key(&state, key('1', KeyModifiers::NONE)),
            Some(Action::PromptEdit(TextEdit::Insert('1')))
        );
        assert_eq!(
            map_key(&state, key('1', KeyModifiers::ALT)),
            Some(Action::PickReason(0))
        );
        assert_eq!(
            map_key(&state, key('2', KeyModifiers::ALT)),
            None,
            "no second reason"
        );
    }

    #[test]
    fn esc_in_the_list_stops_a_load_and_otherwise_goes_back() {
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        let mut list = state();
        assert_eq!(map_key(&list, esc), Some(Action::Back));
        list.load = LoadState::Loading {
            req: crate::app::RequestId(1),
            loaded: 0,
            awaiting_first: false,
        };
        assert_eq!(map_key(&list, esc), Some(Action::StopLoad));
        // A layer to go back from comes first: marks, the detail pane.
        list.marked.insert("ref_1".into());
        assert_eq!(map_key(&list, esc), Some(Action::Back));
        list.marked.clear();
        list.detail_open = true;
        assert_eq!(map_key(&list, esc), Some(Action::Back));
        list.detail_open = false;
        list.list.filtering = true;
        assert_eq!(
            map_key(&list, esc),
            Some(Action::FilterClear),
            "the filter line has the keyboard"
        );
    }
}
