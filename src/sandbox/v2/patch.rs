//! The `PUT /referrals/{id}` body: reading each field, checking it (against the database where a
//! rule needs it) and applying the change. Every failing field is reported at once.
//!
//! Blank strings clear `email`, `uid` and `username` like null does. Ids may be sent as numbers or
//! digit strings. `split_details` takes an array of `{promoter_campaign_id, percentage}`, or the
//! flat keys `split_details[promoter_campaign_id]` / `split_details[percentage]` that the vendor's
//! docs page shows (one share, each defaulting to 0); null or `[]` removes the split. When
//! `split_details` itself is present the flat keys are ignored.
//!
//! The spec's rules: a split names the *other* promoter campaigns sharing with the referral's own
//! (after this change), which keeps the remainder, so naming the own one is refused; percentages
//! are whole numbers from 0 to 100 adding up to at most 100 (`25.0` counts as the whole number it
//! is, as JSON Schema's `integer` does; `33.5` is refused); `fraud_check` cannot be set to the
//! value it already has (null clears it, and then any value may be set).

use rusqlite::Connection;
use serde_json::{Map, Value};

use super::body::{integer, link};
use super::error::{ApiError, FieldErrors};
use super::records::{FraudCheck, Referral, ReferralLink, Split};
use super::store;
use crate::sandbox::email;

type Object = Map<String, Value>;

const INVALID: &str = "is invalid";
const FLAT_LINK: &str = "split_details[promoter_campaign_id]";
const FLAT_PERCENTAGE: &str = "split_details[percentage]";

/// A checked change: `None` leaves a field alone; for the clearable fields `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ReferralPatch {
    email: Option<Option<String>>,
    uid: Option<Option<String>>,
    username: Option<Option<String>>,
    promoter_campaign: Option<ReferralLink>,
    split_details: Option<Vec<Split>>,
    fraud_check: Option<Option<FraudCheck>>,
}

impl ReferralPatch {
    /// Unknown fields (and `find_by`) are ignored.
    pub fn check(
        body: &Object,
        conn: &Connection,
        referral: &Referral,
    ) -> Result<ReferralPatch, ApiError> {
        let mut errors = FieldErrors::default();
        let mut text = |field: &str| {
            body.get(field).and_then(|value| match value {
                Value::Null => Some(None),
                Value::String(s) if s.trim().is_empty() => Some(None),
                Value::String(s) => Some(Some(s.clone())),
                _ => {
                    errors.add(field, INVALID);
                    None
                }
            })
        };
        let email = text("email");
        let uid = text("uid");
        let username = text("username");
        if let Some(Some(address)) = &email {
            if !email::is_valid(address) {
                errors.add("email", INVALID);
            } else if store::email_taken(conn, address, referral.id)? {
                errors.add("email", "has already been taken");
            }
        }
        let final_email = email.as_ref().unwrap_or(&referral.email);
        let final_uid = uid.as_ref().unwrap_or(&referral.uid);
        if final_email.is_none()
            && final_uid.is_none()
            && !errors.has("email")
            && !errors.has("uid")
        {
            errors.add("email", "can't be blank when uid is blank");
        }
        let promoter_campaign = match body.get("promoter_campaign_id") {
            None => None,
            Some(value) => link(conn, value, &mut errors)?,
        };
        let own = promoter_campaign
            .as_ref()
            .unwrap_or(&referral.promoter_campaign)
            .id;
        let split_details = splits(body, conn, own, &mut errors)?;
        let fraud_check = body
            .get("fraud_check")
            .and_then(|value| fraud_check(value, referral.fraud_check, &mut errors));
        errors.or_value(ReferralPatch {
            email,
            uid,
            username,
            promoter_campaign,
            split_details,
            fraud_check,
        })
    }

    pub fn apply(self, referral: &mut Referral) {
        let ReferralPatch {
            email,
            uid,
            username,
            promoter_campaign,
            split_details,
            fraud_check,
        } = self;
        replace(&mut referral.email, email);
        replace(&mut referral.uid, uid);
        replace(&mut referral.username, username);
        if let Some(link) = promoter_campaign {
            referral.move_to(link);
        }
        replace(&mut referral.split_details, split_details);
        replace(&mut referral.fraud_check, fraud_check);
    }
}

fn replace<T>(slot: &mut T, new: Option<T>) {
    if let Some(new) = new {
        *slot = new;
    }
}

/// The new `fraud_check`: `Some(None)` clears it; `None` when refused (the error is added).
fn fraud_check(
    value: &Value,
    current: Option<FraudCheck>,
    errors: &mut FieldErrors,
) -> Option<Option<FraudCheck>> {
    const FIELD: &str = "fraud_check";
    if value.is_null() {
        return Some(None);
    }
    let Some(check) = value.as_str().and_then(FraudCheck::parse) else {
        errors.add(FIELD, "is not included in the list");
        return None;
    };
    if current == Some(check) {
        errors.add(
            FIELD,
            format!(
                "is already {}: clear it (null) before setting it again",
                check.as_str()
            ),
        );
        return None;
    }
    Some(Some(check))
}

/// The new split, from `split_details` or the flat keys; `None` when neither was sent. `own` is
/// the promoter campaign the referral will belong to, which no share may name.
fn splits(
    body: &Object,
    conn: &Connection,
    own: i64,
    errors: &mut FieldErrors,
) -> rusqlite::Result<Option<Vec<Split>>> {
    const FIELD: &str = "split_details";
    let zero = Value::from(0);
    let shares: Vec<(&Value, &Value)> = match body.get(FIELD) {
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut shares = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Object(share) => shares.push((
                        share.get("promoter_campaign_id").unwrap_or(&Value::Null),
                        share.get("percentage").unwrap_or(&Value::Null),
                    )),
                    _ => errors.add(
                        FIELD,
                        "must be objects with promoter_campaign_id and percentage",
                    ),
                }
            }
            shares
        }
        Some(_) => {
            errors.add(FIELD, "must be an array");
            return Ok(None);
        }
        None if body.contains_key(FLAT_LINK) || body.contains_key(FLAT_PERCENTAGE) => {
            vec![(
                body.get(FLAT_LINK).unwrap_or(&zero),
                body.get(FLAT_PERCENTAGE).unwrap_or(&zero),
            )]
        }
        None => return Ok(None),
    };
    let mut split = Vec::with_capacity(shares.len());
    let mut total = 0;
    for (link_id, percentage) in shares {
        let percentage = match whole_percentage(percentage) {
            Ok(p) => Some(p),
            Err(message) => {
                errors.add(FIELD, message);
                None
            }
        };
        total += percentage.map_or(0, u32::from);
        let link = match integer(link_id) {
            None => {
                errors.add(FIELD, "promoter_campaign_id must be an integer");
                None
            }
            Some(id) if id == own => {
                errors.add(
                    FIELD,
                    format!(
                        "promoter campaign {id} is the referral's own: it keeps what the \
                         others do not share"
                    ),
                );
                None
            }
            Some(id) => {
                let found = store::get_link(conn, id)?;
                if found.is_none() {
                    errors.add(FIELD, format!("promoter campaign {id} does not exist"));
                }
                found
            }
        };
        if let (Some(link), Some(percentage)) = (link, percentage) {
            split.push(Split {
                promoter_campaign_id: link.id,
                promoter_id: link.promoter_id,
                percentage,
            });
        }
    }
    if total > 100 {
        errors.add(FIELD, "percentages must not add up to more than 100");
    }
    Ok(Some(split))
}

/// A share's percentage: a JSON number with no fraction (`25` or `25.0`) from 0 to 100.
fn whole_percentage(value: &Value) -> Result<u8, &'static str> {
    match value.as_f64() {
        Some(p) if p.fract() != 0.0 => Err("percentage must be a whole number"),
        Some(p) if (0.0..=100.0).contains(&p) => Ok(p as u8),
        Some(_) => Err("percentage must be between 0 and 100"),
        None => Err("percentage must be a whole number"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percentages_are_whole_numbers_from_0_to_100() {
        for (sent, expected) in [
            (json!(0), 0),
            (json!(25), 25),
            (json!(25.0), 25),
            (json!(100), 100),
        ] {
            assert_eq!(whole_percentage(&sent), Ok(expected), "{sent}");
        }
        for bad in [
            json!(33.5),
            json!(0.1),
            json!("25"),
            json!(null),
            json!(-0.5),
        ] {
            assert_eq!(
                whole_percentage(&bad),
                Err("percentage must be a whole number"),
                "{bad}"
            );
        }
        for bad in [json!(-1), json!(101), json!(1e300)] {
            assert_eq!(
                whole_percentage(&bad),
                Err("percentage must be between 0 and 100"),
                "{bad}"
            );
        }
    }
}
