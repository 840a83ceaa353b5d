//! The batch action endpoints (`POST /referrals/approve|disable|enable|move_to_promoter`) and
//! `GET /batch_processes/{id}`.
//!
//! Bodies: `{"ids": [...]}` (numbers or digit strings; repeats count once in `total`, every one
//! in `selected_total`), and for `move_to_promoter` also `promoter_campaign_id` (required) and
//! `move_associated_commissions` (a boolean if given; the sandbox has no commissions to move, the
//! batch's `meta` records it). Up to [`AT_ONCE`] ids run before the answer (200, `completed`);
//! more answer 202 with the `pending` batch and run in the background. Under the `slow-batches`
//! quirk a batch is stored but never run, and answered `pending` with the same 200 or 202.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::V2State;
use super::batch::{self, Batch, Change};
use super::body::{integer, json_object, link};
use super::error::{ApiError, FieldErrors};
use crate::sandbox::quirks::Quirk;

/// The most ids a batch may have and still run before the answer.
const AT_ONCE: usize = 5;

type Answer = Result<(StatusCode, Json<Batch>), ApiError>;

pub async fn approve(State(state): State<V2State>, body: Result<Bytes, BytesRejection>) -> Answer {
    state.writes.admit().await?;
    let body = json_object(&body?)?;
    start(&state, Change::Approve, only_ids(&body)?)
}

pub async fn disable(State(state): State<V2State>, body: Result<Bytes, BytesRejection>) -> Answer {
    state.writes.admit().await?;
    let body = json_object(&body?)?;
    start(&state, Change::Disable, only_ids(&body)?)
}

pub async fn enable(State(state): State<V2State>, body: Result<Bytes, BytesRejection>) -> Answer {
    state.writes.admit().await?;
    let body = json_object(&body?)?;
    start(&state, Change::Enable, only_ids(&body)?)
}

pub async fn move_to_promoter(
    State(state): State<V2State>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    state.writes.admit().await?;
    let body = json_object(&body?)?;
    let mut errors = FieldErrors::default();
    let ids = ids(&body, &mut errors);
    let target = match body.get("promoter_campaign_id") {
        None => {
            errors.add("promoter_campaign_id", "can't be blank");
            None
        }
        Some(value) => link(&state.db.write(), value, &mut errors)?,
    };
    let with_commissions = match body.get("move_associated_commissions") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(with)) => *with,
        Some(_) => {
            errors.add("move_associated_commissions", "must be true or false");
            false
        }
    };
    // Without a target, `link` or the match above has named the field.
    let Some(link) = target else {
        return Err(errors.into_error());
    };
    let change = Change::MoveTo {
        link,
        with_commissions,
    };
    start(&state, change, errors.or_value(ids)?)
}

pub async fn get_batch(
    State(state): State<V2State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Batch>, ApiError> {
    let not_found = || ApiError::not_found("Batch process not found");
    let Ok(Path(id)) = path else {
        return Err(not_found());
    };
    let id: i64 = id.parse().map_err(|_| not_found())?;
    batch::get(&*state.db.read()?, id)?
        .map(Json)
        .ok_or_else(not_found)
}

/// Stores the batch and runs it, at once or in the background.
fn start(state: &V2State, change: Change, ids: Ids) -> Answer {
    let Ids { ids, selected } = ids;
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let mut conn = state.db.write();
    let mut batch = batch::create(&conn, &change, count(ids.len()), count(selected))?;
    let at_once = ids.len() <= AT_ONCE;
    if state.quirks.has(Quirk::SlowBatches) {
        let status = if at_once {
            StatusCode::OK
        } else {
            StatusCode::ACCEPTED
        };
        return Ok((status, Json(batch)));
    }
    if at_once {
        batch::run_now(&mut conn, &mut batch, &change, &ids)?;
        return Ok((StatusCode::OK, Json(batch)));
    }
    drop(conn);
    let pending = batch.clone();
    batch::run_in_background(&state.background, state.db.clone(), batch, change, ids);
    Ok((StatusCode::ACCEPTED, Json(pending)))
}

/// The `ids` of a batch body.
struct Ids {
    /// Distinct, in the order sent.
    ids: Vec<i64>,
    /// How many the body listed, repeats included.
    selected: usize,
}

/// The ids of a body that carries nothing else.
fn only_ids(body: &Map<String, Value>) -> Result<Ids, ApiError> {
    let mut errors = FieldErrors::default();
    let ids = ids(body, &mut errors);
    errors.or_value(ids)
}

fn ids(body: &Map<String, Value>, errors: &mut FieldErrors) -> Ids {
    const FIELD: &str = "ids";
    let items = match body.get(FIELD) {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.add(FIELD, "must be an array of referral ids");
            return Ids {
                ids: Vec::new(),
                selected: 0,
            };
        }
    };
    let mut ids = Vec::with_capacity(items.len());
    for item in items {
        match integer(item) {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => errors.add(FIELD, "must be an array of referral ids"),
        }
    }
    if items.is_empty() {
        errors.add(FIELD, "can't be blank");
    }
    Ids {
        ids,
        selected: items.len(),
    }
}
