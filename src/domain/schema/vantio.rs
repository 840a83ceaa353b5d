//! The Referral API v1 (`vantio`) referral: fields, list columns and how it is named and filtered.

use super::*;
use crate::domain::stats::StatsSpec;

pub const V1_STATUSES: &[&str] = &["pending", "converted", "verified", "rejected"];

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
            look: Look::Plain,
        },
        Column {
            title: "Email",
            fields: &["email"],
            min_width: 22,
            flex: true,
            drop_rank: 1,
            look: Look::Plain,
        },
        Column {
            title: "Status",
            fields: &["status"],
            min_width: 9,
            flex: false,
            drop_rank: 0,
            look: Look::Status,
        },
        Column {
            title: "Program",
            fields: &["program_id"],
            min_width: 10,
            flex: false,
            drop_rank: 4,
            look: Look::ShortId,
        },
        Column {
            title: "Ambassador",
            fields: &["student_id"],
            min_width: 14,
            flex: true,
            drop_rank: 3,
            look: Look::Plain,
        },
        Column {
            title: "Created",
            fields: &["created_at"],
            min_width: 16,
            flex: false,
            drop_rank: 2,
            look: Look::Plain,
        },
        Column {
            title: "Verified",
            fields: &["verified_at"],
            min_width: 16,
            flex: false,
            drop_rank: 5,
            look: Look::Plain,
        },
    ],
    title_fields: &["first_name", "last_name"],
    filter_fields: &["first_name", "last_name", "email", "student_id"],
    status_field: "status",
    moves_between_promoters: false,
    policy: &super::vantio_policy::VantioPolicy,
    cross_check: None,
    triage_default: ("status", "converted"),
    stats: StatsSpec {
        steps: &["pending", "converted", "verified"],
        exits: &["rejected"],
        converted: &["converted", "verified"],
        conversion: "converted",
        by: "student_id",
        by_name: None,
        who: ("ambassador", "ambassadors"),
        per_day: ("verified_at", "Verified"),
    },
};
