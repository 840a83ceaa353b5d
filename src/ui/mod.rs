//! Rendering: a pure view of `State`. Nothing here changes state or does I/O. Every frame ends with
//! `scrub`, so no control or format character from the data reaches the terminal, whichever
//! component drew it.

mod detail;
mod form;
mod list;
mod overlay;
mod status_bar;
mod text_view;
pub mod theme;
mod triage;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout};

use crate::app::State;

/// Below this width the detail pane takes the whole screen instead of sharing it with the list.
const SIDE_BY_SIDE_MIN_WIDTH: u16 = 100;

pub fn render(state: &State, frame: &mut Frame) {
    let status_height = status_bar::height(state, frame.area().width);
    let gauge_height = u16::from(
        state
            .bulk
            .as_ref()
            .is_some_and(|b| b.is_running() || !b.failed().is_empty()),
    );
    let [body, gauge, status] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(gauge_height),
        Constraint::Length(status_height),
    ])
    .areas(frame.area());
    if let Some(form) = &state.form {
        form::render(state, form, frame, body);
    } else if let Some(triage) = &state.triage {
        triage::render(state, triage, frame, body);
    } else if !state.detail_open {
        list::render(state, frame, body);
    } else if body.width < SIDE_BY_SIDE_MIN_WIDTH {
        detail::render(state, frame, body);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(body);
        list::render(state, frame, left);
        detail::render(state, frame, right);
    }
    if let Some(bulk) = state.bulk.as_ref().filter(|_| gauge_height > 0) {
        status_bar::render_bulk(bulk, frame, gauge);
    }
    status_bar::render(state, frame, status);
    if let Some(overlay) = &state.overlay {
        overlay::render(state, overlay, frame);
    }
    scrub(frame.buffer_mut());
}

/// Takes every hidden character (`text_safety::is_hidden`) out of the drawn cells. ratatui drops a
/// standalone control, but a zero-width format character rides along in the cell of the character
/// before it (tables, titles), and from there would reach the terminal.
fn scrub(buffer: &mut Buffer) {
    for cell in &mut buffer.content {
        if let std::borrow::Cow::Owned(clean) = crate::text_safety::strip(cell.symbol()) {
            cell.set_symbol(if clean.is_empty() { " " } else { &clean });
        }
    }
}
