//! The audit log: one JSON line per write that reached a server, and per verification session, in
//! `audit.jsonl` under the data folder. Appended, never rewritten; `referee audit` reads it back.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// Appends one entry; the file and its folder are created when missing.
pub fn append(path: &Path, entry: &Entry) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write call per line keeps concurrent appends from interleaving.
    file.write_all(line.as_bytes())
}

/// Reads every entry; a line that does not parse is reported with its number, not skipped silently.
pub fn read(path: &Path) -> Result<Vec<Entry>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line)
                .map_err(|e| format!("{}, line {}: {e}", path.display(), n + 1))
        })
        .collect()
}

/// Parses `--since` durations like `90s`, `15m`, `2h`, `3d`.
pub fn parse_since(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: use 90s, 15m, 2h or 3d"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{text}` is not a duration: use 90s, 15m, 2h or 3d"
            ));
        }
    };
    Ok(std::time::Duration::from_secs(n * seconds))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn compact(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        String::new()
    } else {
        Value::Object(map.clone()).to_string()
    }
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// The entries in the chosen format, newest last.
pub fn render(entries: &[Entry], format: Format) -> String {
    let columns = |e: &Entry| {
        [
            e.time.clone(),
            e.profile.clone(),
            e.backend.clone(),
            e.kind.clone(),
            e.id.clone().unwrap_or_default(),
            e.status.map(|s| s.to_string()).unwrap_or_default(),
            if e.undo { "undo".into() } else { String::new() },
            compact(&e.before),
            compact(&e.after),
            if e.detail.is_null() {
                String::new()
            } else {
                e.detail.to_string()
            },
        ]
    };
    const HEADER: [&str; 10] = [
        "time", "profile", "backend", "kind", "id", "status", "undo", "before", "after", "detail",
    ];
    match format {
        Format::Json => entries
            .iter()
            .filter_map(|e| serde_json::to_string(e).ok())
            .map(|l| l + "\n")
            .collect(),
        Format::Csv => std::iter::once(HEADER.join(","))
            .chain(entries.iter().map(|e| {
                columns(e)
                    .iter()
                    .map(|c| csv_field(c))
                    .collect::<Vec<_>>()
                    .join(",")
            }))
            .map(|l| l + "\n")
            .collect(),
        Format::Table => {
            let rows: Vec<[String; 10]> = entries.iter().map(columns).collect();
            let widths: Vec<usize> = (0..HEADER.len())
                .map(|i| {
                    rows.iter()
                        .map(|r| r[i].chars().count())
                        .chain([HEADER[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: Vec<String>| {
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
            std::iter::once(line(HEADER.iter().map(|h| h.to_string()).collect()))
                .chain(rows.into_iter().map(|r| line(r.to_vec())))
                .collect()
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
    fn entries_round_trip_and_a_broken_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path());
        append(&file, &entry("ref_1", "2026-11-21T10:00:00Z")).unwrap();
        append(&file, &entry("ref_2", "2026-11-21T11:00:00Z")).unwrap();
        assert_eq!(read(&file).unwrap()[1].id.as_deref(), Some("ref_2"));
        std::fs::write(&file, "{\"time\": 1}\n").unwrap();
        assert!(read(&file).unwrap_err().contains("line 1"));
    }

    #[test]
    fn durations_and_formats() {
        assert_eq!(parse_since("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_since("15m").unwrap().as_secs(), 900);
        assert!(parse_since("2 weeks").is_err());
        let entries = [entry("ref_1", "2026-11-21T10:00:00Z")];
        let csv = render(&entries, Format::Csv);
        assert!(csv.starts_with("time,profile,backend"));
        assert!(
            csv.contains("\"{\"\"status\"\":\"\"converted\"\"}\""),
            "{csv}"
        );
        let table = render(&entries, Format::Table);
        assert!(table.lines().nth(1).unwrap().contains("ref_1"));
        assert_eq!(render(&entries, Format::Json).lines().count(), 1);
    }
}
