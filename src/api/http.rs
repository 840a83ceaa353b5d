//! The HTTP core every backend shares: base URL and auth headers, timeouts, and turning any answer
//! (JSON, HTML error page, empty body, dropped connection) into a value or an `ApiError`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How a backend names the field an error is about; v1 puts it in the message, v2 in `errors`.
pub type FieldFinder = fn(&Value) -> Vec<(String, String)>;

/// Reads that failed for a passing reason (5xx, no answer) are tried this many more times.
const READ_RETRIES: u32 = 2;
const READ_BACKOFF: Duration = Duration::from_millis(300);
/// A rate-limited request waits and is tried again this many times when the backend asks for it.
const RATE_LIMIT_RETRIES: u32 = 3;
/// Longest wait for a rate limit before giving up and telling the user.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(65);

/// What a backend's client does about limits: pace itself, and wait out 429s instead of failing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// At most this many requests a minute, spaced evenly; requests queue rather than fail.
    pub per_minute: Option<u32>,
    /// Wait for `Retry-After` (or the next minute) on a 429 and try again.
    pub wait_on_429: bool,
}

/// Spaces requests evenly so a per-minute limit is never reached.
struct Pacer {
    interval: Duration,
    next_slot: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Pacer {
    async fn wait_turn(&self) {
        let mut next = self.next_slot.lock().await;
        let now = tokio::time::Instant::now();
        let slot = (*next).max(now);
        *next = slot + self.interval;
        drop(next);
        tokio::time::sleep_until(slot).await;
    }
}

#[derive(Clone)]
pub struct HttpCore {
    client: reqwest::Client,
    base: url::Url,
    find_fields: FieldFinder,
    limits: Limits,
    pacer: Option<std::sync::Arc<Pacer>>,
    budget: std::sync::Arc<Budget>,
}

/// What the server's `X-RateLimit-Remaining` / `X-RateLimit-Reset` headers say is left, counted
/// down locally as requests leave, so concurrent requests never go over the limit.
#[derive(Default)]
struct Budget {
    state: tokio::sync::Mutex<BudgetState>,
}

#[derive(Default)]
struct BudgetState {
    /// (requests left in the window, Unix second the window resets at), once a server has said.
    left: Option<(u64, u64)>,
    /// Requests sent and not answered yet: a new window's count may not include them.
    in_flight: u64,
}

impl Budget {
    /// Waits for the next window when the current one is used up, then takes one request.
    async fn take(&self) {
        let mut state = self.state.lock().await;
        if let Some((0, reset)) = state.left {
            let now = unix_now();
            if reset >= now {
                // Holding the lock queues every other request behind this wait.
                let wait =
                    Duration::from_millis((reset - now) * 1000 + 50).min(MAX_RATE_LIMIT_WAIT);
                tokio::time::sleep(wait).await;
            }
            state.left = None;
        }
        if let Some((remaining, _)) = state.left.as_mut() {
            *remaining = remaining.saturating_sub(1);
        }
        state.in_flight += 1;
    }

    /// A request ended without an answer.
    async fn release(&self) {
        let mut state = self.state.lock().await;
        state.in_flight = state.in_flight.saturating_sub(1);
    }

    /// A request was answered: learn what the server says is left.
    async fn observe(&self, headers: &HeaderMap) {
        let mut state = self.state.lock().await;
        state.in_flight = state.in_flight.saturating_sub(1);
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let (Some(remaining), Some(reset)) =
            (number("x-ratelimit-remaining"), number("x-ratelimit-reset"))
        else {
            return;
        };
        let reset = absolute_reset(reset);
        let in_flight = state.in_flight;
        state.left = Some(match state.left {
            // Same window: requests still in flight are already counted down locally.
            Some((mine, known_reset)) if known_reset == reset => (mine.min(remaining), reset),
            // An answer from a window that has already ended tells nothing about this one.
            Some(current) if reset < current.1 => current,
            // A new window: the requests still in flight may land in it too.
            _ => (remaining.saturating_sub(in_flight), reset),
        });
    }
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
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
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
        let base = url::Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| format!("base_url `{base_url}` is not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(format!(
                "base_url `{base_url}` must start with http:// or https://"
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
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("referee/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("could not set up HTTP: {e}"))?;
        let pacer = limits.per_minute.filter(|n| *n > 0).map(|n| {
            std::sync::Arc::new(Pacer {
                interval: Duration::from_secs(60) / n,
                next_slot: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            })
        });
        Ok(HttpCore {
            client,
            base,
            find_fields,
            limits,
            pacer,
            budget: Default::default(),
        })
    }

    /// The URL for `segments` under the base, each segment percent-encoded (ids may hold anything).
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
        self.send(Method::GET, segments, query, None).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &Value,
    ) -> Result<T, ApiError> {
        self.send(Method::POST, segments, &[], Some(body)).await
    }

    pub async fn put<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        body: &Value,
    ) -> Result<T, ApiError> {
        self.send(Method::PUT, segments, &[], Some(body)).await
    }

    /// Sends with pacing and retries: reads are retried after passing failures, and any request
    /// after a 429 when the backend's limits say to wait.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let (mut read_retries, mut rate_retries) = (0, 0);
        loop {
            if let Some(pacer) = &self.pacer {
                pacer.wait_turn().await;
            }
            self.budget.take().await;
            let result = self.send_once(method.clone(), segments, query, body).await;
            let wait = match &result {
                Err(ApiError::RateLimited { retry_after })
                    if self.limits.wait_on_429 && rate_retries < RATE_LIMIT_RETRIES =>
                {
                    rate_retries += 1;
                    retry_after.unwrap_or_else(until_next_minute)
                }
                Err(ApiError::Server { .. } | ApiError::Transport { .. })
                    if method == Method::GET && read_retries < READ_RETRIES =>
                {
                    read_retries += 1;
                    READ_BACKOFF * read_retries
                }
                _ => return result,
            };
            if wait > MAX_RATE_LIMIT_WAIT {
                return result;
            }
            tracing::info!(?wait, "retrying {method} /{}", segments.join("/"));
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let endpoint = format!("{method} /{}", segments.join("/"));
        let mut request = self.client.request(method, self.url(segments)).query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |e: reqwest::Error| ApiError::Transport {
            endpoint: endpoint.clone(),
            message: describe_transport(&e),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                self.budget.release().await;
                return Err(transport(error));
            }
        };
        let status = response.status();
        let retry_after = retry_after(response.headers());
        self.budget.observe(response.headers()).await;
        let bytes = response.bytes().await.map_err(transport)?;
        tracing::debug!(%endpoint, %status, bytes = bytes.len(), "answer");
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
                endpoint: endpoint.clone(),
                message: decode_problem(&bytes, &e),
            });
        }
        Err(self.error_for(status, &endpoint, &bytes, retry_after))
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
            401 | 403 => ApiError::Unauthorized { message },
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

fn describe_transport(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".to_string()
    } else if e.is_connect() {
        "connection refused or host unreachable".to_string()
    } else if e.is_body() || e.is_decode() {
        "the connection dropped while reading the answer".to_string()
    } else {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        text
    }
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
