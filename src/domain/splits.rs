//! Commission splits (FirstPromoter `split_details`): rows of promoter campaign and percentage,
//! edited as text lines `<promoter campaign id> <percentage>`, adding up to at most 100. The spec
//! types a percentage as a whole number 0–100: that is what the editor accepts and sends; what a
//! server holds is read as it is (a number or a numeric string), so nothing it sends is hidden.

use serde_json::{Value, json};

/// One row of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub promoter_campaign_id: i64,
    pub percentage: f64,
}

/// The rows of a stored or wanted `split_details` value; anything unreadable is skipped.
pub fn rows(value: &Value) -> Vec<Split> {
    entries(value).iter().filter_map(row).collect()
}

fn entries(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// One entry as an editor row; None when it lacks the promoter campaign id or the percentage.
fn row(item: &Value) -> Option<Split> {
    Some(Split {
        promoter_campaign_id: item_number(item, "promoter_campaign_id")? as i64,
        percentage: item_number(item, "percentage")?,
    })
}

/// Why the editor cannot hold a stored value whole: the spec requires no key of an entry, and an
/// entry without a promoter campaign id or a percentage has no editor line, so saving the
/// editor's text would drop it. None when every entry has its line.
pub fn unkept(value: &Value) -> Option<String> {
    let (index, entry, missing) = entries(value).iter().enumerate().find_map(|(i, entry)| {
        let missing: Vec<&str> = ["promoter_campaign_id", "percentage"]
            .into_iter()
            .filter(|key| item_number(entry, key).is_none())
            .collect();
        (!missing.is_empty()).then_some((i, entry, missing))
    })?;
    // What the entry does say, so the admin can tell which it is.
    let promoter = entry
        .get("promoter_id")
        .filter(|id| !id.is_null())
        .map(|id| format!("promoter {}", super::record::value_text(id)));
    let share = item_number(entry, "percentage").map(|p| format!("{}%", percent(p)));
    let known: Vec<String> = promoter.into_iter().chain(share).collect();
    let known = match known.as_slice() {
        [] => String::new(),
        parts => format!(" ({})", parts.join(", ")),
    };
    Some(format!(
        "split entry {}{known} has no {}",
        index + 1,
        missing.join(" and ")
    ))
}

fn item_number(item: &Value, key: &str) -> Option<f64> {
    number(item.get(key)?)
}

/// A JSON number, or a string holding one (`"25.0"`, `"1004"`).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn total(rows: &[Split]) -> f64 {
    // Adding 0.0 turns the empty sum's -0.0 into 0.
    rows.iter().map(|r| r.percentage).sum::<f64>() + 0.0
}

fn percent(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// The editor text for a value: one `id percentage` line per row.
pub fn to_text(value: &Value) -> String {
    rows(value)
        .iter()
        .map(|r| format!("{} {}", r.promoter_campaign_id, percent(r.percentage)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// "1004 50% · 1007 30%" for reviews and messages.
pub fn summary(value: &Value) -> String {
    let rows = rows(value);
    if rows.is_empty() {
        return "(none)".into();
    }
    rows.iter()
        .map(|r| format!("{} {}%", r.promoter_campaign_id, percent(r.percentage)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Parses editor text into the body value `[{promoter_campaign_id, percentage}]`.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut parsed = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
        if line.is_empty() {
            continue;
        }
        let cleaned = line.replace([':', ',', '%'], " ");
        let mut parts = cleaned.split_whitespace();
        let (Some(id), Some(pct), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!(
                "Line {number}: write `<promoter campaign id> <percentage>`, like `1004 50`."
            ));
        };
        let id: i64 = id.parse().map_err(|_| {
            format!("Line {number}: `{id}` is not a promoter campaign id (a whole number).")
        })?;
        let pct: u8 = pct.parse().ok().filter(|p| *p <= 100).ok_or_else(|| {
            format!("Line {number}: the percentage must be a whole number from 0 to 100.")
        })?;
        parsed.push(Split {
            promoter_campaign_id: id,
            percentage: f64::from(pct),
        });
    }
    let sum = total(&parsed);
    if sum > 100.0 {
        return Err(format!(
            "The percentages add up to {}%: at most 100.",
            percent(sum)
        ));
    }
    Ok(Value::Array(
        parsed
            .iter()
            .map(|r| json!({"promoter_campaign_id": r.promoter_campaign_id, "percentage": r.percentage as u8}))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_rows_and_back() {
        let value = parse("1004 50\n\n1007: 30%").unwrap();
        assert_eq!(
            value,
            json!([{"promoter_campaign_id": 1004, "percentage": 50}, {"promoter_campaign_id": 1007, "percentage": 30}])
        );
        assert_eq!(to_text(&value), "1004 50\n1007 30");
        assert_eq!(summary(&value), "1004 50% · 1007 30%");
        assert_eq!(parse("").unwrap(), json!([]));
    }

    #[test]
    fn bad_rows_and_totals_over_100_are_refused() {
        assert!(parse("1004").unwrap_err().starts_with("Line 1"));
        assert!(
            parse("abc 10")
                .unwrap_err()
                .contains("not a promoter campaign id")
        );
        assert!(parse("1004 120").unwrap_err().contains("0 to 100"));
        assert_eq!(
            parse("1004 70\n1007 40").unwrap_err(),
            "The percentages add up to 110%: at most 100."
        );
        assert!(parse("1 60\n2 40").is_ok(), "exactly 100 is allowed");
    }

    #[test]
    fn percentages_are_whole_numbers_sent_as_integers() {
        for fraction in ["1004 33.5", "1004 25.0", "1004 -1", "1004 1e2"] {
            assert!(
                parse(fraction).unwrap_err().contains("whole number"),
                "{fraction}"
            );
        }
        let sent = parse("1004 25").unwrap();
        assert!(
            sent[0]["percentage"].is_u64(),
            "an integer on the wire: {sent}"
        );
    }

    #[test]
    fn an_entry_without_its_id_or_percentage_is_named_as_one_the_editor_cannot_keep() {
        let cases = [
            (json!(null), None),
            (json!([]), None),
            (
                json!([{"promoter_campaign_id": "1004", "promoter_id": 7, "percentage": "25.0"}]),
                None,
            ),
            (
                json!([{"promoter_campaign_id": 1004, "percentage": 25}, {"promoter_id": 214, "percentage": 40}]),
                Some("split entry 2 (promoter 214, 40%) has no promoter_campaign_id"),
            ),
            (
                json!([{"promoter_campaign_id": 1004}]),
                Some("split entry 1 has no percentage"),
            ),
            (
                json!([{"promoter_id": 7}]),
                Some("split entry 1 (promoter 7) has no promoter_campaign_id and percentage"),
            ),
        ];
        for (held, expected) in cases {
            assert_eq!(unkept(&held).as_deref(), expected, "{held}");
            let lines = to_text(&held).lines().count();
            assert_eq!(
                lines < held.as_array().map_or(0, Vec::len),
                expected.is_some(),
                "an entry is named exactly when the editor has no line for it: {held}"
            );
        }
    }

    #[test]
    fn what_a_server_holds_is_read_as_it_is() {
        let held = json!([
            {"promoter_campaign_id": "1004", "percentage": "25.0"},
            {"promoter_campaign_id": 1007, "percentage": 12.5},
            {"percentage": 10}
        ]);
        assert_eq!(summary(&held), "1004 25% · 1007 12.5%");
    }
}
