//! Referral API v1 (backend `vantio`), served under `/api/v1`: its routes, the state its handlers
//! share, and getting its tables ready. Contract: `api-contracts.md` §1.
//!
//! Choices where the contract is silent:
//! - the key check and rate limit come first (401/429), then routing (404/405), then the record
//!   (404), then the body (400); a body gets one 400: the first invalid field in contract order,
//!   and the email-in-use rule after all of them; a write (`PUT`, `POST`) takes its configured
//!   delay and chaos roll (500) after the gate and before its body is read;
//! - `POST` replays an `idempotency_key` seen in the last 24 h with 201 and the referral as it is
//!   now, and ignores `status`/`verified_at` (a new referral is `pending`); an impression may lead
//!   to several referrals;
//! - names are stored as sent (only all-blank is refused); `verified_at` is stored in UTC seconds;
//! - list parameters with empty values count as absent; `/users` and `/impressions` take only
//!   `limit` and `offset`, ordered like referrals (created_at, then id).

mod directory;
mod error;
mod gate;
mod input;
mod paging;
mod referrals;
mod seed;
mod store;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::Serialize;

pub use error::ApiError;

use super::db::Db;
use super::quirks::{Quirks, Shape};
use super::rate_limit::RateLimiter;
use super::writes::Writes;
use crate::domain::MetadataMode;

#[derive(Clone)]
pub struct V1State {
    pub db: Db,
    /// The one bearer key the server accepts.
    pub api_key: Arc<str>,
    pub limiter: Arc<RateLimiter>,
    /// The delay and chaos roll every write takes first.
    pub writes: Arc<Writes>,
    /// What a `metadata` object in a PUT does to the stored one.
    pub metadata_mode: MetadataMode,
    /// Applied to every route's requests and answers by the router.
    pub quirks: Quirks,
}

/// Creates the v1 tables if missing and, when there are no referrals yet, `seed` demo ones.
pub fn prepare(db: &Db, seed: usize) -> rusqlite::Result<()> {
    let mut conn = db.write();
    store::create_schema(&conn)?;
    if seed > 0 && store::referral_count(&conn)? == 0 {
        seed::insert_demo_data(&mut conn, seed)?;
    }
    Ok(())
}

/// The v1 routes, to be nested at `/api/v1`; unknown paths and methods answer in the v1 error shape.
pub fn router(state: V1State) -> Router {
    let quirks = state.quirks;
    Router::new()
        .route(
            "/referrals",
            quirks
                .wrap(get(referrals::list), Shape::V1Referrals)
                .merge(quirks.wrap(post(referrals::create), Shape::V1Referral)),
        )
        .route(
            "/referrals/{id}",
            quirks.wrap(
                get(referrals::get).put(referrals::update),
                Shape::V1Referral,
            ),
        )
        .route(
            "/users",
            quirks.wrap(get(directory::list_users), Shape::V1List),
        )
        .route("/users/{id}", get(directory::get_user))
        .route(
            "/impressions",
            quirks.wrap(get(directory::list_impressions), Shape::V1List),
        )
        .route("/impressions/{id}", get(directory::get_impression))
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .fallback(|| async { ApiError::route_not_found() })
        .layer(middleware::from_fn_with_state(state.clone(), gate::gate))
        .with_state(state)
}

/// A list answer: `{"<key>": [...]}` and nothing else.
fn envelope<T: Serialize>(key: &'static str, items: Vec<T>) -> Response {
    Json(BTreeMap::from([(key, items)])).into_response()
}
