//! Names fetched on demand: a kind of referenced resource the backend does not load up front (v1
//! impressions: 1.25 per referral, most of a full load's requests) is asked for one id at a time
//! when the detail pane (or triage) shows a referral that refers to it, and kept with the other names in
//! `State::lookups`. Each id is asked for once a session, whatever its answer.

use std::collections::HashSet;

use super::action::{Effect, RequestId};
use super::state::{Level, Pending, State};
use crate::api::ApiError;
use crate::domain::Record;
use crate::domain::schema::{FieldKind, RefKind};

/// Which references are named on demand, and which ids have been asked for.
#[derive(Debug, Default)]
pub struct OnDemand {
    /// The schema's kinds of reference that are not loaded up front.
    pub kinds: Vec<RefKind>,
    /// (kind, id) asked for this session: in flight, named in `lookups`, or failed and said once.
    /// An id is never asked for twice, so moving through the list never repeats a request.
    pub asked: HashSet<(RefKind, String)>,
}

/// Every kind of reference in the schema that is not among `loaded` (loaded up front) is named on
/// demand.
pub fn start(state: &mut State, loaded: &[RefKind]) {
    let mut kinds = Vec::new();
    for spec in state.schema.fields {
        if let FieldKind::Reference(kind) = spec.kind
            && !loaded.contains(&kind)
            && !kinds.contains(&kind)
        {
            kinds.push(kind);
        }
    }
    state.names.kinds = kinds;
}

/// The referral whose fields are on screen: triage's current one, or the detail pane's.
fn shown(state: &State) -> Option<&Record> {
    match &state.triage {
        Some(triage) => state.record(triage.current()?),
        None if state.detail_open => state.selected_record(),
        None => None,
    }
}

/// Asks for the names the screen needs and does not have: the on-demand references of the
/// referral whose fields it shows (the detail pane's, or triage's).
pub fn wanted(state: &mut State) -> Vec<Effect> {
    if state.names.kinds.is_empty() {
        return Vec::new();
    }
    let Some(record) = shown(state) else {
        return Vec::new();
    };
    let mut needed = Vec::new();
    for spec in state.schema.fields {
        let FieldKind::Reference(kind) = spec.kind else {
            continue;
        };
        let id = record.text(spec.key).into_owned();
        if id.is_empty()
            || !state.names.kinds.contains(&kind)
            || state.lookup(kind, &id).is_some()
            || state.names.asked.contains(&(kind, id.clone()))
        {
            continue;
        }
        needed.push((kind, id));
    }
    needed
        .into_iter()
        .map(|(kind, id)| {
            state.names.asked.insert((kind, id.clone()));
            let req = state.request(Pending::Name {
                kind,
                id: id.clone(),
            });
            Effect::LoadName { req, kind, id }
        })
        .collect()
}

/// The name of an id asked for on demand.
pub fn arrived(state: &mut State, req: RequestId, name: String) {
    if let Some(Pending::Name { kind, id }) = state.pending.remove(&req) {
        state.lookups.entry(kind).or_default().insert(id, name);
    }
}

/// An id asked for on demand could not be named: said once (it is not asked for again), and the
/// detail pane goes on showing the id.
pub fn failed(state: &mut State, kind: RefKind, id: &str, error: &ApiError) {
    let note = format!(
        "Could not load {} for {id}. {}",
        kind.noun(),
        error.user_message()
    );
    state.say(Level::Error, note);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::action::{Action, Motion};
    use crate::app::update::{start as start_app, update};
    use crate::effects::PagingReport;

    /// A v1 state whose referrals `ref_1`, `ref_2`, `ref_3` came from impressions `imp_1`,
    /// `imp_2`, `imp_1`, loaded with ambassadors named up front.
    fn loaded() -> State {
        let mut state = State::sample();
        let effects = start_app(&mut state, &[RefKind::User]);
        let load = effects
            .iter()
            .find_map(|e| match e {
                Effect::LoadReferrals { req } => Some(*req),
                _ => None,
            })
            .expect("referrals load");
        let records = [("ref_1", "imp_1"), ("ref_2", "imp_2"), ("ref_3", "imp_1")]
            .map(|(id, impression)| {
                let fields = json!({"first_name": "Ada", "impression_id": impression});
                Record::new(id, fields.as_object().unwrap().clone())
            })
            .to_vec();
        let page = Action::ReferralsPage {
            req: load,
            records,
            end: Some(PagingReport::default()),
        };
        assert!(names_asked(&update(&mut state, page)).is_empty());
        state
    }

    /// The (kind, id) each `LoadName` among `effects` asks for, with its request.
    fn names_asked(effects: &[Effect]) -> Vec<(RequestId, RefKind, String)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::LoadName { req, kind, id } => Some((*req, *kind, id.clone())),
                _ => None,
            })
            .collect()
    }

    fn shown_impression(state: &State) -> Option<&str> {
        let record = state.selected_record()?;
        state.lookup(RefKind::Impression, &record.text("impression_id"))
    }

    #[test]
    fn references_not_loaded_up_front_are_named_on_demand() {
        let state = loaded();
        assert_eq!(state.names.kinds, [RefKind::Impression]);
        let mut everything = State::sample();
        start_app(&mut everything, &[RefKind::User, RefKind::Impression]);
        assert!(everything.names.kinds.is_empty());
    }

    #[test]
    fn opening_the_detail_asks_for_its_impression_once_and_shows_it() {
        let mut state = loaded();
        let asked = names_asked(&update(&mut state, Action::OpenDetail));
        let [(req, RefKind::Impression, id)] = asked.as_slice() else {
            panic!("one impression asked for: {asked:?}");
        };
        assert_eq!(id, "imp_1");
        assert!(state.pending.contains_key(req), "the request is pending");
        // Anything else happening meanwhile asks nothing again.
        assert!(names_asked(&update(&mut state, Action::Tick)).is_empty());
        let name = "Library · post_7".to_string();
        update(&mut state, Action::NameLoaded { req: *req, name });
        assert_eq!(shown_impression(&state), Some("Library · post_7"));
        assert!(!state.pending.contains_key(req));

        // Closed and opened again, and on another referral from the same impression: the cache.
        update(&mut state, Action::Back);
        assert!(names_asked(&update(&mut state, Action::OpenDetail)).is_empty());
        update(&mut state, Action::Move(Motion::Bottom));
        assert_eq!(state.selected_record().unwrap().id, "ref_3");
        assert_eq!(shown_impression(&state), Some("Library · post_7"));

        // Another impression is asked for when its referral is shown.
        let asked = names_asked(&update(&mut state, Action::Move(Motion::Up)));
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].2, "imp_2");
    }

    #[test]
    fn nothing_is_asked_while_the_detail_is_closed() {
        let mut state = loaded();
        assert!(names_asked(&update(&mut state, Action::Move(Motion::Down))).is_empty());
    }

    #[test]
    fn triage_asks_for_the_impression_of_the_referral_it_shows() {
        let mut state = loaded();
        let now = state.clock.now;
        state.triage = Some(crate::app::triage::Triage::new(vec!["ref_2".into()], now));
        let asked = names_asked(&update(&mut state, Action::Tick));
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].2, "imp_2");
    }

    #[test]
    fn an_impression_that_cannot_be_read_is_said_once_and_not_asked_again() {
        let mut state = loaded();
        let asked = names_asked(&update(&mut state, Action::OpenDetail));
        let error = ApiError::NotFound {
            endpoint: "GET /impressions/imp_1".into(),
            message: "Impression not found".into(),
        };
        let failed = Action::RequestFailed {
            req: asked[0].0,
            error,
        };
        update(&mut state, failed);
        let said = state.message.as_ref().expect("the failure is said");
        assert_eq!(said.level, Level::Error);
        assert!(
            said.text
                .starts_with("Could not load impression details for imp_1."),
            "{}",
            said.text
        );
        update(&mut state, Action::Back);
        assert!(names_asked(&update(&mut state, Action::OpenDetail)).is_empty());
        assert_eq!(shown_impression(&state), None, "the id is shown");
    }
}
