//! Rendering: a pure view of `State`. Nothing here changes state or does I/O.

mod detail;
mod form;
mod list;
mod overlay;
mod status_bar;
pub mod theme;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

use crate::app::State;

/// Below this width the detail pane takes the whole screen instead of sharing it with the list.
const SIDE_BY_SIDE_MIN_WIDTH: u16 = 100;

pub fn render(state: &State, frame: &mut Frame) {
    let status_height = status_bar::height(state, frame.area().width);
    let [body, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(status_height)])
        .areas(frame.area());
    if let Some(form) = &state.form {
        form::render(state, form, frame, body);
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
    status_bar::render(state, frame, status);
    if let Some(overlay) = &state.overlay {
        overlay::render(state, overlay, frame);
    }
}
