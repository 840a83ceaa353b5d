//! What the sandbox contract tests (`sandbox_v1`, `sandbox_v2`) share: a sandbox on its own SQLite
//! file, answers read whole, and the write-delay check both contracts pass the same way. Each test
//! file adds its contract's requests and error shape to [`Sandbox`] and [`Answer`].

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use referee::domain::MetadataMode;
use referee::sandbox::{Quirk, Quirks, RunningSandbox, SandboxConfig, start};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

pub const KEY: &str = "sk_test";
pub const ACCOUNT: &str = "acc_test";

pub struct Sandbox {
    pub running: RunningSandbox,
    pub client: reqwest::Client,
    pub dir: TempDir,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

/// `sandbox.db` in `dir`, [`KEY`] and [`ACCOUNT`], `seed` referrals, no delay or chaos, and a rate
/// limit no test reaches unless it lowers it.
pub fn config(dir: &TempDir, seed: usize) -> SandboxConfig {
    SandboxConfig {
        db_path: dir.path().join("sandbox.db"),
        api_key: KEY.into(),
        rate_limit: 10_000,
        metadata_mode: MetadataMode::Merge,
        seed,
        account_id: ACCOUNT.into(),
        write_delay: Duration::ZERO,
        chaos: 0.0,
        rate_window: Duration::from_secs(60),
        quirks: Quirks::default(),
    }
}

/// A free port on 127.0.0.1.
pub fn local() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

impl Sandbox {
    /// A sandbox with [`config`] on a new temporary directory.
    pub async fn start(seed: usize) -> Sandbox {
        Sandbox::start_changed(seed, |base| base).await
    }

    /// A sandbox with [`config`] as `change` makes it, on a new temporary directory.
    pub async fn start_changed(
        seed: usize,
        change: impl FnOnce(SandboxConfig) -> SandboxConfig,
    ) -> Sandbox {
        let dir = TempDir::new().unwrap();
        Sandbox::start_with(change(config(&dir, seed)), dir).await
    }

    /// A sandbox with [`config`] and `quirks`, on a new temporary directory.
    pub async fn with_quirks(seed: usize, quirks: &[Quirk]) -> Sandbox {
        Sandbox::start_changed(seed, |base| SandboxConfig {
            quirks: quirks.iter().copied().collect(),
            ..base
        })
        .await
    }

    /// `dir` is the one `config.db_path` is in; the sandbox keeps it alive.
    pub async fn start_with(config: SandboxConfig, dir: TempDir) -> Sandbox {
        Sandbox {
            running: start(config, local()).await.unwrap(),
            client: reqwest::Client::new(),
            dir,
        }
    }
}

/// Sends `request`, with `body` (if any) as its JSON body, and reads the whole answer; a body that
/// is not JSON is kept as a string.
pub async fn send(mut request: RequestBuilder, body: Option<String>) -> Answer {
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        headers,
        body,
    }
}

/// An answer whose body may break off: what arrived before it did.
pub struct Partial {
    pub status: StatusCode,
    /// What `Content-Length` promised.
    pub declared: Option<u64>,
    pub received: Vec<u8>,
    /// Whether reading the body ended in an error rather than at its end.
    pub cut: bool,
}

/// Sends `request` and reads its body chunk by chunk until it ends or breaks off.
pub async fn send_partial(request: RequestBuilder) -> Partial {
    let mut response = request.send().await.unwrap();
    let status = response.status();
    let declared = response.content_length();
    let mut received = Vec::new();
    let cut = loop {
        match response.chunk().await {
            Ok(Some(chunk)) => received.extend_from_slice(&chunk),
            Ok(None) => break false,
            Err(_) => break true,
        }
    };
    Partial {
        status,
        declared,
        received,
        cut,
    }
}

impl Answer {
    /// The body of a 200.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        self.body
    }

    /// The header `name`, a whole number.
    pub fn header(&self, name: &str) -> i64 {
        self.headers[name].to_str().unwrap().parse().unwrap()
    }
}

/// An object's keys, in order.
pub fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// On a sandbox whose writes wait `delay`: starts `put`, then `read` (a GET of what it changes) a
/// quarter of `delay` later. Asserts the GET was answered first, with `before`, and the PUT took at
/// least `delay`; returns the PUT's answer.
pub async fn assert_put_waits_but_not_reads(
    delay: Duration,
    put: impl Future<Output = Answer>,
    read: impl Future<Output = Answer>,
    before: &Value,
) -> Answer {
    let put_finished = AtomicBool::new(false);
    let put = async {
        let started = Instant::now();
        let answer = put.await;
        put_finished.store(true, Ordering::SeqCst);
        (answer, started.elapsed())
    };
    let read = async {
        // Time for the PUT to reach the server and start waiting there.
        tokio::time::sleep(delay / 4).await;
        let answer = read.await;
        (answer, put_finished.load(Ordering::SeqCst))
    };
    let ((put, put_took), (read, put_done_first)) = tokio::join!(put, read);
    assert!(!put_done_first, "the GET was answered while the PUT waited");
    assert_eq!(read.ok(), *before, "nothing is applied before the delay");
    assert!(put_took >= delay, "{put_took:?}");
    put
}
