//! FirstPromoter v2 wire records: referrals, the promoter-campaign links they belong to, and the
//! enums of their fields. Each struct serializes to exactly the documented JSON, keys in order.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use crate::sandbox::text_enum::text_enum;

text_enum! {
    pub enum State {
        Subscribed => "subscribed",
        Signup => "signup",
        Active => "active",
        Cancelled => "cancelled",
        Refunded => "refunded",
        Denied => "denied",
        Pending => "pending",
        Moved => "moved",
    }
}

text_enum! {
    /// Where the referral was captured from.
    pub enum EntrySource {
        Api => "api",
        Coupon => "coupon",
        Cookie => "cookie",
        ManualAdmin => "manual_admin",
        ManualAffiliate => "manual_affiliate",
    }
}

text_enum! {
    pub enum FraudCheck {
        NoSuspicion => "no_suspicion",
        SameIpSuspicion => "same_ip_suspicion",
        SamePromoterEmail => "same_promoter_email",
        AdSource => "ad_source",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    pub id: i64,
    pub email: Option<String>,
    /// The customer's id in the company's own system (`cus_...`).
    pub uid: Option<String>,
    pub username: Option<String>,
    pub state: State,
    pub metadata: Option<Map<String, Value>>,
    pub entry_source: EntrySource,
    pub created_at: String,
    /// When the lead paid for the first time; null while a lead.
    pub customer_since: Option<String>,
    pub promoter_campaign: ReferralLink,
    pub fraud_check: FraudCheck,
    /// The admin who added the referral by hand (`manual_admin` ones).
    pub created_by_user_email: Option<String>,
    pub split_details: Vec<Split>,
}

/// The promoter-campaign link a referral belongs to, as nested in the referral.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralLink {
    pub id: i64,
    pub campaign_id: i64,
    pub promoter_id: i64,
    pub created_at: String,
    pub promoter: Promoter,
    pub campaign: Campaign,
}

/// A promoter's membership in a campaign, as `/promoter_campaigns` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromoterCampaign {
    pub id: i64,
    pub campaign_id: i64,
    pub promoter_id: i64,
    /// `accepted`, `pending` or `blocked`.
    pub state: String,
    pub promoter: Promoter,
    pub campaign: Campaign,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promoter {
    pub id: i64,
    pub email: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`, the colour the dashboard tags the campaign with.
    pub color: String,
}

/// One share of a referral's commission; stored as JSON in the referral's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub promoter_campaign_id: i64,
    pub promoter_id: i64,
    /// Kept as sent (`50` stays an integer, `33.5` a fraction).
    pub percentage: Number,
}

impl State {
    /// Where approving (or re-enabling) a referral leads: a customer is `active`, a lead `signup`.
    pub fn approved(customer: bool) -> State {
        if customer {
            State::Active
        } else {
            State::Signup
        }
    }
}
