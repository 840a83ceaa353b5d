//! The command line: `referee` (console on a profile), `referee --demo` (console on an in-process
//! sandbox), and `referee serve` (the sandbox alone). Also sets up logging for each.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::api::{BackendKind, Client, Connection};
use crate::app::State;
use crate::app::state::{LoadState, Session};
use crate::config::{self, Overrides, Paths, Profile};
use crate::domain::{Clock, MetadataMode};
use crate::headless;
use crate::interrupt::Interrupts;
use crate::runtime::App;
use crate::sandbox::{self, Quirk, Quirks, SandboxConfig};
use crate::store::audit;
use crate::store::journal::Journal;
use crate::text_safety;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "referee",
    version,
    about = "A keyboard-driven console for referral programs",
    after_help = crate::headless::docs::EXIT_STATUSES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Open the console on demo data served by a built-in sandbox (no set-up needed).
    #[arg(long)]
    demo: bool,
    /// With --demo: throw away the demo database and generate it anew.
    #[arg(long, requires = "demo")]
    reset_demo: bool,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Say where referee looks for config.toml and whether it exists, the profile in effect and
    /// where each setting comes from (file, environment, flag, default; secrets as "(set)"), then
    /// print a commented example config.toml. An api_key_cmd is run to check it; exits 2 when the
    /// settings do not resolve.
    #[arg(long)]
    print_config: bool,
    /// Load everything the profile serves as the console does (off screen, no keys), then print
    /// `loaded N referrals in X s, peak memory Y MB` to stderr and exit (benches/load.sh).
    #[arg(long, hide = true, conflicts_with = "demo")]
    exit_after_load: bool,
}

/// Which server to talk to and how; the console and every headless command take these, before or
/// after the command's name.
#[derive(Debug, Args)]
struct ConnectionArgs {
    /// The profile of config.toml to use (default: its default_profile).
    #[arg(long, global = true)]
    profile: Option<String>,
    /// The API's base URL, e.g. http://host:3000/api/v1 (the key comes from REFEREE_API_KEY).
    #[arg(long, global = true)]
    base_url: Option<String>,
    /// Which API the server speaks.
    #[arg(long, value_enum, global = true)]
    backend: Option<BackendKind>,
    /// Bulk writes in flight at once, 1 to 32 (default 8; also REFEREE_CONCURRENCY or the profile's
    /// `concurrency`).
    #[arg(long, value_name = "N", global = true)]
    concurrency: Option<String>,
    /// Send the API key over plain http:// to a host that is not this machine (it travels in clear
    /// text; only on a network you trust).
    #[arg(long, global = true)]
    allow_insecure_http: bool,
    /// Refuse every write (console keys, form, undo, update, bulk) before anything is sent; also
    /// `read_only = true` in the profile or REFEREE_READ_ONLY=true.
    #[arg(long, global = true)]
    read_only: bool,
}

impl ConnectionArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            profile: self.profile.clone(),
            base_url: self.base_url.clone(),
            backend: self.backend,
            concurrency: self.concurrency.clone(),
            allow_insecure_http: self.allow_insecure_http,
            read_only: self.read_only,
        }
    }

    /// The profile these flags, the environment and the config file make.
    fn resolve(&self, paths: &Paths, env: &dyn Fn(&str) -> Option<String>) -> Result<Profile> {
        config::resolve(paths, &self.overrides(), env).map_err(anyhow::Error::msg)
    }

    /// The flag that names a server, if any was given (the demo serves its own).
    fn named_server(&self) -> Option<&'static str> {
        [
            (self.profile.is_some(), "--profile"),
            (self.base_url.is_some(), "--base-url"),
            (self.concurrency.is_some(), "--concurrency"),
            (self.allow_insecure_http, "--allow-insecure-http"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the sandbox API server (Referral API v1 and FirstPromoter v2 on SQLite) until Ctrl-c.
    Serve(ServeArgs),
    /// Print the audit log (the write journal): every write, its outcome, and verification
    /// session summaries. Also `referee journal`.
    #[command(visible_alias = "journal")]
    Audit(AuditArgs),
    /// Change one referral as the edit form would (checked, guarded, journaled).
    Update(crate::headless::update::UpdateArgs),
    /// Verify, reject, set a status or set fields on many referrals, as a bulk in the console.
    Bulk(crate::headless::bulk::BulkArgs),
    /// Take back the newest change that reached the server (the console's `u`).
    Undo(crate::headless::undo::UndoArgs),
    /// Print every referral of the profile's backend that matches the filter, all pages (NDJSON
    /// and CSV rows as pages arrive).
    #[command(after_help = crate::headless::docs::EXIT_STATUSES)]
    List(headless::read::ListArgs),
    /// Print one referral.
    #[command(after_help = crate::headless::docs::EXIT_STATUSES)]
    Get(headless::read::GetArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(headless::docs::CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
struct AuditArgs {
    /// Only entries this recent: 90s, 15m, 2h, 3d, 2w (as in filters).
    #[arg(long)]
    since: Option<String>,
    #[arg(long, value_enum, default_value_t = audit::Format::Table)]
    format: audit::Format,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: SocketAddr,
    /// SQLite file (created if missing); default: sandbox.sqlite in the data folder.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Demo referrals to generate when the database is empty.
    #[arg(long, default_value_t = 500)]
    seed: usize,
    /// The bearer key clients must send.
    #[arg(long, default_value = "sk_demo")]
    api_key: String,
    /// The account FirstPromoter v2 requests must name in the Account-ID header.
    #[arg(long, default_value = DEMO_ACCOUNT_ID)]
    account_id: String,
    /// How a PUT's metadata is applied.
    #[arg(long, value_enum, default_value_t = MetadataMode::Merge)]
    metadata_mode: MetadataMode,
    /// Requests per minute before 429: per API key (v1), per account (v2).
    #[arg(long, default_value_t = 400)]
    rate_limit: u32,
    /// Probability (0 to 1) that a write fails with a 500, to try error handling by hand.
    #[arg(long, default_value_t = 0.0)]
    chaos: f64,
    /// Answer like a real server may (comma-separated), to test clients against awkward but
    /// valid answers.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "QUIRK,...")]
    quirks: Vec<Quirk>,
}

const DEMO_API_KEY: &str = "sk_demo";
const DEMO_ACCOUNT_ID: &str = "acc_demo";
/// Generous enough that a demo session never meets the limit by accident.
const DEMO_RATE_LIMIT: u32 = 1200;
const DEMO_SEED: usize = 500;

/// Runs the command line; the status to exit with when nothing failed (a signal that ended the
/// console gives 128 + its number, as if it had ended referee itself).
pub fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let env = |key: &str| std::env::var(key).ok();
    let paths = Paths::discover(&env).map_err(anyhow::Error::msg)?;
    if cli.print_config {
        let mut trace = config::Trace::default();
        let resolved =
            config::resolve_traced(&paths, &cli.connection.overrides(), &env, &mut trace);
        print_out(&config::describe(&paths, &trace, resolved.as_ref().err()))?;
        return Ok(match resolved {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                say(&format!("referee: the settings do not resolve: {error}"));
                headless::Exit::BadInput.into()
            }
        });
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let resolve = || cli.connection.resolve(&paths, &env);
    match cli.command {
        Some(Command::List(ref args)) => Ok(headless::read::list(resolve(), args, &runtime)),
        Some(Command::Get(ref args)) => Ok(headless::read::get(resolve(), args, &runtime)),
        Some(Command::Completions(ref args)) => Ok(headless::docs::completions(args)),
        Some(Command::Man) => Ok(headless::docs::man()),
        Some(Command::Audit(args)) => {
            print_audit(&args, &paths.data_dir).map(|()| ExitCode::SUCCESS)
        }
        Some(Command::Update(args)) => headless(&cli.connection, &paths, &runtime, |p, dir| {
            crate::headless::update::run(args, p, dir)
        }),
        Some(Command::Bulk(args)) => headless(&cli.connection, &paths, &runtime, |p, dir| {
            crate::headless::bulk::run(args, p, dir)
        }),
        Some(Command::Undo(args)) => headless(&cli.connection, &paths, &runtime, |p, dir| {
            crate::headless::undo::run(args, p, dir)
        }),
        Some(Command::Serve(args)) => {
            init_stderr_logging();
            runtime
                .block_on(serve(args, &paths))
                .map(|()| ExitCode::SUCCESS)
        }
        None if cli.demo => {
            if let Some(flag) = cli.connection.named_server() {
                anyhow::bail!(
                    "--demo serves its own demo data, so {flag} does not apply; leave out one of the two"
                );
            }
            let _guard = init_file_logging(&paths.data_dir)?;
            runtime.block_on(demo(
                cli.reset_demo,
                cli.connection.backend,
                cli.connection.read_only,
                &paths,
            ))
        }
        None => {
            let profile = cli.connection.resolve(&paths, &env)?;
            let _guard = init_file_logging(&paths.data_dir)?;
            if cli.exit_after_load {
                return runtime.block_on(load_and_exit(profile));
            }
            runtime.block_on(console(profile, &paths.data_dir, Vec::new()))
        }
    }
}

/// Runs a writing headless command on the resolved profile, logging to `referee.log`; a profile
/// that cannot be resolved is bad configuration (exit 2).
fn headless<'a, F, Fut>(
    connection: &ConnectionArgs,
    paths: &'a Paths,
    runtime: &tokio::runtime::Runtime,
    command: F,
) -> Result<ExitCode>
where
    F: FnOnce(Profile, &'a Path) -> Fut,
    Fut: std::future::Future<Output = Result<crate::headless::Exit, crate::headless::Failure>>,
{
    let env = |key: &str| std::env::var(key).ok();
    let profile = connection.resolve(paths, &env)?;
    let _guard = init_file_logging(&paths.data_dir)?;
    let result = runtime.block_on(command(profile, &paths.data_dir));
    Ok(crate::headless::finish(result))
}

async fn serve(args: ServeArgs, paths: &Paths) -> Result<()> {
    let db_path = match args.db {
        Some(path) => path,
        None => ensure_dir(&paths.data_dir)?.join("sandbox.sqlite"),
    };
    let quirks: Quirks = args.quirks.into_iter().collect();
    let config = SandboxConfig {
        db_path: db_path.clone(),
        api_key: args.api_key,
        rate_limit: args.rate_limit,
        metadata_mode: args.metadata_mode,
        seed: args.seed,
        account_id: args.account_id,
        write_delay: Duration::ZERO,
        chaos: args.chaos,
        rate_window: Duration::from_secs(60),
        quirks,
    };
    let server = sandbox::start(config, args.addr).await?;
    say(&format!(
        "referee sandbox: {} and {} (database {}; quirks: {quirks}; Ctrl-c stops)",
        server.v1_base_url(),
        server.v2_base_url(),
        db_path.display()
    ));
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-c")?;
    server.shutdown().await;
    Ok(())
}

async fn demo(
    reset: bool,
    backend: Option<BackendKind>,
    read_only: bool,
    paths: &Paths,
) -> Result<ExitCode> {
    let backend = backend.unwrap_or_default();
    let db_path = ensure_dir(&paths.data_dir)?.join("demo.sqlite");
    let mut notes = Vec::new();
    if reset {
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", db_path.display()));
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("removing {}", file.display()))?;
            }
        }
    } else if let Some(problem) = sandbox::outdated_database(&db_path)? {
        // Demo data from an older referee is kept aside, not lost, and the demo starts afresh.
        let kept = set_aside(&db_path)?;
        tracing::warn!(%problem, kept = %kept.display(), "demo database set aside");
        notes.push((
            crate::app::state::Level::Info,
            format!(
                "The demo data was made by an older referee: it was kept as {} and the demo started afresh.",
                kept.display()
            ),
        ));
    }
    let config = SandboxConfig {
        db_path,
        api_key: DEMO_API_KEY.into(),
        rate_limit: DEMO_RATE_LIMIT,
        metadata_mode: MetadataMode::Merge,
        seed: DEMO_SEED,
        account_id: DEMO_ACCOUNT_ID.into(),
        write_delay: Duration::ZERO,
        chaos: 0.0,
        rate_window: Duration::from_secs(60),
        quirks: Quirks::default(),
    };
    let server = sandbox::start(config, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let profile = Profile {
        name: "demo".into(),
        backend,
        base_url: match backend {
            BackendKind::Vantio => server.v1_base_url(),
            BackendKind::FirstPromoter => server.v2_base_url(),
        },
        api_key: SecretString::from(DEMO_API_KEY),
        account_id: Some(DEMO_ACCOUNT_ID.into()),
        admin_id: Some("admin_demo".into()),
        metadata_mode: MetadataMode::Merge,
        concurrency: config::DEFAULT_CONCURRENCY,
        read_only,
    };
    let result = console(profile, &paths.data_dir, notes).await;
    server.shutdown().await;
    result
}

/// Moves a database (and its WAL files) to `<name>.old-<unix time>`, returning the new path.
fn set_aside(db_path: &Path) -> Result<PathBuf> {
    let stamp = jiff::Timestamp::now().as_second();
    let kept = PathBuf::from(format!("{}.old-{stamp}", db_path.display()));
    for suffix in ["", "-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{suffix}", db_path.display()));
        if from.exists() {
            let to = PathBuf::from(format!("{}{suffix}", kept.display()));
            std::fs::rename(&from, &to)
                .with_context(|| format!("moving {} aside", from.display()))?;
        }
    }
    Ok(kept)
}

/// The client for `profile`; what is wrong with it names the profile.
pub(crate) fn connect(profile: &Profile) -> Result<Client> {
    Client::connect(Connection {
        backend: profile.backend,
        base_url: &profile.base_url,
        api_key: &profile.api_key,
        account_id: profile.account_id.as_deref(),
    })
    .map_err(|e| anyhow::anyhow!("profile `{}`: {e}", profile.name))
}

/// The client and the starting state for `profile`.
pub(crate) fn open(profile: &Profile) -> Result<(Client, State)> {
    let client = connect(profile)?;
    let session = Session {
        profile: profile.name.clone(),
        backend: profile.backend.as_str(),
        admin_id: profile.admin_id.clone(),
        metadata_mode: profile.metadata_mode,
        concurrency: profile.concurrency,
        read_only: profile.read_only,
    };
    let mut state = State::new(session, profile.backend.schema(), Clock::system());
    // https://no-color.org: set and not empty.
    state.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    Ok((client, state))
}

/// `--exit-after-load`: the real app loop on an off-screen terminal with no keys, until no load
/// or lookup is under way; then says how many referrals arrived, how long it took and the peak
/// memory. Nothing is written, so the journal stays in memory.
async fn load_and_exit(profile: Profile) -> Result<ExitCode> {
    let (client, state) = open(&profile)?;
    let terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40))?;
    let mut app = App::new(state, terminal, client, Arc::new(Journal::in_memory()));
    let started = std::time::Instant::now();
    app.run_until(futures::stream::pending(), |state| {
        !state.busy() && !matches!(state.load, LoadState::Loading { .. })
    })
    .await?;
    let elapsed = started.elapsed();
    if let LoadState::Failed(error) = &app.state.load {
        anyhow::bail!("loading failed: {error}");
    }
    let peak = peak_memory_kb().map_or("unknown".to_owned(), |kb| {
        format!("{:.1} MB", kb as f64 / 1024.0)
    });
    say(&format!(
        "loaded {} referrals in {:.2} s, peak memory {peak}",
        app.state.records.len(),
        elapsed.as_secs_f64()
    ));
    Ok(ExitCode::SUCCESS)
}

/// This process's peak resident memory (`VmHWM` in `/proc/self/status`); None where there is
/// no such file (not Linux).
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Opens the console on `profile` and runs it until the user quits or a signal ends it; `notes`
/// are said when loading ends. The terminal is restored on every exit path (ratatui's panic hook,
/// set by `try_init`, restores it on a panic, then reports the panic).
async fn console(
    profile: Profile,
    data_dir: &Path,
    notes: Vec<(crate::app::state::Level, String)>,
) -> Result<ExitCode> {
    let (client, mut state) = open(&profile)?;
    state.held_notes.extend(notes);
    let journal = match Journal::open(data_dir) {
        Ok(journal) => journal,
        Err(error) => {
            tracing::error!(%error, "the journal cannot be opened; keeping it in memory");
            // Shown when loading ends, so "Loaded …" does not hide it.
            let error = error.to_string();
            let stop = if error.ends_with('.') { "" } else { "." };
            state.held_notes.push((
                crate::app::state::Level::Error,
                format!(
                    "{error}{stop} Writes are journaled in memory only: a crash now cannot be checked at the next start."
                ),
            ));
            Journal::in_memory()
        }
    };
    let mut interrupts = Interrupts::listen().context("listening for signals")?;
    let terminal = ratatui::try_init().context("referee needs an interactive terminal")?;
    let mut app = App::new(state, terminal, client, Arc::new(journal));
    let (host, input) = crate::runtime::host::Tty::start().context("setting up the terminal")?;
    app.set_host(Box::new(host));
    let ended = tokio::select! {
        result = app.run_loop(input) => Ok(result),
        interrupt = interrupts.next() => Err(interrupt),
    };
    if let Err(error) = crate::runtime::host::Tty::stop() {
        tracing::warn!(%error, "could not turn bracketed paste and the mouse off");
    }
    // Not `ratatui::restore`: after a SIGHUP there may be no terminal to report a failure on.
    if let Err(error) = ratatui::try_restore() {
        tracing::warn!(%error, "could not restore the terminal");
    }
    match ended {
        Ok(result) => result
            .context("terminal input failed")
            .map(|()| ExitCode::SUCCESS),
        Err(interrupt) => {
            // What is typed in the form is kept, as a crash-safe draft is meant to be.
            app.keep_drafts(Duration::from_secs(2)).await;
            let unsettled = app.state.pending_writes();
            tracing::warn!(
                unsettled,
                "interrupted by {}: writes in flight are checked with the server at the next start",
                interrupt.name
            );
            say(&format!("referee: interrupted by {}", interrupt.name));
            Ok(ExitCode::from(interrupt.exit_status()))
        }
    }
}

fn print_audit(args: &AuditArgs, data_dir: &Path) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|text| audit::cutoff(text, jiff::Timestamp::now()))
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let view = audit::View::read(data_dir);
    let warn = |warning: &str| say(&format!("referee audit: {}", text_safety::visible(warning)));
    view.warnings.iter().for_each(|w| warn(w));
    let entries = view.entries(since).map_err(anyhow::Error::msg)?;
    if let Some(damaged) = view.damaged_warning() {
        warn(&damaged);
    }
    if entries.is_empty() {
        say(&view.nothing_to_show(since.is_some()));
        if args.format == audit::Format::Table {
            return Ok(());
        }
    }
    print_out(&audit::render(&entries, args.format).map_err(anyhow::Error::msg)?)
}

/// Writes `text` to stdout. A reader that stopped reading (`referee audit | head -1`) is not a
/// failure: it has what it wanted, so referee stops quietly.
fn print_out(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.context("writing to stdout"),
    }
}

/// One line on stderr; a stderr that is gone cannot be told anything, so that is ignored (where
/// `eprintln!` would panic).
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn ensure_dir(dir: &Path) -> Result<&Path> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REFEREE_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// The console owns the terminal, so its log goes to `referee.log` in the data folder. A folder that
/// cannot be written is said once, on stderr before the screen opens, and the console goes on
/// without a log file (the journal says the same in the status bar).
fn init_file_logging(
    data_dir: &Path,
) -> Result<Option<tracing_appender::non_blocking::WorkerGuard>> {
    let opened = std::fs::create_dir_all(data_dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("referee.log"))
    });
    let file = match opened {
        Ok(file) => file,
        Err(error) => {
            say(&format!(
                "referee: cannot write referee.log in {} ({error}); going on without a log file.",
                data_dir.display()
            ));
            return Ok(None);
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("REFEREE_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .init();
    Ok(Some(guard))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, ValueEnum};

    fn serve_args(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let cli = Cli::try_parse_from(["referee", "serve"].iter().chain(args))?;
        match cli.command {
            Some(Command::Serve(args)) => Ok(args),
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn serve_takes_a_comma_separated_list_of_quirks() {
        assert!(serve_args(&[]).unwrap().quirks.is_empty());
        let args = serve_args(&["--quirks", "nulls,string-ids", "--quirks", "truncated"]).unwrap();
        assert_eq!(
            args.quirks,
            [Quirk::Nulls, Quirk::StringIds, Quirk::Truncated]
        );
        let unknown = serve_args(&["--quirks", "nulls,slow"])
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("invalid value 'slow'") && unknown.contains("slow-batches"),
            "{unknown}"
        );
    }

    #[test]
    fn the_command_line_is_well_formed_and_server_flags_go_before_or_after_a_command() {
        Cli::command().debug_assert();
        for args in [
            &["referee", "--profile", "prod", "audit"][..],
            &["referee", "audit", "--profile", "prod"][..],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.connection.profile.as_deref(), Some("prod"), "{args:?}");
        }
    }

    #[test]
    fn journal_is_another_name_for_audit() {
        let cli = Cli::try_parse_from(["referee", "journal", "--since", "2h"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Audit(AuditArgs { since: Some(ref s), .. })) if s == "2h")
        );
    }

    #[test]
    fn serve_help_explains_every_quirk() {
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("serve")
            .unwrap()
            .render_long_help()
            .to_string();
        for quirk in Quirk::value_variants() {
            let value = quirk.to_possible_value().unwrap();
            let line = format!("- {}:", value.get_name());
            assert!(help.contains(&line), "{line} missing from\n{help}");
            assert!(value.get_help().is_some(), "{line} has no help");
        }
    }
}
