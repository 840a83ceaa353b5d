//! FirstPromoter v2 error answers: `{"message": "...", "code": "...", "errors": {"<field>": [...]}}`,
//! `errors` only on validation failures.

use std::borrow::Cow;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::sandbox::writes::{INJECTED_FAILURE, Injected};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
    code: &'static str,
    errors: Option<FieldErrors>,
}

/// Messages per field, fields in the order they were first named, each message once.
#[derive(Debug, Default, PartialEq)]
pub struct FieldErrors(Vec<(String, Vec<String>)>);

#[derive(serde::Serialize)]
struct Body<'a> {
    message: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a FieldErrors>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<Cow<'static, str>>, code: &'static str) -> Self {
        ApiError {
            status,
            message: message.into(),
            code,
            errors: None,
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "Unauthorized", "unauthorized")
    }

    /// A valid key without the right to do this (the spec's 403, not a 401).
    pub fn forbidden() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Forbidden", "forbidden")
    }

    pub fn rate_limited() -> ApiError {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Rate limit exceeded",
            "rate_limited",
        )
    }

    pub fn not_found(message: &'static str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message, "not_found")
    }

    pub fn route_not_found() -> ApiError {
        ApiError::not_found("Not found")
    }

    pub fn referral_not_found() -> ApiError {
        ApiError::not_found("Referral not found")
    }

    /// A 422 without field errors, for bodies that are not even a JSON object.
    pub fn invalid_body() -> ApiError {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Request body must be a JSON object",
            "invalid_params",
        )
    }
}

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        match self.0.iter_mut().find(|(name, _)| name == field) {
            Some((_, messages)) if messages.contains(&message) => {}
            Some((_, messages)) => messages.push(message),
            None => self.0.push((field.to_owned(), vec![message])),
        }
    }

    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|(name, _)| name == field)
    }

    /// `Ok(value)` when nothing was added, else the 422 `Validation failed` answer.
    pub fn or_value<T>(self, value: T) -> Result<T, ApiError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.into_error())
        }
    }

    /// The 422 `Validation failed` answer carrying these errors.
    pub fn into_error(self) -> ApiError {
        ApiError {
            errors: Some(self),
            ..ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Validation failed",
                "invalid_params",
            )
        }
    }
}

impl Serialize for FieldErrors {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (field, messages) in &self.0 {
            map.serialize_entry(field, messages)?;
        }
        map.end()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            message: &self.message,
            code: self.code,
            errors: self.errors.as_ref(),
        };
        (self.status, Json(body)).into_response()
    }
}

/// A failed query is the sandbox's fault: logged in full, answered with a plain 500.
impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> ApiError {
        tracing::error!(%err, "sandbox database query failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Database error",
            "operation_failed",
        )
    }
}

/// A write refused by the chaos roll.
impl From<Injected> for ApiError {
    fn from(_: Injected) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            INJECTED_FAILURE,
            "server_error",
        )
    }
}

/// Bodies too large or unreadable keep axum's status but get the JSON shape.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        ApiError::new(rejection.status(), rejection.body_text(), "invalid_params")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_keep_first_naming_order_and_drop_repeats() {
        let mut errors = FieldErrors::default();
        errors.add("uid", "is invalid");
        errors.add("email", "is invalid");
        errors.add("uid", "is invalid");
        errors.add("uid", "is too long");
        assert!(errors.has("email") && !errors.has("username"));
        assert_eq!(
            serde_json::to_string(&errors).unwrap(),
            r#"{"uid":["is invalid","is too long"],"email":["is invalid"]}"#
        );
    }

    #[test]
    fn no_errors_means_ok() {
        assert_eq!(FieldErrors::default().or_value(3).unwrap(), 3);
        let failed = {
            let mut errors = FieldErrors::default();
            errors.add("page", "must be a positive integer");
            errors.or_value(())
        };
        assert_eq!(failed.unwrap_err().status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
