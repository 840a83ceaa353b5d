//! The audit log, a view of the write journal: `render` prints journal entries for `referee audit`.
//! What a server sent is printed safely (`text_safety`): control and format characters are shown as
//! `⟨U+202E⟩` in the table and CSV and escaped in JSON, and no CSV cell starts a formula.
//!
//! Also the line format of the old log this view replaces, `audit.jsonl` (`Entry`): the journal
//! imports those lines once (see `journal::from_audit_entry`); nothing writes them any more.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::journal::{self, Journal, JournalError, Stored};
use crate::domain::filter::{AgeError, MAX_AGE_DAYS, age};
use crate::text_safety::{csv_cell, escape_json, visible};

pub const FILE_NAME: &str = "audit.jsonl";

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339 time the answer came back.
    pub time: String,
    pub profile: String,
    pub backend: String,
    /// `write`, `batch` or `triage_summary`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_id: Option<String>,
    /// The touched fields before the write, as loaded.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub before: Map<String, Value>,
    /// The touched fields as the server returned them (or as sent, when it refused).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub after: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub body: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default)]
    pub undo: bool,
    /// Free-form details: a triage session's counts, a disable reason.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub detail: Value,
}

impl Entry {
    /// An entry of `kind` at `time` with who wrote it; the caller fills in what happened.
    pub fn new(
        time: String,
        profile: &str,
        backend: &str,
        admin_id: Option<&str>,
        kind: &str,
    ) -> Entry {
        Entry {
            time,
            profile: profile.to_string(),
            backend: backend.to_string(),
            kind: kind.to_string(),
            id: None,
            admin_id: admin_id.map(str::to_string),
            before: Map::new(),
            after: Map::new(),
            body: Value::Null,
            status: None,
            undo: false,
            detail: Value::Null,
        }
    }
}

/// `--since`'s window: an age as the filters write them (`90s`, `15m`, `2h`, `3d`, `2w`).
pub fn parse_since(text: &str) -> Result<jiff::SignedDuration, String> {
    let text = text.trim();
    age(text).map_err(|why| match why {
        AgeError::NotAnAge => format!("`{text}` is not a duration: use 90s, 15m, 2h, 3d or 2w"),
        AgeError::TooLong => {
            format!("`{text}` is out of range: the longest window is {MAX_AGE_DAYS}d")
        }
    })
}

/// The earliest time `--since text` keeps, counted back from `now`.
pub fn cutoff(text: &str, now: jiff::Timestamp) -> Result<jiff::Timestamp, String> {
    let window = parse_since(text)?;
    let out_of_range = || {
        format!(
            "`{}` is out of range: it reaches before year -9999",
            text.trim()
        )
    };
    now.checked_sub(window).map_err(|_| out_of_range())
}

/// How `referee audit` prints entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading.
    Table,
    /// One JSON array of entries.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated, with a header row.
    Csv,
}

const HEADER: [&str; 12] = [
    "time", "profile", "backend", "why", "kind", "ids", "action", "verdict", "status", "before",
    "after", "message",
];

/// An entry as one JSON object: the intent's fields, its entry number, and `outcome` (null while
/// the write is in flight).
pub fn to_json(stored: &Stored) -> Value {
    let intent = &stored.intent;
    let outcome = match &stored.outcome {
        None => Value::Null,
        Some(o) => json!({
            "time": o.time.to_string(),
            "verdict": o.verdict.as_str(),
            "status": o.status,
            "after": o.after,
            "message": o.message,
        }),
    };
    json!({
        "entry": stored.entry,
        "time": intent.time.to_string(),
        "profile": intent.profile,
        "backend": intent.backend,
        "admin_id": intent.admin_id,
        "why": intent.why,
        "kind": intent.kind,
        "ids": intent.ids,
        "action": intent.action,
        "body": intent.body,
        "before": intent.before,
        "wanted": intent.wanted,
        "detail": intent.detail,
        "outcome": outcome,
    })
}

/// A value as one line of JSON, its hidden characters escaped.
fn json_text(value: &Value) -> String {
    escape_json(&value.to_string()).into_owned()
}

fn compact(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        String::new()
    } else {
        json_text(&Value::Object(map.clone()))
    }
}

/// The table and CSV columns of an entry; `all_ids` lists every id (CSV), else the first few.
fn columns(stored: &Stored, all_ids: bool) -> [String; 12] {
    let intent = &stored.intent;
    let outcome = stored.outcome.as_ref();
    const SHOWN_IDS: usize = 3;
    let ids = if all_ids || intent.ids.len() <= SHOWN_IDS {
        intent.ids.join(" ")
    } else {
        format!(
            "{} (+{})",
            intent.ids[..SHOWN_IDS].join(" "),
            intent.ids.len() - SHOWN_IDS
        )
    };
    let time = intent
        .time
        .round(jiff::Unit::Second)
        .unwrap_or(intent.time)
        .to_string();
    let message = [
        outcome.and_then(|o| o.message.clone()).unwrap_or_default(),
        if intent.detail.is_null() {
            String::new()
        } else {
            json_text(&intent.detail)
        },
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("; ");
    [
        time,
        intent.profile.clone(),
        intent.backend.clone(),
        intent.why.clone(),
        intent.kind.clone(),
        ids,
        intent.action.clone().unwrap_or_default(),
        outcome.map_or("in flight".into(), |o| o.verdict.as_str().to_string()),
        outcome
            .and_then(|o| o.status)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        compact(&intent.before),
        outcome.map(|o| compact(&o.after)).unwrap_or_default(),
        message,
    ]
}

/// The entries in the chosen format, in the order given (oldest first from the journal).
pub fn render(entries: &[Stored], format: Format) -> Result<String, String> {
    match format {
        Format::Json => {
            let all: Vec<Value> = entries.iter().map(to_json).collect();
            serde_json::to_string_pretty(&all)
                .map(|s| escape_json(&s).into_owned() + "\n")
                .map_err(|e| e.to_string())
        }
        Format::Jsonl => Ok(entries
            .iter()
            .map(|e| json_text(&to_json(e)) + "\n")
            .collect()),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(HEADER).map_err(|e| e.to_string())?;
            for entry in entries {
                let cells = columns(entry, true);
                writer
                    .write_record(cells.iter().map(|cell| csv_cell(cell).into_owned()))
                    .map_err(|e| e.to_string())?;
            }
            let bytes = writer.into_inner().map_err(|e| e.to_string())?;
            String::from_utf8(bytes).map_err(|e| e.to_string())
        }
        Format::Table => Ok(table(entries)),
    }
}

fn table(entries: &[Stored]) -> String {
    // Hidden characters shown as `⟨U+…⟩`, so a cell never spans lines or moves the cursor either.
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            columns(e, false)
                .iter()
                .map(|cell| visible(cell).into_owned())
                .collect()
        })
        .collect();
    aligned(&HEADER, &rows)
}

/// Rows of cells (already made safe to print) under a header, in columns two spaces apart, each
/// as wide as its widest cell.
pub fn aligned(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
            + "\n"
    };
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    std::iter::once(line(&header))
        .chain(rows.iter().map(|r| line(r)))
        .collect()
}
/// What `referee audit` can read in a data folder, and what got in the way. Reading never
/// changes the folder, so it works when the folder is read-only.
pub struct View {
    journal: Option<Journal>,
    data_dir: PathBuf,
    /// Problems met on the way, for stderr; the entries that could be read are still shown.
    pub warnings: Vec<String>,
}

impl View {
    /// Reads `referee.db` (and the `audit.jsonl` lines it has not imported yet); if the database
    /// cannot be read, falls back to `audit.jsonl` alone.
    pub fn read(data_dir: &Path) -> View {
        let mut warnings = Vec::new();
        let journal = match Journal::open_read_only(data_dir) {
            Ok(journal) => Some(journal),
            Err(error) => {
                warnings.push(error.to_string());
                if path(data_dir).exists() && !matches!(error, JournalError::Import { .. }) {
                    match Journal::from_audit_jsonl(data_dir) {
                        Ok(journal) => {
                            warnings.push(format!(
                                "showing only the old log {}",
                                path(data_dir).display()
                            ));
                            Some(journal)
                        }
                        Err(error) => {
                            warnings.push(error.to_string());
                            None
                        }
                    }
                } else {
                    None
                }
            }
        };
        if let Some(skipped) = journal
            .as_ref()
            .map(Journal::skipped_import_lines)
            .filter(|&n| n > 0)
        {
            warnings.push(format!(
                "{skipped} line{} of {} could not be read (torn or damaged) and {} not shown",
                if skipped == 1 { "" } else { "s" },
                path(data_dir).display(),
                if skipped == 1 { "is" } else { "are" },
            ));
        }
        View {
            journal,
            data_dir: data_dir.to_path_buf(),
            warnings,
        }
    }

    /// The entries at or after `since`, oldest first; an error when nothing could be read at all.
    pub fn entries(&self, since: Option<jiff::Timestamp>) -> Result<Vec<Stored>, String> {
        match &self.journal {
            Some(journal) => journal.entries(since).map_err(|e| e.to_string()),
            None => Err(format!(
                "nothing could be read from {}",
                self.data_dir.display()
            )),
        }
    }

    /// The entries the reads so far had to leave out because they could not be decoded, in words
    /// for stderr (None when there were none).
    pub fn damaged_warning(&self) -> Option<String> {
        let damaged = self.journal.as_ref()?.damaged();
        let (first, what) = damaged.first()?;
        Some(format!(
            "{}: {}; entry {first}: {what}",
            self.data_dir.join(journal::FILE_NAME).display(),
            Journal::left_out_words(damaged.len()),
        ))
    }

    /// Why there is nothing to show (for stderr).
    pub fn nothing_to_show(&self, windowed: bool) -> String {
        let dir = self.data_dir.display();
        let db = self.data_dir.join(journal::FILE_NAME);
        let old = path(&self.data_dir);
        if !self.data_dir.exists() {
            format!("No writes recorded yet: the data folder {dir} does not exist.")
        } else if !db.exists() && !old.exists() {
            format!(
                "No writes recorded yet: {dir} holds neither {} nor {FILE_NAME}.",
                journal::FILE_NAME
            )
        } else {
            let total = self
                .journal
                .as_ref()
                .and_then(|j| j.entries(None).ok())
                .map_or(0, |all| all.len());
            let source = if db.exists() { db } else { old };
            if windowed && total > 0 {
                format!(
                    "No entries in that window in {} ({total} older).",
                    source.display()
                )
            } else {
                format!("No entries in {}.", source.display())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(id: &str, time: &str) -> Entry {
        let mut entry = Entry::new(time.into(), "demo", "vantio", None, "write");
        entry.id = Some(id.into());
        entry.before = json!({"status": "converted"}).as_object().unwrap().clone();
        entry.after = json!({"status": "verified"}).as_object().unwrap().clone();
        entry.body = json!({"status": "verified"});
        entry.status = Some(200);
        entry
    }

    #[test]
    fn durations_and_their_limits() {
        assert_eq!(parse_since("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_since("15m").unwrap().as_secs(), 900);
        assert_eq!(
            parse_since("2w").unwrap().as_secs(),
            14 * 86_400,
            "as in filters"
        );
        assert!(
            parse_since("2 weeks")
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(parse_since("h").unwrap_err().contains("not a duration"));
        assert!(
            parse_since("200000000d")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(
            parse_since("99999999999999999999999s")
                .unwrap_err()
                .contains("out of range")
        );
        let now: jiff::Timestamp = "2026-11-21T10:00:00Z".parse().unwrap();
        assert_eq!(
            cutoff("1h", now).unwrap(),
            "2026-11-21T09:00:00Z".parse::<jiff::Timestamp>().unwrap()
        );
        assert!(cutoff("365000d", now).is_ok());
    }

    fn stored(entry: i64, outcome: bool) -> Stored {
        let (intent, recorded) = crate::store::journal::from_audit_entry(self::entry(
            &format!("ref_{entry}"),
            "2026-11-21T10:00:00Z",
        ));
        Stored {
            entry,
            intent,
            outcome: outcome.then_some(recorded),
        }
    }

    #[test]
    fn formats() {
        let entries = [stored(1, true), stored(2, false)];
        let csv = render(&entries, Format::Csv).unwrap();
        assert!(
            csv.starts_with("time,profile,backend,why,kind,ids"),
            "{csv}"
        );
        assert!(
            csv.contains("\"{\"\"status\"\":\"\"converted\"\"}\""),
            "{csv}"
        );
        let table = render(&entries, Format::Table).unwrap();
        assert!(table.lines().nth(1).unwrap().contains("ref_1"));
        assert!(table.lines().nth(1).unwrap().contains("applied"));
        assert!(
            table.lines().nth(2).unwrap().contains("in flight"),
            "{table}"
        );
        let lines = render(&entries, Format::Jsonl).unwrap();
        assert_eq!(lines.lines().count(), 2);
        let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["outcome"]["verdict"], "applied");
        let array: Value = serde_json::from_str(&render(&entries, Format::Json).unwrap()).unwrap();
        assert_eq!(array.as_array().unwrap().len(), 2);
        assert_eq!(array[1]["outcome"], Value::Null);
    }
}
