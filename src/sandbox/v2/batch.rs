//! Batch processes: what the batch actions (approve, disable, enable, move to promoter) do to each
//! referral, the stored progress record of each batch (`v2_batches`, so a restart keeps them) and
//! running a batch, either at once or in the background at a pace a person can watch.
//!
//! `processed_count` counts every id handled so far, failed ones included; `failed_count` the ones
//! that failed (unknown ids), each with a line in `processing_errors`; `progress` is
//! `processed_count * 100 / total`, rounded down. A finished batch is `completed` when at least one
//! id succeeded, else `failed`; a batch cut short by the server shutting down (or found unfinished
//! at start) is `stopped`.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

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
    created_at TEXT NOT NULL
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batch {
    pub id: i64,
    pub status: Status,
    pub total: u32,
    pub processed_count: u32,
    pub failed_count: u32,
    /// 0-100, from processed_count and total.
    pub progress: u32,
    /// One line per failed id, naming it and why.
    pub processing_errors: Vec<String>,
    pub action: Action,
    pub created_at: String,
}

/// What a batch does to each referral.
#[derive(Debug, Clone)]
pub enum Change {
    Approve,
    Disable,
    Enable,
    MoveTo(ReferralLink),
}

impl Change {
    pub fn action(&self) -> Action {
        match self {
            Change::Approve => Action::Approve,
            Change::Disable => Action::Disable,
            Change::Enable => Action::Enable,
            Change::MoveTo(_) => Action::MoveToPromoter,
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

/// Stores a new `pending` batch of `total` ids.
pub fn create(
    conn: &Connection,
    action: Action,
    total: u32,
    created_at: String,
) -> rusqlite::Result<Batch> {
    conn.prepare_cached(
        "INSERT INTO v2_batches (status, total, processed_count, failed_count,
             processing_errors, action, created_at)
         VALUES (?1, ?2, 0, 0, '[]', ?3, ?4)",
    )?
    .execute(params![Status::Pending, total, action, created_at])?;
    Ok(Batch {
        id: conn.last_insert_rowid(),
        status: Status::Pending,
        total,
        processed_count: 0,
        failed_count: 0,
        progress: 0,
        processing_errors: Vec::new(),
        action,
        created_at,
    })
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Batch>> {
    conn.prepare_cached(
        "SELECT id, status, total, processed_count, failed_count, processing_errors, action,
             created_at
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
            if let Err(err) = save(&db.lock(), &batch) {
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
    save(&db.lock(), batch)?;
    for &id in ids {
        tokio::select! {
            () = tokio::time::sleep(PACE) => {}
            () = stop.requested() => {
                batch.status = Status::Stopped;
                return save(&db.lock(), batch);
            }
        }
        step(&mut db.lock(), batch, change, id)?;
    }
    batch.finish();
    save(&db.lock(), batch)
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
        (Change::MoveTo(link), _) => referral.promoter_campaign = link.clone(),
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

    fn finish(&mut self) {
        self.status = if self.failed_count < self.total {
            Status::Completed
        } else {
            Status::Failed
        };
    }
}

fn percent(part: u32, total: u32) -> u32 {
    (u64::from(part) * 100)
        .checked_div(u64::from(total))
        .map_or(100, |p| p.min(100) as u32)
}

fn save(conn: &Connection, batch: &Batch) -> rusqlite::Result<()> {
    let errors = db::json_text(&batch.processing_errors)?;
    conn.prepare_cached(
        "UPDATE v2_batches SET status = ?2, processed_count = ?3, failed_count = ?4,
             processing_errors = ?5
         WHERE id = ?1",
    )?
    .execute(params![
        batch.id,
        batch.status,
        batch.processed_count,
        batch.failed_count,
        errors
    ])?;
    Ok(())
}

fn batch_from_row(row: &Row) -> rusqlite::Result<Batch> {
    let total: u32 = row.get(2)?;
    let processed_count: u32 = row.get(3)?;
    let errors: String = row.get(5)?;
    let processing_errors = serde_json::from_str(&errors).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, err.into())
    })?;
    Ok(Batch {
        id: row.get(0)?,
        status: row.get(1)?,
        total,
        processed_count,
        failed_count: row.get(4)?,
        progress: percent(processed_count, total),
        processing_errors,
        action: row.get(6)?,
        created_at: row.get(7)?,
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
        let mut batch = create(&conn, Action::Disable, 2, "2026-03-01T00:00:00Z".into()).unwrap();
        assert_eq!(get(&conn, batch.id).unwrap().as_ref(), Some(&batch));
        // Referral tables are missing here, so only failures can be recorded without them.
        batch.record(Err("Referral 7 not found".into()));
        save(&conn, &batch).unwrap();
        let stored = get(&conn, batch.id).unwrap().unwrap();
        assert_eq!(
            (stored.processed_count, stored.failed_count, stored.progress),
            (1, 1, 50)
        );
        assert_eq!(stored.processing_errors, ["Referral 7 not found"]);
        assert_eq!(stop_unfinished(&conn).unwrap(), 1);
        assert_eq!(
            get(&conn, batch.id).unwrap().unwrap().status,
            Status::Stopped
        );
        assert_eq!(get(&conn, batch.id + 1).unwrap(), None);
    }

    #[test]
    fn finished_batches_fail_only_when_every_id_failed() {
        let mut batch = Batch {
            id: 1,
            status: Status::InProgress,
            total: 2,
            processed_count: 0,
            failed_count: 0,
            progress: 0,
            processing_errors: Vec::new(),
            action: Action::Approve,
            created_at: String::new(),
        };
        batch.record(Err("Referral 1 not found".into()));
        batch.record(Ok(()));
        batch.finish();
        assert_eq!(batch.status, Status::Completed);
        batch.failed_count = 2;
        batch.finish();
        assert_eq!(batch.status, Status::Failed);
    }
}
