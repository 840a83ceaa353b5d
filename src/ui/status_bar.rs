//! The bottom line: profile and backend, what is loaded, requests in flight, and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::State;
use crate::app::state::LoadState;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

pub fn render(state: &State, frame: &mut Frame, area: Rect) {
    let session = &state.session;
    let mut spans = vec![
        Span::styled(format!(" {} · {} ", session.profile, session.backend), theme::focused()),
        Span::raw(" "),
    ];
    match &state.load {
        LoadState::Loading { loaded, .. } => spans.push(Span::raw(format!("loading… {loaded} "))),
        LoadState::Loaded => spans.push(Span::raw(format!("{} loaded ", state.records.len()))),
        LoadState::Failed(_) => spans.push(Span::styled("load failed ", theme::error())),
    }
    if !state.pending.is_empty() {
        let frame_index = (state.next_request as usize + state.pending.len()) % SPINNER.len();
        spans.push(Span::raw(format!("{} {} pending ", SPINNER[frame_index], state.pending.len())));
    }
    spans.push(Span::styled("│ ", theme::dim()));
    match &state.message {
        Some(message) => spans.push(Span::styled(message.text.clone(), theme::level_style(message.level))),
        None => spans.push(Span::styled("? keys · q quit", theme::dim())),
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
