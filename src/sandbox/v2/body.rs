//! Reading v2 JSON request bodies: the object itself, ids, and promoter-campaign link references,
//! shared by the PUT of a referral and the batch actions.

use axum::body::Bytes;
use rusqlite::Connection;
use serde_json::{Map, Value};

use super::error::{ApiError, FieldErrors};
use super::records::ReferralLink;
use super::store;

/// The body as a JSON object, whatever the Content-Type said.
pub fn json_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(ApiError::invalid_body()),
    }
}

/// A referral or batch id: a JSON integer or a string of one.
pub fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The `promoter_campaign_id` link; adds its error under that field when missing or unknown.
pub fn link(
    conn: &Connection,
    value: &Value,
    errors: &mut FieldErrors,
) -> rusqlite::Result<Option<ReferralLink>> {
    const FIELD: &str = "promoter_campaign_id";
    if value.is_null() {
        errors.add(FIELD, "can't be blank");
        return Ok(None);
    }
    let Some(id) = integer(value) else {
        errors.add(FIELD, "is not a number");
        return Ok(None);
    };
    let found = store::get_link(conn, id)?;
    if found.is_none() {
        errors.add(FIELD, "does not exist");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_must_be_objects() {
        for body in ["[1]", "\"x\"", "nope", "", "null"] {
            assert!(json_object(&Bytes::from(body)).is_err(), "{body}");
        }
        assert!(json_object(&Bytes::from("{}")).unwrap().is_empty());
    }

    #[test]
    fn integers_may_be_numbers_or_digit_strings() {
        assert_eq!(integer(&json!(5001)), Some(5001));
        assert_eq!(integer(&json!("5001")), Some(5001));
        for bad in [json!(1.5), json!("x"), json!(null), json!([1]), json!(true)] {
            assert_eq!(integer(&bad), None, "{bad}");
        }
    }
}
