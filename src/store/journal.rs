//! The write journal: every write is recorded *before* it is sent (its intent) and again when its
//! outcome is known, in one SQLite file (`referee.db`, WAL) under the data folder. A crash at any
//! point leaves a consistent record: an intent with no outcome is a write that may or may not have
//! reached the server, and the next start reconciles it by re-reading the server.
//!
//! The audit log (`referee audit`) is a view of this journal. An `audit.jsonl` left by earlier
//! versions is imported line by line, each line exactly once (the byte offset read so far is kept
//! in the `meta` table; the file itself is never changed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde_json::{Map, Value};

use super::audit;

pub const FILE_NAME: &str = "referee.db";

/// The schema this build writes; `schema_version` holds the one a file has (1: the journal;
/// 2: plus the edit form's drafts, see `store::drafts`).
const SCHEMA_VERSION: i64 = 2;
/// How long a call waits for another process (a second console, `referee audit`) holding the lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const META_JSONL_OFFSET: &str = "audit_jsonl_offset";
const META_JSONL_SKIPPED: &str = "audit_jsonl_skipped";

const SCHEMA_V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE entries (
    entry    INTEGER PRIMARY KEY AUTOINCREMENT,
    time     TEXT NOT NULL,
    time_us  INTEGER NOT NULL,
    profile  TEXT NOT NULL,
    backend  TEXT NOT NULL,
    admin_id TEXT,
    why      TEXT NOT NULL,
    kind     TEXT NOT NULL,
    ids      TEXT NOT NULL,
    action   TEXT,
    body     TEXT NOT NULL,
    before   TEXT NOT NULL,
    wanted   TEXT NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX entries_by_time ON entries (time_us, entry);
CREATE INDEX entries_by_profile ON entries (profile, time_us);
CREATE TABLE outcomes (
    entry   INTEGER PRIMARY KEY REFERENCES entries (entry),
    time    TEXT NOT NULL,
    verdict TEXT NOT NULL,
    status  INTEGER,
    after   TEXT NOT NULL,
    message TEXT
);
";

/// Version 2: what is typed in the edit form, per profile and referral (`store::drafts`).
const SCHEMA_V2: &str = "
CREATE TABLE drafts (
    profile  TEXT NOT NULL,
    referral TEXT NOT NULL,
    fields   TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (profile, referral)
);
";

/// A write as it is about to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    pub time: Timestamp,
    pub profile: String,
    pub backend: String,
    pub admin_id: Option<String>,
    /// Why it was written: "form", "quick", "bulk", "triage", "undo", "retry", "resend", "session"
    /// ("imported" for lines of an old audit.jsonl).
    pub why: String,
    /// "write" (a PUT of fields), "action" (a backend batch action on ids), "summary" (no network).
    pub kind: String,
    /// The referrals it touches (one for a write).
    pub ids: Vec<String>,
    /// The backend action's name for kind "action" ("approve", "disable", ...).
    pub action: Option<String>,
    /// Exactly what is sent.
    pub body: Value,
    /// The values it replaces (field key -> value; for an action, id -> watched value).
    pub before: Map<String, Value>,
    /// The values it should leave, same keys as `before`.
    pub wanted: Map<String, Value>,
    /// Free-form: a reason, a triage session's counts.
    pub detail: Value,
}

/// What became of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Applied,
    Already,
    Refused,
    Conflict,
    Failed,
    Unknown,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Applied,
        Verdict::Already,
        Verdict::Refused,
        Verdict::Conflict,
        Verdict::Failed,
        Verdict::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::Already => "already",
            Verdict::Refused => "refused",
            Verdict::Conflict => "conflict",
            Verdict::Failed => "failed",
            Verdict::Unknown => "unknown",
        }
    }

    /// The verdict `as_str` spells `text`, if any.
    pub fn parse(text: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of a write, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub time: Timestamp,
    pub verdict: Verdict,
    /// The HTTP status that decided it, when one came.
    pub status: Option<u16>,
    /// The touched fields as the server holds them afterwards (same keys as `before`), when known.
    pub after: Map<String, Value>,
    /// What went wrong or how it was decided ("re-read after a dropped connection").
    pub message: Option<String>,
}

/// One journal entry: the intent and, once known, its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub entry: i64,
    pub intent: Intent,
    pub outcome: Option<Recorded>,
}

/// What importing `audit.jsonl` did on this open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The file read.
    pub file: PathBuf,
    /// Lines turned into journal entries.
    pub entries: usize,
    /// Lines that could not be read (torn or damaged) and were left out.
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "cannot create the data folder {}: {source}. Make it writable, or set REFEREE_HOME to a folder referee may write to",
        dir.display()
    )]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot open the write journal {}: {source}. referee needs to write in {}: make that folder and the file writable, or set REFEREE_HOME to a folder referee may write to",
        path.display(),
        path.parent().unwrap_or(Path::new(".")).display()
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "cannot read the write journal {}: {source}. If the file is damaged, move it aside (referee starts a new one)",
        path.display()
    )]
    ReadOnly {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(
        "the write journal {} has schema version {found}, newer than this referee understands ({SCHEMA_VERSION}): use a newer referee",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: i64 },
    #[error(
        "the write journal {where_} failed: {source}. Check that the disk is not full and the file is writable"
    )]
    Sql {
        where_: String,
        source: rusqlite::Error,
    },
    #[error("the write journal {where_} has no entry {entry} to record an outcome for")]
    NoSuchEntry { where_: String, entry: i64 },
    #[error(
        "the write journal {where_} holds a damaged entry {entry} ({what}); move the file aside if this keeps happening"
    )]
    Damaged {
        where_: String,
        entry: i64,
        what: String,
    },
    #[error(
        "cannot read the old audit log {}: {source}. Make it readable, or move it aside",
        path.display()
    )]
    Import {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The journal. `Send + Sync`; every call is one short SQLite transaction.
pub struct Journal {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    imported: Option<ImportReport>,
    skipped_total: usize,
    /// Entries a read met that could not be decoded (entry number → what is wrong with it): left
    /// out of every answer, so one damaged row never hides the others, logged once each, and
    /// counted where the journal is shown (`referee audit`, `:journal`).
    damaged: Mutex<BTreeMap<i64, String>>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("imported", &self.imported)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens or creates `<data_dir>/referee.db` (creating the folder), WAL, schema, and imports
    /// the lines of `<data_dir>/audit.jsonl` not imported before (the file is left untouched).
    pub fn open(data_dir: &Path) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(data_dir).map_err(|source| JournalError::CreateDir {
            dir: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(FILE_NAME);
        let open_err = |source| JournalError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, path = %path.display(), "the journal could not switch to WAL");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        let mut journal = Journal {
            conn: Mutex::new(conn),
            path: Some(path.clone()),
            imported: None,
            skipped_total: 0,
            damaged: Mutex::default(),
        };
        journal.migrate().map_err(|e| match e {
            JournalError::Sql { source, .. } => JournalError::Open { path, source },
            other => other,
        })?;
        journal.import_jsonl(&audit::path(data_dir))?;
        Ok(journal)
    }

    /// A journal that lives only in memory (when the data folder cannot be written).
    pub fn in_memory() -> Journal {
        Journal::try_in_memory().unwrap_or_else(|error| {
            // An in-memory SQLite database only fails to open when memory is exhausted.
            panic!("cannot create an in-memory journal: {error}")
        })
    }

    fn try_in_memory() -> Result<Journal, JournalError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_in_memory_with_flags(flags).map_err(sql("in memory"))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sql("in memory"))?;
        let journal = Journal {
            conn: Mutex::new(conn),
            path: None,
            imported: None,
            skipped_total: 0,
            damaged: Mutex::default(),
        };
        journal.migrate()?;
        Ok(journal)
    }

    /// A read-only view for `referee audit`: an in-memory copy of `<data_dir>/referee.db` as it
    /// is now (empty when there is none) plus the `audit.jsonl` lines it has not imported yet.
    /// Nothing on disk is created or changed, so it works on a read-only data folder.
    pub fn open_read_only(data_dir: &Path) -> Result<Journal, JournalError> {
        let mut journal = Journal::try_in_memory()?;
        let path = data_dir.join(FILE_NAME);
        if path.exists() {
            journal.copy_from(&path)?;
        }
        journal.import_jsonl(&audit::path(data_dir))?;
        Ok(journal)
    }

    /// A read-only view of `<data_dir>/audit.jsonl` alone, in memory (when `referee.db` cannot
    /// be read).
    pub fn from_audit_jsonl(data_dir: &Path) -> Result<Journal, JournalError> {
        let mut journal = Journal::try_in_memory()?;
        journal.import_jsonl(&audit::path(data_dir))?;
        Ok(journal)
    }

    /// Where it lives; None in memory (and for a read-only view).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// What this open imported from `audit.jsonl`; None when there was nothing new to read.
    pub fn imported(&self) -> Option<&ImportReport> {
        self.imported.as_ref()
    }

    /// Lines of `audit.jsonl` that could not be read, over every import so far (including a torn
    /// last line still waiting in the file).
    pub fn skipped_import_lines(&self) -> usize {
        self.skipped_total
    }

    /// Records a write before it is sent; returns its entry number.
    pub fn record_intent(&self, intent: &Intent) -> Result<i64, JournalError> {
        let conn = self.lock();
        insert_intent(&conn, intent).map_err(self.sql())
    }

    /// Records what became of entry `entry`. Calling it again for the same entry replaces the
    /// outcome (an `unknown` later resolved to `applied`).
    pub fn record_outcome(&self, entry: i64, outcome: &Recorded) -> Result<(), JournalError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(self.sql())?;
        let exists = tx
            .query_row(
                "SELECT 1 FROM entries WHERE entry = ?1",
                [entry],
                |_| Ok(()),
            )
            .optional()
            .map_err(self.sql())?
            .is_some();
        if !exists {
            return Err(JournalError::NoSuchEntry {
                where_: self.describe(),
                entry,
            });
        }
        upsert_outcome(&tx, entry, outcome).map_err(self.sql())?;
        tx.commit().map_err(self.sql())
    }

    /// Records what re-reading found for a write left open (`unresolved`), unless an outcome
    /// other than `unknown` was recorded meanwhile: the write's own answer (from a process still
    /// sending it) always wins over a re-read. Gives whether it was recorded.
    pub fn settle(&self, entry: i64, outcome: &Recorded) -> Result<bool, JournalError> {
        let conn = self.lock();
        write_outcome(&conn, entry, outcome, "outcomes.verdict = 'unknown'").map_err(self.sql())
    }

    /// Intent and outcome at once (a verification session's summary: nothing goes over the network).
    pub fn record_event(&self, intent: &Intent, outcome: &Recorded) -> Result<i64, JournalError> {
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(self.sql())?;
        let entry = insert_intent(&tx, intent).map_err(self.sql())?;
        upsert_outcome(&tx, entry, outcome).map_err(self.sql())?;
        tx.commit().map_err(self.sql())?;
        Ok(entry)
    }

    /// Intents of this profile with no outcome yet, or whose outcome is `Unknown`, oldest first
    /// (the console was killed or quit mid-write; restart reconciles them). Entries imported from
    /// an old audit.jsonl are history, never reconciled, so they are not listed.
    pub fn unresolved(&self, profile: &str) -> Result<Vec<Stored>, JournalError> {
        let sql = format!(
            "{SELECT} WHERE e.profile = ?1 AND e.why != 'imported'
               AND (o.entry IS NULL OR o.verdict = 'unknown')
             ORDER BY e.time_us, e.entry"
        );
        self.query(&sql, params![profile])
    }

    /// This profile's newest `limit` entries, oldest first (what `:journal` shows), read through
    /// the per-profile index rather than the whole journal.
    pub fn recent(&self, profile: &str, limit: usize) -> Result<Vec<Stored>, JournalError> {
        self.newest(profile, "TRUE", limit)
    }

    /// This profile's newest `limit` entries that may carry a rejection reason (in the body's
    /// metadata or the detail), oldest first.
    pub fn recent_with_reasons(
        &self,
        profile: &str,
        limit: usize,
    ) -> Result<Vec<Stored>, JournalError> {
        // A reason given as text (JSON is stored compact): every FirstPromoter action carries
        // `"reason":null`, which must not crowd the real ones out of the newest `limit`.
        let may_have_reason =
            r#"(e.body LIKE '%"rejection_reason":"%' OR e.detail LIKE '%"reason":"%')"#;
        self.newest(profile, may_have_reason, limit)
    }

    /// The newest `limit` entries of `profile` meeting the SQL condition `also`, oldest first.
    fn newest(&self, profile: &str, also: &str, limit: usize) -> Result<Vec<Stored>, JournalError> {
        let sql = format!(
            "{SELECT} WHERE e.profile = ?1 AND {also} ORDER BY e.time_us DESC, e.entry DESC LIMIT ?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut found = self.query(&sql, params![profile, limit])?;
        found.reverse();
        Ok(found)
    }

    /// Every entry (optionally only those whose intent time is >= since), oldest first.
    pub fn entries(&self, since: Option<Timestamp>) -> Result<Vec<Stored>, JournalError> {
        let sql =
            format!("{SELECT} WHERE ?1 IS NULL OR e.time_us >= ?1 ORDER BY e.time_us, e.entry");
        let mut found = self.query(&sql, params![since.map(|t| t.as_microsecond())])?;
        if let Some(since) = since {
            found.retain(|s| s.intent.time >= since);
        }
        Ok(found)
    }

    fn query(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Stored>, JournalError> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached(sql).map_err(self.sql())?;
        let rows = statement
            .query_map(params, Row::read)
            .map_err(self.sql())?
            .collect::<Result<Vec<Row>, _>>()
            .map_err(self.sql())?;
        drop(statement);
        drop(conn);
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let entry = row.entry;
            match row.decode() {
                Ok(stored) => found.push(stored),
                Err(what) => self.left_out(entry, what),
            }
        }
        Ok(found)
    }

    /// Notes a damaged entry a read left out (and logs it the first time).
    fn left_out(&self, entry: i64, what: String) {
        let mut damaged = self.damaged.lock().unwrap_or_else(|e| e.into_inner());
        damaged.entry(entry).or_insert_with(|| {
            tracing::warn!(entry, %what, journal = %self.describe(), "left out a damaged journal entry");
            what
        });
    }

    /// "1 entry could not be read (damaged) and is left out", for `count` damaged entries.
    pub fn left_out_words(count: usize) -> String {
        match count {
            1 => "1 entry could not be read (damaged) and is left out".into(),
            n => format!("{n} entries could not be read (damaged) and are left out"),
        }
    }

    /// The damaged entries reads have left out so far, as (entry number, what is wrong), in order.
    pub fn damaged(&self) -> Vec<(i64, String)> {
        let damaged = self.damaged.lock().unwrap_or_else(|e| e.into_inner());
        damaged.iter().map(|(e, w)| (*e, w.clone())).collect()
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (transactions roll back
        // on drop), so a poisoned lock is still safe to use.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn describe(&self) -> String {
        match &self.path {
            Some(path) => path.display().to_string(),
            None => "(in memory)".into(),
        }
    }

    pub(super) fn sql(&self) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        move |source| JournalError::Sql {
            where_: self.describe(),
            source,
        }
    }

    /// Creates the schema, or checks a file's version (later versions migrate here, step by step).
    fn migrate(&self) -> Result<(), JournalError> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql())?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            .map_err(self.sql())?;
        let version: Option<i64> = tx
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
            .map_err(self.sql())?;
        // Each step takes a file from the version before it to its own, in this one transaction.
        let steps: [(i64, &str); 2] = [(1, SCHEMA_V1), (2, SCHEMA_V2)];
        match version {
            Some(found) if found > SCHEMA_VERSION => {
                return Err(JournalError::NewerSchema {
                    path: self.path.clone().unwrap_or_default(),
                    found,
                });
            }
            Some(found) if found < 1 => {
                return Err(JournalError::Damaged {
                    where_: self.describe(),
                    entry: 0,
                    what: format!("unknown schema version {found}"),
                });
            }
            found => {
                let from = found.unwrap_or(0);
                for (version, sql) in steps.iter().filter(|(v, _)| *v > from) {
                    tx.execute_batch(sql).map_err(self.sql())?;
                    tx.execute(
                        "INSERT INTO schema_version (version) VALUES (?1)",
                        [version],
                    )
                    .map_err(self.sql())?;
                }
            }
        }
        tx.commit().map_err(self.sql())
    }

    /// Copies the journal file at `path` into this (in-memory) journal without writing to it.
    fn copy_from(&self, path: &Path) -> Result<(), JournalError> {
        let read_err = |source| JournalError::ReadOnly {
            path: path.to_path_buf(),
            source,
        };
        let conn = self.lock();
        let uri = sqlite_uri(path);
        // `mode=ro` sees a WAL file's latest commits; in a read-only folder where SQLite cannot
        // create the `-shm` file it fails, and `immutable=1` reads the main file as it is.
        let mut last = None;
        for options in ["mode=ro", "immutable=1"] {
            let attempt = (|| {
                conn.execute("ATTACH DATABASE ?1 AS disk", [format!("{uri}?{options}")])?;
                let copied = copy_tables(&conn);
                let _ = conn.execute_batch("DETACH DATABASE disk");
                copied
            })();
            match attempt {
                Ok(Some(found)) if found > SCHEMA_VERSION => {
                    return Err(JournalError::NewerSchema {
                        path: path.to_path_buf(),
                        found,
                    });
                }
                Ok(_) => return Ok(()),
                Err(error) => last = Some(error),
            }
        }
        Err(read_err(last.unwrap_or(rusqlite::Error::InvalidQuery)))
    }

    /// Imports the lines of `file` past the offset already imported, in one transaction with the
    /// new offset, so each line is imported exactly once even if two opens race or one crashes.
    fn import_jsonl(&mut self, file: &Path) -> Result<(), JournalError> {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                Vec::new()
            }
            Err(source) => {
                return Err(JournalError::Import {
                    path: file.to_path_buf(),
                    source,
                });
            }
        };
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        let where_ = match &self.path {
            Some(path) => path.display().to_string(),
            None => "(in memory)".into(),
        };
        let sql = |source| JournalError::Sql {
            where_: where_.clone(),
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql)?;
        let offset = meta_number(&tx, META_JSONL_OFFSET).map_err(sql)?;
        let skipped_before = meta_number(&tx, META_JSONL_SKIPPED).map_err(sql)?;
        self.skipped_total = skipped_before;
        if bytes.len() < offset {
            tracing::warn!(file = %file.display(), offset, len = bytes.len(),
                "audit.jsonl is shorter than what was imported from it; not importing it again");
            return Ok(());
        }
        let parsed = parse_jsonl(&bytes[offset..], offset);
        if parsed.entries.is_empty() && parsed.skipped == 0 && parsed.pending_skipped == 0 {
            return Ok(());
        }
        for (intent, outcome) in &parsed.entries {
            let entry = insert_intent(&tx, intent).map_err(sql)?;
            upsert_outcome(&tx, entry, outcome).map_err(sql)?;
        }
        set_meta(&tx, META_JSONL_OFFSET, offset + parsed.consumed).map_err(sql)?;
        set_meta(&tx, META_JSONL_SKIPPED, skipped_before + parsed.skipped).map_err(sql)?;
        tx.commit().map_err(sql)?;
        drop(conn);
        self.skipped_total = skipped_before + parsed.skipped + parsed.pending_skipped;
        self.imported = Some(ImportReport {
            file: file.to_path_buf(),
            entries: parsed.entries.len(),
            skipped: parsed.skipped + parsed.pending_skipped,
        });
        Ok(())
    }
}

fn sql(where_: &str) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
    move |source| JournalError::Sql {
        where_: where_.to_string(),
        source,
    }
}

/// A `file:` URI for SQLite, with the characters it treats specially escaped.
fn sqlite_uri(path: &Path) -> String {
    let text = path.display().to_string();
    let mut uri = String::from("file:");
    for c in text.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri
}

/// Copies the attached `disk` database into `main`; returns its schema version.
fn copy_tables(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    let version: Option<i64> =
        conn.query_row("SELECT MAX(version) FROM disk.schema_version", [], |r| {
            r.get(0)
        })?;
    if version.is_some_and(|v| v > SCHEMA_VERSION) {
        return Ok(version);
    }
    conn.execute_batch(
        "BEGIN;
         INSERT INTO main.meta SELECT * FROM disk.meta;
         INSERT INTO main.entries SELECT * FROM disk.entries;
         INSERT INTO main.outcomes SELECT * FROM disk.outcomes;
         COMMIT;",
    )
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })?;
    Ok(version)
}

fn meta_number(conn: &Connection, key: &str) -> rusqlite::Result<usize> {
    let value: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn set_meta(conn: &Connection, key: &str, value: usize) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value.to_string()],
    )
    .map(|_| ())
}

fn json_text(value: &Value) -> String {
    value.to_string()
}

fn map_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

fn insert_intent(conn: &Connection, intent: &Intent) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO entries (time, time_us, profile, backend, admin_id, why, kind, ids, action,
                              body, before, wanted, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            intent.time.to_string(),
            intent.time.as_microsecond(),
            intent.profile,
            intent.backend,
            intent.admin_id,
            intent.why,
            intent.kind,
            json_text(&Value::from(intent.ids.clone())),
            intent.action,
            json_text(&intent.body),
            map_text(&intent.before),
            map_text(&intent.wanted),
            json_text(&intent.detail),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn upsert_outcome(conn: &Connection, entry: i64, outcome: &Recorded) -> rusqlite::Result<()> {
    write_outcome(conn, entry, outcome, "TRUE").map(|_| ())
}

/// Records `outcome` for `entry`; one already recorded is replaced only when the SQL condition
/// `replace` holds for it. Gives whether the outcome was recorded.
fn write_outcome(
    conn: &Connection,
    entry: i64,
    outcome: &Recorded,
    replace: &str,
) -> rusqlite::Result<bool> {
    let sql = format!(
        "INSERT INTO outcomes (entry, time, verdict, status, after, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (entry) DO UPDATE SET time = excluded.time, verdict = excluded.verdict,
            status = excluded.status, after = excluded.after, message = excluded.message
         WHERE {replace}"
    );
    conn.execute(
        &sql,
        params![
            entry,
            outcome.time.to_string(),
            outcome.verdict.as_str(),
            outcome.status,
            map_text(&outcome.after),
            outcome.message,
        ],
    )
    .map(|changed| changed > 0)
}

const SELECT: &str =
    "SELECT e.entry, e.time, e.profile, e.backend, e.admin_id, e.why, e.kind, e.ids,
        e.action, e.body, e.before, e.wanted, e.detail,
        o.entry, o.time, o.verdict, o.status, o.after, o.message
    FROM entries e LEFT JOIN outcomes o ON o.entry = e.entry";

/// An outcome's time, verdict, status, after and message as SQLite holds them.
type OutcomeRow = (String, String, Option<u16>, String, Option<String>);

/// A row as SQLite holds it; decoded separately so a damaged value is an error naming the entry.
struct Row {
    entry: i64,
    text: [String; 11],
    admin_id: Option<String>,
    action: Option<String>,
    outcome: Option<OutcomeRow>,
}

impl Row {
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
        let outcome_entry: Option<i64> = r.get(13)?;
        let outcome = match outcome_entry {
            Some(_) => Some((r.get(14)?, r.get(15)?, r.get(16)?, r.get(17)?, r.get(18)?)),
            None => None,
        };
        Ok(Row {
            entry: r.get(0)?,
            text: [
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
                String::new(),
            ],
            admin_id: r.get(4)?,
            action: r.get(8)?,
            outcome,
        })
    }

    fn decode(self) -> Result<Stored, String> {
        let [
            time,
            profile,
            backend,
            why,
            kind,
            ids,
            body,
            before,
            wanted,
            detail,
            _,
        ] = self.text;
        let timestamp = |text: &str, what: &str| {
            text.parse::<Timestamp>()
                .map_err(|e| format!("{what} `{text}`: {e}"))
        };
        let value = |text: &str, what: &str| {
            serde_json::from_str::<Value>(text).map_err(|e| format!("{what}: {e}"))
        };
        let object = |text: &str, what: &str| match value(text, what)? {
            Value::Object(map) => Ok(map),
            _ => Err(format!("{what} is not a JSON object")),
        };
        let ids: Vec<String> =
            serde_json::from_str(&ids).map_err(|e| format!("ids are not a list: {e}"))?;
        let intent = Intent {
            time: timestamp(&time, "time")?,
            profile,
            backend,
            admin_id: self.admin_id,
            why,
            kind,
            ids,
            action: self.action,
            body: value(&body, "body")?,
            before: object(&before, "before")?,
            wanted: object(&wanted, "wanted")?,
            detail: value(&detail, "detail")?,
        };
        let outcome = match self.outcome {
            None => None,
            Some((time, verdict, status, after, message)) => Some(Recorded {
                time: timestamp(&time, "outcome time")?,
                verdict: Verdict::parse(&verdict)
                    .ok_or_else(|| format!("unknown verdict `{verdict}`"))?,
                status,
                after: object(&after, "after")?,
                message,
            }),
        };
        Ok(Stored {
            entry: self.entry,
            intent,
            outcome,
        })
    }
}

struct Parsed {
    entries: Vec<(Intent, Recorded)>,
    /// Bytes read through (complete lines only, plus a last line that parsed without its newline).
    consumed: usize,
    /// Complete lines that did not parse.
    skipped: usize,
    /// A last line with no newline that did not parse (torn; it stays unconsumed).
    pending_skipped: usize,
}

fn parse_jsonl(bytes: &[u8], start: usize) -> Parsed {
    let mut parsed = Parsed {
        entries: Vec::new(),
        consumed: 0,
        skipped: 0,
        pending_skipped: 0,
    };
    let mut at = 0;
    while at < bytes.len() {
        let (line, next, complete) = match bytes[at..].iter().position(|&b| b == b'\n') {
            Some(n) => (&bytes[at..at + n], at + n + 1, true),
            None => (&bytes[at..], bytes.len(), false),
        };
        let text = String::from_utf8_lossy(line);
        let text = text.trim();
        if text.is_empty() {
            if complete {
                parsed.consumed = next;
            }
        } else {
            match serde_json::from_str::<audit::Entry>(text) {
                Ok(old) => {
                    parsed.entries.push(from_audit_entry(old));
                    parsed.consumed = next;
                }
                Err(error) if complete => {
                    tracing::warn!(byte = start + at, %error, "skipping an unreadable audit.jsonl line");
                    parsed.skipped += 1;
                    parsed.consumed = next;
                }
                Err(error) => {
                    tracing::warn!(byte = start + at, %error, "skipping a torn last audit.jsonl line");
                    parsed.pending_skipped += 1;
                }
            }
        }
        at = next;
    }
    parsed
}

/// An old `audit.jsonl` line as a journal entry: `why` is "imported", the verdict follows the
/// HTTP status (2xx applied, 4xx refused, 5xx failed; none recorded: unknown).
pub fn from_audit_entry(old: audit::Entry) -> (Intent, Recorded) {
    let time = old
        .time
        .parse::<Timestamp>()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let mut detail = match old.detail {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => Map::from_iter([("detail".to_string(), other)]),
    };
    let (kind, mut ids, mut action) = match old.kind.as_str() {
        "batch" => ("action", Vec::new(), None),
        "triage_summary" => ("summary", Vec::new(), None),
        "write" => ("write", Vec::new(), None),
        other => {
            detail.insert("old_kind".into(), Value::from(other));
            ("write", Vec::new(), None)
        }
    };
    if kind == "action" {
        if let Some(Value::Array(list)) = detail.remove("ids") {
            ids = list
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
        }
        if let Some(Value::String(name)) = detail.remove("action") {
            action = Some(name);
        }
    }
    if let Some(id) = old.id {
        ids.insert(0, id);
    }
    if old.undo {
        detail.insert("undo".into(), Value::Bool(true));
    }
    if old.time.parse::<Timestamp>().is_err() {
        detail.insert("old_time".into(), Value::from(old.time.clone()));
    }
    let wanted = match &old.body {
        Value::Object(body) => old
            .before
            .keys()
            .filter_map(|k| body.get(k).map(|v| (k.clone(), v.clone())))
            .collect(),
        _ => Map::new(),
    };
    let (verdict, message) = match (kind, old.status) {
        (_, Some(s)) if (200..300).contains(&s) => (Verdict::Applied, None),
        (_, Some(s)) if (400..500).contains(&s) => (Verdict::Refused, None),
        (_, Some(_)) => (Verdict::Failed, None),
        ("summary", None) => (Verdict::Applied, None),
        (_, None) => (
            Verdict::Unknown,
            Some("imported from audit.jsonl with no HTTP status".to_string()),
        ),
    };
    let intent = Intent {
        time,
        profile: old.profile,
        backend: old.backend,
        admin_id: old.admin_id,
        why: "imported".into(),
        kind: kind.into(),
        ids,
        action,
        body: old.body,
        before: old.before,
        wanted,
        detail: if detail.is_empty() {
            Value::Null
        } else {
            Value::Object(detail)
        },
    };
    let outcome = Recorded {
        time,
        verdict,
        status: old.status,
        after: old.after,
        message,
    };
    (intent, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn intent(profile: &str, id: &str, time: &str) -> Intent {
        Intent {
            time: time.parse().unwrap(),
            profile: profile.into(),
            backend: "vantio".into(),
            admin_id: Some("admin_1".into()),
            why: "quick".into(),
            kind: "write".into(),
            ids: vec![id.into()],
            action: None,
            body: json!({"status": "verified"}),
            before: map(json!({"status": "converted"})),
            wanted: map(json!({"status": "verified"})),
            detail: Value::Null,
        }
    }

    fn outcome(verdict: Verdict, time: &str) -> Recorded {
        Recorded {
            time: time.parse().unwrap(),
            verdict,
            status: Some(200),
            after: map(json!({"status": "verified"})),
            message: None,
        }
    }

    fn old_line(id: &str, time: &str, status: u16) -> String {
        let mut entry = audit::Entry::new(time.into(), "demo", "vantio", Some("admin_1"), "write");
        entry.id = Some(id.into());
        entry.before = map(json!({"status": "converted"}));
        entry.after = map(json!({"status": "verified"}));
        entry.body = json!({"status": "verified"});
        entry.status = Some(status);
        serde_json::to_string(&entry).unwrap() + "\n"
    }

    #[test]
    fn journal_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Journal>();
    }

    #[test]
    fn intent_then_outcome_round_trips_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.path(), Some(dir.path().join(FILE_NAME).as_path()));
        let mut wrote = intent("demo", "ref_1", "2026-11-21T10:00:00.123456789Z");
        wrote.detail = json!({"reason": "duplicate"});
        let entry = journal.record_intent(&wrote).unwrap();
        let done = outcome(Verdict::Applied, "2026-11-21T10:00:01Z");
        journal.record_outcome(entry, &done).unwrap();
        drop(journal);
        let journal = Journal::open(dir.path()).unwrap();
        let all = journal.entries(None).unwrap();
        assert_eq!(
            all,
            vec![Stored {
                entry,
                intent: wrote,
                outcome: Some(done)
            }]
        );
        assert!(matches!(
            journal.record_outcome(
                entry + 100,
                &outcome(Verdict::Applied, "2026-11-21T10:00:01Z")
            ),
            Err(JournalError::NoSuchEntry { .. })
        ));
    }

    #[test]
    fn unresolved_lists_intents_without_a_settled_outcome() {
        let journal = Journal::in_memory();
        assert_eq!(journal.path(), None);
        let entry = journal
            .record_intent(&intent("demo", "ref_1", "2026-11-21T10:00:00Z"))
            .unwrap();
        let ids = |j: &Journal| -> Vec<i64> {
            j.unresolved("demo")
                .unwrap()
                .into_iter()
                .map(|s| s.entry)
                .collect()
        };
        assert_eq!(ids(&journal), vec![entry]);
        journal
            .record_outcome(entry, &outcome(Verdict::Unknown, "2026-11-21T10:00:05Z"))
            .unwrap();
        assert_eq!(ids(&journal), vec![entry], "unknown is still unresolved");
        journal
            .record_outcome(entry, &outcome(Verdict::Applied, "2026-11-21T10:01:00Z"))
            .unwrap();
        assert_eq!(ids(&journal), Vec::<i64>::new());
        journal
            .record_outcome(entry, &outcome(Verdict::Unknown, "2026-11-21T10:02:00Z"))
            .unwrap();
        assert_eq!(ids(&journal), vec![entry], "shows again once unknown");
    }

    #[test]
    fn a_damaged_entry_is_left_out_and_counted_and_the_others_are_read() {
        let journal = Journal::in_memory();
        let entries: Vec<i64> = ["ref_1", "ref_2", "ref_3", "ref_4"]
            .iter()
            .map(|id| {
                journal
                    .record_intent(&intent("demo", id, "2026-11-21T10:00:00Z"))
                    .unwrap()
            })
            .collect();
        journal
            .record_outcome(
                entries[0],
                &outcome(Verdict::Applied, "2026-11-21T10:00:01Z"),
            )
            .unwrap();
        journal
            .record_outcome(
                entries[2],
                &outcome(Verdict::Applied, "2026-11-21T10:00:01Z"),
            )
            .unwrap();
        {
            let conn = journal.lock();
            // A torn body, and an outcome whose verdict this build does not know.
            conn.execute(
                "UPDATE entries SET body = '{\"status\":\"verif' WHERE entry = ?1",
                [entries[1]],
            )
            .unwrap();
            conn.execute(
                "UPDATE outcomes SET verdict = 'maybe' WHERE entry = ?1",
                [entries[2]],
            )
            .unwrap();
        }
        let ids = |found: Vec<Stored>| -> Vec<i64> { found.iter().map(|s| s.entry).collect() };
        assert_eq!(
            ids(journal.entries(None).unwrap()),
            [entries[0], entries[3]]
        );
        assert_eq!(
            ids(journal.recent("demo", 10).unwrap()),
            [entries[0], entries[3]]
        );
        assert_eq!(ids(journal.unresolved("demo").unwrap()), [entries[3]]);
        let damaged = journal.damaged();
        assert_eq!(
            damaged.iter().map(|(e, _)| *e).collect::<Vec<_>>(),
            [entries[1], entries[2]],
            "each counted once however often it is read"
        );
        assert!(damaged[0].1.starts_with("body: EOF"), "{damaged:?}");
        assert_eq!(damaged[1].1, "unknown verdict `maybe`");
        assert_eq!(
            Journal::left_out_words(2),
            "2 entries could not be read (damaged) and are left out"
        );
    }

    #[test]
    fn a_re_read_never_replaces_an_outcome_the_write_recorded() {
        let journal = Journal::in_memory();
        let entry = journal
            .record_intent(&intent("demo", "ref_1", "2026-11-21T10:00:00Z"))
            .unwrap();
        let verdict = |j: &Journal| {
            j.entries(None).unwrap()[0]
                .outcome
                .clone()
                .map(|o| o.verdict)
        };
        let not_sent = outcome(Verdict::Failed, "2026-11-21T10:00:05Z");
        assert!(
            journal.settle(entry, &not_sent).unwrap(),
            "nothing recorded yet"
        );
        assert_eq!(verdict(&journal), Some(Verdict::Failed));
        // The writer's answer comes after the re-read: it wins.
        let applied = outcome(Verdict::Applied, "2026-11-21T10:00:06Z");
        journal.record_outcome(entry, &applied).unwrap();
        assert!(!journal.settle(entry, &not_sent).unwrap(), "kept");
        assert_eq!(verdict(&journal), Some(Verdict::Applied));
        let unknown = outcome(Verdict::Unknown, "2026-11-21T10:00:07Z");
        journal.record_outcome(entry, &unknown).unwrap();
        assert!(
            journal.settle(entry, &applied).unwrap(),
            "an unknown is settled"
        );
        assert_eq!(verdict(&journal), Some(Verdict::Applied));
    }

    #[test]
    fn recording_an_outcome_again_replaces_it() {
        let journal = Journal::in_memory();
        let entry = journal
            .record_intent(&intent("demo", "ref_1", "2026-11-21T10:00:00Z"))
            .unwrap();
        let mut unknown = outcome(Verdict::Unknown, "2026-11-21T10:00:05Z");
        unknown.status = None;
        unknown.message = Some("connection dropped".into());
        journal.record_outcome(entry, &unknown).unwrap();
        let mut applied = outcome(Verdict::Applied, "2026-11-21T10:03:00Z");
        applied.message = Some("re-read after a dropped connection".into());
        journal.record_outcome(entry, &applied).unwrap();
        let all = journal.entries(None).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].outcome, Some(applied));
    }

    #[test]
    fn unresolved_is_per_profile_and_oldest_first() {
        let journal = Journal::in_memory();
        let late = journal
            .record_intent(&intent("demo", "ref_2", "2026-11-21T12:00:00Z"))
            .unwrap();
        let other = journal
            .record_intent(&intent("production", "ref_9", "2026-11-21T11:00:00Z"))
            .unwrap();
        let early = journal
            .record_intent(&intent("demo", "ref_1", "2026-11-21T10:00:00Z"))
            .unwrap();
        let of = |profile: &str| -> Vec<i64> {
            journal
                .unresolved(profile)
                .unwrap()
                .into_iter()
                .map(|s| s.entry)
                .collect()
        };
        assert_eq!(of("demo"), vec![early, late]);
        assert_eq!(of("production"), vec![other]);
        assert_eq!(of("nobody"), Vec::<i64>::new());
    }

    #[test]
    fn recent_is_the_newest_of_one_profile_oldest_first() {
        let journal = Journal::in_memory();
        for (profile, id, time) in [
            ("demo", "ref_1", "2026-11-21T10:00:00Z"),
            ("demo", "ref_2", "2026-11-21T12:00:00Z"),
            ("production", "ref_9", "2026-11-21T13:00:00Z"),
            ("demo", "ref_3", "2026-11-21T11:00:00Z"),
        ] {
            journal.record_intent(&intent(profile, id, time)).unwrap();
        }
        let mut rejected = intent("demo", "ref_4", "2026-11-21T09:00:00Z");
        rejected.detail = json!({"reason": "spam"});
        journal.record_intent(&rejected).unwrap();
        // A FirstPromoter approve carries no reason.
        let mut approved = intent("demo", "ref_5", "2026-11-21T12:30:00Z");
        approved.detail = json!({"watched": "state", "reason": null});
        journal.record_intent(&approved).unwrap();
        let ids = |found: Vec<Stored>| -> Vec<String> {
            found.into_iter().map(|s| s.intent.ids[0].clone()).collect()
        };
        assert_eq!(ids(journal.recent("demo", 2).unwrap()), ["ref_2", "ref_5"]);
        assert_eq!(
            ids(journal.recent("demo", 10).unwrap()),
            ["ref_4", "ref_1", "ref_3", "ref_2", "ref_5"]
        );
        assert_eq!(ids(journal.recent("production", 10).unwrap()), ["ref_9"]);
        assert_eq!(
            ids(journal.recent_with_reasons("demo", 10).unwrap()),
            ["ref_4"],
            "only entries that may name a reason"
        );
    }

    #[test]
    fn since_keeps_entries_at_or_after_it() {
        let journal = Journal::in_memory();
        for (id, time) in [
            ("ref_1", "2026-11-21T09:59:59.999999999Z"),
            ("ref_2", "2026-11-21T10:00:00Z"),
            ("ref_3", "2026-11-21T11:00:00Z"),
        ] {
            journal.record_intent(&intent("demo", id, time)).unwrap();
        }
        let since = |t: &str| -> Vec<String> {
            journal
                .entries(Some(t.parse().unwrap()))
                .unwrap()
                .into_iter()
                .map(|s| s.intent.ids[0].clone())
                .collect()
        };
        assert_eq!(since("2026-11-21T10:00:00Z"), vec!["ref_2", "ref_3"]);
        assert_eq!(since("2026-11-21T10:00:00.000000001Z"), vec!["ref_3"]);
        assert_eq!(journal.entries(None).unwrap().len(), 3);
    }

    #[test]
    fn record_event_stores_intent_and_outcome_together() {
        let journal = Journal::in_memory();
        let mut summary = intent("demo", "ref_1", "2026-11-21T10:00:00Z");
        summary.kind = "summary".into();
        summary.why = "session".into();
        summary.ids.clear();
        let entry = journal
            .record_event(&summary, &outcome(Verdict::Applied, "2026-11-21T10:00:00Z"))
            .unwrap();
        let all = journal.entries(None).unwrap();
        assert_eq!(all[0].entry, entry);
        assert!(all[0].outcome.is_some());
        assert!(journal.unresolved("demo").unwrap().is_empty());
    }

    #[test]
    fn audit_jsonl_is_imported_once_and_a_torn_line_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let file = audit::path(dir.path());
        let text = old_line("ref_1", "2026-11-21T10:00:00Z", 200)
            + &old_line("ref_2", "2026-11-21T10:01:00Z", 422)
            + "{\"time\": \"2026-11-21T10:0";
        std::fs::write(&file, &text).unwrap();

        let journal = Journal::open(dir.path()).unwrap();
        let report = journal.imported().unwrap();
        assert_eq!((report.entries, report.skipped), (2, 1));
        assert_eq!(journal.skipped_import_lines(), 1);
        let all = journal.entries(None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].intent.why, "imported");
        assert_eq!(all[0].intent.ids, vec!["ref_1"]);
        assert_eq!(all[0].outcome.as_ref().unwrap().verdict, Verdict::Applied);
        assert_eq!(all[1].outcome.as_ref().unwrap().verdict, Verdict::Refused);
        assert!(
            journal.unresolved("demo").unwrap().is_empty(),
            "history is not reconciled"
        );
        drop(journal);

        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.entries(None).unwrap().len(), 2, "not doubled");
        assert_eq!(journal.imported().map(|r| r.entries), Some(0));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            text,
            "file untouched"
        );
    }

    #[test]
    fn lines_appended_after_the_import_are_imported_later_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = audit::path(dir.path());
        std::fs::write(&file, old_line("ref_1", "2026-11-21T10:00:00Z", 200)).unwrap();
        drop(Journal::open(dir.path()).unwrap());
        let mut text = std::fs::read_to_string(&file).unwrap();
        text += &old_line("ref_2", "2026-11-21T10:01:00Z", 500);
        std::fs::write(&file, text).unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        assert_eq!(journal.imported().unwrap().entries, 1);
        let all = journal.entries(None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].outcome.as_ref().unwrap().verdict, Verdict::Failed);
        drop(journal);
        assert_eq!(
            Journal::open(dir.path())
                .unwrap()
                .entries(None)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn old_batches_and_summaries_map_to_actions_and_summaries() {
        let mut batch = audit::Entry::new(
            "2026-11-21T10:00:00Z".into(),
            "fp",
            "firstpromoter",
            None,
            "batch",
        );
        batch.status = Some(202);
        batch.detail = json!({"action": "approve", "ids": ["1", "2"], "reason": null});
        let (intent, outcome) = from_audit_entry(batch);
        assert_eq!(
            (intent.kind.as_str(), intent.ids, intent.action),
            (
                "action",
                vec!["1".to_string(), "2".to_string()],
                Some("approve".to_string())
            )
        );
        assert_eq!(outcome.verdict, Verdict::Applied);
        let summary = audit::Entry::new(
            "2026-11-21T10:00:00Z".into(),
            "fp",
            "vantio",
            None,
            "triage_summary",
        );
        let (intent, outcome) = from_audit_entry(summary);
        assert_eq!(
            (intent.kind.as_str(), outcome.verdict),
            ("summary", Verdict::Applied)
        );
    }

    #[test]
    fn a_crash_between_intent_and_outcome_leaves_the_intent_unresolved() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let entry = journal
            .record_intent(&intent("demo", "ref_1", "2026-11-21T10:00:00Z"))
            .unwrap();
        // The process dies here: no outcome, no orderly close.
        std::mem::forget(journal);
        let journal = Journal::open(dir.path()).unwrap();
        let open: Vec<i64> = journal
            .unresolved("demo")
            .unwrap()
            .into_iter()
            .map(|s| s.entry)
            .collect();
        assert_eq!(open, vec![entry]);
        assert_eq!(journal.entries(None).unwrap()[0].outcome, None);
    }

    #[test]
    fn a_read_only_view_copies_the_file_without_changing_it() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal
            .record_intent(&intent("demo", "ref_1", "2026-11-21T10:00:00Z"))
            .unwrap();
        std::fs::write(
            audit::path(dir.path()),
            old_line("ref_0", "2026-11-20T10:00:00Z", 200),
        )
        .unwrap();
        let view = Journal::open_read_only(dir.path()).unwrap();
        let all = view.entries(None).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].intent.ids, vec!["ref_0"], "oldest first");
        assert_eq!(journal.entries(None).unwrap().len(), 1, "file unchanged");
    }

    #[test]
    fn an_uncreatable_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let error = Journal::open(&blocker.join("data"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("data folder") && error.contains("file"),
            "{error}"
        );
        assert!(error.contains("REFEREE_HOME"), "{error}");
    }

    #[test]
    fn verdicts_spell_and_parse() {
        for verdict in Verdict::ALL {
            assert_eq!(Verdict::parse(verdict.as_str()), Some(verdict));
        }
        assert_eq!(Verdict::parse("maybe"), None);
    }
}
