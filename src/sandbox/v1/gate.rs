//! The door every v1 request passes: bearer-key check and rate limiting, with the rate-limit
//! headers on every answer (401, 404 and 429 included).
//!
//! Requests with the right key share its window; all others share one "unauthenticated" window,
//! so a stream of wrong keys cannot grow the limiter's memory.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::V1State;
use super::error::ApiError;

/// Window key of requests without the right key; the real key is never empty.
const UNAUTHENTICATED: &str = "";

pub async fn gate(State(state): State<V1State>, request: Request, next: Next) -> Response {
    let authorized = bearer_token(request.headers()) == Some(&*state.api_key);
    let window = if authorized {
        &*state.api_key
    } else {
        UNAUTHENTICATED
    };
    let verdict = state.limiter.check(window);
    let mut response = if verdict.retry_after.is_some() {
        ApiError::too_many_requests().into_response()
    } else if !authorized {
        ApiError::unauthorized().into_response()
    } else {
        next.run(request).await
    };
    verdict.write_headers(response.headers_mut());
    response
}

/// The token of `Authorization: Bearer <token>`; the scheme name ignores case.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn token(value: &'static str) -> Option<String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        bearer_token(&headers).map(str::to_owned)
    }

    #[test]
    fn reads_bearer_tokens_only() {
        assert_eq!(token("Bearer sk_demo").as_deref(), Some("sk_demo"));
        assert_eq!(token("bearer  sk_demo ").as_deref(), Some("sk_demo"));
        assert_eq!(token("Basic c2tfZGVtbw=="), None);
        assert_eq!(token("sk_demo"), None);
        assert_eq!(bearer_token(&HeaderMap::new()), None);
    }
}
