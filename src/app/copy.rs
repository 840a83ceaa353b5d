//! Copying from the list: `y` then `i`, `e` or `j` puts the selected referral's id, email or whole
//! record (pretty JSON) on the clipboard. `update` only chooses the text and says what was copied;
//! the runtime writes it to the terminal as OSC 52 (`Effect::Copy`), which works over SSH too.

use super::action::{Action, Effect};
use super::state::{Level, State};
use crate::domain::schema::FieldKind;
use crate::text_safety::visible;

/// What the key after `y` asks to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyWhat {
    Id,
    Email,
    Json,
}

/// The hint the status bar shows while the second key is awaited.
pub const HINT: &str = "Copy: i id · e email · j JSON (any other key: nothing)";

/// `y`, and the key after it (`Action::Copy`); any other action forgets the `y`.
pub fn input(state: &mut State, action: &Action) -> Option<Vec<Effect>> {
    let after_y = std::mem::take(&mut state.copy_pending);
    match action {
        Action::CopyStart => {
            state.copy_pending = true;
            state.say(Level::Info, HINT);
        }
        Action::Copy(_) if !after_y => {}
        Action::Copy(None) => state.say(Level::Info, "Nothing copied."),
        Action::Copy(Some(what)) => return Some(copy(state, *what)),
        _ => {
            // The `y` is forgotten: so is its hint.
            if after_y && state.message.as_ref().is_some_and(|m| m.text == HINT) {
                state.message = None;
            }
            return None;
        }
    }
    Some(Vec::new())
}

fn copy(state: &mut State, what: CopyWhat) -> Vec<Effect> {
    let Some(record) = state.selected_record() else {
        state.say(Level::Info, "No referral selected: nothing copied.");
        return Vec::new();
    };
    let copied = match what {
        CopyWhat::Id => Ok((record.id.clone(), format!("id {}", visible(&record.id)))),
        CopyWhat::Email => state
            .schema
            .fields
            .iter()
            .find(|f| f.kind == FieldKind::Email)
            .and_then(|f| record.str(f.key))
            .filter(|email| !email.is_empty())
            .map(|email| (email.to_string(), format!("email {}", visible(email))))
            .ok_or_else(|| {
                format!(
                    "Referral {} has no email: nothing copied.",
                    visible(&record.id)
                )
            }),
        CopyWhat::Json => {
            let mut json = serde_json::Map::new();
            json.insert("id".into(), record.id.clone().into());
            if let serde_json::Value::Object(fields) = record.to_json() {
                json.extend(fields);
            }
            // The id first (also when the server sent none in the fields), then the fields as the
            // server sent them, with hidden characters escaped as `referee get` escapes them.
            let text = crate::export::json_pretty(&json.into())
                .trim_end()
                .to_string();
            let said = format!(
                "referral {} as JSON ({} bytes)",
                visible(&record.id),
                text.len()
            );
            Ok((text, said))
        }
    };
    match copied {
        Ok((text, said)) => {
            state.say(Level::Info, format!("Copied {said}"));
            vec![Effect::Copy { text }]
        }
        Err(why) => {
            state.say(Level::Info, why);
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::update;
    use crate::domain::Record;
    use serde_json::json;

    fn state(email: serde_json::Value) -> State {
        let mut state = State::sample();
        let fields = json!({"first_name": "Ada", "email": email});
        state.append_records(vec![Record::new(
            "ref_1",
            fields.as_object().unwrap().clone(),
        )]);
        state
    }

    fn copied(effects: &[Effect]) -> Option<&str> {
        match effects {
            [Effect::Copy { text }] => Some(text),
            _ => None,
        }
    }

    /// One row per rule: the keys' actions, what reaches the clipboard, what the status bar says.
    #[test]
    fn y_then_a_letter_copies_and_says_what() {
        let json =
            "{\n  \"id\": \"ref_1\",\n  \"first_name\": \"Ada\",\n  \"email\": \"a@x.io\"\n}";
        let cases: &[(&[Action], Option<&str>, &str)] = &[
            (
                &[Action::CopyStart, Action::Copy(Some(CopyWhat::Id))],
                Some("ref_1"),
                "Copied id ref_1",
            ),
            (
                &[Action::CopyStart, Action::Copy(Some(CopyWhat::Email))],
                Some("a@x.io"),
                "Copied email a@x.io",
            ),
            (
                &[Action::CopyStart, Action::Copy(Some(CopyWhat::Json))],
                Some(json),
                "Copied referral ref_1 as JSON (63 bytes)",
            ),
            (
                &[Action::CopyStart, Action::Copy(None)],
                None,
                "Nothing copied.",
            ),
            // Without the `y` first, or with another key between, nothing is copied.
            (&[Action::Copy(Some(CopyWhat::Id))], None, ""),
            (
                &[
                    Action::CopyStart,
                    Action::Help,
                    Action::Dismiss,
                    Action::Copy(Some(CopyWhat::Id)),
                ],
                None,
                "",
            ),
        ];
        for (actions, clipboard, said) in cases {
            let mut state = state(json!("a@x.io"));
            let mut effects = Vec::new();
            for action in actions.iter() {
                effects = update(&mut state, action.clone());
            }
            assert_eq!(copied(&effects), *clipboard, "{actions:?}");
            let message = state
                .message
                .as_ref()
                .map(|m| m.text.as_str())
                .unwrap_or("");
            assert_eq!(message, *said, "{actions:?}");
            assert!(!state.copy_pending, "{actions:?}: the y is used up");
        }
    }

    #[test]
    fn a_referral_without_email_copies_nothing() {
        let mut state = state(json!(null));
        update(&mut state, Action::CopyStart);
        let effects = update(&mut state, Action::Copy(Some(CopyWhat::Email)));
        assert_eq!(copied(&effects), None);
        let said = &state.message.as_ref().unwrap().text;
        assert_eq!(said, "Referral ref_1 has no email: nothing copied.");
    }
}
