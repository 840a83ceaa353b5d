//! `referee --exit-after-load` (the load benchmark's console) through the real binary against an
//! in-test sandbox: it loads every referral, says how many and how fast, and exits 0.

use std::time::Duration;

use referee::domain::MetadataMode;
use referee::sandbox::{Quirks, SandboxConfig, start};

/// Runs `referee --exit-after-load` on `base_url` with `env`; its exit code and stderr.
async fn load(base_url: String, env: &'static [(&'static str, &'static str)]) -> (i32, String) {
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        assert_cmd::Command::new(env!("CARGO_BIN_EXE_referee"))
            .env("REFEREE_HOME", home_path)
            .env("REFEREE_API_KEY", "sk_test")
            .envs(env.iter().copied())
            .args(["--base-url", &base_url, "--exit-after-load"])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_after_load_loads_every_referral_of_either_api_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = SandboxConfig {
        db_path: dir.path().join("sandbox.db"),
        api_key: "sk_test".into(),
        rate_limit: 10_000,
        metadata_mode: MetadataMode::Merge,
        seed: 250,
        account_id: "acc_test".into(),
        write_delay: Duration::ZERO,
        chaos: 0.0,
        rate_window: Duration::from_secs(60),
        quirks: Quirks::default(),
    };
    let sandbox = start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let runs = [
        (sandbox.v1_base_url(), &[][..]),
        (
            sandbox.v2_base_url(),
            &[
                ("REFEREE_BACKEND", "firstpromoter"),
                ("REFEREE_ACCOUNT_ID", "acc_test"),
            ][..],
        ),
    ];
    for (base_url, env) in runs {
        let (code, stderr) = load(base_url.clone(), env).await;
        assert_eq!(code, 0, "{base_url}: {stderr}");
        assert!(
            stderr.contains("loaded 250 referrals in ") && stderr.contains(" s, peak memory "),
            "{base_url}: {stderr}"
        );
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_after_load_fails_when_the_load_fails() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/api/v1", unused.local_addr().unwrap());
    drop(unused);
    let (code, stderr) = load(base_url, &[]).await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("loading failed"), "{stderr}");
}
