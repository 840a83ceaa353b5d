//! Talking to referral APIs: one client per backend behind the `Backend` trait, over a shared HTTP
//! core. Every call is async and runs in the background; answers come back to the app as Actions.
//!
//! Adding a backend: a schema (`domain/schema/`), a client module here implementing `Backend` with a
//! `connect` function, one line in `BACKENDS`, and the `BackendKind` variant.

pub mod error;
pub mod firstpromoter;
pub mod http;
pub mod lenient;
pub mod vantio;

use std::sync::Arc;

use futures::future::BoxFuture;
use secrecy::SecretString;
use serde_json::{Map, Value};
use tokio::sync::watch;

pub use error::ApiError;
pub use firstpromoter::{Batch, BatchAction};
pub use http::{Attempt, NetStatus};

use crate::domain::Record;
use crate::domain::schema::{RefKind, Schema, V1_SCHEMA, V2_SCHEMA};

/// Which API a profile speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Referral API v1.
    #[default]
    Vantio,
    /// FirstPromoter API v2 (admin referrals).
    #[value(name = "firstpromoter")]
    FirstPromoter,
}

/// What the rest of the program knows about one backend: its name, its schema, how to connect.
pub struct Registration {
    pub kind: BackendKind,
    /// The name in profiles, on the command line and in the audit log.
    pub name: &'static str,
    pub schema: &'static Schema,
    pub connect: fn(&Connection) -> Result<Arc<dyn Backend>, String>,
}

/// Every backend, one line each.
pub static BACKENDS: &[Registration] = &[
    Registration {
        kind: BackendKind::Vantio,
        name: "vantio",
        schema: &V1_SCHEMA,
        connect: vantio::connect,
    },
    Registration {
        kind: BackendKind::FirstPromoter,
        name: "firstpromoter",
        schema: &V2_SCHEMA,
        connect: firstpromoter::connect,
    },
];

impl BackendKind {
    pub fn registration(self) -> &'static Registration {
        BACKENDS
            .iter()
            .find(|r| r.kind == self)
            .expect("every BackendKind is registered in BACKENDS")
    }

    pub fn as_str(self) -> &'static str {
        self.registration().name
    }

    pub fn parse(text: &str) -> Option<BackendKind> {
        BACKENDS.iter().find(|r| r.name == text).map(|r| r.kind)
    }

    pub fn schema(self) -> &'static Schema {
        self.registration().schema
    }
}

/// One page of a paged listing: the entries that could be read, and what paging needs to know.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The server's sign that nothing follows (v1: a short page, v2: an empty one).
    pub last: bool,
    /// Why each entry that could not be read at all was skipped.
    pub skipped: Vec<String>,
    /// A hash of the page as sent, to notice a server sending the same page again.
    pub fingerprint: u64,
}

/// A page, or why it could not be had.
pub type PageResult<T> = Result<Page<T>, ApiError>;

/// Where and how to connect.
pub struct Connection<'a> {
    pub backend: BackendKind,
    pub base_url: &'a str,
    pub api_key: &'a SecretString,
    /// FirstPromoter's `Account-ID`.
    pub account_id: Option<&'a str>,
}

/// Makes a write's body when the request may leave, after its wait for a turn under the rate
/// limit: a "now" in it is then the time it is sent. An error stops the request unsent
/// (`ApiError::NotSent`); a request tried again (after a 429) asks again.
pub type MakeBody<'a, B = Map<String, Value>> = &'a (dyn Fn() -> Result<B, String> + Send + Sync);

/// What the console asks of a referral API. A backend without something (v1 has no batch actions)
/// keeps the default, which says so.
pub trait Backend: Send + Sync {
    /// What the HTTP core is waiting for (rate limit, retries), for the status bar.
    fn net_status(&self) -> watch::Receiver<NetStatus>;

    /// Page `index` (from 0) of referrals, and whether it is the last.
    fn referrals_page(&self, index: usize) -> BoxFuture<'_, PageResult<Record>>;

    /// One referral by id.
    fn referral<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Record, ApiError>>;

    /// Sends the changed fields, made by `body` as the request leaves; the server's record comes
    /// back.
    fn update<'a>(
        &'a self,
        id: &'a str,
        body: MakeBody<'a>,
    ) -> BoxFuture<'a, Result<Record, ApiError>>;

    /// Fresh copies of these referrals; one read each unless the backend can do better.
    fn refresh<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<Record>, ApiError>> {
        Box::pin(async move {
            let mut records = Vec::with_capacity(ids.len());
            for id in ids {
                records.push(self.referral(id).await?);
            }
            Ok(records)
        })
    }

    /// A referral by `id`, or by another key the backend knows (`email`, `uid`, `username`).
    fn find<'a>(&'a self, by: &'a str, value: &'a str) -> BoxFuture<'a, Result<Record, ApiError>> {
        if by == "id" {
            return self.referral(value);
        }
        unsupported_future("lookup by email, uid or username: use `find id`")
    }

    fn start_batch<'a>(
        &'a self,
        _action: BatchAction,
        _ids: &'a [String],
    ) -> BoxFuture<'a, Result<Batch, ApiError>> {
        unsupported_future("batch state actions")
    }

    fn batch(&self, _id: i64) -> BoxFuture<'_, Result<Batch, ApiError>> {
        unsupported_future("batch processes")
    }

    /// The kinds of resource this backend's records refer to that are loaded up front, for names
    /// in lists, detail and the filter. Other kinds of reference are named one id at a time, when
    /// the detail pane shows them (`name`).
    fn lookup_kinds(&self) -> &'static [RefKind] {
        &[]
    }

    /// The display name of one referenced resource.
    fn name<'a>(&'a self, kind: RefKind, _id: &'a str) -> BoxFuture<'a, Result<String, ApiError>> {
        unsupported_future(kind.noun())
    }

    /// Page `index` of (id, display name) for a kind of referenced resource.
    fn lookup_page(
        &self,
        kind: RefKind,
        _index: usize,
    ) -> BoxFuture<'_, PageResult<(String, String)>> {
        unsupported_future(kind.noun())
    }
}

/// A connected client for whichever backend the profile names. Cheap to clone.
#[derive(Clone)]
pub struct Client(Arc<dyn Backend>);

impl Client {
    pub fn connect(c: Connection) -> Result<Client, String> {
        (c.backend.registration().connect)(&c).map(Client)
    }

    /// A client over an already built backend (tests tune its `http::Limits` this way).
    pub fn new(backend: impl Backend + 'static) -> Client {
        Client(Arc::new(backend))
    }

    /// What the HTTP core is waiting for: a rate-limit wait, a retried request.
    pub fn net_status(&self) -> watch::Receiver<NetStatus> {
        self.0.net_status()
    }

    pub async fn referrals_page(&self, index: usize) -> PageResult<Record> {
        self.0.referrals_page(index).await
    }

    pub async fn update(&self, id: &str, body: &Map<String, Value>) -> Result<Record, ApiError> {
        self.0.update(id, &|| Ok(body.clone())).await
    }

    /// Sends the changed fields, made by `body` once the request may leave.
    pub async fn update_made(&self, id: &str, body: MakeBody<'_>) -> Result<Record, ApiError> {
        self.0.update(id, body).await
    }

    /// Fresh copies of these referrals.
    pub async fn refresh(&self, ids: &[String]) -> Result<Vec<Record>, ApiError> {
        self.0.refresh(ids).await
    }

    /// A referral by `id`, or (FirstPromoter) by `email`, `uid` or `username`.
    pub async fn find(&self, by: &str, value: &str) -> Result<Record, ApiError> {
        self.0.find(by, value).await
    }

    pub async fn start_batch(
        &self,
        action: BatchAction,
        ids: &[String],
    ) -> Result<Batch, ApiError> {
        self.0.start_batch(action, ids).await
    }

    pub async fn batch(&self, id: i64) -> Result<Batch, ApiError> {
        self.0.batch(id).await
    }

    /// Page `index` of (id, display name) for a kind of referenced resource.
    pub async fn lookup_page(&self, kind: RefKind, index: usize) -> PageResult<(String, String)> {
        if !self.lookup_kinds().contains(&kind) {
            return Err(unsupported(kind.noun()));
        }
        self.0.lookup_page(kind, index).await
    }

    /// The display name of one referenced resource.
    pub async fn name(&self, kind: RefKind, id: &str) -> Result<String, ApiError> {
        self.0.name(kind, id).await
    }

    /// The kinds of resource this backend's records refer to that are loaded up front.
    pub fn lookup_kinds(&self) -> &'static [RefKind] {
        self.0.lookup_kinds()
    }
}

fn unsupported_future<'a, T: Send + 'a>(what: &str) -> BoxFuture<'a, Result<T, ApiError>> {
    let error = unsupported(what);
    Box::pin(async move { Err(error) })
}

fn unsupported(what: &str) -> ApiError {
    ApiError::Refused {
        status: 0,
        message: format!("this backend has no {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn every_backend_is_registered_once_under_its_command_line_name() {
        for kind in BackendKind::value_variants() {
            let registered: Vec<_> = BACKENDS.iter().filter(|r| r.kind == *kind).collect();
            assert_eq!(registered.len(), 1, "{kind:?}");
            let name = kind.to_possible_value().unwrap();
            assert_eq!(registered[0].name, name.get_name());
            assert_eq!(BackendKind::parse(kind.as_str()), Some(*kind));
        }
        assert_eq!(BACKENDS.len(), BackendKind::value_variants().len());
    }
}
