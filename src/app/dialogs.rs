//! Keys on modal layers: the review, questions, the reject reason, the picker, the move review,
//! the conflict dialog and the command line. Each answers by closing itself or staying open.

use super::action::{Action, Effect, QuickKey};
use super::state::{Level, Overlay, PickPurpose, Question, State};
use super::text::TextBuffer;
use super::update::{ask_reason, field_decision};
use super::writes::{self, Origin};
use super::{batch, bulk, picker};
use crate::api::BatchAction;
use crate::domain::quick::QuickStatus;
use crate::domain::schema::{QuickStyle, RefKind};

pub(super) fn overlay_input(state: &mut State, overlay: Overlay, action: Action) -> Vec<Effect> {
    match (overlay, action) {
        (Overlay::Review(changes), Action::Answer(true)) => {
            let Some(id) = state.form.as_ref().map(|f| f.record_id.clone()) else {
                return Vec::new();
            };
            state.say(Level::Info, format!("Saving {id}…"));
            return writes::send(state, &id, changes, Origin::Form, true);
        }
        (Overlay::Conflict { changes, .. }, Action::KeepMine) => {
            return writes::keep_mine(state, changes);
        }
        (Overlay::Conflict { .. }, Action::TakeTheirs) => {
            state.form = None;
            state.say(
                Level::Info,
                "Took their version: the row shows what the server has now.",
            );
        }
        (Overlay::Conflict { .. }, Action::Answer(false) | Action::Dismiss) => {
            state.say(
                Level::Info,
                "Back to the form: Ctrl-s reviews your change against their version.",
            );
        }
        (Overlay::TriageSummary(_), _) => {}
        (Overlay::Review(_), Action::Answer(false) | Action::Dismiss) => {
            state.say(Level::Info, "Not sent. The form is as you left it.");
        }
        (Overlay::Confirm(Question::Quit), Action::Answer(true)) => state.should_quit = true,
        (Overlay::Confirm(Question::DiscardForm), Action::Answer(true)) => {
            state.form = None;
            state.say(Level::Info, "Changes discarded.");
        }
        (Overlay::Confirm(_), Action::Answer(false) | Action::Dismiss) => {}
        (Overlay::Help, Action::Dismiss | Action::Help | Action::Quit) => {}
        (Overlay::Confirm(Question::Bulk(QuickKey::Reject)), Action::Answer(true)) => {
            ask_reason(state, state.marked.iter().cloned().collect());
        }
        (Overlay::Confirm(Question::Bulk(key)), Action::Answer(true)) => {
            let ids: Vec<String> = std::mem::take(&mut state.marked).into_iter().collect();
            return match state.schema.quick {
                QuickStyle::BatchActions => batch::quick(state, key, ids),
                QuickStyle::FieldWrites => bulk::start(state, field_decision(key), ids),
            };
        }
        (Overlay::RejectReason { ids, mut input, .. }, Action::PromptEdit(edit)) => {
            input.apply(edit);
            state.overlay = Some(Overlay::RejectReason {
                ids,
                input,
                error: None,
            });
        }
        (Overlay::RejectReason { ids, input, .. }, Action::PromptSubmit) => {
            let decision = QuickStatus::Rejected(input.text());
            let outcome = match state.schema.quick {
                QuickStyle::FieldWrites if ids.len() > 1 && input.text().trim().is_empty() => {
                    Err("Type a reason: it is stored as metadata.rejection_reason.".to_string())
                }
                QuickStyle::FieldWrites if ids.len() > 1 => {
                    state.marked.clear();
                    Ok(bulk::start(state, decision, ids.clone()))
                }
                QuickStyle::FieldWrites => writes::quick(state, &ids[0], &decision),
                QuickStyle::BatchActions if input.text().trim().is_empty() => {
                    Err("Type a reason: it goes to referee's local log.".to_string())
                }
                QuickStyle::BatchActions => {
                    let reason = Some(input.text().trim().to_string());
                    state.marked.clear();
                    Ok(batch::start(
                        state,
                        BatchAction::Disable,
                        ids.clone(),
                        reason,
                    ))
                }
            };
            match outcome {
                Ok(effects) => return effects,
                Err(message) => {
                    state.overlay = Some(Overlay::RejectReason {
                        ids,
                        input,
                        error: Some(message),
                    })
                }
            }
        }
        (Overlay::RejectReason { .. }, Action::Dismiss) => state.say(Level::Info, "Not rejected."),
        (
            Overlay::Picker {
                purpose,
                kind,
                query,
                selected,
            },
            action,
        ) => {
            return picker_input(state, (purpose, kind, query, selected), action);
        }
        (
            Overlay::MoveReview {
                link,
                with_commissions,
            },
            Action::ToggleCommissions,
        ) => {
            state.overlay = Some(Overlay::MoveReview {
                link,
                with_commissions: !with_commissions,
            })
        }
        (
            Overlay::MoveReview {
                link,
                with_commissions,
            },
            Action::Answer(true),
        ) => {
            let Some(form) = &state.form else {
                return Vec::new();
            };
            let ids = vec![form.record_id.clone()];
            if !form.is_dirty() {
                state.form = None;
            }
            let action = BatchAction::MoveToPromoter {
                link,
                with_commissions,
            };
            return batch::start(state, action, ids, None);
        }
        (Overlay::MoveReview { .. }, Action::Answer(false) | Action::Dismiss) => {
            state.say(Level::Info, "Not moved.")
        }
        (Overlay::Command { mut input, .. }, Action::PromptEdit(edit)) => {
            input.apply(edit);
            state.overlay = Some(Overlay::Command { input, error: None });
        }
        (Overlay::Command { input, .. }, Action::PromptSubmit) => {
            match batch::command(state, &input.text()) {
                Ok(effects) => return effects,
                Err(message) => {
                    state.overlay = Some(Overlay::Command {
                        input,
                        error: Some(message),
                    })
                }
            }
        }
        (Overlay::Command { .. }, Action::Dismiss) => {}
        (overlay, _) => state.overlay = Some(overlay),
    }
    Vec::new()
}

/// Keys on the picker: typing narrows it, arrows move, Enter chooses, Esc leaves it.
fn picker_input(
    state: &mut State,
    (purpose, kind, mut query, selected): (PickPurpose, RefKind, TextBuffer, usize),
    action: Action,
) -> Vec<Effect> {
    let count = picker::options(state, kind, &query.text()).len();
    match action {
        Action::PromptEdit(edit) => {
            query.apply(edit);
            state.overlay = Some(Overlay::Picker {
                purpose,
                kind,
                query,
                selected: 0,
            });
        }
        Action::PickerMove(step) => {
            let selected =
                (selected as isize + step).clamp(0, count.saturating_sub(1) as isize) as usize;
            state.overlay = Some(Overlay::Picker {
                purpose,
                kind,
                query,
                selected,
            });
        }
        Action::PromptSubmit => {
            let options = picker::options(state, kind, &query.text());
            let Some((id, _)) = options
                .get(selected)
                .map(|(id, name)| (id.to_string(), name.to_string()))
            else {
                state.overlay = Some(Overlay::Picker {
                    purpose,
                    kind,
                    query,
                    selected,
                });
                return Vec::new();
            };
            match purpose {
                PickPurpose::FormField => {
                    if let Some(form) = state.form.as_mut() {
                        form.set_pick(&id);
                    }
                }
                PickPurpose::MoveTo => match id.parse::<i64>() {
                    Ok(link) => {
                        state.overlay = Some(Overlay::MoveReview {
                            link,
                            with_commissions: true,
                        })
                    }
                    Err(_) => state.say(
                        Level::Error,
                        format!("`{id}` is not a promoter campaign id."),
                    ),
                },
            }
        }
        Action::Dismiss => {}
        _ => {
            state.overlay = Some(Overlay::Picker {
                purpose,
                kind,
                query,
                selected,
            })
        }
    }
    Vec::new()
}
