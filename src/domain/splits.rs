//! Commission splits (FirstPromoter `split_details`): rows of promoter campaign and percentage,
//! edited as text lines `<promoter campaign id> <percentage>`, adding up to at most 100.

use serde_json::{Value, json};

/// One row of a split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub promoter_campaign_id: i64,
    pub percentage: f64,
}

/// The rows of a stored or wanted `split_details` value; anything unreadable is skipped.
pub fn rows(value: &Value) -> Vec<Split> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some(Split {
                        promoter_campaign_id: item.get("promoter_campaign_id")?.as_i64()?,
                        percentage: item.get("percentage")?.as_f64()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
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
        let pct: f64 = pct
            .parse()
            .ok()
            .filter(|p: &f64| (0.0..=100.0).contains(p))
            .ok_or_else(|| {
                format!("Line {number}: the percentage must be a number from 0 to 100.")
            })?;
        parsed.push(Split {
            promoter_campaign_id: id,
            percentage: pct,
        });
    }
    let sum = total(&parsed);
    // A hair of tolerance: 0.2 + 83.9 + 15.9 adds up to 100.00000000000001 in floating point.
    if sum > 100.0 + 1e-9 {
        return Err(format!(
            "The percentages add up to {}%: at most 100.",
            percent(sum)
        ));
    }
    Ok(Value::Array(
        parsed
            .iter()
            .map(|r| json!({"promoter_campaign_id": r.promoter_campaign_id, "percentage": r.percentage}))
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
            json!([{"promoter_campaign_id": 1004, "percentage": 50.0}, {"promoter_campaign_id": 1007, "percentage": 30.0}])
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
        assert!(
            parse("1 0.2\n2 83.9\n3 15.9").is_ok(),
            "exactly 100 in decimals is allowed"
        );
    }
}
