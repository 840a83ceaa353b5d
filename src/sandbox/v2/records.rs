//! FirstPromoter v2 wire records: referrals, the promoter-campaign links they belong to, and the
//! enums of their fields. Each struct serializes to exactly the documented JSON, keys in order.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// The referred customer's own site, as the signup form recorded it.
    pub website: Option<String>,
    /// A note left by an admin or the promoter.
    pub comment: Option<String>,
    pub state: State,
    /// Whether the referral's attribution window ran out before it converted.
    pub is_expired: bool,
    pub metadata: Option<Map<String, Value>>,
    pub entry_source: EntrySource,
    pub created_at: String,
    /// When the lead paid for the first time; null while a lead.
    pub customer_since: Option<String>,
    pub promoter_campaign: ReferralLink,
    /// Null once cleared (a `PUT` with `"fraud_check": null`).
    pub fraud_check: Option<FraudCheck>,
    /// The admin who added the referral by hand (`manual_admin` ones).
    pub created_by_user_email: Option<String>,
    /// The other promoters sharing the commission; the referral's own promoter keeps the rest.
    pub split_details: Vec<Split>,
    /// When a customer cancelled or was refunded. Stored for `filters[cancelled_at]`, but not
    /// answered: the spec's referral object has no such field.
    #[serde(skip)]
    pub cancelled_at: Option<String>,
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

/// One partner's share of a referral's commission; stored as JSON in the referral's row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub promoter_campaign_id: i64,
    pub promoter_id: i64,
    /// A whole number from 0 to 100, as the spec types it.
    pub percentage: u8,
}

impl Referral {
    /// Moves the referral to `link`. A partner who becomes the referral's own promoter campaign
    /// leaves the split: nobody shares with themselves, and the promoter keeps the remainder.
    pub fn move_to(&mut self, link: ReferralLink) {
        self.split_details
            .retain(|share| share.promoter_campaign_id != link.id);
        self.promoter_campaign = link;
    }
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
