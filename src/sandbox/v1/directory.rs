//! Read-only `/users` (ambassadors) and `/impressions` (poster scans) handlers, which the console
//! uses to show who brought a referral in and where.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;

use super::error::ApiError;
use super::paging;
use super::store::{self, Impression, User};
use super::{V1State, envelope};
use crate::sandbox::query::Params;

pub async fn list_users(
    State(state): State<V1State>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = paging::page(&Params::parse(query.as_deref()))?;
    Ok(envelope(
        "users",
        store::list_users(&*state.db.read()?, page)?,
    ))
}

pub async fn get_user(
    State(state): State<V1State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<User>, ApiError> {
    let Path(id) = path?;
    let user = store::get_user(&*state.db.read()?, &id)?;
    user.map(Json)
        .ok_or_else(|| ApiError::not_found("User not found"))
}

pub async fn list_impressions(
    State(state): State<V1State>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = paging::page(&Params::parse(query.as_deref()))?;
    let impressions = store::list_impressions(&*state.db.read()?, page)?;
    Ok(envelope("impressions", impressions))
}

pub async fn get_impression(
    State(state): State<V1State>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Impression>, ApiError> {
    let Path(id) = path?;
    let impression = store::get_impression(&*state.db.read()?, &id)?;
    impression
        .map(Json)
        .ok_or_else(|| ApiError::not_found("Impression not found"))
}
