//! `referee update`, `bulk` and `undo` through the real binary against an in-test sandbox (and a
//! server whose errors hold hostile text): what each sends (and does not send) is checked on the
//! server afterwards, and the exit status says how it went.

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli::Run;
use common::{ADMIN, KEY, Sandbox, client, sandbox, sandbox_tuned};
use referee::domain::MetadataMode;
use serde_json::Value;

/// `referee --base-url BASE args…` with its own data folder `home`, the sandbox's key and admin.
async fn referee(home: &Path, base: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let args: Vec<&str> = ["--base-url", base]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let env: Vec<(&str, &str)> = [("REFEREE_API_KEY", KEY), ("REFEREE_ADMIN_ID", ADMIN)]
        .into_iter()
        .chain(env.iter().copied())
        .collect();
    common::cli::referee(home, &args, stdin, &env).await
}

/// Every referral on the server, as JSON, in the server's order.
async fn all(base: &str) -> Vec<Value> {
    let direct = client(base, KEY);
    let mut records = Vec::new();
    for page in 0.. {
        let page = direct.referrals_page(page).await.unwrap();
        records.extend(page.items.iter().map(|r| {
            let mut json = r.to_json();
            json["id"] = Value::from(r.id.clone());
            json
        }));
        if page.last {
            break;
        }
    }
    records
}

async fn one(base: &str, id: &str) -> Value {
    client(base, KEY).find("id", id).await.unwrap().to_json()
}

/// The first referral with this status.
async fn with_status(base: &str, status: &str) -> String {
    let found = all(base).await;
    let record = found.iter().find(|r| r["status"] == status).unwrap();
    record["id"].as_str().unwrap().to_string()
}

async fn setup(seed: usize) -> (Sandbox, tempfile::TempDir, String) {
    let sb = sandbox(seed, 10_000, MetadataMode::Merge).await;
    let base = sb.server.v1_base_url();
    (sb, tempfile::tempdir().unwrap(), base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_dry_run_prints_the_exact_body_and_sends_nothing() {
    let (sb, home, base) = setup(20).await;
    let id = with_status(&base, "converted").await;
    let before = one(&base, &id).await;
    let run = referee(
        home.path(),
        &base,
        &[
            "update",
            &id,
            "--set",
            "status=verified",
            "--set",
            "metadata.note={\"n\":1}",
            "--dry-run",
        ],
        "",
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body = &run.lines()[0];
    assert_eq!(body["status"], "verified");
    assert_eq!(
        body["metadata"]["verified_by"], ADMIN,
        "the form's companions"
    );
    assert_eq!(body["metadata"]["note"]["n"], 1, "JSON when it parses");
    assert!(
        body["verified_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(body.get("email").is_none(), "only what changes: {body}");
    assert_eq!(sb.server.writes_received(), 0);
    assert_eq!(one(&base, &id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_naming_the_field_and_sends_nothing() {
    let (sb, home, base) = setup(20).await;
    let id = with_status(&base, "converted").await;
    let cases: [(&[&str], &[&str]); 5] = [
        (
            &["--set", "email=not-an-email", "--yes"],
            &["email", "Not a valid email"],
        ),
        (
            &["--set", "emial=x", "--yes"],
            &["emial", "first_name", "metadata.KEY"],
        ),
        (
            &["--set", "status=done", "--yes"],
            &["status", "Must be one of"],
        ),
        (
            &["--set", "first_name=", "--yes"],
            &["first_name", "Must not be empty"],
        ),
        (&["--set", "email=new@example.com"], &["--yes"]),
    ];
    for (args, says) in cases {
        let mut all_args = vec!["update", id.as_str()];
        all_args.extend_from_slice(args);
        let run = referee(home.path(), &base, &all_args, "", &[]).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        for word in says {
            assert!(
                run.stderr.contains(word),
                "{args:?}: {word} in {}",
                run.stderr
            );
        }
    }
    let run = referee(
        home.path(),
        &base,
        &["update", "ref_nope", "--set", "first_name=A", "--yes"],
        "",
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(sb.server.writes_received(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_applied_journaled_and_undone_from_the_shell() {
    let (sb, home, base) = setup(20).await;
    let id = with_status(&base, "converted").await;
    let before = one(&base, &id).await;
    let run = referee(
        home.path(),
        &base,
        &[
            "update",
            &id,
            "--set",
            "email=new.address@example.com",
            "--yes",
        ],
        "",
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.lines()[0]["outcome"], "applied");
    assert_eq!(one(&base, &id).await["email"], "new.address@example.com");
    let audit = referee(home.path(), &base, &["audit", "--format", "jsonl"], "", &[]).await;
    assert!(
        audit.stdout.contains("new.address@example.com"),
        "{}",
        audit.stdout
    );

    // A dry run prints the body that would put the address back, and sends nothing.
    let writes = sb.server.writes_received();
    let dry = referee(home.path(), &base, &["undo", "--dry-run"], "", &[]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let line = &dry.lines()[0];
    assert_eq!(
        (&line["id"], &line["outcome"], &line["body"]["email"]),
        (
            &Value::from(id.as_str()),
            &Value::from("dry-run"),
            &before["email"]
        )
    );
    assert_eq!(sb.server.writes_received(), writes);

    let run = referee(home.path(), &base, &["undo", "--yes"], "", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.lines()[0]["outcome"], "applied");
    assert_eq!(one(&base, &id).await["email"], before["email"]);
    let run = referee(home.path(), &base, &["undo", "--yes"], "", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("nothing to undo"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_exits_1_with_base_theirs_mine_and_leaves_the_server_as_it_was() {
    let (sb, home, base) = setup(20).await;
    let id = with_status(&base, "converted").await;
    let before = one(&base, &id).await;
    // The script read another address than the server now holds: someone changed it since.
    let run = referee(
        home.path(),
        &base,
        &[
            "update",
            &id,
            "--expect",
            "email=what.i.read@example.com",
            "--set",
            "email=mine@example.com",
            "--yes",
        ],
        "",
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let line = &run.lines()[0];
    assert_eq!(line["outcome"], "conflict");
    let clash = &line["conflicts"][0];
    assert_eq!(clash["field"], "email");
    assert_eq!(clash["base"], "what.i.read@example.com");
    assert_eq!(clash["theirs"], before["email"]);
    assert_eq!(clash["mine"], "mine@example.com");
    assert_eq!(sb.server.writes_received(), 0, "nothing was sent");
    assert_eq!(one(&base, &id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_under_a_low_rate_limit_never_meets_a_429_and_reports_every_id() {
    let sb = sandbox_tuned(60, 40, MetadataMode::Merge, |c| {
        c.rate_window = Duration::from_secs(2)
    })
    .await;
    let base = sb.server.v1_base_url();
    let home = tempfile::tempdir().unwrap();
    let ids: Vec<String> = all(&base).await[..50]
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let before_429 = sb.server.too_many_requests();
    let file = home.path().join("ids.txt");
    std::fs::write(&file, format!("# to verify\n{}\n", ids.join("\n"))).unwrap();
    let run = referee(
        home.path(),
        &base,
        &[
            "bulk",
            "--ids-from",
            file.to_str().unwrap(),
            "--verify",
            "--yes",
        ],
        "",
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(lines.len(), 50, "{}", run.stdout);
    let mut named: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    named.sort();
    let mut wanted: Vec<&str> = ids.iter().map(String::as_str).collect();
    wanted.sort();
    assert_eq!(named, wanted, "one line per id");
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"] == "applied" || l["outcome"] == "already")
    );
    assert_eq!(
        sb.server.too_many_requests(),
        before_429,
        "no 429 was ever met"
    );
    for id in ids.iter().step_by(7) {
        assert_eq!(one(&base, id).await["status"], "verified");
    }
    assert!(
        run.stderr.contains("applied"),
        "the summary: {}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_dry_run_and_ids_from_stdin_then_undo_bulk_takes_the_whole_bulk_back() {
    let (sb, home, base) = setup(20).await;
    let records = all(&base).await;
    let ids: Vec<&str> = records[..5]
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let stdin = format!("{}\n{}\nref_missing\n", ids.join("\n"), ids[0]);
    let args = ["bulk", "--ids-from", "-", "--set", "metadata.batch=7"];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let run = referee(home.path(), &base, &dry, &stdin, &[]).await;
    assert_eq!(run.code, 1, "an unknown id is a failure: {}", run.stderr);
    let lines = run.lines();
    assert_eq!(lines.len(), 6, "each id once: {}", run.stdout);
    assert!(
        run.stderr
            .contains("dry run: nothing was sent; 5 referrals would be.")
            && !run.stderr.contains("0 applied"),
        "{}",
        run.stderr
    );
    assert!(lines.iter().any(|l| l["body"]["metadata"]["batch"] == 7));
    assert_eq!(sb.server.writes_received(), 0);

    let mut real = args.to_vec();
    real.push("--yes");
    let run = referee(home.path(), &base, &real, &stdin, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.lines()
            .iter()
            .filter(|l| l["outcome"] == "applied")
            .count(),
        5
    );
    // A single change after the bulk stays when the bulk is undone.
    let other = records[6]["id"].as_str().unwrap();
    let single = ["update", other, "--set", "metadata.single=1", "--yes"];
    assert_eq!(referee(home.path(), &base, &single, "", &[]).await.code, 0);

    let run = referee(home.path(), &base, &["undo", "--bulk", "--yes"], "", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.lines().len(), 5);
    for id in &ids {
        assert_eq!(
            one(&base, id).await["metadata"]["batch"],
            Value::Null,
            "{id}"
        );
    }
    assert_eq!(one(&base, other).await["metadata"]["single"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_where_acts_on_every_referral_the_filter_matches_and_a_bad_filter_sends_nothing() {
    let (sb, home, base) = setup(40).await;
    let converted: Vec<String> = all(&base)
        .await
        .iter()
        .filter(|r| r["status"] == "converted")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert!(converted.len() > 1, "the seed has converted referrals");

    let bad = ["bulk", "--where", "stauts=converted", "--verify", "--yes"];
    let run = referee(home.path(), &base, &bad, "", &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("stauts"), "{}", run.stderr);
    assert_eq!(sb.server.writes_received(), 0);

    let args = ["bulk", "--where", "status=converted", "--verify", "--yes"];
    let run = referee(home.path(), &base, &args, "", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut applied: Vec<String> = run
        .lines()
        .iter()
        .filter(|l| l["outcome"] == "applied")
        .map(|l| l["id"].as_str().unwrap().to_string())
        .collect();
    applied.sort();
    let mut expected = converted.clone();
    expected.sort();
    assert_eq!(applied, expected, "exactly the converted ones");
    for id in &converted {
        assert_eq!(one(&base, id).await["status"], "verified", "{id}");
    }
    assert!(
        all(&base).await.iter().all(|r| r["status"] != "converted"),
        "none left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_first_settles_writes_a_killed_run_left_without_an_outcome() {
    let (_sb, home, base) = setup(20).await;
    let landed = with_status(&base, "converted").await;
    // A run journaled this write, sent it, and was killed before the answer: it landed.
    let journal = referee::store::journal::Journal::open(&home.path().join("data")).unwrap();
    let body = serde_json::json!({"status": "verified"});
    let entry = journal
        .record_intent(&referee::store::journal::Intent {
            time: jiff::Timestamp::now(),
            profile: "env".into(),
            backend: "vantio".into(),
            admin_id: Some(ADMIN.into()),
            why: "quick".into(),
            kind: "write".into(),
            ids: vec![landed.clone()],
            action: None,
            body: body.clone(),
            before: serde_json::json!({"status": "converted"})
                .as_object()
                .unwrap()
                .clone(),
            wanted: body.as_object().unwrap().clone(),
            detail: Value::Null,
        })
        .unwrap();
    client(&base, KEY)
        .update(&landed, body.as_object().unwrap())
        .await
        .unwrap();
    drop(journal);

    let other = with_status(&base, "pending").await;
    let args = ["update", &other, "--set", "metadata.note=x", "--yes"];
    let run = referee(home.path(), &base, &args, "", &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("1 write from the last run: 1 applied"),
        "{}",
        run.stderr
    );
    let journal = referee::store::journal::Journal::open(&home.path().join("data")).unwrap();
    let settled = journal.entries(None).unwrap();
    let settled = settled.iter().find(|e| e.entry == entry).unwrap();
    assert_eq!(
        settled.outcome.as_ref().map(|o| o.verdict),
        Some(referee::store::journal::Verdict::Applied)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_profile_refuses_every_write_command_before_anything_is_sent() {
    let (sb, home, base) = setup(20).await;
    let id = with_status(&base, "converted").await;
    let file = home.path().join("ids.txt");
    std::fs::write(&file, &id).unwrap();
    let ids = file.to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &["update", &id, "--set", "first_name=Z", "--yes"],
        &["bulk", "--ids-from", ids, "--verify", "--yes"],
        &["bulk", "--ids-from", ids, "--set", "first_name=Z", "--yes"],
        &["undo", "--yes"],
    ];
    for args in commands {
        for (flag, env) in [
            (true, &[][..]),
            (false, &[("REFEREE_READ_ONLY", "true")][..]),
        ] {
            let mut all_args = args.to_vec();
            if flag {
                all_args.push("--read-only");
            }
            let run = referee(home.path(), &base, &all_args, "", env).await;
            assert_eq!(run.code, 2, "{all_args:?}: {}", run.stderr);
            assert!(run.stderr.contains("read-only profile"), "{}", run.stderr);
        }
    }
    assert_eq!(sb.server.writes_received(), 0);
}

#[test]
fn the_exit_statuses_are_in_help() {
    for command in ["update", "bulk", "undo"] {
        let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"))
            .args([command, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        for status in [
            "0  everything was applied",
            "1  some writes failed",
            "2  bad input",
            "3  the server",
            "130  stopped by Ctrl-c",
        ] {
            assert!(help.contains(status), "{command}: {status} in {help}");
        }
    }
}

/// A server whose every answer is a 404 with hostile text in its message.
async fn hostile_404_server() -> (String, tokio::task::JoinHandle<()>) {
    use axum::http::StatusCode;
    async fn refuse() -> (StatusCode, axum::Json<Value>) {
        let body = serde_json::json!({
            "error": "Not Found",
            "message": "Referral \u{1b}[2J\u{202e}evil\u{9b}1m not found",
        });
        (StatusCode::NOT_FOUND, axum::Json(body))
    }
    common::serve_v1(axum::Router::new().fallback(refuse)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_server_says_in_an_error_reaches_stderr_visibly_never_as_escapes() {
    let home = tempfile::tempdir().unwrap();
    let (base, server) = hostile_404_server().await;
    let update: &[&str] = &["update", "ref_1", "--set", "email=a@b.io", "--yes"];
    let bulk: &[&str] = &["bulk", "--ids-from", "-", "--verify", "--yes"];
    // The console's load off screen: its failure ends in main's one line.
    let console_load: &[&str] = &["--exit-after-load"];
    for (args, stdin) in [(update, ""), (bulk, "ref_1\n"), (console_load, "")] {
        let run = referee(home.path(), &base, args, stdin, &[]).await;
        for hidden in ['\u{1b}', '\u{202e}', '\u{9b}'] {
            assert!(
                !run.stderr.contains(hidden) && !run.stdout.contains(hidden),
                "{args:?}: {hidden:?} printed raw: {}{}",
                run.stdout,
                run.stderr
            );
        }
        assert_ne!(run.code, 0, "{args:?}: {}", run.stderr);
        if args == update {
            assert!(
                run.stderr
                    .contains("Referral ⟨U+001B⟩[2J⟨U+202E⟩evil⟨U+009B⟩1m not found"),
                "{}",
                run.stderr
            );
            assert!(
                !run.stderr.contains("press r"),
                "no console hints in a script's message: {}",
                run.stderr
            );
        }
    }
    server.abort();
}

/// Ctrl-c twice stops a bulk at once. A row whose write was waiting for its turn (the rate limit)
/// never left, so it is "failed, not sent" and the server still holds it as it was; only a row
/// whose write left (and so is in the journal) is "unknown", and the next start checks those.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_stopped_at_once_calls_unknown_only_the_writes_that_left() {
    // 20 requests per 10 s: the first go at once, the rest wait for the next window.
    let sb = sandbox_tuned(200, 20, MetadataMode::Merge, |config| {
        config.rate_window = Duration::from_secs(10);
    })
    .await;
    let base = sb.server.v1_base_url();
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let args = [
        "--base-url",
        base.as_str(),
        "bulk",
        "--where",
        "status=converted",
        "--verify",
        "--yes",
    ]
    .map(String::from);
    let out = tokio::task::spawn_blocking(move || {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_referee"))
            .env("REFEREE_HOME", &home_path)
            .env("REFEREE_API_KEY", KEY)
            .env("REFEREE_ADMIN_ID", ADMIN)
            .args(&args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // By now the window's 20 requests are spent and the rest wait for their turn.
        std::thread::sleep(Duration::from_secs(4));
        for _ in 0..2 {
            let pid = child.id().to_string();
            std::process::Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap();
            std::thread::sleep(Duration::from_millis(300));
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert_eq!(run.code, 130, "{}", run.stderr);
    let audit = referee(home.path(), &base, &["audit", "--format", "jsonl"], "", &[]).await;
    let waited = run
        .lines()
        .into_iter()
        .filter(|l| l["error"].as_str().is_some_and(|e| e.contains("its turn")))
        .count();
    assert!(
        waited > 0,
        "some writes waited for their turn: {}",
        run.stdout
    );
    let held = all(&base).await;
    let status = |id: &str| {
        let found = held.iter().find(|r| r["id"] == id).unwrap();
        found["status"].as_str().unwrap().to_string()
    };
    for line in run.lines() {
        let id = line["id"].as_str().unwrap();
        match line["outcome"].as_str().unwrap() {
            "unknown" => assert!(
                audit.stdout.contains(&format!("\"{id}\"")),
                "{id} is unknown but never journaled as sent: {}",
                audit.stdout
            ),
            "failed" => assert_eq!(status(id), "converted", "{line}"),
            "applied" => assert_eq!(status(id), "verified", "{line}"),
            other => panic!("{other}: {line}"),
        }
    }
}
