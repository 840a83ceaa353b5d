//! The stats view (`S` in the list, `:stats`): the picture of the rows the filter shows
//! (`domain::stats`), drawn instead of the list until `Esc`, `q` or `S`. It is computed when it
//! opens and again after any action that changed the rows under it (a page arrived, a write
//! answered, names arrived), never per frame; while referrals are still loading at most once a
//! `REFRESH`, so a view left open through a 100k load is not computed once per page (the spinner's
//! tick catches up with the last change).

use jiff::{SignedDuration, Timestamp};

use super::action::Action;
use super::state::{Overlay, State};
use crate::domain::stats::{Days, Stats, tally};

/// The days the milestone is counted over, ending today.
pub const DAYS: usize = 30;

/// Least time between two computations while something is loading.
const REFRESH: SignedDuration = SignedDuration::from_millis(250);

#[derive(Debug, Clone, PartialEq)]
pub struct StatsView {
    pub stats: Stats,
    /// Referrals loaded when they were computed, to say how many of them the filter shows.
    pub loaded: usize,
    /// The `ListView::generation` the stats were computed for.
    generation: u64,
    /// When they were computed, to space computations out while pages pour in.
    computed_at: Timestamp,
}

/// `S`, `:stats`: the view opens on the rows shown now.
pub fn open(state: &mut State) {
    state.stats = Some(compute(state));
}

/// Keys while the view is open: it closes, or help opens over it.
pub fn input(state: &mut State, action: Action) {
    match action {
        Action::Back | Action::Stats => state.stats = None,
        Action::Help => state.overlay = Some(Overlay::Help { scroll: 0 }),
        _ => {}
    }
}

/// After each action: the open view is computed again when the rows changed since, unless it was
/// moments ago and something is still loading (a later action, at least the next tick, does it).
pub fn follow(state: &mut State) {
    let Some(view) = &state.stats else {
        return;
    };
    if view.generation == state.list.generation {
        return;
    }
    let recent = state.clock.now.duration_since(view.computed_at) < REFRESH;
    if recent && state.busy() {
        return;
    }
    state.stats = Some(compute(state));
}

fn compute(state: &State) -> StatsView {
    let days = Days::ending(state.clock.now, &state.clock.tz, DAYS);
    let rows = state.list.visible.iter().map(|row| &state.records[*row]);
    StatsView {
        stats: tally(state.schema, rows, &days),
        loaded: state.records.len(),
        generation: state.list.generation,
        computed_at: state.clock.now,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::action::{Effect, RequestId};
    use crate::app::state::Pending;
    use crate::app::text::TextBuffer;
    use crate::app::update;
    use crate::domain::Record;

    fn referral(id: &str, status: &str) -> Record {
        let values = json!({"first_name": id, "status": status, "student_id": "user_1"});
        Record::new(id, values.as_object().unwrap().clone())
    }

    /// How many referrals the open view counts in each step, then each exit.
    fn counted(state: &State) -> Vec<usize> {
        let stats = &state.stats.as_ref().expect("the view is open").stats;
        stats
            .steps
            .iter()
            .chain(&stats.exits)
            .map(|s| s.1)
            .collect()
    }

    fn later(state: &mut State, millis: i64) {
        state.clock.now += SignedDuration::from_millis(millis);
    }

    #[test]
    fn the_view_counts_the_rows_the_filter_shows_and_closes() {
        let mut state = State::sample();
        state.append_records(vec![
            referral("ada", "pending"),
            referral("bob", "verified"),
            referral("cy", "rejected"),
        ]);
        state.list.filter = TextBuffer::single("-status:rejected");
        state.refilter();
        update(&mut state, Action::Stats);
        assert_eq!(counted(&state), [1, 0, 1, 0]);
        assert_eq!(state.stats.as_ref().unwrap().stats.total, 2);
        update(&mut state, Action::Help);
        assert!(
            state.overlay.is_some() && state.stats.is_some(),
            "help over it"
        );
        update(&mut state, Action::Dismiss);
        update(&mut state, Action::Back);
        assert!(state.stats.is_none());
        update(&mut state, Action::Stats);
        update(&mut state, Action::Stats);
        assert!(state.stats.is_none(), "S closes it too");
    }

    /// Rows that change under the open view: recomputed after the action, at once when nothing
    /// loads, at most every `REFRESH` while something does (the tick catches up).
    #[test]
    fn the_view_follows_pages_and_writes_without_computing_per_page() {
        let mut state = State::sample();
        update(&mut state, Action::Stats);
        assert_eq!(state.stats.as_ref().unwrap().stats.total, 0);
        // A write answered while nothing loads: computed at once.
        state.replace_records(vec![referral("ada", "pending")]);
        update(&mut state, Action::Tick);
        assert_eq!(counted(&state), [1, 0, 0, 0]);
        // A load: pages arrive faster than REFRESH.
        let req = RequestId(99);
        state.pending.insert(req, Pending::Load);
        state.load = crate::app::state::LoadState::Loading {
            req,
            loaded: 0,
            awaiting_first: false,
        };
        let page = |records| Action::ReferralsPage {
            req,
            records,
            end: None,
        };
        later(&mut state, 1000);
        update(&mut state, page(vec![referral("bob", "verified")]));
        assert_eq!(counted(&state), [1, 0, 1, 0], "the first page in a while");
        later(&mut state, 100);
        update(&mut state, page(vec![referral("cy", "verified")]));
        assert_eq!(counted(&state), [1, 0, 1, 0], "too soon: not yet");
        later(&mut state, 200);
        let effects: Vec<Effect> = update(&mut state, Action::Tick);
        assert!(effects.is_empty());
        assert_eq!(counted(&state), [1, 0, 2, 0], "the tick caught up");
    }
}
