//! The shared HTTP core through a client: waiting for a rate limit is not failing, 429s are waited
//! out, lost answers are told apart from refusals, a hung server or host is given up on in time,
//! and what the core waits for is published.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use referee::api::http::{HttpCore, Limits};
use referee::api::vantio::{VantioClient, field_from_message};
use referee::api::{ApiError, Attempt, Client, NetStatus};
use referee::domain::schema::RefKind;
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn referral(id: &str) -> Value {
    json!({
        "id": id, "impression_id": "imp_1", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com", "status": "verified", "program_id": "prog_1",
        "student_id": "user_1", "created_at": "2026-01-01T10:00:00Z", "verified_at": null,
        "updated_at": "2026-01-02T10:00:00Z"
    })
}

fn verified() -> Map<String, Value> {
    json!({"status": "verified"}).as_object().unwrap().clone()
}

/// A v1 client whose requests time out after `timeout`.
fn client_with_timeout(base: &str, timeout: Duration) -> Client {
    client_with_limits(
        base,
        Limits {
            request_timeout: timeout,
            ..Limits::default()
        },
    )
}

fn client_with_limits(base: &str, limits: Limits) -> Client {
    let core = HttpCore::new(
        base,
        &SecretString::from(KEY.to_string()),
        &[],
        field_from_message,
        limits,
    )
    .unwrap();
    Client::new(VantioClient::new(core))
}

fn unix_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A server allowing `limit` requests per window of `window_ms`, opened by the first request after
/// the last one ended (as the sandbox does), reporting it in `X-RateLimit-*` headers and refusing
/// with 429 past the limit. Every answer comes `delay` after the request.
struct Windowed {
    limit: u32,
    window_ms: i64,
    delay: Duration,
    /// (window start in Unix ms, requests counted in it)
    state: Mutex<(i64, u32)>,
    refused: AtomicU32,
}

impl Respond for Windowed {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let now = unix_ms();
        let mut state = self.state.lock().unwrap();
        if now >= state.0 + self.window_ms {
            *state = (now, 0);
        }
        let end = state.0 + self.window_ms;
        let reset = end.div_euclid(1000) + i64::from(end.rem_euclid(1000) != 0);
        let allowed = state.1 < self.limit;
        if allowed {
            state.1 += 1;
        }
        let remaining = self.limit - state.1;
        let answer = if allowed {
            let id = request.url.path().rsplit('/').next().unwrap();
            ResponseTemplate::new(200).set_body_json(referral(id))
        } else {
            self.refused.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(429)
                .insert_header("Retry-After", (reset - now / 1000).max(1).to_string())
        };
        answer
            .insert_header("X-RateLimit-Limit", self.limit.to_string())
            .insert_header("X-RateLimit-Remaining", remaining.to_string())
            .insert_header("X-RateLimit-Reset", reset.to_string())
            .set_delay(self.delay)
    }
}

/// Every value `status` takes until the returned handle is dropped or aborted.
fn record(mut status: tokio::sync::watch::Receiver<NetStatus>) -> Arc<Mutex<Vec<NetStatus>>> {
    let seen = Arc::new(Mutex::new(vec![status.borrow().clone()]));
    let log = seen.clone();
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let value = status.borrow_and_update().clone();
            log.lock().unwrap().push(value);
        }
    });
    seen
}

#[tokio::test]
async fn waiting_for_the_next_window_longer_than_the_timeout_fails_no_request() {
    let server = MockServer::start().await;
    let limiter = Arc::new(Windowed {
        limit: 3,
        window_ms: 2000,
        delay: Duration::from_millis(300),
        state: Mutex::new((0, 0)),
        refused: AtomicU32::new(0),
    });
    Mock::given(method("PUT"))
        .respond_with(ArcRespond(limiter.clone()))
        .mount(&server)
        .await;
    // The timeout is shorter than the wait for the second window.
    let c = client_with_timeout(&format!("{}/api/v1", server.uri()), Duration::from_secs(1));
    let seen = record(c.net_status());
    let started = Instant::now();
    let puts = (0..5).map(|i| {
        let c = c.clone();
        tokio::spawn(async move { c.update(&format!("ref_{i}"), &verified()).await })
    });
    let results = futures::future::join_all(puts).await;
    for result in results {
        let record = result
            .unwrap()
            .unwrap_or_else(|e| panic!("{e:?}: {}", e.user_message()));
        assert_eq!(record.text("status"), "verified");
    }
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "the second window was waited for"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
    assert_eq!(limiter.refused.load(Ordering::SeqCst), 0, "never over");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().any(|s| s.rate_wait_until.is_some()),
        "the wait was published: {seen:?}"
    );
    assert_eq!(seen.last(), Some(&NetStatus::default()), "and cleared");
}

/// Lets a shared responder be mounted (its counters stay readable by the test).
struct ArcRespond(Arc<Windowed>);

impl Respond for ArcRespond {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.0.respond(request)
    }
}

#[tokio::test]
async fn a_429_on_a_v1_write_is_waited_out_and_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/referrals/ref_1"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/referrals/ref_1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(referral("ref_1")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    let seen = record(c.net_status());
    let started = Instant::now();
    let task = {
        let c = c.clone();
        tokio::spawn(async move { c.update("ref_1", &verified()).await })
    };
    // While it waits, the console can say until when and which request.
    let mut status = c.net_status();
    let waiting = tokio::time::timeout(
        Duration::from_secs(2),
        status.wait_for(|s| s.rate_wait_until.is_some()),
    )
    .await
    .expect("the wait is published")
    .unwrap()
    .clone();
    let until = waiting.rate_wait_until.unwrap();
    let from_now = until.as_millisecond() - unix_ms();
    assert!((0..=1100).contains(&from_now), "{from_now} ms");
    assert_eq!(
        waiting.requests,
        [Attempt {
            endpoint: "PUT /referrals/ref_1".into(),
            attempt: 2,
            of: 4,
            sent: None,
        }]
    );
    let record = task.await.unwrap().unwrap();
    assert_eq!(record.id, "ref_1");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(*c.net_status().borrow(), NetStatus::default(), "cleared");
    assert!(seen.lock().unwrap().len() >= 2);
}

#[tokio::test]
async fn a_retried_read_shows_its_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"referrals": []})))
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    let seen = record(c.net_status());
    c.referrals_page(0).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = seen.lock().unwrap();
    let mut retries: Vec<_> = seen
        .iter()
        .flat_map(|s| &s.requests)
        .filter(|a| a.attempt > 1)
        .map(|a| (a.endpoint.as_str(), a.attempt, a.of))
        .collect();
    retries.dedup();
    assert_eq!(retries, [("GET /referrals page 1", 2, 3)]);
    assert!(seen.iter().all(|s| s.rate_wait_until.is_none()), "{seen:?}");
    assert_eq!(seen.last(), Some(&NetStatus::default()));
}

async fn put_to(base: &str, timeout: Duration) -> ApiError {
    client_with_timeout(base, timeout)
        .update("ref_1", &verified())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn nothing_sent_is_a_known_outcome() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = put_to(&format!("http://{addr}/api/v1"), Duration::from_secs(5)).await;
    assert!(
        matches!(error, ApiError::Transport { sent: false, .. }),
        "{error:?}"
    );
    assert!(!error.outcome_unknown());
    assert_eq!(error.status(), None);
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_an_unknown_outcome() {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0; 4096];
            let _ = socket.read(&mut buffer).await;
            drop(socket);
        }
    });
    let error = put_to(&format!("http://{addr}/api/v1"), Duration::from_secs(5)).await;
    assert!(
        matches!(error, ApiError::Transport { sent: true, .. }),
        "{error:?}"
    );
    assert!(error.outcome_unknown());
    let text = error.user_message();
    assert!(
        !text.contains("Nothing was saved") && text.contains("may have"),
        "{text}"
    );
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_an_unknown_outcome() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(referral("ref_1"))
                .set_delay(Duration::from_secs(3)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let error = put_to(
        &format!("{}/api/v1", server.uri()),
        Duration::from_millis(300),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    match &error {
        ApiError::Transport {
            sent: true,
            message,
            ..
        } => assert!(message.contains("timed out"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(error.outcome_unknown());
}

#[tokio::test]
async fn an_unreadable_success_is_unknown_and_a_server_error_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/referrals/ref_1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>Welcome</html>", "text/html"))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/referrals/ref_2"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    let html = c.update("ref_1", &verified()).await.unwrap_err();
    assert!(
        matches!(html, ApiError::Decode { status: 200, .. }),
        "{html:?}"
    );
    assert!(html.outcome_unknown());
    assert_eq!(html.status(), Some(200));
    let failed = c.update("ref_2", &verified()).await.unwrap_err();
    assert!(matches!(failed, ApiError::Server { status: 500, .. }));
    assert!(!failed.outcome_unknown());
    for error in [
        ApiError::RateLimited { retry_after: None },
        ApiError::Unauthorized {
            message: "no".into(),
        },
    ] {
        assert!(!error.outcome_unknown(), "{error:?}");
    }
}

/// A server that answers every request with a 200 head promising more body than it sends, then
/// closes the connection; it keeps the first line of each request it was sent.
async fn breaking_off_server() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = [0; 4096];
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buffer[..n]);
            seen.lock()
                .unwrap()
                .push(head.lines().next().unwrap_or_default().to_string());
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(br#"{"id": "ref_1", "first_na"#).await;
            drop(socket);
        }
    });
    (addr, requests)
}

#[tokio::test]
async fn an_answer_that_breaks_off_says_the_server_answered_with_the_url() {
    let (addr, _) = breaking_off_server().await;
    let error = put_to(&format!("http://{addr}/api/v1"), Duration::from_secs(5)).await;
    match &error {
        ApiError::BrokenOff { url, status, .. } => {
            assert_eq!(*status, 200);
            assert_eq!(url, &format!("http://{addr}/api/v1/referrals/ref_1"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.outcome_unknown(),
        "a write whose answer broke off may have landed"
    );
    let text = error.user_message();
    assert!(
        text.contains("broke off")
            && text.contains(&format!("http://{addr}/api/v1/referrals/ref_1")),
        "{text}"
    );
    assert!(!text.contains("Could not reach"), "{text}");
}

#[tokio::test]
async fn a_403_says_the_key_lacks_rights_and_a_401_says_check_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/referrals/ref_1"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(serde_json::json!({"message": "Forbidden", "code": "forbidden"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/api/v1/referrals/ref_2"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                serde_json::json!({"message": "Unauthorized", "code": "unauthorized"}),
            ),
        )
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    let forbidden = c.update("ref_1", &verified()).await.unwrap_err();
    assert!(
        matches!(forbidden, ApiError::Forbidden { .. }),
        "{forbidden:?}"
    );
    assert_eq!(forbidden.status(), Some(403));
    assert!(!forbidden.outcome_unknown());
    let text = forbidden.user_message();
    assert!(
        text.contains("lacks the rights") && text.contains("403"),
        "{text}"
    );
    assert!(!text.contains("Check the key"), "{text}");
    let unauthorized = c.update("ref_2", &verified()).await.unwrap_err();
    assert!(unauthorized.user_message().contains("Check the key"));
}

#[tokio::test]
async fn a_key_in_the_base_url_is_sent_but_never_shown() {
    let (addr, requests) = breaking_off_server().await;
    let base = format!("http://user:pw_9@{addr}/api/v1?api_key=sk_secret_9&lang=en");
    let error = put_to(&base, Duration::from_secs(5)).await;
    let shown = [
        format!("{error:?}"),
        error.to_string(),
        error.user_message(),
    ];
    for text in &shown {
        assert!(
            !text.contains("sk_secret_9") && !text.contains("pw_9"),
            "{text}"
        );
    }
    assert!(
        shown[2].contains(&format!(
            "http://***@{addr}/api/v1/referrals/ref_1?api_key=***&lang=en"
        )),
        "{}",
        shown[2]
    );
    // Only what is shown changes: the request still carries the key as configured.
    let sent = requests.lock().unwrap().clone();
    assert_eq!(
        sent,
        ["PUT /api/v1/referrals/ref_1?api_key=sk_secret_9&lang=en HTTP/1.1"]
    );

    let bad = "ftp://h/api?token=sk_secret_9";
    let refused = Client::connect(referee::api::Connection {
        backend: referee::api::BackendKind::Vantio,
        base_url: bad,
        api_key: &SecretString::from(KEY.to_string()),
        account_id: None,
    })
    .err()
    .expect("ftp is refused");
    assert!(
        refused.contains("token=***") && !refused.contains("sk_secret_9"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_shows_the_page_and_attempt_then_gives_up() {
    let silent = silent_server().await;
    let c = client_with_timeout(&silent.v1_base_url(), Duration::from_millis(300));
    let mut status = c.net_status();
    let load = {
        let c = c.clone();
        tokio::spawn(async move { c.referrals_page(2).await })
    };
    // While the second attempt is out, the console can say which page, since when and which try.
    let second = tokio::time::timeout(
        Duration::from_secs(10),
        status.wait_for(|s| {
            s.requests
                .iter()
                .any(|a| a.attempt == 2 && a.sent.is_some())
        }),
    )
    .await
    .expect("the second attempt is published")
    .unwrap()
    .clone();
    let [attempt] = &second.requests[..] else {
        panic!("one request under way: {second:?}");
    };
    assert_eq!(
        (attempt.endpoint.as_str(), attempt.attempt, attempt.of),
        ("GET /referrals page 3", 2, 3)
    );
    let sent = attempt.sent.unwrap();
    assert!(sent <= jiff::Timestamp::now(), "{sent}");

    let error = load.await.unwrap().unwrap_err();
    match &error {
        ApiError::Transport {
            endpoint,
            message,
            sent: true,
        } => {
            assert_eq!(endpoint, "GET /referrals page 3");
            assert!(message.contains("timed out"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        silent
            .heard(|heard| heard.len() == 3 && heard.iter().all(|h| h.closed))
            .await,
        "three attempts, each given up"
    );
    assert_eq!(*c.net_status().borrow(), NetStatus::default(), "cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sees_the_first_page_out_even_when_nothing_changes_after_it() {
    // The first page goes out as the console starts and is never answered: nothing the HTTP core
    // publishes changes after that, so the console must already be watching when it is sent.
    let silent = silent_server().await;
    let mut app = app(&silent.v1_base_url(), "sk_test", 120, 20);
    let watching = app.run_until(futures::stream::pending(), |state| {
        state.net.requests.iter().any(|r| r.sent.is_some())
    });
    tokio::time::timeout(Duration::from_secs(10), watching)
        .await
        .expect("the console learns that a request was sent")
        .unwrap();
    let sent = &app.state.net.requests;
    assert!(
        sent.iter().any(|r| r.endpoint == "GET /referrals page 1"),
        "{sent:?}"
    );
}

#[test]
fn a_host_that_never_answers_is_given_up_on_long_before_the_request_timeout() {
    let limits = Limits::default();
    assert_eq!(limits.connect_timeout, Duration::from_secs(5));
    assert_eq!(limits.request_timeout, Duration::from_secs(30));
}

/// Linux only: it drops connection attempts to a listener whose queue is full without a word, as
/// a blackholed host does, so the connect timeout can be seen to end the request offline.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_connect_timeout_ends_a_connection_that_is_never_accepted() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut queued = Vec::new();
    loop {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), connect).await {
            Ok(stream) => queued.push(stream.unwrap()),
            Err(_) => break,
        }
        assert!(queued.len() < 64, "the listener's queue never filled");
    }
    let c = client_with_limits(
        &format!("http://{addr}/api/v1"),
        Limits {
            connect_timeout: Duration::from_millis(200),
            request_timeout: Duration::from_secs(20),
            ..Limits::default()
        },
    );
    let started = Instant::now();
    let error = c.update("ref_1", &verified()).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the connect timeout ended it, not the request timeout"
    );
    match &error {
        ApiError::Transport {
            message,
            sent: false,
            ..
        } => assert_eq!(message, "could not connect in time"),
        other => panic!("{other:?}"),
    }
    assert!(!error.outcome_unknown(), "nothing reached the server");
}

#[tokio::test]
async fn loads_and_lookups_held_by_a_used_up_window_say_until_when() {
    let server = MockServer::start().await;
    let reset = jiff::Timestamp::now().as_second() + 2;
    let used_up = |body: Value| {
        ResponseTemplate::new(200)
            .set_body_json(body)
            .insert_header("X-RateLimit-Limit", "10")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Reset", reset.to_string())
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(used_up(json!({"referrals": [referral("ref_1")]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(used_up(json!({"users": []})))
        .mount(&server)
        .await;
    let c = client(&format!("{}/api/v1", server.uri()), KEY);
    c.referrals_page(0).await.unwrap();
    // The window is used up: the next page and the names wait for it, and say so.
    let mut status = c.net_status();
    let (page, names, ()) = futures::join!(
        c.referrals_page(1),
        c.lookup_page(RefKind::User, 0),
        async {
            let held = tokio::time::timeout(
                Duration::from_secs(2),
                status.wait_for(|s| s.rate_wait_until.is_some() && s.requests.len() == 2),
            )
            .await
            .expect("the wait is published")
            .unwrap()
            .clone();
            let until = held.rate_wait_until.unwrap().as_second();
            assert!((reset..=reset + 1).contains(&until), "{until} for {reset}");
            let waiting: Vec<_> = held
                .requests
                .iter()
                .map(|a| (a.endpoint.as_str(), a.sent))
                .collect();
            assert_eq!(
                waiting,
                [("GET /referrals page 2", None), ("GET /users page 1", None)]
            );
        }
    );
    page.unwrap();
    names.unwrap();
    assert_eq!(*c.net_status().borrow(), NetStatus::default(), "cleared");
}

/// A v1 server that answers every request with an empty referral list over HTTP/1.1 keep-alive,
/// and counts the connections it was opened.
async fn counting_server() -> (String, Arc<AtomicU32>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicU32::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let body = r#"{"referrals": []}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let mut heard = Vec::new();
                let mut buffer = [0; 4096];
                while let Ok(n) = socket.read(&mut buffer).await {
                    if n == 0 {
                        return;
                    }
                    heard.extend_from_slice(&buffer[..n]);
                    // A GET has no body: each blank line ends a request.
                    while let Some(end) = heard.windows(4).position(|w| w == b"\r\n\r\n") {
                        heard.drain(..end + 4);
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    (base, connections)
}

#[tokio::test]
async fn requests_one_after_another_share_one_kept_alive_connection() {
    let (base, connections) = counting_server().await;
    let c = client(&base, KEY);
    for page in 0..5 {
        c.referrals_page(page).await.unwrap();
    }
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}
