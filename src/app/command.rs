//! The `:` command line: `find <field> <value>` opens a referral fetched from the server, selected
//! and shown in the detail pane; `journal` shows this profile's recent writes and what became of
//! them, with the ones that did not land ready to send again; `sort COLUMN [asc|desc]` sorts the
//! list (`sort` alone: the loaded order); `stats` opens the stats view; `export csv|json PATH`
//! writes the rows shown to a file (`app::export`).

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
    format!("Usage: {example} · sort COLUMN [asc|desc] · stats · journal · export csv|json PATH")
}

/// Parses and runs a `:` command.
pub fn command(state: &mut State, text: &str) -> Result<Vec<Effect>, String> {
    let usage = command_usage(state);
    let mut words = text.trim().splitn(3, ' ');
    match (words.next(), words.next(), words.next().map(str::trim)) {
        (Some("sort"), ..) => {
            let words = text.trim().strip_prefix("sort").unwrap_or_default();
            let sort = super::order::parse(state.schema, words)?;
            state.set_sort(sort);
            Ok(Vec::new())
        }
        (Some("stats"), None, None) => {
            super::stats::open(state);
            Ok(Vec::new())
        }
        (Some("export"), Some(format), Some(path)) if !path.is_empty() => {
            let format = crate::export::Format::named(format).ok_or(usage)?;
            Ok(super::export::start(state, format, path, false))
        }
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
pub fn journal_loaded(
    state: &mut State,
    req: RequestId,
    result: Result<Vec<Stored>, String>,
    damaged: usize,
) {
    if state.pending.remove(&req).is_none() {
        return;
    }
    if damaged > 0 && result.is_ok() {
        let words = crate::store::journal::Journal::left_out_words(damaged);
        state.say(
            Level::Error,
            format!("Journal: {words}; the log names each."),
        );
    }
    match result {
        Ok(mut entries) => {
            entries.reverse();
            let resendable = (0..entries.len())
                .map(|i| resendable(&entries, i).is_ok())
                .collect();
            state.overlay = Some(Overlay::Journal {
                entries,
                resendable,
                selected: 0,
            });
        }
        Err(error) => state.say(Level::Error, format!("Could not read the journal: {error}")),
    }
}

/// Whether the entry at `index` of `entries` (newest first) can be sent again: a field write that
/// did not land, with no later write to the same referral (sending it would undo that one).
pub fn resendable(entries: &[Stored], index: usize) -> Result<(), String> {
    let Some(entry) = entries.get(index) else {
        return Err("No entry selected.".into());
    };
    let landed = entry.outcome.as_ref().is_some_and(|o| {
        matches!(
            o.verdict,
            Verdict::Applied | Verdict::Already | Verdict::Refused
        )
    });
    if entry.intent.kind != "write" || landed {
        return Err("Only a field write that did not land can be sent again.".into());
    }
    let later = entries[..index].iter().find(|newer| {
        newer.intent.kind == "write"
            && newer.intent.ids == entry.intent.ids
            && newer
                .outcome
                .as_ref()
                .is_some_and(|o| o.verdict == Verdict::Applied)
    });
    match later {
        Some(newer) => Err(format!(
            "A later write to {} landed at {}: sending this one again would undo it. Not sent.",
            entry.intent.ids.join(", "),
            newer.intent.time.strftime("%H:%M:%S")
        )),
        None => Ok(()),
    }
}

/// `s` in the journal: the selected write once more, through the guard, as it was first meant.
pub fn resend(state: &mut State, entries: &[Stored], index: usize) -> Vec<Effect> {
    if super::flows::refused_read_only(state, "sending a journaled write again") {
        return Vec::new();
    }
    if let Err(why) = resendable(entries, index) {
        state.say(Level::Info, why);
        return Vec::new();
    }
    let intent = &entries[index].intent;
    let Some(mut write) = FieldWrite::from_journal(&intent.ids, &intent.body, &intent.before)
    else {
        state.say(
            Level::Error,
            "This journal entry cannot be read as a write.",
        );
        return Vec::new();
    };
    // A "now" is the second this PUT leaves, not the one the first attempt left.
    if let Some(keys) = intent.detail["at_send"].as_array() {
        write.changes.at_send = keys
            .iter()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::journal::{Intent, Recorded};
    use serde_json::{Map, Value, json};

    fn entry(id: &str, minute: i64, verdict: Option<Verdict>) -> Stored {
        let time = jiff::Timestamp::from_second(1_800_000_000 + minute * 60).unwrap();
        Stored {
            entry: minute,
            intent: Intent {
                time,
                profile: "p".into(),
                backend: "vantio".into(),
                admin_id: None,
                why: "bulk".into(),
                kind: "write".into(),
                ids: vec![id.into()],
                action: None,
                body: json!({"status": "converted"}),
                before: Map::new(),
                wanted: Map::new(),
                detail: Value::Null,
            },
            outcome: verdict.map(|verdict| Recorded {
                time,
                verdict,
                status: None,
                after: Map::new(),
                message: None,
            }),
        }
    }

    #[test]
    fn the_journal_view_says_how_many_damaged_entries_it_left_out() {
        let mut state = State::sample();
        for (damaged, said) in [(0, None), (1, Some("1 entry could not be read"))] {
            let req = state.request(Pending::Journal);
            state.message = None;
            journal_loaded(&mut state, req, Ok(vec![entry("ref_1", 1, None)]), damaged);
            assert!(matches!(state.overlay, Some(Overlay::Journal { .. })));
            let message = state.message.as_ref().map(|m| (m.text.as_str(), m.level));
            match said {
                None => assert_eq!(message, None),
                Some(words) => {
                    let (text, level) = message.expect("a message");
                    assert!(text.contains(words) && text.contains("left out"), "{text}");
                    assert_eq!(level, Level::Error);
                }
            }
        }
    }

    /// One row per rule: which journal entries `s` may send again (entries newest first).
    #[test]
    fn only_a_write_that_did_not_land_and_was_not_superseded_is_resent() {
        let entries = [
            entry("ref_2", 4, Some(Verdict::Failed)),
            entry("ref_1", 3, Some(Verdict::Applied)),
            entry("ref_1", 2, Some(Verdict::Failed)),
            entry("ref_3", 1, Some(Verdict::Unknown)),
            entry("ref_4", 0, None),
        ];
        let verdicts: Vec<bool> = (0..entries.len())
            .map(|i| resendable(&entries, i).is_ok())
            .collect();
        assert_eq!(verdicts, [true, false, false, true, true]);
        let superseded = resendable(&entries, 2).unwrap_err();
        assert!(superseded.contains("would undo it"), "{superseded}");
    }

    /// A write whose time was stamped "now" as it left is stamped again when it is sent again.
    #[test]
    fn a_resend_stamps_now_again() {
        let mut state = State::sample();
        let mut failed = entry("ref_1", 1, Some(Verdict::Failed));
        failed.intent.body = json!({"status": "verified", "verified_at": "2026-11-21T08:00:00Z"});
        failed.intent.detail = json!({"at_send": ["verified_at"]});
        let effects = resend(&mut state, &[failed], 0);
        let [
            Effect::Mutate {
                mutation: Mutation::Fields(write),
                ..
            },
        ] = &effects[..]
        else {
            panic!("one write: {effects:?}")
        };
        assert_eq!(write.changes.at_send, ["verified_at"]);
    }
}
