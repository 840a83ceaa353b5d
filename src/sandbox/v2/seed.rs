//! Deterministic v2 demo data for one FirstPromoter account: four campaigns, 25 promoters in one or
//! two campaigns each (their promoter-campaign links) and the referrals they brought in.
//!
//! Everything derives from a fixed seed and a fixed calendar (links from 2025-06-02 to
//! 2025-12-15, referrals from 2026-01-05 to 2026-10-30), never from the clock. Ids: campaigns
//! 11-14, promoters from 201, links from 1001, referrals from 5001 in created_at order. Referral
//! emails are unique in the account; about 30% have a `cus_...` uid (a few of those no email),
//! 20% a username, 10% a partner sharing the commission, 10% a fraud flag; `manual_admin` ones
//! name the admin. About 85% have both names (a few only a first name), 20% a website, 15% an
//! admin's comment, 8% an expired attribution; cancelled and refunded customers have a
//! `cancelled_at` after their `customer_since`.
//!
//! The names, website, comment, expiry and cancellation come from a second generator, so adding
//! them changed no other field (splits changed on their own: they used to list the referral's own
//! link too, which the spec leaves out).

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use rusqlite::Connection;
use serde_json::{Map, Value};

use super::records::{
    Campaign, EntrySource, FraudCheck, Promoter, Referral, ReferralLink, Split, State,
};
use super::store;
use crate::sandbox::db;
use crate::sandbox::names::{self, FIRST_NAMES, LAST_NAMES, MAIL_DOMAINS};
use crate::sandbox::prng::Prng;

const SEED: u64 = 0x5EED_0002_2026_0105;
/// Seed of the second generator (see the module header).
const PROFILE_SEED: u64 = 0x5EED_0002_2026_1121;
const PROMOTERS: i64 = 25;
const FIRST_PROMOTER_ID: i64 = 201;
const FIRST_LINK_ID: i64 = 1001;
const FIRST_REFERRAL_ID: i64 = 5001;
/// 2025-06-02T00:00:00Z, when the first promoter joined a campaign.
const FIRST_LINK: Timestamp = Timestamp::constant(1_748_822_400, 0);
/// 2025-12-15T00:00:00Z, after which no promoter joins.
const LAST_LINK: Timestamp = Timestamp::constant(1_765_756_800, 0);
/// 2026-01-05T00:00:00Z, the first referral.
const FIRST_REFERRAL: Timestamp = Timestamp::constant(1_767_571_200, 0);
/// 2026-10-30T22:00:00Z, the last referral.
const LAST_REFERRAL: Timestamp = Timestamp::constant(1_793_404_800 - 2 * 3600, 0);

/// (id, name, colour)
const CAMPAIGNS: [(i64, &str, &str); 4] = [
    (11, "Partner Program", "#3b82f6"),
    (12, "Affiliates 2026", "#10b981"),
    (13, "Creator Collective", "#f59e0b"),
    (14, "Customer Referrals", "#8b5cf6"),
];

/// The company's admins who add referrals by hand.
const ADMINS: &[&str] = &[
    "maria@northwind-apps.com",
    "kwame@northwind-apps.com",
    "sofie@northwind-apps.com",
];

const PLANS: &[&str] = &["starter", "pro", "pro", "team", "enterprise"];
const LANDING_PAGES: &[&str] = &["/", "/pricing", "/templates", "/blog/launch-week"];
const UTM_SOURCES: &[&str] = &["youtube", "newsletter", "twitter", "podcast", "blog"];
/// What a partner's share of a split can be; the referral's own promoter keeps the rest.
const PARTNER_SHARES: &[u8] = &[50, 30, 40, 20];
const WEBSITE_ENDINGS: &[&str] = &["com", "dev", "io", "studio", "co.uk"];
const COMMENTS: &[&str] = &[
    "Came in through the spring webinar",
    "Asked for invoices in EUR",
    "Signed up twice; support merged the accounts",
    "Wants a call about the team plan",
    "Referred by a colleague at the same company",
    "Promoter says this was their cousin",
];

struct DemoData {
    campaigns: Vec<Campaign>,
    promoters: Vec<Promoter>,
    /// Each link and its state.
    links: Vec<(ReferralLink, &'static str)>,
    referrals: Vec<Referral>,
}

/// Inserts `count` referrals and everything they refer to, in one transaction.
pub fn insert_demo_data(conn: &mut Connection, count: usize) -> rusqlite::Result<()> {
    let data = generate(count);
    let tx = conn.transaction()?;
    for campaign in &data.campaigns {
        store::insert_campaign(&tx, campaign)?;
    }
    for promoter in &data.promoters {
        store::insert_promoter(&tx, promoter)?;
    }
    for (link, state) in &data.links {
        store::insert_link(&tx, link, state)?;
    }
    for referral in &data.referrals {
        store::insert_referral(&tx, referral)?;
    }
    tx.commit()
}

fn generate(count: usize) -> DemoData {
    let mut rng = Prng::new(SEED);
    let campaigns: Vec<Campaign> = CAMPAIGNS
        .iter()
        .map(|&(id, name, color)| Campaign {
            id,
            name: name.to_owned(),
            color: color.to_owned(),
        })
        .collect();
    let promoters = promoters(&mut rng);
    let links = links(&mut rng, &promoters, &campaigns);
    let mut created: Vec<Timestamp> = (0..count)
        .map(|_| rng.timestamp_between(FIRST_REFERRAL, LAST_REFERRAL))
        .collect();
    created.sort();
    let mut taken = Taken::default();
    let mut profiles = Prng::new(PROFILE_SEED);
    let referrals = (FIRST_REFERRAL_ID..)
        .zip(created)
        .map(|(id, at)| referral(&mut rng, &mut profiles, id, at, &links, &mut taken))
        .collect();
    DemoData {
        campaigns,
        promoters,
        links,
        referrals,
    }
}

fn promoters(rng: &mut Prng) -> Vec<Promoter> {
    let mut taken = HashSet::new();
    (FIRST_PROMOTER_ID..FIRST_PROMOTER_ID + PROMOTERS)
        .map(|id| {
            let first = *rng.pick(FIRST_NAMES);
            let last = *rng.pick(LAST_NAMES);
            let mailbox = names::mailbox(first, last, rng);
            let domain = *rng.pick(MAIL_DOMAINS);
            Promoter {
                id,
                email: names::unique_email(&mut taken, &mailbox, domain),
                name: format!("{first} {last}"),
            }
        })
        .collect()
}

/// One or two campaigns per promoter; most links are accepted.
fn links(
    rng: &mut Prng,
    promoters: &[Promoter],
    campaigns: &[Campaign],
) -> Vec<(ReferralLink, &'static str)> {
    let mut links = Vec::new();
    for promoter in promoters {
        let first = rng.index(campaigns.len());
        let mut joined = vec![first];
        if rng.chance(40) {
            joined.push((first + 1 + rng.index(campaigns.len() - 1)) % campaigns.len());
        }
        for index in joined {
            let campaign = &campaigns[index];
            let state = match rng.below(100) {
                0..86 => "accepted",
                86..95 => "pending",
                _ => "blocked",
            };
            let link = ReferralLink {
                id: FIRST_LINK_ID + links.len() as i64,
                campaign_id: campaign.id,
                promoter_id: promoter.id,
                created_at: db::timestamp(rng.timestamp_between(FIRST_LINK, LAST_LINK)),
                promoter: promoter.clone(),
                campaign: campaign.clone(),
            };
            links.push((link, state));
        }
    }
    links
}

/// Values already used in the account, lowercased.
#[derive(Default)]
struct Taken {
    emails: HashSet<String>,
    usernames: HashSet<String>,
}

/// `rng` draws what earlier versions drew, in the same order; `profiles` the rest.
fn referral(
    rng: &mut Prng,
    profiles: &mut Prng,
    id: i64,
    created: Timestamp,
    links: &[(ReferralLink, &'static str)],
    taken: &mut Taken,
) -> Referral {
    // A few promoters bring in most referrals.
    let top = rng.index(links.len()) + 1;
    let own = rng.index(top);
    let first = *rng.pick(FIRST_NAMES);
    let last = *rng.pick(LAST_NAMES);
    let mailbox = names::mailbox(first, last, rng);
    let uid = rng.chance(30).then(|| rng.id("cus_"));
    let email = (uid.is_none() || rng.chance(85)).then(|| {
        let domain = *rng.pick(MAIL_DOMAINS);
        names::unique_email(&mut taken.emails, &mailbox, domain)
    });
    let username = rng.chance(20).then(|| {
        let handle = names::plain(&format!("{first}{last}"));
        let mut username = handle.clone();
        let mut n = 2;
        while !taken.usernames.insert(username.clone()) {
            username = format!("{handle}{n}");
            n += 1;
        }
        username
    });
    let state = match rng.below(100) {
        0..34 => State::Active,
        34..62 => State::Signup,
        62..70 => State::Subscribed,
        70..79 => State::Pending,
        79..87 => State::Denied,
        87..93 => State::Cancelled,
        93..97 => State::Refunded,
        _ => State::Moved,
    };
    let customer = match state {
        State::Active | State::Subscribed | State::Cancelled | State::Refunded => true,
        State::Signup | State::Pending => false,
        State::Denied | State::Moved => rng.chance(40),
    };
    let since =
        customer.then(|| created + SignedDuration::from_mins(60 + rng.below(30 * 24 * 60) as i64));
    let entry_source = match rng.below(100) {
        0..48 => EntrySource::Cookie,
        48..63 => EntrySource::Coupon,
        63..78 => EntrySource::Api,
        78..90 => EntrySource::ManualAdmin,
        _ => EntrySource::ManualAffiliate,
    };
    let suspicious = rng.chance(if state == State::Denied { 45 } else { 7 });
    let fraud_check = if suspicious {
        *rng.pick(&[
            FraudCheck::SameIpSuspicion,
            FraudCheck::SamePromoterEmail,
            FraudCheck::AdSource,
        ])
    } else {
        FraudCheck::NoSuspicion
    };
    let created_by_user_email =
        (entry_source == EntrySource::ManualAdmin).then(|| rng.pick(ADMINS).to_string());
    let split_details = if rng.chance(10) && links.len() > 1 {
        let partner = &links[(own + 1 + rng.index(links.len() - 1)) % links.len()].0;
        vec![Split {
            promoter_campaign_id: partner.id,
            promoter_id: partner.promoter_id,
            percentage: *rng.pick(PARTNER_SHARES),
        }]
    } else {
        Vec::new()
    };
    let metadata = metadata(rng);

    let (first_name, last_name) = match profiles.below(100) {
        0..10 => (None, None),
        10..16 => (Some(first.to_owned()), None),
        _ => (Some(first.to_owned()), Some(last.to_owned())),
    };
    let website = profiles.chance(20).then(|| {
        let site = names::plain(&format!("{first}{last}"));
        format!("https://{site}.{}", profiles.pick(WEBSITE_ENDINGS))
    });
    let comment = profiles
        .chance(15)
        .then(|| profiles.pick(COMMENTS).to_string());
    let is_expired = profiles.chance(8);
    let cancelled_at = since
        .filter(|_| matches!(state, State::Cancelled | State::Refunded))
        .map(|since| {
            let days = 1 + profiles.below(120) as i64;
            db::timestamp(since + SignedDuration::from_hours(24 * days))
        });
    Referral {
        id,
        email,
        uid,
        username,
        first_name,
        last_name,
        website,
        comment,
        state,
        is_expired,
        metadata,
        entry_source,
        created_at: db::timestamp(created),
        customer_since: since.map(db::timestamp),
        promoter_campaign: links[own].0.clone(),
        fraud_check: Some(fraud_check),
        created_by_user_email,
        split_details,
        cancelled_at,
    }
}

/// About a third of referrals carry what the signup form recorded.
fn metadata(rng: &mut Prng) -> Option<Map<String, Value>> {
    if !rng.chance(35) {
        return None;
    }
    let mut metadata = Map::new();
    metadata.insert("plan".into(), rng.pick(PLANS).to_string().into());
    metadata.insert(
        "landing_page".into(),
        rng.pick(LANDING_PAGES).to_string().into(),
    );
    if rng.chance(40) {
        metadata.insert(
            "utm_source".into(),
            rng.pick(UTM_SOURCES).to_string().into(),
        );
    }
    Some(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_constants_are_the_documented_dates() {
        assert_eq!(db::timestamp(FIRST_LINK), "2025-06-02T00:00:00Z");
        assert_eq!(db::timestamp(LAST_LINK), "2025-12-15T00:00:00Z");
        assert_eq!(db::timestamp(FIRST_REFERRAL), "2026-01-05T00:00:00Z");
        assert_eq!(db::timestamp(LAST_REFERRAL), "2026-10-30T22:00:00Z");
    }

    #[test]
    fn same_count_gives_the_same_data() {
        let (a, b) = (generate(80), generate(80));
        assert_eq!(a.referrals, b.referrals);
        assert_eq!(a.links, b.links);
    }

    #[test]
    fn ids_follow_creation_order_and_links_follow_promoters() {
        let data = generate(300);
        assert_eq!(data.promoters.len(), 25);
        assert!((25..=50).contains(&data.links.len()));
        for (n, (link, _)) in data.links.iter().enumerate() {
            assert_eq!(link.id, FIRST_LINK_ID + n as i64);
        }
        for pair in data.referrals.windows(2) {
            assert_eq!(pair[1].id, pair[0].id + 1);
            assert!(pair[0].created_at <= pair[1].created_at);
        }
        assert_eq!(data.referrals[0].id, FIRST_REFERRAL_ID);
    }

    #[test]
    fn referrals_follow_the_intended_mix() {
        let data = generate(2000);
        let share = |test: &dyn Fn(&Referral) -> bool| {
            data.referrals.iter().filter(|r| test(r)).count() * 100 / data.referrals.len()
        };
        assert!(share(&|r| r.uid.is_some()).abs_diff(30) <= 4);
        assert!(share(&|r| r.username.is_some()).abs_diff(20) <= 4);
        assert!(share(&|r| !r.split_details.is_empty()).abs_diff(10) <= 3);
        assert!(share(&|r| r.fraud_check != Some(FraudCheck::NoSuspicion)).abs_diff(10) <= 3);
        assert!(share(&|r| r.first_name.is_none()).abs_diff(10) <= 3);
        assert!(share(&|r| r.first_name.is_some() && r.last_name.is_none()).abs_diff(6) <= 3);
        assert!(share(&|r| r.website.is_some()).abs_diff(20) <= 4);
        assert!(share(&|r| r.comment.is_some()).abs_diff(15) <= 4);
        assert!(share(&|r| r.is_expired).abs_diff(8) <= 3);
        assert!(share(&|r| r.state == State::Active) > share(&|r| r.state == State::Denied));
        for state in State::ALL {
            assert!(
                data.referrals.iter().any(|r| r.state == *state),
                "{state:?}"
            );
        }
        for source in EntrySource::ALL {
            assert!(
                data.referrals.iter().any(|r| r.entry_source == *source),
                "{source:?}"
            );
        }
    }

    #[test]
    fn referral_fields_are_consistent() {
        let data = generate(2000);
        let mut emails = HashSet::new();
        for r in &data.referrals {
            assert!(r.email.is_some() || r.uid.is_some(), "{}", r.id);
            if let Some(email) = &r.email {
                assert!(emails.insert(email.to_lowercase()), "{email}");
            }
            assert_eq!(
                r.created_by_user_email.is_some(),
                r.entry_source == EntrySource::ManualAdmin
            );
            if matches!(r.state, State::Signup | State::Pending) {
                assert_eq!(r.customer_since, None);
            }
            if let Some(since) = &r.customer_since {
                assert!(since > &r.created_at);
            }
            assert!(r.promoter_campaign.created_at < r.created_at);
            let total: u32 = r
                .split_details
                .iter()
                .map(|s| u32::from(s.percentage))
                .sum();
            assert!(total <= 100, "{}", r.id);
            assert!(
                r.split_details
                    .iter()
                    .all(|s| s.promoter_campaign_id != r.promoter_campaign.id),
                "{} shares with itself",
                r.id
            );
            let cancelled = matches!(r.state, State::Cancelled | State::Refunded);
            assert_eq!(r.cancelled_at.is_some(), cancelled, "{}", r.id);
            if let (Some(cancelled), Some(since)) = (&r.cancelled_at, &r.customer_since) {
                assert!(cancelled > since, "{}", r.id);
            }
        }
    }
}
