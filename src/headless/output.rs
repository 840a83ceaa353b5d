//! How `referee list` and `get` print referrals: the formats, the columns (`--fields`), and a
//! stdout that notices a reader that went away. Whatever the server sent is printed through
//! `text_safety`: escaped in JSON, made visible and formula-safe in CSV, made visible in tables.
//! Ids and values are printed as the client read them from the server; looked-up names are never
//! put in their place.

use std::io::{IsTerminal, Write};

use serde_json::{Map, Value};

use crate::domain::Record;
use crate::domain::filter::{self, FilterError};
use crate::domain::schema::{FieldSpec, Schema};
use crate::text_safety::{csv_cell, escape_json, visible};

/// How `referee list` prints referrals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One JSON array, printed when the listing is complete.
    Json,
    /// One JSON object per line, printed as pages arrive.
    Ndjson,
    /// A header row, then one row per referral, printed as pages arrive.
    Csv,
    /// Aligned columns for reading, printed when the listing is complete.
    Table,
}

/// How `referee get` prints a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GetFormat {
    /// One JSON object.
    Json,
    /// One line per field: its key and value.
    Table,
}

/// The default when no `--format` is given: a table for a person at a terminal, `piped` for a
/// program reading stdout.
pub fn default_format<F>(table: F, piped: F) -> F {
    if std::io::stdout().is_terminal() {
        table
    } else {
        piped
    }
}

/// The fields printed: each as it was asked for (`ambassador`) and the schema field it names.
#[derive(Debug, Clone)]
pub struct Columns {
    /// (name printed in the header or as the JSON key, field).
    pub fields: Vec<(String, &'static FieldSpec)>,
    /// Chosen with `--fields`: JSON prints only these too.
    pub chosen: bool,
}

/// Longest cell a table shows; the rest is cut with `…` (CSV and JSON print values whole).
const TABLE_CELL: usize = 60;

impl Columns {
    /// `--fields a,b` on this schema; without it, `default`. An unknown name is an error naming it
    /// and listing the known ones.
    pub fn chosen(
        schema: &'static Schema,
        fields: Option<&str>,
        default: Vec<&'static FieldSpec>,
    ) -> Result<Columns, FilterError> {
        let Some(fields) = fields else {
            let fields = default.into_iter().map(|f| (f.key.to_string(), f));
            return Ok(Columns {
                fields: fields.collect(),
                chosen: false,
            });
        };
        let mut chosen = Vec::new();
        for name in fields.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let spec = filter::field_named(schema, name)?;
            chosen.push((name.to_string(), spec));
        }
        if chosen.is_empty() {
            return Err(FilterError::BadValue {
                term: format!("--fields {fields}"),
                why: "name at least one field".into(),
            });
        }
        Ok(Columns {
            fields: chosen,
            chosen: true,
        })
    }

    /// Every field of the schema (CSV's default).
    pub fn all(schema: &'static Schema) -> Vec<&'static FieldSpec> {
        schema.fields.iter().collect()
    }

    /// The id and the fields of the console's list columns (the table's default).
    pub fn listed(schema: &'static Schema) -> Vec<&'static FieldSpec> {
        let mut fields: Vec<&'static FieldSpec> = schema.field("id").into_iter().collect();
        for key in schema.columns.iter().flat_map(|c| c.fields) {
            if let Some(spec) = schema.field(key)
                && !fields.contains(&spec)
            {
                fields.push(spec);
            }
        }
        fields
    }

    pub fn header(&self) -> Vec<&str> {
        self.fields.iter().map(|(name, _)| name.as_str()).collect()
    }

    /// The record as JSON: all it holds, or only the chosen fields under the names asked for.
    pub fn json(&self, record: &Record) -> Value {
        if !self.chosen {
            return record.to_json();
        }
        let object: Map<String, Value> = self
            .fields
            .iter()
            .map(|(name, spec)| (name.clone(), value(record, spec)))
            .collect();
        Value::Object(object)
    }

    /// The record's cells as plain text, unescaped.
    pub fn texts(&self, record: &Record) -> Vec<String> {
        self.fields
            .iter()
            .map(|(_, spec)| crate::domain::record::value_text(&value(record, spec)))
            .collect()
    }
}

/// A field's value; the id as the server sent it, or the record's id when it is not among them.
fn value(record: &Record, spec: &FieldSpec) -> Value {
    match record.get(spec.key) {
        Value::Null if spec.key == "id" => Value::String(record.id.clone()),
        value => value.clone(),
    }
}

/// One line of JSON, hidden characters escaped.
pub fn json_line(value: &Value) -> String {
    escape_json(&value.to_string()).into_owned() + "\n"
}

/// Pretty JSON, hidden characters escaped.
pub fn json_pretty(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    escape_json(&text).into_owned() + "\n"
}

/// One CSV row: every cell formula-safe, hidden characters made visible.
pub fn csv_row<S: AsRef<str>>(cells: &[S]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let safe = cells
        .iter()
        .map(|cell| csv_cell(cell.as_ref()).into_owned());
    // Writing to memory cannot fail.
    let _ = writer.write_record(safe);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A table cell: hidden characters made visible, cut to `TABLE_CELL` characters.
pub fn table_cell(text: &str) -> String {
    let cut = match text.char_indices().nth(TABLE_CELL) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    };
    visible(&cut).into_owned()
}

/// stdout for streamed output. A reader that stops reading (`referee list | head`) is not a
/// failure: writes stop quietly and `gone` says so.
pub struct Stdout {
    pub gone: bool,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout { gone: false }
    }

    /// Writes `text` now; false when the reader is gone (or stdout failed, which is said once).
    pub fn write(&mut self, text: &str) -> bool {
        if self.gone {
            return false;
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => true,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    crate::cli::say(&format!("referee: writing to stdout: {e}"));
                }
                self.gone = true;
                false
            }
        }
    }
}

impl Default for Stdout {
    fn default() -> Stdout {
        Stdout::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};

    #[test]
    fn chosen_fields_keep_the_names_asked_for_and_unknown_ones_are_named() {
        let columns = Columns::chosen(&V1_SCHEMA, Some("id, ambassador,status"), vec![]).unwrap();
        assert_eq!(columns.header(), ["id", "ambassador", "status"]);
        let record = Record::sample(json!({"student_id": "user_1", "status": "pending"}));
        assert_eq!(
            columns.json(&record),
            json!({"id": "ref_1", "ambassador": "user_1", "status": "pending"})
        );
        let error = Columns::chosen(&V1_SCHEMA, Some("id,colour"), vec![]).unwrap_err();
        assert!(error.to_string().contains("`colour`"), "{error}");
        assert!(Columns::chosen(&V1_SCHEMA, Some(" , "), vec![]).is_err());
    }

    #[test]
    fn the_table_lists_the_id_and_the_consoles_columns_once_each() {
        let keys: Vec<&str> = Columns::listed(&V2_SCHEMA).iter().map(|f| f.key).collect();
        assert_eq!(keys[0], "id");
        assert!(keys.contains(&"promoter_campaign.promoter.name"));
        let unique: std::collections::HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len());
    }

    #[test]
    fn cells_are_safe_in_each_format() {
        assert_eq!(
            csv_row(&["=1+1", "a,b", "x\u{1b}[2J"]),
            "'=1+1,\"a,b\",x⟨U+001B⟩[2J\n"
        );
        assert_eq!(table_cell("a\u{202e}b"), "a⟨U+202E⟩b");
        assert_eq!(table_cell(&"x".repeat(100)).chars().count(), TABLE_CELL + 1);
        assert_eq!(
            json_line(&json!({"n": "a\u{202e}b"})),
            "{\"n\":\"a\\u202eb\"}\n"
        );
    }
}
