//! The FirstPromoter API v2 (`firstpromoter`) referral: fields (nested promoter campaign included),
//! list columns, and the rules checked before sending: a referral keeps an email or a uid, and its
//! split lists only the partners who share with its promoter. The name, website, comment and expiry
//! the vendor's spec documents are shown, not edited: the PUT does not take them.

use serde_json::{Map, Value};

use super::*;
use crate::domain::record::Record;
use crate::domain::stats::StatsSpec;

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

/// Every rule a v2 change is checked against before it is sent.
fn v2_checks(record: &Record, wanted: &Map<String, Value>) -> Vec<(&'static str, String)> {
    let mut problems = email_or_uid(record, wanted);
    problems.extend(split_names_partners_only(record, wanted));
    problems
}

/// The split's entries are the *other* promoters: the referral's own promoter campaign keeps
/// the remainder, so it may not be listed.
fn split_names_partners_only(
    record: &Record,
    wanted: &Map<String, Value>,
) -> Vec<(&'static str, String)> {
    let own = record.get("promoter_campaign.id");
    let own = wanted.get("promoter_campaign.id").unwrap_or(&own);
    let Some(own) = own.as_i64().or_else(|| own.as_str()?.parse().ok()) else {
        return Vec::new();
    };
    let listed = wanted
        .get("split_details")
        .map(crate::domain::splits::rows)
        .unwrap_or_default();
    if listed.iter().any(|row| row.promoter_campaign_id == own) {
        vec![(
            "split_details",
            format!(
                "{own} is this referral's own promoter campaign: it keeps the remainder, so list only the partners who share."
            ),
        )]
    } else {
        Vec::new()
    }
}

/// "Email or uid is required": the API refuses a referral left with neither.
fn email_or_uid(record: &Record, wanted: &Map<String, Value>) -> Vec<(&'static str, String)> {
    let blank = |key: &str| {
        let value = wanted.get(key).cloned().unwrap_or_else(|| record.get(key));
        value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty())
    };
    if blank("email") && blank("uid") {
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
        // The spec types these as strings: emptying one sends "", never null.
        editable("email", "Email", FieldKind::Email, false).blank_as_empty_string(),
        editable("uid", "UID", FieldKind::Text, false).blank_as_empty_string(),
        editable("username", "Username", FieldKind::Text, false).blank_as_empty_string(),
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
        flexible(column("Name", &["first_name", "last_name"], 14, 5)),
        flexible(column("Email", &["email"], 22, 1)),
        column("UID", &["uid"], 12, 6),
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
        column("Source", &["entry_source"], 16, 7),
        looking(
            column("Fraud", &["fraud_check"], 5, 2),
            Look::FlagUnless("no_suspicion"),
        ),
        column("Created", &["created_at"], 16, 8),
        column("Customer since", &["customer_since"], 16, 9),
    ],
    title_fields: &["first_name", "last_name", "email"],
    filter_fields: &[
        "first_name",
        "last_name",
        "email",
        "uid",
        "username",
        "website",
        "promoter_campaign.promoter.name",
        "promoter_campaign.campaign.name",
    ],
    status_field: "state",
    moves_between_promoters: true,
    policy: &super::firstpromoter_policy::FirstPromoterPolicy,
    cross_check: Some(v2_checks),
    triage_default: ("state", "pending"),
    // Approving a pending referral makes it a lead (signup) or a customer (active); subscribed is
    // a paying customer too. A conversion is a referral that became a customer, whatever became of
    // it since; `customer_since` is the day it did (v2 keeps no date for an approval).
    stats: StatsSpec {
        steps: &["pending", "signup", "subscribed", "active"],
        exits: &["denied", "cancelled", "refunded", "moved"],
        converted: &["subscribed", "active", "cancelled", "refunded"],
        conversion: "became customers",
        by: "promoter_campaign.promoter.id",
        by_name: Some("promoter_campaign.promoter.name"),
        who: ("promoter", "promoters"),
        per_day: ("customer_since", "New customers"),
    },
};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn referral(values: Value) -> Record {
        Record::new("5001", values.as_object().unwrap().clone())
    }

    fn wanted(values: Value) -> Map<String, Value> {
        values.as_object().unwrap().clone()
    }

    #[test]
    fn each_rule_before_sending() {
        let own =
            referral(json!({"email": "a@x.io", "uid": null, "promoter_campaign": {"id": 1004}}));
        let table: &[(Value, Option<&str>)] = &[
            (json!({"email": ""}), Some("email")),
            (json!({"email": "", "uid": "u-1"}), None),
            (
                json!({"split_details": [{"promoter_campaign_id": 1004, "percentage": 20}]}),
                Some("split_details"),
            ),
            (
                json!({"split_details": [{"promoter_campaign_id": 1007, "percentage": 20}]}),
                None,
            ),
            // Moving to another promoter campaign in the same change: the new one is the own.
            (
                json!({"promoter_campaign.id": 1007,
                    "split_details": [{"promoter_campaign_id": 1004, "percentage": 20}]}),
                None,
            ),
        ];
        for (change, field) in table {
            let problems = v2_checks(&own, &wanted(change.clone()));
            assert_eq!(
                problems.first().map(|(key, _)| *key),
                *field,
                "{change}: {problems:?}"
            );
        }
    }
}
