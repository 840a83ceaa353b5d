//! The HTTP core every backend shares: base URL and auth headers, timeouts, pacing under the
//! server's rate limit, retries, and turning any answer (JSON, HTML error page, empty body, dropped
//! connection) into a value or an `ApiError`.
//!
//! Waiting is not failing: pacing (the `Pacer` and the rate-limit `Budget`) happens before a request
//! is sent and never holds a lock while it sleeps; a request's timeout starts when it is sent; an
//! answer that has arrived is read at once and always used; connecting has a short timeout of its
//! own, so a host that does not answer at all is given up on in seconds. What the core is waiting
//! for (a rate limit, each request under way and its attempt) is published as a `NetStatus` so the
//! console can say it.

use std::collections::VecDeque;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{Notify, watch};

use super::MakeBody;
use tokio::time::Instant;

use super::error::ApiError;

/// How long making the connection may take, by default: a host that does not answer at all is
/// given up on in seconds, not after the whole request timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request may take from when it is sent until its answer has been read, by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How a backend names the field an error is about; v1 puts it in the message, v2 in `errors`.
pub type FieldFinder = fn(&Value) -> Vec<(String, String)>;

/// Reads that failed for a passing reason (5xx, no answer) are tried this many more times.
const READ_RETRIES: u32 = 2;
const READ_BACKOFF: Duration = Duration::from_millis(300);
/// A rate-limited request waits and is tried again this many times.
const RATE_LIMIT_RETRIES: u32 = 3;
/// Longest wait for a rate limit before giving up and telling the user.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(65);
/// Added to a window's reset second, so a request that waited for it lands in the next window.
const RESET_SLACK_MS: u64 = 50;
/// Pacing waits shorter than this are not worth telling the user about.
const SHOWN_PACING_WAIT: Duration = Duration::from_secs(1);

/// What a backend's client does about limits: pace itself, wait out 429s, and how long a request
/// may take once sent.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// At most this many requests in any minute (at once while under it); requests queue rather
    /// than fail.
    pub per_minute: Option<u32>,
    /// Wait until the next minute on a 429 that does not say how long (`Retry-After`), and try
    /// again. A 429 that says how long is always waited out (up to `MAX_RATE_LIMIT_WAIT`).
    pub wait_on_429: bool,
    /// From when a request is sent until its answer has been read. Waits for pacing or a rate
    /// limit happen before sending and never count against it.
    pub request_timeout: Duration,
    /// How long making the connection may take (part of the request timeout, and never longer).
    pub connect_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_minute: None,
            wait_on_429: false,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }
}

/// What the HTTP core is waiting for right now, for the console to say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetStatus {
    /// Requests are held until this wall-clock time for the server's rate limit.
    pub rate_wait_until: Option<jiff::Timestamp>,
    /// Every request under way, oldest first, from when it is asked for until it ends.
    pub requests: Vec<Attempt>,
}

/// A request under way: which attempt at it this is, and whether it has been sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Method and path, and the page for a listing: "GET /referrals/ref_1", "GET /referrals page 3".
    pub endpoint: String,
    /// Which attempt this is: 2 is the first retry.
    pub attempt: u32,
    /// Out of how many attempts at most: while it is out, should it get no answer (a read is tried
    /// again, a write is not); while it waits out a 429, should the server keep refusing.
    pub of: u32,
    /// When this attempt was sent; None while it waits to be sent (its turn, or the pause before
    /// it is tried again).
    pub sent: Option<jiff::Timestamp>,
}

/// Keeps a per-minute limit: a request may leave at once while fewer than `limit` left in the
/// last minute, so bursts go out together; otherwise it waits until the oldest of those is a
/// minute (and `WINDOW_SLACK`) old. A sliding window, not a token bucket: a bucket refilling
/// while it is drained lets nearly twice the limit out in the first minute.
struct Pacer {
    limit: usize,
    /// When each of the latest (at most `limit`) requests left or will leave, oldest first.
    slots: Mutex<VecDeque<Instant>>,
}

/// The window a per-minute limit counts over.
const MINUTE: Duration = Duration::from_secs(60);
/// Added to the window: a request's answer may take longer to arrive than the one a minute
/// before it, and the server counts arrivals.
const WINDOW_SLACK: Duration = Duration::from_millis(250);

impl Pacer {
    fn new(limit: u32) -> Pacer {
        let limit = limit as usize;
        Pacer {
            limit,
            slots: Mutex::new(VecDeque::with_capacity(limit)),
        }
    }

    /// Reserves the earliest slot at or after `now` that keeps the limit and returns it; the
    /// caller sleeps until then, holding nothing.
    fn reserve(&self, now: Instant) -> Instant {
        let mut slots = lock(&self.slots);
        let slot = if slots.len() < self.limit {
            now
        } else {
            // The `limit`-th latest request before this one: this one may leave a minute after it.
            let oldest = slots.pop_front().unwrap_or(now);
            now.max(oldest + MINUTE + WINDOW_SLACK)
        };
        slots.push_back(slot);
        slot
    }
}

/// What the server's `X-RateLimit-Remaining` / `X-RateLimit-Reset` headers (or a 429) say is left,
/// counted down locally as requests leave, so concurrent requests never go over the limit.
/// Only a plain mutex, never held across an await: bookkeeping never waits on a sleeper.
#[derive(Default)]
struct Budget {
    state: Mutex<BudgetState>,
    /// Woken whenever a request ends, for requests waiting to learn a new window's budget.
    ended: Notify,
}

#[derive(Default)]
struct BudgetState {
    /// (requests left in the window, Unix millisecond the window resets at), once a server has said.
    left: Option<(u64, u64)>,
    /// Requests sent and not answered yet: a new window's count may not include them.
    in_flight: u64,
    /// The latest answer did not report the limit. Until then (from the start, and after every
    /// window) one request goes first and its answer tells the rest what the window allows, so no
    /// request is counted twice and none goes over.
    silent: bool,
}

/// What a request may do about the budget now.
enum Turn {
    /// Go: one request has been counted.
    Go,
    /// The window is used up until this Unix millisecond.
    Until(u64),
    /// A new window has started and its first request is out: wait for its answer.
    AfterAnswer,
}

impl Budget {
    fn try_take(&self, now_ms: u64) -> Turn {
        let mut state = lock(&self.state);
        if let Some((0, reset)) = state.left {
            let end = reset + RESET_SLACK_MS;
            if now_ms < end {
                // A wait past the cap is not waited: the server's 429 tells the user.
                if end - now_ms <= MAX_RATE_LIMIT_WAIT.as_millis() as u64 {
                    return Turn::Until(end);
                }
            }
            state.left = None;
        }
        if state.left.is_none() && !state.silent && state.in_flight > 0 {
            return Turn::AfterAnswer;
        }
        if let Some((remaining, _)) = state.left.as_mut() {
            *remaining = remaining.saturating_sub(1);
        }
        state.in_flight += 1;
        Turn::Go
    }

    /// A counted request ended without an answer.
    fn release(&self) {
        let mut state = lock(&self.state);
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.ended.notify_waiters();
    }

    /// A counted request was answered: learn what the server says is left.
    fn observe(&self, headers: &HeaderMap) {
        let mut state = lock(&self.state);
        state.in_flight = state.in_flight.saturating_sub(1);
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        match (number("x-ratelimit-remaining"), number("x-ratelimit-reset")) {
            (Some(remaining), Some(reset)) => {
                state.silent = false;
                let reset = absolute_reset(reset) * 1000;
                let in_flight = state.in_flight;
                state.left = Some(match state.left {
                    // Same window: requests still in flight are already counted down locally.
                    Some((mine, known_reset)) if known_reset == reset => {
                        (mine.min(remaining), reset)
                    }
                    // An answer from a window that has already ended tells nothing about this one.
                    Some(current) if reset < current.1 => current,
                    // A new window: the requests still in flight may land in it too.
                    _ => (remaining.saturating_sub(in_flight), reset),
                });
            }
            _ => state.silent = true,
        }
        drop(state);
        self.ended.notify_waiters();
    }

    /// The server refused a request for its rate limit until `until_ms`: hold every request.
    fn refused_until(&self, until_ms: u64) {
        let mut state = lock(&self.state);
        match state.left {
            Some((0, reset)) if reset >= until_ms => {}
            _ => state.left = Some((0, until_ms.saturating_sub(RESET_SLACK_MS))),
        }
    }
}

/// Counts one request in flight until it is answered or given up; a request dropped halfway
/// (its task cancelled) still ends.
struct InFlight<'a> {
    budget: &'a Budget,
    done: bool,
}

impl InFlight<'_> {
    fn answered(mut self, headers: &HeaderMap) {
        self.done = true;
        self.budget.observe(headers);
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.budget.release();
        }
    }
}

/// The `NetStatus` channel, how many waits hold `rate_wait_until` up, and the requests under way.
struct Status {
    tx: watch::Sender<NetStatus>,
    /// Waits in progress; `rate_wait_until` is cleared when the last one ends.
    waits: Mutex<u32>,
    underway: Mutex<Underway>,
}

/// The requests under way, each under a number that tells it apart from the others.
#[derive(Default)]
struct Underway {
    /// The number the next request gets; numbers only grow, so `requests` stays oldest first.
    next: u64,
    requests: Vec<(u64, Attempt)>,
}

/// One published rate-limit wait; ending it (or dropping it) clears the status when it was the last.
struct Waiting<'a>(&'a Status);

/// A request listed in `NetStatus::requests` until it ends, or is dropped halfway (its task
/// stopped).
struct Tracked<'a> {
    status: &'a Status,
    number: u64,
}

impl Status {
    fn hold_until(&self, until: jiff::Timestamp) -> Waiting<'_> {
        let mut waits = lock(&self.waits);
        *waits += 1;
        self.tx.send_if_modified(|s| {
            if s.rate_wait_until.is_some_and(|t| t >= until) {
                return false;
            }
            s.rate_wait_until = Some(until);
            true
        });
        Waiting(self)
    }

    /// Lists a request, not sent yet, from now until the returned guard is dropped.
    fn track(&self, endpoint: String) -> Tracked<'_> {
        let mut underway = lock(&self.underway);
        let number = underway.next;
        underway.next += 1;
        let first = Attempt {
            endpoint,
            attempt: 1,
            of: 1,
            sent: None,
        };
        underway.requests.push((number, first));
        self.publish(&underway);
        Tracked {
            status: self,
            number,
        }
    }

    /// Tells the console the requests under way, if they changed.
    fn publish(&self, underway: &Underway) {
        let requests: Vec<Attempt> = underway.requests.iter().map(|(_, a)| a.clone()).collect();
        self.tx.send_if_modified(|s| {
            if s.requests == requests {
                return false;
            }
            s.requests = requests;
            true
        });
    }
}

impl Tracked<'_> {
    fn change(&self, change: impl FnOnce(&mut Attempt)) {
        let mut underway = lock(&self.status.underway);
        if let Some((_, attempt)) = underway
            .requests
            .iter_mut()
            .find(|(n, _)| *n == self.number)
        {
            change(attempt);
        }
        self.status.publish(&underway);
    }

    /// Attempt `attempt` of at most `of` waits to be sent.
    fn waiting(&self, attempt: u32, of: u32) {
        self.change(|a| {
            a.attempt = attempt;
            a.of = of;
            a.sent = None;
        });
    }

    /// The attempt has just been sent.
    fn sent(&self) {
        self.change(|a| a.sent = Some(jiff::Timestamp::now()));
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        let mut underway = lock(&self.status.underway);
        underway.requests.retain(|(n, _)| *n != self.number);
        self.status.publish(&underway);
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut waits = lock(&self.0.waits);
        *waits = waits.saturating_sub(1);
        if *waits == 0 {
            self.0
                .tx
                .send_if_modified(|s| s.rate_wait_until.take().is_some());
        }
    }
}

/// Pacing and status, shared by every clone of a core.
struct Shared {
    pacer: Option<Pacer>,
    budget: Budget,
    status: Status,
}

#[derive(Clone)]
pub struct HttpCore {
    client: reqwest::Client,
    base: url::Url,
    find_fields: FieldFinder,
    limits: Limits,
    shared: Arc<Shared>,
}

/// `X-RateLimit-Reset` as a Unix second. Servers differ: small values are seconds from now, huge
/// ones milliseconds.
fn absolute_reset(reset: u64) -> u64 {
    const A_YEAR: u64 = 365 * 86_400;
    let now = unix_now();
    if reset < 1_000_000_000 {
        now + reset
    } else if reset > now + A_YEAR {
        reset / 1000
    } else {
        reset
    }
}

fn unix_now() -> u64 {
    unix_now_ms() / 1000
}

fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

/// A poisoned lock still holds consistent counters: nothing panics while holding one.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The wall-clock time `wait` from now.
fn wall_clock_in(wait: Duration) -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    now.checked_add(wait).unwrap_or(now)
}

impl HttpCore {
    /// `extra` adds backend headers (FirstPromoter's `Account-ID`) to the bearer key.
    pub fn new(
        base_url: &str,
        api_key: &SecretString,
        extra: &[(&'static str, String)],
        find_fields: FieldFinder,
        limits: Limits,
    ) -> Result<Self, String> {
        let shown = crate::redact::url(base_url);
        let base = url::Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| format!("base_url `{shown}` is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(format!(
                "base_url `{shown}` must start with http:// or https://"
            ));
        }
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", api_key.expose_secret()))
            .map_err(|_| {
                "the API key has characters that cannot go in an HTTP header".to_string()
            })?;
        auth.set_sensitive(true);
        headers.insert(reqwest::header::AUTHORIZATION, auth);
        for (name, value) in extra {
            let value = HeaderValue::from_str(value)
                .map_err(|_| format!("{name} `{value}` cannot go in an HTTP header"))?;
            headers.insert(HeaderName::from_static(name), value);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(limits.connect_timeout.min(limits.request_timeout))
            .user_agent(concat!("referee/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not set up HTTP: {e}"))?;
        let pacer = limits.per_minute.filter(|n| *n > 0).map(Pacer::new);
        Ok(HttpCore {
            client,
            base,
            find_fields,
            limits,
            shared: Arc::new(Shared {
                pacer,
                budget: Budget::default(),
                status: Status {
                    tx: watch::channel(NetStatus::default()).0,
                    waits: Mutex::new(0),
                    underway: Mutex::default(),
                },
            }),
        })
    }

    /// What this core is waiting for: a rate-limit wait, the requests under way, as they change.
    pub fn net_status(&self) -> watch::Receiver<NetStatus> {
        self.shared.status.tx.subscribe()
    }

    /// The URL for `segments` under the base. Every byte of a segment but unreserved ones is
    /// percent-encoded, so an email or uid used as an id (`a+b@x.io`) arrives exactly as it is.
    fn url(&self, segments: &[&str]) -> url::Url {
        let mut url = self.base.clone();
        let mut path = url.path().trim_end_matches('/').to_string();
        for segment in segments {
            path.push('/');
            path.push_str(&encode_segment(segment));
        }
        url.set_path(&path);
        url
    }

    pub async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let endpoint = endpoint(&Method::GET, segments);
        self.send(Method::GET, endpoint, segments, query, None)
            .await
    }

    /// Page `index` (from 0) of a listing; shown and reported as "GET /referrals page 3".
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        index: usize,
    ) -> Result<T, ApiError> {
        let endpoint = format!("{} page {}", endpoint(&Method::GET, segments), index + 1);
        self.send(Method::GET, endpoint, segments, query, None)
            .await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &Value,
    ) -> Result<T, ApiError> {
        let endpoint = endpoint(&Method::POST, segments);
        self.send(
            Method::POST,
            endpoint,
            segments,
            &[],
            Some(&|| Ok(body.clone())),
        )
        .await
    }

    /// A PUT whose body is made by `body` once the request may leave (see `MakeBody`).
    pub async fn put<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: MakeBody<'_, Value>,
    ) -> Result<T, ApiError> {
        let endpoint = endpoint(&Method::PUT, segments);
        self.send(Method::PUT, endpoint, segments, &[], Some(body))
            .await
    }

    /// Sleeps for `wait`, telling the console that requests are held for the rate limit.
    async fn hold(&self, wait: Duration) {
        let _waiting = self.shared.status.hold_until(wall_clock_in(wait));
        tokio::time::sleep(wait).await;
    }

    /// Waits until this request may leave: its pacing slot, then the server's budget. Nothing is
    /// locked while sleeping; the budget is checked again after every wait.
    async fn wait_turn(&self) -> InFlight<'_> {
        if let Some(pacer) = &self.shared.pacer {
            let slot = pacer.reserve(Instant::now());
            let wait = slot.saturating_duration_since(Instant::now());
            if wait >= SHOWN_PACING_WAIT {
                self.hold(wait).await;
            } else {
                tokio::time::sleep_until(slot).await;
            }
        }
        let budget = &self.shared.budget;
        loop {
            let mut ended = pin!(budget.ended.notified());
            ended.as_mut().enable();
            let now_ms = unix_now_ms();
            match budget.try_take(now_ms) {
                Turn::Go => {
                    return InFlight {
                        budget,
                        done: false,
                    };
                }
                Turn::Until(end_ms) => {
                    self.hold(Duration::from_millis(end_ms.saturating_sub(now_ms)))
                        .await
                }
                // Bounded: a request that never ends must not hold the rest for ever.
                Turn::AfterAnswer => {
                    let _ = tokio::time::timeout(self.limits.request_timeout, ended).await;
                }
            }
        }
    }

    /// Sends with pacing and retries: reads are retried after passing failures; any request is
    /// sent again after a 429 (the server applied nothing) when it is known how long to wait.
    /// The request is listed in the `NetStatus` while it is under way.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: String,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<MakeBody<'_, Value>>,
    ) -> Result<T, ApiError> {
        // Reads are tried again after a passing failure (no answer, 5xx); writes are not: they
        // may have landed.
        let retry_limit = if method == Method::GET {
            READ_RETRIES
        } else {
            0
        };
        let request = self.shared.status.track(endpoint.clone());
        let (mut read_retries, mut rate_retries) = (0, 0);
        loop {
            let attempt = 1 + read_retries + rate_retries;
            request.waiting(attempt, attempt + retry_limit - read_retries);
            let result = self
                .send_once(&request, &endpoint, method.clone(), segments, query, body)
                .await;
            let (wait, left) = match &result {
                Err(ApiError::RateLimited { retry_after }) if rate_retries < RATE_LIMIT_RETRIES => {
                    let wait = retry_after.or(self.limits.wait_on_429.then(until_next_minute));
                    match wait {
                        Some(wait) if wait <= MAX_RATE_LIMIT_WAIT => {
                            rate_retries += 1;
                            (wait, RATE_LIMIT_RETRIES - rate_retries)
                        }
                        _ => return result,
                    }
                }
                Err(
                    ApiError::Server { .. }
                    | ApiError::Transport { .. }
                    | ApiError::BrokenOff { .. },
                ) if read_retries < retry_limit => {
                    read_retries += 1;
                    (READ_BACKOFF * read_retries, retry_limit - read_retries)
                }
                _ => return result,
            };
            let next = 1 + read_retries + rate_retries;
            tracing::info!(?wait, attempt = next, "retrying {endpoint}");
            request.waiting(next, next + left);
            if matches!(result, Err(ApiError::RateLimited { .. })) {
                // Every other request would be refused too: hold them all, then try again.
                self.shared
                    .budget
                    .refused_until(unix_now_ms() + wait.as_millis() as u64);
                self.hold(wait).await;
            } else {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// One attempt: waits for its turn, sends, reads the whole answer within the request timeout,
    /// and only then does the (never waiting) bookkeeping.
    async fn send_once<T: DeserializeOwned>(
        &self,
        tracked: &Tracked<'_>,
        endpoint: &str,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<MakeBody<'_, Value>>,
    ) -> Result<T, ApiError> {
        let in_flight = self.wait_turn().await;
        let url = self.url(segments);
        let mut request = self
            .client
            .request(method, url.clone())
            .query(query)
            .timeout(self.limits.request_timeout);
        if let Some(make) = body {
            // Made now, after the wait for a turn: a time in it is the time it leaves.
            let body = make().map_err(|message| ApiError::NotSent {
                endpoint: endpoint.to_string(),
                message,
            })?;
            request = request.json(&body);
        }
        let transport = |e: reqwest::Error| transport_error(endpoint, &e);
        // The timeout starts here, when the request is sent.
        tracked.sent();
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await;
        // The server has answered, so it counted the request, whether or not the body arrived whole.
        in_flight.answered(&headers);
        let bytes = match bytes {
            Ok(bytes) => bytes,
            // The server answered: its status says what it did, unless it was a success whose
            // body (the record it left) never arrived whole.
            Err(e) if status.is_success() => {
                return Err(ApiError::BrokenOff {
                    endpoint: endpoint.to_string(),
                    url: crate::redact::url(url.as_str()).into_owned(),
                    message: body_break(&e),
                    status: status.as_u16(),
                });
            }
            Err(_) => Default::default(),
        };
        tracing::debug!(%endpoint, %status, bytes = bytes.len(), "answer");
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
                endpoint: endpoint.to_string(),
                message: decode_problem(&bytes, &e),
                status: status.as_u16(),
            });
        }
        Err(self.error_for(status, endpoint, &bytes, retry_after(&headers)))
    }

    fn error_for(
        &self,
        status: StatusCode,
        endpoint: &str,
        bytes: &[u8],
        retry_after: Option<Duration>,
    ) -> ApiError {
        let json = serde_json::from_slice::<Value>(bytes).ok();
        let message = json
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| body_summary(status, bytes));
        match status.as_u16() {
            400 | 422 => ApiError::Invalid {
                status: status.as_u16(),
                fields: json.as_ref().map(self.find_fields).unwrap_or_default(),
                message,
            },
            401 => ApiError::Unauthorized { message },
            403 => ApiError::Forbidden {
                endpoint: endpoint.to_string(),
                message,
            },
            404 => ApiError::NotFound {
                endpoint: endpoint.to_string(),
                message,
            },
            429 => ApiError::RateLimited { retry_after },
            500..=599 => ApiError::Server {
                status: status.as_u16(),
                message,
            },
            code => ApiError::Refused {
                status: code,
                message,
            },
        }
    }
}

/// A short account of an error body that is not the documented JSON.
fn body_summary(status: StatusCode, bytes: &[u8]) -> String {
    let reason = status.canonical_reason().unwrap_or("error").to_string();
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        reason
    } else if text.starts_with('<') {
        format!("{reason}, and an HTML page instead of JSON")
    } else {
        let short: String = text.chars().take(120).collect();
        format!("{reason}: {short}")
    }
}

fn decode_problem(bytes: &[u8], error: &serde_json::Error) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.trim_start().starts_with('<') {
        "got an HTML page instead of JSON".to_string()
    } else if text.trim().is_empty() {
        "got an empty body".to_string()
    } else {
        error.to_string()
    }
}

/// Why an answer's body stopped, in words.
fn body_break(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "it stopped arriving before the request timed out".to_string()
    } else {
        "the connection closed mid-answer".to_string()
    }
}

/// A request that got no (whole) answer. `sent` is false only when the connection was never made,
/// so nothing can have reached the server.
fn transport_error(endpoint: &str, e: &reqwest::Error) -> ApiError {
    let sent = !(e.is_connect() || e.is_builder());
    let message = if e.is_connect() && e.is_timeout() {
        "could not connect in time".to_string()
    } else if e.is_connect() {
        "connection refused or host unreachable".to_string()
    } else if e.is_timeout() {
        "the request timed out".to_string()
    } else if e.is_body() || e.is_decode() {
        "the connection dropped while reading the answer".to_string()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        match e.url() {
            Some(url) => crate::redact::in_message(&text, url.as_str()),
            None => text,
        }
    };
    ApiError::Transport {
        endpoint: endpoint.to_string(),
        message,
        sent,
    }
}

/// "GET /referrals/ref_1": how a request is named in the status bar, errors and the log.
fn endpoint(method: &Method, segments: &[&str]) -> String {
    format!("{method} /{}", segments.join("/"))
}

fn encode_segment(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// With no `Retry-After`, a per-minute limit resets at the next minute.
fn until_next_minute() -> Duration {
    Duration::from_secs(60 - unix_now() % 60)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit_headers(remaining: u64, reset: u64) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
        headers
    }

    #[test]
    fn a_used_up_window_is_waited_for_then_one_request_learns_the_next() {
        let budget = Budget::default();
        let now = unix_now();
        let reset = now + 2;
        assert!(matches!(budget.try_take(now * 1000), Turn::Go));
        assert!(
            matches!(budget.try_take(now * 1000), Turn::AfterAnswer),
            "the first request goes alone"
        );
        budget.observe(&limit_headers(1, reset));
        assert!(matches!(budget.try_take(now * 1000), Turn::Go));
        match budget.try_take(now * 1000) {
            Turn::Until(end) => assert_eq!(end, reset * 1000 + RESET_SLACK_MS),
            _ => panic!("the window is used up"),
        }
        // An answer arriving meanwhile is taken in at once: nothing is locked by the waiter.
        budget.observe(&limit_headers(0, reset));
        let after = reset * 1000 + RESET_SLACK_MS;
        assert!(matches!(budget.try_take(after), Turn::Go));
        assert!(matches!(budget.try_take(after), Turn::AfterAnswer));
        budget.release();
        assert!(matches!(budget.try_take(after), Turn::Go));
    }

    #[test]
    fn a_server_without_headers_is_not_held_back() {
        let budget = Budget::default();
        assert!(matches!(budget.try_take(0), Turn::Go));
        budget.observe(&HeaderMap::new());
        for _ in 0..10 {
            assert!(matches!(budget.try_take(0), Turn::Go));
        }
    }

    #[test]
    fn a_refusal_holds_every_request_until_it_ends() {
        let budget = Budget::default();
        budget.refused_until(10_000);
        assert!(matches!(budget.try_take(5_000), Turn::Until(10_000)));
        assert!(matches!(budget.try_take(10_000), Turn::Go));
    }

    #[test]
    fn a_burst_up_to_the_limit_leaves_at_once_and_the_next_waits_for_the_window() {
        let pacer = Pacer::new(400);
        let start = Instant::now();
        for n in 0..400 {
            let at = start + Duration::from_millis(n);
            assert_eq!(pacer.reserve(at), at, "request {} waits", n + 1);
        }
        let late = start + Duration::from_secs(10);
        assert_eq!(
            pacer.reserve(late),
            start + MINUTE + WINDOW_SLACK,
            "the 401st leaves a minute after the first"
        );
        assert_eq!(
            pacer.reserve(late),
            start + Duration::from_millis(1) + MINUTE + WINDOW_SLACK,
            "the 402nd a minute after the second"
        );
        // Once the window has moved on, a request goes at once again.
        let much_later = start + 3 * MINUTE;
        assert_eq!(pacer.reserve(much_later), much_later);
    }

    #[test]
    fn a_steady_stream_never_exceeds_the_limit_in_any_minute() {
        let limit = 400;
        let pacer = Pacer::new(limit);
        let start = Instant::now();
        // Callers far faster than the limit allows (one every 10 ms, some all at once).
        let slots: Vec<Instant> = (0..3_000u64)
            .map(|n| pacer.reserve(start + Duration::from_millis(10 * (n / 3))))
            .collect();
        assert!(slots.windows(2).all(|w| w[0] <= w[1]), "slots in order");
        for (i, slot) in slots.iter().enumerate() {
            let in_minute = slots[i..]
                .iter()
                .take_while(|s| **s < *slot + MINUTE)
                .count();
            assert!(
                in_minute <= limit as usize,
                "{in_minute} in the minute from slot {i}"
            );
        }
        let last = *slots.last().unwrap();
        assert!(
            last >= start + 6 * MINUTE,
            "3,000 requests take at least 6 full windows of 400 after the first burst"
        );
    }

    #[tokio::test]
    async fn a_long_pacing_wait_is_published_and_cleared_when_it_ends() {
        let core = HttpCore::new(
            "http://127.0.0.1:9/api",
            &SecretString::from("k".to_string()),
            &[],
            |_| Vec::new(),
            Limits {
                per_minute: Some(2),
                ..Limits::default()
            },
        )
        .unwrap();
        let mut status = core.net_status();
        // The first two leave at once.
        for _ in 0..2 {
            drop(core.wait_turn().await);
        }
        assert_eq!(*status.borrow_and_update(), NetStatus::default());
        // The third waits a minute: long enough to tell the user.
        let third = tokio::spawn({
            let core = core.clone();
            async move { drop(core.wait_turn().await) }
        });
        tokio::time::timeout(Duration::from_secs(10), status.changed())
            .await
            .expect("the wait is published")
            .unwrap();
        let until = status.borrow_and_update().rate_wait_until;
        let in_a_minute = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(50);
        assert!(until.is_some_and(|t| t > in_a_minute), "{until:?}");
        // Stopped (a load aborted with Esc), the wait is no longer shown.
        third.abort();
        let _ = third.await;
        assert_eq!(*status.borrow(), NetStatus::default());
    }
}
