//! Text a server sends may hold escape sequences, C1 controls, bidi overrides and zero-width
//! characters: none of them reaches the screen, in any view, and nothing stored changes.

mod common;

use common::*;
use crossterm::event::KeyCode;
use referee::app::state::Level;
use referee::domain::MetadataMode;
use referee::runtime::App;
use referee::text_safety::is_hidden;
use serde_json::Value;

/// Every kind of hidden character the console must keep off the terminal.
const HOSTILE: &str = "\u{202E}\u{202A}\u{2066}\u{2069}\u{200B}\u{200C}\u{200D}\u{200E}\u{200F}\u{FEFF}\u{AD}\u{1B}[31m\u{9B}1m\u{7}\u{E0041}";

/// Cells holding a hidden character, as (x, y, the cell's symbol escaped).
fn hidden_cells(app: &App<ratatui::backend::TestBackend>) -> Vec<(u16, u16, String)> {
    let buffer = app.terminal.backend().buffer();
    let area = buffer.area;
    (0..area.height)
        .flat_map(|y| (0..area.width).map(move |x| (x, y)))
        .filter(|&at| buffer[at].symbol().chars().any(is_hidden))
        .map(|(x, y)| (x, y, buffer[(x, y)].symbol().escape_unicode().to_string()))
        .collect()
}

/// The view shows the hostile data (what is left of its escape sequence) and none of its hidden
/// characters.
#[track_caller]
fn assert_clean(app: &App<ratatui::backend::TestBackend>, view: &str) {
    assert!(
        screen_text(app).contains("[31m"),
        "{view} shows no hostile text:\n{}",
        screen_text(app)
    );
    let found = hidden_cells(app);
    assert!(
        found.is_empty(),
        "{view}: hidden characters on screen at {found:?}\n{}",
        screen_text(app)
    );
}

#[tokio::test]
async fn hidden_characters_never_reach_the_screen_in_any_view() {
    let sb = sandbox(6, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 120, 30);
    loaded(&mut app).await;
    let mut records = app.state.records.to_vec();
    for (n, record) in records.iter_mut().enumerate() {
        record.id = format!("ref_{HOSTILE}{n}");
        for field in ["first_name", "last_name", "email", "program_id"] {
            let value = format!("{field}{HOSTILE}x");
            record.insert(field, Value::String(value));
        }
        let id = Value::String(record.id.clone());
        record.insert("id", id);
        record.insert(
            "metadata",
            serde_json::json!({ format!("k{HOSTILE}"): format!("v{HOSTILE}") }),
        );
        record.insert("status", Value::String("converted".into()));
    }
    app.state.clear_records();
    app.state.append_records(records);
    app.state
        .say(Level::Error, format!("server said: {HOSTILE} nope"));
    app.draw().unwrap();
    assert_clean(&app, "list and status bar");

    press(&mut app, KeyCode::Enter);
    assert_clean(&app, "detail");
    press(&mut app, KeyCode::Char('x'));
    assert!(app.state.overlay.is_some(), "the reject reason dialog");
    type_text(&mut app, HOSTILE);
    assert_clean(&app, "reject dialog");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('e'));
    assert!(app.state.form.is_some(), "the form");
    assert_clean(&app, "form");
    press(&mut app, KeyCode::Esc);
    if app.state.overlay.is_some() {
        // Discard what the hostile text may have changed (in the list `y` starts a copy).
        press(&mut app, KeyCode::Char('y'));
    }

    press(&mut app, KeyCode::Char('t'));
    assert!(app.state.triage.is_some(), "triage");
    assert_clean(&app, "triage");
}

/// Draws `app` and says how long the draw took.
fn timed_draw(app: &mut App<ratatui::backend::TestBackend>, view: &str) -> std::time::Duration {
    let started = std::time::Instant::now();
    app.draw().unwrap();
    let took = started.elapsed();
    eprintln!("{view}: drawn in {took:?}");
    took
}

#[tokio::test]
async fn a_huge_value_is_drawn_as_quickly_as_a_name_in_every_view() {
    const HUGE: usize = 20_000_000;
    let sb = sandbox(3, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 120, 30);
    loaded(&mut app).await;
    let mut records = app.state.records.to_vec();
    let huge = "H".repeat(HUGE);
    records[0].insert("first_name", Value::String(huge.clone()));
    records[0].insert("status", Value::String("converted".into()));
    let id = records[0].id.clone();
    app.state.clear_records();
    app.state.append_records(records);
    // Generous for a debug build on a busy machine; laying the whole value out took seconds a draw
    // in the form, and minutes in the review.
    let quick = std::time::Duration::from_secs(1);
    let check = |app: &mut App<ratatui::backend::TestBackend>, view: &str| {
        let took = timed_draw(app, view);
        assert!(took < quick, "{view} took {took:?} to draw");
    };
    check(&mut app, "list");
    press(&mut app, KeyCode::Enter);
    check(&mut app, "detail");
    assert!(screen_text(&app).contains("HHHH"), "{}", screen_text(&app));
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('e'));
    assert!(app.state.form.is_some(), "the form");
    check(&mut app, "form, the huge field focused");
    press(&mut app, KeyCode::Tab);
    check(&mut app, "form, another field focused");
    shift_tab(&mut app);
    type_text(&mut app, "x");
    ctrl(&mut app, 's');
    assert!(
        matches!(
            app.state.overlay,
            Some(referee::app::state::Overlay::Review { .. })
        ),
        "the review: {}",
        screen_text(&app)
    );
    check(&mut app, "review");
    assert!(screen_text(&app).contains("HHHH"), "{}", screen_text(&app));
    press(&mut app, KeyCode::Char('n'));
    press(&mut app, KeyCode::Esc);
    if app.state.overlay.is_some() {
        press(&mut app, KeyCode::Char('y'));
    }
    assert!(app.state.form.is_none(), "the form is left");
    press(&mut app, KeyCode::Char('t'));
    assert!(app.state.triage.is_some(), "triage");
    check(&mut app, "triage");
    assert_eq!(
        app.state.record(&id).unwrap().text("first_name").len(),
        HUGE,
        "what is stored is whole"
    );
}
