//! The `PUT /referrals/{id}` body: reading each field, checking it (against the database where a
//! rule needs it) and applying the change. Every failing field is reported at once.
//!
//! Blank strings clear `email`, `uid` and `username` like null does. Ids may be sent as numbers or
//! digit strings. `split_details` takes an array of `{promoter_campaign_id, percentage}`, or the
//! flat keys `split_details[promoter_campaign_id]` / `split_details[percentage]` (one share, each
//! defaulting to 0 as the vendor documents); null or `[]` removes the split. When `split_details`
//! itself is present the flat keys are ignored.

use rusqlite::Connection;
use serde_json::{Map, Number, Value};

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
    fraud_check: Option<FraudCheck>,
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
        let split_details = splits(body, conn, &mut errors)?;
        let fraud_check = body.get("fraud_check").and_then(|value| {
            let check = value.as_str().and_then(FraudCheck::parse);
            if check.is_none() {
                errors.add("fraud_check", "is not included in the list");
            }
            check
        });
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
        replace(&mut referral.promoter_campaign, promoter_campaign);
        replace(&mut referral.split_details, split_details);
        replace(&mut referral.fraud_check, fraud_check);
    }
}

fn replace<T>(slot: &mut T, new: Option<T>) {
    if let Some(new) = new {
        *slot = new;
    }
}

/// The new split, from `split_details` or the flat keys; `None` when neither was sent.
fn splits(
    body: &Object,
    conn: &Connection,
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
    let mut total = 0.0;
    for (link_id, percentage) in shares {
        let percentage = match percentage {
            Value::Number(n) if n.as_f64().is_some_and(|p| (0.0..=100.0).contains(&p)) => {
                Some(n.clone())
            }
            Value::Number(_) => {
                errors.add(FIELD, "percentage must be between 0 and 100");
                None
            }
            _ => {
                errors.add(FIELD, "percentage must be a number");
                None
            }
        };
        total += percentage.as_ref().and_then(Number::as_f64).unwrap_or(0.0);
        let link = match integer(link_id) {
            None => {
                errors.add(FIELD, "promoter_campaign_id must be an integer");
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
    // A hair of tolerance so 33.3 + 33.3 + 33.4 is not "more than 100".
    if total > 100.0 + 1e-9 {
        errors.add(FIELD, "percentages must not add up to more than 100");
    }
    Ok(Some(split))
}
