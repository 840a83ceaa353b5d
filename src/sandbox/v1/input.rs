//! Request bodies of `POST` and `PUT /referrals`: each field's validation rule and its 400 message,
//! which names the field first so a client can show it under that field.

use axum::body::Bytes;
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::store::{Referral, Status};
use crate::domain::MetadataMode;
use crate::sandbox::{db, email as address};

type Object = Map<String, Value>;

/// A validated `POST /referrals` body.
#[derive(Debug, PartialEq)]
pub struct NewReferral {
    pub impression_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub profile_picture: Option<String>,
    pub metadata: Option<Object>,
}

/// A validated `PUT /referrals/{id}` body: `None` leaves a field alone; for the clearable fields
/// `Some(None)` clears it.
#[derive(Debug, Default, PartialEq)]
pub struct ReferralPatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub profile_picture: Option<Option<String>>,
    pub status: Option<Status>,
    pub verified_at: Option<Option<String>>,
    pub metadata: Option<Object>,
}

/// The body as a JSON object, whatever the Content-Type said.
pub fn json_object(body: &Bytes) -> Result<Object, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::bad_request(
            "Invalid request body: must be a JSON object",
        )),
    }
}

pub fn invalid_status() -> ApiError {
    ApiError::bad_request(
        "Invalid status value. Must be one of: pending, converted, verified, rejected",
    )
}

pub fn email_taken() -> ApiError {
    invalid("email", "already used by another referral in this program")
}

/// The optional `idempotency_key` of a create: a non-empty string, or absent / null.
pub fn idempotency_key(body: &Object) -> Result<Option<&str>, ApiError> {
    match body.get("idempotency_key") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) if !key.is_empty() => Ok(Some(key)),
        Some(_) => Err(invalid("idempotency_key", "must be a non-empty string")),
    }
}

impl NewReferral {
    /// Missing required fields get the same message as empty ones.
    pub fn from_body(body: &Object) -> Result<NewReferral, ApiError> {
        let required = |field| body.get(field).unwrap_or(&Value::Null);
        let impression_id = match required("impression_id") {
            Value::String(id) if !id.is_empty() => id.clone(),
            _ => return Err(invalid("impression_id", "must be a non-empty string")),
        };
        Ok(NewReferral {
            impression_id,
            first_name: name("first_name", required("first_name"))?,
            last_name: name("last_name", required("last_name"))?,
            email: email(required("email"))?,
            profile_picture: body
                .get("profile_picture")
                .map(profile_picture)
                .transpose()?
                .flatten(),
            metadata: body.get("metadata").map(metadata).transpose()?,
        })
    }
}

impl ReferralPatch {
    /// Unknown fields are ignored.
    pub fn from_body(body: &Object) -> Result<ReferralPatch, ApiError> {
        let given = |field| body.get(field);
        Ok(ReferralPatch {
            first_name: given("first_name")
                .map(|v| name("first_name", v))
                .transpose()?,
            last_name: given("last_name")
                .map(|v| name("last_name", v))
                .transpose()?,
            email: given("email").map(email).transpose()?,
            profile_picture: given("profile_picture").map(profile_picture).transpose()?,
            status: given("status").map(status).transpose()?,
            verified_at: given("verified_at").map(verified_at).transpose()?,
            metadata: given("metadata").map(metadata).transpose()?,
        })
    }

    /// Applies the change; `updated_at` is left to the caller.
    pub fn apply(self, referral: &mut Referral, mode: MetadataMode) {
        let ReferralPatch {
            first_name,
            last_name,
            email,
            profile_picture,
            status,
            verified_at,
            metadata,
        } = self;
        replace(&mut referral.first_name, first_name);
        replace(&mut referral.last_name, last_name);
        replace(&mut referral.email, email);
        replace(&mut referral.profile_picture, profile_picture);
        replace(&mut referral.status, status);
        replace(&mut referral.verified_at, verified_at);
        if let Some(sent) = metadata {
            referral.metadata = Some(match (mode, referral.metadata.take()) {
                (MetadataMode::Merge, Some(mut stored)) => {
                    stored.extend(sent);
                    stored
                }
                _ => sent,
            });
        }
    }
}

fn replace<T>(slot: &mut T, new: Option<T>) {
    if let Some(new) = new {
        *slot = new;
    }
}

fn invalid(field: &str, rule: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid {field}: {rule}"))
}

fn name(field: &str, value: &Value) -> Result<String, ApiError> {
    match value {
        Value::String(text) if !text.trim().is_empty() => Ok(text.clone()),
        _ => Err(invalid(field, "must not be empty")),
    }
}

/// A valid address by the sandbox's shared rules (see [`address::is_valid`]).
fn email(value: &Value) -> Result<String, ApiError> {
    match value {
        Value::String(text) if address::is_valid(text) => Ok(text.clone()),
        _ => Err(invalid("email", "must be a valid email address")),
    }
}

/// An absolute http(s) URL with a host; null clears the picture.
fn profile_picture(value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) if is_web_url(text) => Ok(Some(text.clone())),
        _ => Err(invalid("profile_picture", "must be an http(s) URL")),
    }
}

fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

fn status(value: &Value) -> Result<Status, ApiError> {
    value
        .as_str()
        .and_then(Status::parse)
        .ok_or_else(invalid_status)
}

/// An RFC 3339 timestamp with an offset, stored in UTC; null clears it.
fn verified_at(value: &Value) -> Result<Option<String>, ApiError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => text
            .parse::<Timestamp>()
            .map(|at| Some(db::timestamp(at)))
            .map_err(|_| invalid("verified_at", "must be an ISO 8601 timestamp")),
        _ => Err(invalid("verified_at", "must be an ISO 8601 timestamp")),
    }
}

fn metadata(value: &Value) -> Result<Object, ApiError> {
    match value {
        Value::Object(object) => Ok(object.clone()),
        _ => Err(invalid("metadata", "must be a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        match value {
            Value::Object(object) => object,
            _ => panic!("not an object"),
        }
    }

    fn patch_error(body: Value) -> String {
        format!("{:?}", ReferralPatch::from_body(&object(body)).unwrap_err())
    }

    #[test]
    fn bodies_must_be_objects() {
        for body in ["[1]", "\"x\"", "nope", ""] {
            assert!(json_object(&Bytes::from(body)).is_err(), "{body}");
        }
        assert!(json_object(&Bytes::from("{}")).unwrap().is_empty());
    }

    #[test]
    fn each_field_names_itself_in_its_error() {
        let cases = [
            (
                json!({"first_name": " "}),
                "Invalid first_name: must not be empty",
            ),
            (
                json!({"last_name": null}),
                "Invalid last_name: must not be empty",
            ),
            (
                json!({"email": "a@b"}),
                "Invalid email: must be a valid email address",
            ),
            (
                json!({"email": 5}),
                "Invalid email: must be a valid email address",
            ),
            (
                json!({"email": "Ann <a@b.co>"}),
                "Invalid email: must be a valid email address",
            ),
            (
                json!({"profile_picture": "ftp://x.org/a"}),
                "Invalid profile_picture",
            ),
            (
                json!({"profile_picture": "/relative.png"}),
                "Invalid profile_picture",
            ),
            (
                json!({"status": "done"}),
                "Invalid status value. Must be one of",
            ),
            (json!({"status": 1}), "Invalid status value."),
            (json!({"verified_at": "2026-01-01"}), "Invalid verified_at"),
            (
                json!({"verified_at": "2026-01-01T10:00:00"}),
                "Invalid verified_at",
            ),
            (json!({"verified_at": 17}), "Invalid verified_at"),
            (
                json!({"metadata": null}),
                "Invalid metadata: must be a JSON object",
            ),
            (
                json!({"metadata": []}),
                "Invalid metadata: must be a JSON object",
            ),
        ];
        for (body, message) in cases {
            let error = patch_error(body.clone());
            assert!(error.contains(message), "{body} gave {error}");
        }
    }

    #[test]
    fn patch_reads_clears_and_normalizes() {
        let patch = ReferralPatch::from_body(&object(json!({
            "email": "ann.lee@uni.edu",
            "profile_picture": null,
            "verified_at": "2026-03-04T12:20:30.5+02:00",
            "status": "verified",
            "surprise": true,
        })))
        .unwrap();
        assert_eq!(
            patch,
            ReferralPatch {
                email: Some("ann.lee@uni.edu".into()),
                profile_picture: Some(None),
                status: Some(Status::Verified),
                verified_at: Some(Some("2026-03-04T10:20:30Z".into())),
                ..ReferralPatch::default()
            }
        );
    }

    #[test]
    fn new_referral_requires_its_fields() {
        let full = json!({
            "impression_id": "imp_1", "first_name": "Ann", "last_name": "Lee",
            "email": "ann@uni.edu", "profile_picture": null,
        });
        let parsed = NewReferral::from_body(&object(full.clone())).unwrap();
        assert_eq!((parsed.profile_picture, parsed.metadata), (None, None));
        for field in ["impression_id", "first_name", "last_name", "email"] {
            let mut body = object(full.clone());
            body.remove(field);
            let error = format!("{:?}", NewReferral::from_body(&body).unwrap_err());
            assert!(error.contains(&format!("Invalid {field}")), "{error}");
        }
    }

    fn stored(metadata: Value) -> Referral {
        Referral {
            id: "ref_1".into(),
            impression_id: "imp_1".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: "ann@uni.edu".into(),
            profile_picture: Some("https://x.org/a.png".into()),
            status: Status::Pending,
            program_id: "prog_1".into(),
            student_id: "user_1".into(),
            created_at: "2026-01-05T00:00:00Z".into(),
            verified_at: Some("2026-01-06T00:00:00Z".into()),
            updated_at: "2026-01-06T00:00:00Z".into(),
            metadata: Some(object(metadata)),
        }
    }

    #[test]
    fn metadata_merges_or_replaces() {
        let sent = || ReferralPatch {
            metadata: Some(object(json!({"b": null, "c": 3}))),
            ..ReferralPatch::default()
        };
        let mut merged = stored(json!({"a": 1, "b": 2}));
        sent().apply(&mut merged, MetadataMode::Merge);
        assert_eq!(
            merged.metadata,
            Some(object(json!({"a": 1, "b": null, "c": 3})))
        );

        let mut replaced = stored(json!({"a": 1, "b": 2}));
        sent().apply(&mut replaced, MetadataMode::Replace);
        assert_eq!(replaced.metadata, Some(object(json!({"b": null, "c": 3}))));
    }

    #[test]
    fn apply_clears_and_keeps() {
        let mut referral = stored(json!({}));
        ReferralPatch {
            profile_picture: Some(None),
            verified_at: Some(None),
            first_name: Some("Anna".into()),
            ..ReferralPatch::default()
        }
        .apply(&mut referral, MetadataMode::Merge);
        assert_eq!(referral.profile_picture, None);
        assert_eq!(referral.verified_at, None);
        assert_eq!(referral.first_name, "Anna");
        assert_eq!(referral.last_name, "Lee");
        assert_eq!(referral.metadata, Some(Object::new()));
    }
}
