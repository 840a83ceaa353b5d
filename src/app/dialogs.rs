//! Keys on modal layers: the review, questions, the reject reason, the picker, the move review,
//! the conflict dialog and the command line. Each answers by closing itself or staying open.

use super::action::{Action, Effect, Motion};
use super::state::{Level, Overlay, PickPurpose, Question, State};
use super::text::TextBuffer;
use super::writes::Origin;
use super::{bulk_errors, command, drafts, export, flows, picker};
use crate::api::BatchAction;
use crate::domain::Record;
use crate::domain::mutation::Mutation;
use crate::domain::schema::firstpromoter_policy::action_write;
use crate::domain::schema::{FieldKind, RefKind};

pub(super) fn overlay_input(state: &mut State, overlay: Overlay, action: Action) -> Vec<Effect> {
    match (overlay, action) {
        (Overlay::Review { changes, scroll }, Action::Move(motion)) => {
            let scroll = scrolled(state, scroll, motion);
            state.overlay = Some(Overlay::Review { changes, scroll });
        }
        (
            Overlay::Conflict {
                changes,
                clashes,
                scroll,
            },
            Action::Move(motion),
        ) => {
            let scroll = scrolled(state, scroll, motion);
            state.overlay = Some(Overlay::Conflict {
                changes,
                clashes,
                scroll,
            });
        }
        (Overlay::Review { changes, .. }, Action::Answer(true)) => {
            return flows::send_form(state, changes, true);
        }
        (Overlay::Conflict { changes, .. }, Action::KeepMine) => {
            return flows::send_form(state, changes, false);
        }
        (Overlay::Conflict { clashes, .. }, Action::TakeTheirs) => {
            let id = state
                .form
                .as_ref()
                .map(|f| f.record_id.clone())
                .unwrap_or_default();
            let theirs = state.record(&id).cloned();
            if let (Some(form), Some(theirs)) = (state.form.as_mut(), theirs) {
                for clash in &clashes {
                    form.take_value(&clash.key, &theirs.get(&clash.key));
                }
            }
            let names: Vec<&str> = clashes.iter().map(|c| c.label.as_str()).collect();
            state.say(
                Level::Info,
                format!(
                    "Took theirs for {}; your other changes are still in the form (Ctrl-s).",
                    names.join(", ")
                ),
            );
        }
        (Overlay::Conflict { .. }, Action::Answer(false) | Action::Dismiss) => {
            state.say(
                Level::Info,
                "Back to the form: Ctrl-s reviews your change against their version.",
            );
        }
        (Overlay::TriageSummary, _) => {}
        (Overlay::Review { .. }, Action::Answer(false) | Action::Dismiss) => {
            state.say(Level::Info, "Not sent. The form is as you left it.");
        }
        (Overlay::Confirm(Question::Quit), Action::Answer(true)) => {
            // Quit now, even after an earlier `w`: the writes still in flight keep their journal
            // entries, and the next start settles them.
            state.quit_when_idle = false;
            state.should_quit = true;
        }
        (Overlay::Confirm(Question::Quit), Action::WaitThenQuit) => {
            state.quit_when_idle = true;
            state.should_quit = state.writes.count() == 0;
            let queued = state.bulk.as_ref().map_or(0, |b| b.queued());
            let unsent = match queued {
                0 => String::new(),
                1 => " The queued bulk row is not sent.".to_string(),
                n => format!(" The {n} queued bulk rows are not sent."),
            };
            state.say(
                Level::Info,
                match state.writes.count() {
                    1 => format!("Quitting once the write in flight has its outcome.{unsent}"),
                    n => format!(
                        "Quitting once the {n} writes in flight have their outcome.{unsent}"
                    ),
                },
            );
        }
        (Overlay::Confirm(Question::DiscardForm), Action::Answer(true)) => {
            state.form = None;
            state.say(Level::Info, "Changes discarded.");
        }
        (Overlay::Confirm(Question::RestoreDraft), Action::Answer(yes)) => {
            return drafts::answer(state, Some(yes));
        }
        (Overlay::Confirm(Question::RestoreDraft), Action::Dismiss) => {
            return drafts::answer(state, None);
        }
        (
            Overlay::Confirm(Question::ReplaceFile { path, .. }),
            Action::Answer(false) | Action::Dismiss,
        ) => state.say(
            Level::Info,
            format!("Not exported: {path} is left as it was."),
        ),
        (Overlay::Confirm(_), Action::Answer(false) | Action::Dismiss) => {}
        (Overlay::Help { scroll }, Action::Move(motion)) => {
            let scroll = scrolled(state, scroll, motion);
            state.overlay = Some(Overlay::Help { scroll });
        }
        (Overlay::Help { .. }, Action::Dismiss | Action::Help | Action::Quit) => {}
        (Overlay::Confirm(Question::Bulk { key, plan }), Action::Answer(true)) => {
            return flows::bulk_confirmed(state, key, plan);
        }
        (Overlay::Confirm(Question::Irreversible { key, plan }), Action::Answer(true)) => {
            return flows::irreversible_confirmed(state, key, plan);
        }
        (Overlay::Confirm(Question::UndoBulk { at }), Action::Answer(true)) => {
            return flows::undo_bulk_confirmed(state, at);
        }
        (Overlay::Confirm(Question::ReplaceFile { format, path }), Action::Answer(true)) => {
            return export::start(state, format, &path, true);
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
            match flows::reason_given(state, ids.clone(), &input.text()) {
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
            if flows::refused_read_only(state, "a move to another promoter") {
                return Vec::new();
            }
            let schema = state.schema;
            let Some(form) = state.form.as_mut() else {
                return Vec::new();
            };
            let ids = [form.record_id.clone()];
            // The form no longer offers the old promoter campaign as the value to keep.
            let link_field = schema
                .fields
                .iter()
                .find(|f| f.kind == FieldKind::Reference(RefKind::PromoterCampaign));
            if let Some(spec) = link_field {
                form.take_value(spec.key, &serde_json::Value::from(link));
            }
            if !form.is_dirty() {
                state.form = None;
            }
            let action = BatchAction::MoveToPromoter {
                link,
                with_commissions,
            };
            let records: Vec<&Record> = ids.iter().filter_map(|id| state.record(id)).collect();
            let write = action_write(action, &records, None);
            state.say(Level::Info, format!("Moving {}…", ids.join(", ")));
            return flows::submit(state, Mutation::Action(write), Origin::Quick, None);
        }
        (Overlay::MoveReview { .. }, Action::Answer(false) | Action::Dismiss) => {
            state.say(Level::Info, "Not moved.")
        }
        (Overlay::Command { mut input, .. }, Action::PromptEdit(edit)) => {
            input.apply(edit);
            state.overlay = Some(Overlay::Command { input, error: None });
        }
        (Overlay::Command { input, .. }, Action::PromptSubmit) => {
            match command::command(state, &input.text()) {
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
        (
            Overlay::Journal {
                entries,
                resendable,
                selected,
            },
            Action::Move(motion),
        ) => {
            let last = entries.len().saturating_sub(1);
            let selected = match motion {
                Motion::Up => selected.saturating_sub(1),
                Motion::Down => (selected + 1).min(last),
                Motion::PageUp => selected.saturating_sub(10),
                Motion::PageDown => (selected + 10).min(last),
                Motion::Top => 0,
                Motion::Bottom => last,
            };
            state.overlay = Some(Overlay::Journal {
                entries,
                resendable,
                selected,
            });
        }
        (
            Overlay::Journal {
                entries, selected, ..
            },
            Action::Resend,
        ) => {
            return command::resend(state, &entries, selected);
        }
        (Overlay::Journal { .. }, Action::Dismiss) => {}
        (Overlay::BulkErrors { selected }, action) => bulk_errors::input(state, selected, action),
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

/// A scrolled dialog's (help, review, conflict) scroll after `motion`: three lines a step, a
/// page of 15, or either end; never past how far the dialog drawn last can scroll
/// (`Screen::scroll_end`), so `k` after `G` moves at once.
fn scrolled(state: &State, scroll: u16, motion: Motion) -> u16 {
    let end = state.screen.scroll_end.unwrap_or(u16::MAX);
    let scroll = scroll.min(end);
    match motion {
        Motion::Top => 0,
        Motion::PageUp => scroll.saturating_sub(15),
        Motion::Up => scroll.saturating_sub(3),
        Motion::PageDown => scroll.saturating_add(15).min(end),
        Motion::Bottom => end,
        Motion::Down => scroll.saturating_add(3).min(end),
    }
}
