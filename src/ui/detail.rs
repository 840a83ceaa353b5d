//! The detail pane: every field of the selected referral, with names for referenced ids, local
//! times, and metadata pretty-printed. A value the server sent that could not be read is shown as
//! such, with what it was, on its field's line or, when no line shows it, at the end. A referral
//! the last bulk change did not land on says why first (`app::bulk_errors::note`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme::{self, Room, shown_value};
use crate::app::State;
use crate::app::state::Pane;
use crate::domain::Record;
use crate::domain::schema::FieldKind;

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let border = if state.focus == Pane::Detail {
        theme::label()
    } else {
        theme::dim()
    };
    let Some(record) = state.selected_record() else {
        let empty = Paragraph::new("Nothing selected.")
            .block(Block::bordered().title(" Detail ").border_style(border));
        frame.render_widget(empty, area);
        return;
    };
    let block = Block::bordered()
        .title(format!(" {} · {} ", record.title(state.schema), record.id))
        .border_style(border);
    let paragraph = Paragraph::new(field_lines(state, record))
        .block(block)
        .wrap(Wrap { trim: false })
        .scroll((state.detail_scroll, 0));
    frame.render_widget(paragraph, area);
}

/// Every field of `record` as `label value` lines, with metadata pretty-printed below its label,
/// after the last bulk change's error for it, if it has one.
pub fn field_lines(state: &State, record: &Record) -> Vec<Line<'static>> {
    let label_width = state
        .schema
        .fields
        .iter()
        .map(|f| f.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    if let Some(note) = crate::app::bulk_errors::note(state, &record.id) {
        lines.push(Line::styled(note, theme::error()));
        lines.push(Line::raw(""));
    }
    for spec in state.schema.fields {
        let value = &record.get(spec.key);
        let label = Span::styled(format!("{:<label_width$} ", spec.label), theme::label());
        if spec.kind == FieldKind::JsonObject && value.is_object() {
            lines.push(Line::from(label));
            let value = crate::text_safety::capped_json(value);
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            lines.extend(
                pretty
                    .lines()
                    .map(|l| Line::from(format!("  {}", crate::text_safety::capped(l)))),
            );
            continue;
        }
        let notes: Vec<String> = record
            .unreadable_under(spec.key)
            .map(|u| u.note(spec.key))
            .collect();
        let mut spans = vec![label];
        if notes.is_empty() || !value.is_null() {
            let text = shown_value(state, spec, value, Room::Detail);
            spans.push(if spec.key == state.schema.status_field {
                Span::styled(text.clone(), theme::status_style(state.schema, &text))
            } else {
                Span::raw(text)
            });
            if !notes.is_empty() {
                spans.push(Span::raw(" "));
            }
        }
        if !notes.is_empty() {
            spans.push(Span::styled(notes.join(" "), theme::error()));
        }
        lines.push(Line::from(spans));
    }
    let unplaced = record.unplaced_unreadable(state.schema);
    if !unplaced.is_empty() {
        lines.push(Line::from(Span::styled("Also sent", theme::label())));
        lines.extend(
            unplaced
                .iter()
                .map(|u| Line::from(Span::styled(format!("  {}", u.note("")), theme::error()))),
        );
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::record::Unreadable;
    use crate::domain::schema::V2_SCHEMA;

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_huge_value_is_laid_out_cut_and_kept_whole() {
        let state = State::sample();
        let huge = "A".repeat(5_000_000);
        let values = json!({"first_name": huge, "metadata": {"note": huge}});
        let record = Record::new("ref_1", values.as_object().unwrap().clone());
        let lines = text(&field_lines(&state, &record));
        let longest = lines.iter().map(|l| l.chars().count()).max().unwrap();
        assert!(longest < 2_100, "a line of {longest} characters");
        let name = lines.iter().find(|l| l.starts_with("First name")).unwrap();
        assert!(
            name.ends_with("… (4998000 more)"),
            "{}",
            &name[name.len() - 30..]
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("more)") && l.contains("\"note\""))
        );
        assert_eq!(
            record.text("first_name").len(),
            5_000_000,
            "what is stored is whole"
        );
    }

    #[test]
    fn unreadable_values_are_shown_as_such_on_their_line_or_at_the_end() {
        let mut state = State::sample();
        state.schema = &V2_SCHEMA;
        let values = json!({
            "id": 5002, "first_name": "Ada", "last_name": "Lovelace", "is_expired": true,
            "split_details": [{"promoter_campaign_id": 1007, "percentage": 50.0}, {"promoter_id": 9}]
        });
        let mut record = Record::new("5002", values.as_object().unwrap().clone());
        let bad = |path: &str, expected, raw| Unreadable {
            path: path.into(),
            expected,
            raw,
        };
        record.unreadable = vec![
            bad("state", "text", json!({"code": 3})),
            bad("split_details[1].percentage", "a number", json!("lots")),
            bad("promoter_campaign", "an object", json!("1004")),
        ];
        let lines = text(&field_lines(&state, &record));
        let line = |label: &str| {
            lines
                .iter()
                .find(|l| l.starts_with(label))
                .unwrap_or_else(|| panic!("no {label} line in {lines:#?}"))
                .clone()
        };
        assert!(line("First name").ends_with(" Ada"));
        assert!(line("Last name").ends_with(" Lovelace"));
        assert!(line("Expired").ends_with(" yes"));
        assert!(
            line("State").ends_with(r#" (unreadable: expected text, got {"code":3})"#),
            "{lines:#?}"
        );
        assert!(
            line("Split details").ends_with(
                r#" 1007 50% + promoter 9 ?% (unreadable [1].percentage: expected a number, got "lots")"#
            ),
            "{lines:#?}"
        );
        let end = &lines[lines.len() - 2..];
        assert_eq!(
            end,
            [
                "Also sent".to_string(),
                r#"  (unreadable promoter_campaign: expected an object, got "1004")"#.to_string()
            ]
        );
    }

    #[test]
    fn a_long_unreadable_value_is_cut() {
        let state = State::sample();
        let mut record = Record::new("ref_1", serde_json::Map::new());
        record.unreadable.push(Unreadable {
            path: "email".into(),
            expected: "text",
            raw: json!({"text": "x".repeat(500)}),
        });
        let lines = text(&field_lines(&state, &record));
        let email = lines.iter().find(|l| l.starts_with("Email")).unwrap();
        assert!(email.ends_with("…)"), "{email}");
        assert!(email.chars().count() < 120, "{email}");
    }
}
