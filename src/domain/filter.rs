//! The filter language, one for every surface: `referee list --where/--q` and the console's `/`
//! take the same text, so a filter typed in the console can be pasted into a script. Pure: parsing needs the backend's schema, matching a record, the looked-up names
//! (`Names`) and `now` for relative dates, all handed in.
//!
//! A filter is terms separated by spaces; a record matches when every term does.
//! - `word` — a free word: occurs (ignoring case) in the id, in one of the schema's filter fields,
//!   or in the looked-up name of a filter field that refers to another resource (a v1 ambassador).
//!   This is what the console's `/` searches (`app::records`, built on `search_text`).
//! - `key:value`, `key~value` — the field contains the value (ignoring case); a field that refers
//!   to another resource also matches by its looked-up name.
//! - `key=value` — the whole field is the value (ignoring case); `key=` matches an empty field.
//! - `-term` — any term negated: `-status:rejected`, `-test`.
//! - `key:>2026-01-01`, `key:<2026-02-01T12:00:00Z`, `key:>=…`, `key:<=…` — on a timestamp field:
//!   after or before a day (UTC) or an instant; `key:<7d` — less than 7 days old, `key:>2h` — more
//!   than 2 hours old (units s, m, h, d, w). A record without the timestamp matches none of them.
//! - `"two words"` — double quotes keep spaces together, in a free word or a value
//!   (`ambassador:"andre young"`); a quoted term is always a free word (`"a:b"`).
//!
//! Keys are the schema's field keys (`student_id`, `promoter_campaign.promoter.name`) and friendly
//! names derived from it (`keys`): the field's label as a word (`ambassador`, `program`,
//! `created`, `promoter`, `campaign`), the key without `_at`/`_id` (`verified`), and `status` for
//! the backend's status field (`state` on FirstPromoter). An unknown key is an error that lists the
//! known ones; a value that cannot match (`status=convrted`, `created:>yesterday`) is an error that
//! names it.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

use jiff::{SignedDuration, Timestamp, civil};

use super::record::Record;
use super::schema::{FieldKind, FieldSpec, RefKind, Schema};

/// Names of referenced resources (an ambassador's name for a `student_id`), as far as known.
pub trait Names {
    fn name(&self, kind: RefKind, id: &str) -> Option<&str>;
}

/// No names known: references match by their id only.
pub struct NoNames;

impl Names for NoNames {
    fn name(&self, _: RefKind, _: &str) -> Option<&str> {
        None
    }
}

/// Names by kind, then id (the console's `State::lookups`, the headless commands' lookups).
impl Names for HashMap<RefKind, HashMap<String, String>> {
    fn name(&self, kind: RefKind, id: &str) -> Option<&str> {
        self.get(&kind)?.get(id).map(String::as_str)
    }
}

/// The text a free word searches: the lowercased id and filter fields joined by spaces, each
/// reference followed by its looked-up name when known.
pub fn search_text(schema: &Schema, record: &Record, names: &dyn Names) -> String {
    let mut text = record.id.to_lowercase();
    for key in schema.filter_fields {
        let value = record.text(key);
        text.push(' ');
        text.push_str(&value.to_lowercase());
        if let Some(FieldKind::Reference(kind)) = schema.field(key).map(|spec| spec.kind)
            && let Some(name) = names.name(kind, &value)
        {
            text.push(' ');
            text.push_str(&name.to_lowercase());
        }
    }
    text
}

/// Why a filter text is not a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterError {
    /// A `key:value` term whose key the backend's schema does not have.
    UnknownKey { key: String, known: Vec<String> },
    /// A term whose value can never match, and why.
    BadValue { term: String, why: String },
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::UnknownKey { key, known } => write!(
                f,
                "unknown filter key `{key}`: the keys are {}",
                known.join(", ")
            ),
            FilterError::BadValue { term, why } => write!(f, "filter `{term}`: {why}"),
        }
    }
}

impl std::error::Error for FilterError {}

/// A parsed filter: every term must match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    terms: Vec<Term>,
}

#[derive(Debug, Clone, PartialEq)]
struct Term {
    negated: bool,
    test: Test,
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// Lowercased; occurs in the search text.
    Word(String),
    /// Lowercased; occurs in the field's text (or a reference's name).
    Contains(&'static FieldSpec, String),
    /// Lowercased; is the field's whole text (or a reference's whole name).
    Equals(&'static FieldSpec, String),
    /// The field's timestamp compared with a point in time.
    Time(&'static FieldSpec, Order, Point),
    /// `key:any`: the field holds something, other than the "none" word a list of words may start
    /// with (`fraud:any` is any suspicion, not `no_suspicion`).
    Any(&'static FieldSpec),
}

/// How a timestamp must stand to the point: `Lt` is strictly before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Point {
    At(Timestamp),
    /// This long before `now`.
    Ago(SignedDuration),
}

/// Every name a field can be given in a filter, with the field: its key first, then the friendly
/// names derived from it. A name given to two fields belongs to the first (schema order), and a
/// field's key always wins over another field's friendly name.
pub fn keys(schema: &'static Schema) -> Vec<(String, &'static FieldSpec)> {
    let mut names: Vec<(String, &'static FieldSpec)> = schema
        .fields
        .iter()
        .map(|spec| (spec.key.to_string(), spec))
        .collect();
    for spec in schema.fields {
        let mut friendly = vec![slug(spec.label)];
        if !spec.key.contains('.') {
            for suffix in ["_at", "_id", "_check"] {
                if let Some(stem) = spec.key.strip_suffix(suffix) {
                    friendly.push(stem.to_string());
                }
            }
        }
        if spec.key == schema.status_field {
            friendly.push("status".to_string());
        }
        for name in friendly {
            if !names.iter().any(|(known, _)| *known == name) {
                names.push((name, spec));
            }
        }
    }
    names
}

/// "Promoter email" → `promoter_email`.
fn slug(label: &str) -> String {
    label
        .split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// The field a filter or `--fields` name means on this schema; the error lists every name.
pub fn field_named(schema: &'static Schema, name: &str) -> Result<&'static FieldSpec, FilterError> {
    let all = keys(schema);
    let lowered = name.to_lowercase();
    all.iter()
        .find(|(known, _)| *known == lowered)
        .map(|(_, spec)| *spec)
        .ok_or_else(|| FilterError::UnknownKey {
            key: name.to_string(),
            known: all
                .into_iter()
                .map(|(known, _)| known)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        })
}

/// One word of the text: its characters (quotes removed) and whether it began with a quote (after
/// any `-`), which makes it a free word whatever it holds.
struct Token {
    text: String,
    quoted: bool,
    negated: bool,
}

fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut token = Token {
            text: String::new(),
            quoted: false,
            negated: false,
        };
        let mut raw = String::new();
        let mut in_quotes = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() && !in_quotes {
                break;
            }
            chars.next();
            raw.push(c);
            if c == '"' {
                if token.text.is_empty() && !in_quotes {
                    token.quoted = true;
                }
                in_quotes = !in_quotes;
            } else if c == '-' && raw.len() == 1 && chars.peek().is_some_and(|n| !n.is_whitespace())
            {
                token.negated = true;
            } else {
                token.text.push(c);
            }
        }
        if in_quotes {
            return Err(FilterError::BadValue {
                term: raw,
                why: "a quote is not closed".into(),
            });
        }
        out.push(token);
    }
}

/// `key`, the operator and the value of a `key:value` token, when it is one.
fn split_key(text: &str) -> Option<(&str, char, &str)> {
    let at = text.find([':', '=', '~'])?;
    let key = &text[..at];
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let op = text[at..].chars().next()?;
    is_key.then(|| (key, op, &text[at + 1..]))
}

impl Filter {
    /// Parses `text` against `schema`'s keys.
    pub fn parse(schema: &'static Schema, text: &str) -> Result<Filter, FilterError> {
        let mut terms = Vec::new();
        for token in tokens(text)? {
            let test = match split_key(&token.text).filter(|_| !token.quoted) {
                None => Test::Word(token.text.to_lowercase()),
                Some((key, op, value)) => {
                    let spec = field_named(schema, key)?;
                    let shown = || {
                        let sign = if token.negated { "-" } else { "" };
                        format!("{sign}{}", token.text)
                    };
                    field_test(spec, op, value)
                        .map_err(|why| FilterError::BadValue { term: shown(), why })?
                }
            };
            terms.push(Term {
                negated: token.negated,
                test,
            });
        }
        Ok(Filter { terms })
    }

    /// Both filters' terms: a record matches when it matches both.
    pub fn and(mut self, other: Filter) -> Filter {
        self.terms.extend(other.terms);
        self
    }

    /// An empty filter matches every record.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The kinds of referenced resource whose names this filter needs to be matched as written.
    pub fn needs_names(&self, schema: &Schema) -> Vec<RefKind> {
        let mut kinds = Vec::new();
        let mut add = |spec: &FieldSpec| {
            if let FieldKind::Reference(kind) = spec.kind
                && !kinds.contains(&kind)
            {
                kinds.push(kind);
            }
        };
        for term in &self.terms {
            match &term.test {
                Test::Word(_) => schema
                    .filter_fields
                    .iter()
                    .filter_map(|key| schema.field(key))
                    .for_each(&mut add),
                Test::Contains(spec, _) | Test::Equals(spec, _) | Test::Any(spec) => add(spec),
                Test::Time(..) => {}
            }
        }
        kinds
    }

    /// Whether `record` matches every term. `now` is when relative ages are counted from.
    pub fn matches(
        &self,
        schema: &Schema,
        record: &Record,
        names: &dyn Names,
        now: Timestamp,
    ) -> bool {
        let mut text = None;
        self.test(record, names, now, |word| {
            text.get_or_insert_with(|| search_text(schema, record, names))
                .contains(word)
        })
    }

    /// `matches` with the record's search text prepared beforehand (`search_text`), as the
    /// console keeps it: free words only scan that text, keyed terms test the record.
    pub fn matches_prepared(
        &self,
        record: &Record,
        prepared: &str,
        names: &dyn Names,
        now: Timestamp,
    ) -> bool {
        self.test(record, names, now, |word| prepared.contains(word))
    }

    /// Whether everything this filter matches is matched by `before` too, so that filtering
    /// `before`'s matches again is enough (typing on narrows): each of `before`'s terms is one of
    /// this filter's, or a word or `key:value` of it grew (`ad` → `ada`). A term counted from
    /// `now` never narrows (`now` moves between keystrokes).
    pub fn narrows(&self, before: &Filter) -> bool {
        before.terms.iter().all(|old| {
            self.terms.iter().any(|new| {
                let relative = matches!(old.test, Test::Time(_, _, Point::Ago(_)));
                let grew = !old.negated
                    && !new.negated
                    && match (&old.test, &new.test) {
                        (Test::Word(a), Test::Word(b)) => b.contains(a.as_str()),
                        (Test::Contains(f, a), Test::Contains(g, b)) => {
                            f.key == g.key && b.contains(a.as_str())
                        }
                        _ => false,
                    };
                !relative && (old == new || grew)
            })
        })
    }

    fn test(
        &self,
        record: &Record,
        names: &dyn Names,
        now: Timestamp,
        mut word_in_text: impl FnMut(&str) -> bool,
    ) -> bool {
        self.terms.iter().all(|term| {
            let hit = match &term.test {
                Test::Word(word) => word_in_text(word),
                Test::Contains(spec, needle) => {
                    values(spec, record, names).any(|v| lowercased(&v).contains(needle.as_str()))
                }
                Test::Equals(spec, value) => {
                    values(spec, record, names).any(|v| lowercased(&v) == value.as_str())
                }
                Test::Any(spec) => {
                    let text = field_text(spec, record);
                    !text.is_empty() && Some(text.as_ref()) != none_word(spec)
                }
                Test::Time(spec, order, point) => {
                    let at = match point {
                        Point::At(at) => Some(*at),
                        Point::Ago(age) => now.checked_sub(*age).ok(),
                    };
                    let value = field_text(spec, record).parse::<Timestamp>();
                    match (value, at) {
                        (Ok(value), Some(at)) => match order {
                            Order::Lt => value < at,
                            Order::Le => value <= at,
                            Order::Gt => value > at,
                            Order::Ge => value >= at,
                        },
                        _ => false,
                    }
                }
            };
            hit != term.negated
        })
    }
}

/// The field's text: the record's id for `id`, else its value as plain text.
fn field_text<'r>(spec: &FieldSpec, record: &'r Record) -> Cow<'r, str> {
    if spec.key == "id" {
        Cow::Borrowed(&record.id)
    } else {
        record.text(spec.key)
    }
}

/// What a field term compares: the field's text and, for a reference, its looked-up name; read in
/// place where they can be (a keystroke tests every referral).
fn values<'a>(
    spec: &FieldSpec,
    record: &'a Record,
    names: &'a dyn Names,
) -> impl Iterator<Item = Cow<'a, str>> + 'a {
    let text = field_text(spec, record);
    let name = match spec.kind {
        FieldKind::Reference(kind) if !text.is_empty() => names.name(kind, &text),
        _ => None,
    };
    std::iter::once(text).chain(name.map(Cow::Borrowed))
}

/// The word of a list of words that says there is nothing (`no_suspicion`): its first, when it
/// starts with `no_`.
fn none_word(spec: &FieldSpec) -> Option<&'static str> {
    match spec.kind {
        FieldKind::Enum(words) => words.first().copied().filter(|w| w.starts_with("no_")),
        _ => None,
    }
}

/// `text` in lower case, copied only when it has an upper-case letter.
fn lowercased(text: &str) -> Cow<'_, str> {
    if text.chars().any(char::is_uppercase) {
        Cow::Owned(text.to_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// The test of `key<op>value` on `spec`, or why the value can never match.
fn field_test(spec: &'static FieldSpec, op: char, value: &str) -> Result<Test, String> {
    let timestamp = spec.kind == FieldKind::Timestamp;
    if op == ':'
        && let Some(rest) = value.strip_prefix(['<', '>'])
    {
        if !timestamp {
            return Err(format!(
                "`<` and `>` compare dates, and {} is not a date",
                spec.key
            ));
        }
        let (inclusive, rest) = match rest.strip_prefix('=') {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let before = value.starts_with('<');
        return time_test(spec, before, inclusive, rest.trim());
    }
    if value.is_empty() && op != '=' {
        return Err(format!(
            "give a value after `{op}` (`{}=` matches an empty field)",
            spec.key
        ));
    }
    let lowered = value.to_lowercase();
    if op == ':' && lowered == "any" {
        return Ok(Test::Any(spec));
    }
    if let FieldKind::Enum(words) = spec.kind
        && !value.is_empty()
    {
        let fits = |w: &&str| match op {
            '=' => w.eq_ignore_ascii_case(value),
            _ => w.to_lowercase().contains(&lowered),
        };
        if !words.iter().any(fits) {
            return Err(format!(
                "no {} is {}`{value}`: it is one of {}",
                spec.key,
                if op == '=' { "" } else { "like " },
                words.join(", ")
            ));
        }
    }
    Ok(match op {
        '=' => Test::Equals(spec, lowered),
        _ => Test::Contains(spec, lowered),
    })
}

/// `<`/`>` (`before`), with `=` (`inclusive`), against a day, an instant or an age.
fn time_test(
    spec: &'static FieldSpec,
    before: bool,
    inclusive: bool,
    value: &str,
) -> Result<Test, String> {
    use Order::*;
    let order = match (before, inclusive) {
        (true, false) => Lt,
        (true, true) => Le,
        (false, false) => Gt,
        (false, true) => Ge,
    };
    if let Ok(at) = value.parse::<Timestamp>() {
        return Ok(Test::Time(spec, order, Point::At(at)));
    }
    if let Ok(day) = value.parse::<civil::Date>() {
        // A day is a span: after it is from the next midnight (UTC), before it is before its own.
        let midnight = |day: civil::Date| {
            day.to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .map_err(|e| e.to_string())
        };
        let next = || day.tomorrow().map_err(|e| e.to_string()).and_then(midnight);
        let (order, at) = match order {
            Lt => (Lt, midnight(day)?),
            Le => (Lt, next()?),
            Gt => (Ge, next()?),
            Ge => (Ge, midnight(day)?),
        };
        return Ok(Test::Time(spec, order, Point::At(at)));
    }
    if let Ok(age) = age(value) {
        // Less than 7 days old is after the instant 7 days ago.
        let order = match order {
            Lt => Gt,
            Le => Ge,
            Gt => Lt,
            Ge => Le,
        };
        return Ok(Test::Time(spec, order, Point::Ago(age)));
    }
    Err(format!(
        "`{value}` is not a date (2026-01-31), an instant (2026-01-31T12:00:00Z) or an age (90m, 12h, 7d, 2w)"
    ))
}

/// Why a text is not an age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeError {
    /// Not digits and a unit.
    NotAnAge,
    /// Longer than `MAX_AGE_DAYS`.
    TooLong,
}

/// The longest age: about 1000 years, far inside what a timestamp can hold.
pub const MAX_AGE_DAYS: i64 = 365_000;

/// `90s`, `15m`, `12h`, `7d`, `2w` as a duration: the filters' ages and `referee audit --since`.
pub fn age(text: &str) -> Result<SignedDuration, AgeError> {
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .filter(|at| *at > 0)
        .ok_or(AgeError::NotAnAge)?;
    let (number, unit) = text.split_at(unit_at);
    let seconds: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(AgeError::NotAnAge),
    };
    let n: i64 = number.parse().map_err(|_| AgeError::TooLong)?;
    n.checked_mul(seconds)
        .filter(|s| *s <= MAX_AGE_DAYS * 86_400)
        .map(SignedDuration::from_secs)
        .ok_or(AgeError::TooLong)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};

    fn now() -> Timestamp {
        "2026-03-10T12:00:00Z".parse().unwrap()
    }

    fn record(id: &str, values: Value) -> Record {
        Record::new(id, values.as_object().unwrap().clone())
    }

    /// A v1 referral by Ada Lovelace for ambassador `user_9` (Andre Young), created 2026-03-05.
    fn ada() -> Record {
        record(
            "ref_1",
            json!({
                "id": "ref_1",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
                "status": "converted",
                "program_id": "prog_7",
                "student_id": "user_9",
                "created_at": "2026-03-05T08:00:00Z",
                "verified_at": null,
                "metadata": {"source": "poster"},
            }),
        )
    }

    fn names() -> HashMap<RefKind, HashMap<String, String>> {
        HashMap::from([(
            RefKind::User,
            HashMap::from([("user_9".to_string(), "Andre Young".to_string())]),
        )])
    }

    fn v1(text: &str) -> bool {
        let filter = Filter::parse(&V1_SCHEMA, text).unwrap_or_else(|e| panic!("{text}: {e}"));
        filter.matches(&V1_SCHEMA, &ada(), &names(), now())
    }

    #[test]
    fn each_rule_matches_and_misses_as_written() {
        // (filter, matches Ada)
        let cases = [
            ("", true),
            // Free words: id, filter fields, the ambassador's looked-up name; every word.
            ("ada", true),
            ("LOVE ada", true),
            ("REF_1", true),
            ("example.com", true),
            ("andre", true),
            ("ada bob", false),
            ("converted", false),
            ("-bob", true),
            ("-ada", false),
            ("\"ada lovelace\"", true),
            ("\"young ada\"", false),
            // key:value and key~value contain, ignoring case.
            ("status:conv", true),
            ("status~CONV", true),
            ("first_name:ad", true),
            ("email:@example", true),
            ("metadata:poster", true),
            ("id:ref", true),
            // key=value is the whole value; key= is an empty field.
            ("status=converted", true),
            ("status=CONVERTED", true),
            ("first_name=ad", false),
            ("verified_at=", true),
            ("email=", false),
            // Negated field terms.
            ("-status=rejected", true),
            ("-status=converted", false),
            ("-first_name:ad", false),
            // Friendly names from the schema: labels, stems, status.
            ("ambassador:andre", true),
            ("ambassador~andre", true),
            ("ambassador=andre young", false),
            ("ambassador=\"andre young\"", true),
            ("ambassador=user_9", true),
            ("student:user_9", true),
            ("program:prog_7", true),
            ("program:prog_8", false),
            ("verified=", true),
            ("created:2026-03-05", true),
            // Dates: days in UTC, instants, ages counted from `now`.
            ("created:>2026-03-04", true),
            ("created:>2026-03-05", false),
            ("created:>=2026-03-05", true),
            ("created:<2026-03-05", false),
            ("created:<=2026-03-05", true),
            ("created:<2026-03-06", true),
            ("created:>2026-03-05T07:59:59Z", true),
            ("created:<2026-03-05T08:00:00Z", false),
            ("created:<=2026-03-05T08:00:00Z", true),
            ("created:<7d", true),
            ("created:<5d", false),
            ("created:>5d", true),
            ("created:>1w", false),
            ("created:<200h", true),
            ("-created:<7d", false),
            // A missing timestamp matches no comparison (and so every negated one).
            ("verified:>2020-01-01", false),
            ("verified:<2099-01-01", false),
            ("-verified:<2099-01-01", true),
            // Keys ignore case.
            ("STATUS=converted", true),
        ];
        for (text, want) in cases {
            assert_eq!(v1(text), want, "{text:?}");
        }
    }

    #[test]
    fn references_match_by_id_until_their_names_are_known() {
        let filter = Filter::parse(&V1_SCHEMA, "ambassador:andre").unwrap();
        assert!(!filter.matches(&V1_SCHEMA, &ada(), &NoNames, now()));
        assert!(filter.matches(&V1_SCHEMA, &ada(), &names(), now()));
        assert_eq!(filter.needs_names(&V1_SCHEMA), [RefKind::User]);
        // Free words search the ambassador's name as the console's `/` does.
        let words = Filter::parse(&V1_SCHEMA, "andre").unwrap();
        assert_eq!(words.needs_names(&V1_SCHEMA), [RefKind::User]);
        let dates = Filter::parse(&V1_SCHEMA, "status=converted created:<7d").unwrap();
        assert!(dates.needs_names(&V1_SCHEMA).is_empty());
    }

    /// `fraud:any` is any suspicion: set, and not `no_suspicion`; `-fraud:any` the rest.
    #[test]
    fn any_means_something_other_than_none() {
        let with = |fraud: Value| {
            record(
                "5001",
                json!({"id": 5001, "state": "pending", "fraud_check": fraud}),
            )
        };
        let cases = [
            (json!("same_ip_suspicion"), "fraud:any", true),
            (json!("no_suspicion"), "fraud:any", false),
            (Value::Null, "fraud:any", false),
            (json!("no_suspicion"), "-fraud:any", true),
            (json!("same_ip_suspicion"), "fraud_check:any", true),
            (json!("same_ip_suspicion"), "email:any", false),
        ];
        for (fraud, text, want) in cases {
            let filter = Filter::parse(&V2_SCHEMA, text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                filter.matches(&V2_SCHEMA, &with(fraud.clone()), &NoNames, now()),
                want,
                "{text} on {fraud}"
            );
        }
    }

    #[test]
    fn firstpromoter_keys_reach_into_the_promoter_campaign() {
        let referral = record(
            "5001",
            json!({
                "id": 5001,
                "email": "lead@example.com",
                "state": "pending",
                "promoter_campaign": {
                    "id": 1004,
                    "promoter": {"name": "Maria Lopez"},
                    "campaign": {"name": "Spring"},
                },
                "created_at": "2026-03-01T00:00:00Z",
            }),
        );
        let links = HashMap::from([(
            RefKind::PromoterCampaign,
            HashMap::from([("1004".to_string(), "Maria Lopez · Spring".to_string())]),
        )]);
        let cases = [
            ("state=pending", true),
            ("status=pending", true),
            ("promoter:maria", true),
            ("campaign=spring", true),
            ("promoter_campaign=1004", true),
            ("promoter_campaign:spring", true),
            ("promoter_email:x", false),
            ("id=5001", true),
            ("maria", true),
            ("spring", true),
            ("created:<10d", true),
            ("-state:pend", false),
        ];
        for (text, want) in cases {
            let filter = Filter::parse(&V2_SCHEMA, text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                filter.matches(&V2_SCHEMA, &referral, &links, now()),
                want,
                "{text:?}"
            );
        }
    }

    #[test]
    fn errors_name_the_unknown_key_or_the_bad_value() {
        // (filter, words the error must hold)
        let cases: &[(&str, &[&str])] = &[
            (
                "colour:red",
                &["unknown filter key `colour`", "ambassador", "status"],
            ),
            ("-nope=1", &["`nope`"]),
            (
                "status=convrted",
                &["status=convrted", "pending, converted"],
            ),
            ("status:xyz", &["like `xyz`"]),
            ("created:>yesterday", &["created:>yesterday", "not a date"]),
            ("created:<7y", &["`7y`"]),
            ("first_name:>a", &["first_name is not a date"]),
            ("email:", &["give a value"]),
            ("\"open", &["not closed"]),
        ];
        for (text, words) in cases {
            let error = Filter::parse(&V1_SCHEMA, text).unwrap_err().to_string();
            for word in *words {
                assert!(error.contains(word), "{text:?}: {error}");
            }
        }
        // v2 keys differ: `ambassador` is v1's.
        let error = Filter::parse(&V2_SCHEMA, "ambassador:x").unwrap_err();
        assert!(matches!(&error, FilterError::UnknownKey { known, .. }
            if known.contains(&"promoter".to_string())));
    }

    #[test]
    fn text_that_only_looks_like_a_key_is_a_free_word() {
        for text in ["\"a:b\"", "-\"x=y\"", "http//x", ":lead", "a b"] {
            let filter = Filter::parse(&V1_SCHEMA, text).unwrap();
            assert!(
                filter.terms.iter().all(|t| matches!(t.test, Test::Word(_))),
                "{text}: {filter:?}"
            );
        }
        assert!(
            Filter::parse(&V1_SCHEMA, "http://x").is_err(),
            "an unknown key"
        );
    }

    #[test]
    fn every_name_means_one_field_and_a_fields_key_is_always_its_own() {
        for schema in [&V1_SCHEMA, &V2_SCHEMA] {
            let names = keys(schema);
            let unique: BTreeSet<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(unique.len(), names.len(), "{}", schema.backend);
            for spec in schema.fields {
                assert_eq!(field_named(schema, spec.key).unwrap().key, spec.key);
            }
        }
        assert_eq!(
            field_named(&V1_SCHEMA, "ambassador").unwrap().key,
            "student_id"
        );
        assert_eq!(
            field_named(&V1_SCHEMA, "verified").unwrap().key,
            "verified_at"
        );
        assert_eq!(field_named(&V2_SCHEMA, "status").unwrap().key, "state");
        assert_eq!(
            field_named(&V2_SCHEMA, "promoter").unwrap().key,
            "promoter_campaign.promoter.name"
        );
    }

    #[test]
    fn a_filter_narrows_when_each_earlier_term_stays_or_grows() {
        // (before, after, narrows)
        let cases = [
            ("", "a", true),
            ("ad", "ada", true),
            ("ada", "ada lo", true),
            ("ada lo", "lov ada", true),
            ("ADA", "ada", true),
            ("ada", "ad", false),
            ("ada", "", false),
            ("ada", "bob", false),
            ("status:conv", "status:converted", true),
            ("status:conv", "email:conv", false),
            ("status:conv", "status=converted", false),
            ("-ada", "-adam", false),
            ("-ada", "-ada bob", true),
            ("created:>2026-01-01", "created:>2026-01-01 ada", true),
            ("created:<7d", "created:<7d ada", false),
        ];
        for (before, after, narrows) in cases {
            let parse = |text| Filter::parse(&V1_SCHEMA, text).unwrap();
            assert_eq!(
                parse(after).narrows(&parse(before)),
                narrows,
                "{before:?} → {after:?}"
            );
        }
    }

    #[test]
    fn a_prepared_text_serves_free_words_and_the_record_keyed_terms() {
        let prepared = search_text(&V1_SCHEMA, &ada(), &names());
        for (text, want) in [("andre", true), ("bob", false), ("status=converted", true)] {
            let filter = Filter::parse(&V1_SCHEMA, text).unwrap();
            assert_eq!(
                filter.matches_prepared(&ada(), &prepared, &names(), now()),
                want,
                "{text}"
            );
        }
        // Words are looked for in the text given, not the record's.
        let filter = Filter::parse(&V1_SCHEMA, "zebra").unwrap();
        assert!(filter.matches_prepared(&ada(), "zebra", &NoNames, now()));
    }

    #[test]
    fn filters_combine_with_and() {
        let both = Filter::parse(&V1_SCHEMA, "ada")
            .unwrap()
            .and(Filter::parse(&V1_SCHEMA, "status=rejected").unwrap());
        assert!(!both.matches(&V1_SCHEMA, &ada(), &names(), now()));
        assert!(Filter::default().is_empty());
    }
}
