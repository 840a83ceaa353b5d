//! Where referee keeps its files and which server it talks to: `config.toml` with named profiles,
//! overridden by `REFEREE_*` environment variables, overridden by command-line flags. `resolve` is
//! the one place that order is applied, and each setting has one rule and one message whichever of
//! the three it comes from.
//!
//! Two rules guard the key: it is not sent in clear text (plain `http://` to another machine) unless
//! the profile allows it, and a key command that hangs is stopped after `KEY_CMD_LIMIT`. Messages
//! never quote the key command or a base URL's secrets.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::Deserialize;

use crate::api::BackendKind;
use crate::domain::MetadataMode;

/// The documented example, shipped in the binary; `referee --print-config` shows it.
pub const EXAMPLE_CONFIG: &str = include_str!("../assets/config.example.toml");

/// Bulk writes in flight at once unless the profile says: as many as a parallel curl needs to
/// reach a local server's limit (each write is a guard read and a PUT).
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most bulk writes in flight at once.
const MAX_CONCURRENCY: usize = 32;

/// How long `api_key_cmd` may take to print the key.
const KEY_CMD_LIMIT: Duration = Duration::from_secs(10);

/// Files referee reads and writes. `REFEREE_HOME` puts them all under one folder (tests use it).
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    pub fn discover(env: &dyn Fn(&str) -> Option<String>) -> Result<Paths, String> {
        if let Some(home) = env("REFEREE_HOME").filter(|h| !h.is_empty()) {
            let home = PathBuf::from(home);
            return Ok(Paths {
                config_file: home.join("config.toml"),
                data_dir: home.join("data"),
            });
        }
        let dirs = directories::ProjectDirs::from("", "", "referee").ok_or(
            "could not find a home directory; set REFEREE_HOME to a folder referee may use",
        )?;
        Ok(Paths {
            config_file: dirs.config_dir().join("config.toml"),
            data_dir: dirs.data_dir().to_path_buf(),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, FileProfile>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProfile {
    backend: Option<BackendKind>,
    base_url: Option<String>,
    /// Name of the environment variable holding the key.
    api_key_env: Option<String>,
    /// A shell command that prints the key (a password manager, say).
    api_key_cmd: Option<String>,
    account_id: Option<String>,
    admin_id: Option<String>,
    metadata_mode: Option<MetadataMode>,
    /// Bulk writes in flight at once; any value is read (`8`, `"8"`, `8.5`), so that
    /// `concurrency_from` judges its text as it judges a flag's or the environment's.
    concurrency: Option<toml::Value>,
    /// Send the key over plain http:// to a host that is not this machine.
    allow_insecure_http: Option<bool>,
    /// Refuse every write (console keys, form, headless commands) before anything is sent.
    read_only: Option<bool>,
}

/// Everything needed to connect and to write the way this server expects.
#[derive(Debug, Clone)]
pub struct Profile {
    pub name: String,
    pub backend: BackendKind,
    pub base_url: String,
    pub api_key: SecretString,
    pub account_id: Option<String>,
    /// Stored as `metadata.verified_by` by the verify quick key.
    pub admin_id: Option<String>,
    pub metadata_mode: MetadataMode,
    /// Bulk writes in flight at once (default `DEFAULT_CONCURRENCY`).
    pub concurrency: usize,
    /// Every write path refuses with "read-only profile" before anything is sent (auditors, or a
    /// production profile that should only be read by default).
    pub read_only: bool,
}

/// Settings from command-line flags; they win over everything.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub base_url: Option<String>,
    pub backend: Option<BackendKind>,
    /// As typed, so that the one rule (`concurrency_from`) judges it.
    pub concurrency: Option<String>,
    /// `--allow-insecure-http`: only ever turns it on.
    pub allow_insecure_http: bool,
    /// `--read-only`: only ever turns it on.
    pub read_only: bool,
}

/// Where a setting in effect came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag (`--base-url`).
    Flag(&'static str),
    /// An environment variable (`REFEREE_BASE_URL`, or the one `api_key_env` names).
    Env(String),
    /// The config file (`what` says which part: a profile's setting, `default_profile`).
    File(String),
    /// Nothing set it: the built-in default.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "environment {var}"),
            Source::File(what) => write!(f, "file: {what}"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// What `resolve` decided and why, setting by setting, for `referee --print-config`. Filled in as
/// each setting is decided, so after a failure it holds the settings decided before it.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub file_exists: bool,
    /// (setting, value as shown, where it came from); secrets are shown as `(set)`.
    pub settings: Vec<(&'static str, String, Source)>,
}

impl Trace {
    fn note(&mut self, setting: &'static str, value: impl Into<String>, source: Source) {
        self.settings.push((setting, value.into(), source));
    }
}

/// Reads the config file (if any), applies the environment and flags, and resolves the API key.
pub fn resolve(
    paths: &Paths,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Profile, String> {
    resolve_traced(paths, flags, env, &mut Trace::default())
}

/// `resolve`, noting in `trace` where each setting came from.
pub fn resolve_traced(
    paths: &Paths,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    trace: &mut Trace,
) -> Result<Profile, String> {
    trace.file_exists = paths.config_file.exists();
    let file = load_file(&paths.config_file)?;
    let chosen = flags
        .profile
        .clone()
        .or(file.default_profile.clone())
        .or_else(|| {
            (file.profiles.len() == 1)
                .then(|| file.profiles.keys().next().cloned())
                .flatten()
        });
    let (name, from_file) = match chosen {
        Some(name) => match file.profiles.get(&name) {
            Some(p) => (name, p.clone()),
            None if flags.profile.is_some() || file.default_profile.is_some() => {
                let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
                return Err(format!(
                    "no profile `{name}` in {} (profiles there: {})",
                    paths.config_file.display(),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
            }
            None => (name, FileProfile::default()),
        },
        None => ("env".to_string(), FileProfile::default()),
    };
    let profile_source = if flags.profile.is_some() {
        Source::Flag("--profile")
    } else if file.default_profile.is_some() {
        Source::File("default_profile".into())
    } else if file.profiles.contains_key(&name) {
        Source::File("its only profile".into())
    } else {
        Source::Default
    };
    trace.note("profile", name.clone(), profile_source);
    let in_profile = |setting: &str| Source::File(format!("profile `{name}`, {setting}"));
    let or_default = |set: bool, setting: &str| {
        if set {
            in_profile(setting)
        } else {
            Source::Default
        }
    };
    let env_value = |key: &str| env(key).filter(|v| !v.is_empty());
    let bad_env = |key: &str, value: &str, allowed: &str| {
        format!("{key}={value} is not valid: expected {allowed}")
    };

    let (backend, source) = match (flags.backend, env_value("REFEREE_BACKEND")) {
        (Some(b), _) => (b, Source::Flag("--backend")),
        (None, Some(v)) => (
            BackendKind::parse(&v)
                .ok_or_else(|| bad_env("REFEREE_BACKEND", &v, "vantio or firstpromoter"))?,
            Source::Env("REFEREE_BACKEND".into()),
        ),
        (None, None) => (
            from_file.backend.unwrap_or_default(),
            or_default(from_file.backend.is_some(), "backend"),
        ),
    };
    trace.note("backend", backend.as_str(), source);
    let (metadata_mode, source) = match env_value("REFEREE_METADATA_MODE") {
        Some(v) => match v.as_str() {
            "merge" => (
                MetadataMode::Merge,
                Source::Env("REFEREE_METADATA_MODE".into()),
            ),
            "replace" => (
                MetadataMode::Replace,
                Source::Env("REFEREE_METADATA_MODE".into()),
            ),
            _ => return Err(bad_env("REFEREE_METADATA_MODE", &v, "merge or replace")),
        },
        None => (
            from_file.metadata_mode.unwrap_or_default(),
            or_default(from_file.metadata_mode.is_some(), "metadata_mode"),
        ),
    };
    trace.note("metadata_mode", metadata_mode.as_str(), source);
    let base_url = [
        (flags.base_url.clone(), Source::Flag("--base-url")),
        (
            env_value("REFEREE_BASE_URL"),
            Source::Env("REFEREE_BASE_URL".into()),
        ),
        (from_file.base_url.clone(), in_profile("base_url")),
    ]
    .into_iter()
    .find_map(|(value, source)| Some((value?, source)));
    if let Some((url, source)) = &base_url {
        trace.note("base_url", crate::redact::url(url), source.clone());
    }
    let base_url = base_url
        .map(|(url, _)| url)
        .ok_or_else(|| {
            format!(
                "no server configured. Try `referee --demo`, or `referee --base-url http://host:3000/api/v1` with \
                 REFEREE_API_KEY set, or add a profile to {} (see `referee --print-config`)",
                paths.config_file.display()
            )
        })?;
    let in_file = || format!("profile `{name}` in {}", paths.config_file.display());
    let (concurrency, source) = match (
        &flags.concurrency,
        env_value("REFEREE_CONCURRENCY"),
        &from_file.concurrency,
    ) {
        (Some(v), _, _) => (
            concurrency_from(v, "--concurrency")?,
            Source::Flag("--concurrency"),
        ),
        (None, Some(v), _) => (
            concurrency_from(&v, "REFEREE_CONCURRENCY")?,
            Source::Env("REFEREE_CONCURRENCY".into()),
        ),
        (None, None, Some(value)) => {
            let text = match value {
                toml::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (
                concurrency_from(&text, &in_file())?,
                in_profile("concurrency"),
            )
        }
        (None, None, None) => (DEFAULT_CONCURRENCY, Source::Default),
    };
    trace.note("concurrency", concurrency.to_string(), source);
    // A yes/no setting: the flag only ever turns it on; else the environment, else the file.
    let switch =
        |flag: bool, flag_name: &'static str, var: &str, setting: &str, in_file: Option<bool>| {
            if flag {
                return Ok((true, Source::Flag(flag_name)));
            }
            match env_value(var) {
                Some(v) => match v.as_str() {
                    "true" => Ok((true, Source::Env(var.into()))),
                    "false" => Ok((false, Source::Env(var.into()))),
                    _ => Err(bad_env(var, &v, "true or false")),
                },
                None => Ok((
                    in_file.unwrap_or(false),
                    or_default(in_file.is_some(), setting),
                )),
            }
        };
    let (allow_insecure_http, source) = switch(
        flags.allow_insecure_http,
        "--allow-insecure-http",
        "REFEREE_ALLOW_INSECURE_HTTP",
        "allow_insecure_http",
        from_file.allow_insecure_http,
    )?;
    trace.note(
        "allow_insecure_http",
        allow_insecure_http.to_string(),
        source,
    );
    if !allow_insecure_http && sends_key_in_clear(&base_url) {
        return Err(format!(
            "refusing to send the API key to {} over plain http://: it would travel in clear text, \
             readable by anyone on the network between here and the server. Use https://, or if \
             that network is trusted allow it with allow_insecure_http = true in the profile, \
             --allow-insecure-http or REFEREE_ALLOW_INSECURE_HTTP=true",
            crate::redact::url(&base_url)
        ));
    }
    let (read_only, source) = switch(
        flags.read_only,
        "--read-only",
        "REFEREE_READ_ONLY",
        "read_only",
        from_file.read_only,
    )?;
    trace.note("read_only", read_only.to_string(), source);
    let (api_key, source) = api_key(&name, &from_file, env)?;
    trace.note("api_key", "(set)", source);
    let mut optional = |setting: &'static str, var: &str, in_file: Option<String>| {
        let (value, source) = match (env_value(var), in_file) {
            (Some(v), _) => (Some(v), Source::Env(var.into())),
            (None, Some(v)) => (Some(v), in_profile(setting)),
            (None, None) => (None, Source::Default),
        };
        let shown = value.clone().unwrap_or_else(|| "(none)".into());
        trace.note(setting, shown, source);
        value
    };
    let account_id = optional("account_id", "REFEREE_ACCOUNT_ID", from_file.account_id);
    let admin_id = optional("admin_id", "REFEREE_ADMIN_ID", from_file.admin_id);
    Ok(Profile {
        name,
        backend,
        base_url,
        api_key,
        account_id,
        admin_id,
        metadata_mode,
        concurrency,
        read_only,
    })
}

/// `referee --print-config`: where the file is and whether it exists, the profile in effect and
/// where each setting came from (or why the settings do not resolve), then the example config,
/// all as TOML comments but the example.
pub fn describe(paths: &Paths, trace: &Trace, problem: Option<&String>) -> String {
    let exists = if trace.file_exists {
        "exists"
    } else {
        "does not exist"
    };
    let mut out = format!(
        "# referee reads {} ({exists})\n",
        paths.config_file.display()
    );
    if !trace.settings.is_empty() {
        out.push_str("#\n# In effect:\n");
        let width = trace.settings.iter().map(|(s, _, _)| s.len()).max();
        let width = width.unwrap_or(0);
        for (setting, value, source) in &trace.settings {
            let value = crate::text_safety::visible(value);
            out.push_str(&format!("#   {setting:<width$}  {value}  ({source})\n"));
        }
    }
    if let Some(problem) = problem {
        let problem = crate::text_safety::visible(problem);
        out.push_str(&format!("#\n# The settings do not resolve: {problem}\n"));
    }
    out.push('\n');
    out.push_str(EXAMPLE_CONFIG);
    out
}

/// The one rule for `concurrency`, wherever it is set (`source` says where, for the message).
fn concurrency_from(value: &str, source: &str) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
        .ok_or_else(|| {
            format!(
                "concurrency {value} (from {source}) is not valid: it is how many bulk writes are in \
                 flight at once, a whole number from 1 to {MAX_CONCURRENCY}"
            )
        })
}

/// Whether a key sent to `base_url` would cross a network in clear text: plain http:// to a host
/// other than this machine (127.0.0.0/8, ::1, `localhost`). A URL that does not parse is left to
/// the client, which refuses it with its own message.
fn sends_key_in_clear(base_url: &str) -> bool {
    use url::Host;
    let Ok(url) = url::Url::parse(base_url) else {
        return false;
    };
    let loopback = match url.host() {
        Some(Host::Domain(name)) => matches!(name, "localhost" | "localhost."),
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => {
            address.is_loopback() || address.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        None => false,
    };
    url.scheme() == "http" && !loopback
}

fn load_file(path: &Path) -> Result<FileConfig, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileConfig::default()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    parse_file(&text)
        .map_err(|(line, message)| format!("{}, line {line}: {message}", path.display()))
}

/// Parses config text; an error comes with the 1-based line it is on.
fn parse_file(text: &str) -> Result<FileConfig, (usize, String)> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        (line, e.message().trim().to_string())
    })
}

/// The API key and where it came from.
fn api_key(
    profile: &str,
    file: &FileProfile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(SecretString, Source), String> {
    if let Some(key) = env("REFEREE_API_KEY").filter(|k| !k.is_empty()) {
        return Ok((
            SecretString::from(key),
            Source::Env("REFEREE_API_KEY".into()),
        ));
    }
    if let Some(var) = &file.api_key_env {
        return env(var)
            .filter(|k| !k.is_empty())
            .map(|key| (SecretString::from(key), Source::Env(var.clone())))
            .ok_or_else(|| {
                format!("profile `{profile}` takes its API key from ${var}, but ${var} is not set")
            });
    }
    if let Some(cmd) = &file.api_key_cmd {
        return key_from_command(cmd, KEY_CMD_LIMIT)
            .map(|key| {
                let source = Source::File(format!("profile `{profile}`, api_key_cmd"));
                (SecretString::from(key), source)
            })
            .map_err(|why| format!("profile `{profile}`: api_key_cmd {why}"));
    }
    Err(format!(
        "no API key for profile `{profile}`: set REFEREE_API_KEY, or api_key_env / api_key_cmd in the profile"
    ))
}

/// Runs `cmd` with `sh -c` and returns the key it prints, or why there is none. It gets `limit` to
/// finish, then it is stopped with everything it started. The reasons never quote the command: it
/// may hold a key (and what it says on stderr has the command's words masked for the same reason).
fn key_from_command(cmd: &str, limit: Duration) -> Result<String, String> {
    use std::process::{Command, Stdio};
    let mut command = Command::new("sh");
    command
        .args(["-c", cmd])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A process group of its own, so that stopping it stops what the shell started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not be started: {e}"))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let timed_out = || {
        format!(
            "printed no key within {} s and was stopped (is it waiting for a password or a prompt?)",
            limit.as_secs_f32()
        )
    };
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                stop(&mut child);
                return Err(timed_out());
            }
        }
    };
    // Something it started in the background may hold the pipes open after it has ended.
    let left = || deadline.saturating_duration_since(Instant::now());
    let (Ok(out), Ok(err)) = (stdout.recv_timeout(left()), stderr.recv_timeout(left())) else {
        stop(&mut child);
        return Err(timed_out());
    };
    let key = String::from_utf8_lossy(&out).trim().to_string();
    if status.success() && !key.is_empty() {
        return Ok(key);
    }
    let err = String::from_utf8_lossy(&err);
    let said = err.lines().map(str::trim).rfind(|l| !l.is_empty());
    Err(match said {
        Some(line) => format!("printed no key ({status}): {}", mask_words(line, cmd)),
        None => format!("printed no key ({status})"),
    })
}

/// Stops `child` and, on unix, every process of its group: a shell's `sleep`, a password manager's
/// helper, whatever it left running in the background.
fn stop(child: &mut std::process::Child) {
    #[cfg(unix)]
    if let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the process group `group` (the child's own,
        // made at spawn); it reads and writes no memory of ours.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads `pipe` to its end on a thread of its own; the bytes arrive on the channel.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        let _ = tx.send(bytes);
    });
    rx
}

/// `text` with every word of `cmd` of 4 characters or more masked, longest first (a shell's error
/// can quote the command line: `sh: 1: sk_live_…: not found`).
fn mask_words(text: &str, cmd: &str) -> String {
    let mut words: Vec<&str> = cmd
        .split_whitespace()
        .map(|w| w.trim_matches(['\'', '"']))
        .filter(|w| w.chars().count() >= 4)
        .collect();
    words.sort_by_key(|w| std::cmp::Reverse(w.len()));
    words
        .into_iter()
        .fold(text.to_string(), |text, word| text.replace(word, "***"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn setup(config: &str) -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_file: dir.path().join("config.toml"),
            data_dir: dir.path().join("data"),
        };
        std::fs::write(&paths.config_file, config).unwrap();
        (dir, paths)
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const TWO: &str = r#"
default_profile = "work"
[profiles.work]
base_url = "https://api.vantio.app/api/v1"
api_key_env = "WORK_KEY"
admin_id = "admin_1"
metadata_mode = "replace"

[profiles.local]
base_url = "http://127.0.0.1:3000/api/v1"
api_key_cmd = "echo sk_from_cmd"
"#;

    #[test]
    fn the_default_profile_is_read_with_its_key_from_the_named_variable() {
        let (_d, paths) = setup(TWO);
        let p = resolve(
            &paths,
            &Overrides::default(),
            &env_of(&[("WORK_KEY", "sk_work")]),
        )
        .unwrap();
        assert_eq!(p.name, "work");
        assert_eq!(p.api_key.expose_secret(), "sk_work");
        assert_eq!(p.admin_id.as_deref(), Some("admin_1"));
        assert_eq!(p.metadata_mode, MetadataMode::Replace);
    }

    #[test]
    fn a_named_profile_can_take_its_key_from_a_command() {
        let (_d, paths) = setup(TWO);
        let flags = Overrides {
            profile: Some("local".into()),
            ..Default::default()
        };
        let p = resolve(&paths, &flags, &env_of(&[])).unwrap();
        assert_eq!(p.api_key.expose_secret(), "sk_from_cmd");
        assert_eq!(p.metadata_mode, MetadataMode::Merge);
    }

    #[test]
    fn environment_wins_over_the_file_and_flags_win_over_both() {
        let (_d, paths) = setup(TWO);
        let env = env_of(&[
            ("REFEREE_API_KEY", "sk_env"),
            ("REFEREE_BASE_URL", "https://env/api/v1"),
            ("REFEREE_ADMIN_ID", "admin_env"),
            ("REFEREE_METADATA_MODE", "merge"),
        ]);
        let p = resolve(&paths, &Overrides::default(), &env).unwrap();
        assert_eq!(
            (p.base_url.as_str(), p.api_key.expose_secret()),
            ("https://env/api/v1", "sk_env")
        );
        assert_eq!(
            (p.admin_id.as_deref(), p.metadata_mode),
            (Some("admin_env"), MetadataMode::Merge)
        );
        let flags = Overrides {
            base_url: Some("https://flag/api/v1".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&paths, &flags, &env).unwrap().base_url,
            "https://flag/api/v1"
        );
    }

    #[test]
    fn no_file_works_from_flags_and_env_alone() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths {
            config_file: dir.path().join("none.toml"),
            data_dir: dir.path().into(),
        };
        let flags = Overrides {
            base_url: Some("https://h:3000/api/v1".into()),
            ..Default::default()
        };
        let p = resolve(&paths, &flags, &env_of(&[("REFEREE_API_KEY", "k")])).unwrap();
        assert_eq!(p.name, "env");
        let err = resolve(&paths, &Overrides::default(), &env_of(&[])).unwrap_err();
        assert!(err.contains("--demo"), "{err}");
        let err = resolve(&paths, &flags, &env_of(&[])).unwrap_err();
        assert!(err.contains("REFEREE_API_KEY"), "{err}");
    }

    #[test]
    fn errors_name_the_file_the_line_and_the_problem() {
        let (_d, paths) = setup("[profiles.work]\nbase_url = \"x\"\nbakend = \"vantio\"\n");
        let err = resolve(&paths, &Overrides::default(), &env_of(&[])).unwrap_err();
        assert!(err.contains("config.toml, line 3"), "{err}");
        assert!(err.contains("bakend"), "{err}");
        let (_d, paths) = setup("[profiles.work]\nmetadata_mode = \"sometimes\"\n");
        let err = resolve(&paths, &Overrides::default(), &env_of(&[])).unwrap_err();
        assert!(err.contains("line 2") && err.contains("sometimes"), "{err}");
        let (_d, paths) = setup(TWO);
        let err = resolve(
            &paths,
            &Overrides::default(),
            &env_of(&[("REFEREE_METADATA_MODE", "x")]),
        )
        .unwrap_err();
        assert!(err.contains("REFEREE_METADATA_MODE"), "{err}");
    }

    #[test]
    fn an_unknown_profile_lists_the_known_ones_and_a_missing_key_variable_is_named() {
        let (_d, paths) = setup(TWO);
        let flags = Overrides {
            profile: Some("prod".into()),
            ..Default::default()
        };
        let err = resolve(&paths, &flags, &env_of(&[])).unwrap_err();
        assert!(err.contains("local, work"), "{err}");
        let err = resolve(&paths, &Overrides::default(), &env_of(&[])).unwrap_err();
        assert!(err.contains("$WORK_KEY"), "{err}");
    }

    #[test]
    fn read_only_comes_from_the_file_the_environment_or_the_flag() {
        let (_d, paths) = setup(
            "[profiles.audit]\nbase_url = \"https://h/api/v1\"\napi_key_cmd = \"echo k\"\nread_only = true\n",
        );
        let none = Overrides::default();
        assert!(resolve(&paths, &none, &env_of(&[])).unwrap().read_only);
        let env = env_of(&[("REFEREE_READ_ONLY", "false")]);
        assert!(!resolve(&paths, &none, &env).unwrap().read_only);
        let flag = Overrides {
            read_only: true,
            ..Default::default()
        };
        assert!(
            resolve(&paths, &flag, &env).unwrap().read_only,
            "the flag wins"
        );
        let err = resolve(&paths, &none, &env_of(&[("REFEREE_READ_ONLY", "yes")])).unwrap_err();
        assert!(err.contains("REFEREE_READ_ONLY"), "{err}");
        let (_d, paths) =
            setup("[profiles.w]\nbase_url = \"https://h/api/v1\"\napi_key_cmd = \"echo k\"\n");
        assert!(!resolve(&paths, &none, &env_of(&[])).unwrap().read_only);
    }

    #[test]
    fn the_trace_says_where_each_setting_came_from_and_never_the_key() {
        let (_d, paths) = setup(TWO);
        let env = env_of(&[
            ("WORK_KEY", "sk_work_secret"),
            ("REFEREE_BASE_URL", "https://env/api/v1?api_key=sk_in_url"),
        ]);
        let flags = Overrides {
            concurrency: Some("3".into()),
            ..Default::default()
        };
        let mut trace = Trace::default();
        resolve_traced(&paths, &flags, &env, &mut trace).unwrap();
        assert!(trace.file_exists);
        let source = |setting: &str| {
            let found = trace.settings.iter().find(|(s, _, _)| *s == setting);
            found.map(|(_, _, source)| source.to_string()).unwrap()
        };
        assert_eq!(source("profile"), "file: default_profile");
        assert_eq!(source("base_url"), "environment REFEREE_BASE_URL");
        assert_eq!(source("concurrency"), "flag --concurrency");
        assert_eq!(source("api_key"), "environment WORK_KEY");
        assert_eq!(source("admin_id"), "file: profile `work`, admin_id");
        assert_eq!(
            source("metadata_mode"),
            "file: profile `work`, metadata_mode"
        );
        assert_eq!(source("backend"), "default");
        assert_eq!(source("account_id"), "default");
        let shown = format!("{:?}", trace.settings);
        assert!(
            !shown.contains("sk_work_secret") && !shown.contains("sk_in_url"),
            "{shown}"
        );

        // A failure keeps what was decided before it.
        let mut trace = Trace::default();
        resolve_traced(&paths, &Overrides::default(), &env_of(&[]), &mut trace).unwrap_err();
        assert_eq!(
            source_of(&trace, "base_url"),
            Some("file: profile `work`, base_url".into())
        );
        assert_eq!(source_of(&trace, "api_key"), None);
    }

    fn source_of(trace: &Trace, setting: &str) -> Option<String> {
        trace
            .settings
            .iter()
            .find(|(s, _, _)| *s == setting)
            .map(|(_, _, source)| source.to_string())
    }

    #[test]
    fn the_shipped_example_parses() {
        let parsed = parse_file(EXAMPLE_CONFIG).unwrap();
        assert!(!parsed.profiles.is_empty());
    }

    #[test]
    fn plain_http_carries_the_key_in_clear_only_beyond_this_machine() {
        let cases = [
            ("http://127.0.0.1:3000/api/v1", false),
            ("http://127.8.9.10/api/v1", false),
            ("http://[::1]:3000/api/v1", false),
            ("http://[::ffff:127.0.0.1]/api/v1", false),
            ("http://localhost:3000/api/v1", false),
            ("http://LOCALHOST/api/v1", false),
            ("https://api.example.com/api/v1", false),
            ("https://10.0.0.5/api/v1", false),
            ("http://api.example.com/api/v1", true),
            ("http://10.0.0.5/api/v1", true),
            ("http://0.0.0.0:3000/api/v1", true),
            ("http://[::2]/api/v1", true),
            ("http://localhost.example.com/api/v1", true),
            ("http://127.0.0.1.nip.io/api/v1", true),
            ("http://user:pw@api.example.com/api/v1", true),
            ("not a url", false),
        ];
        for (url, clear) in cases {
            assert_eq!(sends_key_in_clear(url), clear, "{url}");
        }
    }

    #[test]
    fn plain_http_elsewhere_is_refused_unless_the_profile_flag_or_environment_allows_it() {
        let profile = |allow: &str| {
            format!(
                "[profiles.lan]\nbase_url = \"http://10.0.0.5:3000/api/v1?api_key=sk_in_url\"\n{allow}"
            )
        };
        let key = [("REFEREE_API_KEY", "k")];
        let (_d, paths) = setup(&profile(""));
        let err = resolve(&paths, &Overrides::default(), &env_of(&key)).unwrap_err();
        for words in [
            "clear text",
            "https://",
            "allow_insecure_http = true",
            "--allow-insecure-http",
            "api_key=***",
        ] {
            assert!(err.contains(words), "{words}: {err}");
        }
        assert!(!err.contains("sk_in_url"), "{err}");

        let allowed = Overrides {
            allow_insecure_http: true,
            ..Default::default()
        };
        assert!(resolve(&paths, &allowed, &env_of(&key)).is_ok());
        let env = env_of(&[key[0], ("REFEREE_ALLOW_INSECURE_HTTP", "true")]);
        assert!(resolve(&paths, &Overrides::default(), &env).is_ok());
        let env = env_of(&[key[0], ("REFEREE_ALLOW_INSECURE_HTTP", "yes")]);
        let err = resolve(&paths, &Overrides::default(), &env).unwrap_err();
        assert!(err.contains("REFEREE_ALLOW_INSECURE_HTTP"), "{err}");

        let (_d, paths) = setup(&profile("allow_insecure_http = true"));
        assert!(resolve(&paths, &Overrides::default(), &env_of(&key)).is_ok());
        // The environment wins over the file, both ways.
        let env = env_of(&[key[0], ("REFEREE_ALLOW_INSECURE_HTTP", "false")]);
        assert!(resolve(&paths, &Overrides::default(), &env).is_err());
    }

    #[test]
    fn concurrency_has_one_rule_and_one_message_wherever_it_is_set() {
        for (value, want) in [
            ("1", Some(1)),
            ("4", Some(4)),
            (" 8 ", Some(8)),
            ("32", Some(32)),
            ("0", None),
            ("33", None),
            ("1000", None),
            ("-1", None),
            ("four", None),
            ("", None),
        ] {
            assert_eq!(concurrency_from(value, "test").ok(), want, "{value:?}");
        }

        let key = ("REFEREE_API_KEY", "k");
        let (_d, paths) =
            setup("[profiles.work]\nbase_url = \"https://h/api/v1\"\nconcurrency = 1000\n");
        let from_file = resolve(&paths, &Overrides::default(), &env_of(&[key])).unwrap_err();
        let (_e, no_file) = setup("[profiles.work]\nbase_url = \"https://h/api/v1\"\n");
        let env = env_of(&[key, ("REFEREE_CONCURRENCY", "1000")]);
        let from_env = resolve(&no_file, &Overrides::default(), &env).unwrap_err();
        let flag = Overrides {
            concurrency: Some("1000".into()),
            ..Default::default()
        };
        let from_flag = resolve(&no_file, &flag, &env_of(&[key])).unwrap_err();
        let source = format!("profile `work` in {}", paths.config_file.display());
        let same = |err: &str, source: &str| err.replace(source, "SOURCE");
        assert_eq!(
            same(&from_file, &source),
            same(&from_env, "REFEREE_CONCURRENCY")
        );
        assert_eq!(
            same(&from_env, "REFEREE_CONCURRENCY"),
            same(&from_flag, "--concurrency")
        );
        assert!(
            from_file.contains("1 to 32") && from_file.contains(&source),
            "{from_file}"
        );

        // Flags win over the environment, which wins over the file.
        let (_d, paths) =
            setup("[profiles.work]\nbase_url = \"https://h/api/v1\"\nconcurrency = 7\n");
        let env = env_of(&[key, ("REFEREE_CONCURRENCY", "5")]);
        let flag = Overrides {
            concurrency: Some("3".into()),
            ..Default::default()
        };
        assert_eq!(resolve(&paths, &flag, &env).unwrap().concurrency, 3);
        assert_eq!(
            resolve(&paths, &Overrides::default(), &env)
                .unwrap()
                .concurrency,
            5
        );
        let file_only = resolve(&paths, &Overrides::default(), &env_of(&[key])).unwrap();
        assert_eq!(file_only.concurrency, 7);
        // The file's value is judged by its text, as the environment's is: whatever its TOML type.
        for (value, want) in [
            ("\"7\"", Ok(7)),
            ("\" 7 \"", Ok(7)),
            ("8.5", Err("concurrency 8.5 (from profile")),
            ("\"lots\"", Err("concurrency lots (from profile")),
            ("true", Err("concurrency true (from profile")),
            ("-1", Err("concurrency -1 (from profile")),
        ] {
            let (_d, paths) = setup(&format!(
                "[profiles.work]\nbase_url = \"https://h/api/v1\"\nconcurrency = {value}\n"
            ));
            match (
                resolve(&paths, &Overrides::default(), &env_of(&[key])),
                want,
            ) {
                (Ok(profile), Ok(n)) => assert_eq!(profile.concurrency, n, "{value}"),
                (Err(error), Err(words)) => {
                    assert!(
                        error.contains(words) && error.contains("1 to 32"),
                        "{error}"
                    )
                }
                (got, want) => panic!("{value}: {got:?}, wanted {want:?}"),
            }
        }
        assert_eq!(
            resolve(&no_file, &Overrides::default(), &env_of(&[key]))
                .unwrap()
                .concurrency,
            DEFAULT_CONCURRENCY
        );
    }

    #[test]
    fn a_key_command_that_hangs_is_stopped_in_time() {
        let started = Instant::now();
        let err = key_from_command("sleep 30", Duration::from_millis(300)).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.contains("within 0.3 s") && err.contains("stopped"),
            "{err}"
        );
        // Done, but something it left behind keeps its output open.
        let started = Instant::now();
        let err =
            key_from_command("echo sk_1; sleep 30 &", Duration::from_millis(300)).unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(err.contains("within"), "{err}");
        assert_eq!(
            key_from_command("printf ' sk_1\\n'", KEY_CMD_LIMIT).unwrap(),
            "sk_1"
        );
    }

    /// Whether process `pid` still runs (a zombie waiting to be reaped does not).
    #[cfg(target_os = "linux")]
    fn running(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_key_command_stopped_in_time_leaves_nothing_it_started_running() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        // The shell starts one sleep in the background and waits on another: killing the shell
        // alone would leave both running.
        let cmd = format!(
            "sleep 30 & echo $! > {0}; sleep 31 & echo $! >> {0}; wait",
            pids.display()
        );
        let err = key_from_command(&cmd, Duration::from_millis(500)).unwrap_err();
        assert!(err.contains("stopped"), "{err}");
        let pids = std::fs::read_to_string(&pids).unwrap();
        let pids: Vec<&str> = pids.split_whitespace().collect();
        assert_eq!(pids.len(), 2, "{pids:?}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while pids.iter().any(|pid| running(pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for pid in pids {
            assert!(
                !running(pid),
                "process {pid} the key command started still runs"
            );
        }
    }

    #[test]
    fn a_key_command_error_never_quotes_the_command() {
        let cases = [
            // A key pasted where a command belongs: the shell quotes it back.
            ("sk_live_secret_42", "not found"),
            // What it says on stderr is shown (words of the command masked).
            (
                "echo VAULT_LOCKED | tr A-Z a-z >&2; exit 3 # sk_live_secret_42",
                "exit status: 3): vault_locked",
            ),
            ("true sk_live_secret_42", "printed no key"),
        ];
        for (cmd, says) in cases {
            let (_d, paths) = setup(&format!(
                "[profiles.p]\nbase_url = \"https://h/api/v1\"\napi_key_cmd = \"{cmd}\"\n"
            ));
            let err = resolve(&paths, &Overrides::default(), &env_of(&[])).unwrap_err();
            assert!(
                err.contains("api_key_cmd") && err.contains(says),
                "{cmd}: {err}"
            );
            assert!(!err.contains("sk_live_secret_42"), "{cmd}: {err}");
        }
        assert_eq!(
            mask_words("sh: 1: sk_live_secret_42: not found", "'sk_live_secret_42'"),
            "sh: 1: ***: not found"
        );
        assert_eq!(mask_words("a bc", "bc"), "a bc", "short words are left");
    }
}
