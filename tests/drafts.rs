//! Crash-safe drafts of the edit form, driven by keys against the sandbox: what is typed survives
//! the console dying without sending, is offered back on the same referral, and is gone once sent.

mod common;

use std::time::Duration;

use common::*;
use crossterm::event::KeyCode;
use referee::api::BackendKind;
use referee::app::Action;
use referee::app::state::{Overlay, Question};
use referee::domain::MetadataMode;
use serde_json::json;

fn field(app: &referee::runtime::App<ratatui::backend::TestBackend>, key: &str) -> String {
    let form = app.state.form.as_ref().expect("the form is open");
    form.fields
        .iter()
        .find(|f| f.spec.key == key)
        .unwrap()
        .text()
}

#[tokio::test]
async fn a_draft_survives_a_crash_is_offered_back_restored_sent_and_then_gone() {
    let sb = sandbox(20, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let data = tempfile::tempdir().unwrap();
    let journal = journal_in(data.path());

    let mut app = app_journaled(BackendKind::Vantio, &base, KEY, (120, 35), journal.clone());
    loaded(&mut app).await;
    let target = app.state.selected_record().unwrap().clone();
    press(&mut app, KeyCode::Char('e'));
    settle(&mut app).await;
    assert!(app.state.overlay.is_none(), "no draft yet");
    ctrl(&mut app, 'u');
    type_text(&mut app, "Draftfirst");
    press(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    type_text(&mut app, "Draftlast");
    // Time passes; the runner's tick saves what was typed since the first save.
    app.state.clock.now += jiff::SignedDuration::from_secs(1);
    app.dispatch(Action::Tick);
    settle(&mut app).await;
    let kept = journal.draft("test", &target.id).unwrap().expect("a draft");
    assert_eq!(kept.fields["first_name"], "Draftfirst");
    assert_eq!(kept.fields["last_name"], "Draftlast");
    assert!(
        journal.draft("other", &target.id).unwrap().is_none(),
        "per profile"
    );

    // The console dies without sending: no quit, no Esc.
    drop(app);
    drop(journal);

    let journal = journal_in(data.path());
    let mut app = app_journaled(BackendKind::Vantio, &base, KEY, (120, 35), journal.clone());
    loaded(&mut app).await;
    assert_eq!(app.state.selected_record().unwrap().id, target.id);
    press(&mut app, KeyCode::Char('e'));
    settle(&mut app).await;
    app.draw().unwrap();
    assert_eq!(
        app.state.overlay,
        Some(Overlay::Confirm(Question::RestoreDraft))
    );
    let text = screen_text(&app);
    assert!(text.contains("Restore the draft from 10:00? y/n"), "{text}");
    let first = target.text("first_name");
    let last = target.text("last_name");
    assert!(
        text.contains(&format!("First name  {first} → Draftfirst")),
        "{text}"
    );
    assert!(
        text.contains(&format!("Last name   {last} → Draftlast")),
        "{text}"
    );
    assert_eq!(field(&app, "first_name"), first, "nothing restored yet");

    press(&mut app, KeyCode::Char('y'));
    assert!(app.state.overlay.is_none());
    assert_eq!(field(&app, "first_name"), "Draftfirst");
    assert_eq!(field(&app, "last_name"), "Draftlast");
    assert!(
        find(&app, "First name  Draftfirst").is_some(),
        "{}",
        screen_text(&app)
    );

    ctrl(&mut app, 's');
    let text = screen_text(&app);
    assert!(text.contains("Review · PUT /referrals/"), "{text}");
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    assert!(app.state.form.is_none(), "sent and applied");
    let server = server_record(&base, &target.id).await;
    assert_eq!(
        (server["first_name"].as_str(), server["last_name"].as_str()),
        (Some("Draftfirst"), Some("Draftlast"))
    );
    assert!(
        journal.draft("test", &target.id).unwrap().is_none(),
        "the draft is gone once sent"
    );

    // Opening the form again asks nothing.
    press(&mut app, KeyCode::Char('e'));
    settle(&mut app).await;
    assert!(app.state.overlay.is_none());
    app.finish_drafts(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_draft_with_long_metadata_fits_its_dialog_with_the_keys_showing() {
    let sb = sandbox(20, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let data = tempfile::tempdir().unwrap();
    let journal = journal_in(data.path());
    let mut app = app_journaled(BackendKind::Vantio, &base, KEY, (120, 35), journal.clone());
    loaded(&mut app).await;
    let target = app.state.selected_record().unwrap().clone();
    let long: String = (0..30)
        .map(|i| format!("\"note_{i}\": \"a long remark number {i}\""))
        .collect::<Vec<_>>()
        .join(",\n  ");
    let fields = json!({
        "first_name": "Draftfirst",
        "metadata": format!("{{\n  {long}\n}}"),
    });
    let now = app.state.clock.now;
    journal
        .save_draft("test", &target.id, fields.as_object().unwrap(), now)
        .unwrap();
    press(&mut app, KeyCode::Char('e'));
    settle(&mut app).await;
    app.draw().unwrap();
    assert_eq!(
        app.state.overlay,
        Some(Overlay::Confirm(Question::RestoreDraft))
    );
    let text = screen_text(&app);
    assert!(
        text.contains("y restore it into the form"),
        "the keys show: {text}"
    );
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" → ") && !l.contains("on the server now"))
        .collect();
    assert_eq!(rows.len(), 2, "one row per field, none wrapped: {text}");
    assert!(
        rows.iter()
            .any(|r| r.contains("Metadata") && r.contains('…')),
        "{text}"
    );
}
