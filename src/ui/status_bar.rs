//! The bottom line: profile and backend, what is loaded, requests in flight, and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::theme;
use crate::app::State;
use crate::app::state::{LoadState, Pending};

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Lines the bar needs at `width`: a second one when the message would be cut off.
pub fn height(state: &State, width: u16) -> u16 {
    let used = line(state).width();
    if used > width as usize { 2 } else { 1 }
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
    if !state.pending.is_empty() {
        let frame_index = (state.next_request as usize + state.pending.len()) % SPINNER.len();
        spans.push(Span::raw(format!(
            "{} {} pending ",
            SPINNER[frame_index],
            state.pending.len()
        )));
    }
    for pending in state.pending.values() {
        if let Pending::Batch {
            action,
            ids,
            latest,
        } = pending
        {
            let progress = match latest {
                Some(b) => format!(
                    "{} {}/{} ({}%) ",
                    action.path(),
                    b.processed_count,
                    b.total,
                    b.progress
                ),
                None => format!("{} {} … ", action.path(), ids.len()),
            };
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
