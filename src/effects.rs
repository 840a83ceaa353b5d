//! The effects runner: the I/O behind each Effect, run as a tokio task, answering with Actions on
//! the app's queue. Writes check the conflict guard first and are appended to the audit log.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::api::{ApiError, Client, Page};
use crate::app::{Action, Effect, RequestId};
use crate::domain::conflict::{conflicts, values_like};
use crate::domain::{MetadataMode, Schema};
use crate::store::audit::{self, Entry};

/// How long to wait between polls of a running batch.
const BATCH_POLL_INTERVAL: Duration = Duration::from_millis(400);

/// Where the audit log goes and who is writing.
#[derive(Debug, Clone)]
pub struct AuditSink {
    pub path: PathBuf,
    pub profile: String,
    pub backend: String,
    pub admin_id: Option<String>,
}

/// What every background task needs.
pub struct Context {
    pub client: Client,
    pub schema: &'static Schema,
    pub mode: MetadataMode,
    pub audit: Option<AuditSink>,
}

type Answers = mpsc::UnboundedSender<Action>;

/// Does one Effect's I/O and answers with Actions. A closed channel means the app is gone.
pub async fn perform(context: &Context, effect: Effect, tx: Answers) {
    let client = &context.client;
    match effect {
        Effect::LoadReferrals { req } => {
            let deliver = |records, last| {
                tx.send(Action::ReferralsPage { req, records, last })
                    .is_ok()
            };
            if let Err(error) = page_through(|i| client.referrals_page(i), deliver).await {
                tracing::warn!(%error, "loading referrals failed");
                let _ = tx.send(Action::RequestFailed { req, error });
            }
        }
        Effect::LoadLookup { req, kind } => {
            let deliver =
                |entries, last| tx.send(Action::LookupPage { req, entries, last }).is_ok();
            if let Err(error) = page_through(|i| client.lookup_page(kind, i), deliver).await {
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
            let result = client.start_batch(action, &ids).await;
            let status = match &result {
                Ok(batch) if batch.is_finished() => Some(200),
                Ok(_) => Some(202),
                Err(error) => error.status(),
            };
            // FirstPromoter v2 has nowhere to store a reason: the local log keeps it.
            log_write(context, "batch", |entry| {
                entry.body = action.body(&ids);
                entry.status = status;
                entry.detail = json!({ "action": action.path(), "ids": ids, "reason": reason });
            });
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
        Effect::Update {
            req,
            id,
            body,
            base,
            guard,
            undo,
        } => {
            let answer = write(context, req, &id, &body, &base, guard, undo).await;
            let _ = tx.send(answer);
        }
        Effect::Audit(entry) => append(context, &entry),
    }
}

/// The conflict guard (a fresh GET compared with the base), then the PUT and its audit line.
async fn write(
    context: &Context,
    req: RequestId,
    id: &str,
    body: &Map<String, Value>,
    base: &Map<String, Value>,
    guard: bool,
    undo: bool,
) -> Action {
    if guard {
        let fresh = match context.client.refresh(&[id.to_string()]).await {
            Ok(mut found) if !found.is_empty() => found.remove(0),
            Ok(_) => {
                let error = ApiError::NotFound {
                    endpoint: format!("GET /referrals/{id}"),
                    message: "Referral not found".into(),
                };
                return Action::Saved {
                    req,
                    result: Err(error),
                };
            }
            Err(error) => {
                return Action::Saved {
                    req,
                    result: Err(error),
                };
            }
        };
        let fields = conflicts(context.schema, base, &fresh, context.mode);
        if !fields.is_empty() {
            tracing::warn!(%id, ?fields, "conflict: changed on the server since it was loaded; not sent");
            return Action::Conflict {
                req,
                theirs: fresh,
                fields,
            };
        }
    }
    let sent = Value::Object(body.clone());
    tracing::info!(%id, body = %sent, "PUT");
    let result = context.client.update(id, body).await;
    let (status, after) = match &result {
        Ok(record) => (
            Some(200),
            values_like(context.schema, base, record, context.mode),
        ),
        Err(error) => {
            tracing::warn!(%id, %error, "update failed");
            (error.status(), Map::new())
        }
    };
    if status.is_some() {
        log_write(context, "write", |entry| {
            entry.id = Some(id.to_string());
            entry.before = base.clone();
            entry.after = after;
            entry.body = sent;
            entry.status = status;
            entry.undo = undo;
        });
    }
    Action::Saved { req, result }
}

/// Appends a line of `kind` for a write that reached the server; `fill` says what happened.
fn log_write(context: &Context, kind: &str, fill: impl FnOnce(&mut Entry)) {
    let Some(sink) = &context.audit else { return };
    let time = crate::domain::clock::to_wire(jiff::Timestamp::now());
    let mut entry = Entry::new(
        time,
        &sink.profile,
        &sink.backend,
        sink.admin_id.as_deref(),
        kind,
    );
    fill(&mut entry);
    append(context, &entry);
}

fn append(context: &Context, entry: &Entry) {
    let Some(sink) = &context.audit else { return };
    if let Err(error) = audit::append(&sink.path, entry) {
        tracing::error!(%error, path = %sink.path.display(), "could not write the audit log");
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
