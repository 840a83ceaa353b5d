//! End to end in a real pseudo-terminal: `referee --demo` as a user starts it, read back through a
//! terminal emulator; quitting with keys, being ended by a signal, and starting where its data
//! folder cannot be made.

mod common;

use std::time::Duration;

use common::pty::{self, Pty};

const SIZE: (u16, u16) = (30, 100);

fn demo(home: &std::path::Path) -> Pty {
    pty::spawn(&["--demo"], &[("REFEREE_HOME", home.as_os_str())], SIZE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_opens_filters_shows_detail_and_quits_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let mut screen = demo(home.path());

    let first = screen.wait_for("500 loaded").await;
    assert!(first.contains("Referrals 1/500"), "{first}");
    assert!(
        first.contains("Name") && first.contains("Status"),
        "{first}"
    );

    screen.send(b"/").await;
    screen.send(b"zzzz-no-such-referral").await;
    screen.wait_for("Referrals 0/0 of 500").await;
    screen.send(b"\x1b").await;
    screen.wait_for("Referrals 1/500").await;

    screen.send(b"\r").await;
    let detail = screen.wait_for("Ambassador").await;
    assert!(
        detail.contains("Impression") && detail.contains("Created"),
        "{detail}"
    );

    screen.send(b"?").await;
    screen.wait_for("any other key closes").await;
    screen.send(b"q").await;
    screen.send(b"q").await;
    let status = screen.exit(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status:?}");
    mouse_reports_ended(&screen.output(), "q");
    let log = std::fs::read_to_string(home.path().join("data/referee.log")).unwrap();
    assert!(
        log.contains("GET"),
        "requests are logged to the data folder, not the terminal"
    );
}

/// The last place `needle` occurs in `haystack`.
fn last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The terminal was asked to report the mouse, and to stop before referee ended: moving the
/// mouse in the shell afterwards types no escape sequences.
fn mouse_reports_ended(output: &[u8], why: &str) {
    let on =
        last(output, b"\x1b[?1000h").unwrap_or_else(|| panic!("{why}: the mouse was never on"));
    let off = last(output, b"\x1b[?1000l");
    assert!(off > Some(on), "{why}: mouse reports were left on");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_restores_the_terminal_and_ends_referee_at_once() {
    use nix::sys::termios::LocalFlags;
    const ENTER_ALTERNATE: &[u8] = b"\x1b[?1049h";
    const LEAVE_ALTERNATE: &[u8] = b"\x1b[?1049l";
    for (signal, status) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let home = tempfile::tempdir().unwrap();
        let mut screen = demo(home.path());
        screen.wait_for("500 loaded").await;
        assert!(
            !screen.termios().local_flags.contains(LocalFlags::ICANON),
            "the console runs raw"
        );
        screen.signal(signal);
        let ended = screen.exit(Duration::from_secs(10)).await;
        assert_eq!(
            (ended.exit_code(), ended.signal()),
            (status, None),
            "SIG{signal}: {ended:?}"
        );

        let output = screen.output();
        mouse_reports_ended(&output, &format!("SIG{signal}"));
        let left = last(&output, LEAVE_ALTERNATE)
            .unwrap_or_else(|| panic!("SIG{signal}: the alternate screen was never left"));
        assert!(last(&output, ENTER_ALTERNATE) < Some(left), "SIG{signal}");
        let after = String::from_utf8_lossy(&output[left..]);
        assert!(
            after.contains(&format!("referee: interrupted by SIG{signal}")),
            "SIG{signal}: {after:?}"
        );
        let flags = screen.termios().local_flags;
        assert!(
            flags.contains(LocalFlags::ICANON | LocalFlags::ECHO),
            "SIG{signal} left the terminal raw: {flags:?}"
        );
        let log = std::fs::read_to_string(home.path().join("data/referee.log")).unwrap();
        assert!(
            log.contains(&format!("interrupted by SIG{signal}")),
            "SIG{signal}: {log}"
        );
    }
}

/// A data folder that cannot be created (here a file stands where it should be, which stops root
/// too): the console says so, before the screen opens and in the status bar, and works on with the
/// journal in memory and no log file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_folder_that_cannot_be_made_is_said_and_the_console_works_on() {
    let sb = common::sandbox(5, 10_000, referee::domain::MetadataMode::Merge).await;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    std::fs::write(&data, "not a folder").unwrap();
    let base_url = sb.server.v1_base_url();
    let mut screen = pty::spawn(
        &["--base-url", &base_url],
        &[
            ("REFEREE_HOME", home.path().as_os_str()),
            ("REFEREE_API_KEY", common::KEY.as_ref()),
        ],
        SIZE,
    );
    let shown = screen.wait_for("journaled in memory only").await;
    assert!(shown.contains("5 loaded"), "{shown}");
    // The status bar wraps the message where its width says: read it as one line.
    let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("cannot create the data folder {}", data.display())),
        "{shown}"
    );
    screen.send(b"q").await;
    let status = screen.exit(Duration::from_secs(20)).await;
    assert!(status.success(), "exit status {status:?}");
    let output = String::from_utf8_lossy(&screen.output()).into_owned();
    assert!(
        output.contains(&format!(
            "referee: cannot write referee.log in {}",
            data.display()
        )) && output.contains("going on without a log file"),
        "{output}"
    );
    assert!(!output.contains("panicked"), "{output}");
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "not a folder");
}
