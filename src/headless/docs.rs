//! `referee completions SHELL` and `referee man`: shell completions (clap_complete) and a roff man
//! page (clap_mangen), both made from the same clap definition as `--help`, so they never offer a
//! flag that does not exist. Also the exit statuses' text for `--help`.

use std::process::ExitCode;

use clap::CommandFactory;

use super::Exit;
use super::output::Stdout;
use crate::cli::{Cli, say};

/// The exit statuses, for `--help` and the man page.
pub const EXIT_STATUSES: &str = "\
Exit status (headless commands):
  0  everything was applied or was already so (for reads: everything was printed)
  1  some writes failed or conflicted, or a read failed part-way or came back incomplete
  2  bad input or configuration: nothing was sent
  3  the server could not be reached or refused the key
  130  stopped by Ctrl-c (bulk): the writes in flight were waited for and reported";

/// `referee completions SHELL`'s options.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for a shell.
pub fn completions(args: &CompletionsArgs) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "referee", &mut script);
    print(&script)
}

/// Prints the man page (roff) for `referee`.
pub fn man() -> ExitCode {
    let mut page = Vec::new();
    if let Err(error) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
        say(&format!("referee man: {error}"));
        return Exit::SomeFailed.into();
    }
    print(&page)
}

fn print(bytes: &[u8]) -> ExitCode {
    Stdout::new().write(&String::from_utf8_lossy(bytes));
    Exit::Done.into()
}
