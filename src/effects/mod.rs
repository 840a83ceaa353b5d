//! The effects runner: the I/O behind each Effect, run as a tokio task, answering with Actions on
//! the app's queue. Every write is journaled before it is sent and after it is decided; an answer
//! that does not say whether a write landed is settled by re-reading the referral, never guessed.
//! `write` runs one write; `reconcile` settles what an earlier run left open; `paging` pages through
//! a listing until it really ends; `export` puts an `:export` in its file.

mod export;
mod paging;
mod reconcile;
mod write;

pub use paging::{PagingReport, Stop, page_through};
pub use reconcile::{Reconciliation, recent_reasons, reconcile};
pub use write::{BATCH_POLL_LIMIT, mutate};
use write::{intent, recorded};

use std::sync::Arc;

use serde_json::Map;
use tokio::sync::mpsc;

use crate::api::Client;
use crate::app::{Action, Effect};
use crate::domain::{MetadataMode, Record, Schema};
use crate::export::WriteError;
use crate::store::journal::{Journal, Verdict};

/// The newest journal entries `:journal` shows.
const JOURNAL_SHOWN: usize = 200;

/// How many of the newest entries that may name a rejection reason are read for the recent reasons.
const REASON_ENTRIES_READ: usize = 200;

/// Runs a journal read on a blocking thread, so that SQLite never holds up the async workers.
async fn read_journal<T: Send + 'static>(
    context: &Context,
    read: impl FnOnce(&Journal) -> Result<T, crate::store::journal::JournalError> + Send + 'static,
) -> Result<T, String> {
    let journal = Arc::clone(&context.journal);
    match tokio::task::spawn_blocking(move || read(&journal)).await {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(error) => Err(format!("reading the journal stopped: {error}")),
    }
}

/// Who is writing, for the journal.
#[derive(Debug, Clone)]
pub struct Writer {
    pub profile: String,
    pub backend: String,
    pub admin_id: Option<String>,
}

/// What every background task needs.
pub struct Context {
    pub client: Client,
    pub schema: &'static Schema,
    pub mode: MetadataMode,
    pub writer: Writer,
    /// Where writes are recorded before and after they are sent.
    pub journal: Arc<Journal>,
    /// How long a backend batch action is followed before it is reported as still running.
    pub batch_wait: std::time::Duration,
    /// Outcomes the journal could not record yet (entry, outcome), tried again with every write.
    pub unrecorded: std::sync::Mutex<Vec<(i64, crate::store::journal::Recorded)>>,
    /// This run of referee, so the journal's bulk groups (`detail.group`, "run-group") of
    /// different runs never mix.
    pub run: String,
}

type Answers = mpsc::UnboundedSender<Action>;

/// Does one Effect's I/O and answers with Actions. A closed channel means the app is gone.
pub async fn perform(context: &Context, effect: Effect, tx: Answers) {
    let client = &context.client;
    match effect {
        Effect::LoadReferrals { req } => {
            let deliver =
                |records, end| tx.send(Action::ReferralsPage { req, records, end }).is_ok();
            let fetch = |i| client.referrals_page(i);
            if let Err(error) = paging::page_through("referrals", fetch, record_id, deliver).await {
                tracing::warn!(%error, "loading referrals failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::LoadLookup { req, kind } => {
            let deliver = |entries, end| tx.send(Action::LookupPage { req, entries, end }).is_ok();
            let fetch = |i| client.lookup_page(kind, i);
            if let Err(error) = paging::page_through(kind.noun(), fetch, entry_id, deliver).await {
                tracing::warn!(%error, ?kind, "loading names failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::LoadName { req, kind, id } => match client.name(kind, &id).await {
            Ok(name) => {
                let _ = tx.send(Action::NameLoaded { req, name });
            }
            Err(error) => {
                tracing::warn!(%error, ?kind, %id, "naming failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        },
        // The runtime does these itself (`runtime::App::run`): it stops the load's task, and it
        // owns the terminal the clipboard and the editor need.
        Effect::StopLoad { .. } | Effect::Copy { .. } | Effect::OpenEditor { .. } => {}
        Effect::Find { req, by, value } => {
            let result = client.find(&by, &value).await;
            let _ = tx.send(Action::Found { req, result });
        }
        Effect::Mutate {
            req,
            mutation,
            why,
            group,
        } => {
            let (outcome, unrecorded) = mutate(context, req, &mutation, why, group, &tx).await;
            let _ = tx.send(Action::Written { req, outcome });
            if let Some(message) = unrecorded {
                let _ = tx.send(Action::Unrecorded { message });
            }
        }
        Effect::LoadReasons { req } => {
            let profile = context.writer.profile.clone();
            let read = read_journal(context, move |journal| {
                journal.recent_with_reasons(&profile, REASON_ENTRIES_READ)
            });
            let reasons = match read.await {
                Ok(entries) => recent_reasons(&entries, &context.writer.profile),
                Err(error) => {
                    tracing::warn!(%error, "could not read recent reasons from the journal");
                    Vec::new()
                }
            };
            let _ = tx.send(Action::ReasonsLoaded { req, reasons });
        }
        Effect::LoadJournal { req } => {
            let profile = context.writer.profile.clone();
            let read = read_journal(context, move |journal| {
                journal.recent(&profile, JOURNAL_SHOWN)
            });
            let result = read.await;
            let damaged = context.journal.damaged().len();
            let _ = tx.send(Action::JournalLoaded {
                req,
                result,
                damaged,
            });
        }
        Effect::Reconcile { req } => {
            let result = reconcile(context).await;
            let _ = tx.send(Action::Reconciled { req, result });
        }
        Effect::LoadDraft { req, id } => {
            let result = context.journal.draft(&context.writer.profile, &id);
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Action::DraftLoaded { req, result });
        }
        Effect::SaveDraft {
            req,
            id,
            fields,
            time,
        } => {
            let result = context
                .journal
                .save_draft(&context.writer.profile, &id, &fields, time);
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Action::DraftSaved { req, result });
        }
        Effect::DiscardDraft { req, id } => {
            let result = context.journal.discard_draft(&context.writer.profile, &id);
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Action::DraftSaved { req, result });
        }
        Effect::Export {
            req,
            format,
            path,
            replace,
            records,
        } => {
            let schema = context.schema;
            let (count, typed) = (records.len(), path.clone());
            let job = move || export::export(schema, format, &path, replace, &records);
            let (path, result) = match tokio::task::spawn_blocking(job).await {
                Ok(done) => done,
                Err(error) => (typed, Err(WriteError::Other(error.to_string()))),
            };
            let _ = tx.send(Action::Exported {
                req,
                path,
                count,
                result,
            });
        }
        Effect::RecordSession { detail } => {
            let mut intent = intent(context, "session", "summary", Vec::new());
            intent.detail = detail;
            let recorded = recorded(Verdict::Applied, None, Map::new(), None);
            if let Err(error) = context.journal.record_event(&intent, &recorded) {
                tracing::error!(%error, "could not journal the triage summary");
            }
        }
    }
}

/// What paging knows a referral by.
fn record_id(record: &Record) -> &str {
    &record.id
}

/// What paging knows a looked-up (id, name) by.
fn entry_id((id, _): &(String, String)) -> &str {
    id
}
