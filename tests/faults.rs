//! Every write accounted for, under faults: answers lost on the way back, requests lost on the way
//! out, a low rate limit, and the console killed in the middle of a bulk change.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use common::fault_proxy::{Fate, FaultProxy};
use common::pty::{self, Pty};
use common::*;
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use referee::api::{BackendKind, Page};
use referee::app::bulk::RowResult;
use referee::domain::MetadataMode;
use referee::runtime::App;
use referee::store::journal::{Journal, Stored, Verdict};

/// The journal's write entries, by referral id.
fn writes_by_id(journal: &Journal) -> BTreeMap<String, Vec<Stored>> {
    let mut by_id: BTreeMap<String, Vec<Stored>> = BTreeMap::new();
    for entry in journal.entries(None).unwrap() {
        if entry.intent.kind == "write" {
            by_id
                .entry(entry.intent.ids[0].clone())
                .or_default()
                .push(entry);
        }
    }
    by_id
}

fn verdict(entry: &Stored) -> Option<Verdict> {
    entry.outcome.as_ref().map(|o| o.verdict)
}

fn count(journal: &Journal, wanted: Verdict) -> usize {
    journal
        .entries(None)
        .unwrap()
        .iter()
        .filter(|e| e.intent.kind == "write" && verdict(e) == Some(wanted))
        .count()
}

/// Up to `n` loaded referrals that are not verified yet.
fn unverified(app: &App<TestBackend>, n: usize) -> Vec<String> {
    app.state
        .records
        .iter()
        .filter(|r| r.text("status") != "verified")
        .take(n)
        .map(|r| r.id.clone())
        .collect()
}

/// Marks `ids` with Space, presses `v` and confirms with `y`.
fn bulk_verify(app: &mut App<TestBackend>, ids: &[String]) {
    for id in ids {
        app.state.select(id);
        press(app, KeyCode::Char(' '));
    }
    assert_eq!(app.state.marked.len(), ids.len());
    press(app, KeyCode::Char('v'));
    let text = screen_text(app);
    assert!(
        text.contains(&format!("Mark verified {} marked referrals?", ids.len())),
        "{text}"
    );
    press(app, KeyCode::Char('y'));
}

async fn settle_within(app: &mut App<TestBackend>, limit: Duration) {
    assert!(app.settle(limit).await, "the writes did not finish");
    app.draw().unwrap();
}

fn rows(app: &App<TestBackend>) -> &std::collections::HashMap<String, RowResult> {
    &app.state.bulk.as_ref().expect("a bulk ran").rows
}

/// A loaded v1 app that talks to the sandbox at `direct` through `proxy`, with a journal on disk
/// (kept while the returned folder lives).
async fn through(
    proxy: &FaultProxy,
    direct: &str,
) -> (App<TestBackend>, Arc<Journal>, tempfile::TempDir) {
    let logs = tempfile::tempdir().unwrap();
    let journal = journal_in(logs.path());
    let base = proxy.base_url(direct);
    let mut app = app_journaled(BackendKind::Vantio, &base, KEY, (120, 40), journal.clone());
    loaded(&mut app).await;
    (app, journal, logs)
}

#[tokio::test]
async fn lost_answers_to_applied_puts_are_read_back_as_applied_and_journaled_once() {
    let sb = sandbox(60, 10_000, MetadataMode::Merge).await;
    let direct = sb.server.v1_base_url();
    // 3 PUTs in 10 reach the server, are applied, and their answers never come back.
    let proxy = FaultProxy::start(&direct, |n| {
        if n % 10 < 3 {
            Fate::DropAnswer
        } else {
            Fate::Forward
        }
    })
    .await;
    let (mut app, journal, _logs) = through(&proxy, &direct).await;
    let targets = unverified(&app, 30);
    assert_eq!(targets.len(), 30);
    bulk_verify(&mut app, &targets);
    settle_within(&mut app, Duration::from_secs(30)).await;

    let not_done: Vec<_> = targets
        .iter()
        .filter(|id| rows(&app).get(*id) != Some(&RowResult::Done))
        .map(|id| (id, rows(&app).get(id)))
        .collect();
    assert!(not_done.is_empty(), "rows not ✓: {not_done:?}");
    assert_eq!(proxy.puts(), 30, "one PUT per referral, none sent twice");
    assert!(
        proxy.dropped_answers() > 0,
        "the proxy lost no answers, so nothing was tested"
    );
    for id in &targets {
        assert_eq!(
            server_record(&direct, id).await["status"],
            "verified",
            "{id} on the server"
        );
    }
    let by_id = writes_by_id(&journal);
    for id in &targets {
        let verdicts: Vec<_> = by_id.get(id).into_iter().flatten().map(verdict).collect();
        assert_eq!(verdicts, vec![Some(Verdict::Applied)], "{id}'s journal");
    }
    for bad in [Verdict::Failed, Verdict::Unknown, Verdict::Conflict] {
        assert_eq!(count(&journal, bad), 0, "{bad:?} entries");
    }
    assert!(
        journal.unresolved("test").unwrap().is_empty(),
        "every write has an outcome"
    );
    let text = screen_text(&app);
    assert!(
        text.contains("Done: Mark verified 30/30 · 0 failed"),
        "{text}"
    );
    press(&mut app, KeyCode::Char('R'));
    let text = screen_text(&app);
    assert!(text.contains("No failed rows to send again"), "{text}");
    assert!(app.state.pending.is_empty(), "R sent nothing");
}

#[tokio::test]
async fn a_put_that_never_reached_the_server_fails_safely_and_r_sends_it_once() {
    let sb = sandbox(30, 10_000, MetadataMode::Merge).await;
    let direct = sb.server.v1_base_url();
    // The first PUT is lost on its way out; every other request goes through.
    let proxy = FaultProxy::start(&direct, |n| {
        if n == 0 {
            Fate::DropRequest
        } else {
            Fate::Forward
        }
    })
    .await;
    let (mut app, journal, _logs) = through(&proxy, &direct).await;
    let targets = unverified(&app, 3);
    assert_eq!(targets.len(), 3);
    let before: BTreeMap<String, serde_json::Value> = {
        let mut before = BTreeMap::new();
        for id in &targets {
            before.insert(id.clone(), server_record(&direct, id).await);
        }
        before
    };
    bulk_verify(&mut app, &targets);
    settle_within(&mut app, Duration::from_secs(20)).await;
    assert_eq!(proxy.dropped_requests(), 1);

    let failed: Vec<(String, String)> = rows(&app)
        .iter()
        .filter_map(|(id, r)| match r {
            RowResult::Failed(message) => Some((id.clone(), message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", rows(&app));
    let (lost, message) = &failed[0];
    assert!(message.contains("safe to send again"), "{message}");
    for id in targets.iter().filter(|id| *id != lost) {
        assert_eq!(rows(&app)[id], RowResult::Done, "{id}");
    }
    assert_eq!(
        server_record(&direct, lost).await,
        before[lost],
        "the server never saw the lost PUT"
    );
    let by_id = writes_by_id(&journal);
    let verdicts: Vec<_> = by_id[lost].iter().map(verdict).collect();
    assert_eq!(verdicts, vec![Some(Verdict::Failed)]);
    let row_mark = screen_text(&app);
    assert!(row_mark.contains("✗"), "{row_mark}");
    assert!(row_mark.contains("1 failed"), "{row_mark}");

    press(&mut app, KeyCode::Char('R'));
    settle_within(&mut app, Duration::from_secs(20)).await;
    assert_eq!(rows(&app)[lost], RowResult::Done, "{:?}", rows(&app));
    assert_eq!(server_record(&direct, lost).await["status"], "verified");
    let by_id = writes_by_id(&journal);
    let verdicts: Vec<_> = by_id[lost].iter().map(verdict).collect();
    assert_eq!(
        verdicts,
        vec![Some(Verdict::Failed), Some(Verdict::Applied)],
        "failed once, then applied once"
    );
    assert_eq!(
        count(&journal, Verdict::Conflict),
        0,
        "no conflict reported"
    );
    assert_eq!(count(&journal, Verdict::Applied), 3);
    let text = screen_text(&app);
    assert!(!text.contains("Conflict"), "{text}");
}

#[tokio::test]
async fn a_bulk_of_45_under_a_rate_limit_of_60_lands_every_write_once() {
    let sb = sandbox_tuned(80, 60, MetadataMode::Merge, |c| {
        c.rate_window = Duration::from_secs(3)
    })
    .await;
    let base = sb.server.v1_base_url();
    let logs = tempfile::tempdir().unwrap();
    let journal = journal_in(logs.path());
    let mut app = app_journaled(BackendKind::Vantio, &base, KEY, (120, 40), journal.clone());
    assert_eq!(app.state.session.concurrency, 4);
    loaded(&mut app).await;
    let targets = unverified(&app, 45);
    assert_eq!(targets.len(), 45);
    bulk_verify(&mut app, &targets);
    settle_within(&mut app, Duration::from_secs(40)).await;
    let bulk = app.state.bulk.as_ref().unwrap();
    let not_done: Vec<_> = bulk
        .rows
        .iter()
        .filter(|(_, r)| **r != RowResult::Done)
        .collect();
    assert!(not_done.is_empty(), "{not_done:?}");
    assert_eq!(bulk.rows.len(), 45);
    assert_eq!(count(&journal, Verdict::Applied), 45);
    assert_eq!(count(&journal, Verdict::Conflict), 0);
    assert_eq!(count(&journal, Verdict::Failed), 0);
    assert_eq!(
        journal.entries(None).unwrap().len(),
        45,
        "nothing sent twice"
    );
    for id in targets.iter().step_by(5) {
        assert_eq!(server_record(&base, id).await["status"], "verified");
    }
}

// ---- the real binary in a pseudo-terminal, killed mid-bulk ----

fn spawn_referee(home: &std::path::Path, base: &str) -> Pty {
    pty::spawn(
        &["--base-url", base, "--backend", "vantio"],
        &[
            ("REFEREE_HOME", home.as_os_str()),
            ("REFEREE_API_KEY", KEY.as_ref()),
            ("REFEREE_ADMIN_ID", ADMIN.as_ref()),
        ],
        (40, 160),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_bulk_the_next_start_settles_every_write_from_the_journal() {
    const SEEDED: usize = 60;
    let sb = sandbox_tuned(SEEDED, 10_000, MetadataMode::Merge, |c| {
        c.write_delay = Duration::from_millis(300)
    })
    .await;
    let base = sb.server.v1_base_url();
    let direct = client(&base, KEY);
    let mut before: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for page in 0..20 {
        let Page {
            items: records,
            last,
            ..
        } = direct.referrals_page(page).await.unwrap();
        for r in records {
            before.insert(r.id.clone(), r.to_json());
        }
        if last {
            break;
        }
    }
    assert_eq!(before.len(), SEEDED);
    // Every referral is in the bulk: verifying an already verified one stamps our admin id on it.
    let targets: BTreeSet<String> = before.keys().cloned().collect();
    assert!(
        before
            .values()
            .all(|r| r["metadata"]["verified_by"] != ADMIN),
        "the seed never uses the test's admin id"
    );
    // Referrals the bulk has written to: verified, by us.
    // (Read page by page straight from the sandbox, so polling it is quick.)
    let verified_now = || async {
        let mut ids = BTreeSet::new();
        for page in 0..20 {
            let Page {
                items: records,
                last,
                ..
            } = direct.referrals_page(page).await.unwrap();
            for r in records {
                if r.text("status") == "verified" && r.get("metadata")["verified_by"] == ADMIN {
                    ids.insert(r.id.clone());
                }
            }
            if last {
                break;
            }
        }
        ids
    };

    // Between the console and the sandbox, a proxy that holds back the answer to every fourth PUT
    // (from the second) for longer than the test runs: those writes land on the server, and the
    // console, killed meanwhile, never hears of it.
    let proxy = FaultProxy::start(&base, |n| {
        if n % 4 == 1 {
            Fate::HoldAnswer(Duration::from_secs(30))
        } else {
            Fate::Forward
        }
    })
    .await;

    let home = tempfile::tempdir().unwrap();
    let mut pty = spawn_referee(home.path(), &proxy.base_url(&base));
    pty.wait_for(&format!("Loaded {SEEDED} referrals")).await;
    pty.send(b"V").await;
    pty.wait_for(&format!("{SEEDED} marked")).await;
    pty.send(b"v").await;
    pty.wait_for("y yes · n no").await;
    pty.send(b"y").await;
    // Kill it once a few writes have landed and while others are in flight.
    let mut landed = 0;
    for _ in 0..100 {
        landed = verified_now().await.len();
        if landed >= 4 && proxy.held_answers() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(landed >= 4, "the bulk never got going:\n{}", pty.text());
    assert!(
        landed < targets.len(),
        "the bulk finished before it was killed"
    );
    assert!(proxy.held_answers() >= 1, "no answer was held back");
    pty.kill_hard().await;
    drop(proxy);
    // Let the server finish (or drop) what was in flight when the console died, so the re-reads
    // below see the final state: longer than the sandbox's write delay.
    tokio::time::sleep(Duration::from_millis(600)).await;

    let data = home.path().join("data");
    let journal = Arc::new(Journal::open(&data).expect("the killed run's journal"));
    let open = journal.unresolved("env").unwrap();
    assert!(
        !open.is_empty(),
        "writes were in flight when it was killed, so some have no outcome: {:?}",
        journal.entries(None).unwrap()
    );
    let open_count = open.len();

    // Started again (the same profile name the binary used: `env`, from flags and environment).
    let mut app = app_journaled_as(
        "env",
        BackendKind::Vantio,
        &base,
        KEY,
        (200, 40),
        journal.clone(),
    );
    loaded(&mut app).await;
    assert!(
        journal.unresolved("env").unwrap().is_empty(),
        "reconciled: {:?}",
        journal.unresolved("env").unwrap()
    );
    let text = screen_text(&app);
    assert!(
        text.contains(&format!("{open_count} write"))
            && text.contains("from the last run")
            && text.contains(" applied"),
        "{text}"
    );

    let on_server = verified_now().await;
    eprintln!(
        "killed with {landed} landed; {open_count} unresolved; {} on the server now; status: {}",
        on_server.len(),
        screen(&app)
            .iter()
            .rev()
            .find(|l| l.contains("last run"))
            .map_or("", |l| l.trim())
    );
    let by_id = writes_by_id(&journal);
    let mut applied_ids = BTreeSet::new();
    for (id, entries) in &by_id {
        assert!(targets.contains(id), "{id} was not in the bulk");
        let applied = entries
            .iter()
            .filter(|e| verdict(e) == Some(Verdict::Applied))
            .count();
        assert!(applied <= 1, "{id} applied {applied} times: {entries:?}");
        for e in entries {
            assert!(
                matches!(verdict(e), Some(Verdict::Applied | Verdict::Failed)),
                "{id}: {:?}",
                e.outcome
            );
        }
        if applied == 1 {
            applied_ids.insert(id.clone());
        }
    }
    let reread = by_id
        .values()
        .flatten()
        .filter(|e| verdict(e) == Some(Verdict::Applied))
        .filter(|e| {
            e.outcome
                .as_ref()
                .and_then(|o| o.message.as_deref())
                .is_some_and(|m| m.contains("re-reading"))
        })
        .count();
    assert!(
        reread >= 1,
        "the write whose answer was held back is applied by re-reading it"
    );
    assert_eq!(
        applied_ids, on_server,
        "applied in the journal exactly when verified on the server"
    );
    for id in &applied_ids {
        assert_eq!(
            app.state.record(id).unwrap().text("status"),
            "verified",
            "{id} in the list"
        );
    }
}
