//! FirstPromoter v2 tables (`v2_*`, beside v1's in the same file): campaigns, promoters, the links
//! between them (promoter campaigns) and referrals, with the queries the handlers and the seed use.
//! Batch processes keep their own table (see [`super::batch`]).

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value};

use super::query::Page;
use super::records::{Campaign, Promoter, PromoterCampaign, Referral, ReferralLink, Split, State};
use crate::sandbox::db::{Reader, Source};
use crate::sandbox::{db, email};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS v2_campaigns (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    color TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS v2_promoters (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS v2_promoter_campaigns (
    id INTEGER PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES v2_campaigns (id),
    promoter_id INTEGER NOT NULL REFERENCES v2_promoters (id),
    state TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS v2_referrals (
    id INTEGER PRIMARY KEY,
    email TEXT,
    -- lowercased email: uniqueness and find_by=email ignore case
    email_key TEXT,
    uid TEXT,
    username TEXT,
    state TEXT NOT NULL,
    -- JSON object text
    metadata TEXT,
    entry_source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    customer_since TEXT,
    promoter_campaign_id INTEGER NOT NULL REFERENCES v2_promoter_campaigns (id),
    -- null once cleared
    fraud_check TEXT,
    created_by_user_email TEXT,
    -- JSON array of {promoter_campaign_id, promoter_id, percentage}
    split_details TEXT NOT NULL,
    first_name TEXT,
    last_name TEXT,
    website TEXT,
    comment TEXT,
    is_expired INTEGER NOT NULL,
    cancelled_at TEXT
);
CREATE INDEX IF NOT EXISTS v2_referrals_email ON v2_referrals (email_key);
CREATE INDEX IF NOT EXISTS v2_referrals_uid ON v2_referrals (uid);
CREATE INDEX IF NOT EXISTS v2_referrals_username ON v2_referrals (username);
";

/// Referral columns joined with their link, promoter and campaign; see [`referral_from_row`].
/// The link's columns (9 to 16) are laid out like the first eight of [`LINKS`].
const REFERRALS: Source = Source {
    columns: "r.id, r.email, r.uid, r.username, r.state, r.metadata, r.entry_source, r.created_at,
       r.customer_since, pc.id, pc.campaign_id, pc.promoter_id, pc.created_at, p.email, p.name,
       c.name, c.color, r.fraud_check, r.created_by_user_email, r.split_details, r.first_name,
       r.last_name, r.website, r.comment, r.is_expired, r.cancelled_at",
    from: "v2_referrals r
JOIN v2_promoter_campaigns pc ON pc.id = r.promoter_campaign_id
JOIN v2_promoters p ON p.id = pc.promoter_id
JOIN v2_campaigns c ON c.id = pc.campaign_id",
    rowid: "r.id",
};

/// Link columns joined with promoter and campaign, the state last; see [`link_from_row`].
const LINKS: Source = Source {
    columns: "pc.id, pc.campaign_id, pc.promoter_id, pc.created_at, p.email, p.name, c.name, \
              c.color, pc.state",
    from: "v2_promoter_campaigns pc
JOIN v2_promoters p ON p.id = pc.promoter_id
JOIN v2_campaigns c ON c.id = pc.campaign_id",
    rowid: "pc.id",
};

/// Referral list filters; `None` means any.
#[derive(Debug, Default, PartialEq)]
pub struct ReferralFilter {
    /// Case-insensitive substring of email, uid, username or website.
    pub q: Option<String>,
    pub ids: Option<Vec<i64>>,
    /// `Some(true)` for customers (customer_since set), `Some(false)` for leads.
    pub customer: Option<bool>,
    pub state: Option<State>,
    pub promoter_id: Option<i64>,
    pub created_at: Days,
    /// Leads (no customer_since) never match a bound here.
    pub customer_since: Days,
    /// Referrals never cancelled never match a bound here.
    pub cancelled_at: Days,
}

/// Inclusive `YYYY-MM-DD` bounds on a timestamp's UTC date; `None` means unbounded.
#[derive(Debug, Default, PartialEq)]
pub struct Days {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Which unique-ish field `find_by` looks a referral up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindBy {
    Email,
    Uid,
    Username,
}

impl FindBy {
    pub fn parse(text: &str) -> Option<FindBy> {
        match text {
            "email" => Some(FindBy::Email),
            "uid" => Some(FindBy::Uid),
            "username" => Some(FindBy::Username),
            _ => None,
        }
    }
}

pub fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

pub fn referral_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM v2_referrals", [], |row| row.get(0))
}

pub fn list_referrals(
    reader: &Reader,
    filter: &ReferralFilter,
    page: Page,
) -> rusqlite::Result<Vec<Referral>> {
    let filter_order = "
         WHERE (?1 IS NULL OR instr(lower(coalesce(r.email, '')), lower(?1)) > 0
                OR instr(lower(coalesce(r.uid, '')), lower(?1)) > 0
                OR instr(lower(coalesce(r.username, '')), lower(?1)) > 0
                OR instr(lower(coalesce(r.website, '')), lower(?1)) > 0)
           AND (?2 IS NULL OR r.id IN (SELECT value FROM json_each(?2)))
           AND (?3 IS NULL OR ?3 = (r.customer_since IS NOT NULL))
           AND (?4 IS NULL OR r.state = ?4)
           AND (?5 IS NULL OR pc.promoter_id = ?5)
           AND (?6 IS NULL OR substr(r.created_at, 1, 10) >= ?6)
           AND (?7 IS NULL OR substr(r.created_at, 1, 10) <= ?7)
           AND (?8 IS NULL OR substr(r.customer_since, 1, 10) >= ?8)
           AND (?9 IS NULL OR substr(r.customer_since, 1, 10) <= ?9)
           AND (?10 IS NULL OR substr(r.cancelled_at, 1, 10) >= ?10)
           AND (?11 IS NULL OR substr(r.cancelled_at, 1, 10) <= ?11)
         ORDER BY r.id";
    let ids = filter.ids.as_ref().map(db::json_text).transpose()?;
    reader.page(
        &REFERRALS,
        filter_order,
        params![
            filter.q,
            ids,
            filter.customer,
            filter.state,
            filter.promoter_id,
            filter.created_at.from,
            filter.created_at.to,
            filter.customer_since.from,
            filter.customer_since.to,
            filter.cancelled_at.from,
            filter.cancelled_at.to,
        ],
        (page.limit(), page.offset()),
        referral_from_row,
    )
}

pub fn get_referral(conn: &Connection, id: i64) -> rusqlite::Result<Option<Referral>> {
    let sql = format!("{} WHERE r.id = ?1", REFERRALS.select());
    conn.prepare_cached(&sql)?
        .query_row([id], referral_from_row)
        .optional()
}

/// The lowest-id referral whose `by` field is `value` (emails compared ignoring case).
pub fn find_referral_id(
    conn: &Connection,
    by: FindBy,
    value: &str,
) -> rusqlite::Result<Option<i64>> {
    let (sql, value) = match by {
        FindBy::Email => (
            "SELECT min(id) FROM v2_referrals WHERE email_key = ?1",
            email::key(value),
        ),
        FindBy::Uid => (
            "SELECT min(id) FROM v2_referrals WHERE uid = ?1",
            value.to_owned(),
        ),
        FindBy::Username => (
            "SELECT min(id) FROM v2_referrals WHERE username = ?1",
            value.to_owned(),
        ),
    };
    conn.prepare_cached(sql)?
        .query_row([value], |row| row.get(0))
}

/// Whether a referral other than `except_id` has `email`, ignoring case.
pub fn email_taken(conn: &Connection, email: &str, except_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM v2_referrals WHERE email_key = ?1 AND id != ?2)",
    )?
    .query_row(params![email::key(email), except_id], |row| row.get(0))
}

pub fn insert_referral(conn: &Connection, referral: &Referral) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO v2_referrals (id, email, email_key, uid, username, state, metadata,
             entry_source, created_at, customer_since, promoter_campaign_id, fraud_check,
             created_by_user_email, split_details, first_name, last_name, website, comment,
             is_expired, cancelled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20)",
    )?
    .execute(params![
        referral.id,
        referral.email,
        referral.email.as_deref().map(email::key),
        referral.uid,
        referral.username,
        referral.state,
        referral.metadata.as_ref().map(db::json_text).transpose()?,
        referral.entry_source,
        referral.created_at,
        referral.customer_since,
        referral.promoter_campaign.id,
        referral.fraud_check,
        referral.created_by_user_email,
        db::json_text(&referral.split_details)?,
        referral.first_name,
        referral.last_name,
        referral.website,
        referral.comment,
        referral.is_expired,
        referral.cancelled_at,
    ])?;
    Ok(())
}

/// Writes every column an API call can change back to the referral's row.
pub fn update_referral(conn: &Connection, referral: &Referral) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE v2_referrals SET email = ?2, email_key = ?3, uid = ?4, username = ?5, state = ?6,
             promoter_campaign_id = ?7, fraud_check = ?8, split_details = ?9
         WHERE id = ?1",
    )?
    .execute(params![
        referral.id,
        referral.email,
        referral.email.as_deref().map(email::key),
        referral.uid,
        referral.username,
        referral.state,
        referral.promoter_campaign.id,
        referral.fraud_check,
        db::json_text(&referral.split_details)?,
    ])?;
    Ok(())
}

pub fn list_promoter_campaigns(
    reader: &Reader,
    page: Page,
) -> rusqlite::Result<Vec<PromoterCampaign>> {
    reader.page(
        &LINKS,
        "ORDER BY pc.id",
        &[],
        (page.limit(), page.offset()),
        link_from_row,
    )
}

/// At most `limit` links whose promoter name or email or campaign name contains `q`, ignoring case.
pub fn search_promoter_campaigns(
    conn: &Connection,
    q: &str,
    limit: u32,
) -> rusqlite::Result<Vec<PromoterCampaign>> {
    let sql = format!(
        "{}
         WHERE instr(lower(p.name), lower(?1)) > 0 OR instr(lower(p.email), lower(?1)) > 0
            OR instr(lower(c.name), lower(?1)) > 0
         ORDER BY pc.id LIMIT ?2",
        LINKS.select()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![q, limit], link_from_row)?;
    rows.collect()
}

/// The link with `id` in the shape a referral nests it.
pub fn get_link(conn: &Connection, id: i64) -> rusqlite::Result<Option<ReferralLink>> {
    let sql = format!("{} WHERE pc.id = ?1", LINKS.select());
    conn.prepare_cached(&sql)?
        .query_row([id], |row| nested_link_from_row(row, 0))
        .optional()
}

pub fn insert_campaign(conn: &Connection, campaign: &Campaign) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO v2_campaigns (id, name, color) VALUES (?1, ?2, ?3)")?
        .execute(params![campaign.id, campaign.name, campaign.color])?;
    Ok(())
}

pub fn insert_promoter(conn: &Connection, promoter: &Promoter) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO v2_promoters (id, email, name) VALUES (?1, ?2, ?3)")?
        .execute(params![promoter.id, promoter.email, promoter.name])?;
    Ok(())
}

/// Inserts the link of `link` (its promoter and campaign must exist) in `state`.
pub fn insert_link(conn: &Connection, link: &ReferralLink, state: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO v2_promoter_campaigns (id, campaign_id, promoter_id, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        link.id,
        link.campaign_id,
        link.promoter_id,
        state,
        link.created_at
    ])?;
    Ok(())
}

fn referral_from_row(row: &Row) -> rusqlite::Result<Referral> {
    let metadata: Option<Map<String, Value>> = match row.get_ref(5)? {
        rusqlite::types::ValueRef::Null => None,
        _ => Some(db::json_column(row, 5)?),
    };
    Ok(Referral {
        id: row.get(0)?,
        email: row.get(1)?,
        uid: row.get(2)?,
        username: row.get(3)?,
        state: row.get(4)?,
        metadata,
        entry_source: row.get(6)?,
        created_at: row.get(7)?,
        customer_since: row.get(8)?,
        promoter_campaign: nested_link_from_row(row, 9)?,
        fraud_check: row.get(17)?,
        created_by_user_email: row.get(18)?,
        split_details: db::json_column::<Vec<Split>>(row, 19)?,
        first_name: row.get(20)?,
        last_name: row.get(21)?,
        website: row.get(22)?,
        comment: row.get(23)?,
        is_expired: row.get(24)?,
        cancelled_at: row.get(25)?,
    })
}

/// A [`LINKS`] row as listed.
fn link_from_row(row: &Row) -> rusqlite::Result<PromoterCampaign> {
    let link = nested_link_from_row(row, 0)?;
    Ok(PromoterCampaign {
        id: link.id,
        campaign_id: link.campaign_id,
        promoter_id: link.promoter_id,
        state: row.get(8)?,
        promoter: link.promoter,
        campaign: link.campaign,
    })
}

/// The eight link columns from `start` on (id, campaign_id, promoter_id, created_at, promoter
/// email and name, campaign name and color), in the shape a referral nests them.
fn nested_link_from_row(row: &Row, start: usize) -> rusqlite::Result<ReferralLink> {
    Ok(ReferralLink {
        id: row.get(start)?,
        campaign_id: row.get(start + 1)?,
        promoter_id: row.get(start + 2)?,
        created_at: row.get(start + 3)?,
        promoter: Promoter {
            id: row.get(start + 2)?,
            email: row.get(start + 4)?,
            name: row.get(start + 5)?,
        },
        campaign: Campaign {
            id: row.get(start + 1)?,
            name: row.get(start + 6)?,
            color: row.get(start + 7)?,
        },
    })
}
