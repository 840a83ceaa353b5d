//! The list pane: a table of the filtered referrals. Rows are built only for what is on screen, and
//! columns that do not fit are dropped, least useful first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Wrap};

use super::theme::{self, Room, shown_value};
use crate::app::State;
use crate::app::bulk::RowResult;
use crate::app::mouse::ListRows;
use crate::app::state::Pane;
use crate::app::text::thousands;
use crate::domain::schema::{Column, Look};
use ratatui::style::Color;
use ratatui::style::Style;

/// Most lines a filter's mistake takes under the filter line.
const MAX_ERROR_LINES: usize = 3;

/// Draws the list in `area` and says where its rows went (for the mouse).
pub fn render(state: &State, frame: &mut Frame, area: Rect) -> ListRows {
    let columns = fitting_columns(state.schema.columns, area.width.saturating_sub(4));
    // The first, one-character column holds the mark. Widths are settled here so that cells can
    // be cut with an ellipsis at exactly the width they get.
    let constraints = std::iter::once(Constraint::Length(1)).chain(columns.iter().map(|c| {
        if c.flex {
            Constraint::Min(c.min_width)
        } else {
            Constraint::Length(c.min_width)
        }
    }));
    let inner = Rect {
        x: 0,
        y: 0,
        width: area.width.saturating_sub(2),
        height: 1,
    };
    let cell_widths: Vec<u16> = Layout::horizontal(constraints)
        .spacing(1)
        .split(inner)
        .iter()
        .map(|r| r.width)
        .collect();
    let sort = state.list.order.sort();
    let header = Row::new(
        std::iter::once(String::new()).chain(columns.iter().map(|c| {
            match sort.filter(|s| std::ptr::eq(&state.schema.columns[s.column], *c)) {
                Some(s) => format!("{}{}", c.title, if s.descending { "▼" } else { "▲" }),
                None => c.title.to_string(),
            }
        })),
    )
    .style(theme::label());
    let block = Block::bordered()
        .title(title(state))
        .border_style(if state.focus == Pane::List {
            theme::label()
        } else {
            theme::dim()
        });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let error_text = state.list.filter_error.as_deref().unwrap_or_default();
    let error = Paragraph::new(error_text)
        .style(theme::error())
        .wrap(Wrap { trim: true });
    // As many lines as the words wrap to, at most `MAX_ERROR_LINES`.
    let error_height = match error_text {
        "" => 0,
        _ => error.line_count(inner.width).min(MAX_ERROR_LINES) as u16,
    };
    let [error_area, table_area] =
        Layout::vertical([Constraint::Length(error_height), Constraint::Min(0)]).areas(inner);
    frame.render_widget(error, error_area);
    let rows_on_screen = table_area.height.saturating_sub(1) as usize;
    let list = &state.list;
    // The status bar may take a second line; keep the cursor on screen even then.
    let offset = list
        .offset
        .max((list.selected + 1).saturating_sub(rows_on_screen));
    let rows =
        list.visible
            .iter()
            .enumerate()
            .skip(offset)
            .take(rows_on_screen)
            .map(|(position, index)| {
                let record = &state.records[*index];
                let cells = columns.iter().zip(&cell_widths[1..]).enumerate().map(
                    |(at, (column, width))| {
                        let text = column
                            .fields
                            .iter()
                            .filter_map(|key| {
                                state.schema.field(key).map(|spec| {
                                    shown_value(state, spec, &record.get(key), Room::Cell)
                                })
                            })
                            .filter(|text| !text.is_empty())
                            .collect::<Vec<_>>()
                            .join(" ");
                        // The first column says which referral the row is even when its own fields
                        // are empty and nothing else on the row names it (the name column dropped
                        // for width, a referral without email): it falls back to the title, or the id.
                        let named_elsewhere = || {
                            state.schema.title_fields.iter().any(|key| {
                                columns.iter().any(|c| c.fields.contains(key))
                                    && !record.text(key).is_empty()
                            })
                        };
                        let text = match at == 0 && text.is_empty() && !named_elsewhere() {
                            true => record.title(state.schema),
                            false => text,
                        };
                        let shown = match column.look {
                            Look::ShortId => fit(&short_id(&text), *width as usize),
                            _ => fit(&text, *width as usize),
                        };
                        match column.look {
                            Look::Plain | Look::ShortId => Cell::from(shown),
                            Look::Status => Cell::from(Span::styled(
                                shown,
                                theme::status_style(state.schema, &text),
                            )),
                            Look::ColourFrom(path) => {
                                let style = theme::hex_colour(&record.text(path))
                                    .map(|c| Style::new().fg(c));
                                Cell::from(Span::styled(shown, style.unwrap_or_default()))
                            }
                            Look::FlagUnless(calm) if text.is_empty() || text == calm => {
                                Cell::from("")
                            }
                            Look::FlagUnless(_) => Cell::from(Span::styled("⚠", theme::error())),
                        }
                    },
                );
                let row = Row::new(std::iter::once(mark_cell(state, &record.id)).chain(cells));
                if position == list.selected {
                    row.style(theme::selected_row())
                } else {
                    row
                }
            });
    let widths = cell_widths.iter().map(|w| Constraint::Length(*w));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        table_area,
    );
    if list.filtering {
        let typed = list.filter.text();
        let x = area.x
            + 2
            + " Referrals ".len() as u16
            + count_text(state).chars().count() as u16
            + " / ".len() as u16;
        frame.set_cursor_position((x + typed.chars().count() as u16, area.y));
    }
    // Below the header line, a line per row shown.
    let shown = list
        .visible
        .len()
        .saturating_sub(offset)
        .min(rows_on_screen) as u16;
    ListRows {
        area: Rect {
            y: table_area.y + 1,
            height: shown,
            ..table_area
        },
        first: offset,
        columns: state
            .schema
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| columns.iter().any(|shown| std::ptr::eq(*shown, *c)))
            .fold(0, |bits, (i, _)| {
                bits | 1u64.checked_shl(i as u32).unwrap_or(0)
            }),
    }
}

/// `text` cut to `width` columns, ending in "…" when something was cut.
pub(super) fn fit(text: &str, width: usize) -> String {
    if Span::raw(text).width() <= width {
        return text.to_string();
    }
    // No room for a character beside the ellipsis (`window` shows at least one).
    if width <= 1 {
        return "…".repeat(width);
    }
    let (shown, _) = super::text_view::window(text, 0, width.saturating_sub(1));
    format!("{shown}…")
}

/// Characters of an id kept after its prefix (`prog_`) in a short id: 36⁴ ≈ 1.7 million, so
/// the few programs of one list are told apart.
const SHORT_ID_CHARS: usize = 4;

/// `prog_mq4v…` for `prog_mq4vx8k2pl0a`: the prefix up to the first `_` and `SHORT_ID_CHARS`
/// characters after it; a short id is kept whole.
fn short_id(id: &str) -> String {
    let prefix = id.find('_').map_or(0, |at| at + 1);
    match id[prefix..].char_indices().nth(SHORT_ID_CHARS) {
        Some((cut, _)) => format!("{}…", &id[..prefix + cut]),
        None => id.to_string(),
    }
}

/// The first column: a mark, what the last bulk change did to the row, or `=` on a referral the
/// last status key left alone (it already was so).
fn mark_cell(state: &State, id: &str) -> Cell<'static> {
    if state.marked.contains(id) {
        return Cell::from(Span::styled("●", theme::focused_mark()));
    }
    match state.bulk.as_ref().and_then(|b| b.rows.get(id)) {
        Some(result) => Cell::from(result_mark(result)),
        None if state.left_alone.as_deref() == Some(id) => {
            Cell::from(Span::styled("=", Style::new().fg(Color::DarkGray)))
        }
        None => Cell::from(" "),
    }
}

/// What the last bulk change did to a row, as its symbol in its colour.
pub(super) fn result_mark(result: &RowResult) -> Span<'static> {
    let colour = match result {
        RowResult::Queued | RowResult::Conflict(_) => Color::Yellow,
        RowResult::Sending => Color::Cyan,
        RowResult::Done => Color::Green,
        RowResult::Unchanged(_) => Color::DarkGray,
        RowResult::Failed(_) => Color::Red,
        RowResult::Unknown(_) => Color::Magenta,
    };
    Span::styled(result.symbol(), Style::new().fg(colour))
}

/// "37/1,204 of 100,000 · 12 marked": the cursor's place among the rows shown, and of how many
/// loaded when a filter hides some.
fn count_text(state: &State) -> String {
    let (shown, loaded) = (state.list.visible.len(), state.records.len());
    let position = if shown == 0 {
        0
    } else {
        state.list.selected + 1
    };
    let mut text = format!("{}/{}", thousands(position), thousands(shown));
    if shown != loaded {
        text.push_str(&format!(" of {}", thousands(loaded)));
    }
    if !state.marked.is_empty() {
        text.push_str(&format!(" · {} marked", thousands(state.marked.len())));
    }
    text
}

fn title(state: &State) -> Line<'static> {
    let mut spans = vec![
        Span::raw(" Referrals "),
        Span::styled(count_text(state), theme::label()),
    ];
    let filter = state.list.filter.text();
    if state.list.filtering || !filter.is_empty() {
        spans.push(Span::raw(" / "));
        spans.push(Span::styled(filter, theme::focused()));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// The columns that fit in `width`, dropping those with the highest drop rank first.
fn fitting_columns(columns: &'static [Column], width: u16) -> Vec<&'static Column> {
    let mut kept: Vec<&Column> = columns.iter().collect();
    let needed = |kept: &[&Column]| kept.iter().map(|c| c.min_width + 1).sum::<u16>();
    while needed(&kept) > width && kept.len() > 1 {
        let worst = kept
            .iter()
            .enumerate()
            .max_by_key(|(_, c)| c.drop_rank)
            .map(|(i, _)| i)
            .unwrap_or(0);
        kept.remove(worst);
    }
    kept
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::json;

    use crate::app::State;
    use crate::domain::Record;
    use crate::domain::schema::V2_SCHEMA;

    /// The list alone, `width` columns wide, as text.
    fn list_text(state: &State, width: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(width, 8)).unwrap();
        terminal
            .draw(|frame| {
                super::render(state, frame, frame.area());
            })
            .unwrap();
        let buffer = terminal.backend().buffer();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_program_id_is_shown_short_and_the_filter_still_finds_it() {
        let mut state = State::sample();
        let referral = |id: &str, program: &str| {
            let values = json!({"first_name": "Ada", "status": "pending", "program_id": program});
            Record::new(id, values.as_object().unwrap().clone())
        };
        state.append_records(vec![
            referral("ref_1", "prog_mq4vx8k2pl0a"),
            referral("ref_2", "prog_7"),
            referral("ref_3", "p12345678"),
        ]);
        let shown = list_text(&state, 140);
        assert!(shown.contains("Program"), "{shown}");
        assert!(shown.contains(" prog_mq4v… "), "{shown}");
        assert!(!shown.contains("prog_mq4vx"), "{shown}");
        assert!(shown.contains(" prog_7 "), "a short id is whole: {shown}");
        assert!(shown.contains(" p123… "), "no prefix: {shown}");
        // What the column shows is what the filter takes.
        state.list.filter = crate::app::text::TextBuffer::single("program:prog_mq4v");
        state.refilter();
        assert_eq!(state.list.visible, [0]);
    }

    #[test]
    fn a_row_is_named_even_when_its_first_column_is_empty() {
        let mut state = State::sample();
        state.schema = &V2_SCHEMA;
        state.clear_records();
        let uid_only = json!({"id": 5001, "first_name": "Leah", "last_name": "Thompson",
            "uid": "cus_1", "state": "active"});
        let bare = json!({"id": 5002, "uid": "cus_2", "state": "active"});
        let mailed = json!({"id": 5003, "email": "ada@x.io", "state": "active"});
        state.append_records(
            [uid_only, bare, mailed]
                .iter()
                .map(|v| Record::new(v["id"].to_string(), v.as_object().unwrap().clone()))
                .collect(),
        );
        // Narrow: the name column is dropped, so the email column names the row.
        let narrow = list_text(&state, 60);
        assert!(
            !narrow.contains("Name"),
            "the name column is dropped: {narrow}"
        );
        assert!(narrow.contains("Leah Thompson"), "{narrow}");
        assert!(narrow.contains("5002"), "{narrow}");
        // Wide: the name column is shown; an email shown beside it is not repeated.
        let wide = list_text(&state, 160);
        assert_eq!(wide.matches("ada@x.io").count(), 1, "{wide}");
    }

    /// The frame says which columns it shows, so `s` can pass over the ones a narrow list drops.
    #[test]
    fn the_list_says_which_columns_it_shows() {
        let state = State::sample();
        let shown = |width| {
            let mut terminal = Terminal::new(TestBackend::new(width, 8)).unwrap();
            let mut rows = None;
            terminal
                .draw(|frame| rows = Some(super::render(&state, frame, frame.area())))
                .unwrap();
            let rows = rows.unwrap();
            (0..state.schema.columns.len())
                .filter(|c| rows.shows(*c))
                .count()
        };
        let all = state.schema.columns.len();
        assert_eq!(shown(200), all);
        let narrow = shown(50);
        assert!(
            narrow < all && narrow > 0,
            "{narrow} of {all} at 50 columns"
        );
    }
}
