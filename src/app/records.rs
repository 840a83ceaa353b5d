//! The loaded referrals in list order, with what makes reading them cheap at any size: an id → row
//! index and, per row, the text the `/` filter searches, prepared once when the record arrives or is
//! replaced. Rows change only through these methods, so the index and the text never drift from
//! them; reading goes through `Deref` to a slice.
//!
//! The filter (`Needle`) is the filter language (`domain::filter`): its free words occur in the
//! prepared text — the lowercased id and the schema's filter fields (`Schema::filter_fields`), a
//! filter field that refers to another resource (a v1 ambassador) with its looked-up name once the
//! names are known (`know_names`) — and its keyed terms (`status=converted`, `created:<7d`) test
//! the record itself.

use std::collections::HashMap;
use std::ops::{Deref, Range};

use jiff::Timestamp;

use crate::domain::Record;
use crate::domain::filter::{Filter, FilterError, Names};
use crate::domain::schema::{FieldKind, RefKind, Schema};

pub struct Records {
    rows: Vec<Record>,
    /// Row of each id. When a server sent an id twice, the first row holds it: that is the one
    /// `by_id` returns and `put` replaces.
    index: HashMap<String, usize>,
    /// Per row, the lowercased id and filter fields joined by spaces: what the filter searches.
    search: Vec<Box<str>>,
    schema: &'static Schema,
    /// Lowercased names of referenced ids the filter fields point at: kind → id → name.
    names: HashMap<RefKind, HashMap<String, String>>,
}

impl Records {
    pub fn new(schema: &'static Schema) -> Records {
        Records {
            rows: Vec::new(),
            index: HashMap::new(),
            search: Vec::new(),
            schema,
            names: HashMap::new(),
        }
    }

    /// The record with this id.
    pub fn by_id(&self, id: &str) -> Option<&Record> {
        self.row_of(id).map(|row| &self.rows[row])
    }

    /// The row holding this id.
    pub fn row_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The prepared text the filter searches for `row`.
    pub fn search_text(&self, row: usize) -> &str {
        &self.search[row]
    }

    pub fn clear(&mut self) {
        self.rows.clear();
        self.index.clear();
        self.search.clear();
    }

    /// Adds records after the last row; returns the rows they took.
    pub fn append(&mut self, records: Vec<Record>) -> Range<usize> {
        let start = self.rows.len();
        for record in records {
            self.push(record);
        }
        start..self.rows.len()
    }

    /// Puts a fresh copy in place of the record with its id, or adds it after the last row;
    /// returns its row.
    pub fn put(&mut self, record: Record) -> usize {
        match self.row_of(&record.id) {
            Some(row) => {
                self.search[row] = self.prepare(&record);
                self.rows[row] = record;
                row
            }
            None => self.push(record),
        }
    }

    fn push(&mut self, record: Record) -> usize {
        let row = self.rows.len();
        self.index.entry(record.id.clone()).or_insert(row);
        self.search.push(self.prepare(&record));
        self.rows.push(record);
        row
    }

    /// Takes the names of a kind of referenced resource (ambassadors) into the search text, when
    /// a filter field refers to that kind; every row's text is prepared again, once.
    pub fn know_names(&mut self, kind: RefKind, names: &HashMap<String, String>) {
        if !self.searched_kinds().any(|k| k == kind) {
            return;
        }
        self.names.entry(kind).or_default().extend(
            names
                .iter()
                .map(|(id, name)| (id.clone(), name.to_lowercase())),
        );
        self.search = self.rows.iter().map(|r| self.prepare(r)).collect();
    }

    /// The kinds of resource the filter fields refer to.
    fn searched_kinds(&self) -> impl Iterator<Item = RefKind> + '_ {
        self.schema
            .filter_fields
            .iter()
            .filter_map(|key| match self.schema.field(key)?.kind {
                FieldKind::Reference(kind) => Some(kind),
                _ => None,
            })
    }

    fn prepare(&self, record: &Record) -> Box<str> {
        crate::domain::filter::search_text(self.schema, record, &self.names).into_boxed_str()
    }
}

impl Deref for Records {
    type Target = [Record];

    fn deref(&self) -> &[Record] {
        &self.rows
    }
}

/// The `/` filter as it is matched: the text typed, parsed by the filter language
/// (`domain::filter`) against the backend's schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needle {
    text: String,
    filter: Filter,
}

impl Needle {
    /// The filter `text` means on `schema`, or why it means none.
    pub fn parse(schema: &'static Schema, text: &str) -> Result<Needle, FilterError> {
        Ok(Needle {
            text: text.to_string(),
            filter: Filter::parse(schema, text)?,
        })
    }

    /// The text this filter was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// An empty filter shows every row.
    pub fn is_empty(&self) -> bool {
        self.filter.is_empty()
    }

    /// Whether `row` matches: free words in its prepared text, keyed terms on the record, with
    /// references named by `names` and ages counted from `now`.
    pub fn matches(
        &self,
        records: &Records,
        row: usize,
        names: &dyn Names,
        now: Timestamp,
    ) -> bool {
        self.filter
            .matches_prepared(&records[row], records.search_text(row), names, now)
    }

    /// Whether everything this filter matches was matched by `before` too (typing on narrows).
    pub fn narrows(&self, before: &Needle) -> bool {
        self.filter.narrows(&before.filter)
    }

    /// The rows among `rows` this filter matches, in the order given.
    pub fn select(
        &self,
        records: &Records,
        rows: impl Iterator<Item = usize>,
        names: &dyn Names,
        now: Timestamp,
    ) -> Vec<usize> {
        if self.is_empty() {
            return rows.collect();
        }
        rows.filter(|row| self.matches(records, *row, names, now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::filter::NoNames;
    use crate::domain::schema::V1_SCHEMA;

    fn person(id: &str, first: &str, last: &str) -> Record {
        Record::new(
            id,
            json!({"first_name": first, "last_name": last, "status": "pending"})
                .as_object()
                .unwrap()
                .clone(),
        )
    }

    #[test]
    fn the_search_text_is_the_lowercased_id_and_filter_fields() {
        let mut records = Records::new(&V1_SCHEMA);
        let rows = records.append(vec![person("REF_1", "Ada", "Lovelace")]);
        assert_eq!(rows, 0..1);
        // v1 filters on first name, last name, email and ambassador; the status is not searched.
        assert_eq!(records.search_text(0), "ref_1 ada lovelace  ");
    }

    #[test]
    fn an_ambassadors_name_is_searched_once_the_names_are_known() {
        let mut records = Records::new(&V1_SCHEMA);
        let mut ada = person("ref_1", "Ada", "Lovelace");
        ada.insert("student_id", serde_json::json!("stu_9"));
        records.append(vec![ada]);
        assert!(!records.search_text(0).contains("andre"));
        let names = HashMap::from([("stu_9".to_string(), "Andre Young".to_string())]);
        records.know_names(RefKind::User, &names);
        assert!(
            records.search_text(0).contains("andre young"),
            "{}",
            records.search_text(0)
        );
        // Names of a kind no filter field refers to change nothing.
        records.know_names(
            RefKind::Impression,
            &HashMap::from([("stu_9".into(), "X".into())]),
        );
        assert!(!records.search_text(0).contains(" x"));
    }

    #[test]
    fn the_id_index_follows_append_put_and_clear() {
        let mut records = Records::new(&V1_SCHEMA);
        records.append(vec![person("a", "Ada", "L"), person("b", "Bo", "M")]);
        assert_eq!(records.row_of("b"), Some(1));
        assert_eq!(
            records.put(person("a", "Alma", "L")),
            0,
            "replaced in place"
        );
        assert_eq!(records.by_id("a").unwrap().text("first_name"), "Alma");
        assert!(
            records.search_text(0).contains("alma"),
            "text prepared again"
        );
        assert_eq!(
            records.put(person("c", "Cy", "N")),
            2,
            "an unknown id is added"
        );
        assert_eq!(records.len(), 3);
        records.clear();
        assert_eq!((records.len(), records.row_of("a")), (0, None));
        records.append(vec![person("b", "Bo", "M")]);
        assert_eq!(
            records.row_of("b"),
            Some(0),
            "reloaded rows are indexed afresh"
        );
    }

    #[test]
    fn an_id_sent_twice_is_found_at_its_first_row() {
        let mut records = Records::new(&V1_SCHEMA);
        records.append(vec![person("a", "Ada", "L"), person("a", "Other", "L")]);
        assert_eq!(records.by_id("a").unwrap().text("first_name"), "Ada");
        assert_eq!(records.put(person("a", "New", "L")), 0);
    }

    #[test]
    fn a_needle_matches_words_in_the_prepared_text_and_keys_on_the_record() {
        let mut records = Records::new(&V1_SCHEMA);
        records.append(vec![person("ref_1", "Ada", "Lovelace")]);
        let now = "2026-01-01T00:00:00Z".parse().unwrap();
        let hit = |text: &str| {
            Needle::parse(&V1_SCHEMA, text)
                .unwrap()
                .matches(&records, 0, &NoNames, now)
        };
        assert!(hit("LOVE  ada") && hit("status=pending") && hit(""));
        assert!(!hit("ada x") && !hit("-ada") && !hit("status:conv"));
        assert!(!hit("\"ada lovelace\" x"), "every term must match");
        assert!(Needle::parse(&V1_SCHEMA, "colour:red").is_err());
    }
}
