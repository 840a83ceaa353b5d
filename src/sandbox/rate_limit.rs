//! Fixed one-minute request windows per caller key, and the headers that report them.
//!
//! A window opens with a caller's first request and lasts 60 s; the next request after that opens a
//! new one. Refused requests do not count against the window.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{HeaderMap, HeaderValue};
use jiff::Timestamp;

const WINDOW_SECONDS: i64 = 60;

pub struct RateLimiter {
    /// Requests allowed per key and window.
    limit: u32,
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    /// Unix seconds of the window's first request.
    started: i64,
    used: u32,
}

/// What one request learned about its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window ends.
    pub reset: i64,
    /// `Some(seconds to wait, at least 1)` when the request was refused.
    pub retry_after: Option<i64>,
}

impl RateLimiter {
    pub fn new(limit: u32) -> RateLimiter {
        RateLimiter {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key` now.
    pub fn check(&self, key: &str) -> Verdict {
        self.check_at(key, Timestamp::now().as_second())
    }

    fn check_at(&self, key: &str, now: i64) -> Verdict {
        let mut windows = self.windows.lock().unwrap();
        let window = windows.entry(key.to_owned()).or_insert(Window {
            started: now,
            used: 0,
        });
        if now >= window.started + WINDOW_SECONDS {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        let reset = window.started + WINDOW_SECONDS;
        let allowed = window.used < self.limit;
        if allowed {
            window.used += 1;
        }
        Verdict {
            limit: self.limit,
            remaining: self.limit - window.used,
            reset,
            retry_after: (!allowed).then(|| (reset - now).max(1)),
        }
    }
}

impl Verdict {
    /// `X-RateLimit-Limit`, `-Remaining`, `-Reset`, plus `Retry-After` on a refusal.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-ratelimit-limit", HeaderValue::from(self.limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(self.reset));
        if let Some(seconds) = self.retry_after {
            headers.insert("retry-after", HeaderValue::from(seconds));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(2);
        let first = limiter.check_at("k", 1000);
        assert_eq!(
            (first.remaining, first.reset, first.retry_after),
            (1, 1060, None)
        );
        assert_eq!(limiter.check_at("k", 1010).remaining, 0);
        let refused = limiter.check_at("k", 1030);
        assert_eq!((refused.remaining, refused.retry_after), (0, Some(30)));
        let reopened = limiter.check_at("k", 1060);
        assert_eq!(
            (reopened.remaining, reopened.reset, reopened.retry_after),
            (1, 1120, None)
        );
    }

    #[test]
    fn keys_have_separate_windows() {
        let limiter = RateLimiter::new(1);
        assert_eq!(limiter.check_at("a", 5).retry_after, None);
        assert_eq!(limiter.check_at("b", 5).retry_after, None);
        assert_eq!(limiter.check_at("a", 6).retry_after, Some(59));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let limiter = RateLimiter::new(0);
        assert_eq!(limiter.check_at("k", 100).retry_after, Some(60));
        assert_eq!(limiter.check_at("k", 159).retry_after, Some(1));
    }

    #[test]
    fn headers_carry_the_verdict() {
        let mut headers = HeaderMap::new();
        RateLimiter::new(0)
            .check_at("k", 100)
            .write_headers(&mut headers);
        assert_eq!(headers["x-ratelimit-limit"], "0");
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        assert_eq!(headers["x-ratelimit-reset"], "160");
        assert_eq!(headers["retry-after"], "60");
    }
}
