//! Fixed request windows per caller key, and the headers that report them.
//!
//! A window opens with a caller's first request and lasts the configured length (a minute unless
//! told otherwise, measured in milliseconds); the next request after that opens a new one. Refused
//! requests do not count against the window. `X-RateLimit-Reset` is the window's end rounded up to
//! a whole Unix second, and `Retry-After` the whole seconds until that second, so a client that
//! waits either one out lands in the next window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use jiff::Timestamp;

const MILLIS_PER_SECOND: i64 = 1000;

pub struct RateLimiter {
    /// Requests allowed per key and window.
    limit: u32,
    /// Length of one window in milliseconds, at least 1.
    window: i64,
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    /// Unix milliseconds of the window's first request.
    started: i64,
    used: u32,
}

/// What one request learned about its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub limit: u32,
    pub remaining: u32,
    /// Unix seconds when the window has ended (its end, rounded up).
    pub reset: i64,
    /// `Some(seconds to wait, at least 1)` when the request was refused.
    pub retry_after: Option<i64>,
}

impl RateLimiter {
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window: i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key` now.
    pub fn check(&self, key: &str) -> Verdict {
        self.check_at(key, Timestamp::now().as_millisecond())
    }

    /// Counts one request for `key` at `now`, Unix milliseconds.
    fn check_at(&self, key: &str, now: i64) -> Verdict {
        let mut windows = self.windows.lock().unwrap();
        let window = windows.entry(key.to_owned()).or_insert(Window {
            started: now,
            used: 0,
        });
        if now >= window.started.saturating_add(self.window) {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        let end = window.started.saturating_add(self.window);
        let reset =
            end.div_euclid(MILLIS_PER_SECOND) + i64::from(end.rem_euclid(MILLIS_PER_SECOND) != 0);
        let allowed = window.used < self.limit;
        if allowed {
            window.used += 1;
        }
        Verdict {
            limit: self.limit,
            remaining: self.limit - window.used,
            reset,
            // Whole seconds from now to `reset`, rounded up.
            retry_after: (!allowed).then(|| (reset - now.div_euclid(MILLIS_PER_SECOND)).max(1)),
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

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn counts_down_then_refuses_until_the_window_ends() {
        let limiter = RateLimiter::new(2, MINUTE);
        let first = limiter.check_at("k", 1_000_000);
        assert_eq!(
            (first.remaining, first.reset, first.retry_after),
            (1, 1060, None)
        );
        assert_eq!(limiter.check_at("k", 1_010_000).remaining, 0);
        let refused = limiter.check_at("k", 1_030_000);
        assert_eq!((refused.remaining, refused.retry_after), (0, Some(30)));
        let reopened = limiter.check_at("k", 1_060_000);
        assert_eq!(
            (reopened.remaining, reopened.reset, reopened.retry_after),
            (1, 1120, None)
        );
    }

    #[test]
    fn keys_have_separate_windows() {
        let limiter = RateLimiter::new(1, MINUTE);
        assert_eq!(limiter.check_at("a", 5_000).retry_after, None);
        assert_eq!(limiter.check_at("b", 5_000).retry_after, None);
        assert_eq!(limiter.check_at("a", 6_000).retry_after, Some(59));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let limiter = RateLimiter::new(0, MINUTE);
        assert_eq!(limiter.check_at("k", 100_000).retry_after, Some(60));
        assert_eq!(limiter.check_at("k", 159_999).retry_after, Some(1));
    }

    #[test]
    fn short_windows_reset_at_the_next_whole_second_after_their_end() {
        let limiter = RateLimiter::new(1, Duration::from_millis(2000));
        let first = limiter.check_at("k", 1_000_300);
        assert_eq!((first.reset, first.retry_after), (1003, None));
        let refused = limiter.check_at("k", 1_000_900);
        assert_eq!((refused.reset, refused.retry_after), (1003, Some(3)));
        let late = limiter.check_at("k", 1_002_299);
        assert_eq!((late.reset, late.retry_after), (1003, Some(1)));
        let next = limiter.check_at("k", 1_002_300);
        assert_eq!(
            (next.remaining, next.reset, next.retry_after),
            (0, 1005, None)
        );
    }

    #[test]
    fn windows_ending_on_a_whole_second_reset_at_that_second() {
        let limiter = RateLimiter::new(0, Duration::from_millis(1500));
        let refused = limiter.check_at("k", 2_000_500);
        assert_eq!((refused.reset, refused.retry_after), (2002, Some(2)));
    }

    #[test]
    fn a_window_shorter_than_a_millisecond_still_counts() {
        let limiter = RateLimiter::new(1, Duration::from_micros(10));
        assert_eq!(limiter.check_at("k", 7_000).retry_after, None);
        assert_eq!(limiter.check_at("k", 7_000).retry_after, Some(1));
        assert_eq!(limiter.check_at("k", 7_001).retry_after, None);
    }

    #[test]
    fn headers_carry_the_verdict() {
        let mut headers = HeaderMap::new();
        RateLimiter::new(0, MINUTE)
            .check_at("k", 100_000)
            .write_headers(&mut headers);
        assert_eq!(headers["x-ratelimit-limit"], "0");
        assert_eq!(headers["x-ratelimit-remaining"], "0");
        assert_eq!(headers["x-ratelimit-reset"], "160");
        assert_eq!(headers["retry-after"], "60");
    }
}
