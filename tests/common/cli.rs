//! The real `referee` binary run as a script runs it: its own data folder, no terminal, stdin
//! piped in, and what it printed and its exit status kept.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Each line of stdout as JSON.
    pub fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

/// `referee args…` with `REFEREE_HOME=home`, the environment `env` and `stdin`, off the async
/// workers (it may talk to a sandbox running on them).
pub async fn referee(home: &Path, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"));
    command
        .env("REFEREE_HOME", home)
        .envs(env.iter().copied())
        .args(args)
        .write_stdin(stdin.to_string())
        .timeout(Duration::from_secs(120));
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}
