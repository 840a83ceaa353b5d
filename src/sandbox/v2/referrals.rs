//! `/referrals` handlers: list with filters, get and update, by id or `find_by`.
//!
//! `find_by=email|uid|username` (query, or for a PUT also the body; the query wins) makes `{id}`
//! that field's value; emails match ignoring case, uids and usernames exactly, and the lowest id
//! wins if several match. Without `find_by`, an `{id}` that is not an integer is simply not found.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use rusqlite::Connection;
use serde_json::Value;

use super::V2State;
use super::body::json_object;
use super::error::{ApiError, FieldErrors};
use super::patch::ReferralPatch;
use super::query;
use super::records::Referral;
use super::store::{self, FindBy};
use crate::sandbox::query::Params;

pub async fn list(
    State(state): State<V2State>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<Referral>>, ApiError> {
    let (page, filter) = query::referral_list(&Params::parse(raw.as_deref()))?;
    Ok(Json(store::list_referrals(
        &*state.db.read()?,
        &filter,
        page,
    )?))
}

pub async fn get(
    State(state): State<V2State>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Referral>, ApiError> {
    let find_by = find_by(Params::parse(raw.as_deref()).get("find_by"))?;
    let conn = state.db.read()?;
    lookup(&conn, path, find_by).map(Json)
}

/// The body is read before the lookup because it may carry `find_by`.
pub async fn update(
    State(state): State<V2State>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Referral>, ApiError> {
    state.writes.admit().await?;
    let body = json_object(&body?)?;
    let params = Params::parse(raw.as_deref());
    let in_body = match body.get("find_by") {
        None | Some(Value::Null) => None,
        Some(value) => Some(value.as_str().unwrap_or_default()),
    };
    let find_by = find_by(params.get("find_by").or(in_body))?;
    let conn = state.db.write();
    let mut referral = lookup(&conn, path, find_by)?;
    ReferralPatch::check(&body, &conn, &referral)?.apply(&mut referral);
    store::update_referral(&conn, &referral)?;
    Ok(Json(referral))
}

fn find_by(text: Option<&str>) -> Result<Option<FindBy>, ApiError> {
    let Some(text) = text else {
        return Ok(None);
    };
    let mut errors = FieldErrors::default();
    let by = FindBy::parse(text);
    if by.is_none() {
        errors.add("find_by", "is not included in the list");
    }
    errors.or_value(by)
}

fn lookup(
    conn: &Connection,
    path: Result<Path<String>, PathRejection>,
    find_by: Option<FindBy>,
) -> Result<Referral, ApiError> {
    // A path that is not UTF-8 after decoding names nothing.
    let Ok(Path(key)) = path else {
        return Err(ApiError::referral_not_found());
    };
    let id = match find_by {
        None => key.parse().ok(),
        Some(by) => store::find_referral_id(conn, by, &key)?,
    };
    let referral = match id {
        Some(id) => store::get_referral(conn, id)?,
        None => None,
    };
    referral.ok_or_else(ApiError::referral_not_found)
}
