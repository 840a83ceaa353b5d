//! `referee serve --quirks LIST`: answers a real server may send but the sandbox otherwise never
//! does, so client tests can meet them on our own server. Most are spec-valid or something the
//! contracts tell the client to tolerate; `broken-rows` and `truncated` are faults a client must
//! survive without a panic or a guess.
//!
//! They are applied at the edges. Every route is wrapped by [`Quirks::wrap`], told the [`Shape`]
//! of what it answers; the wrapper may refuse the request (`forbidden-writes`), drop paging
//! parameters from its query (`no-paging`), and rewrite a successful (2xx) JSON answer (`nulls`,
//! `string-ids`, `broken-rows`, `slow-batches`, `truncated`). Errors, 401s and 429s pass
//! untouched. The one hook elsewhere: v2 batch actions leave the batch unrun under
//! `slow-batches` (see `v2::actions`).
//!
//! Exactly, per quirk:
//! - `nulls`, v2 referrals (lists, GET, PUT), chosen by id: `id % 4 == 1` answers `email` and
//!   `username` null; `== 2` has no `state` key; `== 3` has a `promoter_campaign` without its `id`
//!   key; `== 0` is as stored. In every referral the 1st, 3rd, ... `split_details` entry has no
//!   `promoter_campaign_id` key. v1 referrals (lists, GET, PUT, POST): no `impression_id` and no
//!   `updated_at` key, `last_name` null.
//! - `string-ids`, v2 only: every integer under a key `id` or ending in `_id`, at any depth, is a
//!   string (`"5002"`), and every `percentage` a string with one decimal (`"25.0"`).
//! - `no-paging`: list requests lose `page` and `per_page` (v2) or `offset` (v1; `limit` stays)
//!   before they are handled, so every page is the first one.
//! - `broken-rows`: in each non-empty referral list answer the second row (the only one on a
//!   one-row page) is unreadable: v2 answers its `id` as an object `{"id": 5002}`, v1 leaves `id`
//!   out.
//! - `slow-batches`: v2 batch actions store their batch `pending` and never run it (referrals stay
//!   as they were): 200 for five ids or fewer, 202 for more. Batch answers carry
//!   `processing_errors: null` and `processed_count` null (the POST) or -1 (`GET
//!   /batch_processes/{id}`).
//! - `forbidden-writes`: `PUT` and `POST` answer 403 without changing anything: v2
//!   `{"message":"Forbidden","code":"forbidden"}`, v1 `{"error":"Forbidden","message":...}`.
//! - `truncated`: list answers declare their whole length in `Content-Length`, send the first
//!   half of the body and close the connection.
//!
//! Quirks combine: `nulls` and `broken-rows` edit the rows before `string-ids` turns their ids
//! into strings (a broken v2 row's id reads `{"id": "5002"}`), and `truncated` cuts the result.

use std::fmt;
use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::response::Parts;
use axum::http::{HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use clap::ValueEnum;
use futures::{StreamExt, stream};
use serde_json::{Map, Value, json};

/// How long a `truncated` answer waits after its half before the connection is dropped.
const CUT_AFTER: Duration = Duration::from_millis(50);

/// One way of answering like a real server may; `referee serve --help` lists them with these
/// docs, the module header says exactly what each does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Quirk {
    /// v2 referrals with gaps the spec allows: null email and username, no state, a
    /// promoter_campaign without id, split entries without promoter_campaign_id (chosen by id);
    /// v1 referrals without impression_id and updated_at, and a null last_name
    Nulls,
    /// v2 ids (`id`, `*_id`) answered as strings ("5002"), split percentages too ("25.0")
    StringIds,
    /// Lists ignore page/per_page (v2) and offset (v1): every request gets the first page again
    NoPaging,
    /// The second referral of every list page is unreadable: v2 `id` is an object, v1 has no `id`
    BrokenRows,
    /// v2 batches stay pending and never run; answers carry processed_count null (POST) or -1
    /// (GET) and processing_errors null
    SlowBatches,
    /// PUT and POST answer 403 (v2 `{"message":"Forbidden","code":"forbidden"}`) and change
    /// nothing
    ForbiddenWrites,
    /// List answers break off halfway: Content-Length promises the whole body, the connection
    /// closes after half
    Truncated,
}

/// The quirks a server runs with; none by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks(u8);

/// What a wrapped route answers, as far as the quirks care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// v1 `{"referrals": [...]}`
    V1Referrals,
    /// One v1 referral (GET, PUT, POST).
    V1Referral,
    /// Another v1 list: `{"users": [...]}`, `{"impressions": [...]}`.
    V1List,
    /// v2 bare array of referrals.
    V2Referrals,
    /// One v2 referral (GET, PUT).
    V2Referral,
    /// A v2 batch process (batch POSTs, `GET /batch_processes/{id}`).
    V2Batch,
    /// v2 promoter campaigns, listed or searched.
    V2Links,
}

impl Quirks {
    pub fn has(self, quirk: Quirk) -> bool {
        self.0 & bit(quirk) != 0
    }

    /// `route` with these quirks applied to its requests and answers, which have `shape`;
    /// unchanged when there are no quirks. Only requests the route handles pass the wrapper, so
    /// unknown methods keep their 404.
    pub fn wrap<S>(self, route: MethodRouter<S>, shape: Shape) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        if self == Quirks::default() {
            return route;
        }
        let edge = Edge {
            quirks: self,
            shape,
        };
        route.route_layer(middleware::from_fn_with_state(edge, at_edge))
    }
}

impl FromIterator<Quirk> for Quirks {
    fn from_iter<I: IntoIterator<Item = Quirk>>(quirks: I) -> Quirks {
        Quirks(quirks.into_iter().fold(0, |bits, quirk| bits | bit(quirk)))
    }
}

/// The names as `--quirks` takes them, comma-separated, or `none`.
impl fmt::Display for Quirks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = Quirk::value_variants()
            .iter()
            .filter(|quirk| self.has(**quirk))
            .filter_map(|quirk| Some(quirk.to_possible_value()?.get_name().to_owned()))
            .collect();
        if names.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&names.join(","))
        }
    }
}

fn bit(quirk: Quirk) -> u8 {
    1 << quirk as u8
}

impl Shape {
    fn is_v2(self) -> bool {
        matches!(
            self,
            Shape::V2Referrals | Shape::V2Referral | Shape::V2Batch | Shape::V2Links
        )
    }

    /// The paging parameters `no-paging` drops; empty for answers that are not lists.
    fn paging(self) -> &'static [&'static str] {
        match self {
            Shape::V1Referrals | Shape::V1List => &["offset"],
            Shape::V2Referrals | Shape::V2Links => &["page", "per_page"],
            Shape::V1Referral | Shape::V2Referral | Shape::V2Batch => &[],
        }
    }

    fn is_list(self) -> bool {
        !self.paging().is_empty()
    }

    /// The contract's 403 for a valid key without the right to write.
    fn forbidden(self) -> Response {
        if self.is_v2() {
            super::v2::ApiError::forbidden().into_response()
        } else {
            super::v1::ApiError::forbidden().into_response()
        }
    }
}

/// What the wrapper of one route knows.
#[derive(Debug, Clone, Copy)]
struct Edge {
    quirks: Quirks,
    shape: Shape,
}

async fn at_edge(State(edge): State<Edge>, mut request: Request, next: Next) -> Response {
    let Edge { quirks, shape } = edge;
    let method = request.method().clone();
    if quirks.has(Quirk::ForbiddenWrites) && matches!(method, Method::PUT | Method::POST) {
        return shape.forbidden();
    }
    if quirks.has(Quirk::NoPaging) && shape.is_list() {
        let uri = without_params(request.uri(), shape.paging());
        *request.uri_mut() = uri;
    }
    let response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // The body is our own JSON, already in memory: reading it fails only on a bug.
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Ok(mut answer) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    rewrite(edge, &method, &mut answer);
    let bytes = Bytes::from(answer.to_string());
    parts.headers.remove(CONTENT_LENGTH);
    if quirks.has(Quirk::Truncated) && shape.is_list() {
        return truncated(parts, bytes);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `uri` without the query parameters named in `drop`.
fn without_params(uri: &Uri, drop: &[&str]) -> Uri {
    let kept = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(name, _)| !drop.contains(&name.as_ref()));
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish();
    let path_and_query = if query.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{query}", uri.path())
    };
    // A path that was valid stays valid with fewer (re-encoded) parameters.
    path_and_query.parse().unwrap_or_else(|_| uri.clone())
}

/// Applies the body-changing quirks to a successful answer of `edge.shape`.
fn rewrite(edge: Edge, method: &Method, answer: &mut Value) {
    let Edge { quirks, shape } = edge;
    let rows = match shape {
        Shape::V1Referrals => answer.get_mut("referrals").and_then(Value::as_array_mut),
        Shape::V2Referrals => answer.as_array_mut(),
        _ => None,
    };
    if let Some(rows) = rows {
        if quirks.has(Quirk::Nulls) {
            let gaps = if shape.is_v2() { v2_gaps } else { v1_gaps };
            rows.iter_mut().for_each(gaps);
        }
        if quirks.has(Quirk::BrokenRows) {
            break_one_row(rows, shape.is_v2());
        }
    }
    if quirks.has(Quirk::Nulls) {
        match shape {
            Shape::V1Referral => v1_gaps(answer),
            Shape::V2Referral => v2_gaps(answer),
            _ => {}
        }
    }
    if quirks.has(Quirk::SlowBatches)
        && shape == Shape::V2Batch
        && let Some(batch) = answer.as_object_mut()
    {
        let processed = if method == Method::POST {
            Value::Null
        } else {
            json!(-1)
        };
        batch.insert("processed_count".into(), processed);
        batch.insert("processing_errors".into(), Value::Null);
    }
    if quirks.has(Quirk::StringIds) && shape.is_v2() {
        ids_as_strings(answer);
    }
}

/// The gaps of `nulls` in one v2 referral; see the module header.
fn v2_gaps(referral: &mut Value) {
    let Some(referral) = referral.as_object_mut() else {
        return;
    };
    match referral.get("id").and_then(Value::as_i64).map(|id| id % 4) {
        Some(1) => {
            referral.insert("email".into(), Value::Null);
            referral.insert("username".into(), Value::Null);
        }
        Some(2) => {
            referral.shift_remove("state");
        }
        Some(3) => {
            if let Some(link) = referral
                .get_mut("promoter_campaign")
                .and_then(Value::as_object_mut)
            {
                link.shift_remove("id");
            }
        }
        _ => {}
    }
    if let Some(split) = referral
        .get_mut("split_details")
        .and_then(Value::as_array_mut)
    {
        for share in split.iter_mut().step_by(2).filter_map(Value::as_object_mut) {
            share.shift_remove("promoter_campaign_id");
        }
    }
}

/// The gaps of `nulls` in one v1 referral.
fn v1_gaps(referral: &mut Value) {
    if let Some(referral) = referral.as_object_mut() {
        referral.shift_remove("impression_id");
        referral.shift_remove("updated_at");
        referral.insert("last_name".into(), Value::Null);
    }
}

/// `broken-rows`: the second row, or the only one, loses a readable id.
fn break_one_row(rows: &mut [Value], v2: bool) {
    let index = rows.len().min(2).saturating_sub(1);
    let Some(row) = rows.get_mut(index).and_then(Value::as_object_mut) else {
        return;
    };
    if v2 {
        if let Some(id) = row.get_mut("id") {
            *id = json!({ "id": id.take() });
        }
    } else {
        row.shift_remove("id");
    }
}

/// `string-ids`, at any depth.
fn ids_as_strings(value: &mut Value) {
    match value {
        Value::Object(object) => ids_in_object(object),
        Value::Array(items) => items.iter_mut().for_each(ids_as_strings),
        _ => {}
    }
}

fn ids_in_object(object: &mut Map<String, Value>) {
    for (key, value) in object.iter_mut() {
        let is_id = key == "id" || key.ends_with("_id");
        match value {
            Value::Number(n) if is_id && n.is_i64() => *value = Value::String(n.to_string()),
            Value::Number(n) if key == "percentage" => {
                let text = format!("{:.1}", n.as_f64().unwrap_or_default());
                *value = Value::String(text);
            }
            _ => ids_as_strings(value),
        }
    }
}

/// `truncated`: the whole length declared, half the body sent, then the connection dropped.
fn truncated(mut parts: Parts, body: Bytes) -> Response {
    parts
        .headers
        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    let half = body.slice(..body.len() / 2);
    // A body that fails at once makes hyper drop the connection before anything is written; the
    // pause lets the head and the half go out first.
    let cut = async {
        tokio::time::sleep(CUT_AFTER).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "cut short by --quirks truncated",
        ))
    };
    let stream = stream::iter([Ok(half)]).chain(stream::once(cut));
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Quirks {
        Quirk::value_variants().iter().copied().collect()
    }

    #[test]
    fn quirk_sets_name_what_they_hold() {
        let some: Quirks = [Quirk::Truncated, Quirk::Nulls, Quirk::Nulls]
            .into_iter()
            .collect();
        assert!(some.has(Quirk::Nulls) && some.has(Quirk::Truncated));
        assert!(!some.has(Quirk::StringIds));
        assert_eq!(some.to_string(), "nulls,truncated");
        assert_eq!(Quirks::default().to_string(), "none");
        assert_eq!(
            all().to_string(),
            "nulls,string-ids,no-paging,broken-rows,slow-batches,forbidden-writes,truncated"
        );
    }

    #[test]
    fn paging_parameters_are_dropped_and_the_rest_kept() {
        let uri: Uri = "/referrals?page=3&q=a%20b&per_page=10&ids%5B%5D=5"
            .parse()
            .unwrap();
        let kept = without_params(&uri, Shape::V2Referrals.paging());
        assert_eq!(kept, "/referrals?q=a+b&ids%5B%5D=5");
        let only_paging: Uri = "/referrals?offset=50".parse().unwrap();
        assert_eq!(without_params(&only_paging, &["offset"]), "/referrals");
    }

    #[test]
    fn v2_gaps_follow_the_id() {
        let referral = |id: i64| {
            json!({"id": id, "email": "a@b.co", "username": "ab", "state": "active",
                   "promoter_campaign": {"id": 1001, "campaign_id": 11},
                   "split_details": [{"promoter_campaign_id": 1002, "percentage": 20},
                                     {"promoter_campaign_id": 1003, "percentage": 30}]})
        };
        let gapped = |id| {
            let mut r = referral(id);
            v2_gaps(&mut r);
            r
        };
        let first_share_gapped = json!([{"percentage": 20},
                                         {"promoter_campaign_id": 1003, "percentage": 30}]);
        let r = gapped(5001);
        assert_eq!((&r["email"], &r["username"]), (&Value::Null, &Value::Null));
        assert_eq!(r["split_details"], first_share_gapped);
        assert!(!gapped(5002).as_object().unwrap().contains_key("state"));
        assert_eq!(
            gapped(5003)["promoter_campaign"],
            json!({"campaign_id": 11})
        );
        let untouched = gapped(5004);
        assert_eq!(untouched["email"], "a@b.co");
        assert_eq!(untouched["split_details"], first_share_gapped);
    }

    #[test]
    fn string_ids_reach_every_depth_and_leave_counts_alone() {
        let mut batch = json!({"id": 3, "total": 2, "meta": {"promoter_campaign_id": 1004},
                               "rows": [{"promoter_id": 201, "percentage": 25, "uid": "cus_1"}]});
        ids_as_strings(&mut batch);
        assert_eq!(
            batch,
            json!({"id": "3", "total": 2, "meta": {"promoter_campaign_id": "1004"},
                   "rows": [{"promoter_id": "201", "percentage": "25.0", "uid": "cus_1"}]})
        );
    }

    #[test]
    fn broken_rows_hit_the_second_row_or_the_only_one() {
        let mut rows = vec![json!({"id": 1}), json!({"id": 2}), json!({"id": 3})];
        break_one_row(&mut rows, true);
        assert_eq!(rows[1], json!({"id": {"id": 2}}));
        assert_eq!((&rows[0], &rows[2]), (&json!({"id": 1}), &json!({"id": 3})));
        let mut one = vec![json!({"id": "ref_a", "email": "x"})];
        break_one_row(&mut one, false);
        assert_eq!(one[0], json!({"email": "x"}));
        break_one_row(&mut [], true);
    }
}
