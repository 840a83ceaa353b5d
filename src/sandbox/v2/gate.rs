//! The door every v2 request passes: the bearer key and the `Account-ID` header must both match,
//! and each account gets its own rate-limit window (429 with `Retry-After` past it).
//!
//! Requests failing the check share one "unauthenticated" window, so a stream of wrong accounts
//! cannot grow the limiter's memory. The v1 `X-RateLimit-*` headers are not sent: FirstPromoter
//! documents none.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::V2State;
use super::error::ApiError;
use crate::sandbox::bearer;

/// Window key of requests that fail the check; the real account id is never empty.
const UNAUTHENTICATED: &str = "";

pub async fn gate(State(state): State<V2State>, request: Request, next: Next) -> Response {
    let authorized = bearer::token(request.headers()) == Some(&*state.api_key)
        && account_id(request.headers()) == Some(&*state.account_id);
    let window = if authorized {
        &*state.account_id
    } else {
        UNAUTHENTICATED
    };
    let verdict = state.limiter.check(window);
    if let Some(seconds) = verdict.retry_after {
        let mut response = ApiError::rate_limited().into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        response
    } else if !authorized {
        ApiError::unauthorized().into_response()
    } else {
        next.run(request).await
    }
}

/// The `Account-ID` header, surrounding spaces ignored.
fn account_id(headers: &HeaderMap) -> Option<&str> {
    Some(headers.get("account-id")?.to_str().ok()?.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_account_header_by_any_case() {
        let mut headers = HeaderMap::new();
        assert_eq!(account_id(&headers), None);
        headers.insert("Account-ID", HeaderValue::from_static(" acc_1 "));
        assert_eq!(account_id(&headers), Some("acc_1"));
    }
}
