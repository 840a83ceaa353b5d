//! The app loop: input and answers from background work become Actions, `update` applies them, the
//! Effects it returns run as tokio tasks, and the screen is drawn once per batch. Generic over the
//! terminal backend and the input stream so tests drive the real loop on a `TestBackend`.

use std::io;
use std::time::Duration;

use crossterm::event::{Event, KeyEvent};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::api::{ApiError, Client, Page};
use crate::app::keymap::map_key;
use crate::app::{Action, Effect, State, update};
use crate::domain::Clock;

/// How long to wait between polls of a running batch.
const BATCH_POLL_INTERVAL: Duration = Duration::from_millis(400);

pub struct App<B: Backend> {
    pub state: State,
    pub terminal: Terminal<B>,
    client: Client,
    tx: mpsc::UnboundedSender<Action>,
    rx: mpsc::UnboundedReceiver<Action>,
    /// The zone the clock is read in; the wall time is taken afresh before each action.
    clock_zone: jiff::tz::TimeZone,
    /// Tests freeze the clock so snapshots are stable.
    frozen_clock: bool,
}

impl<B: Backend> App<B> {
    pub fn new(state: State, terminal: Terminal<B>, client: Client) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let clock_zone = state.clock.tz.clone();
        App {
            state,
            terminal,
            client,
            tx,
            rx,
            clock_zone,
            frozen_clock: false,
        }
    }

    /// Keeps the clock at what the state says, for tests.
    pub fn freeze_clock(&mut self) {
        self.frozen_clock = true;
    }

    /// Starts the first loads.
    pub fn start(&mut self) {
        let size = self.terminal.size().unwrap_or_default();
        self.dispatch(Action::Resize {
            width: size.width,
            height: size.height,
        });
        let effects = crate::app::update::start(&mut self.state, self.client.lookup_kinds());
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

    pub fn press(&mut self, key: KeyEvent) {
        if let Some(action) = map_key(&self.state, key) {
            self.dispatch(action);
        }
    }

    pub fn draw(&mut self) -> io::Result<()> {
        let state = &self.state;
        self.terminal
            .draw(|frame| crate::ui::render(state, frame))
            .map(|_| ())
            .map_err(|e| io::Error::other(e.to_string()))
    }

    /// Applies every answer already queued, without waiting.
    pub fn drain(&mut self) {
        while let Ok(action) = self.rx.try_recv() {
            self.dispatch(action);
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

    /// Waits until no request is in flight (or `limit` passes), applying answers as they come.
    pub async fn settle(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.state.pending.is_empty() {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(action)) => self.dispatch(action),
                _ => return false,
            }
        }
        true
    }

    /// The interactive loop; returns when the user quits.
    pub async fn run_loop<S>(&mut self, mut events: S) -> io::Result<()>
    where
        S: Stream<Item = io::Result<Event>> + Unpin,
    {
        self.start();
        self.draw()?;
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        while !self.state.should_quit {
            tokio::select! {
                biased;
                Some(action) = self.rx.recv() => {
                    self.dispatch(action);
                    self.drain();
                }
                event = events.next() => match event {
                    Some(Ok(Event::Key(key))) => self.press(key),
                    Some(Ok(Event::Resize(width, height))) => self.dispatch(Action::Resize { width, height }),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e),
                    None => break,
                },
                _ = tick.tick(), if !self.state.pending.is_empty() => {}
            }
            self.draw()?;
        }
        Ok(())
    }

    fn run(&self, effect: Effect) {
        let client = self.client.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move { perform(client, effect, tx).await });
    }
}

/// Does one Effect's I/O and answers with Actions. A closed channel means the app is gone.
async fn perform(client: Client, effect: Effect, tx: mpsc::UnboundedSender<Action>) {
    match effect {
        Effect::LoadReferrals { req } => {
            let result = page_through(
                |i| client.referrals_page(i),
                |records, last| {
                    tx.send(Action::ReferralsPage { req, records, last })
                        .is_ok()
                },
            )
            .await;
            if let Err(error) = result {
                tracing::warn!(%error, "loading referrals failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::LoadLookup { req, kind } => {
            let result = page_through(
                |i| client.lookup_page(kind, i),
                |entries, last| tx.send(Action::LookupPage { req, entries, last }).is_ok(),
            )
            .await;
            if let Err(error) = result {
                tracing::warn!(%error, ?kind, "loading names failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::StartBatch {
            req,
            action,
            ids,
            reason,
        } => {
            if let Some(reason) = reason {
                // FirstPromoter v2 has nowhere to store a reason: the local log keeps it.
                tracing::info!(target: "referee::decisions", ?ids, action = action.path(), %reason, "reason");
            }
            let result = client.start_batch(action, &ids).await;
            let _ = tx.send(Action::BatchProgress { req, result });
        }
        Effect::PollBatch { req, batch } => {
            tokio::time::sleep(BATCH_POLL_INTERVAL).await;
            let result = client.batch(batch).await;
            let _ = tx.send(Action::BatchProgress { req, result });
        }
        Effect::Refresh { req, ids } => {
            let result = client.refresh(&ids).await;
            let _ = tx.send(Action::Refreshed { req, result });
        }
        Effect::Find { req, by, value } => {
            let result = client.find(&by, &value).await;
            let _ = tx.send(Action::Found { req, result });
        }
        Effect::Update { req, id, body } => {
            tracing::info!(%id, body = %serde_json::Value::Object(body.clone()), "PUT");
            let result = client.update(&id, &body).await;
            if let Err(error) = &result {
                tracing::warn!(%id, %error, "update failed");
            }
            let _ = tx.send(Action::Saved { req, result });
        }
    }
}

/// Fetches pages from 0 until the last, handing each to `deliver`; stops early if it says so.
async fn page_through<T, F, Fut>(
    fetch: F,
    mut deliver: impl FnMut(Vec<T>, bool) -> bool,
) -> Result<(), ApiError>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Page<T>>,
{
    let mut index = 0;
    loop {
        let (items, last) = fetch(index).await?;
        if !deliver(items, last) || last {
            return Ok(());
        }
        index += 1;
    }
}
