//! `/referrals` handlers: list with filters, get, create (idempotent), update.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::{SignedDuration, Timestamp};

use super::error::ApiError;
use super::input::{self, NewReferral, ReferralPatch};
use super::paging;
use super::store::{self, Referral, ReferralFilter, Status};
use super::{V1State, envelope};
use crate::sandbox::db;
use crate::sandbox::prng::Prng;
use crate::sandbox::query::Params;

/// How long an `idempotency_key` keeps answering with the referral it created.
const IDEMPOTENCY_WINDOW: SignedDuration = SignedDuration::from_hours(24);

pub async fn list(
    State(state): State<V1State>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(query.as_deref());
    let page = paging::page(&params)?;
    let status = params
        .get("status")
        .map(|text| Status::parse(text).ok_or_else(input::invalid_status))
        .transpose()?;
    let filter = ReferralFilter {
        program_id: params.get("programId"),
        student_id: params.get("studentId"),
        status,
    };
    let referrals = store::list_referrals(&*state.db.read()?, &filter, page)?;
    Ok(envelope("referrals", referrals))
}

pub async fn get(
    State(state): State<V1State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Referral>, ApiError> {
    let Path(id) = path?;
    let referral = store::get_referral(&*state.db.read()?, &id)?;
    referral.map(Json).ok_or_else(not_found)
}

/// Replaying an `idempotency_key` answers 201 with the referral as it is now, before any other
/// check, so a retried create never trips over the email it registered the first time.
pub async fn create(
    State(state): State<V1State>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Referral>), ApiError> {
    state.writes.admit().await?;
    let body = input::json_object(&body?)?;
    let now = Timestamp::now();
    let conn = state.db.write();
    let idempotency_key = input::idempotency_key(&body)?;
    if let Some(key) = idempotency_key {
        let since = db::timestamp(
            now.checked_sub(IDEMPOTENCY_WINDOW)
                .unwrap_or(Timestamp::MIN),
        );
        if let Some(earlier) = store::find_by_idempotency_key(&conn, key, &since)? {
            return Ok((StatusCode::CREATED, Json(earlier)));
        }
    }
    let new = NewReferral::from_body(&body)?;
    let impression = store::get_impression(&conn, &new.impression_id)?
        .ok_or_else(|| ApiError::bad_request("Invalid impression_id: impression not found"))?;
    if store::email_taken(&conn, &impression.program_id, &new.email, None)? {
        return Err(input::email_taken());
    }
    let created_at = db::timestamp(now);
    let referral = Referral {
        id: Prng::unpredictable().id("ref_"),
        impression_id: new.impression_id,
        first_name: new.first_name,
        last_name: new.last_name,
        email: new.email,
        profile_picture: new.profile_picture,
        status: Status::Pending,
        program_id: impression.program_id,
        student_id: impression.student_id,
        updated_at: created_at.clone(),
        created_at,
        verified_at: None,
        metadata: new.metadata,
    };
    store::insert_referral(&conn, &referral, idempotency_key)?;
    Ok((StatusCode::CREATED, Json(referral)))
}

pub async fn update(
    State(state): State<V1State>,
    path: Result<Path<String>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Referral>, ApiError> {
    state.writes.admit().await?;
    let Path(id) = path?;
    let conn = state.db.write();
    let mut referral = store::get_referral(&conn, &id)?.ok_or_else(not_found)?;
    let patch = ReferralPatch::from_body(&input::json_object(&body?)?)?;
    if let Some(email) = &patch.email
        && store::email_taken(&conn, &referral.program_id, email, Some(&referral.id))?
    {
        return Err(input::email_taken());
    }
    patch.apply(&mut referral, state.metadata_mode);
    referral.updated_at = db::timestamp(Timestamp::now());
    store::update_referral(&conn, &referral)?;
    Ok(Json(referral))
}

fn not_found() -> ApiError {
    ApiError::not_found("Referral not found")
}
