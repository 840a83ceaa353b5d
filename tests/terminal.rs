//! End to end in a real pseudo-terminal: `referee --demo` as a user starts it, read back through a
//! terminal emulator.

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 100;

struct Screen(Arc<Mutex<vt100::Parser>>);

impl Screen {
    fn text(&self) -> String {
        self.0.lock().unwrap().screen().contents()
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "`{needle}` never appeared; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

#[test]
fn the_demo_opens_filters_shows_detail_and_quits_cleanly() {
    let home = tempfile::tempdir().unwrap();
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_referee"));
    command.arg("--demo");
    command.env("REFEREE_HOME", home.path());
    command.env("TERM", "xterm-256color");
    let mut child = pair.slave.spawn_command(command).unwrap();
    drop(pair.slave);

    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        NonZeroU16::new(ROWS).unwrap(),
        NonZeroU16::new(COLS).unwrap(),
        0,
    )));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let sink = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().process(&buf[..n]);
        }
    });
    let screen = Screen(parser);
    let mut keys = pair.master.take_writer().unwrap();
    let mut send = |bytes: &[u8]| {
        keys.write_all(bytes).unwrap();
        keys.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    };

    let first = screen.wait_for("500 loaded");
    assert!(first.contains("Referrals 500/500"), "{first}");
    assert!(
        first.contains("Name") && first.contains("Status"),
        "{first}"
    );

    send(b"/");
    send(b"zzzz-no-such-referral");
    screen.wait_for("Referrals 0/500");
    send(b"\x1b");
    screen.wait_for("Referrals 500/500");

    send(b"\r");
    let detail = screen.wait_for("Ambassador");
    assert!(
        detail.contains("Impression") && detail.contains("Created"),
        "{detail}"
    );

    send(b"?");
    screen.wait_for("any key closes");
    send(b"q");
    send(b"q");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "referee did not quit on q");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "exit status {status:?}");
    let log = std::fs::read_to_string(home.path().join("data/referee.log")).unwrap();
    assert!(
        log.contains("GET"),
        "requests are logged to the data folder, not the terminal"
    );
}
