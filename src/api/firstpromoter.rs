//! FirstPromoter API v2 (`firstpromoter`): wire types, the calls the console makes, and batch
//! state actions. Ids are integers; lists are bare arrays paged until an empty page; every request
//! carries `Account-ID` and is paced under the documented 400 requests a minute.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use super::error::ApiError;
use super::http::{HttpCore, Limits, NetStatus};
use super::{Backend, Connection, Page};
use crate::domain::Record;
use crate::domain::schema::RefKind;

/// The API's maximum page size.
pub const PAGE_SIZE: usize = 100;
/// The documented limit per account.
pub const REQUESTS_PER_MINUTE: u32 = 400;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WirePerson {
    pub id: i64,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireCampaign {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WirePromoterCampaign {
    pub id: i64,
    #[serde(default)]
    pub campaign_id: Option<i64>,
    #[serde(default)]
    pub promoter_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default)]
    pub promoter: Option<WirePerson>,
    #[serde(default)]
    pub campaign: Option<WireCampaign>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireSplit {
    pub promoter_campaign_id: i64,
    #[serde(default)]
    pub promoter_id: Option<i64>,
    pub percentage: f64,
}

/// A referral as documented. Only `id` and `state` are required; the rest may be null or absent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireReferral {
    pub id: i64,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    pub state: String,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub entry_source: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub customer_since: Option<String>,
    #[serde(default)]
    pub promoter_campaign: Option<WirePromoterCampaign>,
    #[serde(default)]
    pub fraud_check: Option<String>,
    #[serde(default)]
    pub created_by_user_email: Option<String>,
    #[serde(default)]
    pub split_details: Option<Vec<WireSplit>>,
}

impl From<WireReferral> for Record {
    fn from(wire: WireReferral) -> Record {
        let id = wire.id.to_string();
        let values = match serde_json::to_value(wire) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Record { id, values }
    }
}

/// A batch process: what a state action is doing, polled until it completes or fails.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Batch {
    pub id: i64,
    pub status: String,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub processed_count: u64,
    #[serde(default)]
    pub failed_count: u64,
    #[serde(default)]
    pub progress: u64,
    #[serde(default)]
    pub processing_errors: Vec<Value>,
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

    /// Page `index` (from 0) and whether it was the last: the end is an empty page.
    pub async fn referrals_page(&self, index: usize) -> Result<(Vec<Record>, bool), ApiError> {
        let list: Vec<WireReferral> = self.http.get(&["referrals"], &page_query(index)).await?;
        let last = list.is_empty();
        Ok((list.into_iter().map(Record::from).collect(), last))
    }

    /// The referrals with these ids, fresh from the server.
    pub async fn referrals_by_id(&self, ids: &[String]) -> Result<Vec<Record>, ApiError> {
        let mut records = Vec::with_capacity(ids.len());
        // A page holds at most PAGE_SIZE, so ask for that many ids at a time.
        for chunk in ids.chunks(PAGE_SIZE) {
            let mut query = vec![("per_page", PAGE_SIZE.to_string())];
            query.extend(chunk.iter().map(|id| ("ids[]", id.clone())));
            let list: Vec<WireReferral> = self.http.get(&["referrals"], &query).await?;
            records.extend(list.into_iter().map(Record::from));
        }
        Ok(records)
    }

    pub async fn referral(&self, id: &str) -> Result<Record, ApiError> {
        self.http
            .get::<WireReferral>(&["referrals", id], &[])
            .await
            .map(Record::from)
    }

    /// One referral by an email, uid or username (`find_by`).
    pub async fn find(&self, by: &str, value: &str) -> Result<Record, ApiError> {
        let query = [("find_by", by.to_string())];
        self.http
            .get::<WireReferral>(&["referrals", value], &query)
            .await
            .map(Record::from)
    }

    pub async fn update(&self, id: &str, body: &Map<String, Value>) -> Result<Record, ApiError> {
        let body = Value::Object(body.clone());
        self.http
            .put::<WireReferral>(&["referrals", id], &body)
            .await
            .map(Record::from)
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
    pub async fn promoter_campaigns_page(
        &self,
        index: usize,
    ) -> Result<(Vec<(String, String)>, bool), ApiError> {
        let list: Vec<WirePromoterCampaign> = self
            .http
            .get(&["promoter_campaigns"], &page_query(index))
            .await?;
        let last = list.is_empty();
        let names = list
            .into_iter()
            .map(|pc| {
                let promoter = pc
                    .promoter
                    .and_then(|p| p.name.or(p.email))
                    .unwrap_or_else(|| "?".into());
                let campaign = pc
                    .campaign
                    .and_then(|c| c.name)
                    .unwrap_or_else(|| "?".into());
                (pc.id.to_string(), format!("{promoter} · {campaign}"))
            })
            .collect();
        Ok((names, last))
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

    fn referrals_page(&self, index: usize) -> BoxFuture<'_, Page<Record>> {
        Box::pin(FirstPromoterClient::referrals_page(self, index))
    }

    fn referral<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Record, ApiError>> {
        Box::pin(FirstPromoterClient::referral(self, id))
    }

    fn update<'a>(
        &'a self,
        id: &'a str,
        body: &'a Map<String, Value>,
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

    fn lookup_page(&self, kind: RefKind, index: usize) -> BoxFuture<'_, Page<(String, String)>> {
        match kind {
            RefKind::PromoterCampaign => Box::pin(self.promoter_campaigns_page(index)),
            other => super::unsupported_future(other.noun()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
