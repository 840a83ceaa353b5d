//! Fuzzing the console's state machine (tracker issue 10). Long random runs of keys and server
//! answers go through the pure `update` the way the runner feeds them: keys through `map_key` on
//! the current state, answers to the requests the effects asked for — late, duplicated, out of
//! order, to requests never made, errors of every kind — and time passing on the state's clock.
//! After every step `check` says whether the state still holds together, and no step may panic.
//!
//! Beside the state runs a small model (`Model`): every request the effects asked for, which of them
//! had their last answer, and the journal — every `Effect::Mutate` the moment `update` returns it,
//! as the runner journals a write before it sends it.
//!
//! Mouse steps draw a frame first, as the runner does after every event, so a click lands on
//! what was drawn (and drawing every state the run reaches must not panic either).
//!
//! Each test runs proptest's default 256 cases of up to 500 steps, a few seconds in a debug build,
//! from a fixed seed, so that `cargo test` (and CI) runs the same cases every time. To search for
//! new failures, give a seed and more cases: `PROPTEST_RNG_SEED=$RANDOM PROPTEST_CASES=20000 cargo
//! test app::fuzz`. A failing case is shrunk and printed with the actions that led to it (proptest
//! keeps its seed in `proptest-regressions/`, which every run tries first).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use super::action::{Action, Effect, RequestId};
use super::bulk::RowResult;
use super::keymap::map_key;
use super::state::{LoadState, Overlay, Question, State};
use super::triage::Written;
use super::writes::Origin;
use super::{picker, update};
use crate::api::{ApiError, Batch};
use crate::domain::mutation::{Mutation, Outcome};
use crate::domain::record::Unreadable;
use crate::domain::schema::{FieldKind, RefKind, Schema, V1_SCHEMA, V2_SCHEMA};
use crate::domain::{MetadataMode, Record};
use crate::effects::{PagingReport, Reconciliation, Stop};
use crate::export::WriteError;
use crate::store::drafts::Draft;
use crate::store::journal::{Intent, Recorded, Stored, Verdict};

/// The backend a run talks to: its schema, the names it looks up, the referral ids it serves.
#[derive(Debug, Clone, Copy)]
struct Backend {
    schema: &'static Schema,
    lookups: &'static [RefKind],
    /// Few, so answers keep meeting the referrals already loaded.
    ids: &'static [&'static str],
}

const V1: Backend = Backend {
    schema: &V1_SCHEMA,
    lookups: &[RefKind::User, RefKind::Impression],
    ids: &["ref_1", "ref_2", "ref_3", "ref_4", "ref_5", "ref_6"],
};

const V2: Backend = Backend {
    schema: &V2_SCHEMA,
    lookups: &[RefKind::PromoterCampaign],
    ids: &["5001", "5002", "5003", "5004", "5005", "5006"],
};

/// The profile's settings that change what `update` does.
#[derive(Debug, Clone)]
struct Profile {
    admin: bool,
    replace_metadata: bool,
    concurrency: usize,
    size: (u16, u16),
    /// Choices for a first page of every referral, answering the first load at once, as most
    /// sessions begin; None leaves the load to the steps.
    loaded: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
enum Step {
    Key(Press),
    /// These keys one after another (`typed`).
    Type(&'static str),
    /// This many milliseconds pass, then the runner's tick.
    Tick(u16),
    Resize(u16, u16),
    /// The mouse, where a frame drawn just before (as the runner draws one after every event)
    /// put what it clicks on.
    Mouse(Mouse),
    /// An answer from the runner, its request and content chosen by these bytes (`Dice`).
    Answer(Vec<u8>),
}

/// A key as the terminal reports it, shown short (`Ctrl-Char('s')`) in a failing case.
#[derive(Clone)]
struct Press(KeyEvent);

impl std::fmt::Debug for Press {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let key = self.0;
        for (modifier, name) in [
            (KeyModifiers::CONTROL, "Ctrl-"),
            (KeyModifiers::ALT, "Alt-"),
        ] {
            if key.modifiers.contains(modifier) {
                f.write_str(name)?;
            }
        }
        write!(f, "{:?}", key.code)?;
        if key.kind == KeyEventKind::Release {
            f.write_str(" released")?;
        }
        Ok(())
    }
}

/// A mouse event, shown short (`click 12,3`) in a failing case.
#[derive(Clone)]
struct Mouse(MouseEvent);

impl std::fmt::Debug for Mouse {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{:?} {},{}", self.0.kind, self.0.column, self.0.row)
    }
}

fn mouse() -> impl Strategy<Value = Mouse> {
    let kinds = vec![
        MouseEventKind::Down(MouseButton::Left),
        MouseEventKind::Down(MouseButton::Right),
        MouseEventKind::Up(MouseButton::Left),
        MouseEventKind::Moved,
        MouseEventKind::ScrollDown,
        MouseEventKind::ScrollUp,
    ];
    (select(kinds), 0u16..200, 0u16..60).prop_map(|(kind, column, row)| {
        Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    })
}

/// Draws the state as the runner does after every event, keeping where things went.
fn draw(state: &mut State, (width, height): (u16, u16)) {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = ratatui::Terminal::new(backend).expect("a test terminal");
    let mut screen = None;
    terminal
        .draw(|frame| screen = Some(crate::ui::render(state, frame)))
        .expect("a frame");
    state.screen = screen.unwrap_or_default();
}

/// Runs of keys a person types: commands, a filter, field values, a form changed, saved and sent,
/// marked rows verified or rejected with a reason, a rejection, a short triage session.
const TYPED: &[&str] = &[
    ":journal\n",
    ":export csv /tmp/x.csv\n",
    ":find email ada@x.io\n",
    ":find id 5002\n",
    ":find uid u1\n",
    "/ada",
    "e\tz\x13y",
    "e\t\t\t\x08\x13y",
    "Vvy",
    "Vxyspam\n",
    "xspam\n",
    "tvxspam\nsvu",
    "{\"a\": 2}",
    "2026-11-20T09:00:00Z",
    "[{\"promoter_campaign_id\": 1002, \"percentage\": 50}]",
];

/// The key for a character of `TYPED`: `\n` is Enter, `\t` Tab, `\x08` Backspace, `\x13` Ctrl-s.
fn typed(c: char) -> KeyEvent {
    match c {
        '\n' => plain(KeyCode::Enter),
        '\t' => plain(KeyCode::Tab),
        '\x08' => plain(KeyCode::Backspace),
        '\x13' => with(KeyModifiers::CONTROL, 's'),
        c => plain(KeyCode::Char(c)),
    }
}

fn plain(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn with(modifiers: KeyModifiers, c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), modifiers)
}

/// The console's keys; the ones that quit are rare, so runs are long.
fn key() -> impl Strategy<Value = KeyEvent> {
    use KeyCode::*;
    let chars = "jkgGeEVvxcpuRtrsS?yYnNwmb/: ".chars().map(Char);
    let named = [
        Enter,
        Esc,
        Tab,
        Backspace,
        Delete,
        Up,
        Down,
        Left,
        Right,
        Home,
        End,
        PageUp,
        PageDown,
        F(1),
    ];
    let mut keys: Vec<KeyEvent> = chars.chain(named).map(plain).collect();
    keys.extend("spuaefbv".chars().map(|c| with(KeyModifiers::CONTROL, c)));
    // Shift-Tab as terminals report it, and named keys with a modifier.
    keys.push(KeyEvent::new(BackTab, KeyModifiers::SHIFT));
    keys.push(KeyEvent::new(Enter, KeyModifiers::SHIFT));
    keys.push(KeyEvent::new(Left, KeyModifiers::CONTROL));
    let mut released = plain(Char('v'));
    released.kind = KeyEventKind::Release;
    let quits = vec![
        plain(Char('q')),
        with(KeyModifiers::CONTROL, 'c'),
        with(KeyModifiers::CONTROL, 'q'),
        released,
    ];
    prop_oneof![
        60 => select(keys),
        // Esc leaves whatever has the keyboard: the command line, a picker, the form.
        8 => Just(plain(Esc)),
        16 => proptest::char::range('a', 'z').prop_map(|c| plain(Char(c))),
        8 => proptest::char::range('0', '9').prop_map(|c| plain(Char(c))),
        6 => proptest::char::range('1', '9').prop_map(|c| with(KeyModifiers::ALT, c)),
        3 => proptest::char::range('a', 'z').prop_map(|c| with(KeyModifiers::ALT, c)),
        1 => select(quits),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        50 => key().prop_map(|key| Step::Key(Press(key))),
        10 => select(TYPED).prop_map(Step::Type),
        8 => (0u16..1500).prop_map(Step::Tick),
        2 => (0u16..200, 0u16..60).prop_map(|(w, h)| Step::Resize(w, h)),
        4 => mouse().prop_map(Step::Mouse),
        35 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Step::Answer),
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    let loaded = proptest::option::weighted(0.8, proptest::collection::vec(any::<u8>(), 0..64));
    let size = (0u16..200, 0u16..60);
    (any::<bool>(), any::<bool>(), 1usize..4, size, loaded).prop_map(
        |(admin, replace_metadata, concurrency, size, loaded)| Profile {
            admin,
            replace_metadata,
            concurrency,
            size,
            loaded,
        },
    )
}

/// Choices read from an answer's bytes; past their end every choice is the first and nothing
/// unlikely happens, so a shrunk answer is a plain one.
struct Dice<'a>(std::slice::Iter<'a, u8>);

impl Dice<'_> {
    fn below(&mut self, n: usize) -> usize {
        self.0.next().map_or(0, |b| *b as usize % n.max(1))
    }

    fn one<T: Clone>(&mut self, of: &[T]) -> T {
        of[self.below(of.len())].clone()
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: usize) -> bool {
        self.0
            .next()
            .is_some_and(|b| (*b as usize % 100) >= 100 - percent)
    }
}

/// Ids of requests no effect asked for start here.
const NEVER_ASKED: u64 = 1 << 40;

/// What the run knows besides the state.
struct Model {
    backend: Backend,
    /// Every effect that asked for an answer, by its request.
    asked: BTreeMap<RequestId, Effect>,
    /// Requests whose last answer was given.
    answered: BTreeSet<RequestId>,
    /// Every write `update` asked for, by request: what the runner journals before sending.
    journal: BTreeMap<RequestId, Mutation>,
    /// Referral ids each load delivered so far: paging drops an id it already delivered.
    delivered: HashMap<RequestId, BTreeSet<String>>,
    /// The actions so far, for the failure message.
    trace: Vec<Action>,
}

fn request_of(effect: &Effect) -> Option<RequestId> {
    match effect {
        Effect::LoadReferrals { req }
        | Effect::LoadLookup { req, .. }
        | Effect::Mutate { req, .. }
        | Effect::LoadReasons { req }
        | Effect::LoadJournal { req }
        | Effect::Reconcile { req }
        | Effect::LoadDraft { req, .. }
        | Effect::SaveDraft { req, .. }
        | Effect::DiscardDraft { req, .. }
        | Effect::Find { req, .. }
        | Effect::Export { req, .. }
        | Effect::LoadName { req, .. } => Some(*req),
        // Stopping a load asks nothing: the runner aborts the load, whose answers end there.
        // The clipboard and the editor are the terminal's, done by the runner at once.
        Effect::RecordSession { .. }
        | Effect::StopLoad { .. }
        | Effect::Copy { .. }
        | Effect::OpenEditor { .. } => None,
    }
}

impl Model {
    fn new(backend: Backend) -> Model {
        Model {
            backend,
            asked: BTreeMap::new(),
            answered: BTreeSet::new(),
            journal: BTreeMap::new(),
            delivered: HashMap::new(),
            trace: Vec::new(),
        }
    }

    /// Takes the effects `update` returned: each request id is new, each write is journaled.
    fn take(&mut self, effects: Vec<Effect>) -> Result<(), String> {
        for effect in effects {
            if let Effect::StopLoad { req } = effect {
                self.answered.insert(req);
                continue;
            }
            let Some(req) = request_of(&effect) else {
                continue;
            };
            if let Effect::Mutate { mutation, .. } = &effect {
                self.journal.insert(req, mutation.clone());
            }
            if let Some(earlier) = self.asked.insert(req, effect) {
                return Err(format!(
                    "request {req:?} asked for again, first by {earlier:?}"
                ));
            }
        }
        Ok(())
    }

    /// Applies `action` as the runner does and checks the state after it.
    fn dispatch(&mut self, state: &mut State, action: Action) -> Result<(), String> {
        self.trace.push(action.clone());
        let before: BTreeSet<RequestId> = state.writes.in_flight.keys().copied().collect();
        let answered = match &action {
            Action::Written { req, .. } => Some(*req),
            _ => None,
        };
        let effects = catch_unwind(AssertUnwindSafe(|| update::update(state, action)))
            .map_err(|panic| format!("update panicked: {}", panic_text(&panic)))?;
        self.take(effects)?;
        if let Some(left) = before
            .iter()
            .find(|req| !state.writes.in_flight.contains_key(req) && Some(**req) != answered)
        {
            return Err(format!("write {left:?} left flight without its answer"));
        }
        check(state, self)
    }

    /// The first load's one page: every referral the backend has.
    fn everything(&mut self, state: &State, dice: &mut Dice) -> Action {
        let req = self
            .asked
            .iter()
            .find_map(|(req, e)| matches!(e, Effect::LoadReferrals { .. }).then_some(*req))
            .expect("loading begins at the start");
        self.answered.insert(req);
        let ids = self.backend.ids;
        self.delivered
            .insert(req, ids.iter().map(|id| id.to_string()).collect());
        let records = ids
            .iter()
            .map(|id| record(state.schema, id, dice))
            .collect();
        let end = Some(PagingReport::default());
        Action::ReferralsPage { req, records, end }
    }

    /// The request an answer goes to, with the effect it answers as if it had asked it.
    fn target(&self, dice: &mut Dice) -> Option<(RequestId, Effect)> {
        let any = |dice: &mut Dice| self.asked.iter().nth(dice.below(self.asked.len()));
        let (req, effect) = match dice.below(10) {
            // A duplicate or late answer to anything asked so far.
            0 => any(dice)?,
            // An answer shaped like one asked for, to a request never made.
            1 => {
                let (_, effect) = any(dice)?;
                let req = RequestId(NEVER_ASKED + dice.below(256) as u64);
                return Some((req, effect.clone()));
            }
            _ => {
                let mut open = self
                    .asked
                    .iter()
                    .filter(|(req, _)| !self.answered.contains(req));
                let count = open.clone().count();
                open.nth(dice.below(count))?
            }
        };
        Some((*req, effect.clone()))
    }

    /// An answer to `req` of the kind the runner gives for `effect`; a last answer is remembered.
    fn reply(&mut self, state: &State, req: RequestId, effect: &Effect, dice: &mut Dice) -> Action {
        let schema = state.schema;
        let action = match effect {
            Effect::LoadReferrals { .. } | Effect::LoadLookup { .. } if dice.chance(3) => {
                let error = api_error(schema, dice);
                Action::RequestFailed { req, error }
            }
            Effect::LoadReferrals { .. } => {
                let ids = self.backend.ids;
                let seen = self.delivered.entry(req).or_default();
                let records = (0..dice.below(5))
                    .map(|_| record(schema, dice.one(ids), dice))
                    .filter(|r| seen.insert(r.id.clone()))
                    .collect();
                let end = dice.chance(30).then(|| paging_report(dice));
                Action::ReferralsPage { req, records, end }
            }
            Effect::LoadLookup { kind, .. } => {
                let entries = (0..dice.below(4))
                    .map(|_| dice.one(entries(*kind)))
                    .map(|(id, name)| (id.to_string(), name.to_string()))
                    .collect();
                let end = dice.chance(40).then(|| paging_report(dice));
                Action::LookupPage { req, entries, end }
            }
            Effect::Mutate { mutation, .. } if dice.chance(15) => Action::WriteProgress {
                req,
                batch: batch(mutation, dice),
            },
            Effect::Mutate { mutation, .. } => {
                let outcome = outcome(schema, mutation.ids(), self.backend.ids, dice);
                Action::Written { req, outcome }
            }
            Effect::LoadName { .. } if dice.chance(3) => Action::RequestFailed {
                req,
                error: api_error(schema, dice),
            },
            Effect::LoadName { id, .. } => Action::NameLoaded {
                req,
                name: format!("name of {id}"),
            },
            Effect::Find { .. } => {
                let result = if dice.chance(40) {
                    Err(api_error(schema, dice))
                } else {
                    Ok(record(schema, dice.one(self.backend.ids), dice))
                };
                Action::Found { req, result }
            }
            Effect::LoadReasons { .. } => {
                let pool = ["duplicate", "spam", "test account"];
                let reasons = (0..dice.below(4)).map(|_| dice.one(&pool).into()).collect();
                Action::ReasonsLoaded { req, reasons }
            }
            Effect::LoadJournal { .. } => {
                let result = if dice.chance(15) {
                    Err("the journal is locked".into())
                } else {
                    Ok(self.stored(state, dice))
                };
                Action::JournalLoaded {
                    req,
                    result,
                    damaged: dice.below(2),
                }
            }
            Effect::Reconcile { .. } => {
                let result = if dice.chance(20) {
                    Err("the journal is locked".into())
                } else {
                    Ok(Reconciliation {
                        applied: dice.below(3),
                        not_applied: dice.below(2),
                        conflicts: dice.below(2),
                        unknown: dice.below(2),
                        records: vec![record(schema, dice.one(self.backend.ids), dice)],
                    })
                };
                Action::Reconciled { req, result }
            }
            Effect::LoadDraft { .. } => {
                let result = match dice.below(4) {
                    0 => Ok(None),
                    1 => Err("the drafts table is damaged".into()),
                    _ => Ok(Some(draft(state, dice))),
                };
                Action::DraftLoaded { req, result }
            }
            Effect::SaveDraft { .. } | Effect::DiscardDraft { .. } => {
                let result = if dice.chance(15) {
                    Err("disk full".into())
                } else {
                    Ok(())
                };
                Action::DraftSaved { req, result }
            }
            Effect::Export { path, records, .. } => {
                let errors = [
                    WriteError::Exists,
                    WriteError::NoFolder,
                    WriteError::Denied,
                    WriteError::IsFolder,
                    WriteError::NoHome,
                    WriteError::Other("disk full".into()),
                ];
                let result = if dice.chance(50) {
                    Err(dice.one(&errors))
                } else {
                    Ok(())
                };
                let (path, count) = (path.clone(), records.len());
                Action::Exported {
                    req,
                    path,
                    count,
                    result,
                }
            }
            Effect::RecordSession { .. }
            | Effect::StopLoad { .. }
            | Effect::Copy { .. }
            | Effect::OpenEditor { .. } => {
                unreachable!("only requests are answered")
            }
        };
        let last = match &action {
            Action::ReferralsPage { end, .. } | Action::LookupPage { end, .. } => end.is_some(),
            Action::WriteProgress { .. } => false,
            _ => true,
        };
        if last {
            self.answered.insert(req);
        }
        action
    }

    /// The journal as `:journal` reads it: some of this run's writes, oldest first, each with or
    /// without a verdict.
    fn stored(&self, state: &State, dice: &mut Dice) -> Vec<Stored> {
        let from = self.journal.len().saturating_sub(dice.below(6));
        let entries = self.journal.values().skip(from);
        entries
            .enumerate()
            .map(|(entry, mutation)| {
                let (kind, body, before) = match mutation {
                    Mutation::Fields(write) => (
                        "write",
                        Value::Object(write.changes.body.clone()),
                        write.base.clone(),
                    ),
                    Mutation::Action(action) => ("action", Value::Null, action.before.clone()),
                };
                let verdict = dice.below(Verdict::ALL.len() + 1);
                Stored {
                    entry: entry as i64,
                    intent: Intent {
                        time: state.clock.now,
                        profile: state.session.profile.clone(),
                        backend: state.session.backend.into(),
                        admin_id: None,
                        why: "form".into(),
                        kind: kind.into(),
                        ids: mutation.ids(),
                        action: None,
                        body,
                        before,
                        wanted: Map::new(),
                        detail: Value::Null,
                    },
                    outcome: Verdict::ALL.get(verdict).map(|verdict| Recorded {
                        time: state.clock.now,
                        verdict: *verdict,
                        status: None,
                        after: Map::new(),
                        message: None,
                    }),
                }
            })
            .collect()
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// (id, name) pairs a lookup of `kind` may bring; one promoter campaign id is not a number.
fn entries(kind: RefKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        RefKind::User => &[("user_1", "Ada Lovelace"), ("user_2", "Grace Hopper")],
        RefKind::Impression => &[("imp_1", "Newsletter"), ("imp_2", "")],
        RefKind::PromoterCampaign => &[
            ("1001", "Alpha"),
            ("1002", "Beta"),
            ("1003", "Gamma"),
            ("x9", "Not a number"),
        ],
    }
}

/// A value the server may send for a field of `kind`, well-formed or not.
fn value(kind: FieldKind, dice: &mut Dice) -> Value {
    match kind {
        FieldKind::Text => dice.one(&["Ada", "", "Lovelace", "u1"]).into(),
        FieldKind::Email => dice.one(&["ada@x.io", "not an email", ""]).into(),
        FieldKind::Url => dice.one(&["https://x.io/a.png", "ftp://x", ""]).into(),
        FieldKind::Enum(_) if dice.chance(10) => "unheard-of".into(),
        FieldKind::Enum(options) => dice.one(options).into(),
        FieldKind::Timestamp => dice.one(&["2026-11-20T09:00:00Z", "yesterday"]).into(),
        FieldKind::JsonObject => dice.one(&[json!({}), json!({"a": 1}), json!({"b": {"c": [1]}})]),
        FieldKind::Reference(kind) => {
            let (id, _) = dice.one(entries(kind));
            id.parse::<i64>().map_or(id.into(), Value::from)
        }
        FieldKind::Splits => dice.one(&[
            json!([]),
            json!([{"promoter_campaign_id": 1002, "percentage": 50}]),
            json!([{"promoter_campaign_id": 1001, "percentage": 80}]),
        ]),
    }
}

/// Puts `value` at a dotted `key`, making the objects on the way.
fn put(values: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        None => {
            values.insert(key.to_string(), value);
        }
        Some((head, rest)) => {
            let inner = values.entry(head).or_insert_with(|| json!({}));
            if !inner.is_object() {
                *inner = json!({});
            }
            if let Value::Object(inner) = inner {
                put(inner, rest, value);
            }
        }
    }
}

/// Referral `id` as the server may send it: each field present or not, and now and then one it
/// could not read.
fn record(schema: &Schema, id: &str, dice: &mut Dice) -> Record {
    let mut unreadable = Vec::new();
    if dice.chance(10) {
        let spec = dice.one(schema.fields);
        unreadable.push(Unreadable {
            path: spec.key.to_string(),
            expected: "text",
            raw: json!(["?"]),
        });
    }
    let mut values = Map::new();
    for spec in schema.fields {
        if unreadable.iter().any(|u| u.is_under(spec.key)) || dice.chance(10) {
            continue;
        }
        let value = match spec.key {
            "id" => id.into(),
            _ => value(spec.kind, dice),
        };
        put(&mut values, spec.key, value);
    }
    Record::with_unreadable(id, values, unreadable)
}

fn paging_report(dice: &mut Dice) -> PagingReport {
    match dice.below(5) {
        3 => PagingReport {
            unreadable: vec![(1, 2)],
            duplicates: 1,
            stopped: Some(Stop::Repeated { page: 2, kept: 3 }),
        },
        4 => PagingReport {
            stopped: Some(Stop::TooMany { kept: 4 }),
            ..PagingReport::default()
        },
        _ => PagingReport::default(),
    }
}

fn api_error(schema: &Schema, dice: &mut Dice) -> ApiError {
    let text = |s: &str| s.to_string();
    match dice.below(10) {
        0 => {
            let key = if dice.chance(30) {
                "nowhere"
            } else {
                dice.one(schema.fields).key
            };
            ApiError::Invalid {
                status: 422,
                message: text("Invalid"),
                fields: vec![(text(key), text("is wrong"))],
            }
        }
        1 => ApiError::Unauthorized {
            message: text("bad key"),
        },
        2 => ApiError::Forbidden {
            endpoint: text("/referrals"),
            message: text("no"),
        },
        3 => ApiError::NotFound {
            endpoint: text("/referrals/x"),
            message: text("gone"),
        },
        4 => ApiError::RateLimited {
            retry_after: dice.chance(50).then(|| std::time::Duration::from_secs(2)),
        },
        5 => ApiError::Server {
            status: 500,
            message: text("boom"),
        },
        6 => ApiError::Refused {
            status: 409,
            message: text("busy"),
        },
        7 => ApiError::Transport {
            endpoint: text("/referrals"),
            message: text("reset"),
            sent: dice.chance(50),
        },
        8 => ApiError::BrokenOff {
            endpoint: text("GET /referrals page 1"),
            url: text("/referrals"),
            message: text("eof"),
            status: 200,
        },
        _ => ApiError::Decode {
            endpoint: text("/referrals"),
            message: text("not json"),
            status: 200,
        },
    }
}

/// An outcome of every kind for a write to `ids`, with fresh copies of (most of) them.
fn outcome(schema: &Schema, ids: Vec<String>, pool: &[&str], dice: &mut Dice) -> Outcome {
    let fresh = |dice: &mut Dice| {
        let mut records = Vec::new();
        for id in &ids {
            if !dice.chance(10) {
                records.push(record(schema, id, dice));
            }
        }
        records
    };
    match dice.below(10) {
        0..=3 => Outcome::Applied {
            records: fresh(dice),
            note: dice
                .chance(20)
                .then(|| "re-read after the answer was lost".into()),
        },
        4 => {
            let (mut applied, mut failed, mut conflicted) = (vec![], vec![], vec![]);
            for id in &ids {
                [&mut applied, &mut failed, &mut conflicted][dice.below(3)].push(id.clone());
            }
            Outcome::Partly {
                records: fresh(dice),
                applied,
                failed,
                conflicted,
                message: "some were not changed".into(),
            }
        }
        5 => Outcome::Refused(api_error(schema, dice)),
        6 => {
            let id = ids
                .first()
                .cloned()
                .unwrap_or_else(|| dice.one(pool).into());
            let fields = (0..1 + dice.below(3))
                .map(|_| dice.one(schema.fields).key.to_string())
                .collect();
            Outcome::Conflict {
                theirs: record(schema, &id, dice),
                fields,
            }
        }
        7 => Outcome::Failed {
            message: "HTTP 500; nothing changed".into(),
        },
        _ => Outcome::Unknown {
            message: "the answer was lost".into(),
        },
    }
}

fn batch(mutation: &Mutation, dice: &mut Dice) -> Batch {
    let total = mutation.ids().len() as u64;
    Batch {
        id: Some(7),
        status: dice.one(&["pending", "in_progress", "completed"]).into(),
        total,
        processed_count: dice.below(total as usize + 1) as u64,
        failed_count: dice.below(2) as u64,
        progress: dice.below(101) as u64,
        processing_errors: Vec::new(),
    }
}

/// A draft kept from an earlier session, for any of the schema's fields (or one it lacks).
fn draft(state: &State, dice: &mut Dice) -> Draft {
    let mut fields = Map::new();
    for _ in 0..1 + dice.below(3) {
        let key = if dice.chance(10) {
            "gone"
        } else {
            dice.one(state.schema.fields).key
        };
        let text = dice.one(&["Ada", "verified", "nope@x.io", "{\"a\": 2}", "", "1002"]);
        fields.insert(key.to_string(), text.into());
    }
    let hours = dice.one(&[1, 30]);
    let saved_at = state.clock.now - jiff::SignedDuration::from_hours(hours);
    Draft { fields, saved_at }
}

/// Whether the state still holds together, given what the model knows.
fn check(state: &State, model: &Model) -> Result<(), String> {
    check_list(state)?;
    check_requests(state, model)?;
    check_form(state)?;
    check_overlay(state)?;
    check_bulk(state)?;
    check_triage(state)
}

/// Records, rows, the cursor and marks.
fn check_list(state: &State) -> Result<(), String> {
    let records = &state.records;
    let ids: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    if ids.len() != records.len() {
        return Err(format!("a referral is loaded twice: {ids:?}"));
    }
    let list = &state.list;
    if list
        .visible
        .windows(2)
        .any(|w| list.order.cmp(w[0], w[1]).is_ge())
        || list.visible.last().is_some_and(|i| *i >= records.len())
    {
        return Err(format!(
            "rows {:?} of {} records",
            list.visible,
            records.len()
        ));
    }
    if list.selected >= list.visible.len().max(1) {
        return Err(format!(
            "row {} selected of {}",
            list.selected,
            list.visible.len()
        ));
    }
    let on_screen = list.offset..list.offset + state.list_rows();
    if !list.visible.is_empty() && !on_screen.contains(&list.selected) {
        return Err(format!(
            "row {} selected, rows {on_screen:?} shown",
            list.selected
        ));
    }
    // While a load pages in, marked referrals may still be on their way.
    if !state.loading()
        && let Some(stray) = state.marked.iter().find(|id| !ids.contains(id.as_str()))
    {
        return Err(format!("{stray} is marked but not loaded"));
    }
    Ok(())
}

/// Writes in flight against the journal, and what the state waits for against what was asked.
fn check_requests(state: &State, model: &Model) -> Result<(), String> {
    for (req, flight) in &state.writes.in_flight {
        match model.journal.get(req) {
            None => return Err(format!("write {req:?} in flight was never sent")),
            Some(_) if model.answered.contains(req) => {
                return Err(format!("write {req:?} in flight after its answer"));
            }
            Some(sent) if *sent != flight.mutation => {
                return Err(format!("write {req:?} in flight is not what was sent"));
            }
            Some(_) => {}
        }
    }
    let waiting = state.pending.keys().chain(state.draft_io.keys());
    for req in waiting {
        if !model.asked.contains_key(req) || model.answered.contains(req) {
            return Err(format!("waiting for {req:?}, which will never answer"));
        }
    }
    if let LoadState::Loading { req, .. } = state.load
        && !state.pending.contains_key(&req)
    {
        return Err(format!("loading {req:?}, which is not pending"));
    }
    if !state.loading() && !state.held_notes.is_empty() {
        return Err(format!("notes still held: {:?}", state.held_notes));
    }
    if state.quit_when_idle && state.should_quit && state.writes.count() > 0 {
        return Err("quit with writes in flight after `w`".into());
    }
    Ok(())
}

fn check_form(state: &State) -> Result<(), String> {
    let Some(form) = &state.form else {
        return Ok(());
    };
    if form.focus >= form.fields.len() {
        return Err(format!(
            "form focus {} of {}",
            form.focus,
            form.fields.len()
        ));
    }
    if let Some(req) = form.saving
        && state.writes.in_flight.get(&req).map(|f| f.origin) != Some(Origin::Form)
    {
        return Err(format!(
            "the form waits for {req:?}, not a form write in flight"
        ));
    }
    Ok(())
}

/// Verification sessions, open or left: in range, and each decision being written has its write
/// in flight (the summary waits for it).
fn check_triage(state: &State) -> Result<(), String> {
    for triage in [&state.triage, &state.triage_past].into_iter().flatten() {
        if triage.position > triage.queue.len() {
            return Err(format!(
                "triage at {} of {}",
                triage.position,
                triage.queue.len()
            ));
        }
        let sending = triage
            .decisions
            .iter()
            .filter(|d| d.written == Written::Sending);
        for decision in sending {
            let id = &decision.id;
            let written = state
                .writes
                .in_flight
                .values()
                .any(|f| f.origin == Origin::Triage && f.mutation.ids().contains(id));
            if !written {
                return Err(format!("triage waits for a write of {id} never in flight"));
            }
        }
    }
    Ok(())
}

/// An overlay that acts on the form has one; a picker's and the journal's cursor are in range.
fn check_overlay(state: &State) -> Result<(), String> {
    let Some(overlay) = &state.overlay else {
        return Ok(());
    };
    let on_form = matches!(
        overlay,
        Overlay::Review { .. }
            | Overlay::Conflict { .. }
            | Overlay::MoveReview { .. }
            | Overlay::Picker { .. }
            | Overlay::Confirm(Question::DiscardForm | Question::RestoreDraft)
    );
    if on_form && state.form.is_none() {
        return Err(format!("{overlay:?} is open without a form"));
    }
    match overlay {
        Overlay::Picker {
            kind,
            query,
            selected,
            ..
        } => {
            let count = picker::options(state, *kind, &query.text()).len();
            if *selected >= count.max(1) {
                return Err(format!("picker on {selected} of {count}"));
            }
        }
        Overlay::Journal {
            entries,
            resendable,
            selected,
        } if *selected >= entries.len().max(1) || resendable.len() != entries.len() => {
            return Err(format!("journal on {selected} of {}", entries.len()));
        }
        Overlay::BulkErrors { selected } => {
            let count = crate::app::bulk_errors::listed(state).len();
            if *selected >= count {
                return Err(format!("the failed rows on {selected} of {count}"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// The last bulk change's counts agree with the writes in flight.
fn check_bulk(state: &State) -> Result<(), String> {
    let Some(bulk) = &state.bulk else {
        return Ok(());
    };
    let flying: Vec<&Mutation> = state
        .writes
        .in_flight
        .values()
        .filter(|f| matches!(f.origin, Origin::Bulk | Origin::BulkUndo))
        .map(|f| &f.mutation)
        .collect();
    let rows = |wanted: fn(&RowResult) -> bool| bulk.rows.values().filter(|r| wanted(r)).count();
    let sending = rows(|r| *r == RowResult::Sending);
    let queued = rows(|r| *r == RowResult::Queued);
    let ids_flying: usize = flying.iter().map(|m| m.ids().len()).sum();
    let problem = if bulk.in_flight != flying.len() {
        format!(
            "bulk counts {} in flight, {} are",
            bulk.in_flight,
            flying.len()
        )
    } else if bulk.in_flight > state.session.concurrency.max(1) {
        format!("{} bulk writes in flight at once", bulk.in_flight)
    } else if sending != ids_flying || queued != bulk.queued() {
        format!(
            "bulk rows: {sending} sending, {queued} queued; {ids_flying} in flight, {} queued",
            bulk.queued()
        )
    } else if bulk.is_running() && flying.is_empty() && bulk.queue.is_empty() {
        "a bulk change runs with nothing in flight or queued".to_string()
    } else {
        return Ok(());
    };
    Err(problem)
}

/// One run: the console starts as the runner starts it, then takes `steps`, until it quits.
fn run(backend: Backend, profile: Profile, steps: Vec<Step>) -> Result<(), TestCaseError> {
    let mut state = State::sample();
    state.schema = backend.schema;
    state.session.backend = backend.schema.backend;
    state.session.admin_id = profile.admin.then(|| "admin_1".into());
    state.session.concurrency = profile.concurrency;
    if profile.replace_metadata {
        state.session.metadata_mode = MetadataMode::Replace;
    }
    let mut model = Model::new(backend);
    let (width, height) = profile.size;
    let mut size = profile.size;
    let mut result = model.dispatch(&mut state, Action::Resize { width, height });
    if result.is_ok() {
        let effects = update::start(&mut state, backend.lookups);
        result = model.take(effects);
    }
    if let (Ok(()), Some(bytes)) = (&result, &profile.loaded) {
        let page = model.everything(&state, &mut Dice(bytes.iter()));
        result = model.dispatch(&mut state, page);
    }
    for step in steps {
        if result.is_err() || state.should_quit {
            break;
        }
        result = match step {
            Step::Key(Press(key)) => match map_key(&state, key) {
                Some(action) => model.dispatch(&mut state, action),
                None => Ok(()),
            },
            Step::Type(text) => text
                .chars()
                .try_for_each(|c| match map_key(&state, typed(c)) {
                    Some(action) => model.dispatch(&mut state, action),
                    None => Ok(()),
                }),
            Step::Tick(millis) => {
                state.clock.now += jiff::SignedDuration::from_millis(millis.into());
                model.dispatch(&mut state, Action::Tick)
            }
            Step::Resize(width, height) => {
                size = (width, height);
                model.dispatch(&mut state, Action::Resize { width, height })
            }
            Step::Mouse(Mouse(event)) => {
                draw(&mut state, size);
                match super::mouse::map_mouse(&state, event) {
                    Some(action) => model.dispatch(&mut state, action),
                    None => Ok(()),
                }
            }
            Step::Answer(bytes) => {
                let mut dice = Dice(bytes.iter());
                match model.target(&mut dice) {
                    Some((req, effect)) => {
                        let answer = model.reply(&state, req, &effect, &mut dice);
                        model.dispatch(&mut state, answer)
                    }
                    None => Ok(()),
                }
            }
        };
    }
    result.map_err(|problem| {
        let trace = model.trace.iter().map(|action| {
            let line = format!("{action:?}");
            line.chars().take(300).collect::<String>()
        });
        let trace: Vec<String> = trace.collect();
        TestCaseError::fail(format!("{problem}\nafter:\n{}", trace.join("\n")))
    })
}

/// The seed `cargo test` runs from unless `PROPTEST_RNG_SEED` names another.
const SEED: u64 = 20261122;

/// proptest's settings from the environment, with the fixed seed when none is given.
fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(SEED);
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_v1_console_holds_together(
        profile in profile(),
        steps in proptest::collection::vec(step(), 1..500),
    ) {
        run(V1, profile, steps)?;
    }

    #[test]
    fn the_v2_console_holds_together(
        profile in profile(),
        steps in proptest::collection::vec(step(), 1..500),
    ) {
        run(V2, profile, steps)?;
    }
}
