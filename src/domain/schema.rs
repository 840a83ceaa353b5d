//! The schema: which fields a backend's referral has, how each is shown, edited and checked.
//!
//! Lists, detail rows, forms, diffs and validation all read the schema, so a new backend adds a schema
//! and a client rather than new screens.

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
    /// The id of another resource, shown by its looked-up name.
    Reference(RefKind),
}

/// Resources the console looks up to show a name instead of an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    User,
    Impression,
}

impl RefKind {
    /// What a failed lookup could not load, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::User => "ambassador names",
            RefKind::Impression => "impression details",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label: &'static str,
    pub kind: FieldKind,
    pub editable: bool,
    /// A required field may not be emptied (the server rejects null or "").
    pub required: bool,
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
}

#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    pub backend: &'static str,
    /// Fields in detail-pane order; editable ones appear in the form in this order too.
    pub fields: &'static [FieldSpec],
    pub columns: &'static [Column],
    /// Fields joined to name a record in titles and messages (besides its id).
    pub title_fields: &'static [&'static str],
    /// Fields the `/` filter searches, besides the id.
    pub filter_fields: &'static [&'static str],
    /// The field holding the status word, and its colour per value.
    pub status_field: &'static str,
}

impl Schema {
    pub fn field(&self, key: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.key == key)
    }

    pub fn editable_fields(&self) -> impl Iterator<Item = &'static FieldSpec> {
        self.fields.iter().filter(|f| f.editable)
    }
}

pub const V1_STATUSES: &[&str] = &["pending", "converted", "verified", "rejected"];

const fn field(key: &'static str, label: &'static str, kind: FieldKind) -> FieldSpec {
    FieldSpec {
        key,
        label,
        kind,
        editable: false,
        required: false,
    }
}

const fn editable(
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
    }
}

/// Referral API v1 (`vantio`).
pub static V1_SCHEMA: Schema = Schema {
    backend: "vantio",
    fields: &[
        field("id", "ID", FieldKind::Text),
        editable("first_name", "First name", FieldKind::Text, true),
        editable("last_name", "Last name", FieldKind::Text, true),
        editable("email", "Email", FieldKind::Email, true),
        editable("profile_picture", "Picture URL", FieldKind::Url, false),
        editable("status", "Status", FieldKind::Enum(V1_STATUSES), true),
        editable("verified_at", "Verified at", FieldKind::Timestamp, false),
        editable("metadata", "Metadata", FieldKind::JsonObject, false),
        field("program_id", "Program", FieldKind::Text),
        field(
            "student_id",
            "Ambassador",
            FieldKind::Reference(RefKind::User),
        ),
        field(
            "impression_id",
            "Impression",
            FieldKind::Reference(RefKind::Impression),
        ),
        field("created_at", "Created", FieldKind::Timestamp),
        field("updated_at", "Updated", FieldKind::Timestamp),
    ],
    columns: &[
        Column {
            title: "Name",
            fields: &["first_name", "last_name"],
            min_width: 16,
            flex: true,
            drop_rank: 0,
        },
        Column {
            title: "Email",
            fields: &["email"],
            min_width: 22,
            flex: true,
            drop_rank: 1,
        },
        Column {
            title: "Status",
            fields: &["status"],
            min_width: 9,
            flex: false,
            drop_rank: 0,
        },
        Column {
            title: "Program",
            fields: &["program_id"],
            min_width: 17,
            flex: false,
            drop_rank: 4,
        },
        Column {
            title: "Ambassador",
            fields: &["student_id"],
            min_width: 14,
            flex: true,
            drop_rank: 3,
        },
        Column {
            title: "Created",
            fields: &["created_at"],
            min_width: 16,
            flex: false,
            drop_rank: 2,
        },
        Column {
            title: "Verified",
            fields: &["verified_at"],
            min_width: 16,
            flex: false,
            drop_rank: 5,
        },
    ],
    title_fields: &["first_name", "last_name"],
    filter_fields: &["first_name", "last_name", "email"],
    status_field: "status",
};
