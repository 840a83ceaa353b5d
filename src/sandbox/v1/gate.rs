//! The door every v1 request passes: bearer-key check and rate limiting, with the rate-limit
//! headers on every answer (401, 404 and 429 included).
//!
//! Requests with the right key share its window; all others share one "unauthenticated" window,
//! so a stream of wrong keys cannot grow the limiter's memory.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::V1State;
use super::error::ApiError;
use crate::sandbox::bearer;

/// Window key of requests without the right key; the real key is never empty.
const UNAUTHENTICATED: &str = "";

pub async fn gate(State(state): State<V1State>, request: Request, next: Next) -> Response {
    let authorized = bearer::token(request.headers()) == Some(&*state.api_key);
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
