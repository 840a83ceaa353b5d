//! Referral API v1 records and their SQLite tables (`v1_*`, so other backends can share the file).
//!
//! The record structs serialize to exactly the wire JSON, keys in the documented order.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::{Map, Value};

use super::paging::Page;
use crate::sandbox::db::{Reader, Source};
use crate::sandbox::text_enum::text_enum;
use crate::sandbox::{db, email};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS v1_users (
    id TEXT PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    program_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS v1_users_order ON v1_users (created_at, id);

CREATE TABLE IF NOT EXISTS v1_impressions (
    id TEXT PRIMARY KEY,
    poster_id TEXT NOT NULL,
    program_id TEXT NOT NULL,
    student_id TEXT NOT NULL REFERENCES v1_users (id),
    location TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS v1_impressions_order ON v1_impressions (created_at, id);

CREATE TABLE IF NOT EXISTS v1_referrals (
    id TEXT PRIMARY KEY,
    impression_id TEXT NOT NULL REFERENCES v1_impressions (id),
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL,
    -- lowercased email: the per-program uniqueness rule ignores case
    email_key TEXT NOT NULL,
    profile_picture TEXT,
    status TEXT NOT NULL,
    program_id TEXT NOT NULL,
    student_id TEXT NOT NULL REFERENCES v1_users (id),
    created_at TEXT NOT NULL,
    verified_at TEXT,
    updated_at TEXT NOT NULL,
    -- JSON object text
    metadata TEXT,
    idempotency_key TEXT
);
CREATE INDEX IF NOT EXISTS v1_referrals_order ON v1_referrals (created_at, id);
CREATE INDEX IF NOT EXISTS v1_referrals_email ON v1_referrals (program_id, email_key);
CREATE INDEX IF NOT EXISTS v1_referrals_idempotency ON v1_referrals (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
";

// Each table's columns in the order its `*_from_row` reads them; the queries add their clauses
// (see `list_page` and `get_by_id`).
const REFERRALS: Source = Source {
    columns: "id, impression_id, first_name, last_name, email, profile_picture, status, \
              program_id, student_id, created_at, verified_at, updated_at, metadata",
    from: "v1_referrals",
    rowid: "rowid",
};
const USERS: Source = Source {
    columns: "id, first_name, last_name, email, program_id, created_at",
    from: "v1_users",
    rowid: "rowid",
};
const IMPRESSIONS: Source = Source {
    columns: "id, poster_id, program_id, student_id, location, created_at",
    from: "v1_impressions",
    rowid: "rowid",
};
/// Every list's order: oldest first, ties by id.
const ORDER: &str = "ORDER BY created_at, id";

text_enum! {
    pub enum Status {
        Pending => "pending",
        Converted => "converted",
        Verified => "verified",
        Rejected => "rejected",
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    pub id: String,
    pub impression_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile_picture: Option<String>,
    pub status: Status,
    pub program_id: String,
    /// The ambassador whose poster was scanned (`user_...`).
    pub student_id: String,
    pub created_at: String,
    pub verified_at: Option<String>,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// An ambassador.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub program_id: String,
    pub created_at: String,
}

/// One scan of an ambassador's poster QR code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Impression {
    pub id: String,
    pub poster_id: String,
    pub program_id: String,
    pub student_id: String,
    /// Where the poster hangs, as people say it: "Library, 2nd floor".
    pub location: String,
    pub created_at: String,
}

/// Referral list filters; `None` means any.
#[derive(Debug, Default)]
pub struct ReferralFilter<'a> {
    pub program_id: Option<&'a str>,
    pub student_id: Option<&'a str>,
    pub status: Option<Status>,
}

pub fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

pub fn referral_count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM v1_referrals", [], |row| row.get(0))
}

pub fn list_referrals(
    reader: &Reader,
    filter: &ReferralFilter,
    page: Page,
) -> rusqlite::Result<Vec<Referral>> {
    let filter_order = format!(
        "WHERE (?1 IS NULL OR program_id = ?1) AND (?2 IS NULL OR student_id = ?2)
           AND (?3 IS NULL OR status = ?3)
         {ORDER}"
    );
    reader.page(
        &REFERRALS,
        &filter_order,
        params![filter.program_id, filter.student_id, filter.status],
        (page.limit, page.offset),
        referral_from_row,
    )
}

pub fn get_referral(conn: &Connection, id: &str) -> rusqlite::Result<Option<Referral>> {
    get_by_id(conn, &REFERRALS, id, referral_from_row)
}

/// The newest referral created with `key` at or after `since` (a stored timestamp).
pub fn find_by_idempotency_key(
    conn: &Connection,
    key: &str,
    since: &str,
) -> rusqlite::Result<Option<Referral>> {
    let sql = format!(
        "{} WHERE idempotency_key = ?1 AND created_at >= ?2 ORDER BY created_at DESC LIMIT 1",
        REFERRALS.select()
    );
    conn.prepare_cached(&sql)?
        .query_row([key, since], referral_from_row)
        .optional()
}

/// Whether a referral other than `except_id` in `program_id` has `email`, ignoring case.
pub fn email_taken(
    conn: &Connection,
    program_id: &str,
    email: &str,
    except_id: Option<&str>,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM v1_referrals
         WHERE program_id = ?1 AND email_key = ?2 AND (?3 IS NULL OR id != ?3))",
    )?
    .query_row(params![program_id, email::key(email), except_id], |row| {
        row.get(0)
    })
}

pub fn insert_referral(
    conn: &Connection,
    referral: &Referral,
    idempotency_key: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO v1_referrals (id, impression_id, first_name, last_name, email, email_key,
             profile_picture, status, program_id, student_id, created_at, verified_at, updated_at,
             metadata, idempotency_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        referral.id,
        referral.impression_id,
        referral.first_name,
        referral.last_name,
        referral.email,
        email::key(&referral.email),
        referral.profile_picture,
        referral.status,
        referral.program_id,
        referral.student_id,
        referral.created_at,
        referral.verified_at,
        referral.updated_at,
        referral.metadata.as_ref().map(db::json_text).transpose()?,
        idempotency_key,
    ])?;
    Ok(())
}

/// Writes every editable column of `referral` back to its row.
pub fn update_referral(conn: &Connection, referral: &Referral) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE v1_referrals SET first_name = ?2, last_name = ?3, email = ?4, email_key = ?5,
             profile_picture = ?6, status = ?7, verified_at = ?8, updated_at = ?9, metadata = ?10
         WHERE id = ?1",
    )?
    .execute(params![
        referral.id,
        referral.first_name,
        referral.last_name,
        referral.email,
        email::key(&referral.email),
        referral.profile_picture,
        referral.status,
        referral.verified_at,
        referral.updated_at,
        referral.metadata.as_ref().map(db::json_text).transpose()?,
    ])?;
    Ok(())
}

pub fn list_users(reader: &Reader, page: Page) -> rusqlite::Result<Vec<User>> {
    list_page(reader, &USERS, page, user_from_row)
}

pub fn get_user(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    get_by_id(conn, &USERS, id, user_from_row)
}

pub fn insert_user(conn: &Connection, user: &User) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO v1_users (id, first_name, last_name, email, program_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        user.id,
        user.first_name,
        user.last_name,
        user.email,
        user.program_id,
        user.created_at
    ])?;
    Ok(())
}

pub fn list_impressions(reader: &Reader, page: Page) -> rusqlite::Result<Vec<Impression>> {
    list_page(reader, &IMPRESSIONS, page, impression_from_row)
}

pub fn get_impression(conn: &Connection, id: &str) -> rusqlite::Result<Option<Impression>> {
    get_by_id(conn, &IMPRESSIONS, id, impression_from_row)
}

pub fn insert_impression(conn: &Connection, impression: &Impression) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO v1_impressions (id, poster_id, program_id, student_id, location, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        impression.id,
        impression.poster_id,
        impression.program_id,
        impression.student_id,
        impression.location,
        impression.created_at
    ])?;
    Ok(())
}

/// The rows of `source` on `page`, in [`ORDER`].
fn list_page<T>(
    reader: &Reader,
    source: &Source,
    page: Page,
    from_row: fn(&Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    reader.page(source, ORDER, &[], (page.limit, page.offset), from_row)
}

/// The row of `source` with `id`, if any.
fn get_by_id<T>(
    conn: &Connection,
    source: &Source,
    id: &str,
    from_row: fn(&Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    let sql = format!("{} WHERE id = ?1", source.select());
    conn.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()
}

fn referral_from_row(row: &Row) -> rusqlite::Result<Referral> {
    let metadata = match row.get::<_, Option<Value>>(12)? {
        None => None,
        Some(Value::Object(map)) => Some(map),
        Some(_) => {
            return Err(rusqlite::Error::FromSqlConversionFailure(
                12,
                rusqlite::types::Type::Text,
                "metadata is not a JSON object".into(),
            ));
        }
    };
    Ok(Referral {
        id: row.get(0)?,
        impression_id: row.get(1)?,
        first_name: row.get(2)?,
        last_name: row.get(3)?,
        email: row.get(4)?,
        profile_picture: row.get(5)?,
        status: row.get(6)?,
        program_id: row.get(7)?,
        student_id: row.get(8)?,
        created_at: row.get(9)?,
        verified_at: row.get(10)?,
        updated_at: row.get(11)?,
        metadata,
    })
}

fn user_from_row(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        first_name: row.get(1)?,
        last_name: row.get(2)?,
        email: row.get(3)?,
        program_id: row.get(4)?,
        created_at: row.get(5)?,
    })
}

fn impression_from_row(row: &Row) -> rusqlite::Result<Impression> {
    Ok(Impression {
        id: row.get(0)?,
        poster_id: row.get(1)?,
        program_id: row.get(2)?,
        student_id: row.get(3)?,
        location: row.get(4)?,
        created_at: row.get(5)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referral(id: &str, email: &str) -> Referral {
        Referral {
            id: id.into(),
            impression_id: "imp_1".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: email.into(),
            profile_picture: None,
            status: Status::Pending,
            program_id: "prog_1".into(),
            student_id: "user_1".into(),
            created_at: "2026-01-05T00:00:00Z".into(),
            verified_at: None,
            updated_at: "2026-01-05T00:00:00Z".into(),
            metadata: Some(Map::from_iter([("a".to_owned(), Value::Null)])),
        }
    }

    fn conn_with_one_referral() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        create_schema(&conn).unwrap();
        insert_user(
            &conn,
            &User {
                id: "user_1".into(),
                first_name: "Sam".into(),
                last_name: "Ray".into(),
                email: "sam@uni.edu".into(),
                program_id: "prog_1".into(),
                created_at: "2025-09-01T00:00:00Z".into(),
            },
        )
        .unwrap();
        insert_impression(
            &conn,
            &Impression {
                id: "imp_1".into(),
                poster_id: "post_1".into(),
                program_id: "prog_1".into(),
                student_id: "user_1".into(),
                location: "Gym entrance".into(),
                created_at: "2026-01-04T23:00:00Z".into(),
            },
        )
        .unwrap();
        insert_referral(&conn, &referral("ref_1", "Ann.Lee@Mail.com"), Some("k1")).unwrap();
        conn
    }

    #[test]
    fn referrals_round_trip_with_metadata() {
        let conn = conn_with_one_referral();
        assert_eq!(
            get_referral(&conn, "ref_1").unwrap(),
            Some(referral("ref_1", "Ann.Lee@Mail.com"))
        );
        assert_eq!(get_referral(&conn, "ref_2").unwrap(), None);
    }

    #[test]
    fn email_uniqueness_ignores_case_and_the_referral_itself() {
        let conn = conn_with_one_referral();
        assert!(email_taken(&conn, "prog_1", "ann.lee@mail.COM", None).unwrap());
        assert!(!email_taken(&conn, "prog_1", "ann.lee@mail.com", Some("ref_1")).unwrap());
        assert!(!email_taken(&conn, "prog_2", "ann.lee@mail.com", None).unwrap());
    }

    #[test]
    fn idempotency_keys_expire() {
        let conn = conn_with_one_referral();
        let found = find_by_idempotency_key(&conn, "k1", "2026-01-04T00:00:00Z").unwrap();
        assert_eq!(found.map(|r| r.id).as_deref(), Some("ref_1"));
        assert_eq!(
            find_by_idempotency_key(&conn, "k1", "2026-01-06T00:00:00Z").unwrap(),
            None
        );
        assert_eq!(
            find_by_idempotency_key(&conn, "k2", "2026-01-04T00:00:00Z").unwrap(),
            None
        );
    }

    #[test]
    fn updates_rewrite_editable_columns() {
        let conn = conn_with_one_referral();
        let mut changed = referral("ref_1", "new@mail.com");
        changed.status = Status::Verified;
        changed.verified_at = Some("2026-02-01T00:00:00Z".into());
        changed.metadata = None;
        update_referral(&conn, &changed).unwrap();
        assert_eq!(get_referral(&conn, "ref_1").unwrap(), Some(changed));
        assert!(email_taken(&conn, "prog_1", "NEW@mail.com", None).unwrap());
    }
}
