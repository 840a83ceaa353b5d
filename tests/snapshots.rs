//! Fixed-size snapshots of the screens people look at most (colours are asserted in `flows.rs`).

mod common;

use common::*;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use referee::api::BackendKind;
use referee::domain::MetadataMode;
use referee::runtime::App;

/// A FirstPromoter sandbox with `seed` referrals and the console on it, everything loaded.
async fn firstpromoter(seed: usize, width: u16, height: u16) -> (Sandbox, App<TestBackend>) {
    let sb = sandbox(seed, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v2_base_url();
    let mut app = app_for(BackendKind::FirstPromoter, &base, KEY, width, height);
    loaded(&mut app).await;
    (sb, app)
}

#[tokio::test]
async fn list_and_detail_at_100x30() {
    let sb = sandbox(60, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 100, 30);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    // The detail reads its impression when it opens.
    settle(&mut app).await;
    insta::assert_snapshot!("list_and_detail", screen_text(&app));
}

#[tokio::test]
async fn form_with_an_error_under_each_bad_field_at_100x30() {
    let sb = sandbox(60, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 100, 30);
    loaded(&mut app).await;
    let index = app
        .state
        .list
        .visible
        .iter()
        .position(|i| app.state.records[*i].get("metadata").is_null())
        .unwrap();
    app.state.move_selection(index as isize);
    press(&mut app, KeyCode::Char('e'));
    let replace = |app: &mut _, text: &str| {
        press(app, KeyCode::End);
        ctrl(app, 'u');
        type_text(app, text);
        press(app, KeyCode::Tab);
    };
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    replace(&mut app, "not-an-email");
    replace(&mut app, "ftp://pictures.example.org/a.png");
    press(&mut app, KeyCode::Tab);
    replace(&mut app, "yesterday-ish");
    press(&mut app, KeyCode::End);
    ctrl(&mut app, 'u');
    type_text(&mut app, r#"{"a":"#);
    ctrl(&mut app, 's');
    assert!(
        app.state.overlay.is_none(),
        "no review while fields are invalid"
    );
    insta::assert_snapshot!("form_with_errors", screen_text(&app));
}

#[tokio::test]
async fn firstpromoter_list_at_100x30() {
    let (_sb, app) = firstpromoter(60, 100, 30).await;
    insta::assert_snapshot!("firstpromoter_list", screen_text(&app));
}

#[tokio::test]
async fn firstpromoter_form_with_splits_at_100x30() {
    let (_sb, mut app) = firstpromoter(60, 100, 30).await;
    let id = app
        .state
        .records
        .iter()
        .find(|r| {
            r.get("split_details")
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .unwrap()
        .id
        .clone();
    app.state.select(&id);
    press(&mut app, KeyCode::Char('e'));
    insta::assert_snapshot!("firstpromoter_form", screen_text(&app));
}

#[tokio::test]
async fn a_filter_with_an_unknown_key_at_80x24() {
    let sb = sandbox(60, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 80, 24);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status=converted e:");
    // The rows stay those of `status=converted e`, the last valid filter; the mistake is under it.
    let pending = app.state.list.visible.len();
    assert!(pending > 0 && pending < 60, "{pending}");
    insta::assert_snapshot!("filter_with_an_unknown_key", screen_text(&app));
}

#[tokio::test]
async fn help_at_80x24_scrolls_and_opens_from_the_form() {
    let sb = sandbox(60, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 80, 24);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::F(1));
    let top = screen_text(&app);
    insta::assert_snapshot!("help", top);
    let last = &screen(&app)[23];
    assert!(last.contains("60 loaded"), "the status bar stays: {last}");
    assert!(!top.contains("find email"), "vantio has no find by email");
    press(&mut app, KeyCode::Char('j'));
    assert_ne!(screen_text(&app), top, "j scrolls");
    press(&mut app, KeyCode::Char('G'));
    let bottom = screen_text(&app);
    assert!(bottom.contains("quit"), "the last row is reached: {bottom}");
    press(&mut app, KeyCode::Char('G'));
    press(&mut app, KeyCode::Char('k'));
    assert_ne!(screen_text(&app), bottom, "k after G moves at once");
    assert!(!top.contains("quit"), "it did not fit: {top}");
    press(&mut app, KeyCode::Esc);
    assert!(app.state.overlay.is_none() && app.state.form.is_some());
}

#[tokio::test]
async fn stats_at_80x24_keep_the_status_bar() {
    let sb = sandbox(400, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 80, 24);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('S'));
    let shown = screen(&app);
    assert!(
        shown[23].contains("400 loaded"),
        "the status bar stays: {}",
        shown[23]
    );
    insta::assert_snapshot!("stats_80x24", screen_text(&app));
}

#[tokio::test]
async fn firstpromoter_stats_of_a_filter_at_120x35() {
    let (_sb, mut app) = firstpromoter(400, 120, 35).await;
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "-state:moved");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "stats");
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("firstpromoter_stats", screen_text(&app));
}
