//! Servers that keep the vendors' contracts loosely, on wiremock, through the real clients and app:
//! referrals the spec does not promise to be whole, and a server that ignores paging.

mod common;

use common::*;
use crossterm::event::KeyCode;
use referee::api::BackendKind;
use referee::app::state::LoadState;
use referee::domain::schema::RefKind;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Answers GET `route` with `body`, only for `page` (v2's `page=`) when given.
async fn serve(server: &MockServer, route: &str, page: Option<&str>, body: Value) {
    let answer = ResponseTemplate::new(200).set_body_json(body);
    let mock = Mock::given(method("GET")).and(path(route));
    match page {
        Some(page) => mock.and(query_param("page", page)),
        None => mock,
    }
    .respond_with(answer)
    .mount(server)
    .await;
}

#[tokio::test]
async fn a_v2_page_with_broken_referrals_loads_the_rest_and_says_how_many_could_not_be_read() {
    let server = MockServer::start().await;
    let referrals = json!([
        {
            "id": 5001, "email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace",
            "state": "active", "website": "https://ada.dev", "is_expired": false
        },
        {"email": "no-id@example.org", "state": "active"},
        {
            "id": "5002", "email": "grace@example.org",
            "split_details": [{"promoter_id": 9, "percentage": "25.0"}]
        },
        {
            "id": 5003, "email": "odd@example.org", "state": {"code": 3},
            "promoter_campaign": {"campaign": {"name": "Affiliates 2026"}}
        },
        "5004"
    ]);
    let base = "/api/v2/company";
    serve(&server, &format!("{base}/referrals"), Some("1"), referrals).await;
    serve(&server, &format!("{base}/referrals"), Some("2"), json!([])).await;
    let campaigns = json!([
        {"id": 1007, "promoter": {"name": "Felix Sullivan"}, "campaign": {"name": "Affiliates 2026"}},
        {"promoter": {"name": "no id"}}
    ]);
    let links = format!("{base}/promoter_campaigns");
    serve(&server, &links, Some("1"), campaigns).await;
    serve(&server, &links, Some("2"), json!([])).await;

    let url = format!("{}{base}", server.uri());
    let mut app = app_for(BackendKind::FirstPromoter, &url, KEY, 160, 35);
    loaded(&mut app).await;

    assert_eq!(app.state.load, LoadState::Loaded);
    let ids: Vec<&str> = app.state.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["5001", "5002", "5003"]);
    let said = app.state.message.as_ref().unwrap().text.clone();
    assert!(
        said.starts_with("Loaded 3 referrals. 2 referrals on page 1 could not be read."),
        "{said}"
    );
    assert!(
        said.contains("1 referral has values that could not be read"),
        "{said}"
    );
    assert!(
        said.contains("Promoter campaigns: 1 entry on page 1 could not be read."),
        "{said}"
    );
    let screen = screen_text(&app);
    assert!(
        screen.contains("2 referrals on page 1 could not be read"),
        "{screen}"
    );
    let row = screen
        .lines()
        .find(|l| l.contains("Ada Lovelace"))
        .unwrap_or_else(|| panic!("the name column shows the name: {screen}"));
    assert!(row.contains("ada@"), "and the email its own column: {row}");
    assert_eq!(
        app.state.lookup(RefKind::PromoterCampaign, "1007"),
        Some("Felix Sullivan · Affiliates 2026"),
        "one bad promoter campaign does not fail the picker"
    );

    // The detail pane shows what could be read and what could not.
    press(&mut app, KeyCode::Enter);
    assert!(line_with(&app, "Website").contains("https://ada.dev"));
    let expired = line_with(&app, "Expired");
    assert!(expired.contains(" no"), "{expired}");
    press(&mut app, KeyCode::Char('j'));
    assert!(line_with(&app, "Split details").contains("promoter 9 25%"));
    press(&mut app, KeyCode::Char('j'));
    assert!(line_with(&app, "State").contains(r#"(unreadable: expected text, got {"code":3})"#));
    assert!(
        line_with(&app, "Campaign ").contains("Affiliates 2026"),
        "the rest of the promoter campaign is kept"
    );
}

/// The detail pane's line for the field labelled `label`.
fn line_with(app: &referee::runtime::App<ratatui::backend::TestBackend>, label: &str) -> String {
    let lines = screen(app);
    let at = find(app, &format!("│{label}")).unwrap_or_else(|| panic!("no {label}: {lines:#?}"));
    lines[at.1 as usize].chars().skip(at.0 as usize).collect()
}

/// A v1 referral numbered `n`.
fn v1_referral(n: usize) -> Value {
    json!({
        "id": format!("ref_{n}"), "impression_id": "imp_1", "first_name": "Ada",
        "last_name": format!("No. {n}"), "email": format!("ada{n}@example.org"),
        "status": "converted", "program_id": "prog_1", "student_id": "user_1",
        "created_at": "2026-01-01T10:00:00Z", "verified_at": null
    })
}

/// An empty v1 user list, so loading ends on the referrals alone.
async fn serve_no_names(server: &MockServer) {
    serve(server, "/api/v1/users", None, json!({"users": []})).await;
}

#[tokio::test]
async fn a_v1_server_that_ignores_offset_stops_loading_and_says_so() {
    let server = MockServer::start().await;
    let full_page: Vec<Value> = (0..100).map(v1_referral).collect();
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"referrals": full_page})))
        // Page 2 repeats page 1; the window may have asked for page 3 by then.
        .expect(2..=3)
        .mount(&server)
        .await;
    serve_no_names(&server).await;

    let mut app = app(&format!("{}/api/v1", server.uri()), KEY, 160, 35);
    loaded(&mut app).await;

    assert_eq!(app.state.load, LoadState::Loaded);
    assert_eq!(app.state.records.len(), 100);
    let said = "Loaded 100 referrals. The server sent page 1 again as page 2: stopped at 100 referrals — it may not support paging.";
    assert_eq!(app.state.message.as_ref().unwrap().text, said);
    assert!(screen_text(&app).contains(said), "{}", screen_text(&app));
    // `expect(2..=3)`: the list was asked for a few times, not for ever (checked when the server
    // drops).
}

#[tokio::test]
async fn a_v1_page_of_only_known_referrals_stops_and_new_ones_are_kept_once() {
    let server = MockServer::start().await;
    let page = |ids: std::ops::Range<usize>| {
        let referrals: Vec<Value> = ids.map(v1_referral).collect();
        ResponseTemplate::new(200).set_body_json(json!({"referrals": referrals}))
    };
    let at = |offset: &str| {
        Mock::given(method("GET"))
            .and(path("/api/v1/referrals"))
            .and(query_param("offset", offset))
    };
    // Page 2 overlaps page 1 by half; page 3 brings only referrals seen already.
    at("0").respond_with(page(0..100)).mount(&server).await;
    at("100").respond_with(page(50..150)).mount(&server).await;
    at("200")
        .respond_with(page(20..120))
        .expect(1)
        .mount(&server)
        .await;
    serve_no_names(&server).await;

    let mut app = app(&format!("{}/api/v1", server.uri()), KEY, 200, 35);
    loaded(&mut app).await;

    assert_eq!(app.state.load, LoadState::Loaded);
    assert_eq!(app.state.records.len(), 150, "each referral once");
    assert_eq!(
        app.state.message.as_ref().unwrap().text,
        "Loaded 150 referrals. 50 referrals sent more than once shown once. Page 3 brought only referrals already loaded: stopped at 150 referrals — the server may not support paging."
    );
}
