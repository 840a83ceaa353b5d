//! `referee audit` on a journal filled through the API, on one with a damaged entry, on an old
//! audit.jsonl with a torn last line, and on data folders that cannot be written or do not exist; what a server sent printed
//! safely in every format; a reader that stops early.

use std::path::Path;

use referee::store::audit;
use referee::store::journal::{self, Intent, Journal, Recorded, Verdict};
use serde_json::{Map, Value, json};

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn referee_audit(home: &Path, args: &[&str]) -> Run {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"))
        .env("REFEREE_HOME", home)
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn intent(id: &str, ago_minutes: i64) -> Intent {
    Intent {
        time: jiff::Timestamp::now() - jiff::SignedDuration::from_mins(ago_minutes),
        profile: "demo".into(),
        backend: "vantio".into(),
        admin_id: Some("admin_1".into()),
        why: "form".into(),
        kind: "write".into(),
        ids: vec![id.into()],
        action: None,
        body: json!({"status": "verified"}),
        before: map(json!({"status": "converted"})),
        wanted: map(json!({"status": "verified"})),
        detail: json!({"reason": "checked, by hand"}),
    }
}

fn applied() -> Recorded {
    Recorded {
        time: jiff::Timestamp::now(),
        verdict: Verdict::Applied,
        status: Some(200),
        after: map(json!({"status": "verified"})),
        message: None,
    }
}

/// Three entries: an old applied write, a recent one still in flight, a recent action.
fn filled_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let journal = Journal::open(&home.path().join("data")).unwrap();
    let old = journal.record_intent(&intent("ref_old", 180)).unwrap();
    journal.record_outcome(old, &applied()).unwrap();
    journal.record_intent(&intent("ref_flight", 10)).unwrap();
    let mut action = intent("1", 5);
    action.kind = "action".into();
    action.why = "bulk".into();
    action.ids = vec!["1".into(), "2".into(), "3".into(), "4".into()];
    action.action = Some("approve".into());
    let entry = journal.record_intent(&action).unwrap();
    let mut refused = applied();
    refused.verdict = Verdict::Refused;
    refused.status = Some(422);
    refused.message = Some("Email is invalid".into());
    journal.record_outcome(entry, &refused).unwrap();
    home
}

#[test]
fn every_format_prints_the_journal() {
    let home = filled_home();

    let table = referee_audit(home.path(), &["--format", "table"]);
    assert!(table.ok, "{}", table.stderr);
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", table.stdout);
    for column in [
        "time", "why", "ids", "action", "verdict", "status", "message",
    ] {
        assert!(lines[0].contains(column), "{}", lines[0]);
    }
    assert!(lines[1].contains("ref_old") && lines[1].contains("applied"));
    assert!(lines[2].contains("ref_flight") && lines[2].contains("in flight"));
    assert!(lines[3].contains("1 2 3 (+1)") && lines[3].contains("refused"));

    let jsonl = referee_audit(home.path(), &["--format", "jsonl"]);
    assert!(jsonl.ok, "{}", jsonl.stderr);
    let objects: Vec<Value> = jsonl
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 3);
    assert_eq!(objects[1]["outcome"], Value::Null);
    assert_eq!(objects[2]["action"], "approve");
    assert_eq!(objects[2]["outcome"]["status"], 422);

    let json = referee_audit(home.path(), &["--format", "json"]);
    let array: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 3);
    assert_eq!(array[0]["ids"], json!(["ref_old"]));

    let csv = referee_audit(home.path(), &["--format", "csv"]);
    assert!(csv.ok, "{}", csv.stderr);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "time");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[2][5], "1 2 3 4", "every id in CSV");
    assert!(rows[0][11].contains("checked, by hand"), "{:?}", &rows[0]);

    let recent = referee_audit(home.path(), &["--since", "1h", "--format", "jsonl"]);
    assert_eq!(recent.stdout.lines().count(), 2, "{}", recent.stdout);
}

#[test]
fn a_since_window_out_of_range_is_an_error_not_a_panic() {
    let home = filled_home();
    let run = referee_audit(home.path(), &["--since", "200000000d"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("out of range"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let run = referee_audit(home.path(), &["--since", "soon"]);
    assert!(!run.ok && run.stderr.contains("not a duration"));
}

fn old_line(id: &str, status: u16) -> String {
    let mut entry = audit::Entry::new(
        jiff::Timestamp::now().to_string(),
        "demo",
        "vantio",
        None,
        "write",
    );
    entry.id = Some(id.into());
    entry.before = map(json!({"status": "converted"}));
    entry.after = map(json!({"status": "verified"}));
    entry.body = json!({"status": "verified"});
    entry.status = Some(status);
    serde_json::to_string(&entry).unwrap() + "\n"
}

#[test]
fn an_old_audit_jsonl_with_a_torn_last_line_is_shown_and_the_tear_reported() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let text = old_line("ref_1", 200) + &old_line("ref_2", 503) + "{\"time\":\"2026-";
    std::fs::write(audit::path(&data), &text).unwrap();

    for _ in 0..2 {
        let run = referee_audit(home.path(), &["--format", "jsonl"]);
        assert!(run.ok, "{}", run.stderr);
        let objects: Vec<Value> = run
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(objects.len(), 2, "{}", run.stdout);
        assert_eq!(objects[0]["why"], "imported");
        assert_eq!(objects[1]["outcome"]["verdict"], "failed");
        assert!(
            run.stderr.contains("1 line of") && run.stderr.contains("audit.jsonl"),
            "{}",
            run.stderr
        );
    }
    assert!(
        !data.join(journal::FILE_NAME).exists(),
        "referee audit only reads"
    );
    assert_eq!(std::fs::read_to_string(audit::path(&data)).unwrap(), text);

    // The console's journal imports it once, and the view does not double it.
    let journal = Journal::open(&data).unwrap();
    assert_eq!(
        journal.imported().map(|r| (r.entries, r.skipped)),
        Some((2, 1))
    );
    drop(journal);
    let run = referee_audit(home.path(), &["--format", "jsonl"]);
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
}

#[test]
fn a_damaged_entry_in_the_journal_is_left_out_and_said_and_the_others_are_shown() {
    let home = filled_home();
    let db = home.path().join("data").join(journal::FILE_NAME);
    let conn = rusqlite::Connection::open(&db).unwrap();
    // What a bad disk block or another program could leave: a time that is not one (and that a
    // terminal would obey if it were printed as it is).
    conn.execute(
        "UPDATE entries SET time = 'soon\u{1b}[2J' WHERE ids LIKE '%ref_flight%'",
        [],
    )
    .unwrap();
    drop(conn);
    for format in ["table", "jsonl", "csv"] {
        let run = referee_audit(home.path(), &["--format", format]);
        assert!(run.ok, "{format}: {}", run.stderr);
        assert!(
            run.stdout.contains("ref_old") && run.stdout.contains("approve"),
            "{format}: the good entries are shown: {}",
            run.stdout
        );
        assert!(!run.stdout.contains("ref_flight"), "{}", run.stdout);
        assert!(
            run.stderr.contains(&db.display().to_string())
                && run
                    .stderr
                    .contains("1 entry could not be read (damaged) and is left out")
                && run.stderr.contains("entry 2: time `soon⟨U+001B⟩[2J`"),
            "{format}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_data_folder_is_still_read() {
    use std::os::unix::fs::PermissionsExt;
    let home = filled_home();
    let data = home.path().join("data");
    std::fs::write(audit::path(&data), old_line("ref_jsonl", 200)).unwrap();
    // A clean close leaves no -wal/-shm files, so a read-only folder has only the database.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("{}{suffix}", journal::FILE_NAME)));
    }
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = referee_audit(home.path(), &["--format", "jsonl"]);
    // Root ignores the mode bits, so there the folder stays writable and the refusal cannot be
    // seen (an_uncreatable_data_folder_says_so covers that error path for every user).
    let writable = std::fs::write(data.join("probe"), "").is_ok();
    let refused = (!writable).then(|| Journal::open(&data).err());
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 4, "{}", run.stdout);
    assert!(run.stdout.contains("ref_jsonl"));
    if let Some(refused) = refused {
        let error = refused
            .expect("a read-only folder cannot hold the journal")
            .to_string();
        assert!(error.contains(&data.display().to_string()), "{error}");
    }
}

#[test]
fn a_read_only_folder_with_only_audit_jsonl_shows_it() {
    // A data folder whose database is missing: `referee audit` reads audit.jsonl directly and
    // creates nothing.
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(audit::path(&data), old_line("ref_1", 422)).unwrap();
    let run = referee_audit(home.path(), &["--format", "table"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout.contains("ref_1") && run.stdout.contains("refused"),
        "{}",
        run.stdout
    );
    assert!(!data.join(journal::FILE_NAME).exists());
}

#[test]
fn an_uncreatable_data_folder_says_so() {
    // REFEREE_HOME is a regular file, so `$REFEREE_HOME/data` can never be created, even by root.
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("not-a-folder");
    std::fs::write(&home, "").unwrap();
    let error = Journal::open(&home.join("data")).unwrap_err().to_string();
    assert!(
        error.contains(&home.join("data").display().to_string()),
        "{error}"
    );
    let run = referee_audit(&home, &[]);
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("No writes recorded yet") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn an_empty_window_says_what_is_outside_it() {
    let home = filled_home();
    let run = referee_audit(home.path(), &["--since", "1m"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stderr.contains("No entries in that window") && run.stderr.contains("3 older"),
        "{}",
        run.stderr
    );
}

/// What a hostile server can put in an id, a value and a message.
const ESC_ID: &str = "ref_\u{1b}[31mRED";

fn hostile_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let journal = Journal::open(&home.path().join("data")).unwrap();
    let mut write = intent(ESC_ID, 5);
    write.before = map(json!({"first_name": "Zoë\u{9b}2J\u{202e}evil"}));
    let entry = journal.record_intent(&write).unwrap();
    let mut refused = applied();
    refused.verdict = Verdict::Refused;
    refused.message = Some("=HYPERLINK(\"http://x\",\"\u{200b}ok\")".into());
    journal.record_outcome(entry, &refused).unwrap();
    journal
        .record_intent(&intent("@SUM(A1)\r-1+\t2", 4))
        .unwrap();
    home
}

/// No character a terminal would obey (or hide) is left raw; `keep` are the layout ones the format
/// itself writes.
#[track_caller]
fn assert_no_raw_hidden(text: &str, keep: &[char]) {
    let raw: Vec<String> = text
        .chars()
        .filter(|c| referee::text_safety::is_hidden(*c) && !keep.contains(c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
        .collect();
    assert!(raw.is_empty(), "raw {raw:?} in:\n{text}");
}

#[test]
fn server_text_is_printed_visibly_escaped_and_never_as_a_formula() {
    let home = hostile_home();

    let table = referee_audit(home.path(), &["--format", "table"]);
    assert!(table.ok, "{}", table.stderr);
    assert_no_raw_hidden(&table.stdout, &['\n']);
    assert_eq!(table.stdout.lines().count(), 3, "one line per entry");
    assert!(
        table.stdout.contains("ref_⟨U+001B⟩[31mRED"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("⟨U+000D⟩"), "{}", table.stdout);
    // Values inside JSON columns are escaped as JSON.
    assert!(
        table.stdout.contains(r"Zoë\u009b2J\u202eevil"),
        "{}",
        table.stdout
    );

    let csv = referee_audit(home.path(), &["--format", "csv"]);
    assert!(csv.ok, "{}", csv.stderr);
    assert_no_raw_hidden(&csv.stdout, &['\n']);
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv.stdout.as_bytes())
        .records()
        .map(Result::unwrap)
        .collect();
    assert_eq!(&rows[0][5], "ref_⟨U+001B⟩[31mRED");
    assert_eq!(&rows[0][9], r#"{"first_name":"Zoë\u009b2J\u202eevil"}"#);
    assert!(
        rows[0][11].starts_with("'=HYPERLINK(") && rows[0][11].contains("⟨U+200B⟩ok"),
        "{:?}",
        &rows[0][11]
    );
    assert_eq!(&rows[1][5], "'@SUM(A1)⟨U+000D⟩-1+⟨U+0009⟩2");

    for format in ["jsonl", "json"] {
        let run = referee_audit(home.path(), &["--format", format]);
        assert!(run.ok, "{}", run.stderr);
        assert_no_raw_hidden(&run.stdout, &['\n']);
        for escaped in [r"\u001b[31mRED", r"\u009b2J", r"\u202eevil", r"\u200bok"] {
            assert!(run.stdout.contains(escaped), "{format}: {}", run.stdout);
        }
        // Escaped, not changed: the values read back exactly.
        let first: Value = match format {
            "json" => serde_json::from_str::<Value>(&run.stdout).unwrap()[0].clone(),
            _ => serde_json::from_str(run.stdout.lines().next().unwrap()).unwrap(),
        };
        assert_eq!(first["ids"], json!([ESC_ID]));
        assert_eq!(first["before"]["first_name"], "Zoë\u{9b}2J\u{202e}evil");
    }
}

#[test]
fn a_reader_that_stops_early_ends_referee_quietly() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    let journal = Journal::open(&home.path().join("data")).unwrap();
    // Far more than a pipe holds, so referee is still writing when the reader goes.
    let long = "x".repeat(2_000);
    for n in 0..100 {
        journal
            .record_intent(&intent(&format!("ref_{n}_{long}"), 5))
            .unwrap();
    }
    drop(journal);
    for format in ["table", "csv", "jsonl", "json"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_referee"))
            .env("REFEREE_HOME", home.path())
            .args(["audit", "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -1`: one line, then the pipe closes.
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {:?} {stderr}", out.status);
        assert!(stderr.is_empty(), "{format}: {stderr}");
    }
}
