//! How a server applies a `metadata` object sent in a PUT: merged into the stored one or replacing it.

use serde::{Deserialize, Serialize};

/// The Referral API v1 leaves this to "API configuration"; the profile says which one its server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MetadataMode {
    /// Shallow merge: sent keys overwrite, a `null` value is stored as null, keys are never removed.
    #[default]
    Merge,
    /// The sent object replaces the stored one whole.
    Replace,
}

impl MetadataMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataMode::Merge => "merge",
            MetadataMode::Replace => "replace",
        }
    }
}
