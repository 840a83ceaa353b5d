//! Referral API v1 error answers: `{"error": "<HTTP reason>", "message": "<human text>"}`.

use std::borrow::Cow;

use axum::Json;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::sandbox::writes::{INJECTED_FAILURE, Injected};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: &'static str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn route_not_found() -> ApiError {
        ApiError::not_found("Route not found")
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Invalid or missing API key")
    }

    pub fn too_many_requests() -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded")
    }

    /// The `forbidden-writes` quirk's answer: v1 documents no 403, clients must tolerate one.
    pub fn forbidden() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "This API key may not change referrals",
        )
    }

    pub fn method_not_allowed() -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed for this route",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.status.canonical_reason().unwrap_or("Error"),
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

/// A failed query is the sandbox's fault: logged in full, answered with a plain 500.
impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> ApiError {
        tracing::error!(%err, "sandbox database query failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Database error")
    }
}

/// A write refused by the chaos roll.
impl From<Injected> for ApiError {
    fn from(_: Injected) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, INJECTED_FAILURE)
    }
}

/// Bodies too large or unreadable keep axum's status but get the JSON shape.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}

/// Path segments that are not valid UTF-8 after percent-decoding.
impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text())
    }
}
