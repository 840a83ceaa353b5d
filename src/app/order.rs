//! The list's order: the records' own (as loaded), or sorted by one of the schema's list columns,
//! ascending or descending. A row's sort key is made once — when the sort is chosen, when its
//! page arrives, when it is saved — so placing a row is a binary search and choosing a sort one
//! `sort_by` over the cached keys. Empty values come last in both directions; equal keys keep
//! the records' order, so the order is total and every row has exactly one place.
//!
//! A column sorts by its fields' values: timestamps as instants, numbers as numbers, references by
//! their looked-up name (the ambassador's, as the column shows it), anything else as lowercased text.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use jiff::Timestamp;

use crate::domain::Record;
use crate::domain::schema::{FieldKind, RefKind, Schema};

/// Sorted by `schema.columns[column]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub descending: bool,
}

impl Sort {
    /// The sort after this one for `s`: each column on screen ascending then descending, then
    /// off. `shown` says which of the `columns` the list shows; a sort by a column it does not
    /// show (from `:sort`, or before the terminal narrowed) goes on to the next one it shows.
    pub fn next(
        current: Option<Sort>,
        columns: usize,
        shown: impl Fn(usize) -> bool,
    ) -> Option<Sort> {
        let from = match current {
            Some(Sort {
                column,
                descending: false,
            }) if shown(column) => {
                return Some(Sort {
                    column,
                    descending: true,
                });
            }
            Some(Sort { column, .. }) => column + 1,
            None => 0,
        };
        (from..columns).find(|c| shown(*c)).map(|column| Sort {
            column,
            descending: false,
        })
    }
}

/// The sort `:sort COLUMN [asc|desc]` asks for (`:sort` alone: none). A column is named by its
/// title or by any filter name of one of its fields (`created`, `ambassador`, `student_id`).
pub fn parse(schema: &'static Schema, words: &str) -> Result<Option<Sort>, String> {
    let mut words = words.split_whitespace();
    let Some(name) = words.next() else {
        return Ok(None);
    };
    let descending = match words.next().map(str::to_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(format!("Sort `{other}`? Say asc or desc.")),
    };
    let wanted = name.to_lowercase();
    let by_title = schema
        .columns
        .iter()
        .position(|c| c.title.to_lowercase() == wanted);
    let by_field = || {
        let spec = crate::domain::filter::field_named(schema, name).ok()?;
        schema
            .columns
            .iter()
            .position(|c| c.fields.contains(&spec.key))
    };
    let titles = || {
        let titles: Vec<String> = schema
            .columns
            .iter()
            .map(|c| c.title.to_lowercase())
            .collect();
        titles.join(", ")
    };
    match by_title.or_else(by_field) {
        Some(column) if words.next().is_none() => Ok(Some(Sort { column, descending })),
        Some(_) => Err(format!(
            "Usage: sort COLUMN [asc|desc], or sort alone for the loaded order; the columns are {}",
            titles()
        )),
        None => Err(format!(
            "No column `{name}` to sort by; the columns are {}",
            titles()
        )),
    }
}

/// What a row is sorted by. Variants compare in this order when a column mixes them.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Number(f64),
    Time(Timestamp),
    Text(String),
    Empty,
}

impl Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Number(a), Key::Number(b)) => a.total_cmp(b),
            (Key::Time(a), Key::Time(b)) => a.cmp(b),
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Key::Number(_) => 0,
            Key::Time(_) => 1,
            Key::Text(_) => 2,
            Key::Empty => 3,
        }
    }
}

/// What keys are made from: the schema, the records and the names of referenced ids.
pub struct Source<'a> {
    pub schema: &'a Schema,
    pub records: &'a [Record],
    pub names: &'a HashMap<RefKind, HashMap<String, String>>,
}

impl Source<'_> {
    fn key(&self, column: usize, row: usize) -> Key {
        let record = &self.records[row];
        let fields = self.schema.columns[column].fields;
        if let [key] = fields {
            let kind = self.schema.field(key).map(|spec| spec.kind);
            if let Some(n) = record.number(key) {
                return Key::Number(n);
            }
            if kind == Some(FieldKind::Timestamp)
                && let Ok(at) = record.text(key).parse::<Timestamp>()
            {
                return Key::Time(at);
            }
        }
        let text: Vec<String> = fields
            .iter()
            .map(|key| {
                let text = record.text(key);
                match self.schema.field(key).map(|spec| spec.kind) {
                    Some(FieldKind::Reference(kind)) => self
                        .names
                        .get(&kind)
                        .and_then(|names| names.get(&*text))
                        .cloned()
                        .unwrap_or_else(|| text.into_owned()),
                    _ => text.into_owned(),
                }
            })
            .filter(|text| !text.is_empty())
            .collect();
        match text.is_empty() {
            true => Key::Empty,
            false => Key::Text(text.join(" ").to_lowercase()),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Order {
    sort: Option<Sort>,
    /// Per row, its sort key (empty while unsorted).
    keys: Vec<Key>,
    /// Every row in sorted order (empty while unsorted: then it is `0..len`).
    all: Vec<usize>,
}

impl Order {
    pub fn sort(&self) -> Option<Sort> {
        self.sort
    }

    /// Sorts by `sort` (or goes back to the records' order), making every row's key.
    pub fn set(&mut self, sort: Option<Sort>, source: &Source) {
        self.sort = sort;
        self.keys.clear();
        self.all.clear();
        if let Some(sort) = sort {
            let len = source.records.len();
            self.keys = (0..len).map(|row| source.key(sort.column, row)).collect();
            let mut all: Vec<usize> = (0..len).collect();
            all.sort_by(|a, b| self.cmp(*a, *b));
            self.all = all;
        }
    }

    /// Makes every key again (names arrived, a sort key may be a name).
    pub fn refresh(&mut self, source: &Source) {
        self.set(self.sort, source);
    }

    /// Every record was dropped (a reload starts); the sort stays.
    pub fn clear(&mut self) {
        self.keys.clear();
        self.all.clear();
    }

    /// How `a` and `b` stand in the list: by key (empty last), then by row.
    pub fn cmp(&self, a: usize, b: usize) -> Ordering {
        let Some(sort) = self.sort else {
            return a.cmp(&b);
        };
        let (ka, kb) = (&self.keys[a], &self.keys[b]);
        let by_key = match (ka, kb) {
            (Key::Empty, Key::Empty) => Ordering::Equal,
            (Key::Empty, _) => Ordering::Greater,
            (_, Key::Empty) => Ordering::Less,
            _ if sort.descending => kb.cmp(ka),
            _ => ka.cmp(kb),
        };
        by_key.then(a.cmp(&b))
    }

    /// Where `row` is in `rows` (which are in this order), or where it would go.
    pub fn position(&self, rows: &[usize], row: usize) -> Result<usize, usize> {
        rows.binary_search_by(|probe| self.cmp(*probe, row))
    }

    /// Every row of `len` in this order.
    pub fn rows(&self, len: usize) -> impl Iterator<Item = usize> + '_ {
        let sorted = self.sort.is_some();
        let all = sorted.then(|| self.all.iter().copied());
        let plain = (!sorted).then_some(0..len);
        all.into_iter().flatten().chain(plain.into_iter().flatten())
    }

    /// Puts `rows` in this order.
    pub fn arrange(&self, rows: &mut [usize]) {
        if self.sort.is_some() {
            rows.sort_by(|a, b| self.cmp(*a, *b));
        }
    }

    /// Rows were appended to the records: their keys are made and they take their places.
    pub fn appended(&mut self, source: &Source, rows: Range<usize>) {
        let Some(sort) = self.sort else { return };
        self.keys
            .extend(rows.clone().map(|row| source.key(sort.column, row)));
        let mut all = std::mem::take(&mut self.all);
        self.merge(&mut all, rows.collect());
        self.all = all;
    }

    /// The record at `row` was replaced (or added): its key is made again and it moves to its
    /// new place. Call before placing the row in any other list (`position` needs the new key).
    pub fn replaced(&mut self, source: &Source, row: usize) {
        let Some(sort) = self.sort else { return };
        if row < self.keys.len()
            && let Ok(at) = self.position(&self.all, row)
        {
            self.all.remove(at);
        }
        let key = source.key(sort.column, row);
        match self.keys.get_mut(row) {
            Some(old) => *old = key,
            None => self.keys.push(key),
        }
        if let Err(at) = self.position(&self.all, row) {
            self.all.insert(at, row);
        }
    }

    /// Adds `new` rows (any order) into `rows` (in this order), keeping it in this order.
    pub fn merge(&self, rows: &mut Vec<usize>, mut new: Vec<usize>) {
        self.arrange(&mut new);
        if rows.last().is_none_or(|last| {
            new.first()
                .is_none_or(|first| self.cmp(*last, *first).is_lt())
        }) {
            rows.extend(new);
            return;
        }
        let old = std::mem::take(rows);
        rows.reserve(old.len() + new.len());
        let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
        while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
            if self.cmp(*x, *y).is_lt() {
                rows.push(*x);
                a.next();
            } else {
                rows.push(*y);
                b.next();
            }
        }
        rows.extend(a);
        rows.extend(b);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::schema::V1_SCHEMA;

    fn record(id: &str, first: &str, created: Option<&str>) -> Record {
        Record::new(
            id,
            json!({"first_name": first, "created_at": created})
                .as_object()
                .unwrap()
                .clone(),
        )
    }

    fn column(title: &str) -> usize {
        V1_SCHEMA
            .columns
            .iter()
            .position(|c| c.title == title)
            .unwrap()
    }

    #[test]
    fn s_cycles_each_column_up_then_down_then_off() {
        let up = |column| {
            Some(Sort {
                column,
                descending: false,
            })
        };
        let down = |column| {
            Some(Sort {
                column,
                descending: true,
            })
        };
        let cases = [
            (None, up(0)),
            (up(0), down(0)),
            (down(0), up(1)),
            (up(1), down(1)),
            (down(1), None),
        ];
        let all = |_| true;
        for (before, after) in cases {
            assert_eq!(Sort::next(before, 2, all), after, "{before:?}");
        }
        assert_eq!(Sort::next(None, 0, all), None);
    }

    /// One row per rule: a narrow list's hidden columns are passed over.
    #[test]
    fn s_passes_over_the_columns_the_list_does_not_show() {
        let sort = |column, descending| Some(Sort { column, descending });
        // Columns 1 and 3 of 5 are hidden.
        let shown = |c| ![1, 3].contains(&c);
        for (before, after) in [
            (None, sort(0, false)),
            (sort(0, true), sort(2, false)),
            (sort(2, true), sort(4, false)),
            (sort(4, true), None),
            // A hidden column sorted by `:sort` goes on to the next shown one, either way.
            (sort(1, false), sort(2, false)),
            (sort(3, true), sort(4, false)),
        ] {
            assert_eq!(Sort::next(before, 5, shown), after, "{before:?}");
        }
        assert_eq!(Sort::next(None, 5, |_| false), None, "nothing shown");
    }

    #[test]
    fn sort_commands_name_a_column_by_title_or_field() {
        let created = column("Created");
        let cases: &[(&str, Result<Option<Sort>, &str>)] = &[
            ("", Ok(None)),
            (
                "created desc",
                Ok(Some(Sort {
                    column: created,
                    descending: true,
                })),
            ),
            (
                "Created",
                Ok(Some(Sort {
                    column: created,
                    descending: false,
                })),
            ),
            (
                "created_at asc",
                Ok(Some(Sort {
                    column: created,
                    descending: false,
                })),
            ),
            (
                "ambassador",
                Ok(Some(Sort {
                    column: column("Ambassador"),
                    descending: false,
                })),
            ),
            (
                "last_name",
                Ok(Some(Sort {
                    column: column("Name"),
                    descending: false,
                })),
            ),
            ("created sideways", Err("asc or desc")),
            ("metadata", Err("the columns are name, email")),
            (
                "colour",
                Err("No column `colour` to sort by; the columns are"),
            ),
            ("created asc twice", Err("Usage: sort COLUMN")),
        ];
        for (words, want) in cases {
            match (parse(&V1_SCHEMA, words), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want, "{words}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{words}: {got}"),
                (got, _) => panic!("{words}: {got:?}"),
            }
        }
    }

    #[test]
    fn rows_sort_by_key_with_empties_last_and_ties_in_record_order() {
        let records = vec![
            record("a", "bo", Some("2026-03-01T00:00:00Z")),
            record("b", "", None),
            record("c", "Ada", Some("2026-01-01T00:00:00+05:00")),
            record("d", "ada", Some("2026-02-01T00:00:00Z")),
        ];
        let names = HashMap::new();
        let source = Source {
            schema: &V1_SCHEMA,
            records: &records,
            names: &names,
        };
        // (column, descending, rows in order)
        let cases = [
            ("Name", false, [2, 3, 0, 1]),
            ("Name", true, [0, 2, 3, 1]),
            ("Created", false, [2, 3, 0, 1]),
            ("Created", true, [0, 3, 2, 1]),
        ];
        for (title, descending, want) in cases {
            let mut order = Order::default();
            let sort = Sort {
                column: column(title),
                descending,
            };
            order.set(Some(sort), &source);
            assert_eq!(
                order.rows(4).collect::<Vec<_>>(),
                want,
                "{title} {descending}"
            );
        }
        let mut off = Order::default();
        off.set(None, &source);
        assert_eq!(off.rows(4).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn appended_and_replaced_rows_take_their_places() {
        let mut records = vec![record("a", "cy", None), record("b", "al", None)];
        let names = HashMap::new();
        let mut order = Order::default();
        let sort = Some(Sort {
            column: column("Name"),
            descending: false,
        });
        order.set(sort, &order_source(&records, &names));
        records.extend([record("c", "bo", None), record("d", "zed", None)]);
        order.appended(&order_source(&records, &names), 2..4);
        assert_eq!(order.rows(4).collect::<Vec<_>>(), [1, 2, 0, 3]);
        let mut shown = vec![1, 0];
        order.merge(&mut shown, vec![3, 2]);
        assert_eq!(shown, [1, 2, 0, 3]);
        records[3] = record("d", "aa", None);
        order.replaced(&order_source(&records, &names), 3);
        assert_eq!(order.rows(4).collect::<Vec<_>>(), [3, 1, 2, 0]);
        assert_eq!(order.position(&[3, 1, 2, 0], 2), Ok(2));
    }

    fn order_source<'a>(
        records: &'a [Record],
        names: &'a HashMap<RefKind, HashMap<String, String>>,
    ) -> Source<'a> {
        Source {
            schema: &V1_SCHEMA,
            records,
            names,
        }
    }
}
