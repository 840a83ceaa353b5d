//! `referee list` and `referee get`: reading referrals for scripts, through the console's client
//! (pacing, retries, the paging window and stop rules of `effects::page_through`) and its filter
//! language (`domain::filter`).
//!
//! `list` prints every referral of the profile's backend that matches, all pages: NDJSON and CSV
//! rows are printed as each page arrives; JSON (one array) and tables when the listing is
//! complete. The filter is applied here, to what the server sends (the same text gives the same
//! answer on either API). When a page fails mid-way, the rows printed so far stay printed (JSON and
//! tables print nothing), the failure is said on stderr, and the exit status is 3 when the server
//! could not be reached or refused the key, 1 otherwise. A listing the server cut short (entries it
//! sent that could not be read, a server that does not page) is said on stderr and exits 1.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::process::ExitCode;

use jiff::Timestamp;
use serde_json::Value;
use tokio::runtime::Runtime;

use super::Exit;
use super::output::{self, GetFormat, ListFormat, Stdout};
use crate::api::{ApiError, BackendKind, Client};
use crate::app::text::plural;
use crate::cli::say;
use crate::config::Profile;
use crate::domain::Record;
use crate::domain::filter::Filter;
use crate::domain::schema::{RefKind, Schema};
use crate::effects::{PagingReport, page_through};
use crate::export::{Columns, json_line, json_pretty};

/// `referee list`'s options.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// A filter (repeatable; all must match): `status=converted`, `ambassador~andre`,
    /// `-status:rejected`, `created:>2026-01-01`, `created:<7d`, free words. See README
    /// "Scripting" for the whole language.
    #[arg(long = "where", value_name = "FILTER", allow_hyphen_values = true)]
    pub filters: Vec<String>,
    /// Free text in the same filter language (words match the id, names, email and the
    /// ambassador's name).
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    pub q: Option<String>,
    /// Output format [default: table when stdout is a terminal, else ndjson].
    #[arg(long, value_enum)]
    pub format: Option<ListFormat>,
    /// Fields to print, comma-separated (keys or friendly names such as ambassador, created).
    #[arg(long, value_name = "A,B")]
    pub fields: Option<String>,
}

/// How `referee get` finds the referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindBy {
    Id,
    Email,
    Uid,
    Username,
}

impl FindBy {
    fn as_str(self) -> &'static str {
        match self {
            FindBy::Id => "id",
            FindBy::Email => "email",
            FindBy::Uid => "uid",
            FindBy::Username => "username",
        }
    }
}

/// `referee get`'s options.
#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// The referral's id (or its email, uid or username with --by).
    pub id: String,
    /// What ID is (FirstPromoter only; Referral API v1 finds by id).
    #[arg(long, value_enum, default_value_t = FindBy::Id)]
    pub by: FindBy,
    /// Output format [default: table when stdout is a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<GetFormat>,
    /// Fields to print, comma-separated (keys or friendly names).
    #[arg(long, value_name = "A,B")]
    pub fields: Option<String>,
}

/// Runs `referee list` on the resolved profile (or says why there is none).
pub fn list(profile: anyhow::Result<Profile>, args: &ListArgs, runtime: &Runtime) -> ExitCode {
    run(profile, runtime, |profile, client| {
        list_on(profile, client, args)
    })
    .into()
}

/// Runs `referee get` on the resolved profile (or says why there is none).
pub fn get(profile: anyhow::Result<Profile>, args: &GetArgs, runtime: &Runtime) -> ExitCode {
    run(profile, runtime, |profile, client| {
        get_on(profile, client, args)
    })
    .into()
}

/// Connects for `profile` and runs `command` on `runtime`; bad configuration exits 2.
fn run<F, Fut>(profile: anyhow::Result<Profile>, runtime: &Runtime, command: F) -> Exit
where
    F: FnOnce(Profile, Client) -> Fut,
    Fut: Future<Output = Exit>,
{
    let profile = match profile {
        Ok(profile) => profile,
        Err(error) => {
            say(&format!("referee: {error:#}"));
            return Exit::BadInput;
        }
    };
    let client = match crate::cli::connect(&profile) {
        Ok(client) => client,
        Err(error) => {
            say(&format!("referee: {error:#}"));
            return Exit::BadInput;
        }
    };
    runtime.block_on(async {
        // On a terminal, a wait is said as it happens; a script reads only the outcome.
        let _waits = std::io::stderr().is_terminal().then(|| {
            super::note_waits(client.net_status(), |words| {
                say(&format!("referee: {words}"))
            })
        });
        command(profile, client).await
    })
}

/// The exit status for a request that failed: 3 when the server could not be reached or refused
/// the key, 1 for any other failure.
pub fn exit_for(error: &ApiError) -> Exit {
    match error {
        ApiError::Transport { .. } | ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
            Exit::Unreachable
        }
        _ => Exit::SomeFailed,
    }
}

/// A failed request in one line for stderr, made safe to print (the server's words are
/// untrusted): what went wrong and, where it helps, what to check.
pub fn said(error: &ApiError) -> String {
    let line = match error {
        ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => error.user_message(),
        ApiError::Transport {
            message,
            sent: false,
            ..
        } => format!(
            "could not reach the server: {message} (check the base URL and that the server is running)"
        ),
        other => other.to_string(),
    };
    crate::text_safety::visible(&line).into_owned()
}

/// The filter the `--where` texts (and `--q`) make together.
fn parse_filter<'a>(
    schema: &'static Schema,
    texts: impl IntoIterator<Item = &'a String>,
) -> Result<Filter, String> {
    let mut filter = Filter::default();
    for text in texts {
        let more = Filter::parse(schema, text).map_err(|e| e.to_string())?;
        filter = filter.and(more);
    }
    Ok(filter)
}

async fn list_on(profile: Profile, client: Client, args: &ListArgs) -> Exit {
    let schema = profile.backend.schema();
    let format = args
        .format
        .unwrap_or_else(|| output::default_format(ListFormat::Table, ListFormat::Ndjson));
    let default_fields = match format {
        ListFormat::Table => Columns::listed(schema),
        _ => Columns::all(schema),
    };
    let prepared = parse_filter(schema, args.filters.iter().chain(&args.q)).and_then(|filter| {
        let columns = Columns::chosen(schema, args.fields.as_deref(), default_fields)
            .map_err(|e| format!("--fields: {e}"))?;
        Ok((filter, columns))
    });
    let (filter, columns) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            say(&format!("referee list: {error}"));
            return Exit::BadInput;
        }
    };
    let names = match load_names(&client, &filter.needs_names(schema)).await {
        Ok(names) => names,
        Err((kind, error)) => {
            say(&format!(
                "referee list: could not load {}: {}",
                kind.noun(),
                said(&error)
            ));
            return exit_for(&error);
        }
    };
    let mut out = Stdout::new();
    let mut printer = Printer::new(format, columns);
    let mut matched = 0;
    let (read, result) = page_matches(&client, schema, &filter, &names, |hits| {
        matched += hits.len();
        printer.take(&hits, &mut out)
    })
    .await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            let kept = match format {
                _ if matched == 0 => "nothing was printed",
                ListFormat::Json | ListFormat::Table => "nothing was printed",
                ListFormat::Ndjson | ListFormat::Csv => {
                    "the referrals printed above are all there is"
                }
            };
            say(&format!(
                "referee list: reading the referrals failed after {} ({kept}): {}",
                plural(read, "referral"),
                said(&error)
            ));
            return exit_for(&error);
        }
    };
    printer.finish(&mut out);
    if out.gone {
        return Exit::Done;
    }
    for sentence in report.sentences(("referral", "referrals")) {
        say(&format!("referee list: {sentence}"));
    }
    say(&format!(
        "referee list: {matched} of {} matched",
        plural(read, "referral")
    ));
    if incomplete(&report) {
        Exit::SomeFailed
    } else {
        Exit::Done
    }
}

/// Names by kind and id, for the filter's references.
type Names = HashMap<RefKind, HashMap<String, String>>;

/// Pages through every referral and hands `take` those `filter` matches, a page at a time (false
/// from `take` stops reading). Gives how many were read, and how the paging ended.
async fn page_matches(
    client: &Client,
    schema: &'static Schema,
    filter: &Filter,
    names: &Names,
    mut take: impl FnMut(Vec<Record>) -> bool,
) -> (usize, Result<PagingReport, ApiError>) {
    let now = Timestamp::now();
    let mut read = 0;
    let mut report = None;
    let result = page_through(
        "referrals",
        |i| client.referrals_page(i),
        record_id,
        |records, end| {
            read += records.len();
            report = end;
            let hits = records
                .into_iter()
                .filter(|r| filter.matches(schema, r, names, now));
            take(hits.collect())
        },
    )
    .await;
    (read, result.map(|()| report.unwrap_or_default()))
}

/// Every referral the `--where` texts match, for `referee bulk --where`: all of them or none (a
/// listing that failed or came back incomplete is a failure, so a bulk never acts on part of what
/// was asked for without saying so).
pub async fn matching(
    client: &Client,
    schema: &'static Schema,
    texts: &[String],
) -> Result<Vec<Record>, super::Failure> {
    let filter =
        parse_filter(schema, texts).map_err(|e| super::Failure::bad(format!("--where: {e}")))?;
    let failed = |error: &ApiError| super::Failure {
        exit: exit_for(error),
        message: format!(
            "listing the referrals for --where: {}; nothing was sent",
            said(error)
        ),
    };
    let names = load_names(client, &filter.needs_names(schema))
        .await
        .map_err(|(_, error)| failed(&error))?;
    let mut found = Vec::new();
    let (_, result) = page_matches(client, schema, &filter, &names, |hits| {
        found.extend(hits);
        true
    })
    .await;
    let report = result.map_err(|error| failed(&error))?;
    if incomplete(&report) {
        let why = report.sentences(("referral", "referrals")).join(" ");
        return Err(super::Failure {
            exit: Exit::SomeFailed,
            message: format!(
                "the listing for --where came back incomplete ({why}); nothing was sent. `referee list --where … --fields id` and `bulk --ids-from` act on what can be read"
            ),
        });
    }
    Ok(found)
}

/// Whether the listing may lack referrals the server holds (a duplicate dropped loses nothing).
fn incomplete(report: &PagingReport) -> bool {
    // Every stop (a repeated page, a page of known ids, the page limit) leaves the rest unread.
    !report.unreadable.is_empty() || report.stopped.is_some()
}

/// Prints matched referrals in one format: streamed (NDJSON, CSV) or kept for the end.
struct Printer {
    format: ListFormat,
    columns: Columns,
    /// Rows kept for the end (JSON values, table cells).
    kept_json: Vec<Value>,
    kept_rows: Vec<Vec<String>>,
    header_printed: bool,
}

impl Printer {
    fn new(format: ListFormat, columns: Columns) -> Printer {
        Printer {
            format,
            columns,
            kept_json: Vec::new(),
            kept_rows: Vec::new(),
            header_printed: false,
        }
    }

    /// Prints or keeps `records`; false when stdout's reader is gone (stop reading pages).
    fn take(&mut self, records: &[Record], out: &mut Stdout) -> bool {
        match self.format {
            ListFormat::Ndjson => {
                let text: String = records
                    .iter()
                    .map(|r| json_line(&self.columns.json(r)))
                    .collect();
                text.is_empty() || out.write(&text)
            }
            ListFormat::Csv => {
                let mut text = String::new();
                if !self.header_printed {
                    text.push_str(&self.columns.csv_header());
                    self.header_printed = true;
                }
                for record in records {
                    text.push_str(&self.columns.csv_line(record));
                }
                text.is_empty() || out.write(&text)
            }
            ListFormat::Json => {
                self.kept_json
                    .extend(records.iter().map(|r| self.columns.json(r)));
                true
            }
            ListFormat::Table => {
                self.kept_rows.extend(records.iter().map(|r| {
                    let texts = self.columns.texts(r);
                    texts.iter().map(|t| output::table_cell(t)).collect()
                }));
                true
            }
        }
    }

    /// Prints what was kept for the end (a CSV of no rows still has its header).
    fn finish(&mut self, out: &mut Stdout) {
        match self.format {
            ListFormat::Ndjson => {}
            ListFormat::Csv => {
                if !self.header_printed {
                    out.write(&self.columns.csv_header());
                }
            }
            ListFormat::Json => {
                let all = Value::Array(std::mem::take(&mut self.kept_json));
                out.write(&json_pretty(&all));
            }
            ListFormat::Table => {
                let header = self.columns.header();
                out.write(&crate::store::audit::aligned(&header, &self.kept_rows));
            }
        }
    }
}

/// The names the filter needs, by kind and id, for the kinds the backend loads up front (a kind
/// it names one at a time, such as v1 impressions, is matched by id only).
async fn load_names(client: &Client, kinds: &[RefKind]) -> Result<Names, (RefKind, ApiError)> {
    let mut names = HashMap::new();
    for &kind in kinds {
        if !client.lookup_kinds().contains(&kind) {
            continue;
        }
        let mut these = HashMap::new();
        page_through(
            kind.noun(),
            |i| client.lookup_page(kind, i),
            entry_id,
            |entries, _| {
                these.extend(entries);
                true
            },
        )
        .await
        .map_err(|error| (kind, error))?;
        names.insert(kind, these);
    }
    Ok(names)
}

fn record_id(record: &Record) -> &str {
    &record.id
}

fn entry_id((id, _): &(String, String)) -> &str {
    id
}

async fn get_on(profile: Profile, client: Client, args: &GetArgs) -> Exit {
    let schema = profile.backend.schema();
    let format = args
        .format
        .unwrap_or_else(|| output::default_format(GetFormat::Table, GetFormat::Json));
    let columns = match Columns::chosen(schema, args.fields.as_deref(), Columns::all(schema)) {
        Ok(columns) => columns,
        Err(error) => {
            say(&format!("referee get: --fields: {error}"));
            return Exit::BadInput;
        }
    };
    if args.id.trim().is_empty() {
        say("referee get: give the referral's id (it is empty)");
        return Exit::BadInput;
    }
    // v1 documents lookups by id only; only FirstPromoter's `find_by` takes the others.
    if args.by != FindBy::Id && profile.backend != BackendKind::FirstPromoter {
        say(&format!(
            "referee get: --by {} needs a firstpromoter profile; {} finds referrals by id only",
            args.by.as_str(),
            profile.backend.as_str()
        ));
        return Exit::BadInput;
    }
    let record = match client.find(args.by.as_str(), &args.id).await {
        Ok(record) => record,
        Err(error) => {
            say(&format!(
                "referee get: {} {}: {}",
                args.by.as_str(),
                crate::text_safety::visible(&args.id),
                said(&error)
            ));
            return exit_for(&error);
        }
    };
    let text = match format {
        GetFormat::Json => json_pretty(&columns.json(&record)),
        GetFormat::Table => {
            let rows: Vec<Vec<String>> = columns
                .header()
                .iter()
                .zip(columns.texts(&record))
                .map(|(name, value)| vec![name.to_string(), output::table_cell(&value)])
                .collect();
            crate::store::audit::aligned(&["field", "value"], &rows)
        }
    };
    Stdout::new().write(&text);
    Exit::Done
}
