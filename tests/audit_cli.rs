//! `referee audit` on a journal filled through the API, on an old audit.jsonl with a torn last
//! line, and on data folders that cannot be written or do not exist.

use std::path::Path;

use referee::store::audit;
use referee::store::journal::{self, Intent, Journal, Recorded, Verdict};
use serde_json::{Map, Value, json};

struct Run {
    ok: bool,
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
    assert!(!run.ok);
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
