//! Referral API v1 (`vantio`): the documented shapes of referrals, users and impressions (read
//! leniently, see `lenient`), and the calls the console makes. Paging is limit/offset; the last page
//! is the first one shorter than the limit.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::watch;

use super::error::ApiError;
use super::http::{HttpCore, Limits, NetStatus};
use super::lenient::{Documented, Entry, Field, One, Rows, Shape};
use super::{Backend, Connection, PageResult};
use crate::domain::Record;
use crate::domain::schema::RefKind;

/// Page size the client asks for: the API's maximum.
pub const PAGE_SIZE: usize = 100;

/// A referral as the contract documents it. Only `id` is needed; ids and the other documented
/// strings are text (a number is read as its digits), `metadata` a free-form object.
pub struct Referral;

impl Documented for Referral {
    const FIELDS: &'static [Field] = &[
        ("id", Shape::Text),
        ("impression_id", Shape::Text),
        ("first_name", Shape::Text),
        ("last_name", Shape::Text),
        ("email", Shape::Text),
        ("profile_picture", Shape::Text),
        ("status", Shape::Text),
        ("program_id", Shape::Text),
        ("student_id", Shape::Text),
        ("created_at", Shape::Text),
        ("verified_at", Shape::Text),
        ("updated_at", Shape::Text),
        ("metadata", Shape::AnyObject),
    ];
}

#[derive(Deserialize)]
struct ReferralList {
    referrals: Rows<Referral>,
}

/// An ambassador, for names.
struct User;

impl Documented for User {
    const FIELDS: &'static [Field] = &[
        ("id", Shape::Text),
        ("first_name", Shape::Text),
        ("last_name", Shape::Text),
    ];
}

#[derive(Deserialize)]
struct UserList {
    users: Rows<User>,
}

/// The QR scan a referral came from, for its poster and location.
struct Impression;

impl Documented for Impression {
    const FIELDS: &'static [Field] = &[
        ("id", Shape::Text),
        ("poster_id", Shape::Text),
        ("location", Shape::Text),
    ];
}

#[derive(Deserialize)]
struct ImpressionList {
    impressions: Rows<Impression>,
}

/// An entry as (id, the texts at `keys` that are there joined with `between`), or its id alone
/// when none is.
fn named(entry: Entry, keys: &[&str], between: &str) -> (String, String) {
    let record = Record::from(entry);
    let parts: Vec<String> = keys
        .iter()
        .map(|key| record.text(key))
        .filter(|text| !text.is_empty())
        .collect();
    let name = if parts.is_empty() {
        record.id.clone()
    } else {
        parts.join(between)
    };
    (record.id, name)
}

/// Whether a page of `sent` entries is the last: the first one shorter than the limit.
fn is_last(sent: usize) -> bool {
    sent < PAGE_SIZE
}

/// v1 names the field first in its message: `Invalid email: ...`, `Invalid status value. ...`.
pub fn field_from_message(body: &Value) -> Vec<(String, String)> {
    let Some(message) = body.get("message").and_then(Value::as_str) else {
        return Vec::new();
    };
    let Some(rest) = message.strip_prefix("Invalid ") else {
        return Vec::new();
    };
    let field: String = rest
        .chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect();
    let detail = rest[field.len()..].trim_start_matches([':', ' ']).trim();
    if field.is_empty() || detail.is_empty() {
        return Vec::new();
    }
    vec![(field, super::error::capitalise(detail))]
}

#[derive(Clone)]
pub struct VantioClient {
    http: HttpCore,
}

fn page_query(offset: usize) -> [(&'static str, String); 2] {
    [
        ("limit", PAGE_SIZE.to_string()),
        ("offset", offset.to_string()),
    ]
}

impl VantioClient {
    pub fn new(http: HttpCore) -> Self {
        VantioClient { http }
    }

    /// Page `index` (from 0) of referrals.
    pub async fn referrals_page(&self, index: usize) -> PageResult<Record> {
        let list: ReferralList = self
            .http
            .get(&["referrals"], &page_query(index * PAGE_SIZE))
            .await?;
        let last = is_last(list.referrals.sent);
        Ok(list.referrals.page(last, Record::from))
    }

    pub async fn referral(&self, id: &str) -> Result<Record, ApiError> {
        let one: One<Referral> = self.http.get(&["referrals", id], &[]).await?;
        Ok(one.entry.into())
    }

    pub async fn update(&self, id: &str, body: &Map<String, Value>) -> Result<Record, ApiError> {
        let body = Value::Object(body.clone());
        let one: One<Referral> = self.http.put(&["referrals", id], &body).await?;
        Ok(one.entry.into())
    }

    /// Page `index` of ambassadors as (id, "First Last").
    pub async fn users_page(&self, index: usize) -> PageResult<(String, String)> {
        let list: UserList = self
            .http
            .get(&["users"], &page_query(index * PAGE_SIZE))
            .await?;
        let last = is_last(list.users.sent);
        Ok(list
            .users
            .page(last, |e| named(e, &["first_name", "last_name"], " ")))
    }

    /// Page `index` of impressions as (id, "location · poster").
    pub async fn impressions_page(&self, index: usize) -> PageResult<(String, String)> {
        let list: ImpressionList = self
            .http
            .get(&["impressions"], &page_query(index * PAGE_SIZE))
            .await?;
        let last = is_last(list.impressions.sent);
        Ok(list
            .impressions
            .page(last, |e| named(e, &["location", "poster_id"], " · ")))
    }
}

/// The `connect` in `api::BACKENDS`. v1 documents no limit: the client follows the rate-limit
/// headers and `Retry-After`, and does not pace itself.
pub fn connect(c: &Connection) -> Result<Arc<dyn Backend>, String> {
    let core = HttpCore::new(
        c.base_url,
        c.api_key,
        &[],
        field_from_message,
        Limits::default(),
    )?;
    Ok(Arc::new(VantioClient::new(core)))
}

impl Backend for VantioClient {
    fn net_status(&self) -> watch::Receiver<NetStatus> {
        self.http.net_status()
    }

    fn referrals_page(&self, index: usize) -> BoxFuture<'_, PageResult<Record>> {
        Box::pin(VantioClient::referrals_page(self, index))
    }

    fn referral<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Record, ApiError>> {
        Box::pin(VantioClient::referral(self, id))
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        body: &'a Map<String, Value>,
    ) -> BoxFuture<'a, Result<Record, ApiError>> {
        Box::pin(VantioClient::update(self, id, body))
    }

    fn lookup_kinds(&self) -> &'static [RefKind] {
        &[RefKind::User, RefKind::Impression]
    }

    fn lookup_page(
        &self,
        kind: RefKind,
        index: usize,
    ) -> BoxFuture<'_, PageResult<(String, String)>> {
        match kind {
            RefKind::User => Box::pin(self.users_page(index)),
            RefKind::Impression => Box::pin(self.impressions_page(index)),
            other => super::unsupported_future(other.noun()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_field_is_read_from_the_start_of_the_message() {
        let f = |m: &str| field_from_message(&json!({"error": "Bad Request", "message": m}));
        assert_eq!(
            f("Invalid email: already used by another referral in this program"),
            [(
                "email".to_string(),
                "Already used by another referral in this program".to_string()
            )]
        );
        assert_eq!(
            f("Invalid status value. Must be one of: pending")[0].0,
            "status"
        );
        assert_eq!(
            f("Invalid verified_at: must be an ISO 8601 timestamp")[0].0,
            "verified_at"
        );
        assert!(f("Something else broke").is_empty());
        assert!(field_from_message(&json!({"oops": 1})).is_empty());
    }
}
