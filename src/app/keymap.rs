//! Keys to Actions. This module only says which places of the key table (`keys`) have the
//! keyboard: an overlay, the form and its focused field, triage, the filter line, or the panes.
//! What each key does there is the table's. In the form and the filter every printable key
//! types; no shortcut fires while typing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::action::Action;
use super::copy::CopyWhat;
use super::form::{FieldInput, Form};
use super::keys::{self, Does, Place};
use super::state::{Overlay, Question, State};
use super::text::TextEdit;

/// What has the keyboard: the places whose keys act, first first, what typing edits, and what
/// any other key does.
pub struct Layer {
    pub places: &'static [Place],
    /// The Action an edit of the text with the keyboard becomes; None: nothing takes text.
    typing: Option<fn(TextEdit) -> Action>,
    /// What a key bound in none of the places does.
    otherwise: Option<Action>,
}

impl Layer {
    const fn keys(places: &'static [Place]) -> Layer {
        Layer {
            places,
            typing: None,
            otherwise: None,
        }
    }

    const fn text(places: &'static [Place], typing: fn(TextEdit) -> Action) -> Layer {
        Layer {
            places,
            typing: Some(typing),
            otherwise: None,
        }
    }
}

/// The layer that has the keyboard now.
pub fn layer(state: &State) -> Layer {
    use Place::*;
    if let Some(overlay) = &state.overlay {
        return match overlay {
            Overlay::RejectReason { .. } => Layer::text(&[Reason, Typing], Action::PromptEdit),
            Overlay::Command { .. } => Layer::text(&[Command, Typing], Action::PromptEdit),
            Overlay::Picker { .. } => Layer::text(&[Picker, Typing], Action::PromptEdit),
            Overlay::MoveReview { .. } => Layer::keys(&[MoveReview]),
            Overlay::Help { .. } => Layer {
                otherwise: Some(Action::Dismiss),
                ..Layer::keys(&[Scroll])
            },
            Overlay::TriageSummary => Layer {
                otherwise: Some(Action::Dismiss),
                ..Layer::keys(&[])
            },
            Overlay::BulkErrors { .. } => Layer::keys(&[BulkErrors, Scroll]),
            Overlay::Journal { .. } => Layer::keys(&[Journal, Scroll]),
            Overlay::Conflict { .. } => Layer::keys(&[Conflict]),
            Overlay::Review { .. } => Layer::keys(&[Review, Scroll]),
            Overlay::Confirm(Question::RestoreDraft) => Layer::keys(&[RestoreDraft]),
            Overlay::Confirm(Question::Quit) => Layer::keys(&[QuitQuestion]),
            Overlay::Confirm(_) => Layer::keys(&[YesNo]),
        };
    }
    if let Some(form) = &state.form {
        return Layer::text(form_places(form), Action::FormEdit);
    }
    if let Some(triage) = &state.triage {
        return match triage.reason {
            Some(_) => Layer::text(&[Reason, Typing], Action::PromptEdit),
            None => Layer::keys(&[Triage, Scroll]),
        };
    }
    if state.stats.is_some() {
        return Layer::keys(&[Stats]);
    }
    if state.list.filtering {
        return Layer::text(&[Filter, Typing], Action::FilterEdit);
    }
    if state.copy_pending {
        // The key after `y` says what to copy; any other key copies nothing.
        return Layer {
            otherwise: Some(Action::Copy(None::<CopyWhat>)),
            ..Layer::keys(&[AfterY])
        };
    }
    Layer::keys(&[Panes, Scroll])
}

/// The places of the form's keys for the field that has the focus.
pub fn form_places(form: &Form) -> &'static [Place] {
    use Place::*;
    match &form.focused().input {
        FieldInput::Text(text) if text.is_multiline() => &[FormLines, Form, Typing],
        FieldInput::Choice { .. } => &[FormChoice, FormLine, Form, Typing],
        FieldInput::Pick { .. } => &[FormPick, FormLine, Form, Typing],
        _ => &[FormLine, Form, Typing],
    }
}

pub fn map_key(state: &State, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let layer = layer(state);
    let backend = state.session.backend;
    let found = keys::find(&[Place::Anywhere], backend, key)
        .or_else(|| keys::find(layer.places, backend, key));
    let typed = match key.code {
        KeyCode::Char(c) => c,
        _ => '\0',
    };
    let action = match found {
        None => return layer.otherwise,
        Some(Does::Act(action)) => action.clone(),
        Some(Does::Edit(edit)) => layer.typing?(edit.clone()),
        Some(Does::Type) => layer.typing?(TextEdit::Insert(typed)),
        Some(Does::Letter(make)) => make(typed),
        Some(Does::Digit(make)) => make(typed.to_digit(10)?.checked_sub(1)? as usize),
    };
    // Alt-digit picks a recent reason only when there is one that far down.
    if let Action::PickReason(n) = action {
        let recent = state.triage.as_ref().map_or(0, |t| t.recent_reasons.len());
        return (n < recent).then_some(action);
    }
    Some(action)
}

/// A bracketed paste goes, as one edit, to whatever has the keyboard and takes text: the focused
/// text field of the form, the filter line, a prompt. Elsewhere it does nothing.
pub fn map_paste(state: &State, text: String) -> Option<Action> {
    let typing = layer(state).typing?;
    let field_takes_text = state.overlay.is_some()
        || state
            .form
            .as_ref()
            .is_none_or(|form| matches!(form.focused().input, FieldInput::Text(_)));
    field_takes_text.then(|| typing(TextEdit::Paste(text)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::action::Motion;
    use crate::app::triage::Triage;
    use crossterm::event::KeyModifiers;

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

    /// Esc in the list is always "back"; `update` decides what back means (marks, the detail
    /// pane, the filter, then the load).
    #[test]
    fn esc_goes_back_and_in_the_filter_line_clears_it() {
        let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
        let mut list = state();
        assert_eq!(map_key(&list, esc), Some(Action::Back));
        list.list.filtering = true;
        assert_eq!(
            map_key(&list, esc),
            Some(Action::FilterClear),
            "the filter line has the keyboard"
        );
    }

    /// One row per layer: a key that means something else in each.
    #[test]
    fn each_layer_gives_a_key_its_own_meaning() {
        let plain = KeyModifiers::NONE;
        let enter = KeyEvent::new(KeyCode::Enter, plain);
        let mut review = state();
        review.overlay = Some(Overlay::Review {
            changes: Default::default(),
            scroll: 0,
        });
        assert_eq!(
            map_key(&review, key('j', plain)),
            Some(Action::Move(Motion::Down))
        );
        assert_eq!(map_key(&review, enter), Some(Action::Answer(false)));
        let mut draft = state();
        draft.overlay = Some(Overlay::Confirm(Question::RestoreDraft));
        assert_eq!(
            map_key(&draft, enter),
            Some(Action::Dismiss),
            "Enter keeps a draft"
        );
        let mut conflict = state();
        conflict.overlay = Some(Overlay::Conflict {
            changes: Default::default(),
            clashes: Vec::new(),
            scroll: 0,
        });
        assert_eq!(map_key(&conflict, key('k', plain)), Some(Action::KeepMine));
        let mut help = state();
        help.overlay = Some(Overlay::Help { scroll: 0 });
        assert_eq!(
            map_key(&help, key('G', KeyModifiers::SHIFT)),
            Some(Action::Move(Motion::Bottom))
        );
        assert_eq!(
            map_key(&help, key('z', plain)),
            Some(Action::Dismiss),
            "any other key"
        );
        let mut journal = state();
        journal.overlay = Some(Overlay::Journal {
            entries: Vec::new(),
            resendable: Default::default(),
            selected: 0,
        });
        assert_eq!(map_key(&journal, key('s', plain)), Some(Action::Resend));
        assert_eq!(map_key(&journal, key('v', plain)), None, "no referral key");
        let mut picker = state();
        picker.overlay = Some(Overlay::Command {
            input: crate::app::text::TextBuffer::single(""),
            error: None,
        });
        assert_eq!(
            map_key(&picker, key('q', plain)),
            Some(Action::PromptEdit(TextEdit::Insert('q'))),
            "q types"
        );
        assert_eq!(map_key(&picker, enter), Some(Action::PromptSubmit));
    }

    /// The backend's own keys only: `c` converts on vantio and does nothing on FirstPromoter.
    #[test]
    fn a_key_the_backend_does_not_have_does_nothing() {
        let plain = KeyModifiers::NONE;
        let v1 = state();
        assert_eq!(
            map_key(&v1, key('c', plain)),
            Some(Action::Quick(crate::app::action::QuickKey::Convert))
        );
        let mut v2 = state();
        v2.session.backend = "firstpromoter";
        assert_eq!(map_key(&v2, key('c', plain)), None);
    }

    /// Keys as terminals report them: Shift-Tab comes with Shift, Caps Lock sends capitals, and a
    /// named key with Ctrl or Alt acts as the key alone where nothing binds it so.
    #[test]
    fn keys_as_terminals_send_them() {
        let shift_tab = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        let list = state();
        assert_eq!(map_key(&list, shift_tab), Some(Action::SwitchPane));
        let mut form = state();
        let fields = serde_json::json!({"email": "a@x.io"});
        let record = crate::domain::Record::new("ref_1", fields.as_object().unwrap().clone());
        form.form = Some(crate::app::form::Form::open(form.schema, &record));
        assert_eq!(map_key(&form, shift_tab), Some(Action::FormPrev));
        assert_eq!(
            map_key(&form, KeyEvent::new(KeyCode::Left, KeyModifiers::CONTROL)),
            Some(Action::FormEdit(TextEdit::Left))
        );
        assert_eq!(
            map_key(&form, KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT)),
            Some(Action::FormNext)
        );
        let mut asking = state();
        asking.overlay = Some(Overlay::Confirm(crate::app::state::Question::DiscardForm));
        assert_eq!(
            map_key(&asking, key('Y', KeyModifiers::SHIFT)),
            Some(Action::Answer(true))
        );
        assert_eq!(
            map_key(&asking, key('N', KeyModifiers::NONE)),
            Some(Action::Answer(false))
        );
    }
}
