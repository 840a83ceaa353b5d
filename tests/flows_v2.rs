//! Key-driven flows on the FirstPromoter backend: the same console and keys, against the v2 sandbox.

mod common;

use std::time::Duration;

use common::*;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use referee::api::BackendKind;
use referee::domain::MetadataMode;
use referee::runtime::App;

async fn v2(seed: usize) -> (Sandbox, App<TestBackend>, String) {
    let sb = sandbox(seed, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v2_base_url();
    let mut app = app_for(BackendKind::FirstPromoter, &base, KEY, 120, 35);
    loaded(&mut app).await;
    (sb, app, base)
}

fn select(app: &mut App<TestBackend>, id: &str) {
    app.state.select(id);
    app.draw().unwrap();
}

#[tokio::test]
async fn an_email_taken_in_the_account_comes_back_under_the_email_field() {
    let (_sb, mut app, base) = v2(40).await;
    let with_email: Vec<_> = app
        .state
        .records
        .iter()
        .filter(|r| !r.get("email").is_null())
        .cloned()
        .collect();
    let (a, b) = (&with_email[0], &with_email[1]);
    select(&mut app, &a.id);
    press(&mut app, KeyCode::Char('e'));
    assert_eq!(app.state.form.as_ref().unwrap().focused().spec.key, "email");
    ctrl(&mut app, 'u');
    type_text(&mut app, &b.text("email"));
    ctrl(&mut app, 's');
    assert!(
        screen_text(&app).contains(r#""email": ""#),
        "the review shows the body"
    );
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    assert!(app.state.form.is_some(), "the form stays open");
    let field =
        find(&app, &format!("Email  {}", b.text("email"))).expect("typed email still there");
    let error = find(&app, "✗ Has already been taken").expect("422 message under the field");
    assert_eq!(error.1, field.1 + 1);
    assert_eq!(fg_at(&app, error), Color::Red);
    assert_eq!(
        server_record_v2(&base, &a.id).await["email"],
        &*a.text("email")
    );
}

#[tokio::test]
async fn email_or_uid_is_required_before_anything_is_sent() {
    let (_sb, mut app, _base) = v2(40).await;
    let lead = first_record(&app, |r| {
        r.get("uid").is_null() && !r.get("email").is_null()
    });
    select(&mut app, &lead.id);
    press(&mut app, KeyCode::Char('e'));
    ctrl(&mut app, 'u');
    ctrl(&mut app, 's');
    assert!(
        app.state.pending.is_empty() && app.state.overlay.is_none(),
        "nothing sent"
    );
    assert!(
        find(&app, "✗ Email or uid is required").is_some(),
        "{}",
        screen_text(&app)
    );
    // Giving a uid instead mends it: the console's own check is made again, it does not stick.
    while app.state.form.as_ref().unwrap().focused().spec.key != "uid" {
        press(&mut app, KeyCode::Tab);
    }
    type_text(&mut app, "cus_given");
    ctrl(&mut app, 's');
    assert!(
        matches!(
            app.state.overlay,
            Some(referee::app::state::Overlay::Review { .. })
        ),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn splits_over_100_are_an_inline_error_with_the_running_total() {
    let (_sb, mut app, _base) = v2(40).await;
    let first = app.state.records[0].id.clone();
    select(&mut app, &first);
    press(&mut app, KeyCode::Char('e'));
    while app.state.form.as_ref().unwrap().focused().spec.key != "split_details" {
        press(&mut app, KeyCode::Tab);
    }
    let links: Vec<String> = {
        let mut ids: Vec<_> = app.state.lookups
            [&referee::domain::schema::RefKind::PromoterCampaign]
            .keys()
            .cloned()
            .collect();
        ids.sort();
        ids
    };
    for _ in 0..10 {
        press(&mut app, KeyCode::Delete);
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, &format!("{} 70", links[0]));
    assert!(
        screen_text(&app).contains("Shared 70% · the referral's promoter keeps 30%"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, &format!("{} 40", links[1]));
    assert!(
        screen_text(&app).contains("One row per partner"),
        "no total once it is over 100"
    );
    ctrl(&mut app, 's');
    assert!(
        find(&app, "✗ The percentages add up to 110%").is_some(),
        "{}",
        screen_text(&app)
    );
    assert!(app.state.pending.is_empty());
}

#[tokio::test]
async fn a_split_takes_whole_percentages_only_and_sends_them_as_integers() {
    let (_sb, mut app, base) = v2(40).await;
    let record = first_record(&app, |r| {
        r.get("split_details")
            .as_array()
            .is_none_or(|splits| splits.is_empty())
    });
    let own = record.get("promoter_campaign.id").to_string();
    let partner = {
        let names = &app.state.lookups[&referee::domain::schema::RefKind::PromoterCampaign];
        let mut others: Vec<_> = names.keys().filter(|id| **id != own).cloned().collect();
        others.sort();
        others[0].clone()
    };
    select(&mut app, &record.id);
    press(&mut app, KeyCode::Char('e'));
    while app.state.form.as_ref().unwrap().focused().spec.key != "split_details" {
        press(&mut app, KeyCode::Tab);
    }
    type_text(&mut app, &format!("{partner} 33.5"));
    ctrl(&mut app, 's');
    assert!(
        find(
            &app,
            "✗ Line 1: the percentage must be a whole number from 0 to 100."
        )
        .is_some(),
        "{}",
        screen_text(&app)
    );
    assert!(app.state.pending.is_empty(), "nothing was sent");
    press(&mut app, KeyCode::Backspace);
    press(&mut app, KeyCode::Backspace);
    ctrl(&mut app, 's');
    let review = screen_text(&app);
    assert!(review.contains(r#""percentage": 33"#), "{review}");
    assert!(
        !review.contains(r#""percentage": 33."#),
        "an integer: {review}"
    );
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let held = server_record_v2(&base, &record.id).await["split_details"].clone();
    assert_eq!(held[0]["promoter_campaign_id"].to_string(), partner);
    assert_eq!(held[0]["percentage"], serde_json::json!(33));
}

#[tokio::test]
async fn the_promoter_campaign_picker_sets_the_link_id() {
    let (_sb, mut app, base) = v2(40).await;
    let record = app.state.records[3].clone();
    let current = record.get("promoter_campaign.id").to_string();
    select(&mut app, &record.id);
    press(&mut app, KeyCode::Char('e'));
    while app.state.form.as_ref().unwrap().focused().spec.key != "promoter_campaign.id" {
        press(&mut app, KeyCode::Tab);
    }
    let (link, label) = {
        let names = &app.state.lookups[&referee::domain::schema::RefKind::PromoterCampaign];
        let mut other: Vec<_> = names.iter().filter(|(id, _)| **id != current).collect();
        other.sort();
        (other[0].0.clone(), other[0].1.clone())
    };
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, &label);
    assert!(
        screen_text(&app).contains(&format!("{label} ({link})")),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Enter);
    ctrl(&mut app, 's');
    assert!(
        screen_text(&app).contains(&format!(r#""promoter_campaign_id": {link}"#)),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    assert_eq!(
        server_record_v2(&base, &record.id).await["promoter_campaign"]["id"].to_string(),
        link
    );
    assert_eq!(
        app.state
            .record(&record.id)
            .unwrap()
            .get("promoter_campaign.id")
            .to_string(),
        link
    );
}

#[tokio::test]
async fn moving_to_another_promoter_is_reviewed_then_sent_as_a_batch() {
    let (_sb, mut app, base) = v2(40).await;
    let record = app.state.records[5].clone();
    let current = record.get("promoter_campaign.id").to_string();
    select(&mut app, &record.id);
    press(&mut app, KeyCode::Char('e'));
    ctrl(&mut app, 'p');
    assert!(screen_text(&app).contains("Move to which promoter campaign?"));
    let target = {
        let names = &app.state.lookups[&referee::domain::schema::RefKind::PromoterCampaign];
        let mut other: Vec<_> = names.iter().filter(|(id, _)| **id != current).collect();
        other.sort();
        other[0].1.clone()
    };
    type_text(&mut app, &target);
    press(&mut app, KeyCode::Enter);
    let text = screen_text(&app);
    assert!(
        text.contains("POST /referrals/move_to_promoter")
            && text.contains("\"move_associated_commissions\": true"),
        "{text}"
    );
    press(&mut app, KeyCode::Char('m'));
    assert!(screen_text(&app).contains("\"move_associated_commissions\": false"));
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let moved = server_record_v2(&base, &record.id).await;
    assert_ne!(moved["promoter_campaign"]["id"].to_string(), current);
    assert_eq!(
        app.state
            .record(&record.id)
            .unwrap()
            .get("promoter_campaign.id"),
        moved["promoter_campaign"]["id"],
        "the row was refreshed"
    );
}

#[tokio::test]
async fn approving_eight_marked_referrals_shows_batch_progress_then_refreshes_the_rows() {
    let (_sb, mut app, base) = v2(120).await;
    let ids: Vec<String> = app
        .state
        .records
        .iter()
        .filter(|r| matches!(r.str("state"), Some("pending" | "denied")))
        .take(8)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(
        ids.len(),
        8,
        "the demo data has pending and denied referrals"
    );
    for id in &ids {
        select(&mut app, id);
        press(&mut app, KeyCode::Char(' '));
    }
    assert_eq!(app.state.marked.len(), 8);
    press(&mut app, KeyCode::Char('v'));
    assert!(
        screen_text(&app).contains("Approve 8 marked referrals?"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('y'));
    assert!(app.step(Duration::from_secs(5)).await, "the batch answered");
    app.draw().unwrap();
    assert!(
        screen_text(&app).contains("approve 0/8") || screen_text(&app).contains("approve "),
        "{}",
        screen_text(&app)
    );
    let mut seen_progress = false;
    while app.state.busy() {
        assert!(
            app.step(Duration::from_secs(10)).await,
            "the batch finished"
        );
        app.draw().unwrap();
        seen_progress |= screen_text(&app).contains("/8 (");
    }
    assert!(seen_progress, "the status bar showed the batch's progress");
    assert!(
        screen_text(&app).contains("Done: Approve 8/8 · 0 failed"),
        "{}",
        screen_text(&app)
    );
    for id in &ids {
        let state = app.state.record(id).unwrap().text("state").into_owned();
        assert!(
            matches!(state.as_str(), "signup" | "active"),
            "{id} is {state}"
        );
        assert_eq!(server_record_v2(&base, id).await["state"], state.as_str());
    }
    assert!(app.state.marked.is_empty(), "marks are cleared once used");
}

#[tokio::test]
async fn disable_asks_a_reason_and_says_it_only_goes_to_the_local_log() {
    let (_sb, mut app, base) = v2(40).await;
    let id = first_record(&app, |r| r.text("state") != "denied").id;
    select(&mut app, &id);
    press(&mut app, KeyCode::Char('x'));
    assert!(
        screen_text(&app).contains("local journal only"),
        "{}",
        screen_text(&app)
    );
    type_text(&mut app, "fake signup");
    press(&mut app, KeyCode::Enter);
    settle(&mut app).await;
    assert_eq!(server_record_v2(&base, &id).await["state"], "denied");
    assert_eq!(app.state.record(&id).unwrap().text("state"), "denied");
    press(&mut app, KeyCode::Char('p'));
    settle(&mut app).await;
    assert_ne!(
        server_record_v2(&base, &id).await["state"],
        "denied",
        "p enables it again"
    );
}

#[tokio::test]
async fn find_opens_a_referral_by_email() {
    let (_sb, mut app, _base) = v2(40).await;
    let target = app
        .state
        .records
        .iter()
        .rev()
        .find(|r| !r.get("email").is_null())
        .unwrap()
        .clone();
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, &format!("find email {}", target.text("email")));
    press(&mut app, KeyCode::Enter);
    settle(&mut app).await;
    assert_eq!(app.state.selected_record().unwrap().id, target.id);
    assert!(app.state.detail_open);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "find email nobody@nowhere.example");
    press(&mut app, KeyCode::Enter);
    settle(&mut app).await;
    assert!(screen_text(&app).contains("No referral with email nobody@nowhere.example"));
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "fnd x");
    press(&mut app, KeyCode::Enter);
    assert!(
        screen_text(&app).contains("✗ Usage: find email"),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn approving_an_active_referral_says_there_is_nothing_to_do() {
    let (_sb, mut app, _base) = v2(40).await;
    let id = first_record(&app, |r| r.text("state") == "active").id;
    select(&mut app, &id);
    press(&mut app, KeyCode::Char('v'));
    assert!(app.state.pending.is_empty(), "nothing sent");
    assert!(
        screen_text(&app).contains("Nothing to send: ")
            && screen_text(&app).contains("approve acts on pending or denied referrals"),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn emptying_a_text_field_sends_an_empty_string_never_null() {
    let (_sb, mut app, base) = v2(40).await;
    let named = first_record(&app, |r| {
        !r.get("username").is_null() && !r.get("email").is_null()
    });
    select(&mut app, &named.id);
    press(&mut app, KeyCode::Char('e'));
    while app.state.form.as_ref().unwrap().focused().spec.key != "username" {
        press(&mut app, KeyCode::Tab);
    }
    ctrl(&mut app, 'u');
    ctrl(&mut app, 's');
    match &app.state.overlay {
        Some(referee::app::state::Overlay::Review { changes, .. }) => {
            assert_eq!(
                changes.body["username"],
                serde_json::json!(""),
                "{changes:?}"
            )
        }
        other => panic!("the review, not {other:?}"),
    }
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let held = &server_record_v2(&base, &named.id).await["username"];
    assert!(
        held.is_null() || held == "",
        "the server cleared it: {held}"
    );
}

/// Batch 77, pending with nothing done, as the stuck server answers it.
fn stuck_batch() -> serde_json::Value {
    serde_json::json!({"id": 77, "status": "pending", "total": 2, "processed_count": 0,
        "failed_count": 0, "progress": 0, "processing_errors": []})
}

/// A v2 server with two pending referrals that never change: approving them is answered with
/// `approve`, and batch 77 stays pending for ever.
async fn server_with_a_stuck_batch(approve: wiremock::ResponseTemplate) -> wiremock::MockServer {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let referral = |id: i64| serde_json::json!({"id": id, "email": format!("r{id}@example.com"), "state": "pending"});
    let both = serde_json::json!([referral(5001), referral(5002)]);
    Mock::given(method("GET"))
        .and(path("/api/v2/company/referrals"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(both.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/company/referrals"))
        .and(query_param("ids[]", "5001"))
        .respond_with(ResponseTemplate::new(200).set_body_json(both))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/company/referrals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/company/promoter_campaigns"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v2/company/referrals/approve"))
        .respond_with(approve)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/company/batch_processes/77"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stuck_batch()))
        .mount(&server)
        .await;
    server
}

/// Approves the first referral of `server` (`v`, then `y` to the question that says an approve
/// from pending cannot be undone) and waits until the console stops following the batch; the
/// screen then.
async fn approve_first_on(server: &wiremock::MockServer) -> String {
    let base = format!("{}/api/v2/company", server.uri());
    let mut app = app_for(BackendKind::FirstPromoter, &base, KEY, 120, 35);
    app.set_batch_wait(Duration::from_secs(1));
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('v'));
    let question = screen_text(&app);
    assert!(
        question.contains("Approve 5001? This cannot be undone with u"),
        "{question}"
    );
    press(&mut app, KeyCode::Char('y'));
    assert!(
        screen_text(&app).contains("Sending 5001 · approve"),
        "{}",
        screen_text(&app)
    );
    assert!(
        app.settle(Duration::from_secs(30)).await,
        "polling stopped on its own"
    );
    app.draw().unwrap();
    screen_text(&app)
}

#[tokio::test]
async fn a_batch_that_never_ends_is_followed_for_a_bounded_time_and_reported_open() {
    let approve = wiremock::ResponseTemplate::new(202).set_body_json(stuck_batch());
    let text = approve_first_on(&server_with_a_stuck_batch(approve).await).await;
    assert!(
        text.contains("still running on the server after 1 s"),
        "{text}"
    );
    assert!(
        !text.contains("failed"),
        "an open batch is never called failed: {text}"
    );
}

#[tokio::test]
async fn a_pending_batch_the_server_names_no_id_for_is_reported_open() {
    let mut nameless = stuck_batch();
    nameless.as_object_mut().unwrap().remove("id");
    let approve = wiremock::ResponseTemplate::new(200).set_body_json(nameless);
    let text = approve_first_on(&server_with_a_stuck_batch(approve).await).await;
    // The status bar's message wraps where its width says: read it as one line.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("which named no batch"), "{text}");
    assert!(!text.contains("failed"), "{text}");
}

#[tokio::test]
async fn an_accepted_batch_whose_answer_cannot_be_read_is_unknown_never_failed() {
    // A 200 whose body stops mid-object (the length it declares is what it sends): accepted, and
    // nothing says what became of it; the referrals, re-read, have not changed yet.
    let approve = wiremock::ResponseTemplate::new(200)
        .set_body_raw(r#"{"id": 77, "status": "pen"#, "application/json");
    let text = approve_first_on(&server_with_a_stuck_batch(approve).await).await;
    assert!(text.contains("Could not tell whether"), "{text}");
    assert!(text.contains("the answer could not be read"), "{text}");
    assert!(text.contains("may still be running it"), "{text}");
    assert!(!text.contains("failed"), "{text}");
}

#[tokio::test]
async fn the_filter_finds_referrals_by_their_promoters_name() {
    let (_sb, mut app, _base) = v2(60).await;
    let promoter = app.state.records[0]
        .text("promoter_campaign.promoter.name")
        .into_owned();
    let theirs = app
        .state
        .records
        .iter()
        .filter(|r| r.text("promoter_campaign.promoter.name") == promoter)
        .count();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, &promoter.to_lowercase());
    press(&mut app, KeyCode::Enter);
    let shown: Vec<String> = app
        .state
        .list
        .visible
        .iter()
        .map(|i| {
            app.state.records[*i]
                .text("promoter_campaign.promoter.name")
                .into_owned()
        })
        .collect();
    assert!(shown.len() >= theirs, "{promoter}: {shown:?}");
    assert!(
        shown.iter().filter(|p| **p == promoter).count() == theirs,
        "every referral of {promoter} is found"
    );
}

#[tokio::test]
async fn the_names_website_comment_and_expiry_the_spec_documents_are_shown() {
    let (_sb, mut app, _base) = v2(80).await;
    let commented = first_record(&app, |r| {
        !r.text("comment").is_empty()
            && !r.text("website").is_empty()
            && !r.text("first_name").is_empty()
            && !r.text("last_name").is_empty()
    });
    let expired = first_record(&app, |r| r.get("is_expired") == serde_json::json!(true));
    let name = format!(
        "{} {}",
        commented.text("first_name"),
        commented.text("last_name")
    );
    select(&mut app, &commented.id);
    // The email column may cut the address short.
    let email: String = commented.text("email").chars().take(12).collect();
    let row = screen(&app)
        .into_iter()
        .find(|l| l.contains(&email))
        .unwrap_or_else(|| panic!("the row of {email}: {}", screen_text(&app)));
    assert!(row.contains(&name), "the list's name column: {row}");
    press(&mut app, KeyCode::Enter);
    let detail = |app: &App<TestBackend>, label: &str| {
        let lines = screen(app);
        lines
            .iter()
            .find_map(|l| {
                l.split_once(&format!("│{label} "))
                    .map(|(_, v)| v.to_string())
            })
            .unwrap_or_else(|| panic!("no {label} line: {lines:#?}"))
    };
    assert!(detail(&app, "First name").contains(&*commented.text("first_name")));
    assert!(detail(&app, "Last name").contains(&*commented.text("last_name")));
    assert!(detail(&app, "Website").contains(&*commented.text("website")));
    let comment = commented.text("comment");
    let start: String = comment.chars().take(20).collect();
    assert!(detail(&app, "Comment").contains(&start), "{comment}");
    assert!(detail(&app, "Expired").trim_start().starts_with("no"));
    select(&mut app, &expired.id);
    assert!(detail(&app, "Expired").trim_start().starts_with("yes"));
}

#[tokio::test]
async fn stats_count_states_name_promoters_and_follow_an_approve() {
    let (_sb, mut app, _base) = v2(120).await;
    let pending = |app: &App<TestBackend>| {
        let stats = &app.state.stats.as_ref().expect("the view is open").stats;
        stats.steps.iter().find(|(w, _)| *w == "pending").unwrap().1
    };
    let id = first_record(&app, |r| r.text("state") == "pending").id;
    let before = app
        .state
        .records
        .iter()
        .filter(|r| r.text("state") == "pending")
        .count();
    select(&mut app, &id);
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Char('S'));
    let text = screen_text(&app);
    for words in [
        "Referrals by state",
        "became customers (subscribed, active, cancelled or",
        "Top promoters by referrals",
        "New customers per day · last 30 days",
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    assert_eq!(pending(&app), before, "the approve has not answered yet");
    // The promoters are named as the referrals name them; each state in its colour.
    let top = &app.state.stats.as_ref().unwrap().stats.by_referrals;
    assert!(top.iter().all(|p| p.name.is_some()), "{top:?}");
    let name = top[0].name.as_deref().unwrap();
    assert!(text.contains(name), "{name}: {text}");
    assert_eq!(fg_at(&app, find(&app, "denied").unwrap()), Color::Red);
    settle(&mut app).await;
    assert_eq!(pending(&app), before - 1, "{}", screen_text(&app));
    press(&mut app, KeyCode::Char('S'));
    assert!(app.state.stats.is_none());
}
