//! The writers for referral rows, shared by `referee list` / `get` and the console's `:export`:
//! which fields are written (`Columns`, `--fields`), CSV rows and JSON. Whatever the server sent
//! goes through `text_safety`: escaped in JSON, made visible and formula-safe in CSV. Ids and values
//! are written as the client read them from the server; looked-up names are never put in their
//! place. Pure: `effects::export` puts an export's text in its file.

use serde_json::{Map, Value};

use crate::domain::Record;
use crate::domain::filter::{self, FilterError};
use crate::domain::schema::{FieldSpec, Schema};
use crate::text_safety::{csv_cell, escape_json};

/// What `:export` writes: the same documents as `referee list --format csv` and `--format json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A header row of field keys, then one row per referral.
    Csv,
    /// One pretty JSON array of the referrals, each with every field the server sent.
    Json,
}

impl Format {
    /// `csv` or `json`, as typed after `:export`.
    pub fn named(word: &str) -> Option<Format> {
        [Format::Csv, Format::Json]
            .into_iter()
            .find(|f| f.word() == word)
    }

    /// Its name, which is also the file extension.
    pub fn word(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }
}

/// `records` as one document in `format`, with every field of `schema`: byte for byte what
/// `referee list --format csv|json` prints for them.
pub fn document(format: Format, schema: &'static Schema, records: &[Record]) -> String {
    let columns = Columns::unchosen(Columns::all(schema));
    match format {
        Format::Csv => {
            let rows = records.iter().map(|r| columns.csv_line(r));
            std::iter::once(columns.csv_header()).chain(rows).collect()
        }
        Format::Json => {
            let all = records.iter().map(|r| columns.json(r)).collect();
            json_pretty(&Value::Array(all))
        }
    }
}

/// Why an export's file could not be written; nothing was written in each case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// A file is there already (the console asks before it replaces one).
    Exists,
    /// The folder it would go in does not exist.
    NoFolder,
    /// This user may not write there.
    Denied,
    /// The path names a folder, not a file.
    IsFolder,
    /// The path starts with `~` and `HOME` is not set.
    NoHome,
    /// Anything else the system said.
    Other(String),
}

/// The fields printed: each as it was asked for (`ambassador`) and the schema field it names.
#[derive(Debug, Clone)]
pub struct Columns {
    /// (name printed in the header or as the JSON key, field).
    pub fields: Vec<(String, &'static FieldSpec)>,
    /// Chosen with `--fields`: JSON prints only these too.
    pub chosen: bool,
}

impl Columns {
    /// `--fields a,b` on this schema; without it, `default`. An unknown name is an error naming it
    /// and listing the known ones.
    pub fn chosen(
        schema: &'static Schema,
        fields: Option<&str>,
        default: Vec<&'static FieldSpec>,
    ) -> Result<Columns, FilterError> {
        let Some(fields) = fields else {
            return Ok(Columns::unchosen(default));
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

    /// `fields` under their keys, as when `--fields` is not given.
    pub fn unchosen(fields: Vec<&'static FieldSpec>) -> Columns {
        Columns {
            fields: fields.into_iter().map(|f| (f.key.to_string(), f)).collect(),
            chosen: false,
        }
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

    /// The CSV header row.
    pub fn csv_header(&self) -> String {
        csv_row(&self.header())
    }

    /// The record as a CSV row.
    pub fn csv_line(&self, record: &Record) -> String {
        csv_row(&self.texts(record))
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
    fn cells_are_safe_in_csv_and_json() {
        assert_eq!(
            csv_row(&["=1+1", "a,b", "x\u{1b}[2J"]),
            "'=1+1,\"a,b\",x⟨U+001B⟩[2J\n"
        );
        assert_eq!(
            json_line(&json!({"n": "a\u{202e}b"})),
            "{\"n\":\"a\\u202eb\"}\n"
        );
    }

    /// A document: every field of the schema as a column, the rows in the order given, and the
    /// same safety as a row alone.
    #[test]
    fn a_document_has_every_field_and_the_rows_in_order() {
        let ada = Record::new(
            "ref_2",
            json!({"id": "ref_2", "first_name": "=cmd|'/c calc'!A1", "status": "converted"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let bob = Record::sample(json!({"first_name": "Bob\u{7}"}));
        let csv = document(Format::Csv, &V1_SCHEMA, &[ada.clone(), bob.clone()]);
        let lines: Vec<&str> = csv.lines().collect();
        let keys: Vec<&str> = V1_SCHEMA.fields.iter().map(|f| f.key).collect();
        assert_eq!(lines[0], keys.join(","));
        assert!(lines[1].starts_with("ref_2,'=cmd|"), "{}", lines[1]);
        assert!(lines[2].starts_with("ref_1,Bob⟨U+0007⟩"), "{}", lines[2]);
        assert_eq!(lines.len(), 3);
        assert_eq!(
            document(Format::Csv, &V1_SCHEMA, &[]),
            format!("{}\n", keys.join(",")),
            "no rows: the header alone"
        );

        let json = document(Format::Json, &V1_SCHEMA, &[ada, bob]);
        assert!(json.contains(r#""first_name": "Bob\u0007""#), "{json}");
        let array: Vec<Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(
            array[0]["first_name"], "=cmd|'/c calc'!A1",
            "JSON keeps the value"
        );
        assert_eq!(array[1]["first_name"], "Bob\u{7}");
        assert_eq!(document(Format::Json, &V1_SCHEMA, &[]), "[]\n");
    }
}
