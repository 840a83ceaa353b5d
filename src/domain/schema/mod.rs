//! The schema: which fields a backend's referral has, how each is shown, edited and checked.
//!
//! Lists, detail rows, forms, diffs and validation all read the schema, so a new backend adds a schema
//! and a client rather than new screens.

mod firstpromoter;
pub mod firstpromoter_policy;
mod vantio;
pub mod vantio_policy;

pub use firstpromoter::{V2_SCHEMA, V2_STATES};
pub use vantio::{V1_SCHEMA, V1_STATUSES};

use serde_json::{Map, Value};

use super::record::Record;

/// What kind of value a field holds; decides its editor, its parser and how it is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Email,
    /// An http(s) URL; empty means null.
    Url,
    /// One of a fixed set of words, edited with a picker.
    Enum(&'static [&'static str]),
    /// An RFC 3339 instant; empty means null.
    Timestamp,
    /// A free-form JSON object, edited as multi-line text.
    JsonObject,
    /// The id of another resource, shown by its looked-up name and chosen with a searchable picker.
    Reference(RefKind),
    /// Commission splits: rows of (promoter campaign id, percentage) adding up to at most 100.
    Splits,
}

/// Resources the console looks up to show a name instead of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    User,
    Impression,
    PromoterCampaign,
}

impl RefKind {
    /// What a failed lookup could not load, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::User => "ambassador names",
            RefKind::Impression => "impression details",
            RefKind::PromoterCampaign => "promoter campaigns",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Where the value sits in the record; dots walk into nested objects.
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub editable: bool,
    /// A required field may not be emptied (the server rejects null or "").
    pub required: bool,
    /// The body key a change is sent under, when it differs from `key`.
    pub sent_as: Option<&'static str>,
    /// Emptying the field sends `""` instead of null (the API types it as a string, never null).
    pub blank_is_empty_string: bool,
}

impl FieldSpec {
    /// The key of this field in a PUT body, and in the server's field errors.
    pub fn body_key(&self) -> &'static str {
        self.sent_as.unwrap_or(self.key)
    }

    pub const fn sent_as(mut self, key: &'static str) -> Self {
        self.sent_as = Some(key);
        self
    }

    pub const fn blank_as_empty_string(mut self) -> Self {
        self.blank_is_empty_string = true;
        self
    }
}

pub const fn field(key: &'static str, label: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        key,
        label,
        kind,
        editable: false,
        required: false,
        sent_as: None,
        blank_is_empty_string: false,
    }
}

pub const fn editable(
    key: &'static str,
    label: &'static str,
    kind: FieldKind,
    required: bool,
) -> FieldSpec {
    FieldSpec {
        key,
        label,
        kind,
        editable: true,
        required,
        sent_as: None,
        blank_is_empty_string: false,
    }
}

/// How a list cell is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Look {
    Plain,
    /// The status word in its colour.
    Status,
    /// Coloured with the hex colour found at this path of the record (a campaign's colour).
    ColourFrom(&'static str),
    /// A warning marker unless the value is this calm one (fraud check).
    FlagUnless(&'static str),
    /// An id the API names nowhere (a v1 program), cut short to its prefix and a few characters
    /// (`prog_mq4v…`); the detail pane shows it whole, and the filter matches the whole id.
    ShortId,
}

/// One column of the list pane; several fields are joined with a space (first and last name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub title: &'static str,
    pub fields: &'static [&'static str],
    pub min_width: u16,
    /// A flexible column shares the width left over; a fixed one is exactly `min_width`.
    pub flex: bool,
    /// Columns with a higher drop rank are hidden first when the pane is narrow.
    pub drop_rank: u8,
    pub look: Look,
}

/// A rule across fields the server enforces: given the record and the wanted values, the
/// (field key, message) pairs that break it.
pub type CrossCheck = fn(&Record, &Map<String, Value>) -> Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct Schema {
    pub backend: &'static str,
    /// Fields in detail-pane order; editable ones appear in the form in this order too.
    pub fields: &'static [FieldSpec],
    pub columns: &'static [Column],
    /// Fields joined to name a record in titles and messages (besides its id).
    pub title_fields: &'static [&'static str],
    /// Fields the `/` filter searches, besides the id.
    pub filter_fields: &'static [&'static str],
    /// The field holding the status word.
    pub status_field: &'static str,
    /// The form's Ctrl-p moves the referral to another promoter campaign (a backend action).
    pub moves_between_promoters: bool,
    /// What the status keys mean on this backend.
    pub policy: &'static dyn super::policy::Policy,
    pub cross_check: Option<CrossCheck>,
    /// (field, value) a verification session queues when no filter is set, oldest first.
    pub triage_default: (&'static str, &'static str),
    /// What the stats view counts: the funnel's status words, who brought a referral, the dated
    /// milestone counted per day.
    pub stats: super::stats::StatsSpec,
}

impl Schema {
    pub fn field(&self, key: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The field a server error names, by its body key or its record key.
    pub fn field_for_error(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields
            .iter()
            .find(|f| f.body_key() == name || f.key == name)
    }

    pub fn editable_fields(&self) -> impl Iterator<Item = &'static FieldSpec> {
        self.fields.iter().filter(|f| f.editable)
    }
}
