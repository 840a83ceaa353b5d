//! The console's settings through the real binary: flags, environment and config file meet in one
//! place, with one rule and one message each, before any terminal is touched.

use std::path::Path;

struct Run {
    code: Option<i32>,
    stderr: String,
}

/// `referee args` with `REFEREE_HOME=home`, a key in the environment and `env` (no terminal, so a
/// profile that passes every check ends at "needs an interactive terminal").
fn referee(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"))
        .env("REFEREE_HOME", home)
        .env("REFEREE_API_KEY", "sk_test")
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

const PASSED_CHECKS: &str = "needs an interactive terminal";

#[test]
fn concurrency_out_of_range_is_the_same_error_from_a_flag_the_environment_or_the_file() {
    let home = tempfile::tempdir().unwrap();
    let base = ["--base-url", "https://api.example.com/api/v1"];
    let flag = referee(
        home.path(),
        &[&base[..], &["--concurrency", "1000"]].concat(),
        &[],
    );
    let env = referee(home.path(), &base, &[("REFEREE_CONCURRENCY", "1000")]);
    std::fs::write(
        home.path().join("config.toml"),
        "[profiles.work]\nbase_url = \"https://api.example.com/api/v1\"\nconcurrency = 1000\n",
    )
    .unwrap();
    let file = referee(home.path(), &[], &[]);
    for (run, source) in [
        (&flag, "--concurrency"),
        (&env, "REFEREE_CONCURRENCY"),
        (&file, "profile `work`"),
    ] {
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("concurrency 1000 (from {source}")),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("from 1 to 32"), "{}", run.stderr);
    }
    // A valid flag wins over the file's bad value.
    let run = referee(home.path(), &["--concurrency", "8"], &[]);
    assert!(run.stderr.contains(PASSED_CHECKS), "{}", run.stderr);
}

#[test]
fn a_key_over_plain_http_to_another_host_needs_allow_insecure_http() {
    let home = tempfile::tempdir().unwrap();
    let base = ["--base-url", "http://api.example.com/api/v1?key=sk_in_url"];
    let refused = referee(home.path(), &base, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("clear text") && refused.stderr.contains("--allow-insecure-http"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("sk_in_url"), "{}", refused.stderr);
    let allowed = referee(
        home.path(),
        &[&base[..], &["--allow-insecure-http"]].concat(),
        &[],
    );
    assert!(allowed.stderr.contains(PASSED_CHECKS), "{}", allowed.stderr);
    let local = referee(
        home.path(),
        &["--base-url", "http://localhost:3000/api/v1"],
        &[],
    );
    assert!(local.stderr.contains(PASSED_CHECKS), "{}", local.stderr);
}
