//! The real `referee` binary in a pseudo-terminal, read back through a terminal emulator, with
//! every byte it wrote kept too (for what a screen does not show, like leaving the alternate screen).

use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, ExitStatus, PtySize, native_pty_system};

pub struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    keys: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    output: Arc<Mutex<Vec<u8>>>,
    master: Box<dyn portable_pty::MasterPty + Send>,
}

/// Starts `referee` with `args` and `env` (plus `TERM`) in a `rows` × `cols` pseudo-terminal.
pub fn spawn(args: &[&str], env: &[(&str, &std::ffi::OsStr)], (rows, cols): (u16, u16)) -> Pty {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut command = CommandBuilder::new(env!("CARGO_BIN_EXE_referee"));
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.env("TERM", "xterm-256color");
    let child = pair.slave.spawn_command(command).unwrap();
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        NonZeroU16::new(rows).unwrap(),
        NonZeroU16::new(cols).unwrap(),
        0,
    )));
    let output = Arc::new(Mutex::new(Vec::new()));
    let mut reader = pair.master.try_clone_reader().unwrap();
    let (screen, bytes) = (parser.clone(), output.clone());
    // Ends when the pty closes (the child has died and the master is dropped).
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            screen.lock().unwrap().process(&buf[..n]);
            bytes.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let keys = pair.master.take_writer().unwrap();
    Pty {
        child,
        keys,
        parser,
        output,
        master: pair.master,
    }
}

impl Pty {
    pub fn text(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// The terminal's settings now (raw or not), as the program left them.
    #[cfg(unix)]
    pub fn termios(&self) -> nix::sys::termios::Termios {
        self.master.get_termios().expect("a unix pty has termios")
    }

    /// Every byte the program has written so far.
    pub fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    pub async fn wait_for(&self, needle: &str) -> String {
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
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `bytes`, then gives the program a moment to draw.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.keys.write_all(bytes).unwrap();
        self.keys.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }

    /// Sends signal `name` (`TERM`, `KILL`…) with kill(1). (`portable_pty`'s `Child::kill` always
    /// sends SIGHUP on unix.)
    pub fn signal(&self, name: &str) {
        let pid = self.child.process_id().expect("a running child");
        let status = std::process::Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -s {name} {pid} failed");
    }

    /// How the program ended, waiting at most `limit` for it.
    pub async fn exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "referee still runs after {limit:?}; screen:\n{}",
                self.text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL, then reap.
    pub async fn kill_hard(&mut self) {
        self.signal("KILL");
        self.exit(Duration::from_secs(5)).await;
    }
}
