//! The `:` command line: `find <email|uid|username|id> <value>` opens a referral fetched from the
//! server, selected and shown in the detail pane.

use super::action::{Effect, RequestId};
use super::state::{Level, Pending, State};
use crate::api::ApiError;
use crate::domain::Record;
use crate::domain::schema::QuickStyle;

/// What the `:` command line accepts on this backend.
pub fn command_usage(state: &State) -> &'static str {
    match state.schema.quick {
        QuickStyle::FieldWrites => "Usage: find id ref_… (this API finds referrals by id only)",
        QuickStyle::BatchActions => "Usage: find email a@b.com (or uid, username, id)",
    }
}

/// Parses a `:` command. Only `find <email|uid|username|id> <value>` exists so far.
pub fn command(state: &mut State, text: &str) -> Result<Vec<Effect>, String> {
    let usage = command_usage(state);
    let by_id_only = state.schema.quick == QuickStyle::FieldWrites;
    let mut words = text.trim().splitn(3, ' ');
    match (words.next(), words.next(), words.next().map(str::trim)) {
        (Some("find"), Some("email" | "uid" | "username"), _) if by_id_only => {
            Err(usage.to_string())
        }
        (Some("find"), Some(by @ ("email" | "uid" | "username" | "id")), Some(value))
            if !value.is_empty() =>
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
        _ => Err(usage.to_string()),
    }
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
