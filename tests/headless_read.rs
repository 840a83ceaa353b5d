//! `referee list`, `get`, `completions`, `man` and `--print-config` through the real binary against
//! the sandbox on 127.0.0.1:0. What the commands print is parsed (JSON, NDJSON, CSV) and compared
//! with what the sandbox holds, read straight from its HTTP API.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use common::cli::Run;
use referee::domain::MetadataMode;
use referee::sandbox::{Quirk, Quirks, RunningSandbox, SandboxConfig, start};
use serde_json::Value;

const KEY: &str = "sk_test";
const ACCOUNT: &str = "acc_test";
const SEED: usize = 120;

/// `referee args` with `REFEREE_HOME=home`, the sandbox's key and `env`.
async fn referee(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let env: Vec<(&str, &str)> = [("REFEREE_API_KEY", KEY)]
        .into_iter()
        .chain(env.iter().copied())
        .collect();
    common::cli::referee(home, args, "", &env).await
}

async fn sandbox(dir: &Path) -> RunningSandbox {
    sandbox_with(dir, Quirks::default()).await
}

async fn sandbox_with(dir: &Path, quirks: Quirks) -> RunningSandbox {
    let config = SandboxConfig {
        db_path: dir.join(format!("sandbox-{quirks}.db")),
        api_key: KEY.into(),
        rate_limit: 10_000,
        metadata_mode: MetadataMode::Merge,
        seed: SEED,
        account_id: ACCOUNT.into(),
        write_delay: Duration::ZERO,
        chaos: 0.0,
        rate_window: Duration::from_secs(60),
        quirks,
    };
    start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap()
}

/// Every entry of a v1 listing (`/referrals`, `/users`), read directly.
async fn v1_all(base: &str, resource: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    loop {
        let url = format!("{base}/{resource}?limit=100&offset={}", all.len());
        let page: Value = http
            .get(url)
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let entries = page[resource].as_array().unwrap().clone();
        let done = entries.len() < 100;
        all.extend(entries);
        if done {
            return all;
        }
    }
}

/// Every v2 referral, read directly.
async fn v2_all(base: &str) -> Vec<Value> {
    let http = reqwest::Client::new();
    let mut all = Vec::new();
    for page in 1.. {
        let url = format!("{base}/referrals?page={page}&per_page=100");
        let entries: Vec<Value> = http
            .get(url)
            .bearer_auth(KEY)
            .header("Account-ID", ACCOUNT)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if entries.is_empty() {
            break;
        }
        all.extend(entries);
    }
    all
}

fn by_id(entries: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    entries
        .into_iter()
        .map(|e| {
            let id = match &e["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, e)
        })
        .collect()
}

fn ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_prints_every_referral_in_each_format_as_the_sandbox_holds_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = sandbox(dir.path()).await;
    let base = server.v1_base_url();
    let held = by_id(v1_all(&base, "referrals").await);
    assert_eq!(held.len(), SEED);
    let home = dir.path();
    let args =
        |format: &'static str| ["list", "--base-url", &base, "--format", format].map(String::from);

    // NDJSON and JSON: every referral, every field as held.
    let run = referee(home, &args("ndjson").each_ref().map(String::as_str), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = by_id(ndjson(&run.stdout));
    assert_eq!(lines.len(), SEED);
    for (id, printed) in &lines {
        let held = &held[id];
        for (key, value) in printed.as_object().unwrap() {
            assert_eq!(&held[key], value, "{id} {key}");
        }
        assert_eq!(printed["status"], held["status"], "{id}");
    }
    assert!(
        run.stderr
            .contains(&format!("{SEED} of {SEED} referrals matched")),
        "{}",
        run.stderr
    );

    let run = referee(home, &args("json").each_ref().map(String::as_str), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let array: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(by_id(array), lines);

    // CSV: a header of field keys, then one row per referral.
    let run = referee(home, &args("csv").each_ref().map(String::as_str), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "id");
    assert!(header.contains(&"student_id".to_string()));
    let mut rows = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let held = &held[&row[0]];
        for (key, cell) in header.iter().zip(row.iter()) {
            if key == "metadata" {
                let parsed: Value = if cell.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_str(cell).unwrap()
                };
                assert_eq!(parsed, held[key], "{key}");
            } else {
                assert_eq!(cell, text(&held[key]), "{key}");
            }
        }
        rows += 1;
    }
    assert_eq!(rows, SEED);

    // A table for reading: a header line and one line per referral.
    let run = referee(home, &args("table").each_ref().map(String::as_str), &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut table = run.stdout.lines();
    let header = table.next().unwrap();
    assert!(
        header.starts_with("id ") && header.contains("status"),
        "{header}"
    );
    assert_eq!(table.count(), SEED);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_filters_choose_exactly_the_referrals_they_describe() {
    let dir = tempfile::tempdir().unwrap();
    let server = sandbox(dir.path()).await;
    let base = server.v1_base_url();
    let held = v1_all(&base, "referrals").await;
    let users = v1_all(&base, "users").await;
    let home = dir.path();
    let list = |filters: &[&str]| {
        let mut args = vec!["list", "--base-url", &base, "--format", "ndjson"];
        args.extend_from_slice(filters);
        args.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let ids = |run: &Run| -> BTreeSet<String> {
        ndjson(&run.stdout).iter().map(|v| text(&v["id"])).collect()
    };

    let converted: BTreeSet<String> = held
        .iter()
        .filter(|r| r["status"] == "converted")
        .map(|r| text(&r["id"]))
        .collect();
    assert!(!converted.is_empty());
    let args = list(&["--where", "status=converted"]);
    let run = referee(
        home,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ids(&run), converted);

    // An ambassador by a piece of their looked-up name, combined with a negated status.
    let user = &users[0];
    let first = text(&user["first_name"]);
    let piece = first[..first.len().min(4)].to_lowercase();
    let named: BTreeSet<String> = users
        .iter()
        .filter(|u| {
            format!("{} {}", text(&u["first_name"]), text(&u["last_name"]))
                .to_lowercase()
                .contains(&piece)
        })
        .map(|u| text(&u["id"]))
        .collect();
    let want: BTreeSet<String> = held
        .iter()
        .filter(|r| {
            named.contains(&text(&r["student_id"]))
                || text(&r["student_id"]).to_lowercase().contains(&piece)
        })
        .filter(|r| r["status"] != "rejected")
        .map(|r| text(&r["id"]))
        .collect();
    assert!(!want.is_empty());
    let filter = format!("ambassador~{piece}");
    let args = list(&["--where", &filter, "--where", "-status:rejected"]);
    let run = referee(
        home,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(ids(&run), want);

    // Free words with --q, and a date bound: every one matches, and none is left out.
    let email = text(&held[3]["email"]);
    let args = list(&["--q", &email, "--where", "created:<36500d"]);
    let run = referee(
        home,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let want: BTreeSet<String> = held
        .iter()
        .filter(|r| {
            text(&r["email"])
                .to_lowercase()
                .contains(&email.to_lowercase())
        })
        .map(|r| text(&r["id"]))
        .collect();
    assert_eq!(ids(&run), want);
    let args = list(&["--where", "created:>1d"]);
    let run = referee(
        home,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    let old: usize = held
        .iter()
        .filter(|r| {
            let at: jiff::Timestamp = text(&r["created_at"]).parse().unwrap();
            at < jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24)
        })
        .count();
    assert_eq!(ids(&run).len(), old, "{}", run.stderr);

    // --fields chooses the columns, under the names asked for.
    let args = list(&[
        "--where",
        "status=converted",
        "--fields",
        "id,ambassador,status",
    ]);
    let run = referee(
        home,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    )
    .await;
    let printed = ndjson(&run.stdout);
    assert_eq!(printed.len(), converted.len());
    for line in &printed {
        let keys: Vec<&str> = line
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["id", "ambassador", "status"]);
        assert!(
            text(&line["ambassador"]).starts_with("user_"),
            "ids, not names: {line}"
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_2_naming_what_is_wrong_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // No server listens here: exit 2 proves nothing was asked of it (that would be 3).
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v1", unused.local_addr().unwrap());
    drop(unused);
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--where", "colour:red"],
            &["`colour`", "ambassador", "status"],
        ),
        (
            &["--where", "status=convrted"],
            &["status=convrted", "converted"],
        ),
        (
            &["--q", "created:>someday"],
            &["created:>someday", "not a date"],
        ),
        (&["--fields", "id,colour"], &["--fields", "`colour`"]),
    ];
    for (extra, words) in cases {
        let mut args = vec!["list", "--base-url", &base];
        args.extend_from_slice(extra);
        let run = referee(dir.path(), &args, &[]).await;
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{extra:?}");
        for word in *words {
            assert!(run.stderr.contains(word), "{extra:?}: {}", run.stderr);
        }
    }
    let run = referee(
        dir.path(),
        &["get", "ref_1", "--by", "email", "--base-url", &base],
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--by email"), "{}", run.stderr);
    // A profile that does not resolve is bad configuration too.
    let run = referee(dir.path(), &["list"], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("no server configured"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_cannot_be_reached_or_refuses_the_key_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/api/v1", unused.local_addr().unwrap());
    drop(unused);
    for args in [
        vec!["list", "--base-url", &base],
        vec!["get", "ref_1", "--base-url", &base],
    ] {
        let run = referee(dir.path(), &args, &[]).await;
        assert_eq!(run.code, 3, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
    let server = sandbox(dir.path()).await;
    let base = server.v1_base_url();
    let run = referee(
        dir.path(),
        &["list", "--base-url", &base],
        &[("REFEREE_API_KEY", "sk_wrong")],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.to_lowercase().contains("key"), "{}", run.stderr);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prints_one_referral_by_id_or_on_firstpromoter_by_email() {
    let dir = tempfile::tempdir().unwrap();
    let server = sandbox(dir.path()).await;
    let home = dir.path();

    let v1 = server.v1_base_url();
    let held = v1_all(&v1, "referrals").await;
    let id = text(&held[5]["id"]);
    let run = referee(
        home,
        &["get", &id, "--base-url", &v1, "--format", "json"],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    for (key, value) in printed.as_object().unwrap() {
        assert_eq!(&held[5][key], value, "{key}");
    }
    let run = referee(
        home,
        &["get", &id, "--base-url", &v1, "--format", "table"],
        &[],
    )
    .await;
    assert!(
        run.stdout.lines().any(|l| l.starts_with("status ")),
        "{}",
        run.stdout
    );
    let run = referee(home, &["get", "ref_none", "--base-url", &v1], &[]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("ref_none"), "{}", run.stderr);

    let v2 = server.v2_base_url();
    let env = [
        ("REFEREE_BACKEND", "firstpromoter"),
        ("REFEREE_ACCOUNT_ID", ACCOUNT),
    ];
    let all = v2_all(&v2).await;
    let one = all.iter().find(|r| !text(&r["email"]).is_empty()).unwrap();
    let email = text(&one["email"]);
    let args = [
        "get",
        &email,
        "--by",
        "email",
        "--base-url",
        &v2,
        "--fields",
        "id,email,state",
    ];
    let run = referee(home, &args, &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed["id"], one["id"], "the id as the server sent it");
    assert_eq!(printed["email"], one["email"]);
    assert_eq!(printed["state"], one["state"]);

    // And list on v2: every referral, the filter's v2 keys.
    let run = referee(
        home,
        &["list", "--base-url", &v2, "--where", "state=pending"],
        &env,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let want: BTreeSet<String> = all
        .iter()
        .filter(|r| r["state"] == "pending")
        .map(|r| text(&r["id"]))
        .collect();
    let got: BTreeSet<String> = ndjson(&run.stdout).iter().map(|r| text(&r["id"])).collect();
    assert_eq!(got, want);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_man_and_print_config() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    for (shell, word, flag) in [
        ("bash", "complete", "--where"),
        ("zsh", "#compdef referee", "--where"),
        ("fish", "complete -c referee", "-l where"),
        ("powershell", "Register-ArgumentCompleter", "--where"),
    ] {
        let run = referee(home, &["completions", shell], &[]).await;
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(word), "{shell}");
        assert!(
            run.stdout.contains("list") && run.stdout.contains(flag),
            "{shell}"
        );
    }
    let run = referee(home, &["man"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with(".ie") || run.stdout.contains(".TH referee"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Exit status"));

    let run = referee(home, &["--help"], &[]).await;
    assert!(
        run.stdout.contains("3  the server could not be reached"),
        "{}",
        run.stdout
    );

    // No file, no server: says so, names the problem, exits 2; the key is never shown.
    let run = referee(home, &["--print-config"], &[]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.contains("(does not exist)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("no server configured"),
        "{}",
        run.stdout
    );
    std::fs::write(
        home.join("config.toml"),
        "[profiles.work]\nbase_url = \"https://api.example.com/api/v1\"\nadmin_id = \"admin_1\"\n",
    )
    .unwrap();
    let run = referee(home, &["--print-config", "--concurrency", "3"], &[]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for line in [
        "(exists)",
        "profile",
        "work  (file: its only profile)",
        "https://api.example.com/api/v1  (file: profile `work`, base_url)",
        "(set)  (environment REFEREE_API_KEY)",
        "3  (flag --concurrency)",
        "vantio  (default)",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    assert!(!run.stdout.contains(KEY), "{}", run.stdout);
    assert!(run.stdout.contains("[profiles."), "the example follows");
}

/// A v1 server whose first page is 100 referrals, one of them with hostile text, and whose later
/// pages refuse the key (a key revoked mid-listing).
async fn failing_after_one_page() -> (String, tokio::task::JoinHandle<()>) {
    use axum::extract::Query;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    async fn referrals(Query(query): Query<BTreeMap<String, String>>) -> axum::response::Response {
        if query.get("offset").map(String::as_str) != Some("0") {
            let body = serde_json::json!({"error": "Unauthorized", "message": "Invalid or missing API key"});
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
        let referrals: Vec<Value> = (0..100)
            .map(|i| {
                let first = if i == 7 {
                    "=HYPERLINK(\"http://x\")\u{1b}[2J\u{202e}evil"
                } else {
                    "Ada"
                };
                serde_json::json!({"id": format!("ref_{i}"), "first_name": first,
                    "last_name": "L", "email": format!("a{i}@x.io"), "status": "pending"})
            })
            .collect();
        axum::Json(serde_json::json!({ "referrals": referrals })).into_response()
    }
    common::serve_v1(axum::Router::new().route("/api/v1/referrals", axum::routing::get(referrals)))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_failing_mid_way_keeps_what_was_printed_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = failing_after_one_page().await;
    let list =
        |format: &'static str| ["list", "--base-url", &base, "--format", format].map(String::from);

    let run = referee(
        dir.path(),
        &list("ndjson").each_ref().map(String::as_str),
        &[],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let lines = ndjson(&run.stdout);
    assert_eq!(lines.len(), 100, "the first page stays printed");
    assert_eq!(
        text(&lines[7]["first_name"]),
        "=HYPERLINK(\"http://x\")\u{1b}[2J\u{202e}evil",
        "JSON reads back exactly what the server sent"
    );
    assert!(
        run.stderr.contains("failed after 100") && run.stderr.contains("refused the API key"),
        "{}",
        run.stderr
    );

    let run = referee(
        dir.path(),
        &list("json").each_ref().map(String::as_str),
        &[],
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "a partial array is never printed");

    let run = referee(dir.path(), &list("csv").each_ref().map(String::as_str), &[]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 100);
    let first_name = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "first_name")
        .unwrap();
    assert_eq!(
        &rows[7][first_name], "'=HYPERLINK(\"http://x\")⟨U+001B⟩[2J⟨U+202E⟩evil",
        "no formula, nothing hidden"
    );

    for format in ["ndjson", "json", "csv", "table"] {
        let run = referee(
            dir.path(),
            &list(format).each_ref().map(String::as_str),
            &[],
        )
        .await;
        for hidden in ['\u{1b}', '\u{202e}'] {
            assert!(
                !run.stdout.contains(hidden),
                "{format}: {hidden:?} printed raw"
            );
            assert!(
                !run.stderr.contains(hidden),
                "{format}: {hidden:?} on stderr"
            );
        }
    }
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_the_server_cut_short_is_printed_said_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    // (quirk, what stderr says)
    for (quirk, says) in [
        (Quirk::BrokenRows, "could not be read"),
        (Quirk::NoPaging, "may not support paging"),
    ] {
        let server = sandbox_with(dir.path(), [quirk].into_iter().collect()).await;
        let base = server.v1_base_url();
        let run = referee(
            dir.path(),
            &["list", "--base-url", &base, "--format", "ndjson"],
            &[],
        )
        .await;
        assert_eq!(run.code, 1, "{quirk:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{quirk:?}: {}", run.stderr);
        let printed = ndjson(&run.stdout).len();
        assert!(printed > 0 && printed < SEED, "{quirk:?}: {printed}");
        server.shutdown().await;
    }
}
