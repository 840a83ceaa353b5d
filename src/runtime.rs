//! The app loop: input and answers from background work become Actions, `update` applies them, the
//! Effects it returns run as tokio tasks, and the screen is drawn once per batch. Generic over the
//! terminal backend and the input stream so tests drive the real loop on a `TestBackend`.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyEvent, MouseEvent};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

pub mod editor;
pub mod host;

use crate::api::Client;
use crate::app::keymap::{map_key, map_paste};
use crate::app::mouse::map_mouse;
use crate::app::{Action, Effect, RequestId, State, update};
use crate::domain::Clock;
use crate::effects::{Context, Writer, perform};
use crate::store::journal::Journal;

/// How often the screen is drawn afresh when nothing happens, so what it says with the time
/// ("loaded 3 min ago") keeps up.
const IDLE_TICK: Duration = Duration::from_secs(15);

/// How long one turn of the loop may spend applying queued answers before it draws and reads keys.
const ANSWERS_PER_FRAME: Duration = Duration::from_millis(16);

/// A write that answered, as a headless command reports it: what was sent, what became of it.
#[derive(Debug, Clone)]
pub struct Answered {
    pub mutation: crate::domain::mutation::Mutation,
    pub outcome: crate::domain::mutation::Outcome,
}

pub struct App<B: Backend> {
    pub state: State,
    pub terminal: Terminal<B>,
    context: Arc<Context>,
    tx: mpsc::UnboundedSender<Action>,
    rx: mpsc::UnboundedReceiver<Action>,
    /// The zone the clock is read in; the wall time is taken afresh before each action.
    clock_zone: jiff::tz::TimeZone,
    /// Tests freeze the clock so snapshots are stable.
    frozen_clock: bool,
    /// The queue of draft effects and the one worker that performs them in order (started on
    /// the first draft effect).
    drafts: Option<(mpsc::UnboundedSender<Effect>, tokio::task::JoinHandle<()>)>,
    /// The tasks loading referrals, by the request they answer, so `Effect::StopLoad` can end one
    /// (finished ones are dropped when the next load starts).
    loads: HashMap<RequestId, tokio::task::AbortHandle>,
    /// The terminal's clipboard and the hand-over to an editor (`host::Tty` in the console).
    host: Box<dyn host::Host>,
}

impl<B: Backend> App<B> {
    /// An app whose writes are journaled in `journal`.
    pub fn new(state: State, terminal: Terminal<B>, client: Client, journal: Arc<Journal>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let clock_zone = state.clock.tz.clone();
        let session = &state.session;
        let context = Arc::new(Context {
            client,
            schema: state.schema,
            mode: session.metadata_mode,
            writer: Writer {
                profile: session.profile.clone(),
                backend: session.backend.to_string(),
                admin_id: session.admin_id.clone(),
            },
            journal,
            batch_wait: crate::effects::BATCH_POLL_LIMIT,
            unrecorded: Default::default(),
            run: format!(
                "{}.{}",
                jiff::Timestamp::now().as_millisecond(),
                std::process::id()
            ),
        });
        App {
            state,
            terminal,
            context,
            tx,
            rx,
            clock_zone,
            frozen_clock: false,
            drafts: None,
            loads: HashMap::new(),
            host: Box::new(host::Offscreen::default()),
        }
    }

    /// Copies and editor runs go to `host` (the console's real terminal).
    pub fn set_host(&mut self, host: Box<dyn host::Host>) {
        self.host = host;
    }

    /// Keeps the clock at what the state says, for tests.
    pub fn freeze_clock(&mut self) {
        self.frozen_clock = true;
    }

    /// Follows backend batch actions for `wait` instead of the usual two minutes (tests).
    pub fn set_batch_wait(&mut self, wait: Duration) {
        if let Some(context) = Arc::get_mut(&mut self.context) {
            context.batch_wait = wait;
        }
    }

    /// Starts the first loads.
    pub fn start(&mut self) {
        let size = self.terminal.size().unwrap_or_default();
        self.dispatch(Action::Resize {
            width: size.width,
            height: size.height,
        });
        let effects =
            crate::app::update::start(&mut self.state, self.context.client.lookup_kinds());
        effects.into_iter().for_each(|e| self.run(e));
    }

    pub fn dispatch(&mut self, action: Action) {
        if !self.frozen_clock {
            self.state.clock = Clock {
                now: jiff::Timestamp::now(),
                tz: self.clock_zone.clone(),
            };
        }
        for effect in update(&mut self.state, action) {
            self.run(effect);
        }
    }

    /// Runs a flow of the console on the state, as `update` would for an action, and starts the
    /// effects it asks for (the headless commands start a bulk or an undo this way).
    pub fn act(&mut self, flow: impl FnOnce(&mut State) -> Vec<Effect>) {
        if !self.frozen_clock {
            self.state.clock = Clock {
                now: jiff::Timestamp::now(),
                tz: self.clock_zone.clone(),
            };
        }
        for effect in flow(&mut self.state) {
            self.run(effect);
        }
    }

    pub fn press(&mut self, key: KeyEvent) {
        if let Some(action) = map_key(&self.state, key) {
            self.dispatch(action);
        }
    }

    /// A bracketed paste, as one edit of whatever takes text.
    pub fn paste(&mut self, text: String) {
        if let Some(action) = map_paste(&self.state, text) {
            self.dispatch(action);
        }
    }

    /// A mouse event, as the keymap's mouse side (`app::mouse`) reads it against the last frame.
    /// A mouse event; true when it did something (the pointer only moving does nothing, and is
    /// not worth a frame).
    pub fn mouse(&mut self, event: MouseEvent) -> bool {
        let Some(action) = map_mouse(&self.state, event) else {
            return false;
        };
        self.dispatch(action);
        true
    }

    /// Draws the screen and keeps where it put what the mouse can click.
    pub fn draw(&mut self) -> io::Result<()> {
        let state = &self.state;
        let mut screen = None;
        self.terminal
            .draw(|frame| screen = Some(crate::ui::render(state, frame)))
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.state.screen = screen.unwrap_or_default();
        Ok(())
    }

    /// Applies every answer already queued, without waiting.
    pub fn drain(&mut self) {
        while let Ok(action) = self.rx.try_recv() {
            self.dispatch(action);
        }
    }

    /// Applies queued answers for at most `budget`, so a flood of them never holds back the next
    /// key or frame.
    fn drain_for(&mut self, budget: Duration) {
        let until = std::time::Instant::now() + budget;
        while std::time::Instant::now() < until {
            match self.rx.try_recv() {
                Ok(action) => self.dispatch(action),
                Err(_) => return,
            }
        }
    }

    /// Waits for the next answer from background work (or `limit`) and applies it.
    pub async fn step(&mut self, limit: Duration) -> bool {
        match tokio::time::timeout(limit, self.rx.recv()).await {
            Ok(Some(action)) => {
                self.dispatch(action);
                true
            }
            _ => false,
        }
    }

    /// What the HTTP core is waiting for, to pass to `next_answer`.
    pub fn net_status(&self) -> tokio::sync::watch::Receiver<crate::api::NetStatus> {
        self.context.client.net_status()
    }

    /// Waits for the next answer from background work, or for a change in what the HTTP core
    /// waits for (which opens or narrows a bulk's window), and applies it: the headless commands'
    /// loop. Returns the write it settled, if it settled one, for the command to report.
    /// Cancel-safe: nothing is lost when another branch of a `select!` wins.
    pub async fn next_answer(
        &mut self,
        net: &mut tokio::sync::watch::Receiver<crate::api::NetStatus>,
    ) -> Option<Answered> {
        tokio::select! {
            biased;
            Some(action) = self.rx.recv() => {
                let answered = match &action {
                    Action::Written { req, outcome } => {
                        self.state.writes.in_flight.get(req).map(|flight| Answered {
                            mutation: flight.mutation.clone(),
                            outcome: outcome.clone(),
                        })
                    }
                    _ => None,
                };
                self.dispatch(action);
                answered
            }
            Ok(()) = net.changed() => {
                let status = net.borrow_and_update().clone();
                self.dispatch(Action::Net(status));
                None
            }
        }
    }

    /// Waits until no request (draft reads and writes included) is in flight (or `limit` passes),
    /// applying answers as they come.
    pub async fn settle(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.state.busy() || !self.state.draft_io.is_empty() {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(action)) => self.dispatch(action),
                _ => return false,
            }
        }
        true
    }

    /// The interactive loop; returns when the user quits.
    pub async fn run_loop<S>(&mut self, events: S) -> io::Result<()>
    where
        S: Stream<Item = io::Result<Event>> + Unpin,
    {
        self.run_until(events, |state| state.should_quit).await
    }

    /// The interactive loop until `done` says so of the state (checked before each turn) or the
    /// events end; `--exit-after-load` stops it when everything is loaded.
    pub async fn run_until<S>(&mut self, mut events: S, done: fn(&State) -> bool) -> io::Result<()>
    where
        S: Stream<Item = io::Result<Event>> + Unpin,
    {
        // Watched before anything is sent: a request that goes out at the start (the first page)
        // and then hangs changes nothing later, so its "no answer for N s" must not be missed.
        let mut net = self.context.client.net_status();
        net.mark_changed();
        self.start();
        self.draw()?;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        let mut idle_tick = tokio::time::interval(IDLE_TICK);
        idle_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Background news (answers, the HTTP core's status) is drawn at most once a frame: a load
        // changes the network status three times a request, and a frame of 100,000 rows is not
        // free. A key, or a click or wheel turn, is drawn at once.
        let mut drawn_at = tokio::time::Instant::now();
        let mut undrawn = false;
        while !done(&self.state) {
            let mut pressed = false;
            let expiry = self.until_expiry();
            tokio::select! {
                // Keys first: however fast answers arrive, a key waits at most one turn.
                biased;
                event = events.next() => {
                    pressed = true;
                    match event {
                        Some(Ok(Event::Key(key))) => self.press(key),
                        Some(Ok(Event::Paste(text))) => self.paste(text),
                        Some(Ok(Event::Mouse(mouse))) => pressed = self.mouse(mouse),
                        Some(Ok(Event::Resize(width, height))) => self.dispatch(Action::Resize { width, height }),
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(e),
                        None => break,
                    }
                },
                Some(action) = self.rx.recv() => {
                    self.dispatch(action);
                    self.drain_for(ANSWERS_PER_FRAME);
                }
                Ok(()) = net.changed() => {
                    let status = net.borrow_and_update().clone();
                    self.dispatch(Action::Net(status));
                }
                _ = tick.tick(), if self.state.busy() || crate::app::drafts::unsaved(&self.state) => {
                    self.dispatch(Action::Tick)
                }
                _ = tokio::time::sleep(expiry.unwrap_or_default()), if expiry.is_some() => {
                    self.dispatch(Action::Tick)
                }
                _ = idle_tick.tick() => self.dispatch(Action::Tick),
                _ = tokio::time::sleep_until(drawn_at + ANSWERS_PER_FRAME), if undrawn => {}
            }
            let now = tokio::time::Instant::now();
            if pressed || now >= drawn_at + ANSWERS_PER_FRAME {
                self.draw()?;
                (drawn_at, undrawn) = (now, false);
            } else {
                undrawn = true;
            }
        }
        self.finish_drafts(Duration::from_secs(2)).await;
        Ok(())
    }

    /// How long until a finished bulk's marks are due to clear (`app::bulk_errors`), so the loop
    /// wakes for it even when nothing else happens; None with a frozen clock, which never gets
    /// there.
    fn until_expiry(&self) -> Option<Duration> {
        if self.frozen_clock {
            return None;
        }
        let at = crate::app::bulk_errors::expires_at(&self.state)?;
        let left = jiff::Timestamp::now().duration_until(at);
        Some(Duration::try_from(left).unwrap_or_default())
    }

    /// Saves what the form holds as a draft at once (quitting skips the debounce) and waits (at
    /// most `limit`) for it: a signal ends the console without the loop's own goodbye.
    pub async fn keep_drafts(&mut self, limit: Duration) {
        self.state.should_quit = true;
        self.dispatch(Action::Tick);
        self.finish_drafts(limit).await;
    }

    /// Waits (at most `limit`) for the draft saves already asked for, so quitting keeps them.
    pub async fn finish_drafts(&mut self, limit: Duration) {
        if let Some((queue, worker)) = self.drafts.take() {
            drop(queue);
            let _ = tokio::time::timeout(limit, worker).await;
        }
    }

    fn run(&mut self, effect: Effect) {
        let load = match effect {
            Effect::StopLoad { req } => {
                // Its request is dropped where it stands; its answers still queued are stale.
                if let Some(task) = self.loads.remove(&req) {
                    task.abort();
                }
                return;
            }
            Effect::LoadReferrals { req } => Some(req),
            Effect::Copy { text } => {
                if let Err(e) = self.host.copy(&text) {
                    let why = format!("Could not write to the clipboard: {e}");
                    let _ = self.tx.send(Action::TerminalFailed(why));
                }
                return;
            }
            Effect::OpenEditor { id, field, text } => {
                // The loop waits while the editor has the terminal; then everything is redrawn.
                let result = self.host.edit(&text);
                // Not `clear`: it asks the terminal where the cursor is, which can time out here.
                let redrawn = self.terminal.size().and_then(|size| {
                    self.terminal
                        .resize(ratatui::layout::Rect::from((Default::default(), size)))
                });
                if let Err(e) = redrawn {
                    tracing::warn!(%e, "could not clear the screen after the editor");
                }
                let _ = self.tx.send(Action::Edited { id, field, result });
                return;
            }
            _ => None,
        };
        let context = self.context.clone();
        let tx = self.tx.clone();
        if effect.is_draft() {
            // One worker, in order: a save never lands after the discard that followed it.
            let (queue, _) = self.drafts.get_or_insert_with(|| {
                let (queue, mut jobs) = mpsc::unbounded_channel::<Effect>();
                let worker = tokio::spawn(async move {
                    while let Some(effect) = jobs.recv().await {
                        perform(&context, effect, tx.clone()).await;
                    }
                });
                (queue, worker)
            });
            let _ = queue.send(effect);
            return;
        }
        let task = tokio::spawn(async move { perform(&context, effect, tx).await });
        if let Some(req) = load {
            self.loads.retain(|_, task| !task.is_finished());
            self.loads.insert(req, task.abort_handle());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{BackendKind, Connection};
    use crossterm::event::{KeyCode, KeyModifiers};
    use ratatui::backend::TestBackend;

    /// An app on v1 at an address nothing listens on (its loads fail at once).
    fn app() -> App<TestBackend> {
        app_with(Arc::new(Journal::in_memory()))
    }

    /// The same, writing its journal and drafts to `journal`.
    fn app_with(journal: Arc<Journal>) -> App<TestBackend> {
        let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/api/v1", unused.local_addr().unwrap());
        drop(unused);
        let key = secrecy::SecretString::from("k".to_string());
        let client = Client::connect(Connection {
            backend: BackendKind::Vantio,
            base_url: &base,
            api_key: &key,
            account_id: None,
        })
        .unwrap();
        let terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        App::new(State::sample(), terminal, client, journal)
    }

    #[tokio::test]
    async fn a_signal_keeps_what_the_form_holds_as_a_draft() {
        let journal = Arc::new(Journal::in_memory());
        let mut app = app_with(journal.clone());
        let ada = serde_json::json!({"first_name": "Ada", "last_name": "L", "email": "a@x.io"});
        let record = crate::domain::Record::new("ref_1", ada.as_object().unwrap().clone());
        app.state.append_records(vec![record]);
        app.press(KeyEvent::new(KeyCode::Char('e'), KeyModifiers::NONE));
        // The draft read that opening the form asks for answers first: nothing kept yet.
        assert!(app.step(Duration::from_secs(5)).await);
        // The first key is saved at once; the second, typed within the debounce, is held back.
        app.freeze_clock();
        for c in ['x', 'y'] {
            app.press(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        app.keep_drafts(Duration::from_secs(5)).await;
        let draft = journal
            .draft("test", "ref_1")
            .unwrap()
            .expect("a draft is kept");
        assert_eq!(draft.fields["first_name"], "Adaxy", "the last key too");
    }

    /// The runner's side of `y i` and Ctrl-e: the host gets the id, and the fake editor's text
    /// comes back into the metadata field, checked.
    #[tokio::test]
    async fn copies_reach_the_host_and_the_editor_text_reaches_the_field() {
        let mut app = app();
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("ed");
        std::fs::write(&script, "printf '{\"b\": ' > \"$1\"\n").unwrap();
        let host = host::Offscreen {
            editor: Some(format!("sh {}", script.display())),
            ..Default::default()
        };
        let copied = host.copied.clone();
        app.set_host(Box::new(host));
        let fields = serde_json::json!({"email": "a@x.io", "metadata": {"a": 1}});
        let record = crate::domain::Record::new("ref_1", fields.as_object().unwrap().clone());
        app.state.append_records(vec![record]);
        let key = |c, m| KeyEvent::new(KeyCode::Char(c), m);
        app.press(key('y', KeyModifiers::NONE));
        app.press(key('i', KeyModifiers::NONE));
        assert_eq!(*copied.lock().unwrap(), ["ref_1"]);
        app.press(key('e', KeyModifiers::NONE));
        let form = app.state.form.as_mut().unwrap();
        form.focus = form
            .fields
            .iter()
            .position(|f| f.spec.key == "metadata")
            .unwrap();
        app.press(key('e', KeyModifiers::CONTROL));
        // The draft read asked for when the form opened answers too; wait for the editor's text.
        while app.step(Duration::from_secs(5)).await {
            let form = app.state.form.as_ref().unwrap();
            let field = &form.fields[form.focus];
            if field.text() == "{\"b\": " {
                assert!(field.error.is_some(), "checked like typing it");
                return;
            }
        }
        panic!("the edited text never arrived");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_are_read_while_answers_never_stop_coming() {
        let mut app = app();
        // Background work that answers without pause, for ever.
        let flood = app.tx.clone();
        let flooding = tokio::spawn(async move {
            while (0..100).all(|_| flood.send(Action::Tick).is_ok()) {
                tokio::task::yield_now().await;
            }
        });
        let keys = [KeyCode::Char('q'), KeyCode::Char('y')]
            .map(|code| Ok(Event::Key(KeyEvent::new(code, KeyModifiers::NONE))));
        // Once the keys are read, the stream stays open (a terminal does not end).
        let events = futures::stream::iter(keys).chain(futures::stream::pending());
        let ran = tokio::time::timeout(Duration::from_secs(20), app.run_loop(events)).await;
        flooding.abort();
        assert!(ran.is_ok(), "q y was never read while answers kept coming");
        assert!(app.state.should_quit);
    }
}
