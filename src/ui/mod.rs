//! Rendering: a pure view of `State`. Nothing here changes state or does I/O. Every frame ends with
//! `scrub`, so no control or format character from the data reaches the terminal, whichever
//! component drew it, and with `NO_COLOR` by `uncolour`.

mod bulk_errors;
mod detail;
mod form;
mod list;
mod overlay;
mod stats;
mod status_bar;
mod text_view;
pub mod theme;
mod triage;

/// What the network waits for, in words (the status bar's; the headless bulk's progress bar).
pub use status_bar::net_text;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier};

use crate::app::State;
use crate::app::mouse::Screen;

/// Below this width the detail pane takes the whole screen instead of sharing it with the list.
const SIDE_BY_SIDE_MIN_WIDTH: u16 = 100;

/// Draws the whole screen and says where the list's rows and the form's fields went, for the
/// runner to keep for the mouse (`State::screen`): the view itself changes nothing.
pub fn render(state: &State, frame: &mut Frame) -> Screen {
    let mut screen = Screen::default();
    let status_height = status_bar::height(state, frame.area().width);
    let gauge_height = gauge_height(state);
    // Dialogs are laid out above the status bar, so what it says stays in sight under any of them.
    let [above_status, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(status_height)])
            .areas(frame.area());
    let [body, gauge] = Layout::vertical([Constraint::Min(1), Constraint::Length(gauge_height)])
        .areas(above_status);
    if let Some(form) = &state.form {
        screen.fields = form::render(state, form, frame, body);
    } else if let Some(triage) = &state.triage {
        triage::render(state, triage, frame, body);
    } else if let Some(view) = &state.stats {
        stats::render(state, view, frame, body);
    } else if !state.detail_open {
        screen.list = Some(list::render(state, frame, body));
    } else if body.width < SIDE_BY_SIDE_MIN_WIDTH {
        detail::render(state, frame, body);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)])
                .areas(body);
        screen.list = Some(list::render(state, frame, left));
        detail::render(state, frame, right);
    }
    if let Some(bulk) = state.bulk.as_ref().filter(|_| gauge_height > 0) {
        status_bar::render_bulk(bulk, frame, gauge);
    }
    status_bar::render(state, frame, status);
    if let Some(overlay) = &state.overlay {
        screen.scroll_end = overlay::render(state, overlay, frame, above_status);
    }
    scrub(frame.buffer_mut());
    if state.no_color {
        uncolour(frame.buffer_mut());
    }
    screen
}

/// The bulk bar's line: shown while a bulk runs and after one that left failed rows.
/// A hint line: the keys of `places` with their words, on the backend in use.
fn hints(state: &State, places: &[crate::app::keys::Place]) -> String {
    crate::app::keys::hints(places, state.session.backend)
}

fn gauge_height(state: &State) -> u16 {
    u16::from(
        state
            .bulk
            .as_ref()
            .is_some_and(|b| b.is_running() || b.problem_count() > 0),
    )
}

/// Takes every colour out (`NO_COLOR`). What a background colour marked — the selected row, the
/// focused field, the chosen option, the profile tag — is shown in reverse video instead, so it
/// stays visible; bold and underline stay as drawn.
fn uncolour(buffer: &mut Buffer) {
    for cell in &mut buffer.content {
        if cell.bg != Color::Reset {
            cell.modifier.insert(Modifier::REVERSED);
        }
        cell.fg = Color::Reset;
        cell.bg = Color::Reset;
    }
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

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::style::{Color, Modifier};
    use serde_json::json;

    use crate::app::{Action, State, update};
    use crate::domain::Record;

    /// `state` drawn on an 80x24 terminal.
    fn drawn_at_80x24(state: &State) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|frame| {
                super::render(state, frame);
            })
            .unwrap();
        terminal
    }

    /// Per screen line, the text of the cells drawn in reverse video; every cell without colour.
    fn reversed_text(state: &State) -> Vec<String> {
        let terminal = drawn_at_80x24(state);
        let buffer = terminal.backend().buffer();
        assert!(
            buffer
                .content
                .iter()
                .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
            "no colour at all"
        );
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| &buffer[(x, y)])
                    .filter(|c| c.modifier.contains(Modifier::REVERSED))
                    .map(|c| c.symbol())
                    .collect()
            })
            .collect()
    }

    /// The screen's lines at 80x24.
    fn lines_at_80x24(state: &State) -> Vec<String> {
        let terminal = drawn_at_80x24(state);
        let buffer = terminal.backend().buffer();
        (0..buffer.area.height)
            .map(|y| (0..80).map(|x| buffer[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn no_dialog_covers_the_status_bar_at_80x24() {
        use crate::app::state::{Level, Overlay, PickPurpose, Question};
        use crate::app::text::TextBuffer;
        use crate::domain::schema::RefKind;
        let mut state = State::sample();
        let person = |i: usize| {
            let values = json!({"first_name": format!("P{i}"), "email": "a@b.io"});
            Record::new(format!("r{i}"), values.as_object().unwrap().clone())
        };
        state.append_records((0..40).map(person).collect());
        // A message long enough for a status bar of three lines.
        state.say(Level::Error, "The server said no. ".repeat(12));
        let bare = lines_at_80x24(&state);
        let status = &bare[21..];
        assert!(status[2].contains("said no"), "{bare:#?}");
        // A review taller than the screen.
        let mut changes = crate::domain::diff::ChangeSet::default();
        for i in 0..40 {
            changes.body.insert(format!("field_{i}"), json!(i));
        }
        let prompt = || TextBuffer::single("why");
        let overlays = [
            Overlay::Help { scroll: 0 },
            Overlay::Help { scroll: 500 },
            Overlay::Review { changes, scroll: 0 },
            Overlay::Confirm(Question::Quit),
            Overlay::Confirm(Question::DiscardForm),
            Overlay::RejectReason {
                ids: vec!["r1".into()],
                input: prompt(),
                error: Some("too short".into()),
            },
            Overlay::Conflict {
                changes: Default::default(),
                clashes: Vec::new(),
                scroll: 0,
            },
            Overlay::Journal {
                entries: Vec::new(),
                resendable: Vec::new(),
                selected: 0,
            },
            Overlay::Command {
                input: prompt(),
                error: None,
            },
            Overlay::Picker {
                purpose: PickPurpose::FormField,
                kind: RefKind::User,
                query: prompt(),
                selected: 0,
            },
        ];
        for overlay in overlays {
            state.overlay = Some(overlay.clone());
            let shown = lines_at_80x24(&state);
            assert_eq!(&shown[21..], status, "{overlay:?}:\n{shown:#?}");
            assert_ne!(shown, bare, "{overlay:?} is drawn");
        }
    }

    #[test]
    fn without_colour_the_selected_row_focused_field_and_chosen_option_stay_visible() {
        let mut state = State::sample();
        state.no_color = true;
        let person = |id: &str, name: &str| {
            let values = json!({"first_name": name, "status": "converted", "email": "a@b.io"});
            Record::new(id, values.as_object().unwrap().clone())
        };
        state.append_records(vec![person("r0", "Ada"), person("r1", "Bob")]);
        update(&mut state, Action::Move(crate::app::action::Motion::Down));
        let lines = reversed_text(&state);
        assert!(
            lines.iter().any(|l| l.contains("Bob")) && !lines.iter().any(|l| l.contains("Ada")),
            "the selected row, alone: {lines:?}"
        );
        update(&mut state, Action::Edit);
        let focused = state.form.as_ref().unwrap().focused().spec.label;
        let lines = reversed_text(&state);
        assert!(
            lines.iter().any(|l| l.trim() == focused),
            "the focused field {focused}: {lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.trim() == "converted"),
            "the chosen status: {lines:?}"
        );
    }

    /// A popup is as tall as its lines once wrapped: a long error in the `:` prompt wraps and
    /// pushes neither its own end nor the keys below it out of the box.
    #[test]
    fn a_wrapped_line_pushes_nothing_out_of_its_popup() {
        let mut state = State::sample();
        let error = "No column `colour` to sort by; the columns are name, email, status, program, ambassador, created, verified";
        state.overlay = Some(crate::app::state::Overlay::Command {
            input: crate::app::text::TextBuffer::single("sort colour"),
            error: Some(error.into()),
        });
        let terminal = drawn_at_80x24(&state);
        let buffer = terminal.backend().buffer();
        let screen: String = (0..24)
            .map(|y| (0..80).map(|x| buffer[(x, y)].symbol()).collect::<String>() + "\n")
            .collect();
        assert!(screen.contains("ambassador, created, verified"), "{screen}");
        assert!(screen.contains("Enter run · Esc cancel"), "{screen}");
    }
}
