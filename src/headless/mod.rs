//! The headless commands (`referee list`, `get`, `update`, `bulk`, `undo`): scripts reach the API
//! through the same client, validation, conflict guard, pacing and journal as the console. JSON
//! goes to stdout, human messages to stderr, and the exit status says how it went (`Exit`).
//! `read` has `list` and `get`, `output` their formats, `docs` the completions and man page.

pub mod docs;
pub mod output;
pub mod read;

use std::process::ExitCode;

/// How a headless command ended, as its exit status. Documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything was applied or was already so (or, for reads, was printed).
    Done,
    /// 1: some writes failed or met a conflict; each is named on stdout.
    SomeFailed,
    /// 2: bad input or configuration: nothing was sent.
    BadInput,
    /// 3: the server could not be reached or refused the key.
    Unreachable,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::SomeFailed => 1,
            Exit::BadInput => 2,
            Exit::Unreachable => 3,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}
