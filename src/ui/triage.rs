//! The verification session screen: progress, one referral large, its last error if a write
//! failed, and the reason prompt with recent reasons on number keys.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme;
use crate::app::State;
use crate::app::triage::Triage;

pub fn render(state: &State, triage: &Triage, frame: &mut Frame, area: Rect) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(if triage.reason.is_some() { 5 } else { 3 }),
    ])
    .areas(area);
    let pace = match triage.per_hour(state.clock.now) {
        Some(rate) => format!("{rate:.0} per hour"),
        None => "first minute".to_string(),
    };
    let progress = format!(
        " Triage {}/{} · {} failed · {pace} ",
        triage.decided(),
        triage.total,
        triage.errors.len(),
    );
    frame.render_widget(
        Paragraph::new(Line::styled(progress, theme::focused())),
        header,
    );

    let Some(id) = triage.current() else {
        let done = format!("All {} done. q shows the summary.", triage.total);
        frame.render_widget(Paragraph::new(done).block(Block::bordered()), body);
        return;
    };
    let Some(record) = state.record(id) else {
        frame.render_widget(
            Paragraph::new(format!("{id} is no longer loaded: s skips it."))
                .block(Block::bordered()),
            body,
        );
        return;
    };
    let mut lines = vec![Line::styled(
        record.title(state.schema),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if let Some(error) = triage.errors.get(id) {
        lines.push(Line::styled(
            format!("✗ Last write failed: {error}"),
            theme::error(),
        ));
    }
    let status = record.text(state.schema.status_field);
    // A referral in the queue's state got there at its last update; v2 has no updated_at.
    let in_queue_state = status == state.schema.triage_default.1;
    let since = ["updated_at", "created_at"]
        .into_iter()
        .filter(|key| in_queue_state || *key == "created_at")
        .find_map(|key| record.text(key).parse::<Timestamp>().ok());
    if let Some(when) = since {
        lines.push(Line::raw(format!(
            "{status} {}",
            ago(state.clock.now, when)
        )));
    }
    lines.push(Line::raw(""));
    lines.extend(super::detail::field_lines(state, record));
    let card = Paragraph::new(theme::capped(lines))
        .block(Block::bordered().title(format!(" {id} ")))
        .wrap(Wrap { trim: false })
        .scroll((triage.scroll, 0));
    frame.render_widget(card, body);

    let keys = match &triage.reason {
        Some(reason) => {
            let recent: Vec<String> = triage
                .recent_reasons
                .iter()
                .enumerate()
                .map(|(i, r)| format!("Alt-{} {r}", i + 1))
                .collect();
            vec![
                Line::from(vec![
                    Span::styled("Reason: ", theme::label()),
                    Span::styled(reason.text(), Style::new().fg(Color::White)),
                ]),
                Line::styled(
                    if recent.is_empty() {
                        "Type a reason, Enter rejects · Esc cancels".to_string()
                    } else {
                        recent.join(" · ")
                    },
                    theme::dim(),
                ),
            ]
        }
        None => vec![Line::styled(
            "v verify · x reject · s skip · u undo · j/k scroll · q leave",
            theme::dim(),
        )],
    };
    frame.render_widget(
        Paragraph::new(keys)
            .block(Block::bordered())
            .wrap(Wrap { trim: false }),
        footer,
    );
    if let Some(reason) = &triage.reason {
        frame.set_cursor_position((footer.x + 9 + reason.cursor().1 as u16, footer.y + 1));
    }
}

/// "3 days ago", "5 hours ago", "just now".
fn ago(now: Timestamp, then: Timestamp) -> String {
    let seconds = (now.as_second() - then.as_second()).max(0);
    let (n, unit) = match seconds {
        0..60 => return "just now".into(),
        60..3600 => (seconds / 60, "minute"),
        3600..86_400 => (seconds / 3600, "hour"),
        _ => (seconds / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}
