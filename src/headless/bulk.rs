//! `referee bulk (--ids-from FILE | --where FILTER) (--verify | --reject REASON | --status S | --set
//! f=v …)`: the console's bulk change on a list of ids, or on every referral a filter matches. The
//! referrals are read, planned by the backend's policy
//! (or, for `--set`, reviewed one by one by the form), asked about once, and sent through the
//! console's bulk window (concurrency, narrowed to one while a rate limit is waited out). One
//! NDJSON line per referral goes to stdout as its outcome comes; a progress bar and a summary go
//! to stderr. Ctrl-c (or SIGTERM, SIGHUP) stops sending: the writes in flight are waited for (30 s at most; a second
//! Ctrl-c does not wait) and reported, the rest are reported as not sent, and the journal holds
//! an outcome for everything it recorded (anything cut short is settled at the next start).

use std::collections::HashSet;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use super::change::{self, Reviewed};
use super::{Driver, Exit, Failure};
use crate::app::bulk::RowResult;
use crate::app::flows;
use crate::app::text::plural;
use crate::config::Profile;
use crate::domain::Record;
use crate::domain::mutation::Mutation;
use crate::domain::policy::{Plan, QuickKey};

/// How long the writes in flight are waited for after Ctrl-c.
const STOP_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
#[command(
    group(clap::ArgGroup::new("change").required(true).args(["verify", "reject", "status", "set"])),
    group(clap::ArgGroup::new("which").required(true).args(["ids_from", "filters"])),
    after_help = super::docs::EXIT_STATUSES
)]
pub struct BulkArgs {
    /// The referrals: a file with one id per line, or `-` for stdin (blank lines and lines
    /// starting with # are skipped; an id named twice is changed once).
    #[arg(long, value_name = "FILE|-")]
    pub ids_from: Option<String>,
    /// Or the referrals a filter matches (repeatable; all must match), in the language of
    /// `referee list --where` and the console's `/`: every page is read first, and a listing that
    /// fails or comes back incomplete sends nothing.
    #[arg(long = "where", value_name = "FILTER", allow_hyphen_values = true)]
    pub filters: Vec<String>,
    /// Verify them (v1: status verified with verified_at and verified_by; v2: approve).
    #[arg(long)]
    pub verify: bool,
    /// Reject them with this reason (v1: metadata.rejection_reason; v2: disable, the reason kept
    /// in the journal).
    #[arg(long, value_name = "REASON")]
    pub reject: Option<String>,
    /// Set this status, as the status keys do (v1: pending, converted, verified; v2: approve,
    /// enable, disable).
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
    /// Set a field on each of them, checked as the edit form checks it (see `referee update`).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Print what would be sent for each referral (one NDJSON line each), and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send without asking (needed when not on a terminal, and when the ids come from stdin).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// What the command changes.
enum Change {
    Key {
        key: QuickKey,
        reason: Option<String>,
    },
    Set(Vec<change::Set>),
}

fn change_of(args: &BulkArgs, profile: &Profile) -> Result<Change, Failure> {
    let schema = profile.backend.schema();
    if args.verify {
        return Ok(Change::Key {
            key: QuickKey::Verify,
            reason: None,
        });
    }
    if let Some(reason) = &args.reject {
        if reason.trim().is_empty() {
            return Err(Failure::bad("--reject needs a reason"));
        }
        return Ok(Change::Key {
            key: QuickKey::Reject,
            reason: Some(reason.trim().to_string()),
        });
    }
    if let Some(status) = &args.status {
        let words = schema.policy.status_words();
        let key = words
            .iter()
            .find(|(word, _)| word.eq_ignore_ascii_case(status.trim()))
            .map(|(_, key)| *key)
            .ok_or_else(|| {
                let list: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
                Failure::bad(format!(
                    "--status {}: not a status here; this backend takes {}",
                    super::shown(status),
                    list.join(", ")
                ))
            })?;
        if key == QuickKey::Reject {
            return Err(Failure::bad(format!(
                "--status {status} needs a reason: use --reject REASON"
            )));
        }
        return Ok(Change::Key { key, reason: None });
    }
    Ok(Change::Set(change::parse(schema, "--set", &args.set)?))
}

/// The ids in `source` (a file, or `-` for stdin), in order, each once.
fn read_ids(source: &str) -> Result<Vec<String>, Failure> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::bad(format!("reading ids from stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(source)
            .map_err(|e| Failure::bad(format!("reading ids from {source}: {e}")))?
    };
    let mut seen = HashSet::new();
    let ids: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter(|id| seen.insert(id.to_string()))
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Err(Failure::bad(format!(
            "no ids in {}",
            if source == "-" { "stdin" } else { source }
        )));
    }
    Ok(ids)
}

/// One referral's line on stdout.
fn row_line(id: &str, outcome: &str, error: Option<&str>) -> Value {
    json!({"id": id, "outcome": outcome, "error": error})
}

/// A bulk row's result as the NDJSON outcome word and error.
fn row_words(row: &RowResult) -> (&'static str, Option<String>) {
    if let Some((word, why)) = row.problem() {
        return (word, Some(why.to_string()));
    }
    match row {
        RowResult::Done => ("applied", None),
        RowResult::Unchanged(why) => ("already", Some(why.clone())),
        _ => ("failed", Some("not sent: stopped by Ctrl-c".into())),
    }
}

/// Counts of what was printed, for the summary and the exit status.
#[derive(Debug, Default)]
pub struct Tally {
    pub applied: usize,
    pub already: usize,
    pub conflict: usize,
    pub failed: usize,
    pub unknown: usize,
}

impl Tally {
    /// Prints one referral's line and counts it.
    pub fn print(&mut self, id: &str, outcome: &str, error: Option<&str>) {
        match outcome {
            "applied" => self.applied += 1,
            "already" => self.already += 1,
            "conflict" => self.conflict += 1,
            "unknown" => self.unknown += 1,
            _ => self.failed += 1,
        }
        // "already" is not an error: its reason goes out as a note.
        let line = match (outcome, error) {
            ("already", Some(why)) => {
                json!({"id": id, "outcome": outcome, "error": null, "note": why})
            }
            _ => row_line(id, outcome, error),
        };
        super::print_json(&line);
    }

    pub fn summary(&self, verb: &str) -> String {
        format!(
            "{verb}: {} applied, {} already so, {} conflict, {} failed, {} unknown",
            self.applied, self.already, self.conflict, self.failed, self.unknown
        )
    }

    pub fn exit(&self) -> Exit {
        if self.conflict + self.failed + self.unknown > 0 {
            Exit::SomeFailed
        } else {
            Exit::Done
        }
    }
}

pub async fn run(args: BulkArgs, profile: Profile, data_dir: &Path) -> Result<Exit, Failure> {
    if !args.dry_run {
        super::refuse_read_only(&profile, "bulk")?;
    }
    let change = change_of(&args, &profile)?;
    let mut driver = Driver::open(&profile, data_dir)?;
    driver.settle_unfinished().await;
    let mut tally = Tally::default();
    let client = driver.client.clone();
    let (records, unread) = match &args.ids_from {
        Some(source) => read_by_id(&client, read_ids(source)?, profile.concurrency).await?,
        None => {
            let schema = profile.backend.schema();
            let found = super::read::matching(&client, schema, &args.filters).await?;
            (found, Vec::new())
        }
    };
    let found: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    // The console off screen starts empty: the referrals go in as one page (each id once).
    driver.state().append_records(records.clone());

    let (plan, verb) = match &change {
        Change::Key { key, reason } => {
            let plan = flows::plan(driver.state(), &found, *key, reason.as_deref())
                .map_err(Failure::bad)?;
            (plan, driver.state().schema.policy.verb(*key))
        }
        Change::Set(sets) => (plan_sets(&mut driver, &records, sets)?, "Set fields"),
    };
    let sending = plan.ids().len();
    let question = format!(
        "{verb} {} ({} already so, {} not found or unreadable)",
        plural(sending, "referral"),
        plan.skipped.len(),
        unread.len()
    );
    crate::cli::say(&question);
    if args.dry_run || sending == 0 {
        for mutation in &plan.mutations {
            dry_run_lines(&driver, mutation);
        }
        for (id, why) in &plan.skipped {
            tally.print(id, "already", Some(why));
        }
        for (id, why) in &unread {
            tally.print(id, "failed", Some(why));
        }
        // A dry run's summary is what would be sent, not "0 applied".
        crate::cli::say(&if args.dry_run {
            format!(
                "dry run: nothing was sent; {} would be.",
                plural(sending, "referral")
            )
        } else {
            tally.summary(verb)
        });
        return Ok(tally.exit());
    }
    if !super::confirm(&format!("{question}: send?"), args.yes)? {
        return Err(Failure::bad("not sent: you answered no"));
    }
    for (id, why) in &unread {
        tally.print(id, "failed", Some(why));
    }
    match change {
        Change::Key { key, reason } => {
            driver.act(|state| flows::start_bulk(state, key, reason, plan));
        }
        Change::Set(_) => driver.act(|state| flows::start_set_bulk(state, plan)),
    }
    let stopped = follow(&mut driver, &mut tally).await;
    crate::cli::say(&tally.summary(verb));
    Ok(if stopped {
        Exit::Interrupted
    } else {
        tally.exit()
    })
}

/// The referrals `ids` name, read first as the console has them loaded before a bulk; an id that
/// cannot be read is set aside with why.
async fn read_by_id(
    client: &crate::api::Client,
    ids: Vec<String>,
    concurrency: usize,
) -> Result<(Vec<Record>, Vec<(String, String)>), Failure> {
    let reads: Vec<(String, Result<Record, crate::api::ApiError>)> = futures::stream::iter(ids)
        .map(|id| {
            let client = client.clone();
            async move {
                let read = client.find("id", &id).await;
                (id, read)
            }
        })
        .buffered(concurrency)
        .collect()
        .await;
    let mut records = Vec::new();
    let mut unread = Vec::new();
    for (id, read) in reads {
        match read {
            Ok(record) => records.push(record),
            Err(error) if Failure::unreachable(&error) => {
                return Err(Failure::reading(&format!("referral {id}"), &error));
            }
            Err(crate::api::ApiError::NotFound { .. }) => {
                unread.push((id, "no such referral".to_string()))
            }
            Err(error) => unread.push((id, format!("could not be read: {}", error.user_message()))),
        }
    }
    Ok((records, unread))
}

/// `--set` planned referral by referral through the form: a change the form refuses for any of
/// them stops the command before anything is sent.
fn plan_sets(
    driver: &mut Driver,
    records: &[Record],
    sets: &[change::Set],
) -> Result<Plan, Failure> {
    let mut plan = Plan::default();
    for record in records {
        match change::review(driver, record, sets) {
            Reviewed::Change(changes) => {
                let write = flows::field_write(driver.state(), record, changes);
                plan.mutations.push(Mutation::Fields(write));
            }
            Reviewed::Unchanged => plan
                .skipped
                .push((record.id.clone(), "already holds these values".into())),
            Reviewed::Invalid(errors) => {
                return Err(Failure::bad(format!(
                    "{} not changed: {}; nothing was sent",
                    record.id,
                    change::invalid_text(&errors)
                )));
            }
        }
    }
    Ok(plan)
}

/// What `--dry-run` prints for one planned write, its body stamped as if sent now.
fn dry_run_lines(driver: &Driver, mutation: &Mutation) {
    let now = crate::domain::clock::to_wire(jiff::Timestamp::now());
    super::print_dry_run(&mutation.stamped(driver.app.state.schema, &now));
}

/// Follows the running bulk (a change or an undo) until every row has its outcome, printing each
/// row as it comes. True when Ctrl-c stopped it.
pub async fn follow(driver: &mut Driver, tally: &mut Tally) -> bool {
    let Some(bulk) = driver.app.state.bulk.as_ref() else {
        crate::cli::say(&format!("referee: {}", super::shown(&driver.message())));
        tally.failed += 1;
        return false;
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(bulk.total() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut printed: HashSet<String> = HashSet::new();
    // Rows already so were final from the start.
    let mut finals: Vec<(String, RowResult)> = bulk
        .rows
        .iter()
        .filter(|(_, row)| matches!(row, RowResult::Unchanged(_)))
        .map(|(id, row)| (id.clone(), row.clone()))
        .collect();
    finals.sort_by(|a, b| a.0.cmp(&b.0));
    for (id, row) in finals {
        let (word, error) = row_words(&row);
        bar.suspend(|| tally.print(&id, word, error.as_deref()));
        bar.inc(1);
        printed.insert(id);
    }
    let mut stopped = false;
    let mut deadline = None;
    // Ctrl-c, and a SIGTERM or SIGHUP (a CI timeout, a closed ssh session), stop it the same way;
    // listened for once, so a signal between two turns is not missed.
    let mut interrupts = crate::interrupt::Interrupts::listen().ok();
    loop {
        let state = &driver.app.state;
        let running = state.bulk.as_ref().is_some_and(|b| b.is_running());
        if !running || (stopped && state.writes.count() == 0) {
            break;
        }
        // Only waited for once stopped.
        let stop_at = deadline.unwrap_or_else(tokio::time::Instant::now);
        tokio::select! {
            answered = driver.next() => {
                let state = &driver.app.state;
                if let (Some(answered), Some(bulk)) = (answered, state.bulk.as_ref()) {
                    for id in answered.mutation.ids() {
                        let Some(row) = bulk.rows.get(&id) else { continue };
                        if printed.insert(id.clone()) {
                            let (word, error) = row_words(row);
                            bar.suspend(|| tally.print(&id, word, error.as_deref()));
                            bar.inc(1);
                        }
                    }
                }
                bar.set_message(super::waiting_words(&state.net, &state.clock));
            }
            _ = interrupted(&mut interrupts) => {
                if stopped {
                    break;
                }
                stopped = true;
                // As quitting the console with `w` does: no more rows go out.
                driver.app.state.quit_when_idle = true;
                deadline = Some(tokio::time::Instant::now() + STOP_WAIT);
                bar.suspend(|| crate::cli::say(&format!(
                    "Stopping: waiting for the {} write(s) in flight (Ctrl-c again stops at once).",
                    driver.app.state.writes.count()
                )));
            }
            _ = tokio::time::sleep_until(stop_at), if stopped => break,
        }
    }
    bar.finish_and_clear();
    // A write is journaled the moment it leaves: one still without an answer and not in the
    // journal waited for its turn (the rate limit) and never left. If the journal cannot be read,
    // none of them is known not to have left.
    let journaled: Option<HashSet<String>> = driver
        .journal
        .unresolved(&driver.app.state.session.profile)
        .ok()
        .map(|open| open.into_iter().flat_map(|e| e.intent.ids).collect());
    // Rows not sent (stopped) or still without an answer: nothing is known to have happened.
    if let Some(bulk) = driver.app.state.bulk.as_ref() {
        let mut rest: Vec<(&String, &RowResult)> = bulk
            .rows
            .iter()
            .filter(|(id, _)| !printed.contains(*id))
            .collect();
        rest.sort_by(|a, b| a.0.cmp(b.0));
        for (id, row) in rest {
            let left = journaled.as_ref().is_none_or(|sent| sent.contains(id));
            let (word, error) = match row {
                RowResult::Sending if left => (
                    "unknown",
                    Some("stopped before its answer came; the next start checks it".to_string()),
                ),
                RowResult::Sending => (
                    "failed",
                    Some(
                        "not sent: stopped while it waited for its turn; safe to send again".into(),
                    ),
                ),
                other => row_words(other),
            };
            tally.print(id, word, error.as_deref());
        }
    }
    stopped
}

/// The next interrupt; never, when they could not be listened for.
async fn interrupted(interrupts: &mut Option<crate::interrupt::Interrupts>) {
    match interrupts {
        Some(interrupts) => {
            interrupts.next().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use crate::api::{Attempt, NetStatus};
    use crate::app::State;

    #[test]
    fn the_progress_bar_shows_a_hostile_id_without_its_escape_sequence() {
        let clock = State::sample().clock;
        let net = NetStatus {
            rate_wait_until: Some(clock.now + jiff::SignedDuration::from_secs(9)),
            requests: vec![Attempt {
                endpoint: "PUT /referrals/ref_\u{1b}[2J\u{202e}x".into(),
                attempt: 1,
                of: 1,
                sent: Some(clock.now - jiff::SignedDuration::from_secs(5)),
            }],
        };
        let words = crate::headless::waiting_words(&net, &clock);
        assert!(
            words.starts_with("rate limit: next request in 9 s")
                && words.ends_with(" · PUT /referrals/ref_⟨U+001B⟩[2J⟨U+202E⟩x: no answer for 5 s"),
            "{words}"
        );
    }
}
