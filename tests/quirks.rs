//! The console against our own sandbox serving the awkward answers a real server may send
//! (`referee serve --quirks …`): each quirk, and what the admin sees.

mod common;

use std::time::Duration;

use common::*;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use referee::api::BackendKind;
use referee::app::state::LoadState;
use referee::domain::MetadataMode;
use referee::runtime::App;
use referee::sandbox::Quirk;

async fn quirky(seed: usize, quirks: &[Quirk]) -> Sandbox {
    sandbox_tuned(seed, 10_000, MetadataMode::Merge, |config| {
        config.quirks = quirks.iter().copied().collect();
    })
    .await
}

fn console(backend: BackendKind, sb: &Sandbox) -> App<TestBackend> {
    let base = match backend {
        BackendKind::Vantio => sb.server.v1_base_url(),
        BackendKind::FirstPromoter => sb.server.v2_base_url(),
    };
    app_for(backend, &base, KEY, 120, 35)
}

fn said(app: &App<TestBackend>) -> String {
    app.state
        .message
        .as_ref()
        .map(|m| m.text.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn spec_allowed_gaps_and_string_ids_load_every_referral() {
    for backend in [BackendKind::Vantio, BackendKind::FirstPromoter] {
        let sb = quirky(30, &[Quirk::Nulls, Quirk::StringIds]).await;
        let mut app = console(backend, &sb);
        loaded(&mut app).await;
        assert_eq!(app.state.load, LoadState::Loaded, "{backend:?}");
        assert_eq!(app.state.records.len(), 30, "{backend:?}: {}", said(&app));
        assert!(
            !said(&app).contains("could not be read"),
            "{backend:?}: {}",
            said(&app)
        );
    }
}

#[tokio::test]
async fn a_server_that_ignores_paging_stops_after_the_first_page_and_says_so() {
    for backend in [BackendKind::Vantio, BackendKind::FirstPromoter] {
        let sb = quirky(250, &[Quirk::NoPaging]).await;
        let mut app = console(backend, &sb);
        loaded(&mut app).await;
        assert_eq!(app.state.load, LoadState::Loaded, "{backend:?}");
        // v1 keeps `limit` (100); v2 loses `per_page` too and answers its default page of 20.
        let first_page = match backend {
            BackendKind::Vantio => 100,
            BackendKind::FirstPromoter => 20,
        };
        assert_eq!(app.state.records.len(), first_page, "{backend:?}");
        assert!(said(&app).contains("paging"), "{backend:?}: {}", said(&app));
    }
}

#[tokio::test]
async fn an_unreadable_referral_per_page_is_skipped_and_counted() {
    for backend in [BackendKind::Vantio, BackendKind::FirstPromoter] {
        let sb = quirky(250, &[Quirk::BrokenRows]).await;
        let mut app = console(backend, &sb);
        loaded(&mut app).await;
        assert_eq!(app.state.records.len(), 247, "{backend:?}: {}", said(&app));
        assert!(
            said(&app).contains("3 referrals") && said(&app).contains("could not be read"),
            "{backend:?}: {}",
            said(&app)
        );
    }
}

/// A loaded v2 console on a sandbox with `quirk` (batches followed for 1 s) that has pressed `v`
/// on its first pending referral and said `y` to the question (it cannot be undone): the sandbox,
/// the console and that referral's id.
async fn approving_a_pending_referral(quirk: Quirk) -> (Sandbox, App<TestBackend>, String) {
    let sb = quirky(40, &[quirk]).await;
    let mut app = console(BackendKind::FirstPromoter, &sb);
    app.set_batch_wait(Duration::from_secs(1));
    loaded(&mut app).await;
    let pending = first_record(&app, |r| r.text("state") == "pending").id;
    app.state.select(&pending);
    press(&mut app, KeyCode::Char('v'));
    // An approve from pending cannot be undone: the console asks first.
    press(&mut app, KeyCode::Char('y'));
    (sb, app, pending)
}

#[tokio::test]
async fn a_batch_that_stays_pending_with_odd_counters_is_reported_as_still_running() {
    let (sb, mut app, pending) = approving_a_pending_referral(Quirk::SlowBatches).await;
    assert!(app.settle(Duration::from_secs(30)).await, "polling ended");
    assert!(
        said(&app).contains("still running on the server"),
        "{}",
        said(&app)
    );
    assert_eq!(
        server_record_v2(&sb.server.v2_base_url(), &pending).await["state"],
        "pending"
    );
}

#[tokio::test]
async fn a_403_on_save_says_the_key_lacks_the_rights_and_keeps_the_form() {
    let sb = quirky(20, &[Quirk::ForbiddenWrites]).await;
    let mut app = console(BackendKind::Vantio, &sb);
    loaded(&mut app).await;
    let id = app.state.records[0].id.clone();
    app.state.select(&id);
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "x");
    ctrl(&mut app, 's');
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let text = screen_text(&app);
    assert!(text.contains("lacks the rights"), "{text}");
    assert!(!text.contains("Check the key"), "{text}");
    assert!(app.state.form.is_some(), "the form stays as typed");
}

#[tokio::test]
async fn a_403_on_a_v2_batch_action_says_the_key_lacks_the_rights_and_changes_nothing() {
    let (sb, mut app, pending) = approving_a_pending_referral(Quirk::ForbiddenWrites).await;
    settle(&mut app).await;
    let text = said(&app);
    assert!(
        text.contains("lacks the rights") && text.contains("403"),
        "{text}"
    );
    assert!(!text.contains("Check the key"), "{text}");
    let record = app.state.records.iter().find(|r| r.id == pending).unwrap();
    assert_eq!(record.text("state"), "pending");
    assert_eq!(
        server_record_v2(&sb.server.v2_base_url(), &pending).await["state"],
        "pending"
    );
}

#[tokio::test]
async fn a_list_answer_that_breaks_off_says_the_server_answered_with_the_url() {
    let sb = quirky(20, &[Quirk::Truncated]).await;
    let mut app = console(BackendKind::Vantio, &sb);
    app.start();
    app.settle(Duration::from_secs(30)).await;
    app.draw().unwrap();
    let text = said(&app);
    assert!(text.contains("broke off"), "{text}");
    assert!(text.contains("/api/v1/referrals"), "{text}");
    assert!(!text.contains("Could not reach"), "{text}");
    assert!(
        !text.contains("applied"),
        "a load changes nothing, so there is no change to check: {text}"
    );
}

#[tokio::test]
async fn a_split_entry_without_its_promoter_campaign_is_kept_when_another_field_is_saved() {
    let sb = quirky(60, &[Quirk::Nulls]).await;
    let mut app = console(BackendKind::FirstPromoter, &sb);
    loaded(&mut app).await;
    // `nulls` leaves the first split entry of every referral without promoter_campaign_id; a
    // referral whose id is 1 more than a multiple of 4 has no email, which a save would need.
    let split = first_record(&app, |r| {
        r.get("split_details")
            .as_array()
            .is_some_and(|s| !s.is_empty())
            && r.id.parse::<u64>().is_ok_and(|id| id % 4 != 1)
    });
    let base = sb.server.v2_base_url();
    let held = server_record_v2(&base, &split.id).await["split_details"].clone();
    app.state.select(&split.id);
    press(&mut app, KeyCode::Char('e'));
    let text = screen_text(&app);
    assert!(
        text.contains("Not editable here: split entry 1 (promoter "),
        "{text}"
    );
    assert!(
        text.contains("lose what the server holds."),
        "the note is wrapped, not cut at the edge: {text}"
    );
    assert!(
        !text.contains("Shared 0%"),
        "no running total that leaves the entry out: {text}"
    );
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "kept_split");
    ctrl(&mut app, 's');
    let review = screen_text(&app);
    assert!(!review.contains("split_details"), "{review}");
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let now = server_record_v2(&base, &split.id).await;
    assert!(
        now["username"].as_str().unwrap().ends_with("kept_split"),
        "{now}"
    );
    assert_eq!(
        now["split_details"], held,
        "the split is left as the server held it"
    );
}
