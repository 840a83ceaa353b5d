//! The picture of a set of referrals (issue 13's stats view): how many are in each status of the
//! backend's funnel, who brought the most and who converted best, and how many reached the
//! backend's dated milestone on each of the last days. One pass over the rows, reading fields in
//! place, so it stays cheap at 100,000 referrals; what it counts on a backend is that backend's
//! `StatsSpec`, next to its schema.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, civil::Date};

use super::record::Record;
use super::schema::Schema;

/// How many referrers each ranking keeps.
pub const TOP: usize = 10;

/// Fewest referrals a referrer needs to be ranked by conversion: below it a rate says little
/// (one referral that converted is 100%).
pub const MIN_FOR_RATE: usize = 3;

/// What the stats of one backend count, in its own words.
#[derive(Debug)]
pub struct StatsSpec {
    /// Status words in the order a referral moves through them (pending → converted → verified).
    pub steps: &'static [&'static str],
    /// Status words that leave the funnel (rejected), in the order shown.
    pub exits: &'static [&'static str],
    /// Status words that count as a conversion when referrers are ranked.
    pub converted: &'static [&'static str],
    /// What a conversion is called in "41% converted".
    pub conversion: &'static str,
    /// The field holding who brought the referral (an ambassador's, a promoter's id).
    pub by: &'static str,
    /// The field holding that referrer's name in the referral itself, if any; otherwise the name
    /// is the looked-up name of `by` when it is a reference.
    pub by_name: Option<&'static str>,
    /// What a referrer is called: (one, many).
    pub who: (&'static str, &'static str),
    /// The timestamp counted per day (`verified_at`), and what reaching it is called ("Verified").
    pub per_day: (&'static str, &'static str),
}

/// The last days ending today in a time zone, each as the instant it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Days {
    first: Date,
    /// Where each day starts, and after the last one where tomorrow starts.
    starts: Vec<Timestamp>,
}

impl Days {
    /// The `count` days ending with the day `now` falls on in `tz`.
    pub fn ending(now: Timestamp, tz: &TimeZone, count: usize) -> Days {
        let today = now.to_zoned(tz.clone()).date();
        let first = today
            .checked_sub((count.max(1) as i64 - 1).days())
            .unwrap_or(today);
        let starts = (0..=count.max(1) as i64)
            .filter_map(|n| first.checked_add(n.days()).ok())
            .filter_map(|day| day.to_zoned(tz.clone()).ok())
            .map(|midnight| midnight.timestamp())
            .collect();
        Days { first, starts }
    }

    fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    /// The day `at` falls on, from 0 (the first); None outside the days.
    fn index(&self, at: Timestamp) -> Option<usize> {
        let after = self.starts.partition_point(|start| *start <= at);
        (after > 0 && after < self.starts.len()).then(|| after - 1)
    }
}

/// One referrer's counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// As the referral holds it (`user_…`, a promoter's number).
    pub id: String,
    /// From the referral itself (`StatsSpec::by_name`), when the backend sends one.
    pub name: Option<String>,
    pub referrals: usize,
    pub converted: usize,
}

impl Referrer {
    /// The conversion in whole percent.
    pub fn percent(&self) -> usize {
        percent(self.converted, self.referrals)
    }
}

/// `part` of `whole` in whole percent, rounded to the nearest; 0 of nothing.
pub fn percent(part: usize, whole: usize) -> usize {
    (part * 100 + whole / 2) / whole.max(1)
}

/// The counts for a set of referrals.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// Referrals counted.
    pub total: usize,
    /// (status word, referrals in it) for `StatsSpec::steps`, in order.
    pub steps: Vec<(&'static str, usize)>,
    /// The same for `StatsSpec::exits`.
    pub exits: Vec<(&'static str, usize)>,
    /// Referrals in none of those: a word the backend does not document, or none.
    pub other: usize,
    /// Referrals in a status that counts as converted.
    pub converted: usize,
    /// Referrers with the most referrals first (at most `TOP`).
    pub by_referrals: Vec<Referrer>,
    /// Referrers with the highest conversion first, among those with at least `MIN_FOR_RATE`
    /// referrals (at most `TOP`).
    pub by_conversion: Vec<Referrer>,
    /// Referrals that reached the dated milestone on each day, the first day first.
    pub per_day: Vec<u64>,
    pub first_day: Date,
    /// The latest milestone among the referrals, also outside the days: says how long ago the
    /// last one was when the days show none.
    pub latest: Option<Timestamp>,
}

impl Stats {
    /// Percent of all referrals counted.
    pub fn share(&self, count: usize) -> usize {
        percent(count, self.total)
    }
}

/// Who brought a referral, as it is held: text (`user_…`) or a number (a v2 promoter's id).
/// Kept as found so the pass allocates nothing per referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who<'a> {
    Text(&'a str),
    Number(u64),
}

/// Counts while passing over the referrals; `first` is a referral of theirs to name them from.
struct Tally<'a> {
    first: &'a Record,
    referrals: usize,
    converted: usize,
}

/// The stats of `rows` on `schema`'s backend, with the milestone counted per day of `days`.
pub fn tally<'a>(
    schema: &Schema,
    rows: impl IntoIterator<Item = &'a Record>,
    days: &Days,
) -> Stats {
    let spec = &schema.stats;
    let mut steps = vec![0; spec.steps.len()];
    let mut exits = vec![0; spec.exits.len()];
    let (mut total, mut other, mut converted) = (0, 0, 0);
    let mut per_day = vec![0; days.len()];
    let mut latest: Option<Timestamp> = None;
    let mut referrers: HashMap<Who, Tally> = HashMap::new();
    for record in rows {
        total += 1;
        let status = record.str(schema.status_field).unwrap_or_default();
        if let Some(at) = spec.steps.iter().position(|s| *s == status) {
            steps[at] += 1;
        } else if let Some(at) = spec.exits.iter().position(|s| *s == status) {
            exits[at] += 1;
        } else {
            other += 1;
        }
        let conversion = spec.converted.contains(&status);
        converted += usize::from(conversion);
        let who = match record.str(spec.by) {
            Some(text) if !text.is_empty() => Some(Who::Text(text)),
            Some(_) => None,
            None => record.number(spec.by).map(|n| Who::Number(n.to_bits())),
        };
        if let Some(who) = who {
            let tally = referrers.entry(who).or_insert(Tally {
                first: record,
                referrals: 0,
                converted: 0,
            });
            tally.referrals += 1;
            tally.converted += usize::from(conversion);
        }
        let reached = record
            .str(spec.per_day.0)
            .and_then(|text| text.parse::<Timestamp>().ok());
        if let Some(at) = reached {
            latest = latest.max(Some(at));
            if let Some(day) = days.index(at) {
                per_day[day] += 1;
            }
        }
    }
    let mut ranked: Vec<Referrer> = referrers
        .into_values()
        .map(|tally| Referrer {
            id: tally.first.text(spec.by).into_owned(),
            name: spec
                .by_name
                .and_then(|key| tally.first.str(key))
                .filter(|name| !name.trim().is_empty())
                .map(str::to_string),
            referrals: tally.referrals,
            converted: tally.converted,
        })
        .collect();
    ranked.sort_unstable_by(|a, b| b.referrals.cmp(&a.referrals).then_with(|| a.id.cmp(&b.id)));
    let by_referrals = ranked.iter().take(TOP).cloned().collect();
    ranked.retain(|r| r.referrals >= MIN_FOR_RATE);
    // Compared as fractions, so 2/3 and 4/6 are the same rate; more conversions first among equals.
    ranked.sort_unstable_by(|a, b| {
        (b.converted * a.referrals)
            .cmp(&(a.converted * b.referrals))
            .then_with(|| b.converted.cmp(&a.converted))
            .then_with(|| a.id.cmp(&b.id))
    });
    ranked.truncate(TOP);
    Stats {
        total,
        steps: spec.steps.iter().copied().zip(steps).collect(),
        exits: spec.exits.iter().copied().zip(exits).collect(),
        other,
        converted,
        by_referrals,
        by_conversion: ranked,
        per_day,
        first_day: days.first,
        latest,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};

    fn now() -> Timestamp {
        "2026-11-21T10:00:00Z".parse().unwrap()
    }

    fn days() -> Days {
        Days::ending(now(), &TimeZone::UTC, 30)
    }

    fn records(values: &[Value]) -> Vec<Record> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| Record::new(format!("r{i}"), v.as_object().unwrap().clone()))
            .collect()
    }

    /// A v1 referral: status, ambassador, verified_at.
    fn v1(status: &str, by: &str, verified: Option<&str>) -> Value {
        json!({"status": status, "student_id": by, "verified_at": verified})
    }

    #[test]
    fn the_days_end_today_in_the_zone_and_place_each_instant() {
        let days = days();
        assert_eq!(days.len(), 30);
        assert_eq!(days.first.to_string(), "2026-10-23");
        // (instant, its day from 0)
        let table = [
            ("2026-10-22T23:59:59Z", None),
            ("2026-10-23T00:00:00Z", Some(0)),
            ("2026-11-20T12:00:00Z", Some(28)),
            ("2026-11-21T23:59:59Z", Some(29)),
            ("2026-11-22T00:00:00Z", None),
        ];
        for (at, day) in table {
            assert_eq!(days.index(at.parse().unwrap()), day, "{at}");
        }
        // Local days: 04:30 on the 21st in UTC is still the 20th five hours west.
        let zone = TimeZone::fixed(jiff::tz::offset(-5));
        let local = Days::ending(now(), &zone, 2);
        assert_eq!(local.first.to_string(), "2026-11-20");
        assert_eq!(
            local.index("2026-11-21T04:30:00Z".parse().unwrap()),
            Some(0)
        );
        assert_eq!(
            local.index("2026-11-21T05:30:00Z".parse().unwrap()),
            Some(1)
        );
    }

    /// One row per rule of the status counts: where a status word is counted.
    #[test]
    fn each_status_is_counted_in_its_step_or_exit_or_as_other() {
        let rows = records(&[
            v1("pending", "u1", None),
            v1("pending", "u1", None),
            v1("converted", "u1", None),
            v1("verified", "u2", Some("2026-11-20T09:00:00Z")),
            v1("rejected", "u2", None),
            v1("archived", "u2", None),
            json!({"student_id": "u3"}),
        ]);
        let stats = tally(&V1_SCHEMA, &rows, &days());
        assert_eq!(stats.total, 7);
        assert_eq!(
            stats.steps,
            [("pending", 2), ("converted", 1), ("verified", 1)]
        );
        assert_eq!(stats.exits, [("rejected", 1)]);
        assert_eq!(stats.other, 2, "an unknown word and none");
        assert_eq!(stats.converted, 2, "converted and verified");
        assert_eq!(stats.share(2), 29);
    }

    #[test]
    fn the_milestone_is_counted_on_its_day_and_the_latest_is_kept() {
        let rows = records(&[
            v1("verified", "u1", Some("2026-11-21T09:00:00Z")),
            v1("verified", "u1", Some("2026-11-21T01:00:00Z")),
            v1("verified", "u1", Some("2026-10-23T00:00:00Z")),
            v1("verified", "u1", Some("2026-09-01T00:00:00Z")),
            v1("verified", "u1", Some("not a time")),
            // A referral verified, then moved back: still counted on the day it was verified.
            v1("pending", "u1", Some("2026-11-02T08:00:00+02:00")),
        ]);
        let stats = tally(&V1_SCHEMA, &rows, &days());
        assert_eq!(stats.per_day.len(), 30);
        assert_eq!(stats.per_day[29], 2, "today");
        assert_eq!(stats.per_day[0], 1, "the first day");
        assert_eq!(stats.per_day[10], 1, "2 Nov, read in its own offset");
        assert_eq!(stats.per_day.iter().sum::<u64>(), 4, "not September's");
        assert_eq!(stats.latest, Some("2026-11-21T09:00:00Z".parse().unwrap()));
        let none = tally(&V1_SCHEMA, &records(&[v1("pending", "u1", None)]), &days());
        assert_eq!((none.per_day.iter().sum::<u64>(), none.latest), (0, None));
    }

    /// Rankings: by referrals (ties by id); by conversion among those with enough referrals, as
    /// exact fractions, more conversions first among equal rates.
    #[test]
    fn referrers_are_ranked_by_referrals_and_by_conversion() {
        let mut values = Vec::new();
        // (ambassador, referrals, converted)
        for (by, count, conv) in [
            ("a", 6, 3),
            ("b", 3, 3),
            ("c", 4, 2),
            ("d", 2, 2),
            ("e", 6, 1),
        ] {
            for n in 0..count {
                let status = if n < conv { "verified" } else { "pending" };
                values.push(v1(status, by, None));
            }
        }
        values.push(v1("pending", "", None));
        let stats = tally(&V1_SCHEMA, &records(&values), &days());
        let ids = |list: &[Referrer]| list.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&stats.by_referrals), ["a", "e", "c", "b", "d"]);
        assert_eq!(
            ids(&stats.by_conversion),
            ["b", "a", "c", "e"],
            "d has too few; a (3/6) before c (2/4)"
        );
        assert_eq!(stats.by_conversion[0].percent(), 100);
        assert_eq!(stats.by_conversion[3].percent(), 17, "1 of 6, rounded");
        assert_eq!(stats.by_referrals[0].name, None, "v1 names are looked up");
    }

    #[test]
    fn at_most_top_referrers_are_kept() {
        let values: Vec<Value> = (0..TOP + 5)
            .map(|n| v1("pending", &format!("u{n:02}"), None))
            .collect();
        let stats = tally(&V1_SCHEMA, &records(&values), &days());
        assert_eq!(stats.by_referrals.len(), TOP);
        assert!(
            stats.by_conversion.is_empty(),
            "nobody has enough referrals"
        );
    }

    /// On FirstPromoter: its states, promoters by their number with the name the referral
    /// carries, and customers per day from `customer_since`.
    #[test]
    fn firstpromoter_counts_its_states_promoters_and_customers() {
        let referral = |state: &str, promoter: i64, since: Option<&str>| {
            json!({"state": state, "customer_since": since, "promoter_campaign":
                {"id": 1000 + promoter, "promoter": {"id": promoter, "name": format!("P{promoter}")}}})
        };
        let rows = records(&[
            referral("pending", 201, None),
            referral("signup", 201, None),
            referral("active", 201, Some("2026-11-21T08:00:00Z")),
            referral("cancelled", 202, Some("2026-11-01T08:00:00Z")),
            referral("denied", 202, None),
            referral("subscribed", 202, Some("2026-11-20T08:00:00Z")),
        ]);
        let stats = tally(&V2_SCHEMA, &rows, &days());
        let count = |word: &str| {
            stats
                .steps
                .iter()
                .chain(&stats.exits)
                .find(|(w, _)| *w == word)
                .map(|(_, n)| *n)
        };
        assert_eq!(count("pending"), Some(1));
        assert_eq!(count("denied"), Some(1));
        assert_eq!(count("moved"), Some(0));
        assert_eq!(stats.other, 0);
        assert_eq!(stats.converted, 3, "active, cancelled, subscribed");
        let first = &stats.by_referrals[0];
        assert_eq!(
            (first.id.as_str(), first.name.as_deref(), first.converted),
            ("201", Some("P201"), 1)
        );
        assert_eq!(stats.by_conversion[0].id, "202", "2 of 3");
        assert_eq!(stats.per_day.iter().sum::<u64>(), 3);
    }
}
