//! `/promoter_campaigns` handlers: the paged list and the short search the console's
//! "move to promoter" picker is built on. The spec makes `q` required: a search without it (or
//! with an empty one) is a 422 naming `q`.

use axum::Json;
use axum::extract::{RawQuery, State};

use super::V2State;
use super::error::{ApiError, FieldErrors};
use super::query;
use super::records::PromoterCampaign;
use super::store;
use crate::sandbox::query::Params;

/// The most links a search answers with.
const SEARCH_LIMIT: u32 = 5;

pub async fn list(
    State(state): State<V2State>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<PromoterCampaign>>, ApiError> {
    let mut errors = FieldErrors::default();
    let page = query::page(&Params::parse(raw.as_deref()), &mut errors);
    let page = errors.or_value(page)?;
    Ok(Json(store::list_promoter_campaigns(
        &*state.db.read()?,
        page,
    )?))
}

pub async fn search(
    State(state): State<V2State>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<PromoterCampaign>>, ApiError> {
    let params = Params::parse(raw.as_deref());
    let Some(q) = params.get("q") else {
        let mut errors = FieldErrors::default();
        errors.add("q", "can't be blank: say what to search for");
        return Err(errors.into_error());
    };
    Ok(Json(store::search_promoter_campaigns(
        &*state.db.read()?,
        q,
        SEARCH_LIMIT,
    )?))
}
