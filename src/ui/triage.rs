//! The verification session screen: progress and decisions per minute, one referral large, its
//! last error if a write failed, and the reason prompt with recent reasons on number keys.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Sparkline, Wrap};

use super::theme;
use crate::app::State;
use crate::app::keys::Place;
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
    let progress = Line::styled(progress, theme::focused());
    let [progress_area, pace] = Layout::horizontal([
        Constraint::Length(progress.width() as u16),
        Constraint::Min(0),
    ])
    .areas(header);
    frame.render_widget(Paragraph::new(progress), progress_area);
    pace_line(state, triage, frame, pace);

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
        lines.push(Line::raw(format!("{status} {}", state.clock.ago(when))));
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
            // The keys first, then the recent reasons Alt-digits pick (the footer wraps).
            let recent: Vec<String> = std::iter::once(super::hints(state, &[Place::Reason]))
                .chain(
                    triage
                        .recent_reasons
                        .iter()
                        .enumerate()
                        .map(|(i, r)| format!("Alt-{} {r}", i + 1)),
                )
                .collect();
            vec![
                Line::from(vec![
                    Span::styled("Reason: ", theme::label()),
                    Span::styled(reason.text(), Style::new().fg(Color::White)),
                ]),
                Line::styled(recent.join(" · "), theme::dim()),
            ]
        }
        None => vec![Line::styled(
            super::hints(state, &[Place::Triage, Place::Scroll]),
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

/// Most minutes the header's sparkline shows: the last hour.
const PACE_MINUTES: usize = 60;

/// Decisions per minute as a one-line sparkline, the minute under way last, and the busiest
/// minute's count beside it; left out when the header has no room.
fn pace_line(state: &State, triage: &Triage, frame: &mut Frame, area: Rect) {
    let minutes = triage.per_minute(state.clock.now);
    let peak = minutes.iter().copied().max().unwrap_or(0);
    let note = format!(" decisions/min, most {peak}");
    let room = (area.width as usize).saturating_sub(note.chars().count() + 1);
    let shown = &minutes[minutes.len() - room.min(PACE_MINUTES).min(minutes.len())..];
    if shown.is_empty() {
        return;
    }
    let [_, spark, words] = Layout::horizontal([
        Constraint::Length(1),
        Constraint::Length(shown.len() as u16),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(
        Sparkline::default()
            .data(shown)
            .max(peak.max(1))
            .style(Style::new().fg(Color::Green)),
        spark,
    );
    frame.render_widget(Paragraph::new(Line::styled(note, theme::dim())), words);
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::json;

    use crate::app::action::{Action, QuickKey};
    use crate::app::{State, update};
    use crate::domain::Record;

    /// The header line of the screen, as text, with the colour of each cell.
    fn header(state: &State, width: u16) -> (String, Vec<ratatui::style::Color>) {
        let mut terminal = Terminal::new(TestBackend::new(width, 24)).unwrap();
        terminal
            .draw(|frame| {
                crate::ui::render(state, frame);
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        let cells: Vec<_> = (0..width).map(|x| &buffer[(x, 0)]).collect();
        (
            cells.iter().map(|c| c.symbol()).collect(),
            cells.iter().map(|c| c.fg).collect(),
        )
    }

    /// Decisions made over four minutes (s skips, which is no decision): one sparkline column per
    /// minute, the busiest full height, and the busiest minute's count beside it.
    #[test]
    fn the_header_shows_decisions_per_minute() {
        let mut state = State::sample();
        let records = (1..=6)
            .map(|n| {
                let values = json!({"first_name": format!("R{n}"), "status": "converted"});
                Record::new(format!("ref_{n}"), values.as_object().unwrap().clone())
            })
            .collect();
        state.append_records(records);
        update(&mut state, Action::TriageStart);
        let minute = jiff::SignedDuration::from_secs(60);
        // (minute of the session, keys pressed in it)
        for (at, keys) in [(0, 2), (1, 0), (2, 1), (3, 0)] {
            for _ in 0..keys {
                update(&mut state, Action::Quick(QuickKey::Verify));
            }
            update(&mut state, Action::TriageSkip);
            if at < 3 {
                state.clock.now += minute;
            }
        }
        let (text, colours) = header(&state, 80);
        assert!(
            text.starts_with(" Triage 3/6 · 0 failed · 60 per hour  █ ▄  decisions/min, most 2"),
            "{text}"
        );
        let spark = text.find('█').map(|b| text[..b].chars().count()).unwrap();
        assert_eq!(colours[spark], ratatui::style::Color::Green);
        // Too narrow for it: the progress stays whole and the sparkline is left out.
        let (narrow, _) = header(&state, 40);
        assert!(
            narrow.starts_with(" Triage 3/6 · 0 failed · 60 per hour"),
            "{narrow}"
        );
        assert!(!narrow.contains("decisions/min"), "{narrow}");
    }
}
