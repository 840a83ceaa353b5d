//! FirstPromoter API v2 (`firstpromoter`): the shapes its spec documents (read leniently, see
//! `lenient`), the calls the console makes, and batch state actions. Ids are integers (a string of
//! digits is read as one); lists are bare arrays paged until an empty page; every request carries
//! `Account-ID` and is paced under the documented 400 requests a minute.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::error::ApiError;
use super::http::{HttpCore, Limits, NetStatus};
use super::lenient::{self, Documented, Entry, Field, One, Rows, Shape};
use super::{Backend, Connection, MakeBody, Page, PageResult};
use crate::domain::Record;
use crate::domain::schema::RefKind;

/// The API's maximum page size.
pub const PAGE_SIZE: usize = 100;
/// The documented limit per account.
pub const REQUESTS_PER_MINUTE: u32 = 400;

const PERSON: Shape = Shape::Object(&[
    ("id", Shape::Integer),
    ("email", Shape::Text),
    ("name", Shape::Text),
]);

const CAMPAIGN: Shape = Shape::Object(&[
    ("id", Shape::Integer),
    ("name", Shape::Text),
    ("color", Shape::Text),
]);

/// A promoter campaign: the link between a promoter and a campaign that referrals belong to.
const PROMOTER_CAMPAIGN: &[Field] = &[
    ("id", Shape::Integer),
    ("campaign_id", Shape::Integer),
    ("promoter_id", Shape::Integer),
    ("created_at", Shape::Text),
    ("state", Shape::Text),
    ("promoter", PERSON),
    ("campaign", CAMPAIGN),
];

const SPLIT: Shape = Shape::Object(&[
    ("promoter_campaign_id", Shape::Integer),
    ("promoter_id", Shape::Integer),
    ("percentage", Shape::Number),
]);

/// A referral as the vendor's spec documents it. Nothing but `id` is required.
pub struct Referral;

impl Documented for Referral {
    const FIELDS: &'static [Field] = &[
        ("id", Shape::Integer),
        ("email", Shape::Text),
        ("uid", Shape::Text),
        ("username", Shape::Text),
        ("first_name", Shape::Text),
        ("last_name", Shape::Text),
        ("website", Shape::Text),
        ("comment", Shape::Text),
        ("is_expired", Shape::Flag),
        ("state", Shape::Text),
        ("metadata", Shape::AnyObject),
        ("entry_source", Shape::Text),
        ("created_at", Shape::Text),
        ("customer_since", Shape::Text),
        ("promoter_campaign", Shape::Object(PROMOTER_CAMPAIGN)),
        ("fraud_check", Shape::Text),
        ("created_by_user_email", Shape::Text),
        ("split_details", Shape::List(&SPLIT)),
    ];
}

/// An entry of `GET /promoter_campaigns`, for the picker and for names.
pub struct PromoterCampaign;

impl Documented for PromoterCampaign {
    const FIELDS: &'static [Field] = PROMOTER_CAMPAIGN;
}

/// A promoter campaign as (link id, "Promoter · Campaign"), "?" for a part it does not name.
fn promoter_campaign_name(entry: Entry) -> (String, String) {
    let link = Record::from(entry);
    let part = |keys: &[&str]| {
        keys.iter()
            .map(|key| link.text(key))
            .find(|text| !text.is_empty())
            .unwrap_or_else(|| "?".into())
    };
    let name = format!(
        "{} · {}",
        part(&["promoter.name", "promoter.email"]),
        part(&["campaign.name"])
    );
    (link.id, name)
}

/// A batch process: what a state action is doing, polled until it completes or fails. Read
/// leniently: an unknown status is kept (it is not finished), counters that are missing, null,
/// negative or text are read as what they can be (0 at worst), `processing_errors` may be null.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Value")]
pub struct Batch {
    /// None when the server's answer names no batch to poll.
    pub id: Option<i64>,
    pub status: String,
    pub total: u64,
    pub processed_count: u64,
    pub failed_count: u64,
    /// Percent done, 0 to 100.
    pub progress: u64,
    pub processing_errors: Vec<Value>,
}

impl TryFrom<Value> for Batch {
    type Error = String;

    fn try_from(value: Value) -> Result<Batch, String> {
        let Value::Object(mut map) = value else {
            return Err(format!(
                "a batch must be an object, got {}",
                crate::domain::record::quote(&value)
            ));
        };
        let count = |key: &str| {
            map.get(key)
                .and_then(lenient::integer)
                .map_or(0, |n| n.max(0) as u64)
        };
        let (total, processed_count, failed_count) = (
            count("total"),
            count("processed_count"),
            count("failed_count"),
        );
        let progress = count("progress").min(100);
        let id = map.get("id").and_then(lenient::integer);
        let status = match map.get("status") {
            Some(Value::String(status)) => status.clone(),
            _ => String::new(),
        };
        let processing_errors = match map.remove("processing_errors") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(errors)) => errors,
            Some(other) => vec![other],
        };
        Ok(Batch {
            id,
            status,
            total,
            processed_count,
            failed_count,
            progress,
            processing_errors,
        })
    }
}

impl Batch {
    /// True once the batch will not change any more.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "completed" | "failed" | "stopped")
    }
}

/// The v2 state actions, each a `POST /referrals/{action}` with `{"ids": [...]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    Approve,
    Disable,
    Enable,
    /// Move to the promoter campaign `link`, with or without the referrals' commissions.
    MoveToPromoter {
        link: i64,
        with_commissions: bool,
    },
}

impl BatchAction {
    pub fn path(self) -> &'static str {
        match self {
            BatchAction::Approve => "approve",
            BatchAction::Disable => "disable",
            BatchAction::Enable => "enable",
            BatchAction::MoveToPromoter { .. } => "move_to_promoter",
        }
    }

    /// The action a journal entry recorded by its name and body.
    pub fn from_journal(name: &str, body: &Value) -> Option<BatchAction> {
        Some(match name {
            "approve" => BatchAction::Approve,
            "disable" => BatchAction::Disable,
            "enable" => BatchAction::Enable,
            "move_to_promoter" => BatchAction::MoveToPromoter {
                link: body.get("promoter_campaign_id")?.as_i64()?,
                with_commissions: body
                    .get("move_associated_commissions")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            _ => return None,
        })
    }

    /// The request body for these ids (integers on the wire).
    pub fn body(self, ids: &[String]) -> Value {
        let ids: Vec<Value> = ids
            .iter()
            .map(|id| {
                id.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or_else(|_| Value::String(id.clone()))
            })
            .collect();
        match self {
            BatchAction::MoveToPromoter {
                link,
                with_commissions,
            } => json!({
                "ids": ids, "promoter_campaign_id": link, "move_associated_commissions": with_commissions
            }),
            _ => json!({ "ids": ids }),
        }
    }
}

/// v2 puts field errors in `errors: {"field": ["message", ...]}`.
pub fn fields_from_errors(body: &Value) -> Vec<(String, String)> {
    let Some(errors) = body.get("errors").and_then(Value::as_object) else {
        return Vec::new();
    };
    errors
        .iter()
        .map(|(field, messages)| {
            let text = match messages {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; "),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (field.clone(), super::error::capitalise(&text))
        })
        .collect()
}

/// The referrals of a page, read leniently; only an empty page is the last.
fn referrals_of(rows: Rows<Referral>) -> Page<Record> {
    let last = rows.sent == 0;
    rows.page(last, Record::from)
}

/// Decodes an answer to `GET /referrals` as a load does (the page-decode benchmark measures it).
pub fn decode_referrals_page(bytes: &[u8]) -> Result<Page<Record>, serde_json::Error> {
    serde_json::from_slice(bytes).map(referrals_of)
}

#[derive(Clone)]
pub struct FirstPromoterClient {
    http: HttpCore,
}

fn page_query(index: usize) -> Vec<(&'static str, String)> {
    vec![
        ("page", (index + 1).to_string()),
        ("per_page", PAGE_SIZE.to_string()),
    ]
}

impl FirstPromoterClient {
    pub fn new(http: HttpCore) -> Self {
        FirstPromoterClient { http }
    }

    /// Page `index` (from 0): the end is an empty page.
    pub async fn referrals_page(&self, index: usize) -> PageResult<Record> {
        let rows: Rows<Referral> = self
            .http
            .get_page(&["referrals"], &page_query(index), index)
            .await?;
        Ok(referrals_of(rows))
    }

    /// The referrals with these ids, fresh from the server; one that cannot be read is left out.
    pub async fn referrals_by_id(&self, ids: &[String]) -> Result<Vec<Record>, ApiError> {
        let mut records = Vec::with_capacity(ids.len());
        // A page holds at most PAGE_SIZE, so ask for that many ids at a time.
        for chunk in ids.chunks(PAGE_SIZE) {
            let mut query = vec![("per_page", PAGE_SIZE.to_string())];
            query.extend(chunk.iter().map(|id| ("ids[]", id.clone())));
            let rows: Rows<Referral> = self.http.get(&["referrals"], &query).await?;
            for why in &rows.skipped {
                tracing::warn!("a re-read referral could not be read: {why}");
            }
            records.extend(rows.entries.into_iter().map(Record::from));
        }
        Ok(records)
    }

    pub async fn referral(&self, id: &str) -> Result<Record, ApiError> {
        let one: One<Referral> = self.http.get(&["referrals", id], &[]).await?;
        Ok(one.entry.into())
    }

    /// One referral by an email, uid or username (`find_by`).
    pub async fn find(&self, by: &str, value: &str) -> Result<Record, ApiError> {
        let query = [("find_by", by.to_string())];
        let one: One<Referral> = self.http.get(&["referrals", value], &query).await?;
        Ok(one.entry.into())
    }

    pub async fn update(&self, id: &str, body: MakeBody<'_>) -> Result<Record, ApiError> {
        let body = || body().map(Value::Object);
        let one: One<Referral> = self.http.put(&["referrals", id], &body).await?;
        Ok(one.entry.into())
    }

    pub async fn start_batch(
        &self,
        action: BatchAction,
        ids: &[String],
    ) -> Result<Batch, ApiError> {
        self.http
            .post(&["referrals", action.path()], &action.body(ids))
            .await
    }

    pub async fn batch(&self, id: i64) -> Result<Batch, ApiError> {
        self.http
            .get(&["batch_processes", &id.to_string()], &[])
            .await
    }

    /// Page `index` of promoter campaigns as (link id, "Promoter · Campaign").
    pub async fn promoter_campaigns_page(&self, index: usize) -> PageResult<(String, String)> {
        let rows: Rows<PromoterCampaign> = self
            .http
            .get_page(&["promoter_campaigns"], &page_query(index), index)
            .await?;
        let last = rows.sent == 0;
        Ok(rows.page(last, promoter_campaign_name))
    }
}

/// The `connect` in `api::BACKENDS`: needs the account id, paces under the documented limit, and
/// waits for the next minute on a 429 that does not say how long.
pub fn connect(c: &Connection) -> Result<Arc<dyn Backend>, String> {
    let account = c.account_id.filter(|a| !a.is_empty()).ok_or(
        "firstpromoter needs an account id: set account_id in the profile or REFEREE_ACCOUNT_ID",
    )?;
    let limits = Limits {
        per_minute: Some(REQUESTS_PER_MINUTE),
        wait_on_429: true,
        ..Limits::default()
    };
    let headers = [("account-id", account.to_string())];
    let core = HttpCore::new(c.base_url, c.api_key, &headers, fields_from_errors, limits)?;
    Ok(Arc::new(FirstPromoterClient::new(core)))
}

impl Backend for FirstPromoterClient {
    fn net_status(&self) -> watch::Receiver<NetStatus> {
        self.http.net_status()
    }

    fn referrals_page(&self, index: usize) -> BoxFuture<'_, PageResult<Record>> {
        Box::pin(FirstPromoterClient::referrals_page(self, index))
    }

    fn referral<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Record, ApiError>> {
        Box::pin(FirstPromoterClient::referral(self, id))
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        body: MakeBody<'a>,
    ) -> BoxFuture<'a, Result<Record, ApiError>> {
        Box::pin(FirstPromoterClient::update(self, id, body))
    }

    fn refresh<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<Record>, ApiError>> {
        Box::pin(self.referrals_by_id(ids))
    }

    fn find<'a>(&'a self, by: &'a str, value: &'a str) -> BoxFuture<'a, Result<Record, ApiError>> {
        if by == "id" {
            Box::pin(FirstPromoterClient::referral(self, value))
        } else {
            Box::pin(FirstPromoterClient::find(self, by, value))
        }
    }

    fn start_batch<'a>(
        &'a self,
        action: BatchAction,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<Batch, ApiError>> {
        Box::pin(FirstPromoterClient::start_batch(self, action, ids))
    }

    fn batch(&self, id: i64) -> BoxFuture<'_, Result<Batch, ApiError>> {
        Box::pin(FirstPromoterClient::batch(self, id))
    }

    fn lookup_kinds(&self) -> &'static [RefKind] {
        &[RefKind::PromoterCampaign]
    }

    fn lookup_page(
        &self,
        kind: RefKind,
        index: usize,
    ) -> BoxFuture<'_, PageResult<(String, String)>> {
        match kind {
            RefKind::PromoterCampaign => Box::pin(self.promoter_campaigns_page(index)),
            other => super::unsupported_future(other.noun()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A referral as the sandbox sends it, to break one way per case.
    fn referral() -> Value {
        json!({
            "id": 5002, "email": "ada@example.org", "uid": null, "username": "ada",
            "state": "active", "metadata": {}, "entry_source": "api",
            "created_at": "2026-01-02T10:00:00Z", "customer_since": null,
            "promoter_campaign": {
                "id": 1004, "campaign_id": 3, "promoter_id": 7,
                "promoter": {"id": 7, "email": "felix@example.org", "name": "Felix Sullivan"},
                "campaign": {"id": 3, "name": "Affiliates 2026", "color": "#3b82f6"}
            },
            "fraud_check": "no_suspicion",
            "split_details": [{"promoter_campaign_id": 1007, "promoter_id": 9, "percentage": 25}]
        })
    }

    fn with(change: impl FnOnce(&mut Value)) -> Value {
        let mut value = referral();
        change(&mut value);
        value
    }

    fn read(value: Value) -> Result<Record, String> {
        Entry::read(value, Referral::FIELDS).map(Record::from)
    }

    #[test]
    fn a_page_keeps_what_it_can_read_and_only_an_empty_page_is_the_last() {
        let bytes = json!([referral(), {"email": "no id"}]).to_string();
        let page = decode_referrals_page(bytes.as_bytes()).expect("a page");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].id, "5002");
        assert_eq!(page.skipped.len(), 1, "{:?}", page.skipped);
        assert!(!page.last, "a short page is not the last on v2");
        assert!(decode_referrals_page(b"[]").expect("a page").last);
    }

    /// One case per rule the vendor's spec implies (nothing but `id` is required): the referral is
    /// read, what it holds at a path, and where the values that could not be read were.
    #[test]
    fn a_referral_is_read_with_whatever_it_lacks() {
        let cases: Vec<(&str, Value, &str, Value, &[&str])> = vec![
            (
                "as documented",
                referral(),
                "split_details",
                json!([{"promoter_campaign_id": 1007, "promoter_id": 9, "percentage": 25.0}]),
                &[],
            ),
            (
                "missing state",
                with(|v| {
                    v.as_object_mut().unwrap().remove("state");
                }),
                "state",
                Value::Null,
                &[],
            ),
            (
                "split entry without promoter_campaign_id",
                with(|v| v["split_details"] = json!([{"promoter_id": 9, "percentage": 25}])),
                "split_details",
                json!([{"promoter_id": 9, "percentage": 25.0}]),
                &[],
            ),
            (
                "promoter campaign without its id",
                with(|v| {
                    v["promoter_campaign"].as_object_mut().unwrap().remove("id");
                }),
                "promoter_campaign.promoter.name",
                json!("Felix Sullivan"),
                &[],
            ),
            (
                "promoter without its id",
                with(|v| {
                    v["promoter_campaign"]["promoter"]
                        .as_object_mut()
                        .unwrap()
                        .remove("id");
                }),
                "promoter_campaign.promoter.email",
                json!("felix@example.org"),
                &[],
            ),
            (
                "id as a string",
                with(|v| v["id"] = json!("5002")),
                "id",
                json!(5002),
                &[],
            ),
            (
                "nested id as a string",
                with(|v| v["promoter_campaign"]["id"] = json!("1004")),
                "promoter_campaign.id",
                json!(1004),
                &[],
            ),
            (
                "percentage as a string",
                with(|v| v["split_details"][0]["percentage"] = json!("25.0")),
                "split_details",
                json!([{"promoter_campaign_id": 1007, "promoter_id": 9, "percentage": 25.0}]),
                &[],
            ),
            (
                "percentage that is no number",
                with(|v| v["split_details"][0]["percentage"] = json!({"of": 100})),
                "split_details",
                json!([{"promoter_campaign_id": 1007, "promoter_id": 9}]),
                &["split_details[0].percentage"],
            ),
            (
                "state that is no text",
                with(|v| v["state"] = json!(["active"])),
                "state",
                Value::Null,
                &["state"],
            ),
            (
                "uid-only referral with a null email",
                with(|v| {
                    v["email"] = Value::Null;
                    v["uid"] = json!("cus_1");
                }),
                "uid",
                json!("cus_1"),
                &[],
            ),
            (
                "the fields the spec adds",
                with(|v| {
                    v["first_name"] = json!("Ada");
                    v["website"] = json!("https://ada.dev");
                    v["is_expired"] = json!(false);
                }),
                "is_expired",
                json!(false),
                &[],
            ),
        ];
        for (rule, sent, path, held, bad) in cases {
            let record = read(sent).unwrap_or_else(|e| panic!("{rule}: {e}"));
            assert_eq!(record.id, "5002", "{rule}");
            assert_eq!(record.get(path), held, "{rule}");
            let paths: Vec<&str> = record.unreadable.iter().map(|u| u.path.as_str()).collect();
            assert_eq!(paths, bad, "{rule}");
        }
    }

    #[test]
    fn a_page_skips_and_counts_the_referrals_it_cannot_read() {
        let sent = json!([referral(), {"email": "no-id@example.org"}, "5003", with(|v| v["id"] = json!("5004"))]);
        let rows: Rows<Referral> = serde_json::from_value(sent).unwrap();
        let page = rows.page(false, Record::from);
        let ids: Vec<&str> = page.items.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["5002", "5004"]);
        assert_eq!(
            page.skipped,
            ["entry 2: no id", r#"entry 3: not an object: got "5003""#]
        );
    }

    #[test]
    fn one_bad_promoter_campaign_does_not_fail_the_picker() {
        let sent = json!([
            {"id": 1004, "promoter": {"name": "Felix Sullivan"}, "campaign": {"name": "Affiliates 2026"}},
            {"promoter": {"name": "No id"}},
            {"id": "1005", "promoter": {"email": "ben@example.org"}, "campaign": "Partner Program"},
        ]);
        let rows: Rows<PromoterCampaign> = serde_json::from_value(sent).unwrap();
        let page = rows.page(false, promoter_campaign_name);
        assert_eq!(
            page.items,
            [
                (
                    "1004".to_string(),
                    "Felix Sullivan · Affiliates 2026".to_string()
                ),
                ("1005".to_string(), "ben@example.org · ?".to_string()),
            ]
        );
        assert_eq!(page.skipped.len(), 1);
    }

    /// One case per rule: a batch is read whatever its counters, status, errors and id look like.
    #[test]
    fn a_batch_is_read_leniently() {
        let batch = |v: Value| serde_json::from_value::<Batch>(v);
        let cases: Vec<(&str, Value, Batch)> = vec![
            (
                "as documented",
                json!({"id": 12, "status": "in_progress", "total": 7, "processed_count": 3, "failed_count": 0, "progress": 42, "processing_errors": []}),
                Batch {
                    id: Some(12),
                    status: "in_progress".into(),
                    total: 7,
                    processed_count: 3,
                    failed_count: 0,
                    progress: 42,
                    processing_errors: vec![],
                },
            ),
            (
                "null and negative counters, null errors",
                json!({"id": 12, "status": "pending", "total": null, "processed_count": -3, "failed_count": "2", "progress": 250, "processing_errors": null}),
                Batch {
                    id: Some(12),
                    status: "pending".into(),
                    total: 0,
                    processed_count: 0,
                    failed_count: 2,
                    progress: 100,
                    processing_errors: vec![],
                },
            ),
            (
                "an unknown status, a string id, one error that is no list",
                json!({"id": "12", "status": "queued", "processing_errors": "5003 is locked"}),
                Batch {
                    id: Some(12),
                    status: "queued".into(),
                    total: 0,
                    processed_count: 0,
                    failed_count: 0,
                    progress: 0,
                    processing_errors: vec![json!("5003 is locked")],
                },
            ),
            (
                "no id at all",
                json!({"status": "completed", "total": 2, "processed_count": 2}),
                Batch {
                    id: None,
                    status: "completed".into(),
                    total: 2,
                    processed_count: 2,
                    failed_count: 0,
                    progress: 0,
                    processing_errors: vec![],
                },
            ),
        ];
        for (rule, sent, expected) in cases {
            assert_eq!(
                batch(sent).unwrap_or_else(|e| panic!("{rule}: {e}")),
                expected,
                "{rule}"
            );
        }
        assert!(
            !batch(json!({"id": 1, "status": "queued"}))
                .unwrap()
                .is_finished()
        );
        assert!(
            batch(json!({"id": 1, "status": "stopped"}))
                .unwrap()
                .is_finished()
        );
        assert!(
            batch(json!([1])).is_err(),
            "a batch that is no object is unreadable"
        );
    }

    #[test]
    fn errors_map_to_fields() {
        let body = json!({"message": "Validation failed", "errors": {"email": ["has already been taken"], "split_details": ["a", "b"]}});
        assert_eq!(
            fields_from_errors(&body),
            [
                ("email".to_string(), "Has already been taken".to_string()),
                ("split_details".to_string(), "A; b".to_string())
            ]
        );
        assert!(fields_from_errors(&json!({"message": "x"})).is_empty());
    }

    #[test]
    fn batch_bodies_send_integer_ids() {
        let ids = ["5001".to_string(), "5002".to_string()];
        assert_eq!(
            BatchAction::Approve.body(&ids),
            json!({"ids": [5001, 5002]})
        );
        let body = BatchAction::MoveToPromoter {
            link: 1004,
            with_commissions: true,
        }
        .body(&ids);
        assert_eq!(body["promoter_campaign_id"], 1004);
        assert_eq!(body["move_associated_commissions"], true);
    }
}
