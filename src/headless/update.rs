//! `referee update ID --set field=value …`: one referral changed the way the console's form would
//! change it. The referral is read, the values are typed into the form and reviewed (the form's
//! checks and companion fields), the exact body is shown (`--dry-run` stops there), and the write
//! goes through the console's pipeline: journal, conflict guard, PUT, outcome.

use std::path::Path;

use serde_json::{Value, json};

use super::change::{self, Reviewed};
use super::{Driver, Exit, Failure};
use crate::app::Action;
use crate::app::state::Overlay;
use crate::config::Profile;
use crate::domain::mutation::Outcome;

#[derive(Debug, clap::Args)]
#[command(after_help = super::docs::EXIT_STATUSES)]
pub struct UpdateArgs {
    /// The referral's id.
    pub id: String,
    /// A field and its new value, checked as the edit form checks it: `email=ada@example.com`,
    /// `status=verified` (brings verified_at and verified_by, as the form does), `field=` empties
    /// it, `metadata.KEY=VALUE` sets one key (JSON when it parses, else text) and
    /// `metadata.KEY=` removes it. Repeatable.
    #[arg(long = "set", value_name = "FIELD=VALUE", required = true)]
    pub set: Vec<String>,
    /// The value your script read for a field it changes: if the server now holds another, the
    /// write is a conflict (exit 1, base/theirs/mine on stdout) and nothing is sent. Repeatable.
    #[arg(long = "expect", value_name = "FIELD=VALUE")]
    pub expect: Vec<String>,
    /// Print the exact JSON body that would be sent, and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send without asking (needed when not on a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

pub async fn run(args: UpdateArgs, profile: Profile, data_dir: &Path) -> Result<Exit, Failure> {
    if !args.dry_run {
        super::refuse_read_only(&profile, "update")?;
    }
    let schema = profile.backend.schema();
    let sets = change::parse(schema, "--set", &args.set)?;
    let expects = change::parse(schema, "--expect", &args.expect)?;
    if let Some(stray) = expects
        .iter()
        .find(|e| !sets.iter().any(|s| s.spec.key == e.spec.key))
    {
        return Err(Failure::bad(format!(
            "--expect {}: no --set changes that field, and the guard compares only the fields a write changes",
            stray.name()
        )));
    }
    let mut driver = Driver::open(&profile, data_dir)?;
    driver.settle_unfinished().await;
    let id = args.id.trim().to_string();
    let record = driver
        .client
        .find("id", &id)
        .await
        .map_err(|e| Failure::reading(&format!("referral {id}"), &e))?;
    let clock = driver.state().clock.clone();
    let seen = change::as_expected(&record, &expects, &clock).map_err(|errors| {
        Failure::bad(format!(
            "--expect: {}; nothing was sent",
            change::invalid_text(&errors)
        ))
    })?;
    driver.state().replace_records(vec![seen.clone()]);
    let changes = match change::review(&mut driver, &seen, &sets) {
        Reviewed::Change(changes) => changes,
        Reviewed::Unchanged => {
            super::print_json(&json!({"id": id, "outcome": "already", "error": null}));
            crate::cli::say(&format!(
                "{id} already holds these values: nothing to send."
            ));
            return Ok(Exit::Done);
        }
        Reviewed::Invalid(errors) => {
            return Err(Failure::bad(format!(
                "{id} not changed: {}; nothing was sent",
                change::invalid_text(&errors)
            )));
        }
    };
    for line in &changes.changes {
        crate::cli::say(&format!(
            "  {}: {} → {}",
            line.label,
            super::shown(&line.before),
            super::shown(&line.after)
        ));
    }
    if args.dry_run {
        // The body as it would go now: "now" is stamped with the sending second.
        let mut body = changes.clone();
        body.stamp(
            schema,
            &crate::domain::clock::to_wire(jiff::Timestamp::now()),
        );
        super::print_json(&Value::Object(body.body));
        crate::cli::say(&format!("dry run: nothing was sent to {id}."));
        return Ok(Exit::Done);
    }
    if !super::confirm(&format!("Send this change to {id}?"), args.yes)? {
        return Err(Failure::bad("not sent: you answered no"));
    }
    // `y` on the review: the form's write, through the guard, as the console sends it.
    let state = driver.state();
    state.form = Some(crate::app::form::Form::open(state.schema, &seen));
    state.overlay = Some(Overlay::Review { changes, scroll: 0 });
    driver.dispatch(Action::Answer(true));
    if driver.state().writes.count() == 0 {
        return Err(Failure::bad(format!(
            "not sent: {}",
            super::shown(&driver.message())
        )));
    }
    let mut answered = None;
    while driver.state().writes.count() > 0 {
        if let Some(done) = driver.next().await {
            answered = Some(done.outcome);
        }
    }
    let Some(outcome) = answered else {
        return Err(Failure {
            exit: Exit::SomeFailed,
            message: format!("no outcome for {id}: see `referee audit`"),
        });
    };
    Ok(match report(&mut driver, &id, &outcome) {
        "applied" => Exit::Done,
        _ => Exit::SomeFailed,
    })
}

/// The outcome as one JSON line on stdout and words on stderr; a conflict with base, theirs and
/// mine per field, as the console's dialog shows them.
fn report(driver: &mut Driver, id: &str, outcome: &Outcome) -> &'static str {
    let (word, error) = super::outcome_words(outcome, id);
    let mut line = json!({"id": id, "outcome": word, "error": error});
    if let Outcome::Refused(crate::api::ApiError::Invalid { fields, .. }) = outcome {
        line["fields"] = fields
            .iter()
            .map(|(field, message)| (field.clone(), Value::String(message.clone())))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    if let Some(Overlay::Conflict { clashes, .. }) = &driver.state().overlay {
        line["conflicts"] = clashes
            .iter()
            .map(|c| json!({"field": c.key, "base": c.base, "theirs": c.theirs, "mine": c.mine}))
            .collect::<Vec<_>>()
            .into();
        for clash in clashes {
            crate::cli::say(&format!(
                "  conflict on {}: base {} · theirs {} · mine {}",
                clash.label,
                super::shown(&clash.base.to_string()),
                super::shown(&clash.theirs.to_string()),
                super::shown(&clash.mine.to_string())
            ));
        }
    }
    super::print_json(&line);
    let said = match &error {
        None => format!("Saved {id}."),
        Some(error) => format!("{id}: {word}: {}", super::shown(error)),
    };
    crate::cli::say(&said);
    word
}
