//! The sandbox's SQLite file: opening it (WAL, created if missing), sharing one connection between
//! handlers, and the text formats the tables store: timestamps, and JSON in text columns.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use jiff::Timestamp;
use rusqlite::{Connection, Row};

/// One connection behind a mutex: every query is a short indexed lookup, so handlers take turns.
#[derive(Clone)]
pub struct Db(Arc<Mutex<Connection>>);

impl Db {
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening sandbox database {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .context("enabling WAL on the sandbox database")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        Ok(Db(Arc::new(Mutex::new(conn))))
    }

    /// Handlers never panic while holding the lock, so a poisoned mutex is a bug worth crashing on.
    pub fn lock(&self) -> MutexGuard<'_, Connection> {
        self.0.lock().unwrap()
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
