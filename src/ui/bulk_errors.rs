//! The `E` list: each row of the last bulk change that did not land, with its mark, its name and
//! its error (up to `ERROR_LINES` lines), the selected one kept in view. It stands above the bulk
//! bar and the status line, which go on saying how the bulk went.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::list::{fit, result_mark};
use super::overlay::popup_with;
use super::{text_view, theme};
use crate::app::State;
use crate::app::keys::Place;

/// Most lines of one row's error; the rest is cut with `…` (the detail pane shows it whole).
const ERROR_LINES: usize = 3;

pub fn render(state: &State, selected: usize, frame: &mut Frame, area: Rect) {
    let Some(bulk) = &state.bulk else {
        return;
    };
    let rows = crate::app::bulk_errors::listed(state);
    // `area` ends above the status bar already; the bulk bar stays in sight too.
    let below = super::gauge_height(state);
    let area = Rect {
        height: area.height.saturating_sub(below),
        ..area
    };
    let width = area.width.min(100);
    let room = (width as usize).saturating_sub(2 + 4);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut selected_end = 0;
    for (index, (id, result)) in rows.iter().enumerate() {
        let (word, why) = result.problem().unwrap_or_default();
        let name = state
            .record(id)
            .map(|r| r.title(state.schema))
            .unwrap_or_default();
        let pointer = if index == selected { "▶ " } else { "  " };
        let head = format!(" {id}  ");
        let name_room = room.saturating_sub(head.chars().count());
        let mut line = Line::from(vec![
            Span::raw(pointer),
            result_mark(result),
            Span::raw(head),
            Span::styled(fit(&name, name_room), theme::dim()),
        ]);
        if index == selected {
            line = line.style(theme::label());
        }
        lines.push(line);
        let mut error = text_view::wrap(&format!("{word}: {why}"), room);
        if error.len() > ERROR_LINES {
            error.truncate(ERROR_LINES);
            let cut = &mut error[ERROR_LINES - 1];
            *cut = fit(&format!("{cut}…"), room);
        }
        lines.extend(
            error
                .into_iter()
                .map(|part| Line::styled(format!("    {part}"), theme::error())),
        );
        if index == selected {
            selected_end = lines.len();
        }
    }
    let title = format!(
        " {} · {} of {} did not land ",
        bulk.verb,
        rows.len(),
        bulk.total()
    );
    let rows = area.height.saturating_sub(2) as usize;
    let scroll = selected_end.saturating_sub(rows) as u16;
    let keys = format!(
        " {} ",
        super::hints(state, &[Place::BulkErrors, Place::Scroll])
    );
    popup_with(frame, area, (&title, Some(&keys)), lines, width, scroll);
}
