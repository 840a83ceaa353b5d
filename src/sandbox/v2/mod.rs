//! FirstPromoter API v2, admin referrals (backend `firstpromoter`), served under
//! `/api/v2/company`: its routes, the state its handlers share, and getting its tables ready.
//! Contract: `api-contracts.md` §2.
//!
//! Choices where the contract is silent:
//! - the server hosts one account, the configured `account_id`; its data is not tagged with the
//!   id, so a restart with another id serves the same referrals under the new one;
//! - the key/account check and rate limit come first (401/429), then routing (404, also for a
//!   known path with the wrong method), then the record (404), then the body (422); a PUT body is
//!   read before the lookup, since it may carry `find_by`, and a bad `find_by` is a 422; a write
//!   (`PUT`, batch `POST`) takes its configured delay and chaos roll (500) after the gate and
//!   before its body is read;
//! - list parameters with empty values count as absent, unknown ones are ignored;
//! - a 422 names every failing field at once (query parameters by their full name, e.g.
//!   `filters[state]`);
//! - `PUT` ignores fields its body does not document (`state`, `metadata`, `first_name`,
//!   `website`, `is_expired`, ...): state changes are the batch actions' business;
//! - `cancelled_at` is stored (set for cancelled and refunded customers, kept by later batch
//!   actions) so `filters[cancelled_at]` can work, but not answered: the spec's referral object
//!   has no such field.

mod actions;
mod batch;
mod body;
mod error;
mod gate;
mod patch;
mod promoter_campaigns;
mod query;
mod records;
mod referrals;
mod seed;
mod store;

use std::sync::Arc;

use axum::routing::{MethodRouter, get, post};
use axum::{Router, middleware};

use super::background::Background;
use super::db::{self, Db};
use super::quirks::{Quirks, Shape};
use super::rate_limit::RateLimiter;
use super::writes::Writes;
pub use error::ApiError;

#[derive(Clone)]
pub struct V2State {
    pub db: Db,
    /// The one bearer key the server accepts.
    pub api_key: Arc<str>,
    /// The one `Account-ID` the server accepts; also its rate-limit window key.
    pub account_id: Arc<str>,
    pub limiter: Arc<RateLimiter>,
    /// The delay and chaos roll every write takes first.
    pub writes: Arc<Writes>,
    /// Runs batches of more than five ids after their 202 answer.
    pub background: Background,
    /// Applied to every route by the router; `slow-batches` also stops batches from running.
    pub quirks: Quirks,
}

/// Creates the v2 tables if missing, marks batches a previous run left unfinished as stopped
/// and, when there are no referrals yet, generates `seed` demo ones. Tables an older referee made
/// lack columns this one needs: they are refused, with what to do, rather than converted.
pub fn prepare(db: &Db, seed: usize) -> anyhow::Result<()> {
    let mut conn = db.write();
    if let Some(problem) = outdated(&conn)? {
        anyhow::bail!(
            "{problem}. Delete the file to start afresh (for --demo: referee --demo --reset-demo)"
        );
    }
    store::create_schema(&conn)?;
    batch::create_schema(&conn)?;
    batch::stop_unfinished(&conn)?;
    if seed > 0 && store::referral_count(&conn)? == 0 {
        seed::insert_demo_data(&mut conn, seed)?;
    }
    Ok(())
}

/// Why tables an older referee made cannot be used ("… has no cancelled_at column"); None when
/// they are current or not there yet.
pub fn outdated(conn: &rusqlite::Connection) -> anyhow::Result<Option<String>> {
    for (table, newest_column) in [("v2_referrals", "cancelled_at"), ("v2_batches", "meta")] {
        let columns = db::columns(conn, table)?;
        if !columns.is_empty() && !columns.iter().any(|c| c == newest_column) {
            return Ok(Some(format!(
                "the sandbox database was made by an older referee: its table {table} has no {newest_column} column"
            )));
        }
    }
    Ok(None)
}

/// The v2 routes, to be nested at `/api/v2/company`; anything else answers 404 in the v2 shape.
pub fn router(state: V2State) -> Router {
    let quirks = state.quirks;
    let batch = |action: MethodRouter<V2State>| quirks.wrap(action, Shape::V2Batch);
    Router::new()
        .route(
            "/referrals",
            quirks.wrap(get(referrals::list), Shape::V2Referrals),
        )
        .route(
            "/referrals/{id}",
            quirks.wrap(
                get(referrals::get).put(referrals::update),
                Shape::V2Referral,
            ),
        )
        .route("/referrals/approve", batch(post(actions::approve)))
        .route("/referrals/disable", batch(post(actions::disable)))
        .route("/referrals/enable", batch(post(actions::enable)))
        .route(
            "/referrals/move_to_promoter",
            batch(post(actions::move_to_promoter)),
        )
        .route(
            "/batch_processes/{id}",
            quirks.wrap(get(actions::get_batch), Shape::V2Batch),
        )
        .route(
            "/promoter_campaigns",
            quirks.wrap(get(promoter_campaigns::list), Shape::V2Links),
        )
        .route(
            "/promoter_campaigns/search",
            quirks.wrap(get(promoter_campaigns::search), Shape::V2Links),
        )
        .method_not_allowed_fallback(|| async { ApiError::route_not_found() })
        .fallback(|| async { ApiError::route_not_found() })
        .layer(middleware::from_fn_with_state(state.clone(), gate::gate))
        .with_state(state)
}
