//! Crash-safe drafts of the edit form, as state and effects (the store side is `store::drafts`).
//!
//! - Opening the form asks for the referral's draft (`Effect::LoadDraft`). Nothing typed is saved
//!   until that answer came, so an old draft is never overwritten before it is offered.
//! - A draft that differs from what the form shows is offered once no other overlay is up:
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
use super::state::{Level, Overlay, Pending, Question, State};
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
    let req = state.request(Pending::Draft { id: id.clone() });
    vec![Effect::LoadDraft { req, id }]
}

/// Whether typing waits to be saved (the runner ticks until it is).
pub fn unsaved(state: &State) -> bool {
    state.form.as_ref().is_some_and(|form| {
        form.draft.check == DraftCheck::Done
            && form.typed() != form.draft.saved.clone().unwrap_or_default()
    })
}

/// The store's answer for the form's referral: offer the draft if it differs from the form.
pub fn loaded(
    state: &mut State,
    req: RequestId,
    result: Result<Option<Draft>, String>,
) -> Vec<Effect> {
    let Some(Pending::Draft { id }) = state.pending.remove(&req) else {
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
    if state.pending.remove(&req).is_none() {
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
            if state.overlay.is_none() {
                state.overlay = Some(Overlay::Confirm(Question::RestoreDraft));
                state.say(
                    Level::Info,
                    "A draft of this form was kept: y restores it, n discards it.",
                );
            }
        }
        DraftCheck::Done => {
            let typed = form.typed();
            let last = form.draft.saved.clone().unwrap_or_default();
            let due = quitting
                || form
                    .draft
                    .saved_at
                    .is_none_or(|at| now.duration_since(at) >= DEBOUNCE);
            if typed != last && due {
                let id = form.record_id.clone();
                form.draft.saved_at = Some(now);
                if typed.is_empty() {
                    form.draft.saved = None;
                    effects.push(discard(state, id));
                } else {
                    form.draft.saved = Some(typed.clone());
                    let req = state.request(Pending::DraftWrite);
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
    let req = state.request(Pending::DraftWrite);
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
