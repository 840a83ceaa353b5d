//! What the console asks of the terminal it runs in besides drawing: bracketed paste, mouse
//! reports, the
//! clipboard (OSC 52, which reaches the user's own terminal over SSH too) and handing the terminal
//! to an editor and back. `Tty` does it on the real terminal; `Offscreen` (tests, headless runs)
//! keeps what was copied and runs the editor without a terminal to hand over.

use std::io::{self, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute, terminal};
use futures::{Stream, StreamExt};

use super::editor;

pub trait Host: Send {
    /// Puts `text` on the clipboard.
    fn copy(&mut self, text: &str) -> io::Result<()>;
    /// Edits `text` in the user's editor: the edited text, or why there is none.
    fn edit(&mut self, text: &str) -> Result<String, String>;
}

/// No terminal: copies are kept (for tests to read) and the editor runs as it is.
#[derive(Debug, Default)]
pub struct Offscreen {
    pub copied: Arc<Mutex<Vec<String>>>,
    /// The editor to run instead of the user's (tests).
    pub editor: Option<String>,
}

impl Host for Offscreen {
    fn copy(&mut self, text: &str) -> io::Result<()> {
        self.copied
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .push(text.to_string());
        Ok(())
    }

    fn edit(&mut self, text: &str) -> Result<String, String> {
        editor::run(&self.editor.clone().unwrap_or_else(editor::chosen), text)
    }
}

/// The terminal the console runs on. Its input is read through `TtyInput`, which it can stop
/// while an editor owns the terminal (crossterm's reader would otherwise take the editor's keys).
pub struct Tty {
    input: Arc<Mutex<Option<EventStream>>>,
}

/// Terminal events, from an `EventStream` made afresh after each editor run.
pub struct TtyInput(Arc<Mutex<Option<EventStream>>>);

impl Stream for TtyInput {
    type Item = io::Result<Event>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert_with(EventStream::new)
            .poll_next_unpin(cx)
    }
}

impl Tty {
    /// Turns bracketed paste and mouse reports on (off again by `stop`, and by a panic before the
    /// previous hook).
    pub fn start() -> io::Result<(Tty, TtyInput)> {
        execute!(io::stdout(), EnableBracketedPaste, EnableMouseCapture)?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste);
            previous(info);
        }));
        let input = Arc::new(Mutex::new(None));
        Ok((
            Tty {
                input: input.clone(),
            },
            TtyInput(input),
        ))
    }

    pub fn stop() -> io::Result<()> {
        execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste)
    }

    fn leave() -> io::Result<()> {
        execute!(
            io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        )?;
        terminal::disable_raw_mode()
    }

    fn enter() -> io::Result<()> {
        terminal::enable_raw_mode()?;
        execute!(
            io::stdout(),
            EnterAlternateScreen,
            EnableBracketedPaste,
            EnableMouseCapture
        )
    }
}

impl Host for Tty {
    fn copy(&mut self, text: &str) -> io::Result<()> {
        let mut out = io::stdout().lock();
        write!(out, "{}", osc52(text))?;
        out.flush()
    }

    fn edit(&mut self, text: &str) -> Result<String, String> {
        // Dropping the stream stops its reader thread before the editor reads the keyboard.
        drop(self.input.lock().unwrap_or_else(|e| e.into_inner()).take());
        let editor = editor::chosen();
        let result = match Tty::leave() {
            Ok(()) => editor::run(&editor, text),
            Err(e) => Err(format!("Could not hand the terminal to the editor: {e}")),
        };
        if let Err(e) = Tty::enter() {
            tracing::error!(%e, "could not take the terminal back from the editor");
        }
        result
    }
}

/// The OSC 52 sequence setting the clipboard to `text`: nothing but base64 inside.
pub fn osc52(text: &str) -> String {
    format!("\x1b]52;c;{}\x07", base64(text.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_only_base64() {
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("ref_123", "cmVmXzEyMw=="),
            ("\x1b]0;evil\x07é", "G10wO2V2aWwHw6k="),
        ] {
            assert_eq!(osc52(text), format!("\x1b]52;c;{encoded}\x07"), "{text:?}");
        }
    }
}
