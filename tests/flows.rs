//! Key-driven flows through the real app loop on a TestBackend, against the real sandbox over HTTP.

mod common;

use common::*;
use crossterm::event::KeyCode;
use ratatui::style::Color;
use referee::domain::MetadataMode;
use serde_json::json;

#[tokio::test]
async fn filter_edit_invalid_email_fix_review_send_and_the_server_has_it() {
    let sb = sandbox(40, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 35);
    loaded(&mut app).await;
    assert_eq!(app.state.records.len(), 40);

    let target = app.state.records[7].clone();
    let email = target.text("email");
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, &email);
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.state.list.visible.len(),
        1,
        "filter by email shows one row"
    );
    assert_eq!(app.state.selected_record().unwrap().id, target.id);

    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    type_text(&mut app, "not-an-email");
    press(&mut app, KeyCode::Tab);
    let field = find(&app, "Email  not-an-email").expect("email field shows what was typed");
    let error = find(&app, "✗ Not a valid email address").expect("error shown");
    assert_eq!(
        error.1,
        field.1 + 1,
        "the error is directly under the email field"
    );
    assert_eq!(fg_at(&app, error), Color::Red);

    // Ctrl-s with the error: nothing is sent, focus goes back to the email field.
    ctrl(&mut app, 's');
    assert!(app.state.overlay.is_none());
    assert!(app.state.pending.is_empty());
    assert_eq!(app.state.form.as_ref().unwrap().focused().spec.key, "email");

    // Editing clears the error at once.
    press(&mut app, KeyCode::Backspace);
    assert!(find(&app, "✗").is_none(), "error clears on edit");
    ctrl(&mut app, 'u');
    type_text(&mut app, "fixed.address@example.org");
    ctrl(&mut app, 's');
    let text = screen_text(&app);
    assert!(text.contains("Review · PUT /referrals/"), "{text}");
    assert!(
        text.contains(&format!("{email} → fixed.address@example.org")),
        "{text}"
    );
    assert!(
        text.contains(r#""email": "fixed.address@example.org""#),
        "{text}"
    );
    assert!(
        !text.contains(r#""first_name""#),
        "only changed fields are sent: {text}"
    );

    // n returns to the form with everything still typed; Ctrl-s and y send.
    press(&mut app, KeyCode::Char('n'));
    assert!(find(&app, "Email  fixed.address@example.org").is_some());
    ctrl(&mut app, 's');
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    assert!(app.state.form.is_none(), "the form closes after a save");
    let text = screen_text(&app);
    assert!(
        text.contains(&format!(
            "Saved {} · email {email} → fixed.address@example.org",
            target.id
        )),
        "{text}"
    );
    assert!(
        find(&app, "fixed.address@example.org").unwrap().1 > 1,
        "the row shows the new value"
    );
    assert_eq!(
        server_record(&base, &target.id).await["email"],
        "fixed.address@example.org"
    );
}

#[tokio::test]
async fn an_email_taken_in_the_program_comes_back_under_the_email_field() {
    let sb = sandbox(40, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 35);
    loaded(&mut app).await;

    let records = &app.state.records;
    let (a, b) = records
        .iter()
        .enumerate()
        .find_map(|(i, a)| {
            records[i + 1..]
                .iter()
                .find(|b| b.get("program_id") == a.get("program_id"))
                .map(|b| (a.clone(), b.clone()))
        })
        .expect("two referrals in one program");
    let index = app
        .state
        .list
        .visible
        .iter()
        .position(|i| app.state.records[*i].id == a.id)
        .unwrap();
    app.state.move_selection(index as isize);
    press(&mut app, KeyCode::Char('e'));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    type_text(&mut app, &b.text("email"));
    ctrl(&mut app, 's');
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;

    let form = app.state.form.as_ref().expect("the form stays open");
    assert_eq!(form.focused().spec.key, "email");
    assert_eq!(
        form.focused().text(),
        b.text("email"),
        "nothing typed is lost"
    );
    let field = find(&app, &format!("Email  {}", b.text("email"))).unwrap();
    let error = find(&app, "✗ Already used by another referral in this program")
        .expect("server error under the field");
    assert_eq!(error.1, field.1 + 1);
    assert_eq!(fg_at(&app, error), Color::Red);
    assert_eq!(
        server_record(&base, &a.id).await["email"],
        json!(a.text("email"))
    );
}

#[tokio::test]
async fn quick_keys_verify_and_reject_through_the_same_put_path() {
    let sb = sandbox(40, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 35);
    loaded(&mut app).await;

    let pick = |app: &App, status: &str| {
        app.state
            .list
            .visible
            .iter()
            .position(|i| app.state.records[*i].text("status") == status)
            .unwrap()
    };
    type App = referee::runtime::App<ratatui::backend::TestBackend>;
    let index = pick(&app, "converted");
    app.state
        .move_selection(index as isize - app.state.list.selected as isize);
    let id = app.state.selected_record().unwrap().id.clone();
    let before_send = jiff::Timestamp::now();
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    let after_send = jiff::Timestamp::now();
    let on_server = server_record(&base, &id).await;
    assert_eq!(on_server["status"], "verified");
    // "now" is when the PUT left, whole seconds, not the console's (frozen) planning clock.
    let stamped: jiff::Timestamp = on_server["verified_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(stamped.subsec_nanosecond(), 0);
    assert!(
        stamped.as_second() >= before_send.as_second() && stamped <= after_send,
        "verified_at {stamped} is the sending time ({before_send} .. {after_send})"
    );
    assert_eq!(on_server["metadata"]["verified_by"], ADMIN);
    assert_eq!(
        app.state.record(&id).unwrap().text("status"),
        "verified",
        "the row shows the server's record"
    );
    assert!(screen_text(&app).contains(&format!("Saved {id} · status converted → verified")));

    press(&mut app, KeyCode::Char('x'));
    press(&mut app, KeyCode::Enter);
    assert!(
        screen_text(&app).contains("✗ Type a reason"),
        "an empty reason is refused"
    );
    assert!(app.state.pending.is_empty());
    type_text(&mut app, "duplicate signup");
    press(&mut app, KeyCode::Enter);
    settle(&mut app).await;
    let on_server = server_record(&base, &id).await;
    assert_eq!(on_server["status"], "rejected");
    assert_eq!(
        on_server["metadata"]["rejection_reason"],
        "duplicate signup"
    );
}

#[tokio::test]
async fn a_wrong_key_is_explained_in_the_status_bar() {
    let sb = sandbox(5, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), "sk_wrong", 120, 35);
    loaded(&mut app).await;
    let text = screen_text(&app);
    assert!(
        text.contains("401") && text.contains("REFEREE_API_KEY"),
        "{text}"
    );
    assert!(text.contains("load failed"), "{text}");
}

/// A v1 server holding one converted referral, `ref_1`, whose single read (the conflict guard's)
/// is answered as `guard_read` (with the referral as its body); writes are left to the test.
async fn one_referral_server(guard_read: wiremock::ResponseTemplate) -> wiremock::MockServer {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let ok = |body: serde_json::Value| ResponseTemplate::new(200).set_body_json(body);
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ok(json!({"referrals": [converted_ref_1()]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals/ref_1"))
        .respond_with(guard_read.set_body_json(converted_ref_1()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(ok(json!({"users": []})))
        .mount(&server)
        .await;
    server
}

fn converted_ref_1() -> serde_json::Value {
    json!({
        "id": "ref_1", "impression_id": "imp_1", "first_name": "Ada", "last_name": "Lovelace",
        "email": "ada@example.com", "status": "converted", "program_id": "prog_1", "student_id": "user_1",
        "created_at": "2026-01-01T10:00:00Z", "verified_at": null
    })
}

/// A server whose writes are refused with 429 (the sandbox's own limit is never reached: the
/// client paces itself to its rate-limit headers).
async fn server_refusing_writes() -> wiremock::MockServer {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};
    let server = one_referral_server(ResponseTemplate::new(200)).await;
    let limited = ResponseTemplate::new(429)
        // Longer than the client waits out on its own, so the save reports it.
        .insert_header("Retry-After", "120")
        .set_body_json(json!({"error": "Too Many Requests", "message": "Rate limit exceeded"}));
    Mock::given(method("PUT"))
        .respond_with(limited)
        .mount(&server)
        .await;
    server
}

/// Presses `v` on a converted ref_1 whose guard read the server answers with `guard_read`, and
/// returns when `v` was pressed and the `verified_at` the one PUT carried.
async fn verified_at_sent(
    guard_read: wiremock::ResponseTemplate,
) -> (jiff::Timestamp, jiff::Timestamp) {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};
    let referral = converted_ref_1();
    let server = one_referral_server(guard_read).await;
    let ok = |body: serde_json::Value| ResponseTemplate::new(200).set_body_json(body);
    let mut verified = referral.clone();
    verified["status"] = json!("verified");
    Mock::given(method("PUT"))
        .respond_with(ok(verified))
        .mount(&server)
        .await;
    let mut app = app(&format!("{}/api/v1", server.uri()), KEY, 120, 35);
    loaded(&mut app).await;
    let pressed = jiff::Timestamp::now();
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    let puts: Vec<serde_json::Value> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "PUT")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let [put] = &puts[..] else {
        panic!("one PUT: {puts:?}")
    };
    let stamped = put["verified_at"].as_str().unwrap().parse().unwrap();
    (pressed, stamped)
}

#[tokio::test]
async fn now_is_stamped_after_a_slow_guard_read_as_the_put_leaves() {
    // The guard's read takes 2.5 s, as one held behind a rate limit would.
    let slow =
        wiremock::ResponseTemplate::new(200).set_delay(std::time::Duration::from_millis(2500));
    let (pressed, stamped) = verified_at_sent(slow).await;
    assert!(
        stamped.as_second() >= pressed.as_second() + 2,
        "verified_at {stamped} is after the guard read, not when v was pressed ({pressed})"
    );
}

#[tokio::test]
async fn now_is_stamped_when_the_put_leaves_after_waiting_for_the_rate_limit() {
    // The guard's read uses up the window, which ends in 3 s: the PUT waits for it.
    let last_of_window = wiremock::ResponseTemplate::new(200)
        .insert_header("X-RateLimit-Remaining", "0")
        .insert_header("X-RateLimit-Reset", "3");
    let (pressed, stamped) = verified_at_sent(last_of_window).await;
    assert!(
        stamped.as_second() >= pressed.as_second() + 2,
        "verified_at {stamped} is when the PUT left after the wait, not when v was pressed ({pressed})"
    );
    assert!(stamped <= jiff::Timestamp::now(), "never in the future");
}

#[tokio::test]
async fn rate_limited_saves_say_when_to_try_again_and_keep_the_form() {
    let server = server_refusing_writes().await;
    let mut app = app(&format!("{}/api/v1", server.uri()), KEY, 120, 35);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "x");
    ctrl(&mut app, 's');
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let text = screen_text(&app);
    assert!(
        text.contains("Too many requests (429). The server asks to wait 120 s"),
        "{text}"
    );
    assert!(
        app.state.form.as_ref().unwrap().fields[0]
            .text()
            .ends_with('x'),
        "the typed text is still there"
    );
}

#[tokio::test]
async fn quitting_with_unsent_changes_asks_first() {
    let sb = sandbox(5, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 120, 35);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "q");
    assert!(!app.state.should_quit, "q types in the form");
    ctrl(&mut app, 'c');
    assert!(screen_text(&app).contains("Quit?"));
    press(&mut app, KeyCode::Char('n'));
    assert!(!app.state.should_quit);
    press(&mut app, KeyCode::Esc);
    assert!(screen_text(&app).contains("discard"));
    press(&mut app, KeyCode::Char('y'));
    assert!(app.state.form.is_none());
    press(&mut app, KeyCode::Char('q'));
    assert!(app.state.should_quit);
}

#[tokio::test]
async fn esc_stops_a_load_the_server_never_answers() {
    let silent = silent_server().await;
    let mut app = app(&silent.v1_base_url(), KEY, 120, 20);
    app.start();
    let referrals = |h: &Heard| h.line.starts_with("GET /api/v1/referrals?");
    assert!(silent.heard(|heard| heard.iter().any(referrals)).await);
    app.draw().unwrap();
    assert!(
        screen_text(&app).contains("loading… 0 (Esc stops)"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.state.load, referee::app::state::LoadState::Stopped);
    let text = screen_text(&app);
    assert!(
        text.contains("Loading stopped at 0 referrals; r loads again."),
        "{text}"
    );
    // The request is dropped at once, not left to its 30 s timeout: its connection closes.
    assert!(
        silent
            .heard(|heard| heard.iter().filter(|h| referrals(h)).all(|h| h.closed))
            .await,
        "the stopped load's request is still open"
    );
    press(&mut app, KeyCode::Char('r'));
    assert!(
        matches!(
            app.state.load,
            referee::app::state::LoadState::Loading { .. }
        ),
        "r loads again"
    );
}

/// Requests the server has had for `/impressions` or one impression.
async fn impression_reads(server: &wiremock::MockServer) -> usize {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.url.path().starts_with("/api/v1/impressions"))
        .count()
}

/// v1 impressions are not loaded with the list: the detail pane reads its referral's impression
/// when it first shows it, and keeps it.
#[tokio::test]
async fn the_detail_reads_its_impression_once_and_the_load_reads_none() {
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let ok = |body: serde_json::Value| ResponseTemplate::new(200).set_body_json(body);
    let referral = |n: u32, impression: &str| {
        json!({
            "id": format!("ref_{n}"), "impression_id": impression, "first_name": "Ada",
            "last_name": format!("No. {n}"), "email": format!("ada{n}@example.com"),
            "status": "converted", "program_id": "prog_1", "student_id": "user_1",
            "created_at": "2026-01-01T10:00:00Z", "verified_at": null
        })
    };
    let referrals = json!({"referrals": [referral(1, "imp_1"), referral(2, "imp_1")]});
    Mock::given(method("GET"))
        .and(path("/api/v1/referrals"))
        .respond_with(ok(referrals))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(ok(
            json!({"users": [{"id": "user_1", "first_name": "Grace"}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/impressions/imp_1"))
        .respond_with(ok(
            json!({"id": "imp_1", "poster_id": "post_7", "location": "Library"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/api/v1/impressions/?$"))
        .respond_with(ok(json!({"impressions": []})))
        .expect(0)
        .mount(&server)
        .await;
    let mut app = app(&format!("{}/api/v1", server.uri()), KEY, 120, 35);
    loaded(&mut app).await;
    assert_eq!(app.state.records.len(), 2);
    assert_eq!(impression_reads(&server).await, 0, "the load reads none");

    press(&mut app, KeyCode::Enter);
    settle(&mut app).await;
    let shown = "Library · post_7 (imp_1)";
    assert!(screen_text(&app).contains(shown), "{}", screen_text(&app));
    assert_eq!(impression_reads(&server).await, 1);

    // Closed and opened again, and another referral from the same impression: no new read.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('j'));
    settle(&mut app).await;
    assert_eq!(app.state.selected_record().unwrap().id, "ref_2");
    assert!(screen_text(&app).contains(shown), "{}", screen_text(&app));
    assert_eq!(impression_reads(&server).await, 1);
}

#[tokio::test]
async fn the_filter_finds_referrals_by_their_ambassadors_name() {
    let sb = sandbox(80, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 35);
    loaded(&mut app).await;
    let ambassador = app.state.records[0].text("student_id").into_owned();
    let name = app
        .state
        .lookup(referee::domain::schema::RefKind::User, &ambassador)
        .expect("ambassador names loaded")
        .to_string();
    let theirs = app
        .state
        .records
        .iter()
        .filter(|r| r.text("student_id") == ambassador)
        .count();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, &name.to_lowercase());
    press(&mut app, KeyCode::Enter);
    let found = app
        .state
        .list
        .visible
        .iter()
        .filter(|i| app.state.records[**i].text("student_id") == ambassador)
        .count();
    assert_eq!(found, theirs, "every referral of {name} is found");
}

#[tokio::test]
async fn verifying_an_already_verified_referral_leaves_the_server_as_it_was() {
    let sb = sandbox(40, 1000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 35);
    loaded(&mut app).await;
    let verified = app
        .state
        .records
        .iter()
        .find(|r| r.text("status") == "verified")
        .expect("a verified referral")
        .clone();
    let before = server_record(&base, &verified.id).await;
    app.state.select(&verified.id);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    assert_eq!(
        server_record(&base, &verified.id).await,
        before,
        "nothing was sent"
    );
    let text = screen_text(&app);
    assert!(text.contains("already verified by"), "{text}");
    let name = verified.text("first_name");
    let row = text
        .lines()
        .find(|line| line.contains(&*name) && line.contains("verified"))
        .expect("the row");
    let mark = row.trim_start_matches(['│', ' ']).chars().next();
    assert_eq!(mark, Some('='), "the row shows =: {row}");
}

/// The count and share beside a status word's bar in the stats view (its left half, at 80 columns).
fn stats_row(app: &referee::runtime::App<ratatui::backend::TestBackend>, word: &str) -> String {
    let line = screen(app)
        .into_iter()
        .find(|line| {
            line.trim_start_matches('│')
                .starts_with(&format!("{word} "))
        })
        .unwrap_or_else(|| panic!("no bar for {word}: {}", screen_text(app)));
    let left: String = line.chars().skip(1).take(39).collect();
    let words: Vec<&str> = left.split_whitespace().collect();
    words[words.len() - 2..].join(" ")
}

#[tokio::test]
async fn stats_count_the_filter_follow_a_write_and_keep_their_colours() {
    let sb = sandbox(200, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 80, 24);
    loaded(&mut app).await;
    let count = |app: &referee::runtime::App<_>, status: &str| {
        app.state
            .records
            .iter()
            .filter(|r| r.text("status") == status)
            .count()
    };
    let (converted, verified) = (count(&app, "converted"), count(&app, "verified"));

    // For a filter: the title names it, and only its rows are counted.
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status:converted");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('S'));
    let text = screen_text(&app);
    assert!(
        text.contains(&format!(
            "Stats · {converted} of 200 referrals · status:converted"
        )),
        "{text}"
    );
    assert_eq!(stats_row(&app, "converted"), format!("{converted} 100%"));
    assert_eq!(stats_row(&app, "rejected"), "0 0%");
    // Each word in its colour; the status bar stays below.
    let at = find(&app, "rejected").unwrap();
    assert_eq!(fg_at(&app, at), Color::Red);
    assert_eq!(fg_at(&app, find(&app, "verified").unwrap()), Color::Green);
    assert!(screen(&app)[23].contains("200 loaded"));
    // Help opens over it and closes back to it; Esc closes it.
    press(&mut app, KeyCode::Char('?'));
    assert!(screen_text(&app).contains("Keys"));
    press(&mut app, KeyCode::Esc);
    assert!(screen_text(&app).contains("Stats ·"));
    press(&mut app, KeyCode::Esc);
    assert!(app.state.stats.is_none() && screen_text(&app).contains("Referrals"));

    // A write that answers while the view is open is counted, its verified_at the latest.
    press(&mut app, KeyCode::Esc);
    let id = first_record(&app, |r| r.text("status") == "converted").id;
    app.state.select(&id);
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "stats");
    press(&mut app, KeyCode::Enter);
    assert!(stats_row(&app, "verified").starts_with(&format!("{verified} ")));
    settle(&mut app).await;
    assert!(
        stats_row(&app, "verified").starts_with(&format!("{} ", verified + 1)),
        "{}",
        screen_text(&app)
    );
    let stamped = app
        .state
        .record(&id)
        .unwrap()
        .text("verified_at")
        .parse()
        .ok();
    assert_eq!(app.state.stats.as_ref().unwrap().stats.latest, stamped);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.state.stats.is_none() && !app.state.should_quit);
}

/// Marks `ids` and verifies them in one bulk while every write fails (`ids[1]` was changed
/// behind the console's back first, so it meets a conflict instead).
async fn failing_bulk(
    app: &mut referee::runtime::App<ratatui::backend::TestBackend>,
    sb: &Sandbox,
    ids: &[String],
) {
    for id in ids {
        app.state.select(id);
        press(app, KeyCode::Char(' '));
    }
    put_behind(
        &sb.server.v1_base_url(),
        &ids[1],
        json!({"status": "pending"}),
    )
    .await;
    sb.server.set_chaos(1.0);
    press(app, KeyCode::Char('v'));
    press(app, KeyCode::Char('y'));
    settle(app).await;
    sb.server.set_chaos(0.0);
}

#[tokio::test]
async fn e_lists_a_bulks_failed_rows_with_their_errors_until_r_or_two_minutes_clear_them() {
    let sb = sandbox(40, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 80, 24);
    loaded(&mut app).await;
    // In the list's order, as E lists them.
    let ids = first_ids(&app, 3, |r| r.text("status") == "converted");
    failing_bulk(&mut app, &sb, &ids).await;
    let text = screen_text(&app);
    assert!(
        text.contains("2 failed · 1 changed by others · R again · E why"),
        "{text}"
    );

    press(&mut app, KeyCode::Char('E'));
    let text = screen_text(&app);
    assert!(
        text.contains("Mark verified · 3 of 3 did not land"),
        "{text}"
    );
    for id in &ids {
        assert!(text.contains(id.as_str()), "{id} listed: {text}");
    }
    assert!(
        text.contains("conflict: changed by someone else since it was read (status)"),
        "{text}"
    );
    assert!(text.contains("failed: "), "{text}");
    let (x, y) = find(&app, "failed: ").unwrap();
    assert_eq!(fg_at(&app, (x, y)), Color::Red, "errors are in red");
    let lines = screen(&app);
    let gauge = lines
        .iter()
        .position(|l| l.contains("2 failed · 1 changed by others · R again"));
    let bar = lines
        .iter()
        .position(|l| l.contains("test · vantio  40 loaded"));
    assert!(
        gauge.is_some() && bar > gauge,
        "the bulk bar and the status bar stay visible under the list:\n{}",
        lines.join("\n")
    );

    // Enter on the second row: selected in the list, its error first in the detail pane.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert!(app.state.overlay.is_none());
    assert_eq!(app.state.selected_record().unwrap().id, ids[1]);
    let text = screen_text(&app);
    assert!(
        text.contains("! Mark verified: conflict — changed by someone else"),
        "{text}"
    );
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Esc);
    app.state.select(&ids[0]);
    press(&mut app, KeyCode::Enter);
    assert!(
        screen_text(&app).contains("✗ Mark verified: failed — "),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Esc);

    // Two minutes after the bulk ended, its marks, bar and message are gone, and E says so.
    app.state.clock.now += jiff::SignedDuration::from_secs(119);
    app.dispatch(referee::app::Action::Tick);
    app.draw().unwrap();
    assert!(screen_text(&app).contains("E why"), "kept for 2 minutes");
    app.state.clock.now += jiff::SignedDuration::from_secs(1);
    app.dispatch(referee::app::Action::Tick);
    app.draw().unwrap();
    let text = screen_text(&app);
    assert!(!text.contains('✗') && !text.contains("E why"), "{text}");
    assert!(app.state.bulk.is_none() && app.state.message.is_none());
    press(&mut app, KeyCode::Char('E'));
    assert!(app.state.overlay.is_none());
    assert!(screen_text(&app).contains("No bulk change to show"));

    // Another failing bulk: r clears it at once.
    let more = first_ids(&app, 2, |r| {
        r.text("status") == "converted" && !ids.contains(&r.id)
    });
    failing_bulk(&mut app, &sb, &more).await;
    assert!(app.state.bulk.is_some() && screen_text(&app).contains('✗'));
    press(&mut app, KeyCode::Char('r'));
    assert!(app.state.bulk.is_none());
    settle(&mut app).await;
    let text = screen_text(&app);
    assert!(
        !text.contains('✗') && !text.contains("E shows why"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_writes_the_rows_shown_as_referee_list_prints_them() {
    let sb = sandbox(30, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let hostile = "=HYPERLINK(\"http://x\")\u{1b}[2J\u{202e}evil";
    let mut app = app(&base, KEY, 120, 35);
    loaded(&mut app).await;
    let target = first_record(&app, |r| r.text("status") == "pending").id;
    put_behind(
        &base,
        &target,
        json!({"first_name": hostile, "metadata": {"note": "a\u{7}b"}}),
    )
    .await;
    press(&mut app, KeyCode::Char('r'));
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "status=pending");
    press(&mut app, KeyCode::Enter);
    let shown = app.state.list.visible.len();
    assert!(shown > 1 && shown < 30, "{shown}");

    let dir = tempfile::tempdir().unwrap();
    let export = |app: &mut referee::runtime::App<_>, format: &str, path: &std::path::Path| {
        press(app, KeyCode::Char(':'));
        type_text(app, &format!("export {format} {}", path.display()));
        press(app, KeyCode::Enter);
    };
    let listed = |format: &'static str| {
        let args = [
            "list",
            "--base-url",
            &base,
            "--format",
            format,
            "--where",
            "status=pending",
        ];
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let home = dir.path().to_path_buf();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = common::cli::referee(&home, &args, "", &[("REFEREE_API_KEY", KEY)]).await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            run.stdout
        }
    };
    let csv_path = dir.path().join("pending.csv");
    export(&mut app, "csv", &csv_path);
    settle(&mut app).await;
    let written = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(
        written,
        listed("csv").await,
        "byte for byte what list prints"
    );
    assert!(
        written.contains("'=HYPERLINK(\"\"http://x\"\")⟨U+001B⟩[2J⟨U+202E⟩evil"),
        "formula-safe, nothing hidden: {written}"
    );
    let said = format!("Exported {shown} referrals to {}.", csv_path.display());
    assert!(screen_text(&app).contains(&said), "{}", screen_text(&app));

    // The same file again: asked first; n keeps it, y replaces it (here with the JSON).
    export(&mut app, "json", &csv_path);
    settle(&mut app).await;
    assert!(
        screen_text(&app).contains("pending.csv is there already. Replace it with"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), written, "kept");
    export(&mut app, "json", &csv_path);
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let json = std::fs::read_to_string(&csv_path).unwrap();
    assert_eq!(json, listed("json").await);
    assert!(
        json.contains(r#"=HYPERLINK(\"http://x\")\u001b[2J\u202eevil"#),
        "{json}"
    );
    assert!(json.contains(r#""note": "a\u0007b""#), "{json}");

    // A folder that is not there: said, with what to do, and nothing written.
    let nowhere = dir.path().join("no/such");
    export(&mut app, "csv", &nowhere.join("x.csv"));
    settle(&mut app).await;
    let said = format!(
        "Not exported: there is no folder {}. Create it",
        nowhere.display()
    );
    let message = app.state.message.clone().unwrap();
    assert!(message.text.starts_with(&said), "{}", message.text);
    assert_eq!(message.level, referee::app::state::Level::Error);
    let (x, y) = find(&app, "Not exported").expect("said in the status bar");
    assert_eq!(fg_at(&app, (x, y)), Color::Red);
    assert!(!nowhere.exists());
}

#[tokio::test]
async fn r_reloads_with_the_marks_and_the_cursor_where_they_were() {
    let sb = sandbox(400, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 100, 30);
    loaded(&mut app).await;
    // Far down the list, past the first page a reload brings.
    press(&mut app, KeyCode::Char('G'));
    for key in "kkkkk  kkk".chars() {
        press(&mut app, KeyCode::Char(key));
    }
    let cursor = app.state.selected_record().unwrap().id.clone();
    assert_eq!(app.state.list.selected, 393);
    let marked = app.state.marked.clone();
    assert_eq!(marked.len(), 2);
    press(&mut app, KeyCode::Char('r'));
    assert!(app.state.loading(), "it loads again");
    settle(&mut app).await;
    assert_eq!(app.state.records.len(), 400);
    assert_eq!(app.state.selected_record().unwrap().id, cursor);
    assert_eq!(app.state.marked, marked);
    let status = screen(&app).pop().unwrap();
    assert!(status.contains("400 loaded just now"), "{status}");
}

#[tokio::test]
async fn a_click_selects_the_row_under_it_the_wheel_moves_and_a_click_focuses_a_field() {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    let sb = sandbox(40, 1000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 100, 30);
    loaded(&mut app).await;
    let mouse = |app: &mut referee::runtime::App<_>, kind, column, row| {
        app.mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        });
        app.draw().unwrap();
    };
    let click = MouseEventKind::Down(MouseButton::Left);
    // Click on the name the screen shows for the fifth referral.
    let fifth = app.state.records[app.state.list.visible[4]].title(app.state.schema);
    let (x, y) = find(&app, &fifth).expect("the fifth row is on screen");
    mouse(&mut app, click, x, y);
    assert_eq!(app.state.list.selected, 4);
    mouse(&mut app, MouseEventKind::ScrollDown, x, y);
    mouse(&mut app, MouseEventKind::ScrollDown, x, y);
    mouse(&mut app, MouseEventKind::ScrollUp, x, y);
    assert_eq!(app.state.list.selected, 5, "two down, one up");
    // In the form, a click on the Email line gives that field the keyboard.
    press(&mut app, KeyCode::Char('e'));
    let (x, y) = find(&app, "Email").expect("the email field");
    mouse(&mut app, click, x, y);
    let form = app.state.form.as_ref().unwrap();
    assert_eq!(form.focused().spec.key, "email");
    type_text(&mut app, "x");
    let form = app.state.form.as_ref().unwrap();
    assert!(form.focused().text().ends_with('x'), "typing goes there");
}
