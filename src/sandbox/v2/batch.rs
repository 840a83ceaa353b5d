//! Batch processes: what the batch actions (approve, disable, enable, move to promoter) do to each
//! referral, the stored progress record of each batch (`v2_batches`, so a restart keeps them) and
//! running a batch, either at once or in the background at a pace a person can watch.
//!
//! `total` counts the distinct ids, `selected_total` every id the request sent (repeats too);
//! `processed_count` counts every id handled so far, failed ones included; `failed_count` the ones
//! that failed (unknown ids), each with a line in `processing_errors`; `progress` is
//! `processed_count * 100 / total`, rounded down. A finished batch is `completed`, even when every
//! id failed (`failed_count` says so): the spec's 200 answer is `pending` or `completed`, so
//! `failed` is left for a background batch the sandbox itself could not finish (a database
//! error). A batch cut short by the server shutting down (or found unfinished at start) is
//! `stopped`. `updated_at` moves whenever the batch is saved; `meta` holds the action's
//! parameters (`move_to_promoter`'s target and commissions flag, `{}` for the others).

use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::records::{ReferralLink, State};
use super::store;
use crate::sandbox::background::{Background, StopSignal};
use crate::sandbox::db::{self, Db};
use crate::sandbox::text_enum::text_enum;

/// Time spent on each id of a background batch, so progress is visible while polling.
const PACE: Duration = Duration::from_millis(150);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS v2_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    status TEXT NOT NULL,
    total INTEGER NOT NULL,
    processed_count INTEGER NOT NULL,
    failed_count INTEGER NOT NULL,
    -- JSON array of strings
    processing_errors TEXT NOT NULL,
    action TEXT NOT NULL,
    created_at TEXT NOT NULL,
    selected_total INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    -- JSON object text
    meta TEXT NOT NULL
);
";

text_enum! {
    pub enum Status {
        Pending => "pending",
        InProgress => "in_progress",
        Completed => "completed",
        Failed => "failed",
        Stopped => "stopped",
    }
}

text_enum! {
    pub enum Action {
        Approve => "approve",
        Disable => "disable",
        Enable => "enable",
        MoveToPromoter => "move_to_promoter",
    }
}

/// A batch process, keys in the spec's order; `action` (last) is the sandbox's own addition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    pub id: i64,
    pub status: Status,
    pub total: u32,
    pub selected_total: u32,
    pub processed_count: u32,
    pub failed_count: u32,
    /// What the dashboard calls the action, from `action`.
    pub action_label: &'static str,
    pub created_at: String,
    pub updated_at: String,
    pub meta: Map<String, Value>,
    /// 0-100, from processed_count and total.
    pub progress: u32,
    /// One line per failed id, naming it and why.
    pub processing_errors: Vec<String>,
    pub action: Action,
}

/// What a batch does to each referral.
#[derive(Debug, Clone)]
pub enum Change {
    Approve,
    Disable,
    Enable,
    MoveTo {
        link: ReferralLink,
        /// As sent; the sandbox has no commissions to move, the batch's `meta` records it.
        with_commissions: bool,
    },
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::Approve => "Approve referrals",
            Action::Disable => "Disable referrals",
            Action::Enable => "Enable referrals",
            Action::MoveToPromoter => "Move referrals to promoter",
        }
    }
}

impl Change {
    pub fn action(&self) -> Action {
        match self {
            Change::Approve => Action::Approve,
            Change::Disable => Action::Disable,
            Change::Enable => Action::Enable,
            Change::MoveTo { .. } => Action::MoveToPromoter,
        }
    }

    /// The batch's `meta`: the parameters the action was started with.
    fn meta(&self) -> Map<String, Value> {
        match self {
            Change::MoveTo {
                link,
                with_commissions,
            } => {
                let mut meta = Map::new();
                meta.insert("promoter_campaign_id".into(), json!(link.id));
                meta.insert(
                    "move_associated_commissions".into(),
                    json!(with_commissions),
                );
                meta
            }
            _ => Map::new(),
        }
    }
}

pub fn create_schema(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(SCHEMA)
}

/// Batches a previous run left pending or in progress can never finish: they become `stopped`.
pub fn stop_unfinished(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE v2_batches SET status = ?1 WHERE status IN (?2, ?3)",
        params![Status::Stopped, Status::Pending, Status::InProgress],
    )
}

/// Stores a new `pending` batch of `total` distinct ids out of `selected_total` sent.
pub fn create(
    conn: &Connection,
    change: &Change,
    total: u32,
    selected_total: u32,
) -> rusqlite::Result<Batch> {
    let action = change.action();
    let meta = change.meta();
    let created_at = db::timestamp(Timestamp::now());
    conn.prepare_cached(
        "INSERT INTO v2_batches (status, total, processed_count, failed_count,
             processing_errors, action, created_at, selected_total, updated_at, meta)
         VALUES (?1, ?2, 0, 0, '[]', ?3, ?4, ?5, ?4, ?6)",
    )?
    .execute(params![
        Status::Pending,
        total,
        action,
        created_at,
        selected_total,
        db::json_text(&meta)?
    ])?;
    Ok(Batch {
        id: conn.last_insert_rowid(),
        status: Status::Pending,
        total,
        selected_total,
        processed_count: 0,
        failed_count: 0,
        action_label: action.label(),
        updated_at: created_at.clone(),
        created_at,
        meta,
        progress: 0,
        processing_errors: Vec::new(),
        action,
    })
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Batch>> {
    conn.prepare_cached(
        "SELECT id, status, total, processed_count, failed_count, processing_errors, action,
             created_at, selected_total, updated_at, meta
         FROM v2_batches WHERE id = ?1",
    )?
    .query_row([id], batch_from_row)
    .optional()
}

/// Handles every id now, holding the connection throughout.
pub fn run_now(
    conn: &mut Connection,
    batch: &mut Batch,
    change: &Change,
    ids: &[i64],
) -> rusqlite::Result<()> {
    batch.status = Status::InProgress;
    for &id in ids {
        step(conn, batch, change, id)?;
    }
    batch.finish();
    save(conn, batch)
}

/// Handles the ids one by one in a background task, [`PACE`] apart, saving progress after each.
pub fn run_in_background(
    background: &Background,
    db: Db,
    mut batch: Batch,
    change: Change,
    ids: Vec<i64>,
) {
    background.spawn(move |stop| async move {
        if let Err(err) = run_paced(&db, &mut batch, &change, &ids, stop).await {
            tracing::error!(%err, batch = batch.id, "batch process failed");
            batch.status = Status::Failed;
            if let Err(err) = save(&db.write(), &mut batch) {
                tracing::error!(%err, batch = batch.id, "could not record the failed batch");
            }
        }
    });
}

async fn run_paced(
    db: &Db,
    batch: &mut Batch,
    change: &Change,
    ids: &[i64],
    mut stop: StopSignal,
) -> rusqlite::Result<()> {
    batch.status = Status::InProgress;
    save(&db.write(), batch)?;
    for &id in ids {
        tokio::select! {
            () = tokio::time::sleep(PACE) => {}
            () = stop.requested() => {
                batch.status = Status::Stopped;
                return save(&db.write(), batch);
            }
        }
        step(&mut db.write(), batch, change, id)?;
    }
    batch.finish();
    save(&db.write(), batch)
}

/// Changes one referral and records the outcome, both or neither.
fn step(
    conn: &mut Connection,
    batch: &mut Batch,
    change: &Change,
    id: i64,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let outcome = change_one(&tx, change, id)?;
    batch.record(outcome);
    save(&tx, batch)?;
    tx.commit()
}

/// `Err(line for processing_errors)` when the referral cannot be changed.
fn change_one(conn: &Connection, change: &Change, id: i64) -> rusqlite::Result<Result<(), String>> {
    let Some(mut referral) = store::get_referral(conn, id)? else {
        return Ok(Err(format!("Referral {id} not found")));
    };
    let customer = referral.customer_since.is_some();
    match (change, referral.state) {
        (Change::Approve, State::Pending | State::Denied) | (Change::Enable, State::Denied) => {
            referral.state = State::approved(customer);
        }
        (Change::Disable, _) => referral.state = State::Denied,
        (Change::MoveTo { link, .. }, _) => referral.move_to(link.clone()),
        (Change::Approve | Change::Enable, _) => return Ok(Ok(())),
    }
    store::update_referral(conn, &referral)?;
    Ok(Ok(()))
}

impl Batch {
    fn record(&mut self, outcome: Result<(), String>) {
        self.processed_count += 1;
        if let Err(error) = outcome {
            self.failed_count += 1;
            self.processing_errors.push(error);
        }
        self.progress = percent(self.processed_count, self.total);
    }

    /// Every id has been handled: the batch is `completed` however many failed.
    fn finish(&mut self) {
        self.status = Status::Completed;
    }
}

fn percent(part: u32, total: u32) -> u32 {
    (u64::from(part) * 100)
        .checked_div(u64::from(total))
        .map_or(100, |p| p.min(100) as u32)
}

/// Stores the batch's progress, stamping `updated_at` with the time of saving.
fn save(conn: &Connection, batch: &mut Batch) -> rusqlite::Result<()> {
    batch.updated_at = db::timestamp(Timestamp::now());
    let errors = db::json_text(&batch.processing_errors)?;
    conn.prepare_cached(
        "UPDATE v2_batches SET status = ?2, processed_count = ?3, failed_count = ?4,
             processing_errors = ?5, updated_at = ?6
         WHERE id = ?1",
    )?
    .execute(params![
        batch.id,
        batch.status,
        batch.processed_count,
        batch.failed_count,
        errors,
        batch.updated_at,
    ])?;
    Ok(())
}

fn batch_from_row(row: &Row) -> rusqlite::Result<Batch> {
    let total: u32 = row.get(2)?;
    let processed_count: u32 = row.get(3)?;
    let action: Action = row.get(6)?;
    Ok(Batch {
        id: row.get(0)?,
        status: row.get(1)?,
        total,
        selected_total: row.get(8)?,
        processed_count,
        failed_count: row.get(4)?,
        action_label: action.label(),
        created_at: row.get(7)?,
        updated_at: row.get(9)?,
        meta: db::json_column(row, 10)?,
        progress: percent(processed_count, total),
        processing_errors: db::json_column(row, 5)?,
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_rounds_down_and_never_divides_by_zero() {
        assert_eq!(percent(0, 8), 0);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(8, 8), 100);
        assert_eq!(percent(0, 0), 100);
    }

    #[test]
    fn batches_round_trip_and_unfinished_ones_stop() {
        let conn = Connection::open_in_memory().unwrap();
        create_schema(&conn).unwrap();
        let mut batch = create(&conn, &Change::Disable, 2, 3).unwrap();
        assert_eq!(get(&conn, batch.id).unwrap().as_ref(), Some(&batch));
        assert_eq!(batch.updated_at, batch.created_at);
        // Referral tables are missing here, so only failures can be recorded without them.
        batch.record(Err("Referral 7 not found".into()));
        save(&conn, &mut batch).unwrap();
        let stored = get(&conn, batch.id).unwrap().unwrap();
        assert_eq!(stored, batch);
        assert_eq!(
            (stored.processed_count, stored.failed_count, stored.progress),
            (1, 1, 50)
        );
        assert_eq!((stored.total, stored.selected_total), (2, 3));
        assert_eq!(stored.processing_errors, ["Referral 7 not found"]);
        assert_eq!(stop_unfinished(&conn).unwrap(), 1);
        assert_eq!(
            get(&conn, batch.id).unwrap().unwrap().status,
            Status::Stopped
        );
        assert_eq!(get(&conn, batch.id + 1).unwrap(), None);
    }
}
