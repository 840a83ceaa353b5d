//! `referee serve`'s sandbox: a local HTTP server reproducing the referral APIs on one SQLite file.
//! This module owns the configuration, starting and stopping the server, and the top-level router
//! (request logging, one nested router per API contract, JSON 404 for everything else).
//!
//! Served: Referral API v1 under `/api/v1` (see [`v1`]) and FirstPromoter API v2 under
//! `/api/v2/company` (see [`v2`]), each with its own rate limiter and `v1_`/`v2_` tables, and
//! sharing the delay and chaos every write goes through (see [`writes`]) and the quirks that make
//! its answers awkward on purpose (see [`quirks`]).
//! Shutting down stops background batch work too, and waits for it.

mod background;
mod bearer;
mod db;
mod email;
mod names;
mod prng;
mod query;
mod quirks;
mod rate_limit;
mod text_enum;
mod v1;
mod v2;
mod writes;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::domain::MetadataMode;
use db::Db;
use rate_limit::RateLimiter;
use writes::Writes;

pub use quirks::{Quirk, Quirks};

/// Why the sandbox database at `path` was made by an older referee and cannot be used; None when
/// it can (or does not exist yet).
pub fn outdated_database(path: &std::path::Path) -> anyhow::Result<Option<String>> {
    if !path.exists() {
        return Ok(None);
    }
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    v2::outdated(&conn)
}

pub struct SandboxConfig {
    /// SQLite file, created if missing; tables are created at start when absent.
    pub db_path: PathBuf,
    /// The bearer key every request must present; must not be empty.
    pub api_key: String,
    /// Requests per fixed window of `rate_window`: per key for v1, per account for v2.
    pub rate_limit: u32,
    /// What a `metadata` object in a v1 PUT does to the stored one.
    pub metadata_mode: MetadataMode,
    /// Demo referrals to generate, for each API whose tables have none; 0 leaves them empty.
    pub seed: usize,
    /// The account FirstPromoter v2 requests must name in `Account-ID`.
    pub account_id: String,
    /// Extra time every write (v1 PUT/POST, v2 PUT and batch POSTs) takes before it is answered;
    /// tests use it to show the console never waits on a write. `Duration::ZERO` normally.
    pub write_delay: Duration,
    /// Probability (0.0..=1.0) that a write is refused with a 500 before it changes anything
    /// (`--chaos P`); [`start`] refuses anything else.
    pub chaos: f64,
    /// Length of one rate-limit window; one minute normally, shorter in tests; not zero.
    pub rate_window: Duration,
    /// Awkward but valid answers to send on purpose (`--quirks`); none normally.
    pub quirks: Quirks,
}

/// A server running in a spawned task. Dropping it stops the server too, without waiting.
pub struct RunningSandbox {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    /// Shared with both routers, so the chaos probability can change while serving.
    writes: Arc<Writes>,
    counts: Arc<Counts>,
}

/// What the server has answered so far, for tests that must show a client never went over the
/// rate limit or sent nothing at all.
#[derive(Debug, Default)]
struct Counts {
    /// Requests that change something (PUT, POST), whatever their answer.
    writes: std::sync::atomic::AtomicU64,
    /// 429 answers.
    too_many: std::sync::atomic::AtomicU64,
}

impl RunningSandbox {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/api/v1`
    pub fn v1_base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT/api/v2/company`
    pub fn v2_base_url(&self) -> String {
        format!("http://{}/api/v2/company", self.addr)
    }

    /// Requests that could change something (PUT, POST) received so far, whatever the answer.
    pub fn writes_received(&self) -> u64 {
        self.counts.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// 429 (Too Many Requests) answers sent so far.
    pub fn too_many_requests(&self) -> u64 {
        self.counts
            .too_many
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// From the next write on, refuses writes with this probability (clamped into `0.0..=1.0`).
    pub fn set_chaos(&self, probability: f64) {
        self.writes.set_chaos(probability);
    }

    /// Stops accepting connections, waits for requests in flight to finish, then stops background
    /// batches (they become `stopped`) and waits for them.
    pub async fn shutdown(self) {
        // The task may already be gone if serving failed; it logged why.
        let _ = self.stop.send(());
        if let Err(err) = self.task.await {
            tracing::error!(%err, "sandbox server task failed");
        }
    }
}

/// Binds `addr` (port 0 picks a free one), creates the tables, seeds an empty database and serves
/// in a spawned tokio task.
pub async fn start(config: SandboxConfig, addr: SocketAddr) -> anyhow::Result<RunningSandbox> {
    let SandboxConfig {
        db_path,
        api_key,
        rate_limit,
        metadata_mode,
        seed,
        account_id,
        write_delay,
        chaos,
        rate_window,
        quirks,
    } = config;
    anyhow::ensure!(!api_key.is_empty(), "the sandbox API key must not be empty");
    anyhow::ensure!(
        !account_id.trim().is_empty(),
        "the sandbox account id must not be empty"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&chaos),
        "the chaos probability must be between 0 and 1, not {chaos}"
    );
    anyhow::ensure!(
        !rate_window.is_zero(),
        "the rate-limit window must be longer than zero"
    );
    let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
        let db = Db::open(&db_path)?;
        v1::prepare(&db, seed).context("preparing the v1 tables")?;
        v2::prepare(&db, seed).context("preparing the v2 tables")?;
        Ok(db)
    })
    .await??;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the sandbox to {addr}"))?;
    let addr = listener.local_addr()?;
    let api_key: Arc<str> = api_key.into();
    let (batches, background) = background::channel();
    let writes = Arc::new(Writes::new(write_delay, chaos));
    let v1_state = v1::V1State {
        db: db.clone(),
        api_key: api_key.clone(),
        limiter: Arc::new(RateLimiter::new(rate_limit, rate_window)),
        writes: writes.clone(),
        metadata_mode,
        quirks,
    };
    let v2_state = v2::V2State {
        db,
        api_key,
        account_id: account_id.trim().into(),
        limiter: Arc::new(RateLimiter::new(rate_limit, rate_window)),
        writes: writes.clone(),
        background,
        quirks,
    };
    let counts = Arc::new(Counts::default());
    let app = Router::new()
        .nest("/api/v1", v1::router(v1_state))
        .nest("/api/v2/company", v2::router(v2_state))
        .fallback(|| async { v1::ApiError::route_not_found() })
        .layer(middleware::from_fn({
            let counts = counts.clone();
            move |request, next| log_request(counts.clone(), request, next)
        }));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async {
            // A dropped sender stops the server as well.
            let _ = stopped.await;
        });
        if let Err(err) = served.await {
            tracing::error!(%err, "sandbox server stopped");
        }
        batches.stop_and_wait().await;
    });
    tracing::info!(%addr, "sandbox listening");
    Ok(RunningSandbox {
        addr,
        stop,
        task,
        writes,
        counts,
    })
}

/// One info line per request: method, path, status and how long it took.
async fn log_request(counts: Arc<Counts>, request: Request, next: Next) -> Response {
    use std::sync::atomic::Ordering;
    let method = request.method().clone();
    if matches!(method.as_str(), "PUT" | "POST" | "PATCH" | "DELETE") {
        counts.writes.fetch_add(1, Ordering::SeqCst);
    }
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    if response.status() == axum::http::StatusCode::TOO_MANY_REQUESTS {
        counts.too_many.fetch_add(1, Ordering::SeqCst);
    }
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed = ?started.elapsed(),
        "sandbox request"
    );
    response
}
