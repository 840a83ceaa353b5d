//! The FirstPromoter API v2 (`firstpromoter`) referral: fields (nested promoter campaign included),
//! list columns, and the rule that a referral keeps an email or a uid. The name, website, comment
//! and expiry the vendor's spec documents are shown, not edited: the PUT does not take them.

use serde_json::{Map, Value};

use super::*;
use crate::domain::record::Record;

pub const V2_STATES: &[&str] = &[
    "subscribed",
    "signup",
    "active",
    "cancelled",
    "refunded",
    "denied",
    "pending",
    "moved",
];
const FRAUD_CHECKS: &[&str] = &[
    "no_suspicion",
    "same_ip_suspicion",
    "same_promoter_email",
    "ad_source",
];

const fn column(
    title: &'static str,
    fields: &'static [&'static str],
    min_width: u16,
    drop_rank: u8,
) -> Column {
    Column {
        title,
        fields,
        min_width,
        flex: false,
        drop_rank,
        look: Look::Plain,
    }
}

const fn flexible(mut column: Column) -> Column {
    column.flex = true;
    column
}

const fn looking(mut column: Column, look: Look) -> Column {
    column.look = look;
    column
}

/// "Email or uid is required": the API refuses a referral left with neither.
fn email_or_uid(record: &Record, wanted: &Map<String, Value>) -> Vec<(&'static str, String)> {
    let after = |key: &str| wanted.get(key).unwrap_or_else(|| record.get(key)).is_null();
    if after("email") && after("uid") {
        vec![(
            "email",
            "Email or uid is required: give at least one.".to_string(),
        )]
    } else {
        Vec::new()
    }
}

pub static V2_SCHEMA: Schema = Schema {
    backend: "firstpromoter",
    fields: &[
        field("id", "ID", FieldKind::Text),
        field("first_name", "First name", FieldKind::Text),
        field("last_name", "Last name", FieldKind::Text),
        editable("email", "Email", FieldKind::Email, false),
        editable("uid", "UID", FieldKind::Text, false),
        editable("username", "Username", FieldKind::Text, false),
        field("state", "State", FieldKind::Enum(V2_STATES)),
        editable(
            "fraud_check",
            "Fraud check",
            FieldKind::Enum(FRAUD_CHECKS),
            true,
        ),
        editable(
            "promoter_campaign.id",
            "Promoter campaign",
            FieldKind::Reference(RefKind::PromoterCampaign),
            false,
        )
        .sent_as("promoter_campaign_id"),
        editable("split_details", "Split details", FieldKind::Splits, false),
        field(
            "promoter_campaign.promoter.name",
            "Promoter",
            FieldKind::Text,
        ),
        field(
            "promoter_campaign.promoter.email",
            "Promoter email",
            FieldKind::Text,
        ),
        field(
            "promoter_campaign.campaign.name",
            "Campaign",
            FieldKind::Text,
        ),
        field("website", "Website", FieldKind::Url),
        field("comment", "Comment", FieldKind::Text),
        field("is_expired", "Expired", FieldKind::Text),
        field("entry_source", "Entry source", FieldKind::Text),
        field("created_at", "Created", FieldKind::Timestamp),
        field("customer_since", "Customer since", FieldKind::Timestamp),
        field("created_by_user_email", "Created by", FieldKind::Text),
        field("metadata", "Metadata", FieldKind::JsonObject),
    ],
    columns: &[
        flexible(column(
            "Name / email",
            &["first_name", "last_name", "email"],
            22,
            1,
        )),
        column("UID", &["uid"], 12, 5),
        looking(column("State", &["state"], 10, 0), Look::Status),
        flexible(column(
            "Promoter",
            &["promoter_campaign.promoter.name"],
            14,
            3,
        )),
        flexible(looking(
            column("Campaign", &["promoter_campaign.campaign.name"], 14, 4),
            Look::ColourFrom("promoter_campaign.campaign.color"),
        )),
        column("Source", &["entry_source"], 16, 6),
        looking(
            column("Fraud", &["fraud_check"], 5, 2),
            Look::FlagUnless("no_suspicion"),
        ),
        column("Created", &["created_at"], 16, 7),
        column("Customer since", &["customer_since"], 16, 8),
    ],
    title_fields: &["first_name", "last_name", "email"],
    filter_fields: &[
        "first_name",
        "last_name",
        "email",
        "uid",
        "username",
        "website",
    ],
    status_field: "state",
    moves_between_promoters: true,
    policy: &super::firstpromoter_policy::FirstPromoterPolicy,
    cross_check: Some(email_or_uid),
    triage_default: ("state", "pending"),
};
