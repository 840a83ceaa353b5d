//! The sandbox's SQLite file: opening it (WAL, created if missing), its connections (one writer,
//! a pool of read-only readers), paging in time independent of the offset, and the text formats
//! the tables store: timestamps, and JSON in text columns.
//!
//! Paging: a list's first [`DIRECT_OFFSETS`] rows are read with the statement's own
//! `LIMIT/OFFSET` (SQLite steps over the skipped rows, which is cheap that near the top). Deeper
//! pages take the list's rowids in order — one query, kept by the reader until the next commit
//! (`PRAGMA data_version`) — and fetch the page's rows by rowid. A full read of N rows costs one
//! ordered scan per reader instead of N²/200 skipped rows.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use jiff::Timestamp;
use rusqlite::types::ToSql;
use rusqlite::{Connection, OpenFlags, Row};

/// Offsets below this are paged by SQLite itself; see the module header.
const DIRECT_OFFSETS: i64 = 1_000;
/// Ordered rowid lists a reader keeps at once (one per distinct query and parameters).
const KEPT_ORDERS: usize = 8;
/// Readers kept open between requests; more are opened while more requests run at once.
const IDLE_READERS: usize = 8;

/// One writer connection behind a mutex (writes take turns, as SQLite requires), and read-only
/// connections for GETs, which in WAL mode run in parallel with each other and with a write.
#[derive(Clone)]
pub struct Db(Arc<Shared>);

struct Shared {
    path: PathBuf,
    writer: Mutex<Connection>,
    idle: Mutex<Vec<Reader>>,
}

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening sandbox database {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .context("enabling WAL on the sandbox database")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        Ok(Db(Arc::new(Shared {
            path: path.to_owned(),
            writer: Mutex::new(conn),
            idle: Mutex::new(Vec::new()),
        })))
    }

    /// The writer, for anything that changes the file (and reads that must see the same state
    /// as the change they decide). Handlers never panic while holding the lock, so a poisoned
    /// mutex is a bug worth crashing on.
    pub fn write(&self) -> MutexGuard<'_, Connection> {
        self.0.writer.lock().unwrap()
    }

    /// A reader from the pool (opened if none is idle), back in the pool when dropped. It sees
    /// every write committed before it is taken.
    pub fn read(&self) -> rusqlite::Result<ReadGuard<'_>> {
        let idle = self.0.idle.lock().unwrap().pop();
        let reader = match idle {
            Some(reader) => reader,
            None => Reader::new(Connection::open_with_flags(
                &self.0.path,
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )?),
        };
        Ok(ReadGuard {
            reader: Some(reader),
            db: self,
        })
    }
}

/// A pooled [`Reader`]; derefs to it.
pub struct ReadGuard<'a> {
    reader: Option<Reader>,
    db: &'a Db,
}

impl Deref for ReadGuard<'_> {
    type Target = Reader;

    fn deref(&self) -> &Reader {
        self.reader.as_ref().expect("present until dropped")
    }
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        let mut idle = self.db.0.idle.lock().unwrap();
        if idle.len() < IDLE_READERS {
            idle.extend(self.reader.take());
        }
    }
}

/// A connection that never writes, with the ordered rowid lists of deep pages it has served;
/// derefs to its connection.
pub struct Reader {
    conn: Connection,
    orders: RefCell<Orders>,
}

/// Rowid lists by query and parameters, all read at one `data_version`.
#[derive(Default)]
struct Orders {
    version: i64,
    lists: HashMap<String, Vec<i64>>,
}

/// Where a list's rows come from: `SELECT {columns} FROM {from}`, and the expression that names
/// a row of its main table (`rowid`, or an alias such as `r.id`).
pub struct Source {
    pub columns: &'static str,
    pub from: &'static str,
    pub rowid: &'static str,
}

impl Source {
    pub fn select(&self) -> String {
        format!("SELECT {} FROM {}", self.columns, self.from)
    }
}

impl Reader {
    /// `conn` must never be written through: the lists it keeps are only renewed when another
    /// connection commits.
    pub fn new(conn: Connection) -> Reader {
        Reader {
            conn,
            orders: RefCell::default(),
        }
    }

    /// At most `limit` rows of `source` from position `offset` on, in the order of `filter_order`
    /// (`[WHERE …] ORDER BY …`, a total order, its parameters `params` numbered from `?1`), each
    /// read by `from_row`; the same rows as `… LIMIT limit OFFSET offset`.
    pub fn page<T>(
        &self,
        source: &Source,
        filter_order: &str,
        params: &[&dyn ToSql],
        (limit, offset): (u32, i64),
        from_row: fn(&Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        if offset < DIRECT_OFFSETS {
            let n = params.len();
            let sql = format!(
                "{} {filter_order} LIMIT ?{} OFFSET ?{}",
                source.select(),
                n + 1,
                n + 2
            );
            let mut all = params.to_vec();
            all.extend([&limit as &dyn ToSql, &offset]);
            let mut stmt = self.conn.prepare_cached(&sql)?;
            return stmt.query_map(&*all, from_row)?.collect();
        }
        // One read transaction: the list and the rows come from the same snapshot, the one
        // `data_version` names.
        let tx = self.conn.unchecked_transaction()?;
        let version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))?;
        let order_sql = format!(
            "SELECT {} FROM {} {filter_order}",
            source.rowid, source.from
        );
        let key = format!(
            "{order_sql}\n{:?}",
            params
                .iter()
                .map(|param| param.to_sql())
                .collect::<rusqlite::Result<Vec<_>>>()?
        );
        let mut orders = self.orders.borrow_mut();
        if orders.version != version {
            *orders = Orders {
                version,
                lists: HashMap::new(),
            };
        }
        if !orders.lists.contains_key(&key) {
            if orders.lists.len() >= KEPT_ORDERS {
                orders.lists.clear();
            }
            let mut stmt = self.conn.prepare_cached(&order_sql)?;
            let ids = stmt
                .query_map(params, |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            orders.lists.insert(key.clone(), ids);
        }
        let ids = &orders.lists[&key];
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(ids.len());
        let end = start.saturating_add(limit as usize).min(ids.len());
        let mut stmt = self.conn.prepare_cached(&format!(
            "{} WHERE {} = ?1",
            source.select(),
            source.rowid
        ))?;
        let rows = ids[start..end]
            .iter()
            .map(|id| stmt.query_row([id], from_row))
            .collect();
        drop(stmt);
        tx.commit()?;
        rows
    }
}

impl Deref for Reader {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

/// How every sandbox table stores a moment: RFC 3339 in UTC with second precision,
/// e.g. `2026-03-04T10:20:30Z`, so text order is time order.
pub fn timestamp(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `value` as the JSON text a column stores; a value that cannot be serialized fails as a
/// conversion error of the statement it was for.
pub fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|err| rusqlite::Error::ToSqlConversionFailure(err.into()))
}

/// A JSON text column that must hold `T`; anything else is a conversion error, not a panic.
pub fn json_column<T: serde::de::DeserializeOwned>(row: &Row, index: usize) -> rusqlite::Result<T> {
    let value: serde_json::Value = row.get(index)?;
    serde_json::from_value(value).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, err.into())
    })
}

/// The names of `table`'s columns, in order; none when there is no such table.
pub fn columns(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM pragma_table_info(?1)")?
        .query_map([table], |row| row.get(0))?
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    const SOURCE: Source = Source {
        columns: "name, kind",
        from: "t",
        rowid: "rowid",
    };
    const FILTER_ORDER: &str = "WHERE (?1 IS NULL OR kind = ?1) ORDER BY at, name";

    /// 2,500 rows whose list order (`at`, then `name`) is not their rowid order.
    fn table() -> (tempfile::TempDir, Db) {
        let dir = tempfile::TempDir::new().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let mut conn = db.write();
        conn.execute_batch("CREATE TABLE t (name TEXT PRIMARY KEY, at TEXT, kind INTEGER)")
            .unwrap();
        let tx = conn.transaction().unwrap();
        for i in 0..2_500_i64 {
            tx.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3)",
                params![format!("n{:05}", i * 7_919 % 2_500), i % 37, i % 3],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        drop(conn);
        (dir, db)
    }

    /// The page as the plain `LIMIT/OFFSET` query answers it.
    fn straight(conn: &Connection, kind: Option<i64>, limit: u32, offset: i64) -> Vec<String> {
        let sql = format!("SELECT name FROM t {FILTER_ORDER} LIMIT ?2 OFFSET ?3");
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows = stmt.query_map(params![kind, limit, offset], |row| row.get(0));
        rows.unwrap().collect::<rusqlite::Result<_>>().unwrap()
    }

    fn assert_pages_match(db: &Db, reader: &Reader) {
        for kind in [None, Some(1)] {
            for offset in [0, 999, 1_000, 1_001, 1_650, 1_666, 2_450, 2_500, 9_999] {
                for limit in [1, 100] {
                    let page: Vec<String> = reader
                        .page(
                            &SOURCE,
                            FILTER_ORDER,
                            params![kind],
                            (limit, offset),
                            |row| row.get(0),
                        )
                        .unwrap();
                    let expected = straight(&db.write(), kind, limit, offset);
                    assert_eq!(
                        page, expected,
                        "kind {kind:?}, offset {offset}, limit {limit}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_page_is_the_limit_offset_page_before_and_after_writes() {
        let (_dir, db) = table();
        let reader = db.read().unwrap();
        assert_pages_match(&db, &reader);
        // A commit of the writer's renews the reader's ordered lists.
        db.write()
            .execute_batch(
                "UPDATE t SET kind = 1 WHERE kind = 2;
                 INSERT INTO t VALUES ('a-first', '0', 1), ('z-last', '99', 1);
                 UPDATE t SET at = '98' WHERE name = 'n01234'",
            )
            .unwrap();
        assert_pages_match(&db, &reader);
    }

    #[test]
    fn readers_run_beside_each_other_and_beside_the_writer() {
        let (_dir, db) = table();
        let writer = db.write();
        let (first, second) = (db.read().unwrap(), db.read().unwrap());
        for reader in [&first, &second] {
            let count: i64 = reader
                .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
                .unwrap();
            assert_eq!(count, 2_500);
        }
        assert!(writer.execute("DELETE FROM t", []).is_ok());
        assert!(
            first.execute("DELETE FROM t", []).is_err(),
            "readers are read-only"
        );
    }

    #[test]
    fn columns_are_listed_in_order_and_none_for_a_missing_table() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (b TEXT, a INTEGER)")
            .unwrap();
        assert_eq!(columns(&conn, "t").unwrap(), ["b", "a"]);
        assert!(columns(&conn, "missing").unwrap().is_empty());
    }

    #[test]
    fn timestamps_drop_fractions_and_use_utc() {
        let at: Timestamp = "2026-03-04T12:20:30.987+02:00".parse().unwrap();
        assert_eq!(timestamp(at), "2026-03-04T10:20:30Z");
    }
}
