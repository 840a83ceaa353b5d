//! The loaded referrals in list order, with what makes reading them cheap at any size: an id → row
//! index and, per row, the text the `/` filter searches, prepared once when the record arrives or is
//! replaced. Rows change only through these methods, so the index and the text never drift from
//! them; reading goes through `Deref` to a slice.
//!
//! The filter (`Needle`) matches a record when every whitespace-separated term of the lowercased
//! filter occurs in the lowercased id or in one of the schema's filter fields (`Schema::filter_fields`,
//! read with `Record::text`). A filter field that refers to another resource (a v1 ambassador) is
//! searched by its looked-up name too, once the names are known (`know_names`). The text is the
//! one the filter language's free words search (`domain::filter::search_text`).

use std::collections::HashMap;
use std::ops::{Deref, Range};

use crate::domain::Record;
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

/// The `/` filter as it is matched: lowercased once, split into terms that must all occur.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Needle {
    lowered: String,
}

impl Needle {
    pub fn new(filter: &str) -> Needle {
        Needle {
            lowered: filter.to_lowercase(),
        }
    }

    fn terms(&self) -> impl Iterator<Item = &str> {
        self.lowered.split_whitespace()
    }

    /// An empty filter shows every row.
    pub fn is_empty(&self) -> bool {
        self.terms().next().is_none()
    }

    pub fn matches(&self, search_text: &str) -> bool {
        self.terms().all(|term| search_text.contains(term))
    }

    /// Whether everything this filter matches was matched by `before` too: each of `before`'s
    /// terms occurs inside one of this filter's terms (typing on at the end narrows).
    pub fn narrows(&self, before: &Needle) -> bool {
        before
            .terms()
            .all(|old| self.terms().any(|new| new.contains(old)))
    }

    /// The rows among `rows` whose prepared text this filter matches, in the order given.
    pub fn select(&self, records: &Records, rows: impl Iterator<Item = usize>) -> Vec<usize> {
        if self.is_empty() {
            return rows.collect();
        }
        rows.filter(|row| self.matches(records.search_text(*row)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
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
    fn needles_match_every_term_and_know_when_they_narrow() {
        // (before, after, narrows)
        let cases = [
            ("", "a", true),
            ("ad", "ada", true),
            ("ada", "ada lo", true),
            ("ada lo", "lov ada", true),
            ("ada", "ad", false),
            ("ada", "", false),
            ("ada", "bob", false),
            ("ADA", "ada", true),
        ];
        for (before, after, narrows) in cases {
            assert_eq!(
                Needle::new(after).narrows(&Needle::new(before)),
                narrows,
                "{before:?} → {after:?}"
            );
        }
        let text = "ref_1 ada lovelace ";
        assert!(Needle::new("").matches(text));
        assert!(Needle::new("LOVE  ada").matches(text));
        assert!(!Needle::new("ada x").matches(text));
        assert!(
            !Needle::new("ada lovelace").matches("ref_1 ada love lace"),
            "terms are matched one by one"
        );
    }
}
