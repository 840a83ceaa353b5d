//! Colours that mean something: one per status word, red for errors, green for success, and how a
//! field value is turned into text for a given place on screen.

use std::borrow::Cow;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use serde_json::Value;

use crate::app::State;
use crate::app::state::Level;
use crate::domain::Schema;
use crate::domain::policy::Tone;
use crate::domain::record::value_text;
use crate::domain::schema::{FieldKind, FieldSpec, RefKind};

/// A status word of `schema`'s backend in the colour of what it means.
pub fn status_style(schema: &Schema, word: &str) -> Style {
    tone_style(schema.policy.tone(word))
}

pub fn tone_style(tone: Tone) -> Style {
    let color = match tone {
        Tone::Waiting => Color::Yellow,
        Tone::Progressing => Color::Cyan,
        Tone::Good => Color::Green,
        Tone::Customer => Color::Blue,
        Tone::Refused => Color::Red,
        Tone::Reversed => Color::Magenta,
        Tone::Closed => Color::Gray,
        Tone::Unknown => Color::LightMagenta,
    };
    Style::new().fg(color).add_modifier(Modifier::BOLD)
}

/// A colour from `#3b82f6`-style text, as campaigns carry.
pub fn hex_colour(text: &str) -> Option<Color> {
    let hex = text.trim().strip_prefix('#')?;
    if hex.len() != 6 {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    Some(Color::Rgb(
        (value >> 16) as u8,
        (value >> 8) as u8,
        value as u8,
    ))
}

pub fn level_style(level: Level) -> Style {
    match level {
        Level::Info => Style::new(),
        Level::Success => Style::new().fg(Color::Green),
        Level::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
    }
}

pub fn error() -> Style {
    Style::new().fg(Color::Red)
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn label() -> Style {
    Style::new().fg(Color::Gray)
}

pub fn focused() -> Style {
    Style::new().fg(Color::Black).bg(Color::Cyan)
}

pub fn focused_mark() -> Style {
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
}

pub fn selected_row() -> Style {
    Style::new()
        .bg(Color::DarkGray)
        .add_modifier(Modifier::BOLD)
}

/// Where a value is shown: lists want it short, the detail pane wants all of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Room {
    Cell,
    Detail,
}

/// "Felix Sullivan · Affiliates 2026 50% + …" for split details, "—" when there are none. An entry
/// without a promoter campaign names its promoter ("promoter 7"), or "?"; a missing percentage is "?".
fn splits_text(state: &State, value: &Value) -> String {
    let entries = value.as_array().map(Vec::as_slice).unwrap_or_default();
    if entries.is_empty() {
        return "—".into();
    }
    let number = |entry: &Value, key: &str| {
        entry
            .get(key)
            .filter(|v| v.is_number())
            .map(Value::to_string)
    };
    entries
        .iter()
        .map(|entry| {
            let name = match (
                number(entry, "promoter_campaign_id"),
                number(entry, "promoter_id"),
            ) {
                (Some(id), _) => state
                    .lookup(RefKind::PromoterCampaign, &id)
                    .map_or(id.clone(), str::to_string),
                (None, Some(promoter)) => format!("promoter {promoter}"),
                (None, None) => "?".into(),
            };
            let share = entry
                .get("percentage")
                .and_then(Value::as_f64)
                .map_or("?".into(), |p| p.to_string());
            format!("{name} {share}%")
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A field's value as text: names for references, local time for timestamps, "—" for nothing.
pub fn shown_value(state: &State, spec: &FieldSpec, value: &Value, room: Room) -> String {
    if spec.kind == FieldKind::Splits {
        return splits_text(state, value);
    }
    if let Value::Bool(flag) = value {
        return if *flag { "yes" } else { "no" }.into();
    }
    let text = value_text(value);
    // Almost every value is short: it is kept as it is, only a huge one is cut (a new string).
    let text = match crate::text_safety::capped(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(cut) => cut,
    };
    if text.is_empty() {
        return if room == Room::Detail {
            "—".into()
        } else {
            String::new()
        };
    }
    match (spec.kind, room) {
        (FieldKind::Timestamp, Room::Cell) => state.clock.local_short(&text),
        (FieldKind::Timestamp, Room::Detail) => state.clock.local_long(&text),
        (FieldKind::Reference(kind), Room::Cell) => {
            state.lookup(kind, &text).unwrap_or(&text).to_string()
        }
        (FieldKind::Reference(kind), Room::Detail) => match state.lookup(kind, &text) {
            Some(name) => format!("{name} ({text})"),
            None => text,
        },
        _ => text,
    }
}

/// `lines` with each span cut to `text_safety::SHOWN_CHARS` characters ("… (N more)"), for a view
/// that lays out text it did not cut itself (dialogs, the form, triage's card): a huge value or
/// server message then costs no more to wrap than a name.
pub fn capped(mut lines: Vec<Line<'static>>) -> Vec<Line<'static>> {
    for span in lines.iter_mut().flat_map(|l| l.spans.iter_mut()) {
        if let Cow::Owned(cut) = crate::text_safety::capped(&span.content) {
            span.content = Cow::Owned(cut);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use ratatui::text::{Line, Span};

    #[test]
    fn capped_cuts_each_long_span_and_keeps_short_ones_and_styles() {
        let huge = "A".repeat(3_000_000);
        let lines = vec![
            Line::from(vec![
                Span::styled("Name ", super::label()),
                Span::styled(huge.clone(), super::error()),
            ]),
            Line::raw("short"),
        ];
        let lines = super::capped(lines);
        assert_eq!(lines[0].spans[0].content, "Name ");
        let cut = &lines[0].spans[1];
        assert!(
            cut.content.ends_with("… (2998000 more)"),
            "{}",
            cut.content.len()
        );
        assert!(cut.content.chars().count() < 2_100);
        assert_eq!(cut.style, super::error());
        assert_eq!(lines[1].spans[0].content, "short");
    }
}
