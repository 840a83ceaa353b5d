//! How `referee list` and `get` print referrals: the formats, tables for reading, and a stdout
//! that notices a reader that went away. The columns (`--fields`) and the CSV and JSON writers are
//! `crate::export`'s, shared with the console's `:export`; table cells are made visible here.

use std::io::{IsTerminal, Write};

use crate::text_safety::visible;

/// How `referee list` prints referrals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// One JSON array, printed when the listing is complete.
    Json,
    /// One JSON object per line, printed as pages arrive.
    Ndjson,
    /// A header row, then one row per referral, printed as pages arrive.
    Csv,
    /// Aligned columns for reading, printed when the listing is complete.
    Table,
}

/// How `referee get` prints a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GetFormat {
    /// One JSON object.
    Json,
    /// One line per field: its key and value.
    Table,
}

/// The default when no `--format` is given: a table for a person at a terminal, `piped` for a
/// program reading stdout.
pub fn default_format<F>(table: F, piped: F) -> F {
    if std::io::stdout().is_terminal() {
        table
    } else {
        piped
    }
}

/// Longest cell a table shows; the rest is cut with `…` (CSV and JSON print values whole).
const TABLE_CELL: usize = 60;

/// A table cell: hidden characters made visible, cut to `TABLE_CELL` characters.
pub fn table_cell(text: &str) -> String {
    let cut = match text.char_indices().nth(TABLE_CELL) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    };
    visible(&cut).into_owned()
}

/// stdout for streamed output. A reader that stops reading (`referee list | head`) is not a
/// failure: writes stop quietly and `gone` says so.
pub struct Stdout {
    pub gone: bool,
}

impl Stdout {
    pub fn new() -> Stdout {
        Stdout { gone: false }
    }

    /// Writes `text` now; false when the reader is gone (or stdout failed, which is said once).
    pub fn write(&mut self, text: &str) -> bool {
        if self.gone {
            return false;
        }
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => true,
            Err(e) => {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    crate::cli::say(&format!("referee: writing to stdout: {e}"));
                }
                self.gone = true;
                false
            }
        }
    }
}

impl Default for Stdout {
    fn default() -> Stdout {
        Stdout::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_cells_show_hidden_characters_and_are_cut() {
        assert_eq!(table_cell("a\u{202e}b"), "a⟨U+202E⟩b");
        assert_eq!(table_cell(&"x".repeat(100)).chars().count(), TABLE_CELL + 1);
    }
}
