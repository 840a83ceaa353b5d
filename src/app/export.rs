//! `:export csv|json PATH`: the rows the list shows now — its filter and its sort — written with
//! `referee list`'s writers (`crate::export`) by the effects runner, off the UI task, and what
//! became of it said in the status bar. A file already at PATH is replaced only after `y` to a
//! question; an error says what to do about it.

use std::path::Path;

use super::action::{Effect, RequestId};
use super::state::{Level, LoadState, Overlay, Pending, Question, State};
use super::text::thousands;
use crate::export::{Format, WriteError};

/// Asks for the rows shown to be written to `path` (as typed, or as meant after a question).
pub fn start(state: &mut State, format: Format, path: &str, replace: bool) -> Vec<Effect> {
    let records: Vec<_> = state
        .list
        .visible
        .iter()
        .map(|row| state.records[*row].clone())
        .collect();
    let whole = state.load == LoadState::Loaded;
    let req = state.request(Pending::Export { format, whole });
    state.say(
        Level::Info,
        format!("Exporting {} to {path}…", referrals(records.len())),
    );
    vec![Effect::Export {
        req,
        format,
        path: path.to_string(),
        replace,
        records,
    }]
}

/// The export answering `req` ended: said, or a file in the way asked about.
pub fn finished(
    state: &mut State,
    req: RequestId,
    path: String,
    count: usize,
    result: Result<(), WriteError>,
) {
    let Some(Pending::Export { format, whole }) = state.pending.remove(&req) else {
        return;
    };
    let example = format!(":export {} ~/referrals.{}", format.word(), format.word());
    let failed = match result {
        Ok(()) => {
            let mut text = format!("Exported {} to {path}.", referrals(count));
            if !whole {
                text.push_str(
                    " Not every referral was loaded, so some may be missing (r reloads).",
                );
            }
            state.say(Level::Success, text);
            return;
        }
        // Asked unless another dialog is up, which the question must not push away.
        Err(WriteError::Exists) if state.overlay.is_none() => {
            state.message = None;
            state.overlay = Some(Overlay::Confirm(Question::ReplaceFile { format, path }));
            return;
        }
        Err(WriteError::Exists) => {
            format!(
                "Not exported: {path} is there already. Export again to be asked whether to replace it."
            )
        }
        Err(WriteError::NoFolder) => {
            let folder = Path::new(&path).parent().unwrap_or(Path::new(""));
            format!(
                "Not exported: there is no folder {}. Create it, or export into one that exists ({example}).",
                folder.display()
            )
        }
        Err(WriteError::Denied) => format!(
            "Not exported: permission denied for {path}. Choose a folder you can write to ({example})."
        ),
        Err(WriteError::IsFolder) => format!(
            "Not exported: {path} is a folder. Add a file name: :export {} {path}/referrals.{}",
            format.word(),
            format.word()
        ),
        Err(WriteError::NoHome) => {
            format!(
                "Not exported: HOME is not set, so {path} names no folder. Give the whole path."
            )
        }
        Err(WriteError::Other(why)) => format!("Not exported to {path}: {why}."),
    };
    state.say(Level::Error, failed);
}

/// "1 referral", "1,204 referrals".
pub fn referrals(count: usize) -> String {
    let noun = if count == 1 { "referral" } else { "referrals" };
    format!("{} {noun}", thousands(count))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::app::{Action, update};
    use crate::domain::Record;

    /// Five referrals loaded, the list filtered to three of them and sorted by name descending.
    fn state() -> State {
        let mut state = State::sample();
        let person = |i: usize, name: &str, status: &str| {
            let values = json!({"first_name": name, "status": status});
            Record::new(format!("ref_{i}"), values.as_object().unwrap().clone())
        };
        state.append_records(vec![
            person(1, "Ada", "pending"),
            person(2, "Bob", "verified"),
            person(3, "Cy", "pending"),
            person(4, "Di", "pending"),
            person(5, "Ed", "rejected"),
        ]);
        state.list.filter = crate::app::text::TextBuffer::single("status=pending");
        state.refilter();
        update(&mut state, Action::SortNext);
        update(&mut state, Action::SortNext);
        state
    }

    fn export(state: &mut State, typed: &str) -> Vec<Effect> {
        crate::app::command::command(state, typed).unwrap()
    }

    #[test]
    fn the_rows_shown_go_in_the_lists_order() {
        let mut state = state();
        let effects = export(&mut state, "export csv ~/out dir/x.csv");
        let [Effect::Export { req, records, .. }] = &effects[..] else {
            panic!("{effects:?}")
        };
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["ref_4", "ref_3", "ref_1"],
            "filtered, sorted by name ▼"
        );
        let expected = Effect::Export {
            req: *req,
            format: Format::Csv,
            path: "~/out dir/x.csv".into(),
            replace: false,
            records: records.clone(),
        };
        assert_eq!(effects[0], expected);
        assert!(
            state.pending.contains_key(req),
            "the spinner turns meanwhile"
        );
        assert_eq!(
            state.message.as_ref().unwrap().text,
            "Exporting 3 referrals to ~/out dir/x.csv…"
        );
    }

    #[test]
    fn a_mistyped_export_is_answered_with_the_usage() {
        let mut state = state();
        for typed in ["export", "export csv", "export xml /tmp/x", "export csv  "] {
            let error = crate::app::command::command(&mut state, typed).unwrap_err();
            assert!(error.contains("export csv|json PATH"), "{typed}: {error}");
        }
        assert!(state.pending.is_empty());
    }

    /// One row per way an export ends: the status line's words and level, or the question.
    #[test]
    fn each_end_of_an_export_is_said_with_what_to_do() {
        let path = "/data/out/x.csv";
        let cases: Vec<(Result<(), WriteError>, bool, &str, Level)> = vec![
            (
                Ok(()),
                true,
                "Exported 1,204 referrals to /data/out/x.csv.",
                Level::Success,
            ),
            (
                Ok(()),
                false,
                "Exported 1,204 referrals to /data/out/x.csv. Not every referral was loaded",
                Level::Success,
            ),
            (
                Err(WriteError::NoFolder),
                true,
                "Not exported: there is no folder /data/out. Create it, or export into one that exists (:export csv ~/referrals.csv).",
                Level::Error,
            ),
            (
                Err(WriteError::Denied),
                true,
                "Not exported: permission denied for /data/out/x.csv. Choose a folder you can write to",
                Level::Error,
            ),
            (
                Err(WriteError::IsFolder),
                true,
                "Not exported: /data/out/x.csv is a folder. Add a file name",
                Level::Error,
            ),
            (
                Err(WriteError::NoHome),
                true,
                "Not exported: HOME is not set",
                Level::Error,
            ),
            (
                Err(WriteError::Other("disk full".into())),
                true,
                "Not exported to /data/out/x.csv: disk full.",
                Level::Error,
            ),
        ];
        for (result, whole, says, level) in cases {
            let mut state = State::sample();
            let format = Format::Csv;
            let req = state.request(Pending::Export { format, whole });
            let answer = Action::Exported {
                req,
                path: path.into(),
                count: 1204,
                result: result.clone(),
            };
            update(&mut state, answer);
            let message = state.message.as_ref().expect("said");
            assert!(
                message.text.starts_with(says),
                "{result:?}: {}",
                message.text
            );
            assert_eq!(message.level, level, "{result:?}");
            assert!(state.pending.is_empty());
            assert!(state.overlay.is_none());
        }
    }

    /// A file in the way: nothing is replaced until `y`, which writes the rows shown then.
    #[test]
    fn a_file_already_there_is_replaced_only_after_yes() {
        let mut state = state();
        let Some(Effect::Export { req, .. }) = export(&mut state, "export json x.json").pop()
        else {
            panic!("an export")
        };
        let answer = Action::Exported {
            req,
            path: "/work/x.json".into(),
            count: 3,
            result: Err(WriteError::Exists),
        };
        update(&mut state, answer.clone());
        let asked = Question::ReplaceFile {
            format: Format::Json,
            path: "/work/x.json".into(),
        };
        assert_eq!(state.overlay, Some(Overlay::Confirm(asked.clone())));
        assert!(
            update(&mut state, Action::Answer(false)).is_empty(),
            "n: nothing"
        );
        assert_eq!(state.overlay, None);
        let said = state.message.as_ref().map(|m| m.text.as_str());
        assert_eq!(said, Some("Not exported: /work/x.json is left as it was."));

        state.overlay = Some(Overlay::Confirm(asked));
        state.list.filter = crate::app::text::TextBuffer::single("");
        state.refilter();
        let effects = update(&mut state, Action::Answer(true));
        let [
            Effect::Export {
                path,
                replace,
                records,
                format,
                ..
            },
        ] = &effects[..]
        else {
            panic!("{effects:?}")
        };
        assert_eq!(
            (path.as_str(), *replace, *format),
            ("/work/x.json", true, Format::Json)
        );
        assert_eq!(records.len(), 5, "the rows shown when y was pressed");
        // A late answer to the first request changes nothing.
        update(&mut state, answer);
        assert_eq!(state.overlay, None);

        // With another dialog up, the question does not push it away: it is said instead.
        let Some(Effect::Export { req, .. }) = export(&mut state, "export json x.json").pop()
        else {
            panic!("an export")
        };
        state.overlay = Some(Overlay::Help { scroll: 0 });
        let answer = Action::Exported {
            req,
            path: "/work/x.json".into(),
            count: 5,
            result: Err(WriteError::Exists),
        };
        update(&mut state, answer);
        assert_eq!(state.overlay, Some(Overlay::Help { scroll: 0 }));
        let message = state.message.as_ref().unwrap();
        assert!(
            message.text.contains("is there already"),
            "{}",
            message.text
        );
        assert_eq!(message.level, Level::Error);
    }
}
