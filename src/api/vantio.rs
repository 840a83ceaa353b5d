//! Referral API v1 (`vantio`): the documented shapes of referrals, users and impressions (read
//! leniently, see `lenient`), and the calls the console makes. Paging is limit/offset; the last page
//! is the first one shorter than the limit. Users are paged through up front; an impression is
//! read by id when a referral's detail shows it.

use std::borrow::Cow;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

use super::error::ApiError;
use super::http::{HttpCore, Limits, NetStatus};
use super::lenient::{Documented, Entry, Field, One, Rows, Shape};
use super::{Backend, Connection, MakeBody, Page, PageResult};
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

/// An entry as (id, the texts at `keys` that are there joined with `between`), or its id alone
/// when none is.
fn named(entry: Entry, keys: &[&str], between: &str) -> (String, String) {
    let record = Record::from(entry);
    let parts: Vec<String> = keys
        .iter()
        .map(|key| record.text(key))
        .filter(|text| !text.is_empty())
        .map(Cow::into_owned)
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

/// The referrals of a page, read leniently; a short page is the last.
fn referrals_of(list: ReferralList) -> Page<Record> {
    let last = is_last(list.referrals.sent);
    list.referrals.page(last, Record::from)
}

/// Decodes an answer to `GET /referrals` as a load does (the page-decode benchmark measures it).
pub fn decode_referrals_page(bytes: &[u8]) -> Result<Page<Record>, serde_json::Error> {
    serde_json::from_slice(bytes).map(referrals_of)
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
            .get_page(&["referrals"], &page_query(index * PAGE_SIZE), index)
            .await?;
        Ok(referrals_of(list))
    }

    pub async fn referral(&self, id: &str) -> Result<Record, ApiError> {
        let one: One<Referral> = self.http.get(&["referrals", id], &[]).await?;
        Ok(one.entry.into())
    }

    pub async fn update(&self, id: &str, body: MakeBody<'_>) -> Result<Record, ApiError> {
        let body = || body().map(Value::Object);
        let one: One<Referral> = self.http.put(&["referrals", id], &body).await?;
        Ok(one.entry.into())
    }

    /// Page `index` of ambassadors as (id, "First Last").
    pub async fn users_page(&self, index: usize) -> PageResult<(String, String)> {
        let list: UserList = self
            .http
            .get_page(&["users"], &page_query(index * PAGE_SIZE), index)
            .await?;
        let last = is_last(list.users.sent);
        Ok(list
            .users
            .page(last, |e| named(e, &["first_name", "last_name"], " ")))
    }

    /// One impression as "location · poster", read when a referral's detail shows it. Paging
    /// through `/impressions` (1.25 per referral) to name the few ever opened would cost most of
    /// a load's requests; `/impressions/{id}` is the REST shape of the documented listing, and a
    /// server without it answers 404, which the console says once and shows the id.
    pub async fn impression(&self, id: &str) -> Result<String, ApiError> {
        let one: One<Impression> = self.http.get(&["impressions", id], &[]).await?;
        Ok(named(one.entry, &["location", "poster_id"], " · ").1)
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
        body: MakeBody<'a>,
    ) -> BoxFuture<'a, Result<Record, ApiError>> {
        Box::pin(VantioClient::update(self, id, body))
    }

    /// Ambassadors are loaded up front (the list shows them and the filter searches them);
    /// impressions are named one at a time (`name`).
    fn lookup_kinds(&self) -> &'static [RefKind] {
        &[RefKind::User]
    }

    fn name<'a>(&'a self, kind: RefKind, id: &'a str) -> BoxFuture<'a, Result<String, ApiError>> {
        match kind {
            RefKind::Impression => Box::pin(self.impression(id)),
            other => super::unsupported_future(other.noun()),
        }
    }

    fn lookup_page(
        &self,
        kind: RefKind,
        index: usize,
    ) -> BoxFuture<'_, PageResult<(String, String)>> {
        match kind {
            RefKind::User => Box::pin(self.users_page(index)),
            other => super::unsupported_future(other.noun()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn referral() -> Value {
        json!({
            "id": "ref_1", "impression_id": "imp_1", "first_name": "Ada", "last_name": "Lovelace",
            "email": "ada@example.org", "status": "converted", "program_id": "prog_1",
            "student_id": "user_1", "created_at": "2026-01-01T10:00:00Z", "verified_at": null
        })
    }

    #[test]
    fn a_page_keeps_what_it_can_read_and_a_short_page_is_the_last() {
        let bytes = json!({"referrals": [referral(), {"first_name": "no id"}]}).to_string();
        let page = decode_referrals_page(bytes.as_bytes()).expect("a page");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].id, "ref_1");
        assert_eq!(page.skipped.len(), 1, "{:?}", page.skipped);
        assert!(page.last, "2 of {PAGE_SIZE} is a short page");
        assert!(decode_referrals_page(b"<html>").is_err());
    }

    /// One case per rule: a v1 referral missing what a real server may leave out is still read.
    #[test]
    fn a_referral_is_read_with_whatever_it_lacks() {
        // (rule, the field changed, its new value or None to leave it out, the value read,
        // where unreadable values were)
        type Case = (
            &'static str,
            &'static str,
            Option<Value>,
            Value,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (
                "missing impression_id",
                "impression_id",
                None,
                Value::Null,
                &[],
            ),
            ("missing last_name", "last_name", None, Value::Null, &[]),
            (
                "null last_name",
                "last_name",
                Some(Value::Null),
                Value::Null,
                &[],
            ),
            ("missing verified_at", "verified_at", None, Value::Null, &[]),
            (
                "a number where text belongs",
                "program_id",
                Some(json!(7)),
                json!("7"),
                &[],
            ),
            ("an id as a number", "id", Some(json!(5)), json!("5"), &[]),
            (
                "metadata that is no object",
                "metadata",
                Some(json!("{\"a\": 1}")),
                Value::Null,
                &["metadata"],
            ),
            (
                "status that is no text",
                "status",
                Some(json!(true)),
                Value::Null,
                &["status"],
            ),
        ];
        for (rule, key, value, held, bad) in cases {
            let mut sent = referral();
            match value {
                Some(value) => sent[*key] = value.clone(),
                None => drop(sent.as_object_mut().unwrap().remove(*key)),
            }
            let record = Record::from(
                Entry::read(sent, Referral::FIELDS).unwrap_or_else(|e| panic!("{rule}: {e}")),
            );
            assert_eq!(&record.get(key), held, "{rule}");
            assert_eq!(record.text("first_name"), "Ada", "{rule}: the rest is kept");
            let paths: Vec<&str> = record.unreadable.iter().map(|u| u.path.as_str()).collect();
            assert_eq!(paths, *bad, "{rule}");
        }
    }

    #[test]
    fn the_envelope_is_required_but_a_bad_referral_in_it_is_skipped() {
        let list: ReferralList =
            serde_json::from_value(json!({"referrals": [referral(), {"first_name": "No id"}]}))
                .unwrap();
        assert_eq!(list.referrals.sent, 2);
        let page = list.referrals.page(false, Record::from);
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.skipped, ["entry 2: no id"]);
        assert!(serde_json::from_value::<ReferralList>(json!([referral()])).is_err());
    }

    #[test]
    fn lookups_name_what_they_can_and_fall_back_to_the_id() {
        let users: UserList = serde_json::from_value(json!({"users": [
            {"id": "user_1", "first_name": "Ada", "last_name": null},
            {"id": "user_2"},
            {"first_name": "No id"}
        ]}))
        .unwrap();
        let page = users
            .users
            .page(false, |e| named(e, &["first_name", "last_name"], " "));
        assert_eq!(
            page.items,
            [
                ("user_1".to_string(), "Ada".to_string()),
                ("user_2".to_string(), "user_2".to_string())
            ]
        );
        assert_eq!(page.skipped.len(), 1);
    }

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
