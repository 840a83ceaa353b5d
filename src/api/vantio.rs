//! Referral API v1 (`vantio`): strict wire types for referrals, users and impressions, and the calls
//! the console makes. Paging is limit/offset; the last page is the first one shorter than the limit.

use std::sync::Arc;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::watch;

use super::error::ApiError;
use super::http::{HttpCore, Limits, NetStatus};
use super::{Backend, Connection, Page};
use crate::domain::Record;
use crate::domain::schema::RefKind;

/// Page size the client asks for: the API's maximum.
pub const PAGE_SIZE: usize = 100;

/// A referral as the contract documents it. Unknown extra fields are ignored; missing documented
/// ones are a decode error, except those a real server may leave out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireReferral {
    pub id: String,
    pub impression_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_picture: Option<String>,
    pub status: String,
    pub program_id: String,
    pub student_id: String,
    pub created_at: String,
    #[serde(default)]
    pub verified_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

impl From<WireReferral> for Record {
    fn from(wire: WireReferral) -> Record {
        let id = wire.id.clone();
        let values = match serde_json::to_value(wire) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        Record { id, values }
    }
}

#[derive(Deserialize)]
struct ReferralList {
    referrals: Vec<WireReferral>,
}

#[derive(Deserialize)]
struct WireUser {
    id: String,
    first_name: String,
    last_name: String,
}

#[derive(Deserialize)]
struct UserList {
    users: Vec<WireUser>,
}

#[derive(Deserialize)]
struct WireImpression {
    id: String,
    #[serde(default)]
    poster_id: Option<String>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Deserialize)]
struct ImpressionList {
    impressions: Vec<WireImpression>,
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

    /// Page `index` (from 0) of referrals, and whether it is the last one.
    pub async fn referrals_page(&self, index: usize) -> Result<(Vec<Record>, bool), ApiError> {
        let list: ReferralList = self
            .http
            .get(&["referrals"], &page_query(index * PAGE_SIZE))
            .await?;
        let last = list.referrals.len() < PAGE_SIZE;
        Ok((list.referrals.into_iter().map(Record::from).collect(), last))
    }

    pub async fn referral(&self, id: &str) -> Result<Record, ApiError> {
        self.http
            .get::<WireReferral>(&["referrals", id], &[])
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

    /// Page `index` of ambassadors as (id, "First Last").
    pub async fn users_page(
        &self,
        index: usize,
    ) -> Result<(Vec<(String, String)>, bool), ApiError> {
        let list: UserList = self
            .http
            .get(&["users"], &page_query(index * PAGE_SIZE))
            .await?;
        let last = list.users.len() < PAGE_SIZE;
        let names = list
            .users
            .into_iter()
            .map(|u| (u.id, format!("{} {}", u.first_name, u.last_name)))
            .collect();
        Ok((names, last))
    }

    /// Page `index` of impressions as (id, "location · poster").
    pub async fn impressions_page(
        &self,
        index: usize,
    ) -> Result<(Vec<(String, String)>, bool), ApiError> {
        let list: ImpressionList = self
            .http
            .get(&["impressions"], &page_query(index * PAGE_SIZE))
            .await?;
        let last = list.impressions.len() < PAGE_SIZE;
        let names = list
            .impressions
            .into_iter()
            .map(|i| {
                let parts: Vec<String> = [i.location, i.poster_id].into_iter().flatten().collect();
                (i.id, parts.join(" · "))
            })
            .collect();
        Ok((names, last))
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

    fn referrals_page(&self, index: usize) -> BoxFuture<'_, Page<Record>> {
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

    fn lookup_page(&self, kind: RefKind, index: usize) -> BoxFuture<'_, Page<(String, String)>> {
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
