//! The bottom line: profile and backend, what is loaded, requests in flight, and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{LineGauge, Paragraph, Wrap};

use crate::app::bulk::Bulk;

use super::theme;
use crate::app::State;
use crate::app::state::LoadState;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Most lines the bar takes, so a long message never hides the screen.
const MAX_LINES: u16 = 3;

/// Lines the bar needs at `width` so the message is not cut off (word wrapping may need one more
/// than the plain division says).
pub fn height(state: &State, width: u16) -> u16 {
    let used = line(state).width() as u16;
    match used.div_ceil(width.max(1)) {
        0 | 1 => 1,
        lines => (lines + 1).min(MAX_LINES),
    }
}

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    frame.render_widget(Paragraph::new(line(state)).wrap(Wrap { trim: true }), area);
}

fn line(state: &State) -> Line<'static> {
    let session = &state.session;
    let mut spans = vec![
        Span::styled(
            format!(" {} · {} ", session.profile, session.backend),
            theme::focused(),
        ),
        Span::raw(" "),
    ];
    match &state.load {
        LoadState::Loading { loaded, .. } => spans.push(Span::raw(format!("loading… {loaded} "))),
        LoadState::Loaded => spans.push(Span::raw(format!("{} loaded ", state.records.len()))),
        LoadState::Failed(_) => spans.push(Span::styled("load failed ", theme::error())),
    }
    if state.busy() {
        let frame_index = state.spinner % SPINNER.len();
        spans.push(Span::raw(format!(
            "{} {} in flight ",
            SPINNER[frame_index],
            state.pending.len() + state.writes.count()
        )));
    }
    if let Some(until) = state.net.rate_wait_until.filter(|u| *u > state.clock.now) {
        let seconds = state.clock.now.duration_until(until).as_secs_f64().ceil();
        spans.push(Span::styled(
            format!("rate limit: next request in {seconds} s "),
            theme::level_style(crate::app::state::Level::Info).fg(Color::Yellow),
        ));
    }
    if let Some(retry) = &state.net.retry {
        spans.push(Span::styled(
            format!(
                "{}: attempt {} of {} ",
                retry.endpoint, retry.attempt, retry.of
            ),
            theme::level_style(crate::app::state::Level::Info).fg(Color::Yellow),
        ));
    }
    for flight in state.writes.in_flight.values() {
        if let Some(batch) = &flight.progress {
            let progress = format!(
                "{} {}/{} ({}%) ",
                flight.mutation.summary(),
                batch.processed_count,
                batch.total,
                batch.progress
            );
            spans.push(Span::styled(
                progress,
                theme::level_style(crate::app::state::Level::Info).fg(ratatui::style::Color::Cyan),
            ));
        }
    }
    spans.push(Span::styled("│ ", theme::dim()));
    match &state.message {
        Some(message) => spans.push(Span::styled(
            message.text.clone(),
            theme::level_style(message.level),
        )),
        None => spans.push(Span::styled("? keys · q quit", theme::dim())),
    }
    Line::from(spans)
}

/// The bulk progress bar: done and failed out of the total, and how to retry.
pub fn render_bulk(bulk: &Bulk, frame: &mut Frame, area: Rect) {
    let failed = bulk.failed().len();
    let mut label = format!(" {}", bulk.progress());
    if failed > 0 && !bulk.is_running() {
        label.push_str(" · R sends them again");
    }
    let ratio = if bulk.total() == 0 {
        1.0
    } else {
        bulk.finished_count() as f64 / bulk.total() as f64
    };
    let colour = if failed > 0 { Color::Red } else { Color::Green };
    let gauge = LineGauge::default()
        .filled_style(Style::new().fg(colour))
        .label(label)
        .ratio(ratio.clamp(0.0, 1.0));
    frame.render_widget(gauge, area);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{NetStatus, Retry};

    fn text(state: &State) -> String {
        line(state)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect()
    }

    #[test]
    fn a_rate_limit_wait_counts_down_and_a_retry_names_its_attempt() {
        let mut state = State::sample();
        let now = state.clock.now;
        assert!(!text(&state).contains("rate limit"));
        state.net = NetStatus {
            rate_wait_until: Some(now + jiff::SignedDuration::from_millis(11_200)),
            retry: Some(Retry {
                endpoint: "GET /referrals/ref_1".into(),
                attempt: 2,
                of: 3,
            }),
        };
        let shown = text(&state);
        assert!(
            shown.contains("rate limit: next request in 12 s"),
            "{shown}"
        );
        assert!(
            shown.contains("GET /referrals/ref_1: attempt 2 of 3"),
            "{shown}"
        );
        state.clock.now = now + jiff::SignedDuration::from_secs(12);
        assert!(
            !text(&state).contains("rate limit"),
            "gone once the wait is over"
        );
    }
}
