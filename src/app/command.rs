//! The `:` command line: `find <field> <value>` opens a referral fetched from the server, selected
//! and shown in the detail pane; `journal` shows this profile's recent writes and what became of
//! them, with the ones that did not land ready to send again.

use super::action::{Effect, RequestId};
use super::state::{Level, Overlay, Pending, State};
use super::writes::Origin;
use crate::api::ApiError;
use crate::domain::Record;
use crate::domain::mutation::{FieldWrite, Mutation};
use crate::store::journal::{Stored, Verdict};

/// What the `:` command line accepts on this backend.
pub fn command_usage(state: &State) -> String {
    let by = state.schema.policy.find_by();
    let example = match by {
        [only] => format!("find {only} …"),
        [first, rest @ ..] => format!("find {first} … (or {})", rest.join(", ")),
        [] => String::new(),
    };
    format!("Usage: {example} · journal")
}

/// Parses and runs a `:` command.
pub fn command(state: &mut State, text: &str) -> Result<Vec<Effect>, String> {
    let usage = command_usage(state);
    let mut words = text.trim().splitn(3, ' ');
    match (words.next(), words.next(), words.next().map(str::trim)) {
        (Some("journal"), None, None) => {
            let req = state.request(Pending::Journal);
            Ok(vec![Effect::LoadJournal { req }])
        }
        (Some("find"), Some(by), Some(value))
            if !value.is_empty() && state.schema.policy.find_by().contains(&by) =>
        {
            let req = state.request(Pending::Find {
                by: by.to_string(),
                value: value.to_string(),
            });
            state.say(Level::Info, format!("Looking for {by} {value}…"));
            Ok(vec![Effect::Find {
                req,
                by: by.to_string(),
                value: value.to_string(),
            }])
        }
        _ => Err(usage),
    }
}

/// The journal's entries arrived: shown newest first.
pub fn journal_loaded(state: &mut State, req: RequestId, result: Result<Vec<Stored>, String>) {
    if state.pending.remove(&req).is_none() {
        return;
    }
    match result {
        Ok(mut entries) => {
            entries.reverse();
            state.overlay = Some(Overlay::Journal {
                entries,
                selected: 0,
            });
        }
        Err(error) => state.say(Level::Error, format!("Could not read the journal: {error}")),
    }
}

/// Whether an entry can be sent again: a field write that did not land or is still unknown.
pub fn resendable(entry: &Stored) -> bool {
    entry.intent.kind == "write"
        && entry.outcome.as_ref().is_none_or(|o| {
            matches!(
                o.verdict,
                Verdict::Failed | Verdict::Unknown | Verdict::Conflict
            )
        })
}

/// `s` in the journal: the selected write once more, through the guard, as it was first meant.
pub fn resend(state: &mut State, entry: &Stored) -> Vec<Effect> {
    if !resendable(entry) {
        state.say(
            Level::Info,
            "Only a field write that did not land can be sent again.",
        );
        return Vec::new();
    }
    let intent = &entry.intent;
    let Some(write) = FieldWrite::from_journal(&intent.ids, &intent.body, &intent.before) else {
        state.say(
            Level::Error,
            "This journal entry cannot be read as a write.",
        );
        return Vec::new();
    };
    state.say(
        Level::Info,
        format!("Sending {} again (guarded)…", write.id),
    );
    super::flows::submit(state, Mutation::Fields(write), Origin::Resend, None)
}

pub fn found(state: &mut State, req: RequestId, result: Result<Record, ApiError>) {
    let Some(Pending::Find { by, value }) = state.pending.remove(&req) else {
        return;
    };
    match result {
        Ok(record) => {
            let id = record.id.clone();
            state.replace_records(vec![record]);
            state.select(&id);
            state.detail_open = true;
            let what = if by == "id" {
                id
            } else {
                format!("{by} {value}: {id}")
            };
            state.say(Level::Success, format!("Found {what}"));
        }
        Err(ApiError::NotFound { .. }) => {
            state.say(Level::Error, format!("No referral with {by} {value}."))
        }
        Err(error) => state.say(
            Level::Error,
            format!("Could not look up {by} {value}. {}", error.user_message()),
        ),
    }
}
