//! The edit form: one row per editable field, its error in red directly under it, and a hint where
//! the way text is read is not obvious (times, metadata mode).

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{text_view, theme};
use crate::app::State;
use crate::app::form::{FieldInput, Form, FormField};
use crate::app::mouse::FieldRows;
use crate::domain::MetadataMode;
use crate::domain::schema::{FieldKind, RefKind};
use crate::domain::splits;
use crate::domain::validate::input_hint;

/// Lines the metadata editor gets at least, even on a short terminal.
const MIN_EDITOR_LINES: usize = 3;

/// Draws the form in `area` and says which lines each field took (for the mouse).
pub fn render(state: &State, form: &Form, frame: &mut Frame, area: Rect) -> Vec<FieldRows> {
    let title = match state.record(&form.record_id) {
        Some(r) => format!(" Edit {} · {} ", r.title(state.schema), r.id),
        None => format!(" Edit {} ", form.record_id),
    };
    let saving = if form.saving.is_some() {
        " Saving… "
    } else {
        ""
    };
    let block = Block::bordered().title(title).title(Span::styled(
        saving,
        theme::level_style(crate::app::state::Level::Info),
    ));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut lines = vec![Line::styled(
        super::hints(state, crate::app::keymap::form_places(form)),
        theme::dim(),
    )];
    if let Some(top) = &form.top_error {
        lines.push(Line::styled(format!("✗ {top}"), theme::error()));
    }
    let label_width = form
        .fields
        .iter()
        .map(|f| f.spec.label.chars().count())
        .max()
        .unwrap_or(0);
    let value_width = (inner.width as usize).saturating_sub(label_width + 3);
    let fixed: usize = form
        .fields
        .iter()
        .map(|f| field_height(state, f, 0, value_width))
        .sum::<usize>()
        + lines.len();
    let editor_lines = (inner.height as usize)
        .saturating_sub(fixed)
        .max(MIN_EDITOR_LINES);
    let mut cursor = None;
    let mut rows = Vec::new();
    for (index, field) in form.fields.iter().enumerate() {
        let top = lines.len();
        let focused = index == form.focus;
        let label_style = if focused {
            theme::focused()
        } else {
            theme::label()
        };
        let label = Span::styled(format!("{:>label_width$} ", field.spec.label), label_style);
        let value_x = inner.x + label_width as u16 + 2;
        match &field.input {
            FieldInput::Pick { kind, id } => {
                let name = match (id.is_empty(), state.lookup(*kind, id)) {
                    (true, _) => "(none)".to_string(),
                    (false, Some(name)) => format!("{name} ({id})"),
                    (false, None) => id.clone(),
                };
                let mut spans = vec![label, Span::raw(" "), Span::raw(name)];
                if focused {
                    spans.push(Span::styled("  Enter or type to search", theme::dim()));
                }
                lines.push(Line::from(spans));
            }
            FieldInput::Choice { options, selected }
                if options.iter().map(|o| o.len() + 2).sum::<usize>() + label_width + 2
                    > inner.width as usize =>
            {
                // Too many words for one line: show the chosen one between arrows.
                let word = selected
                    .map(|i| options[i])
                    .unwrap_or(field.original.as_str());
                lines.push(Line::from(vec![
                    label,
                    Span::raw(" ◀ "),
                    Span::styled(
                        word.to_string(),
                        theme::status_style(state.schema, word).add_modifier(Modifier::REVERSED),
                    ),
                    Span::raw(" ▶"),
                ]));
            }
            FieldInput::Choice { options, selected } => {
                let mut spans = vec![label, Span::raw(" ")];
                for (i, option) in options.iter().enumerate() {
                    let style = if Some(i) == *selected {
                        theme::status_style(state.schema, option).add_modifier(Modifier::REVERSED)
                    } else {
                        theme::dim()
                    };
                    spans.push(Span::styled(format!(" {option} "), style));
                }
                if selected.is_none() {
                    spans.push(Span::styled(
                        format!(" (now: {})", field.original),
                        theme::error(),
                    ));
                }
                lines.push(Line::from(spans));
            }
            FieldInput::Text(buffer) if buffer.is_multiline() => {
                lines.push(Line::from(label));
                let (row, col) = buffer.cursor();
                let first = row.saturating_sub(editor_lines.saturating_sub(1));
                for (i, text) in buffer
                    .lines()
                    .iter()
                    .enumerate()
                    .skip(first)
                    .take(editor_lines)
                {
                    let at = if i == row { col } else { 0 };
                    let (shown, x) = text_view::window(text, at, value_width);
                    if focused && i == row {
                        cursor = Some((value_x + x, lines.len()));
                    }
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(label_width + 2)),
                        Span::raw(shown),
                    ]));
                }
            }
            FieldInput::Locked { why } => {
                let (shown, _) = text_view::window(&field.original, 0, value_width);
                lines.push(Line::from(vec![
                    label,
                    Span::raw(" "),
                    Span::styled(shown, theme::dim()),
                ]));
                lines.extend(text_view::wrap(why, value_width).into_iter().map(|part| {
                    Line::styled(
                        format!("{}{part}", " ".repeat(label_width + 2)),
                        theme::error(),
                    )
                }));
            }
            FieldInput::Text(buffer) => {
                let (shown, x) =
                    text_view::window(buffer.cursor_line(), buffer.cursor().1, value_width);
                if focused {
                    cursor = Some((value_x + x, lines.len()));
                }
                lines.push(Line::from(vec![label, Span::raw(" "), Span::raw(shown)]));
            }
        }
        let indent = " ".repeat(label_width + 2);
        if let Some(error) = &field.error {
            lines.push(Line::styled(format!("{indent}✗ {error}"), theme::error()));
        }
        if let Some(hint) = hint(state, field).filter(|_| field.error.is_none()) {
            lines.extend(
                hint.lines()
                    .map(|l| Line::styled(format!("{indent}{l}"), theme::dim())),
            );
        }
        // Lines past the bottom are not drawn: a field there cannot be clicked.
        let on_screen = |line: usize| inner.y + (line as u16).min(inner.height);
        if on_screen(top) < on_screen(lines.len()) {
            rows.push(FieldRows {
                index,
                top: on_screen(top),
                bottom: on_screen(lines.len()),
            });
        }
    }
    frame.render_widget(Paragraph::new(theme::capped(lines)), inner);
    if let Some((x, line)) = cursor
        && form.saving.is_none()
        && (line as u16) < inner.height
    {
        frame.set_cursor_position(Position::new(
            x.min(inner.right().saturating_sub(1)),
            inner.y + line as u16,
        ));
    }
    rows
}

/// Lines a field takes besides its editor body.
fn field_height(
    state: &State,
    field: &FormField,
    editor_lines: usize,
    value_width: usize,
) -> usize {
    let body = match &field.input {
        FieldInput::Text(b) if b.is_multiline() => 1 + editor_lines,
        // The value and why it cannot be edited, in lines of the value's width.
        FieldInput::Locked { why } => 1 + text_view::wrap(why, value_width).len(),
        _ => 1,
    };
    // An error takes the place of the hint.
    let notes = match (&field.error, hint(state, field)) {
        (Some(_), _) => 1,
        (None, Some(hint)) => hint.lines().count(),
        (None, None) => 0,
    };
    body + notes
}

fn hint(state: &State, field: &FormField) -> Option<String> {
    if matches!(field.input, FieldInput::Locked { .. }) {
        return None;
    }
    match field.spec.kind {
        FieldKind::JsonObject => Some(match state.session.metadata_mode {
            MetadataMode::Merge => "Merge mode: keys you remove are sent as null.".to_string(),
            MetadataMode::Replace => {
                "Replace mode: this object replaces the stored one whole.".to_string()
            }
        }),
        FieldKind::Splits => Some(splits_hint(state, &field.text())),
        _ => input_hint(field.spec, &field.text(), &state.clock),
    }
}

/// The running total of a split as typed, with the promoter campaigns' names.
fn splits_hint(state: &State, text: &str) -> String {
    let Ok(value) = splits::parse(text) else {
        return "One row per partner: `<promoter campaign id> <percentage>`, whole numbers; at most 100 in all."
            .into();
    };
    let rows = splits::rows(&value);
    let shared = splits::total(&rows);
    let mut hint = format!(
        "Shared {shared}% · the referral's promoter keeps {}%",
        100.0 - shared
    );
    for row in &rows {
        let id = row.promoter_campaign_id.to_string();
        let name = state
            .lookup(RefKind::PromoterCampaign, &id)
            .unwrap_or("unknown promoter campaign");
        hint.push_str(&format!("\n{id} = {name}"));
    }
    hint
}
