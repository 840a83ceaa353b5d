//! Turning what the admin typed into a field value, with a message a person understands when it is
//! not one. The same checks run on values built by quick keys, so every write passes one gate.

use jiff::{Timestamp, civil};
use serde_json::Value;

use super::clock::{Clock, to_wire};
use super::record::value_text;
use super::schema::{FieldKind, FieldSpec};
use super::splits;

/// Parses form text into the value that would be sent for this field.
pub fn parse_input(spec: &FieldSpec, text: &str, clock: &Clock) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() && !matches!(spec.kind, FieldKind::JsonObject | FieldKind::Splits) {
        return match (spec.required, spec.blank_is_empty_string) {
            (true, _) => Err("Must not be empty.".into()),
            (false, true) => Ok(Value::String(String::new())),
            (false, false) => Ok(Value::Null),
        };
    }
    match spec.kind {
        FieldKind::Text => Ok(Value::String(trimmed.to_string())),
        // Integer ids (v2) are sent as numbers, others as strings.
        FieldKind::Reference(_) => Ok(match trimmed.parse::<i64>() {
            Ok(number) => Value::from(number),
            Err(_) => Value::String(trimmed.to_string()),
        }),
        FieldKind::Splits => splits::parse(trimmed),
        FieldKind::Email => parse_email(trimmed),
        FieldKind::Url => parse_url(trimmed),
        FieldKind::Enum(options) => parse_choice(trimmed, options),
        FieldKind::Timestamp => {
            parse_timestamp(trimmed, clock).map(|ts| Value::String(to_wire(ts)))
        }
        FieldKind::JsonObject => parse_object(trimmed),
    }
}

/// Checks a value that did not come from typing (a quick key, an undo) with the same rules.
pub fn check_value(spec: &FieldSpec, value: &Value, clock: &Clock) -> Result<(), String> {
    parse_input(spec, &input_text(spec, value), clock).map(|_| ())
}

/// The text a form field starts with for a stored value.
pub fn input_text(spec: &FieldSpec, value: &Value) -> String {
    match (spec.kind, value) {
        (FieldKind::JsonObject, Value::Null) => "{}".to_string(),
        (FieldKind::JsonObject, v) => serde_json::to_string_pretty(v).unwrap_or_default(),
        (FieldKind::Splits, v) => splits::to_text(v),
        (_, v) => value_text(v),
    }
}

/// Why a stored value cannot be put in its field whole, so that the field is not editable: a
/// split entry the editor has no line for. (Values that could not be read at all are the
/// record's `unreadable`.)
pub fn unkept(spec: &FieldSpec, value: &Value) -> Option<String> {
    match spec.kind {
        FieldKind::Splits => splits::unkept(value),
        _ => None,
    }
}

/// A line under a field saying how its text was understood, for kinds where that is not obvious.
pub fn input_hint(spec: &FieldSpec, text: &str, clock: &Clock) -> Option<String> {
    match spec.kind {
        FieldKind::Timestamp => Some(match parse_timestamp(text.trim(), clock) {
            _ if text.trim().is_empty() => "empty: no verification time (null)".to_string(),
            Ok(ts) => format!("= {}", clock.local_long(&to_wire(ts))),
            Err(_) => "`now`, 2024-01-16T14:20:00Z, 2024-01-16 15:20 (local) or empty".to_string(),
        }),
        _ => None,
    }
}

fn parse_email(text: &str) -> Result<Value, String> {
    let domain_ok = text
        .rsplit_once('@')
        .map(|(_, domain)| {
            domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        })
        .unwrap_or(false);
    if domain_ok && email_address::EmailAddress::is_valid(text) {
        Ok(Value::String(text.to_string()))
    } else {
        Err("Not a valid email address: expected name@example.com.".into())
    }
}

fn parse_url(text: &str) -> Result<Value, String> {
    match url::Url::parse(text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => {
            Ok(Value::String(text.to_string()))
        }
        _ => Err("Not an http(s) URL: use https://…, or leave it empty for none.".into()),
    }
}

fn parse_choice(text: &str, options: &[&str]) -> Result<Value, String> {
    match options.iter().find(|o| **o == text) {
        Some(o) => Ok(Value::String(o.to_string())),
        None => Err(format!("Must be one of: {}.", options.join(", "))),
    }
}

/// `now`, an RFC 3339 instant, or a local date-time / date (ISO 8601 without an offset).
fn parse_timestamp(text: &str, clock: &Clock) -> Result<Timestamp, String> {
    let bad = || "Not a time: use `now`, 2024-01-16T14:20:00Z, or leave it empty.".to_string();
    if text.eq_ignore_ascii_case("now") {
        return Ok(clock.now);
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    let civil = text
        .parse::<civil::DateTime>()
        .or_else(|_| {
            text.parse::<civil::Date>()
                .map(|d| d.to_datetime(civil::Time::midnight()))
        })
        .map_err(|_| bad())?;
    civil
        .to_zoned(clock.tz.clone())
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

fn parse_object(text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("Metadata must be a JSON object, like {\"source\": \"flyer\"}.".into()),
        Err(e) => Err(format!("Invalid JSON: {e}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::V1_SCHEMA;
    use jiff::tz::TimeZone;

    fn clock() -> Clock {
        Clock::fixed(
            "2026-11-21T10:00:00Z".parse().unwrap(),
            TimeZone::fixed(jiff::tz::offset(1)),
        )
    }

    fn parse(key: &str, text: &str) -> Result<Value, String> {
        parse_input(V1_SCHEMA.field(key).unwrap(), text, &clock())
    }

    #[test]
    fn emails_need_a_dotted_domain() {
        assert_eq!(parse("email", " a@b.co ").unwrap(), "a@b.co");
        assert!(parse("email", "not-an-email").is_err());
        assert!(parse("email", "a@b").is_err());
        assert!(parse("email", "a@b.").is_err());
        assert_eq!(parse("email", "").unwrap_err(), "Must not be empty.");
    }

    #[test]
    fn names_are_required_and_trimmed() {
        assert_eq!(parse("first_name", "  Ada ").unwrap(), "Ada");
        assert!(parse("last_name", "   ").is_err());
    }

    #[test]
    fn an_emptied_v2_text_field_is_an_empty_string_and_a_v1_one_is_null() {
        let v2 = |key| crate::domain::schema::V2_SCHEMA.field(key).unwrap();
        for key in ["email", "uid", "username"] {
            assert_eq!(parse_input(v2(key), "  ", &clock()).unwrap(), "", "{key}");
        }
        assert_eq!(parse("profile_picture", " ").unwrap(), Value::Null);
    }

    #[test]
    fn picture_must_be_http_or_empty() {
        assert_eq!(
            parse("profile_picture", "https://x.io/p.jpg").unwrap(),
            "https://x.io/p.jpg"
        );
        assert_eq!(parse("profile_picture", "").unwrap(), Value::Null);
        assert!(parse("profile_picture", "ftp://x.io/p.jpg").is_err());
        assert!(parse("profile_picture", "x.io/p.jpg").is_err());
    }

    #[test]
    fn verified_at_accepts_now_rfc3339_local_and_empty() {
        assert_eq!(parse("verified_at", "now").unwrap(), "2026-11-21T10:00:00Z");
        assert_eq!(
            parse("verified_at", "2024-01-16T14:20:00+02:00").unwrap(),
            "2024-01-16T12:20:00Z"
        );
        // Without an offset the time is local (UTC+1 here).
        assert_eq!(
            parse("verified_at", "2024-01-16 15:20").unwrap(),
            "2024-01-16T14:20:00Z"
        );
        assert_eq!(
            parse("verified_at", "2024-01-16").unwrap(),
            "2024-01-15T23:00:00Z"
        );
        assert_eq!(parse("verified_at", "").unwrap(), Value::Null);
        let err = parse("verified_at", "yesterday-ish").unwrap_err();
        assert!(err.starts_with("Not a time"), "{err}");
    }

    #[test]
    fn verified_at_hint_shows_local_time() {
        let spec = V1_SCHEMA.field("verified_at").unwrap();
        let hint = input_hint(spec, "2024-01-16T14:20:00Z", &clock()).unwrap();
        assert!(hint.contains("2024-01-16 15:20:00"), "{hint}");
    }

    #[test]
    fn metadata_must_be_an_object() {
        assert_eq!(
            parse("metadata", "{\"a\": 1}").unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(parse("metadata", "").unwrap(), serde_json::json!({}));
        assert!(
            parse("metadata", "{\"a\":")
                .unwrap_err()
                .starts_with("Invalid JSON")
        );
        assert!(parse("metadata", "[1]").unwrap_err().contains("object"));
    }

    #[test]
    fn status_must_be_a_known_word_and_check_value_uses_the_same_rules() {
        assert!(parse("status", "done").is_err());
        let spec = V1_SCHEMA.field("status").unwrap();
        assert!(check_value(spec, &Value::String("verified".into()), &clock()).is_ok());
        assert!(check_value(spec, &Value::String("approved".into()), &clock()).is_err());
        let meta = V1_SCHEMA.field("metadata").unwrap();
        assert!(check_value(meta, &serde_json::json!({"k": [1, 2]}), &clock()).is_ok());
    }
}
