//! The headless commands (`referee list`, `get`, `update`, `bulk`, `undo`): scripts reach the API
//! through the same client, validation, conflict guard, pacing and journal as the console. JSON
//! goes to stdout, human messages to stderr, and the exit status says how it went (`Exit`).
//!
//! The writing commands do not have rules of their own: they drive the console itself off screen
//! (`Driver`: the real `State`, `update`, effects runner and journal on a `TestBackend`), putting
//! a script's change into the console's form, plan or undo stack and sending it the way a key
//! would. So a script can never send what the console would refuse, and its writes are journaled
//! like the console's (`referee audit`, the console's `:journal`).
//!
//! `read` has `list` and `get`, `output` their formats, `docs` the completions and man page.

pub mod docs;
pub mod output;
pub mod read;

pub mod bulk;
pub mod change;
pub mod undo;
pub mod update;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use ratatui::backend::TestBackend;
use serde_json::Value;
use tokio::sync::watch;

use crate::api::{ApiError, Client, NetStatus};
use crate::app::{Action, Effect, State};
use crate::config::Profile;
use crate::domain::mutation::Outcome;
use crate::runtime::{Answered, App};
use crate::store::journal::Journal;

/// How a headless command ended, as its exit status. Documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything was applied or was already so (or, for reads, was printed).
    Done,
    /// 1: some writes failed or met a conflict; each is named on stdout.
    SomeFailed,
    /// 2: bad input or configuration: nothing was sent.
    BadInput,
    /// 3: the server could not be reached or refused the key.
    Unreachable,
    /// 130: stopped by Ctrl-c; the writes in flight were waited for and reported.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::SomeFailed => 1,
            Exit::BadInput => 2,
            Exit::Unreachable => 3,
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

/// Why a command stopped before it was done, and with which status.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    /// Bad input or configuration: nothing was sent (exit 2).
    pub fn bad(message: impl Into<String>) -> Failure {
        Failure {
            exit: Exit::BadInput,
            message: message.into(),
        }
    }

    /// A read that failed before anything was written: 3 when the server could not be reached or
    /// refused the key, 2 when the referral does not exist, else 1.
    pub fn reading(what: &str, error: &ApiError) -> Failure {
        let exit = match error {
            ApiError::NotFound { .. } => Exit::BadInput,
            other => read::exit_for(other),
        };
        Failure {
            exit,
            message: format!("reading {what}: {}; nothing was sent", read::said(error)),
        }
    }

    /// Whether reading failed because the server could not be reached or refused the key.
    pub fn unreachable(error: &ApiError) -> bool {
        read::exit_for(error) == Exit::Unreachable
    }
}

/// Says a failure on stderr (what a server said in it made safe to print) and gives its status.
pub fn finish(result: Result<Exit, Failure>) -> ExitCode {
    match result {
        Ok(exit) => exit.into(),
        Err(failure) => {
            crate::cli::say(&format!("referee: {}", shown(&failure.message)));
            failure.exit.into()
        }
    }
}

/// One referral's part in a write's outcome, as the NDJSON outcome word and its error.
pub fn outcome_words(outcome: &Outcome, id: &str) -> (&'static str, Option<String>) {
    let conflict =
        || Some("changed by someone else since it was read; nothing was sent to it".to_string());
    match outcome {
        Outcome::Applied { .. } => ("applied", None),
        Outcome::Partly { applied, .. } if applied.iter().any(|a| a == id) => ("applied", None),
        Outcome::Partly { conflicted, .. } if conflicted.iter().any(|c| c == id) => {
            ("conflict", conflict())
        }
        Outcome::Partly { message, .. } => ("failed", Some(message.clone())),
        Outcome::Refused(error) => ("failed", Some(error.user_message())),
        Outcome::Conflict { .. } => ("conflict", conflict()),
        Outcome::Failed { message } => ("failed", Some(message.clone())),
        Outcome::Unknown { message } => ("unknown", Some(message.clone())),
    }
}

/// A read-only profile refuses every write before anything is read or sent.
pub fn refuse_read_only(profile: &Profile, command: &str) -> Result<(), Failure> {
    if profile.read_only {
        return Err(Failure::bad(format!(
            "read-only profile `{}`: {command} refused, nothing was sent (read_only in the profile, \
             REFEREE_READ_ONLY or --read-only)",
            profile.name
        )));
    }
    Ok(())
}

/// One line of JSON on stdout, with what a server sent made safe for a terminal. A reader that
/// stopped reading is not a failure.
pub fn print_json(value: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(crate::export::json_line(value).as_bytes());
    let _ = out.flush();
}

/// What `--dry-run` prints for one write: its body, or the backend action and its body, one NDJSON
/// line per referral.
pub fn print_dry_run(mutation: &crate::domain::mutation::Mutation) {
    use crate::domain::mutation::Mutation;
    match mutation {
        Mutation::Fields(write) => print_json(&serde_json::json!({
            "id": write.id, "outcome": "dry-run", "error": null, "body": write.changes.body,
        })),
        Mutation::Action(action) => {
            for id in &action.ids {
                print_json(&serde_json::json!({
                    "id": id, "outcome": "dry-run", "error": null,
                    "action": action.action.path(), "body": action.action.body(&action.ids),
                }));
            }
        }
    }
}

/// Text from a server (or typed by someone else) made safe for stderr.
pub fn shown(text: &str) -> String {
    crate::text_safety::visible(text).into_owned()
}

/// What the requests wait for (a rate limit, a slow answer), as the status bar says it, made safe
/// for stderr: a request names its referral, whose id the server chose.
pub fn waiting_words(net: &NetStatus, clock: &crate::domain::Clock) -> String {
    shown(&crate::ui::net_text(net, clock).join(" · "))
}

/// Says on stderr what a read command waits for while it waits; stops when dropped.
pub struct WaitNotes(tokio::task::JoinHandle<()>);

impl Drop for WaitNotes {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often a wait that goes on is said again.
const WAIT_NOTE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Starts saying, through `say`, what the requests on `net` wait for: once a request is slow or
/// held by the rate limit, then every `WAIT_NOTE_EVERY` while it still is. A `referee list` on a
/// server that hangs is not silent until the request times out.
pub fn note_waits(
    net: watch::Receiver<NetStatus>,
    say: impl Fn(&str) + Send + 'static,
) -> WaitNotes {
    WaitNotes(tokio::spawn(async move {
        let mut said_at: Option<tokio::time::Instant> = None;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let words = waiting_words(&net.borrow(), &crate::domain::Clock::system());
            if words.is_empty() {
                said_at = None;
            } else if said_at.is_none_or(|at| at.elapsed() >= WAIT_NOTE_EVERY) {
                say(&format!("waiting: {words} (Ctrl-c stops)"));
                said_at = Some(tokio::time::Instant::now());
            }
        }
    }))
}

/// Asks `question` once on the terminal; without one, `--yes` is needed (exit 2).
pub fn confirm(question: &str, yes: bool) -> Result<bool, Failure> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Failure::bad(
            "not on a terminal, so nothing can be asked: add --yes to send (or --dry-run to see what would be sent)",
        ));
    }
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::bad(format!("reading the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// The console, off screen: the real state, `update`, effects runner and journal. A headless
/// command changes it the way keys would and waits for the answers.
pub struct Driver {
    pub app: App<TestBackend>,
    /// The same client the app writes with (same pacing), for the reads before a change.
    pub client: Client,
    /// The journal the app writes to, for what the commands read from it.
    pub journal: Arc<Journal>,
    net: watch::Receiver<NetStatus>,
}

impl Driver {
    /// The console for `profile`, journaling in `data_dir`. A journal that cannot be opened stops
    /// the command: a script's writes must be accounted for (the console would keep them in
    /// memory; a script has no screen to say so on).
    pub fn open(profile: &Profile, data_dir: &Path) -> Result<Driver, Failure> {
        let (client, state) =
            crate::cli::open(profile).map_err(|e| Failure::bad(format!("{e:#}")))?;
        let journal = Journal::open(data_dir).map_err(|e| {
            Failure::bad(format!(
                "{e}; nothing was sent (writes from scripts are always journaled)"
            ))
        })?;
        let terminal = ratatui::Terminal::new(TestBackend::new(120, 40))
            .map_err(|e| Failure::bad(e.to_string()))?;
        let journal = Arc::new(journal);
        let app = App::new(state, terminal, client.clone(), journal.clone());
        let net = app.net_status();
        Ok(Driver {
            app,
            client,
            journal,
            net,
        })
    }

    /// Settles the writes an earlier run (a console or command that was killed) left without an
    /// outcome, as a console's start does, and says what was found on stderr: an undo or a bulk
    /// then sees them as they really ended.
    pub async fn settle_unfinished(&mut self) {
        self.act(crate::app::update::check_unfinished);
        while self
            .state()
            .pending
            .values()
            .any(|p| matches!(p, crate::app::state::Pending::Reconcile))
        {
            self.next().await;
        }
        let said = self.message();
        if !said.is_empty() {
            crate::cli::say(&format!("referee: {}", shown(&said)));
            self.state().message = None;
        }
        // The referrals it re-read were for showing; the command reads its own.
        self.state().clear_records();
    }

    pub fn state(&mut self) -> &mut State {
        &mut self.app.state
    }

    /// An action, as a key would give it.
    pub fn dispatch(&mut self, action: Action) {
        self.app.dispatch(action);
    }

    /// A flow of the console run on the state, its effects started.
    pub fn act(&mut self, flow: impl FnOnce(&mut State) -> Vec<Effect>) {
        self.app.act(flow);
    }

    /// The next answer applied; the write it settled, if any.
    pub async fn next(&mut self) -> Option<Answered> {
        self.app.next_answer(&mut self.net).await
    }

    /// The console's status line now, for a refusal the console would have shown there.
    pub fn message(&self) -> String {
        self.app
            .state
            .message
            .as_ref()
            .map(|m| m.text.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slow request is said once it is slow, and again only after `WAIT_NOTE_EVERY`.
    #[tokio::test(start_paused = true)]
    async fn a_wait_is_said_when_it_starts_and_then_every_ten_seconds() {
        let said = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let (tx, rx) = watch::channel(NetStatus::default());
        let sink = said.clone();
        let _notes = note_waits(rx, move |words| sink.lock().unwrap().push(words.into()));
        let count = || said.lock().unwrap().len();
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        assert_eq!(count(), 0, "nothing waits");
        tx.send_replace(NetStatus {
            rate_wait_until: None,
            requests: vec![crate::api::Attempt {
                endpoint: "GET /referrals".into(),
                attempt: 1,
                of: 4,
                sent: Some(jiff::Timestamp::now() - jiff::SignedDuration::from_secs(5)),
            }],
        });
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        assert_eq!(count(), 1);
        let first = said.lock().unwrap()[0].clone();
        assert!(
            first.starts_with("waiting: GET /referrals: no answer for"),
            "{first}"
        );
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        assert_eq!(count(), 1, "not again so soon");
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        assert_eq!(count(), 2, "again after ten seconds");
        tx.send_replace(NetStatus::default());
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        assert_eq!(count(), 2, "the answer came: nothing more");
    }

    #[test]
    fn each_referral_of_a_partly_applied_write_gets_its_own_word() {
        let partly = Outcome::Partly {
            records: Vec::new(),
            applied: vec!["5001".into()],
            failed: vec!["5002".into()],
            conflicted: vec!["5003".into()],
            message: "1 of 3 could not be approved".into(),
        };
        let word = |id| outcome_words(&partly, id).0;
        assert_eq!(
            [word("5001"), word("5002"), word("5003")],
            ["applied", "failed", "conflict"]
        );
        assert_eq!(
            outcome_words(&partly, "5002").1.as_deref(),
            Some("1 of 3 could not be approved")
        );
        let unknown = Outcome::Unknown {
            message: "the answer broke off".into(),
        };
        assert_eq!(outcome_words(&unknown, "5001").0, "unknown");
    }
}
