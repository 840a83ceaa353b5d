//! What a finished bulk change leaves on screen, and for how long: each row's mark in the list, the
//! bar under it and the status line it ended with stay until `r` reloads or `SHOWN` after the
//! last row's result, then clear (never while `E` shows them; a running bulk never clears). `E`
//! lists the rows that failed, met a conflict or are unknown, with their errors, in the list's
//! order; `Enter` shows one in the list, where the detail pane says its error too.

use jiff::{SignedDuration, Timestamp};

use super::action::{Action, Motion};
use super::bulk::RowResult;
use super::state::{Level, Overlay, Pane, State};

/// How long a finished bulk's marks and message stay.
pub const SHOWN: SignedDuration = SignedDuration::from_mins(2);

/// Notes when the bulk ended and what the status line said then, once its last row has a result.
pub fn note_end(state: &mut State) {
    let now = state.clock.now;
    let said = state.message.as_ref().map(|m| m.text.clone());
    if let Some(bulk) = state
        .bulk
        .as_mut()
        .filter(|b| !b.is_running() && b.ended.is_none())
    {
        bulk.ended = Some(now);
        bulk.last_words = said;
    }
}

/// When the finished bulk's marks clear, unless something clears them first; None while it runs
/// or `E` shows its rows. The runner wakes the console then.
pub fn expires_at(state: &State) -> Option<Timestamp> {
    if matches!(state.overlay, Some(Overlay::BulkErrors { .. })) {
        return None;
    }
    let bulk = state.bulk.as_ref().filter(|b| !b.is_running())?;
    Some(bulk.ended? + SHOWN)
}

/// Clears the finished bulk once `SHOWN` has passed since it ended.
pub fn expire(state: &mut State) {
    if expires_at(state).is_some_and(|at| state.clock.now >= at) {
        forget(state);
    }
}

/// Clears a finished bulk's marks and bar, and its message if nothing was said since (`r`, or
/// when it expires). A running bulk stays.
pub fn forget(state: &mut State) {
    let Some(bulk) = state.bulk.take_if(|b| !b.is_running()) else {
        return;
    };
    let said = state.message.as_ref().map(|m| &m.text);
    if bulk.last_words.is_some() && said == bulk.last_words.as_ref() {
        state.message = None;
    }
}

/// The detail pane's line for a row the last bulk did not land on: "✗ Mark verified: failed —
/// HTTP 500 …".
pub fn note(state: &State, id: &str) -> Option<String> {
    let bulk = state.bulk.as_ref()?;
    let result = bulk.rows.get(id)?;
    let (word, why) = result.problem()?;
    Some(format!("{} {}: {word} — {why}", result.symbol(), bulk.verb))
}

/// The rows `E` lists: those of the last bulk that did not land, in the list's order as it is
/// now, then the ones the filter hides, by id.
pub fn listed(state: &State) -> Vec<(&str, &RowResult)> {
    let Some(bulk) = &state.bulk else {
        return Vec::new();
    };
    let mut rows: Vec<(&str, &RowResult)> = bulk.problems().collect();
    // Stable: the hidden ones keep their order by id.
    rows.sort_by_key(|(id, _)| state.visible_position(id).unwrap_or(usize::MAX));
    rows
}

/// `E`: the rows of the last bulk that did not land, or why there are none.
pub fn open(state: &mut State) {
    if listed(state).is_empty() {
        let why = match &state.bulk {
            Some(bulk) if bulk.is_running() => "No row of the running bulk change has failed yet.",
            Some(_) => "Every row of the last bulk change landed.",
            None => "No bulk change to show: E lists the rows the last one could not change.",
        };
        state.say(Level::Info, why);
        return;
    }
    state.overlay = Some(Overlay::BulkErrors { selected: 0 });
}

/// Keys on the `E` list: move, `Enter` shows the row in the list, `Esc` closes.
pub fn input(state: &mut State, selected: usize, action: Action) {
    let ids: Vec<String> = listed(state)
        .into_iter()
        .map(|(id, _)| id.to_string())
        .collect();
    let last = ids.len().saturating_sub(1);
    let selected = match action {
        Action::Move(Motion::Up) => selected.saturating_sub(1),
        Action::Move(Motion::Down) => selected + 1,
        Action::Move(Motion::PageUp) => selected.saturating_sub(10),
        Action::Move(Motion::PageDown) => selected + 10,
        Action::Move(Motion::Top) => 0,
        Action::Move(Motion::Bottom) => last,
        Action::OpenDetail => {
            if let Some(id) = ids.get(selected.min(last)) {
                show(state, id);
            }
            return;
        }
        Action::Dismiss => return,
        _ => selected,
    };
    state.overlay = Some(Overlay::BulkErrors {
        selected: selected.min(last),
    });
}

/// Selects `id` in the list (clearing a filter that hides it) with the detail pane open.
fn show(state: &mut State, id: &str) {
    if state.record(id).is_none() {
        state.say(Level::Info, format!("{id} is not loaded."));
        return;
    }
    state.select(id);
    state.detail_open = true;
    state.detail_scroll = 0;
    state.focus = Pane::List;
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::action::{Effect, QuickKey, RequestId};
    use crate::app::update;
    use crate::domain::Record;
    use crate::domain::mutation::Outcome;

    fn record(id: &str) -> Record {
        let values = json!({"id": id, "first_name": format!("Ada {id}"), "status": "converted"});
        Record::new(id, values.as_object().unwrap().clone())
    }

    /// Four converted referrals, three marked and verified in one bulk; `ref_1` and `ref_3`
    /// fail, `ref_2` lands. The clock stands at the end of the bulk.
    fn after_bulk() -> State {
        let mut state = State::sample();
        state.session.concurrency = 4;
        state.replace_records(["ref_1", "ref_2", "ref_3", "ref_4"].map(record).to_vec());
        state
            .marked
            .extend(["ref_1", "ref_2", "ref_3"].map(String::from));
        update(&mut state, Action::Quick(QuickKey::Verify));
        let effects = update(&mut state, Action::Answer(true));
        let sent: Vec<(RequestId, String)> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Mutate { req, mutation, .. } => Some((*req, mutation.ids().remove(0))),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 3);
        for (req, id) in sent {
            let outcome = match id.as_str() {
                "ref_2" => Outcome::Applied {
                    records: vec![record("ref_2")],
                    note: None,
                },
                _ => Outcome::Failed {
                    message: format!("HTTP 500 on {id}"),
                },
            };
            update(&mut state, Action::Written { req, outcome });
        }
        state
    }

    /// `seconds` pass, then the runner's tick.
    fn later(state: &mut State, seconds: i64) {
        state.clock.now += SignedDuration::from_secs(seconds);
        update(state, Action::Tick);
    }

    #[test]
    fn the_detail_note_and_e_name_each_row_that_did_not_land() {
        let mut state = after_bulk();
        assert_eq!(
            note(&state, "ref_1").as_deref(),
            Some("✗ Mark verified: failed — HTTP 500 on ref_1")
        );
        assert_eq!(note(&state, "ref_2"), None, "it landed");
        assert_eq!(note(&state, "ref_4"), None, "not in the bulk");
        update(&mut state, Action::ShowBulkErrors);
        assert_eq!(state.overlay, Some(Overlay::BulkErrors { selected: 0 }));
        // Down twice stops at the last of the two; Enter shows it in the list, detail open.
        update(&mut state, Action::Move(Motion::Down));
        update(&mut state, Action::Move(Motion::Down));
        assert_eq!(state.overlay, Some(Overlay::BulkErrors { selected: 1 }));
        update(&mut state, Action::OpenDetail);
        assert_eq!(state.overlay, None);
        assert_eq!(state.selected_record().unwrap().id, "ref_3");
        assert!(state.detail_open);
    }

    #[test]
    fn e_lists_the_rows_in_the_lists_order_then_the_hidden_ones() {
        let order = |state: &State| -> Vec<String> {
            listed(state).iter().map(|(id, _)| id.to_string()).collect()
        };
        let mut state = after_bulk();
        assert_eq!(order(&state), ["ref_1", "ref_3"]);
        // By name, descending: "Ada ref_3" comes before "Ada ref_1".
        update(&mut state, Action::SortNext);
        update(&mut state, Action::SortNext);
        assert_eq!(order(&state), ["ref_3", "ref_1"]);
        let mut state = after_bulk();
        state.list.filter = crate::app::text::TextBuffer::single("-id:ref_1");
        state.refilter();
        assert_eq!(order(&state), ["ref_3", "ref_1"], "hidden ones last");
    }

    #[test]
    fn e_with_nothing_failed_says_why() {
        let mut state = State::sample();
        update(&mut state, Action::ShowBulkErrors);
        assert_eq!(state.overlay, None);
        assert!(state.message.unwrap().text.starts_with("No bulk change"));
    }

    /// One case per rule of how long the marks, the bar and the message stay.
    #[test]
    fn marks_and_message_clear_on_reload_and_two_minutes_after_the_end() {
        let ended = after_bulk();
        let said = ended.message.clone().unwrap().text;
        assert_eq!(ended.bulk.as_ref().unwrap().ended, Some(ended.clock.now));
        assert_eq!(
            ended.bulk.as_ref().unwrap().last_words.as_ref(),
            Some(&said)
        );

        // (case, what happens, the bulk still shown, the message still said)
        type Step = fn(&mut State);
        let cases: [(&str, Step, bool, bool); 6] = [
            ("a minute later: kept", |s| later(s, 60), true, true),
            (
                "two minutes later: cleared",
                |s| later(s, 120),
                false,
                false,
            ),
            (
                "something said since stays",
                |s| {
                    s.say(Level::Info, "Marks cleared.");
                    later(s, 121)
                },
                false,
                true,
            ),
            (
                "E open: kept while it shows them",
                |s| {
                    update(s, Action::ShowBulkErrors);
                    later(s, 600)
                },
                true,
                true,
            ),
            (
                "r: cleared at once",
                |s| {
                    update(s, Action::Reload);
                },
                false,
                true, // "Reloading…" is said over it
            ),
            (
                "a running bulk never expires",
                |s| {
                    let bulk = s.bulk.as_mut().unwrap();
                    bulk.rows
                        .insert("ref_4".into(), crate::app::bulk::RowResult::Sending);
                    later(s, 600);
                    update(s, Action::Reload);
                },
                true,
                true,
            ),
        ];
        for (case, step, shown, said_still) in cases {
            let mut state = after_bulk();
            step(&mut state);
            assert_eq!(state.bulk.is_some(), shown, "{case}");
            assert_eq!(state.message.is_some(), said_still, "{case}");
        }
    }
}
