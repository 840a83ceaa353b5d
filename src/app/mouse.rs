//! The mouse, as the keymap is for keys: a click or a wheel turn becomes an Action, judged by
//! what has the keyboard and by where the last frame drew what (`Screen`, which `ui::render`
//! returns and the runner keeps in `State::screen`). A click on a list row selects it (on the
//! selected row, so also a double click, opens its detail pane), a click on a form field focuses it, and the wheel moves through the list, the detail pane or a long
//! dialog. Anything else the mouse does is ignored.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::action::{Action, Motion};
use super::keys::Place;
use super::state::State;

/// Where the last frame put what a click can land on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screen {
    /// The list's rows, when the list is on screen.
    pub list: Option<ListRows>,
    /// The rows each form field takes on screen (its label, value, error and hint), when the form
    /// is open; fields cut off at the bottom are not here.
    pub fields: Vec<FieldRows>,
    /// How far the scrolled dialog shown (help, review, conflict) can scroll: its lines past
    /// the first screenful. `j`, `G` and the wheel stop there.
    pub scroll_end: Option<u16>,
}

/// The list's rows on screen: one row per line of `area`, the first showing list position `first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListRows {
    pub area: Rect,
    pub first: usize,
    /// The schema's columns the list shows at its width, one bit per column by index (a narrow
    /// list drops some); `s` cycles through these only.
    pub columns: u64,
}

impl ListRows {
    /// Every column shown (for a list not drawn yet).
    pub const ALL_COLUMNS: u64 = u64::MAX;

    pub fn shows(&self, column: usize) -> bool {
        column < 64 && self.columns & (1 << column) != 0
    }
}

/// A form field's lines on screen: field `index` from line `top` up to (not including) `bottom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRows {
    pub index: usize,
    pub top: u16,
    pub bottom: u16,
}

pub fn map_mouse(state: &State, mouse: MouseEvent) -> Option<Action> {
    let wheel = match mouse.kind {
        MouseEventKind::ScrollDown => Some(Motion::Down),
        MouseEventKind::ScrollUp => Some(Motion::Up),
        _ => None,
    };
    let click = mouse.kind == MouseEventKind::Down(MouseButton::Left);
    let at = Position::new(mouse.column, mouse.row);
    if state.overlay.is_some() {
        // The dialogs whose keys scroll (as the key table says) take the wheel; no click answers
        // a question.
        let scrolls = super::keymap::layer(state)
            .places
            .iter()
            .any(|place| matches!(place, Place::Scroll | Place::Conflict));
        return wheel.filter(|_| scrolls).map(Action::Move);
    }
    if state.form.is_some() {
        let field = state
            .screen
            .fields
            .iter()
            .find(|f| (f.top..f.bottom).contains(&mouse.row))?;
        return click.then_some(Action::FormFocus(field.index));
    }
    if state.triage.is_some() || state.stats.is_some() {
        return None;
    }
    if let Some(motion) = wheel {
        return Some(Action::Move(motion));
    }
    let rows = state.screen.list?;
    if !click || !rows.area.contains(at) {
        return None;
    }
    let position = rows.first + usize::from(mouse.row - rows.area.y);
    if position >= state.list.visible.len() {
        return None;
    }
    // A second click on the selected row (so also a double click) opens its detail pane.
    Some(if position == state.list.selected {
        Action::OpenDetail
    } else {
        Action::SelectRow(position)
    })
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    use ratatui::layout::Rect;
    use serde_json::json;

    use super::*;
    use crate::app::state::Overlay;
    use crate::domain::Record;

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
        MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn click(column: u16, row: u16) -> MouseEvent {
        mouse(MouseEventKind::Down(MouseButton::Left), column, row)
    }

    /// Five referrals; the list's rows drawn from line 2, columns 1 to 78, from position 2 on.
    fn listed() -> State {
        let mut state = State::sample();
        let person = |i: usize| {
            let values = json!({"first_name": format!("P{i}"), "status": "converted"});
            Record::new(format!("r{i}"), values.as_object().unwrap().clone())
        };
        state.append_records((0..5).map(person).collect());
        state.screen.list = Some(ListRows {
            area: Rect::new(1, 2, 78, 10),
            first: 2,
            columns: ListRows::ALL_COLUMNS,
        });
        state
    }

    #[test]
    fn each_mouse_rule_gives_its_action() {
        let wheel_down = mouse(MouseEventKind::ScrollDown, 40, 5);
        let wheel_up = mouse(MouseEventKind::ScrollUp, 40, 5);
        let list = listed();
        let with_overlay = |overlay| {
            let mut state = listed();
            state.overlay = Some(overlay);
            state
        };
        let mut form = listed();
        crate::app::update(&mut form, Action::Edit);
        form.screen.fields = vec![
            FieldRows {
                index: 0,
                top: 2,
                bottom: 3,
            },
            FieldRows {
                index: 1,
                top: 3,
                bottom: 5,
            },
        ];
        let mut selected = listed();
        selected.list.selected = 3;
        let mut triage = listed();
        crate::app::update(&mut triage, Action::TriageStart);
        assert!(triage.triage.is_some());
        let cases = [
            (
                "a click on a row selects it",
                &list,
                click(10, 3),
                Some(Action::SelectRow(3)),
            ),
            (
                "the first row drawn",
                &list,
                click(1, 2),
                Some(Action::SelectRow(2)),
            ),
            (
                "a click on the selected row opens its detail",
                &selected,
                click(10, 3),
                Some(Action::OpenDetail),
            ),
            ("below the last referral", &list, click(10, 5), None),
            ("the header line", &list, click(10, 1), None),
            ("the border beside a row", &list, click(0, 3), None),
            (
                "the right button",
                &list,
                mouse(MouseEventKind::Down(MouseButton::Right), 10, 3),
                None,
            ),
            (
                "a release",
                &list,
                mouse(MouseEventKind::Up(MouseButton::Left), 10, 3),
                None,
            ),
            ("a move", &list, mouse(MouseEventKind::Moved, 10, 3), None),
            (
                "the wheel moves down the list",
                &list,
                wheel_down,
                Some(Action::Move(Motion::Down)),
            ),
            ("and up", &list, wheel_up, Some(Action::Move(Motion::Up))),
            (
                "a click in the form focuses that field",
                &form,
                click(30, 4),
                Some(Action::FormFocus(1)),
            ),
            (
                "its first line",
                &form,
                click(30, 2),
                Some(Action::FormFocus(0)),
            ),
            ("no field there", &form, click(30, 9), None),
            ("the wheel in the form", &form, wheel_down, None),
            (
                "the wheel scrolls help",
                &with_overlay(Overlay::Help { scroll: 0 }),
                wheel_down,
                Some(Action::Move(Motion::Down)),
            ),
            (
                "a click does not close help",
                &with_overlay(Overlay::Help { scroll: 0 }),
                click(10, 3),
                None,
            ),
            (
                "no click answers a question",
                &with_overlay(Overlay::Confirm(crate::app::state::Question::Quit)),
                click(10, 3),
                None,
            ),
            (
                "nor does the wheel",
                &with_overlay(Overlay::Confirm(crate::app::state::Question::Quit)),
                wheel_down,
                None,
            ),
            (
                "the wheel moves through the E list",
                &with_overlay(Overlay::BulkErrors { selected: 0 }),
                wheel_down,
                Some(Action::Move(Motion::Down)),
            ),
            ("triage takes no mouse", &triage, wheel_down, None),
        ];
        for (case, state, event, expected) in cases {
            assert_eq!(map_mouse(state, event), expected, "{case}");
        }
    }

    #[test]
    fn a_click_selects_its_row_and_focuses_its_field() {
        let mut state = listed();
        state.focus = crate::app::state::Pane::Detail;
        crate::app::update(&mut state, Action::SelectRow(4));
        assert_eq!(state.selected_record().map(|r| r.id.as_str()), Some("r4"));
        assert_eq!(state.focus, crate::app::state::Pane::List);
        crate::app::update(&mut state, Action::SelectRow(9));
        assert_eq!(state.list.selected, 4, "no row there: nothing moves");
        crate::app::update(&mut state, Action::Edit);
        crate::app::update(&mut state, Action::FormFocus(2));
        assert_eq!(state.form.as_ref().unwrap().focus, 2);
        crate::app::update(&mut state, Action::FormFocus(99));
        assert_eq!(state.form.as_ref().unwrap().focus, 2, "no such field");
    }
}
