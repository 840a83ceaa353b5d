//! Verification sessions end to end against the sandbox: triage that never waits, bulk under a rate
//! limit, undo, the conflict guard and the audit log.

mod common;

use std::time::Duration;

use common::*;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use referee::api::BackendKind;
use referee::domain::MetadataMode;
use referee::runtime::App;
use referee::store::journal::{Journal, Verdict};
use serde_json::{Value, json};
use std::sync::Arc;

/// An app on v1 at `base` whose journal lives in `dir`.
fn journaled(base: &str, dir: &tempfile::TempDir) -> (App<TestBackend>, Arc<Journal>) {
    let journal = journal_in(dir.path());
    let app = app_journaled(BackendKind::Vantio, base, KEY, (120, 40), journal.clone());
    (app, journal)
}

/// The journal's entries of `kind` with `verdict`.
fn count(journal: &Journal, kind: &str, verdict: Verdict) -> usize {
    journal
        .entries(None)
        .unwrap()
        .iter()
        .filter(|e| e.intent.kind == kind && e.outcome.as_ref().map(|o| o.verdict) == Some(verdict))
        .count()
}

#[tokio::test]
async fn triage_shows_the_next_referral_at_once_and_a_failed_write_comes_back() {
    let sb = sandbox_tuned(60, 10_000, MetadataMode::Merge, |c| {
        c.write_delay = Duration::from_millis(700)
    })
    .await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let (mut app, journal) = journaled(&base, &logs);
    loaded(&mut app).await;

    press(&mut app, KeyCode::Char('t'));
    let queue = app
        .state
        .triage
        .as_ref()
        .expect("triage started")
        .queue
        .clone();
    let mut converted: Vec<_> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("status") == "converted")
        .collect();
    converted.sort_by_key(|r| r.text("created_at"));
    assert_eq!(
        queue,
        converted.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        "converted, oldest first"
    );
    assert!(screen_text(&app).contains(&format!("Triage 0/{}", queue.len())));

    // One key per decision: the next referral is on screen while the first PUT is still delayed.
    press(&mut app, KeyCode::Char('v'));
    let second = first_record(&app, |r| r.id == queue[1]).title(app.state.schema);
    assert!(screen_text(&app).contains(&second), "{}", screen_text(&app));
    assert!(screen_text(&app).contains(&format!("Triage 1/{}", queue.len())));
    assert!(
        app.state.pending_writes() == 1,
        "the first write is still in flight"
    );
    assert_eq!(
        server_record(&base, &queue[0]).await["status"],
        "converted",
        "not written yet"
    );
    settle(&mut app).await;
    assert_eq!(server_record(&base, &queue[0]).await["status"], "verified");

    // A forced failure comes back to the queue, with its error, right after the referral on screen.
    sb.server.set_chaos(1.0);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    sb.server.set_chaos(0.0);
    let triage = app.state.triage.as_ref().unwrap();
    assert!(triage.errors.contains_key(&queue[1]));
    assert_eq!(
        triage.queue[triage.position + 1],
        queue[1],
        "the failed one is next after the current"
    );
    assert!(
        screen_text(&app).contains("Triage 1/"),
        "a failed decision is not counted"
    );
    press(&mut app, KeyCode::Char('s'));
    let text = screen_text(&app);
    assert!(
        text.contains("✗ Last write failed") && text.contains("1 failed"),
        "{text}"
    );
    assert_eq!(server_record(&base, &queue[1]).await["status"], "converted");

    // Reject with a reason; the next reject can pick it with `1`.
    press(&mut app, KeyCode::Char('x'));
    type_text(&mut app, "duplicate signup");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('x'));
    assert!(screen_text(&app).contains("Alt-1 duplicate signup"));
    alt(&mut app, '1');
    settle(&mut app).await;
    assert_eq!(
        server_record(&base, &queue[1]).await["metadata"]["rejection_reason"],
        "duplicate signup"
    );

    press(&mut app, KeyCode::Char('q'));
    let text = screen_text(&app);
    assert!(
        text.contains("Session summary")
            && text.contains("Verified  1")
            && text.contains("Rejected  2"),
        "{text}"
    );
    // The summary is journaled in the background: give it a moment.
    let mut entries = Vec::new();
    for _ in 0..50 {
        entries = journal.entries(None).unwrap();
        if entries.iter().any(|e| e.intent.kind == "summary") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let summary = entries
        .iter()
        .find(|e| e.intent.kind == "summary")
        .expect("summary in the journal");
    assert_eq!(
        (
            summary.intent.detail["verified"].clone(),
            summary.intent.detail["rejected"].clone()
        ),
        (json!(1), json!(2))
    );
    assert_eq!(
        count(&journal, "write", Verdict::Failed),
        1,
        "the failed write is journaled too"
    );
    assert_eq!(count(&journal, "write", Verdict::Applied), 3);
}

#[tokio::test]
async fn a_bulk_of_200_under_a_low_rate_limit_updates_all_and_never_goes_over() {
    let sb = sandbox_tuned(320, 60, MetadataMode::Merge, |c| {
        c.rate_window = Duration::from_secs(2)
    })
    .await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let (mut app, journal) = journaled(&base, &logs);
    loaded(&mut app).await;
    let targets: Vec<String> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("status") != "verified")
        .take(200)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(targets.len(), 200);
    for id in &targets {
        app.state.select(id);
        press(&mut app, KeyCode::Char(' '));
    }
    assert_eq!(app.state.marked.len(), 200);
    press(&mut app, KeyCode::Char('v'));
    assert!(
        screen_text(&app).contains("Mark verified 200 marked referrals?"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('y'));
    assert!(app.state.pending_writes() <= 4, "bounded concurrency");
    assert!(
        app.settle(Duration::from_secs(120)).await,
        "the bulk finished"
    );
    app.draw().unwrap();
    let bulk = app.state.bulk.as_ref().unwrap();
    let failures: Vec<_> = bulk.failed().iter().map(|id| &bulk.rows[id]).collect();
    assert_eq!(
        (bulk.finished_count(), bulk.failed().len()),
        (200, 0),
        "{failures:?}"
    );
    assert!(
        screen_text(&app).contains("Done: Mark verified 200/200 · 0 failed"),
        "{}",
        screen_text(&app)
    );
    assert_eq!(count(&journal, "write", Verdict::Applied), 200);
    assert_eq!(
        journal.entries(None).unwrap().len(),
        200,
        "nothing failed, nothing was sent twice"
    );
    for id in targets.iter().step_by(20) {
        assert_eq!(server_record(&base, id).await["status"], "verified");
    }
}

#[tokio::test]
async fn undo_restores_the_servers_record_field_by_field() {
    for mode in [MetadataMode::Merge, MetadataMode::Replace] {
        let sb = sandbox(30, 10_000, mode).await;
        let base = sb.server.v1_base_url();
        let mut app = app(&base, KEY, 120, 40);
        app.state.session.metadata_mode = mode;
        loaded(&mut app).await;
        let target = first_record(&app, |r| {
            r.text("status") == "converted" && r.get("metadata").is_object()
        });
        let before = server_record(&base, &target.id).await;
        app.state.select(&target.id);
        press(&mut app, KeyCode::Char('v'));
        settle(&mut app).await;
        let changed = server_record(&base, &target.id).await;
        assert_eq!(changed["status"], "verified");
        assert_eq!(changed["metadata"]["verified_by"], ADMIN);

        press(&mut app, KeyCode::Char('u'));
        settle(&mut app).await;
        let after = server_record(&base, &target.id).await;
        assert!(
            screen_text(&app).contains(&format!("Undid {}", target.id)),
            "{}",
            screen_text(&app)
        );

        for field in ["status", "verified_at", "first_name", "email"] {
            assert_eq!(after[field], before[field], "{field} ({mode:?})");
        }
        let mut expected = before["metadata"].clone();
        if mode == MetadataMode::Merge {
            // A merge cannot delete a key: the key it added is set back to null.
            expected["verified_by"] = Value::Null;
        }
        assert_eq!(after["metadata"], expected, "{mode:?}");
        press(&mut app, KeyCode::Char('u'));
        assert!(screen_text(&app).contains("Nothing to undo"));
    }
}

#[tokio::test]
async fn a_concurrent_writer_triggers_the_conflict_dialog_and_keeps_their_value() {
    let sb = sandbox(30, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 40);
    loaded(&mut app).await;
    let target = first_record(&app, |r| r.text("status") == "converted").id;
    app.state.select(&target);
    press(&mut app, KeyCode::Char('e'));
    for _ in 0..4 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Char('v'));
    ctrl(&mut app, 's');
    put_behind(&base, &target, json!({"status": "rejected"})).await;
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let text = screen_text(&app);
    assert!(
        text.contains("Conflict") && text.contains("converted → rejected │ verified"),
        "{text}"
    );
    assert_eq!(
        server_record(&base, &target).await["status"],
        "rejected",
        "their value is left in place"
    );
    press(&mut app, KeyCode::Char('k'));
    settle(&mut app).await;
    assert_eq!(
        server_record(&base, &target).await["status"],
        "verified",
        "keep mine sends it anyway"
    );
    assert!(
        screen_text(&app).contains("status rejected → verified"),
        "the status bar names the value that was on the server: {}",
        screen_text(&app)
    );
    // Status keys right after a form closes are taken for type-ahead and ignored; a second later they act.
    press(&mut app, KeyCode::Char('c'));
    assert!(
        app.state.pending.is_empty(),
        "a status key typed as the form closed is ignored"
    );
    assert!(
        screen_text(&app).contains("The form just closed"),
        "{}",
        screen_text(&app)
    );
    app.state.clock.now += jiff::SignedDuration::from_secs(1);

    // In bulk, a conflicted row is reported as such and not overwritten.
    let rows = first_ids(&app, 3, |r| r.text("status") == "pending");
    for id in &rows {
        app.state.select(id);
        press(&mut app, KeyCode::Char(' '));
    }
    put_behind(&base, &rows[1], json!({"status": "rejected"})).await;
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    assert_eq!(
        app.state.bulk.as_ref().unwrap().rows[&rows[1]],
        referee::app::bulk::RowResult::Conflict(
            "changed by someone else since it was read (status); nothing was sent".into()
        )
    );
    assert_eq!(server_record(&base, &rows[1]).await["status"], "rejected");
    assert_eq!(server_record(&base, &rows[0]).await["status"], "converted");
    assert!(
        screen_text(&app).contains("0 failed · 1 changed by others · R again · E why"),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn referee_audit_prints_what_the_console_wrote() {
    let sb = sandbox(20, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let journal = journal_in(&data);
    let mut app = app_journaled(BackendKind::Vantio, &base, KEY, (120, 40), journal);
    loaded(&mut app).await;
    let id = first_record(&app, |r| r.text("status") != "verified").id;
    app.state.select(&id);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;

    let run = |args: &[&str]| {
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"))
            .env("REFEREE_HOME", home.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json_lines = run(&["audit", "--format", "jsonl"]);
    let entries: Vec<Value> = json_lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0]["ids"][0].as_str(), entries[0]["why"].as_str()),
        (Some(id.as_str()), Some("quick"))
    );
    assert_eq!(
        entries[0]["before"]["status"], entries[1]["outcome"]["after"]["status"],
        "undo restored the status"
    );
    assert_eq!(entries[1]["why"], "undo");
    assert_eq!(entries[0]["admin_id"], ADMIN);
    assert_eq!(entries[0]["outcome"]["verdict"], "applied");
    let array: Value = serde_json::from_str(&run(&["audit", "--format", "json"])).unwrap();
    assert_eq!(array.as_array().map(Vec::len), Some(2));
    let table = run(&["audit", "--since", "1h"]);
    assert!(
        table.starts_with("time") && table.lines().count() == 3,
        "{table}"
    );
    let csv = run(&["audit", "--format", "csv"]);
    assert!(csv.lines().nth(1).unwrap().contains(&id));
    let bad = assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"))
        .env("REFEREE_HOME", home.path())
        .args(["audit", "--since", "soon"])
        .output()
        .unwrap();
    assert!(
        !bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not a duration")
    );
}

#[tokio::test]
async fn undo_reverts_a_firstpromoter_state_action_with_its_inverse() {
    let sb = sandbox(60, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v2_base_url();
    let mut app = app_for(
        referee::api::BackendKind::FirstPromoter,
        &base,
        KEY,
        120,
        40,
    );
    loaded(&mut app).await;
    let id = first_record(&app, |r| r.text("state") == "denied").id;
    app.state.select(&id);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    let approved = server_record_v2(&base, &id).await["state"].clone();
    assert!(approved == "signup" || approved == "active", "{approved}");
    press(&mut app, KeyCode::Char('u'));
    assert!(
        screen_text(&app).contains(&format!("Undoing approve of {id}")),
        "{}",
        screen_text(&app)
    );
    settle(&mut app).await;
    assert!(
        screen_text(&app).contains(&format!("Undid approve of {id}")),
        "{}",
        screen_text(&app)
    );
    assert_eq!(server_record_v2(&base, &id).await["state"], "denied");
    assert_eq!(app.state.record(&id).unwrap().text("state"), "denied");
    press(&mut app, KeyCode::Char('u'));
    assert!(
        screen_text(&app).contains("Nothing to undo"),
        "an undo is not itself undone"
    );
}

#[tokio::test]
async fn reloading_from_the_bottom_of_the_list_keeps_a_valid_cursor() {
    let sb = sandbox(250, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 120, 40);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('G'));
    let last = app.state.selected_record().unwrap().id.clone();
    press(&mut app, KeyCode::Char('r'));
    settle(&mut app).await;
    assert_eq!(app.state.records.len(), 250);
    assert_eq!(
        app.state.selected_record().unwrap().id,
        last,
        "the cursor stays on the same referral"
    );
}

#[tokio::test]
async fn bulk_reject_asks_first_and_needs_a_reason_and_one_bulk_runs_at_a_time() {
    let sb = sandbox_tuned(30, 10_000, MetadataMode::Merge, |c| {
        c.write_delay = Duration::from_millis(400)
    })
    .await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 40);
    loaded(&mut app).await;
    let ids: Vec<String> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("status") == "pending")
        .take(4)
        .map(|r| r.id.clone())
        .collect();
    for id in &ids[..2] {
        app.state.select(id);
        press(&mut app, KeyCode::Char(' '));
    }
    press(&mut app, KeyCode::Char('x'));
    assert!(
        screen_text(&app).contains("Reject 2 marked referrals?"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('y'));
    press(&mut app, KeyCode::Enter);
    assert!(
        screen_text(&app).contains("✗ Type a reason"),
        "{}",
        screen_text(&app)
    );
    assert!(
        app.state.pending.is_empty() && app.state.marked.len() == 2,
        "nothing sent, marks kept"
    );
    type_text(&mut app, "spam");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.state.pending_writes(), 2);
    // While that bulk runs, another one is refused rather than mixed in.
    for id in &ids[2..] {
        app.state.select(id);
        press(&mut app, KeyCode::Char(' '));
    }
    press(&mut app, KeyCode::Char('c'));
    press(&mut app, KeyCode::Char('y'));
    assert!(
        screen_text(&app).contains("A bulk change is still running"),
        "{}",
        screen_text(&app)
    );
    settle(&mut app).await;
    for id in &ids[..2] {
        assert_eq!(
            server_record(&base, id).await["metadata"]["rejection_reason"],
            "spam"
        );
    }
    assert_eq!(server_record(&base, &ids[2]).await["status"], "pending");
}

#[tokio::test]
async fn undo_in_triage_takes_the_decision_back_and_shows_the_referral_again() {
    let sb = sandbox(40, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 40);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('t'));
    let first = app
        .state
        .triage
        .as_ref()
        .unwrap()
        .current()
        .unwrap()
        .to_string();
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    assert_eq!(server_record(&base, &first).await["status"], "verified");
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;
    let triage = app.state.triage.as_ref().unwrap();
    assert_eq!(
        (triage.decided(), triage.current()),
        (0, Some(first.as_str()))
    );
    assert_eq!(server_record(&base, &first).await["status"], "converted");
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    assert_eq!(
        app.state.triage.as_ref().unwrap().decided(),
        1,
        "decided once, counted once"
    );
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('u'));
    assert!(
        screen_text(&app).contains("Nothing decided in this session yet"),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn taking_theirs_keeps_the_edits_that_did_not_conflict() {
    let sb = sandbox(30, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 40);
    loaded(&mut app).await;
    let target = first_record(&app, |r| r.text("status") == "converted");
    app.state.select(&target.id);
    press(&mut app, KeyCode::Char('e'));
    type_text(&mut app, "W");
    for _ in 0..4 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Char('v'));
    ctrl(&mut app, 's');
    put_behind(&base, &target.id, json!({"status": "rejected"})).await;
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('t'));
    let form = app.state.form.as_ref().expect("back in the form");
    assert_eq!(
        form.fields[0].text(),
        format!("{}W", target.text("first_name")),
        "my other edit is kept"
    );
    assert!(
        screen_text(&app).contains("Took theirs for Status"),
        "{}",
        screen_text(&app)
    );
    ctrl(&mut app, 's');
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let on_server = server_record(&base, &target.id).await;
    assert_eq!(
        on_server["first_name"],
        format!("{}W", target.text("first_name"))
    );
    assert_eq!(on_server["status"], "rejected", "theirs stands");
}

#[tokio::test]
async fn an_approve_from_pending_cannot_be_undone_and_u_touches_nothing_else() {
    let sb = sandbox(60, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v2_base_url();
    let mut app = app_for(BackendKind::FirstPromoter, &base, KEY, 120, 40);
    loaded(&mut app).await;
    let denied = first_record(&app, |r| r.text("state") == "denied").id;
    let pending = first_record(&app, |r| r.text("state") == "pending").id;
    app.state.select(&denied);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    // Approving a pending referral: the question says it cannot be undone.
    app.state.select(&pending);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('v'));
    assert!(
        screen_text(&app).contains("cannot be undone"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let approved = server_record_v2(&base, &denied).await["state"].clone();
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;
    assert!(
        screen_text(&app).contains("(Approve 1 referral) cannot be undone"),
        "{}",
        screen_text(&app)
    );
    assert_eq!(
        server_record_v2(&base, &denied).await["state"],
        approved,
        "the older change on another referral is not undone instead"
    );
    assert_ne!(server_record_v2(&base, &pending).await["state"], "pending");
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;
    assert_eq!(
        server_record_v2(&base, &denied).await["state"],
        "denied",
        "the next u, asked for, takes back the change before"
    );
}

#[tokio::test]
async fn one_u_takes_back_a_whole_bulk_change() {
    let sb = sandbox(40, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let (mut app, journal) = journaled(&base, &logs);
    loaded(&mut app).await;
    let targets: Vec<String> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("status") == "converted")
        .take(10)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(targets.len(), 10);
    let mut before = Vec::new();
    for id in &targets {
        before.push(server_record(&base, id).await);
        app.state.select(id);
        press(&mut app, KeyCode::Char(' '));
    }
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    for id in &targets {
        assert_eq!(server_record(&base, id).await["status"], "verified");
    }
    press(&mut app, KeyCode::Char('u'));
    assert!(
        screen_text(&app).contains("Undo Mark verified 10 referrals: put 10 referrals back"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    for (id, was) in targets.iter().zip(&before) {
        let now = server_record(&base, id).await;
        for field in ["status", "verified_at"] {
            assert_eq!(now[field], was[field], "{id} {field}");
        }
    }
    let undos = journal
        .entries(None)
        .unwrap()
        .iter()
        .filter(|e| {
            e.intent.why == "undo"
                && e.outcome.as_ref().map(|o| o.verdict) == Some(Verdict::Applied)
        })
        .count();
    assert_eq!(undos, 10, "each row's undo is journaled as an undo");
    press(&mut app, KeyCode::Char('u'));
    assert!(
        screen_text(&app).contains("Nothing to undo"),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn a_firstpromoter_action_leaves_out_a_referral_changed_behind_the_consoles_back() {
    let sb = sandbox(60, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v2_base_url();
    let mut app = app_for(BackendKind::FirstPromoter, &base, KEY, 120, 40);
    loaded(&mut app).await;
    let pending: Vec<String> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("state") == "pending")
        .take(3)
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(pending.len(), 3);
    for id in &pending {
        app.state.select(id);
        press(&mut app, KeyCode::Char(' '));
    }
    // Another admin disables the second one after the console loaded it.
    let answer = reqwest::Client::new()
        .post(format!("{base}/referrals/disable"))
        .bearer_auth(KEY)
        .header("Account-ID", ACCOUNT)
        .json(&json!({"ids": [pending[1].parse::<i64>().unwrap()]}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    // And moves the third to another promoter campaign.
    let link = server_record_v2(&base, &pending[2]).await["promoter_campaign"]["id"]
        .as_i64()
        .unwrap();
    let other_link = app
        .state
        .records
        .iter()
        .filter_map(|r| r.get("promoter_campaign.id").as_i64())
        .find(|l| *l != link)
        .expect("another promoter campaign");
    let answer = reqwest::Client::new()
        .post(format!("{base}/referrals/move_to_promoter"))
        .bearer_auth(KEY)
        .header("Account-ID", ACCOUNT)
        .json(&json!({"ids": [pending[2].parse::<i64>().unwrap()], "promoter_campaign_id": other_link}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    assert_eq!(
        server_record_v2(&base, &pending[2]).await["promoter_campaign"]["id"],
        other_link,
        "the move is done before the console acts"
    );
    press(&mut app, KeyCode::Char('v'));
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let rows = &app.state.bulk.as_ref().unwrap().rows;
    for conflicted in &pending[1..] {
        assert!(
            matches!(&rows[conflicted], referee::app::bulk::RowResult::Conflict(why) if why.starts_with("changed by someone else")),
            "{:?}",
            rows[conflicted]
        );
    }
    assert_eq!(rows[&pending[0]], referee::app::bulk::RowResult::Done);
    assert_eq!(
        server_record_v2(&base, &pending[2]).await["state"],
        "pending",
        "a referral moved to another promoter campaign is not approved"
    );
    assert_eq!(
        server_record_v2(&base, &pending[1]).await["state"],
        "denied",
        "the other admin's change is left alone"
    );
    assert_ne!(
        server_record_v2(&base, &pending[0]).await["state"],
        "pending"
    );
    assert!(
        screen_text(&app).contains("Done: Approve 3/3 · 0 failed · 2 changed by others"),
        "{}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn recent_reasons_come_back_in_the_next_triage_session() {
    let sb = sandbox(40, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let (mut app, _journal) = journaled(&base, &logs);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('t'));
    press(&mut app, KeyCode::Char('x'));
    type_text(&mut app, "1 of 3 duplicates");
    press(&mut app, KeyCode::Enter);
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('q'));
    press(&mut app, KeyCode::Esc);
    settle(&mut app).await;
    // A new session, in a console started again on the same journal.
    let (mut again, _) = journaled(&base, &logs);
    loaded(&mut again).await;
    press(&mut again, KeyCode::Char('t'));
    settle(&mut again).await;
    press(&mut again, KeyCode::Char('x'));
    assert!(
        screen_text(&again).contains("Alt-1 1 of 3 duplicates"),
        "{}",
        screen_text(&again)
    );
    alt(&mut again, '1');
    settle(&mut again).await;
    let rejected = again
        .state
        .records
        .iter()
        .filter(|r| r.text("metadata.rejection_reason") == "1 of 3 duplicates")
        .count();
    assert_eq!(
        rejected, 2,
        "typed as typed the first time, picked the second"
    );
}

#[tokio::test]
async fn a_server_that_replaces_metadata_is_named_and_undo_restores_the_whole_object() {
    // The server replaces metadata; the profile (the harness) says merge.
    let sb = sandbox(30, 10_000, MetadataMode::Replace).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 120, 40);
    loaded(&mut app).await;
    let target = first_record(&app, |r| {
        r.text("status") == "converted"
            && r.get("metadata").as_object().is_some_and(|m| !m.is_empty())
    });
    let before = server_record(&base, &target.id).await["metadata"].clone();
    app.state.select(&target.id);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    assert!(
        screen_text(&app).contains("Your server replaces metadata"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;
    assert_eq!(
        server_record(&base, &target.id).await["metadata"],
        before,
        "u puts the whole previous object back"
    );
}

#[tokio::test]
async fn the_bulk_question_says_when_marked_rows_are_hidden_by_the_filter() {
    let sb = sandbox(30, 10_000, MetadataMode::Merge).await;
    let mut app = app(&sb.server.v1_base_url(), KEY, 120, 40);
    loaded(&mut app).await;
    let rows: Vec<referee::domain::Record> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("status") == "converted")
        .take(2)
        .cloned()
        .collect();
    for row in &rows {
        app.state.select(&row.id);
        press(&mut app, KeyCode::Char(' '));
    }
    assert!(
        screen_text(&app).contains("· 2 marked"),
        "{}",
        screen_text(&app)
    );
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, &rows[0].text("email"));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('v'));
    // The question wraps inside its box: read it as one line of words.
    let flat = screen_text(&app)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("Mark verified 2 marked referrals? 1 of them is hidden by the filter."),
        "{flat}"
    );
    assert!(
        flat.contains("y yes · n no"),
        "the keys line is not cut off"
    );
}

#[tokio::test]
async fn a_triage_decision_firstpromoter_cannot_undo_stands_and_is_counted() {
    let sb = sandbox(60, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v2_base_url();
    let mut app = app_for(BackendKind::FirstPromoter, &base, KEY, 120, 40);
    loaded(&mut app).await;
    press(&mut app, KeyCode::Char('t'));
    let first = app
        .state
        .triage
        .as_ref()
        .unwrap()
        .current()
        .unwrap()
        .to_string();
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    press(&mut app, KeyCode::Char('u'));
    settle(&mut app).await;
    assert!(
        screen_text(&app).contains("cannot be undone on this backend; it stands"),
        "{}",
        screen_text(&app)
    );
    assert_ne!(server_record_v2(&base, &first).await["state"], "pending");
    press(&mut app, KeyCode::Char('q'));
    assert!(
        screen_text(&app).contains("Verified  1"),
        "the console counts what the server holds: {}",
        screen_text(&app)
    );
}

#[tokio::test]
async fn a_metadata_conflict_fits_80_by_24_with_one_row_per_key_and_the_keys_visible() {
    let sb = sandbox(30, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let mut app = app(&base, KEY, 80, 24);
    loaded(&mut app).await;
    let target = first_record(&app, |r| r.text("status") == "converted").id;
    app.state.select(&target);
    press(&mut app, KeyCode::Char('e'));
    let clock = app.state.clock.clone();
    let form = app.state.form.as_mut().expect("the form is open");
    let long = "a very long note that cannot fit in a third of eighty columns at all";
    let mine = json!({"source": "radio", "note": long, "channel": "mine"});
    assert!(form.restore("metadata", &mine.to_string(), &clock));
    ctrl(&mut app, 's');
    put_behind(
        &base,
        &target,
        json!({"metadata": {"source": "poster", "channel": "theirs"}}),
    )
    .await;
    press(&mut app, KeyCode::Char('y'));
    settle(&mut app).await;
    let text = screen_text(&app);
    let lines: Vec<&str> = text.lines().collect();
    let row = |key: &str| {
        lines
            .iter()
            .find(|l| l.contains(&format!("Metadata · {key}")))
            .unwrap_or_else(|| panic!("a row for {key}: {text}"))
            .to_string()
    };
    assert!(row("source").contains("→ poster │ radio"), "{text}");
    assert!(row("channel").contains("→ theirs │ mine"), "{text}");
    assert!(
        row("note").contains('…'),
        "a long value is cut to its column: {text}"
    );
    assert!(
        text.contains("k keep mine") && text.contains("t take theirs"),
        "the keys show at 80×24: {text}"
    );
    press(&mut app, KeyCode::Char('t'));
    let form = app.state.form.as_ref().expect("back in the form");
    let metadata = form
        .fields
        .iter()
        .find(|f| f.spec.key == "metadata")
        .unwrap();
    assert!(metadata.text().contains("poster"), "theirs is taken");
}

#[tokio::test]
async fn an_outcome_the_journal_cannot_record_is_said_in_red_and_recorded_later() {
    let sb = sandbox_tuned(30, 10_000, MetadataMode::Merge, |c| {
        c.write_delay = Duration::from_millis(500)
    })
    .await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let (mut app, journal) = journaled(&base, &logs);
    loaded(&mut app).await;
    let converted: Vec<String> = app
        .state
        .records
        .iter()
        .filter(|r| r.text("status") == "converted")
        .map(|r| r.id.clone())
        .take(2)
        .collect();
    let db = rusqlite::Connection::open(logs.path().join("referee.db")).unwrap();
    app.state.select(&converted[0]);
    press(&mut app, KeyCode::Char('v'));
    // The intent is journaled and the PUT is on its way; now the journal loses its outcome table.
    db.execute_batch("ALTER TABLE outcomes RENAME TO outcomes_away")
        .unwrap();
    settle(&mut app).await;
    // The journal's trouble comes right after the outcome.
    assert!(app.step(Duration::from_secs(5)).await, "a second answer");
    let said = app.state.message.clone().expect("a message");
    assert_eq!(said.level, referee::app::state::Level::Error);
    assert!(
        said.text
            .contains("reached the server but could not be recorded"),
        "{}",
        said.text
    );
    assert_eq!(
        server_record(&base, &converted[0]).await["status"],
        "verified"
    );
    // The journal comes back; the next write records both outcomes.
    db.execute_batch("ALTER TABLE outcomes_away RENAME TO outcomes")
        .unwrap();
    app.state.clock.now += jiff::SignedDuration::from_secs(2);
    app.state.select(&converted[1]);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    assert_eq!(count(&journal, "write", Verdict::Applied), 2);
}

#[tokio::test]
async fn a_write_the_journal_cannot_record_is_not_sent_and_says_so() {
    let sb = sandbox(10, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let (mut app, journal) = journaled(&base, &logs);
    loaded(&mut app).await;
    let id = app
        .state
        .records
        .iter()
        .find(|r| r.text("status") == "converted")
        .map(|r| r.id.clone())
        .expect("a converted referral");
    // The journal refuses every new entry, as a full disk would.
    let db = rusqlite::Connection::open(logs.path().join("referee.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'disk is full'); END;",
    )
    .unwrap();
    app.state.select(&id);
    press(&mut app, KeyCode::Char('v'));
    settle(&mut app).await;
    let said = app.state.message.clone().expect("a message");
    assert_eq!(said.level, referee::app::state::Level::Error);
    assert!(
        said.text
            .contains("Not sent: the journal could not record it")
            && said.text.contains("disk is full"),
        "{}",
        said.text
    );
    assert_eq!(server_record(&base, &id).await["status"], "converted");
    assert!(journal.entries(None).unwrap().is_empty());
}
