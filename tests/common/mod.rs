//! Shared test harness: a real sandbox on 127.0.0.1:0 with a temp SQLite file, and the real app loop
//! on a `TestBackend` driven by synthetic keys.
#![allow(dead_code)]

pub mod cli;
pub mod fault_proxy;
pub mod pty;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use referee::api::{BackendKind, Client, Connection};
use referee::app::State;
use referee::app::state::Session;
use referee::domain::{Clock, MetadataMode};
use referee::runtime::App;
use referee::sandbox::{self, Quirks, RunningSandbox, SandboxConfig};
use referee::store::journal::Journal;
use secrecy::SecretString;

pub const KEY: &str = "sk_test";
pub const ADMIN: &str = "admin_test";
pub const ACCOUNT: &str = "acc_test";

pub struct Sandbox {
    pub server: RunningSandbox,
    pub dir: tempfile::TempDir,
}

pub async fn sandbox(seed: usize, rate_limit: u32, mode: MetadataMode) -> Sandbox {
    sandbox_tuned(seed, rate_limit, mode, |_| {}).await
}

/// A sandbox with test-only settings (write delay, chaos, a short rate window) adjusted by `tune`.
pub async fn sandbox_tuned(
    seed: usize,
    rate_limit: u32,
    mode: MetadataMode,
    tune: impl FnOnce(&mut SandboxConfig),
) -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let mut config = SandboxConfig {
        db_path: dir.path().join("sandbox.sqlite"),
        api_key: KEY.into(),
        rate_limit,
        metadata_mode: mode,
        seed,
        account_id: ACCOUNT.into(),
        write_delay: Duration::ZERO,
        chaos: 0.0,
        rate_window: Duration::from_secs(60),
        quirks: Quirks::default(),
    };
    tune(&mut config);
    let server = sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Sandbox { server, dir }
}

pub fn client(base_url: &str, key: &str) -> Client {
    connect(BackendKind::Vantio, base_url, key)
}

pub fn connect(backend: BackendKind, base_url: &str, key: &str) -> Client {
    Client::connect(Connection {
        backend,
        base_url,
        api_key: &SecretString::from(key.to_string()),
        account_id: Some(ACCOUNT),
    })
    .unwrap()
}

pub fn fixed_clock() -> Clock {
    Clock::fixed(
        "2026-11-21T10:00:00Z".parse().unwrap(),
        jiff::tz::TimeZone::UTC,
    )
}

pub fn app(base_url: &str, key: &str, width: u16, height: u16) -> App<TestBackend> {
    app_for(BackendKind::Vantio, base_url, key, width, height)
}

pub fn app_for(
    backend: BackendKind,
    base_url: &str,
    key: &str,
    width: u16,
    height: u16,
) -> App<TestBackend> {
    let journal = std::sync::Arc::new(Journal::in_memory());
    app_journaled(backend, base_url, key, (width, height), journal)
}

/// An app whose writes go to `journal` (one on disk, to read back or to start again from).
pub fn app_journaled(
    backend: BackendKind,
    base_url: &str,
    key: &str,
    (width, height): (u16, u16),
    journal: std::sync::Arc<Journal>,
) -> App<TestBackend> {
    app_journaled_as("test", backend, base_url, key, (width, height), journal)
}

/// Like `app_journaled`, writing (and reconciling) as profile `profile`: the name the binary uses
/// for the same server (`env` when it runs from flags and environment alone).
pub fn app_journaled_as(
    profile: &str,
    backend: BackendKind,
    base_url: &str,
    key: &str,
    (width, height): (u16, u16),
    journal: std::sync::Arc<Journal>,
) -> App<TestBackend> {
    let session = Session {
        profile: profile.into(),
        backend: backend.as_str(),
        admin_id: Some(ADMIN.into()),
        metadata_mode: MetadataMode::Merge,
        concurrency: 4,
        read_only: false,
    };
    let state = State::new(session, backend.schema(), fixed_clock());
    let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut app = App::new(state, terminal, connect(backend, base_url, key), journal);
    app.freeze_clock();
    app
}

/// A journal on disk in `dir`, shared with the app under test.
pub fn journal_in(dir: &std::path::Path) -> std::sync::Arc<Journal> {
    std::sync::Arc::new(Journal::open(dir).expect("a journal in the temp folder"))
}

/// The first loaded referral that passes `test`.
pub fn first_record(
    app: &App<TestBackend>,
    test: impl Fn(&referee::domain::Record) -> bool,
) -> referee::domain::Record {
    app.state
        .records
        .iter()
        .find(|r| test(r))
        .cloned()
        .expect("a loaded referral like that")
}

/// The ids of the first `count` loaded referrals that pass `test`, in the list's loaded order.
pub fn first_ids(
    app: &App<TestBackend>,
    count: usize,
    test: impl Fn(&referee::domain::Record) -> bool,
) -> Vec<String> {
    let ids = app.state.records.iter().filter(|r| test(r)).take(count);
    ids.map(|r| r.id.clone()).collect()
}

/// PUTs `body` on referral `id` straight to the v1 sandbox at `base`, as another admin would
/// behind the console's back.
pub async fn put_behind(base: &str, id: &str, body: serde_json::Value) {
    let answer = reqwest::Client::new()
        .put(format!("{base}/referrals/{id}"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        answer.status().is_success(),
        "the other writer's PUT failed: {}",
        answer.status()
    );
}

/// Starts the app and waits for everything to load.
pub async fn loaded(app: &mut App<TestBackend>) {
    app.start();
    assert!(
        app.settle(Duration::from_secs(10)).await,
        "loading did not finish"
    );
    app.draw().unwrap();
}

pub async fn settle(app: &mut App<TestBackend>) {
    assert!(
        app.settle(Duration::from_secs(10)).await,
        "requests did not finish"
    );
    app.draw().unwrap();
}

pub fn press(app: &mut App<TestBackend>, code: KeyCode) {
    app.press(KeyEvent::new(code, KeyModifiers::NONE));
    app.draw().unwrap();
}

pub fn ctrl(app: &mut App<TestBackend>, c: char) {
    app.press(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    app.draw().unwrap();
}

pub fn alt(app: &mut App<TestBackend>, c: char) {
    app.press(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT));
    app.draw().unwrap();
}

pub fn shift_tab(app: &mut App<TestBackend>) {
    app.press(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    app.draw().unwrap();
}

pub fn type_text(app: &mut App<TestBackend>, text: &str) {
    for c in text.chars() {
        app.press(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    app.draw().unwrap();
}

/// The screen as lines of text.
pub fn screen(app: &App<TestBackend>) -> Vec<String> {
    let buffer = app.terminal.backend().buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

pub fn screen_text(app: &App<TestBackend>) -> String {
    screen(app).join("\n")
}

/// (x, y) of the first occurrence of `needle` on screen.
pub fn find(app: &App<TestBackend>, needle: &str) -> Option<(u16, u16)> {
    screen(app).iter().enumerate().find_map(|(y, line)| {
        line.find(needle)
            .map(|byte| (line[..byte].chars().count() as u16, y as u16))
    })
}

pub fn fg_at(app: &App<TestBackend>, at: (u16, u16)) -> ratatui::style::Color {
    app.terminal.backend().buffer()[at].fg
}

/// GET a v2 referral straight from the sandbox, bypassing the client under test.
pub async fn server_record_v2(base_url: &str, id: &str) -> serde_json::Value {
    server_get(base_url, id, &[("Account-ID", ACCOUNT)]).await
}

/// GET a referral straight from the sandbox, bypassing the client under test.
pub async fn server_record(base_url: &str, id: &str) -> serde_json::Value {
    server_get(base_url, id, &[]).await
}

/// Waits out a 429 (the console may have used the rate-limit window up) a few times.
async fn server_get(base_url: &str, id: &str, headers: &[(&str, &str)]) -> serde_json::Value {
    for _ in 0..5 {
        let mut request = reqwest::Client::new()
            .get(format!("{base_url}/referrals/{id}"))
            .bearer_auth(KEY);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let answer = request.send().await.unwrap();
        if answer.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
            return answer.json().await.unwrap();
        }
        let wait = answer
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
            .unwrap_or(1);
        tokio::time::sleep(Duration::from_secs(wait.min(5))).await;
    }
    panic!("the sandbox kept answering 429 for {id}")
}

/// Serves `app` on 127.0.0.1 (a free port) until the task is aborted; the base URL of its v1 API.
pub async fn serve_v1(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (base, task)
}

/// What a `SilentServer` heard on one connection: the request's first line, and whether the
/// client has since closed the connection (given up or stopped).
#[derive(Debug, Clone, PartialEq)]
pub struct Heard {
    pub line: String,
    pub closed: bool,
}

/// A hung server: it accepts every connection and reads the request, but never answers.
pub struct SilentServer {
    pub addr: std::net::SocketAddr,
    heard: tokio::sync::watch::Receiver<Vec<Heard>>,
}

pub async fn silent_server() -> SilentServer {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, heard) = tokio::sync::watch::channel(Vec::<Heard>::new());
    let tx = std::sync::Arc::new(tx);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buffer = [0; 4096];
                let n = socket.read(&mut buffer).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buffer[..n]);
                let line = head.lines().next().unwrap_or_default().to_string();
                let mut index = 0;
                tx.send_modify(|heard| {
                    index = heard.len();
                    heard.push(Heard {
                        line,
                        closed: false,
                    });
                });
                // Not a word back; the read ends when the client closes the connection.
                while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
                tx.send_modify(|heard| heard[index].closed = true);
            });
        }
    });
    SilentServer { addr, heard }
}

impl SilentServer {
    pub fn v1_base_url(&self) -> String {
        format!("http://{}/api/v1", self.addr)
    }

    /// Waits (at most 10 s) until what the server heard passes `test`; false if it never does.
    pub async fn heard(&self, test: impl FnMut(&Vec<Heard>) -> bool) -> bool {
        let mut heard = self.heard.clone();
        tokio::time::timeout(Duration::from_secs(10), heard.wait_for(test))
            .await
            .is_ok_and(|waited| waited.is_ok())
    }
}
