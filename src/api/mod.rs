//! Talking to referral APIs: one client per backend over a shared HTTP core. Every call is async and
//! runs in the background; answers come back to the app as Actions.

pub mod error;
pub mod http;
pub mod vantio;

use secrecy::SecretString;
use serde_json::{Map, Value};

pub use error::ApiError;

use crate::domain::Record;
use crate::domain::schema::{RefKind, Schema, V1_SCHEMA};

/// Which API a profile speaks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Referral API v1.
    #[default]
    Vantio,
}

impl BackendKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Vantio => "vantio",
        }
    }

    pub fn schema(self) -> &'static Schema {
        match self {
            BackendKind::Vantio => &V1_SCHEMA,
        }
    }
}

/// One page of a paged listing and whether it was the last.
pub type Page<T> = Result<(Vec<T>, bool), ApiError>;

/// A connected client for whichever backend the profile names.
#[derive(Clone)]
pub enum Client {
    Vantio(vantio::VantioClient),
}

impl Client {
    pub fn connect(
        backend: BackendKind,
        base_url: &str,
        api_key: &SecretString,
    ) -> Result<Client, String> {
        match backend {
            BackendKind::Vantio => {
                // v1 documents no limit: a 429 is shown, not waited out.
                let limits = http::Limits::default();
                let core = http::HttpCore::new(
                    base_url,
                    api_key,
                    &[],
                    vantio::field_from_message,
                    limits,
                )?;
                Ok(Client::Vantio(vantio::VantioClient::new(core)))
            }
        }
    }

    pub async fn referrals_page(&self, index: usize) -> Page<Record> {
        match self {
            Client::Vantio(c) => c.referrals_page(index).await,
        }
    }

    pub async fn update(&self, id: &str, body: &Map<String, Value>) -> Result<Record, ApiError> {
        match self {
            Client::Vantio(c) => c.update(id, body).await,
        }
    }

    /// Page `index` of (id, display name) for a kind of referenced resource.
    pub async fn lookup_page(&self, kind: RefKind, index: usize) -> Page<(String, String)> {
        match (self, kind) {
            (Client::Vantio(c), RefKind::User) => c.users_page(index).await,
            (Client::Vantio(c), RefKind::Impression) => c.impressions_page(index).await,
        }
    }

    /// The kinds of resource this backend's records refer to, loaded for names in lists and detail.
    pub fn lookup_kinds(&self) -> &'static [RefKind] {
        match self {
            Client::Vantio(_) => &[RefKind::User, RefKind::Impression],
        }
    }
}
