//! Modal layers drawn over the screen: help, the review of a change, questions, the reject reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::State;
use crate::app::state::{Overlay, Question};
use crate::domain::diff::ChangeSet;

const KEYS: &[(&str, &str)] = &[
    ("j/k ↑/↓", "move in the list (g/G top/bottom, PgUp/PgDn)"),
    ("Enter", "open the detail pane"),
    ("Tab", "switch list / detail (j/k then scroll the detail)"),
    ("/", "filter by name, email or id as you type; Esc clears"),
    ("e", "edit the selected referral"),
    ("v", "verified (sets verified_at and verified_by)"),
    ("c / p", "converted / pending"),
    ("x", "rejected (asks for a reason)"),
    ("r", "reload from the server"),
    ("", ""),
    ("Tab ↑/↓", "form: next / previous field"),
    ("←/→", "form: pick a status"),
    ("Ctrl-s", "form: review the change, then y sends"),
    ("Esc", "form: leave (asks if unsent)"),
    ("", ""),
    ("?", "this help"),
    ("q Ctrl-c", "quit (asks if anything is unsent)"),
];

pub fn render(state: &State, overlay: &Overlay, frame: &mut Frame) {
    let area = frame.area();
    match overlay {
        Overlay::Help => {
            let lines: Vec<Line> = KEYS
                .iter()
                .map(|(key, what)| {
                    Line::from(vec![
                        Span::styled(format!("{key:>10}  "), theme::label()),
                        Span::raw(*what),
                    ])
                })
                .collect();
            popup(frame, area, " Keys · any key closes ", lines, 70);
        }
        Overlay::Review(changes) => {
            let id = state
                .form
                .as_ref()
                .map(|f| f.record_id.as_str())
                .unwrap_or("");
            popup(
                frame,
                area,
                &format!(" Review · PUT /referrals/{id} "),
                review_lines(changes),
                76,
            );
        }
        Overlay::Confirm(question) => {
            let text = match question {
                Question::Quit => {
                    "Quit? Unsent changes in the form, or writes still in flight, will be lost."
                }
                Question::DiscardForm => "Leave the form and discard what you typed?",
            };
            let lines = vec![
                Line::raw(text),
                Line::raw(""),
                Line::styled("y yes · n no", theme::dim()),
            ];
            popup(frame, area, " Are you sure? ", lines, 60);
        }
        Overlay::RejectReason { id, input, error } => {
            let name = state
                .record(id)
                .map(|r| r.title(state.schema))
                .unwrap_or_default();
            let mut lines = vec![
                Line::raw(format!("Reject {name} ({id})")),
                Line::styled("Reason, stored as metadata.rejection_reason:", theme::dim()),
                Line::styled(format!("> {}", input.text()), Style::new().fg(Color::White)),
            ];
            if let Some(error) = error {
                lines.push(Line::styled(format!("✗ {error}"), theme::error()));
            }
            lines.push(Line::styled("Enter reject · Esc cancel", theme::dim()));
            let inner = popup(frame, area, " Reject ", lines, 64);
            let x = inner.x + 2 + input.cursor().1 as u16;
            frame.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y + 2));
        }
    }
}

fn review_lines(changes: &ChangeSet) -> Vec<Line<'static>> {
    let width = changes
        .changes
        .iter()
        .map(|c| c.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = changes
        .changes
        .iter()
        .map(|c| {
            Line::from(vec![
                Span::styled(format!("{:<width$}  ", c.label), theme::label()),
                Span::styled(c.before.clone(), Style::new().fg(Color::Red)),
                Span::raw(" → "),
                Span::styled(c.after.clone(), Style::new().fg(Color::Green)),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Body that will be sent (changed fields only):",
        theme::dim(),
    ));
    let body = serde_json::to_string_pretty(&changes.body).unwrap_or_default();
    lines.extend(body.lines().map(|l| Line::raw(l.to_string())));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "y send · n / Esc back to the form",
        theme::dim(),
    ));
    lines
}

/// Draws a bordered box centred on `area`, sized to its lines, and returns its inner area.
fn popup(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    lines: Vec<Line<'static>>,
    width: u16,
) -> Rect {
    let width = width.min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let block = Block::bordered().title(title.to_string());
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
    inner
}
