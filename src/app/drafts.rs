//! Crash-safe drafts of the edit form, as state and effects (the store side is `store::drafts`).
//!
//! - Opening the form asks for the referral's draft (`Effect::LoadDraft`). Nothing typed is saved
//!   until that answer came, so an old draft is never overwritten before it is offered.
//! - A draft that differs from what the form shows is offered once no other overlay is up and the
//!   form's write (if one was sent meanwhile) has answered:
//!   "Restore the draft from 17:42?" with each differing field (its server value, the draft's
//!   text). `y` types the draft into the fields, `n` discards it, `Esc` decides later (the draft
//!   stays until something is typed in this form, which then replaces it).
//! - After every action `sync` compares what is typed (changed fields only, field key -> text)
//!   with what was last saved, and saves at most once per `DEBOUNCE` of the state's clock: the
//!   first change at once, later ones on the next key or `Tick` once the interval has passed.
//!   Quitting saves at once. Typing everything back to the server's values discards the draft.
//! - When the form closes after something was typed (sent and applied, or discarded with Esc, y)
//!   the draft is discarded. A form closed with nothing typed leaves a draft it never wrote alone.
//!
//! The runner performs draft effects one after another in order (`Effect::is_draft`), so a save
//! never lands after the discard that followed it.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

use super::action::{Effect, RequestId};
use super::state::{Level, Overlay, Question, State};
use crate::domain::Clock;
use crate::store::drafts::Draft;

/// At most one save per this much of the state's clock while typing.
pub const DEBOUNCE: SignedDuration = SignedDuration::from_millis(500);

/// Where a form's draft stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DraftMark {
    pub check: DraftCheck,
    /// What the store holds for this referral as far as this form knows (what it last saved, or
    /// the draft it restored); None when it holds nothing from this form.
    pub saved: Option<Map<String, Value>>,
    /// When this form last saved or discarded, for the debounce.
    pub saved_at: Option<Timestamp>,
}

impl DraftMark {
    /// Whether the store holds `typed` as this form's draft (nothing typed: it holds nothing).
    fn holds(&self, typed: &Map<String, Value>) -> bool {
        self.saved
            .as_ref()
            .map_or(typed.is_empty(), |saved| saved == typed)
    }
}

/// The draft kept from an earlier session, as far as it has been looked at.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DraftCheck {
    /// The store has not answered yet; nothing is saved meanwhile.
    #[default]
    Reading,
    /// A draft that differs from the form, offered (or waiting for other overlays to close).
    Offering(DraftOffer),
    /// Offered and answered, or there was nothing to offer: typing is saved.
    Done,
}

/// A draft offered back to the form.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftOffer {
    pub saved_at: Timestamp,
    /// The draft's text per field key.
    pub fields: Map<String, Value>,
    /// The fields whose draft text differs from what the form shows, in form order.
    pub differing: Vec<DraftLine>,
}

/// One differing field, for the question.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftLine {
    pub label: String,
    /// The server's current value, as the form shows it.
    pub server: String,
    pub draft: String,
}

/// A draft read or write in flight.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftIo {
    /// Reading the draft of this referral for its form.
    Read(String),
    /// Saving or discarding.
    Write,
}

fn request(state: &mut State, io: DraftIo) -> RequestId {
    let req = state.next_request_id();
    state.draft_io.insert(req, io);
    req
}

/// The open form's draft as it was before an action, to see what the action did to it.
pub struct Watched {
    id: String,
    /// Something was typed.
    dirty: bool,
    /// The store holds a draft this form wrote or restored.
    saved: bool,
}

pub fn watch(state: &State) -> Option<Watched> {
    state.form.as_ref().map(|form| Watched {
        id: form.record_id.clone(),
        dirty: form.is_dirty(),
        saved: form.draft.saved.is_some(),
    })
}

/// The form was opened: ask for its referral's draft.
pub fn opened(state: &mut State) -> Vec<Effect> {
    let Some(id) = state.form.as_ref().map(|f| f.record_id.clone()) else {
        return Vec::new();
    };
    let req = request(state, DraftIo::Read(id.clone()));
    vec![Effect::LoadDraft { req, id }]
}

/// Whether typing waits to be saved (the runner ticks until it is).
pub fn unsaved(state: &State) -> bool {
    state.form.as_ref().is_some_and(|form| {
        form.draft.check == DraftCheck::Done && !form.draft.holds(&form.typed())
    })
}

/// The store's answer for the form's referral: offer the draft if it differs from the form.
pub fn loaded(
    state: &mut State,
    req: RequestId,
    result: Result<Option<Draft>, String>,
) -> Vec<Effect> {
    let Some(DraftIo::Read(id)) = state.draft_io.remove(&req) else {
        return Vec::new();
    };
    // The form closed (or is another referral's) meanwhile: the draft waits for the next open.
    let Some(form) = state.form.as_mut().filter(|f| f.record_id == id) else {
        return Vec::new();
    };
    if form.draft.check != DraftCheck::Reading {
        return Vec::new();
    }
    form.draft.check = DraftCheck::Done;
    let draft = match result {
        Ok(Some(draft)) => draft,
        Ok(None) => return Vec::new(),
        Err(error) => {
            state.say(
                Level::Error,
                format!("Could not read the saved draft of {id}: {error}"),
            );
            return Vec::new();
        }
    };
    let differing: Vec<DraftLine> = form
        .fields
        .iter()
        .filter_map(|field| {
            let text = draft_text(draft.fields.get(field.spec.key)?);
            (text != field.text()).then(|| DraftLine {
                label: field.spec.label.to_string(),
                server: field.original.clone(),
                draft: text,
            })
        })
        .collect();
    if differing.is_empty() {
        // The form already shows what the draft holds (it was sent after all): nothing to offer.
        if form.is_dirty() {
            return Vec::new();
        }
        return vec![discard(state, id)];
    }
    form.draft.check = DraftCheck::Offering(DraftOffer {
        saved_at: draft.saved_at,
        fields: draft.fields,
        differing,
    });
    Vec::new()
}

/// A save or discard finished; only a failure is news.
pub fn saved(state: &mut State, req: RequestId, result: Result<(), String>) {
    if state.draft_io.remove(&req).is_none() {
        return;
    }
    if let Err(error) = result {
        state.say(
            Level::Error,
            format!(
                "Could not keep a draft of the form (what is typed is still in the form): {error}"
            ),
        );
    }
}

/// The answer to "Restore the draft?": `Some(true)` restores, `Some(false)` discards it, `None`
/// (Esc) leaves it for later.
pub fn answer(state: &mut State, restore: Option<bool>) -> Vec<Effect> {
    let clock = state.clock.clone();
    let Some(form) = state.form.as_mut() else {
        return Vec::new();
    };
    let DraftCheck::Offering(offer) = std::mem::replace(&mut form.draft.check, DraftCheck::Done)
    else {
        return Vec::new();
    };
    let when = when(&clock, offer.saved_at);
    match restore {
        Some(true) => {
            let mut restored = Vec::new();
            let mut missed = Vec::new();
            for (key, text) in &offer.fields {
                let label = form
                    .fields
                    .iter()
                    .find(|f| f.spec.key == key)
                    .map(|f| f.spec.label)
                    .unwrap_or(key.as_str())
                    .to_string();
                if form.restore(key, &draft_text(text), &clock) {
                    restored.push(label);
                } else {
                    missed.push(label);
                }
            }
            if let Some(first) = form.fields.iter().position(|f| {
                offer.fields.contains_key(f.spec.key) && (f.error.is_some() || f.is_changed())
            }) {
                form.focus = first;
            }
            form.draft.saved = Some(offer.fields);
            form.draft.saved_at = None;
            let mut note = format!(
                "Restored the draft from {when}: {}. Ctrl-s reviews it.",
                restored.join(", ")
            );
            if !missed.is_empty() {
                note.push_str(&format!(" Not restored: {}.", missed.join(", ")));
            }
            state.say(Level::Info, note);
            Vec::new()
        }
        Some(false) => {
            form.draft.saved = None;
            form.draft.saved_at = Some(clock.now);
            let id = form.record_id.clone();
            state.say(Level::Info, format!("The draft from {when} is discarded."));
            vec![discard(state, id)]
        }
        None => {
            form.draft.saved = None;
            state.say(
                Level::Info,
                format!("The draft from {when} is kept for now; typing in the form replaces it."),
            );
            Vec::new()
        }
    }
}

/// After every action: discard the draft of a form that closed, offer a loaded draft, and save
/// what is typed when it changed and the debounce allows.
pub fn sync(state: &mut State, before: Option<Watched>) -> Vec<Effect> {
    let mut effects = Vec::new();
    let open_id = state.form.as_ref().map(|f| f.record_id.clone());
    if let Some(before) = before
        && open_id.as_deref() != Some(before.id.as_str())
        && (before.dirty || before.saved)
    {
        // Sent and applied, discarded, or typed back to the server's values, then closed.
        effects.push(discard(state, before.id));
    }
    let now = state.clock.now;
    let quitting = state.should_quit;
    let Some(form) = state.form.as_mut() else {
        return effects;
    };
    match &form.draft.check {
        DraftCheck::Reading => {}
        DraftCheck::Offering(_) => {
            // Not while the form's write is out: it may close the form under the question.
            if state.overlay.is_none() && form.saving.is_none() {
                state.overlay = Some(Overlay::Confirm(Question::RestoreDraft));
                state.say(
                    Level::Info,
                    "A draft of this form was kept: y restores it, n discards it.",
                );
            }
        }
        DraftCheck::Done => {
            let typed = form.typed();
            let due = quitting
                || form
                    .draft
                    .saved_at
                    .is_none_or(|at| now.duration_since(at) >= DEBOUNCE);
            if !form.draft.holds(&typed) && due {
                let id = form.record_id.clone();
                form.draft.saved_at = Some(now);
                if typed.is_empty() {
                    form.draft.saved = None;
                    effects.push(discard(state, id));
                } else {
                    form.draft.saved = Some(typed.clone());
                    let req = request(state, DraftIo::Write);
                    effects.push(Effect::SaveDraft {
                        req,
                        id,
                        fields: typed,
                        time: now,
                    });
                }
            }
        }
    }
    effects
}

fn discard(state: &mut State, id: String) -> Effect {
    let req = request(state, DraftIo::Write);
    Effect::DiscardDraft { req, id }
}

/// A draft's field as text (drafts hold strings; anything else is shown as JSON).
fn draft_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// "17:42" for a time today in the clock's zone, "2026-11-20 17:42" for another day.
pub fn when(clock: &Clock, at: Timestamp) -> String {
    let at = at.to_zoned(clock.tz.clone());
    let today = clock.now.to_zoned(clock.tz.clone()).date();
    if at.date() == today {
        at.strftime("%H:%M").to_string()
    } else {
        at.strftime("%Y-%m-%d %H:%M").to_string()
    }
}

/// The offer the open form holds, for the question's overlay.
pub fn offer(state: &State) -> Option<&DraftOffer> {
    match &state.form.as_ref()?.draft.check {
        DraftCheck::Offering(offer) => Some(offer),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Action;

    use crate::app::text::TextEdit;
    use crate::app::update::update;
    use crate::domain::mutation::Outcome;

    use crate::domain::Record;
    use serde_json::json;

    fn record(id: &str) -> Record {
        let v = json!({"id": id, "first_name": "Ada", "last_name": "Lovelace",
            "email": "ada@x.io", "status": "converted", "verified_at": null, "metadata": {}});
        Record::new(id, v.as_object().unwrap().clone())
    }

    fn state() -> State {
        let mut state = State::sample();
        state.clock.now = "2026-11-21T17:42:00Z".parse().unwrap();
        state.replace_records(vec![record("ref_1"), record("ref_2")]);
        state
    }

    fn type_in(state: &mut State, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| update(state, Action::FormEdit(TextEdit::Insert(c))))
            .collect()
    }

    fn saves(effects: &[Effect]) -> Vec<Map<String, Value>> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::SaveDraft { fields, .. } => Some(fields.clone()),
                _ => None,
            })
            .collect()
    }

    fn discards(effects: &[Effect]) -> Vec<String> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::DiscardDraft { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Opens the form on the selected referral and answers its draft read with `draft`.
    fn open(state: &mut State, draft: Option<Draft>) -> Vec<Effect> {
        let effects = update(state, Action::Edit);
        let [Effect::LoadDraft { req, id }] = &effects[..] else {
            panic!("opening the form reads its draft: {effects:?}")
        };
        assert_eq!(id, "ref_1");
        update(
            state,
            Action::DraftLoaded {
                req: *req,
                result: Ok(draft),
            },
        )
    }

    fn field_text(state: &State, key: &str) -> String {
        let form = state.form.as_ref().unwrap();
        form.fields
            .iter()
            .find(|f| f.spec.key == key)
            .unwrap()
            .text()
    }

    fn later(state: &mut State, millis: i64) {
        state.clock.now += SignedDuration::from_millis(millis);
    }

    #[test]
    fn typing_saves_at_once_then_at_most_once_per_debounce() {
        let mut state = state();
        assert!(open(&mut state, None).is_empty());
        let first = type_in(&mut state, "x");
        assert_eq!(
            saves(&first),
            vec![json!({"first_name": "Adax"}).as_object().unwrap().clone()],
            "the first change is saved at once"
        );
        assert!(saves(&type_in(&mut state, "yz")).is_empty(), "not per key");
        assert!(saves(&update(&mut state, Action::Tick)).is_empty());
        assert!(unsaved(&state), "the runner keeps ticking");
        later(&mut state, 499);
        assert!(saves(&update(&mut state, Action::Tick)).is_empty());
        later(&mut state, 1);
        let tick = update(&mut state, Action::Tick);
        let [
            Effect::SaveDraft {
                id, fields, time, ..
            },
        ] = &tick[..]
        else {
            panic!("a tick after the interval saves: {tick:?}")
        };
        assert_eq!(
            (id.as_str(), fields["first_name"].as_str()),
            ("ref_1", Some("Adaxyz"))
        );
        assert_eq!(
            *time, state.clock.now,
            "the state's clock, not the wall clock"
        );
        assert!(!unsaved(&state));
        assert!(
            update(&mut state, Action::Tick).is_empty(),
            "nothing new, nothing saved"
        );
    }

    #[test]
    fn nothing_is_saved_before_the_old_draft_was_read() {
        let mut state = state();
        let effects = update(&mut state, Action::Edit);
        let [Effect::LoadDraft { req, .. }] = effects[..] else {
            panic!("{effects:?}")
        };
        assert!(saves(&type_in(&mut state, "x")).is_empty());
        let answered = update(
            &mut state,
            Action::DraftLoaded {
                req,
                result: Ok(None),
            },
        );
        assert_eq!(saves(&answered).len(), 1, "saved once the store answered");
    }

    #[test]
    fn an_applied_form_write_discards_the_draft() {
        let mut state = state();
        open(&mut state, None);
        type_in(&mut state, "x");
        update(&mut state, Action::FormSubmit);
        let effects = update(&mut state, Action::Answer(true));
        let req = effects
            .iter()
            .find_map(|e| match e {
                Effect::Mutate { req, .. } => Some(*req),
                _ => None,
            })
            .expect("the write is sent");
        assert!(discards(&effects).is_empty(), "not before it is applied");
        let outcome = Outcome::Applied {
            records: vec![record("ref_1")],
            note: None,
        };
        let effects = update(&mut state, Action::Written { req, outcome });
        assert!(state.form.is_none());
        assert_eq!(discards(&effects), vec!["ref_1"]);
    }

    #[test]
    fn a_refused_write_keeps_the_draft() {
        let mut state = state();
        open(&mut state, None);
        type_in(&mut state, "x");
        update(&mut state, Action::FormSubmit);
        let effects = update(&mut state, Action::Answer(true));
        let req = effects
            .iter()
            .find_map(|e| match e {
                Effect::Mutate { req, .. } => Some(*req),
                _ => None,
            })
            .unwrap();
        let outcome = Outcome::Failed {
            message: "connection reset".into(),
        };
        let effects = update(&mut state, Action::Written { req, outcome });
        assert!(discards(&effects).is_empty());
        assert!(state.form.is_some());
    }

    #[test]
    fn discarding_the_form_discards_the_draft() {
        let mut state = state();
        open(&mut state, None);
        type_in(&mut state, "x");
        assert!(
            update(&mut state, Action::FormCancel).is_empty(),
            "asks first"
        );
        assert!(matches!(
            state.overlay,
            Some(Overlay::Confirm(Question::DiscardForm))
        ));
        let effects = update(&mut state, Action::Answer(true));
        assert!(state.form.is_none());
        assert_eq!(discards(&effects), vec!["ref_1"]);
    }

    #[test]
    fn typing_back_to_the_server_values_discards_the_draft() {
        let mut state = state();
        open(&mut state, None);
        type_in(&mut state, "x");
        later(&mut state, 600);
        let effects = update(&mut state, Action::FormEdit(TextEdit::Backspace));
        assert_eq!(discards(&effects), vec!["ref_1"]);
        assert!(
            update(&mut state, Action::FormCancel).is_empty(),
            "nothing left to discard"
        );
    }

    #[test]
    fn leaving_an_untouched_form_keeps_a_draft_it_never_offered() {
        let mut state = state();
        update(&mut state, Action::Edit);
        let effects = update(&mut state, Action::FormCancel);
        assert!(state.form.is_none());
        assert!(effects.is_empty(), "{effects:?}");
    }

    #[test]
    fn quitting_saves_at_once() {
        let mut state = state();
        open(&mut state, None);
        type_in(&mut state, "x");
        type_in(&mut state, "y");
        update(&mut state, Action::Quit);
        let effects = update(&mut state, Action::Answer(true));
        assert!(state.should_quit);
        assert_eq!(saves(&effects)[0]["first_name"], "Adaxy");
    }

    fn draft(fields: Value) -> Draft {
        Draft {
            fields: fields.as_object().unwrap().clone(),
            saved_at: "2026-11-21T17:41:30Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_differing_draft_is_offered_and_y_types_it_into_the_fields() {
        let mut state = state();
        let kept =
            draft(json!({"first_name": "Ada", "email": "not-an-email", "last_name": "Byron"}));
        let effects = open(&mut state, Some(kept));
        assert!(
            effects.is_empty(),
            "nothing saved while offering: {effects:?}"
        );
        assert!(matches!(
            state.overlay,
            Some(Overlay::Confirm(Question::RestoreDraft))
        ));
        let offer = offer(&state).expect("offered");
        assert_eq!(when(&state.clock, offer.saved_at), "17:41");
        let lines: Vec<(&str, &str, &str)> = offer
            .differing
            .iter()
            .map(|d| (d.label.as_str(), d.server.as_str(), d.draft.as_str()))
            .collect();
        assert_eq!(
            lines,
            vec![
                ("Last name", "Lovelace", "Byron"),
                ("Email", "ada@x.io", "not-an-email")
            ],
            "only the differing fields, in form order"
        );
        let effects = update(&mut state, Action::Answer(true));
        assert!(state.overlay.is_none());
        assert_eq!(field_text(&state, "last_name"), "Byron");
        assert_eq!(field_text(&state, "email"), "not-an-email");
        let form = state.form.as_ref().unwrap();
        assert!(form.is_dirty(), "restored fields count as edited");
        let email = form.fields.iter().find(|f| f.spec.key == "email").unwrap();
        assert!(email.error.is_some(), "checked as typed text is");
        assert_eq!(
            saves(&effects),
            vec![
                json!({"last_name": "Byron", "email": "not-an-email"})
                    .as_object()
                    .unwrap()
                    .clone()
            ],
            "the store keeps what the form now has typed (first name is the server's again)"
        );
        assert!(state.message.as_ref().unwrap().text.contains("17:41"));
    }

    #[test]
    fn n_discards_the_offered_draft_and_esc_keeps_it() {
        let (mut state, mut other) = (state(), state());
        open(&mut state, Some(draft(json!({"email": "b@x.io"}))));
        let effects = update(&mut state, Action::Answer(false));
        assert_eq!(discards(&effects), vec!["ref_1"]);
        assert_eq!(field_text(&state, "email"), "ada@x.io");

        let mut state = std::mem::replace(&mut other, state);
        open(&mut state, Some(draft(json!({"email": "b@x.io"}))));
        let effects = update(&mut state, Action::Dismiss);
        assert!(effects.is_empty(), "{effects:?}");
        assert!(state.overlay.is_none());
        assert!(
            update(&mut state, Action::FormCancel).is_empty(),
            "kept for next time"
        );
    }

    #[test]
    fn a_draft_the_form_already_shows_is_not_offered() {
        let mut state = state();
        let effects = open(&mut state, Some(draft(json!({"email": "ada@x.io"}))));
        assert!(state.overlay.is_none());
        assert_eq!(
            discards(&effects),
            vec!["ref_1"],
            "it is of no use any more"
        );
    }

    #[test]
    fn an_offer_waits_for_another_overlay_to_close() {
        let mut state = state();
        let effects = update(&mut state, Action::Edit);
        let [Effect::LoadDraft { req, .. }] = effects[..] else {
            panic!()
        };
        update(&mut state, Action::Help);
        let kept = draft(json!({"email": "b@x.io"}));
        update(
            &mut state,
            Action::DraftLoaded {
                req,
                result: Ok(Some(kept)),
            },
        );
        assert_eq!(state.overlay, Some(Overlay::Help { scroll: 0 }));
        update(&mut state, Action::Dismiss);
        assert!(matches!(
            state.overlay,
            Some(Overlay::Confirm(Question::RestoreDraft))
        ));
    }

    #[test]
    fn a_draft_read_for_a_closed_form_is_dropped() {
        let mut state = state();
        let effects = update(&mut state, Action::Edit);
        let [Effect::LoadDraft { req, .. }] = effects[..] else {
            panic!()
        };
        update(&mut state, Action::FormCancel);
        let effects = update(
            &mut state,
            Action::DraftLoaded {
                req,
                result: Ok(Some(draft(json!({"email": "b@x.io"})))),
            },
        );
        assert!(effects.is_empty());
        assert!(state.overlay.is_none());
    }

    /// Found by `app::fuzz`: a draft read that answered while the form's write was out opened the
    /// question over the locked form, and the write's success then closed the form under it — an
    /// empty question over the list that took every key.
    #[test]
    fn a_draft_is_not_offered_while_the_forms_write_is_out() {
        for outcome in [
            Outcome::Applied {
                records: vec![record("ref_1")],
                note: None,
            },
            Outcome::Failed {
                message: "HTTP 500".into(),
            },
        ] {
            let mut state = state();
            let effects = update(&mut state, Action::Edit);
            let [Effect::LoadDraft { req: read, .. }] = effects[..] else {
                panic!("{effects:?}")
            };
            type_in(&mut state, "x");
            update(&mut state, Action::FormSubmit);
            let sent = update(&mut state, Action::Answer(true));
            let Some(Effect::Mutate { req: write, .. }) = sent.first().cloned() else {
                panic!("{sent:?}")
            };
            let fields = json!({"last_name": "Byron"}).as_object().unwrap().clone();
            let draft = Draft {
                fields,
                saved_at: state.clock.now,
            };
            let result = Ok(Some(draft));
            update(&mut state, Action::DraftLoaded { req: read, result });
            assert_eq!(state.overlay, None, "the form is locked");
            let applied = matches!(outcome, Outcome::Applied { .. });
            update(
                &mut state,
                Action::Written {
                    req: write,
                    outcome,
                },
            );
            if applied {
                assert!(state.form.is_none());
                assert_eq!(state.overlay, None, "no question without its form");
            } else {
                assert_eq!(
                    state.overlay,
                    Some(Overlay::Confirm(Question::RestoreDraft)),
                    "offered once the form is free"
                );
            }
        }
    }
}
