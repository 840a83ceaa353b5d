//! Where referee keeps its files and which server it talks to: `config.toml` with named profiles,
//! overridden by `REFEREE_*` environment variables, overridden by command-line flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::api::BackendKind;
use crate::domain::MetadataMode;

/// The documented example, shipped in the binary; `referee --print-config` shows it.
pub const EXAMPLE_CONFIG: &str = include_str!("../assets/config.example.toml");

pub const DEFAULT_CONCURRENCY: usize = 4;

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
    /// Bulk writes in flight at once.
    concurrency: Option<usize>,
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
    /// Bulk writes in flight at once (default 4).
    pub concurrency: usize,
}

/// Settings from command-line flags; they win over everything.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub base_url: Option<String>,
    pub backend: Option<BackendKind>,
}

/// Reads the config file (if any), applies the environment and flags, and resolves the API key.
pub fn resolve(
    paths: &Paths,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Profile, String> {
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
    let env_value = |key: &str| env(key).filter(|v| !v.is_empty());
    let bad_env = |key: &str, value: &str, allowed: &str| {
        format!("{key}={value} is not valid: expected {allowed}")
    };

    let backend = match (flags.backend, env_value("REFEREE_BACKEND")) {
        (Some(b), _) => b,
        (None, Some(v)) => BackendKind::parse(&v)
            .ok_or_else(|| bad_env("REFEREE_BACKEND", &v, "vantio or firstpromoter"))?,
        (None, None) => from_file.backend.unwrap_or_default(),
    };
    let metadata_mode = match env_value("REFEREE_METADATA_MODE") {
        Some(v) => match v.as_str() {
            "merge" => MetadataMode::Merge,
            "replace" => MetadataMode::Replace,
            _ => return Err(bad_env("REFEREE_METADATA_MODE", &v, "merge or replace")),
        },
        None => from_file.metadata_mode.unwrap_or_default(),
    };
    let base_url = flags
        .base_url
        .clone()
        .or_else(|| env_value("REFEREE_BASE_URL"))
        .or(from_file.base_url.clone())
        .ok_or_else(|| {
            format!(
                "no server configured. Try `referee --demo`, or `referee --base-url http://host:3000/api/v1` with \
                 REFEREE_API_KEY set, or add a profile to {} (see `referee --print-config`)",
                paths.config_file.display()
            )
        })?;
    let concurrency = match env_value("REFEREE_CONCURRENCY") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=32).contains(n))
            .ok_or_else(|| bad_env("REFEREE_CONCURRENCY", &v, "a number from 1 to 32"))?,
        None => from_file
            .concurrency
            .unwrap_or(DEFAULT_CONCURRENCY)
            .clamp(1, 32),
    };
    let api_key = api_key(&name, &from_file, env)?;
    Ok(Profile {
        name,
        backend,
        base_url,
        api_key,
        account_id: env_value("REFEREE_ACCOUNT_ID").or(from_file.account_id),
        admin_id: env_value("REFEREE_ADMIN_ID").or(from_file.admin_id),
        metadata_mode,
        concurrency,
    })
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

fn api_key(
    profile: &str,
    file: &FileProfile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SecretString, String> {
    if let Some(key) = env("REFEREE_API_KEY").filter(|k| !k.is_empty()) {
        return Ok(SecretString::from(key));
    }
    if let Some(var) = &file.api_key_env {
        return env(var)
            .filter(|k| !k.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| {
                format!("profile `{profile}` takes its API key from ${var}, but ${var} is not set")
            });
    }
    if let Some(cmd) = &file.api_key_cmd {
        let out = std::process::Command::new("sh")
            .args(["-c", cmd])
            .output()
            .map_err(|e| format!("profile `{profile}`: could not run api_key_cmd `{cmd}`: {e}"))?;
        let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !out.status.success() || key.is_empty() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(format!(
                "profile `{profile}`: api_key_cmd `{cmd}` printed no key ({}) {}",
                out.status,
                stderr.trim()
            ));
        }
        return Ok(SecretString::from(key));
    }
    Err(format!(
        "no API key for profile `{profile}`: set REFEREE_API_KEY, or api_key_env / api_key_cmd in the profile"
    ))
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

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
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
            ("REFEREE_BASE_URL", "http://env/api/v1"),
            ("REFEREE_ADMIN_ID", "admin_env"),
            ("REFEREE_METADATA_MODE", "merge"),
        ]);
        let p = resolve(&paths, &Overrides::default(), &env).unwrap();
        assert_eq!(
            (p.base_url.as_str(), p.api_key.expose_secret()),
            ("http://env/api/v1", "sk_env")
        );
        assert_eq!(
            (p.admin_id.as_deref(), p.metadata_mode),
            (Some("admin_env"), MetadataMode::Merge)
        );
        let flags = Overrides {
            base_url: Some("http://flag/api/v1".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&paths, &flags, &env).unwrap().base_url,
            "http://flag/api/v1"
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
            base_url: Some("http://h:3000/api/v1".into()),
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
    fn the_shipped_example_parses() {
        let parsed = parse_file(EXAMPLE_CONFIG).unwrap();
        assert!(!parsed.profiles.is_empty());
    }
}
