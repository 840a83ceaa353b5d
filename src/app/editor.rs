//! Editing a multi-line form field (metadata) in the user's `$VISUAL` / `$EDITOR`: Ctrl-e asks the
//! runtime to suspend the console and open it (`Effect::OpenEditor`); the text that comes back
//! goes into the field as if typed there, and is checked at once, so a bad edit keeps its text
//! with the error under the field. The runtime side is `runtime::editor`.

use super::action::Effect;
use super::form::FieldInput;
use super::state::{Level, State};

/// Ctrl-e in the form: the focused field's text, pretty-printed when it is JSON, to the editor.
pub fn open(state: &mut State) -> Vec<Effect> {
    let Some(form) = state.form.as_ref() else {
        return Vec::new();
    };
    let field = form.focused();
    let FieldInput::Text(buffer) = &field.input else {
        return Vec::new();
    };
    if !buffer.is_multiline() {
        return Vec::new();
    }
    let text = buffer.text();
    let text = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|json| serde_json::to_string_pretty(&json).ok())
        .unwrap_or(text);
    vec![Effect::OpenEditor {
        id: form.record_id.clone(),
        field: field.spec.key,
        text,
    }]
}

/// The editor returned: its text replaces the field's, checked like typing it.
pub fn returned(state: &mut State, id: &str, field: &str, result: Result<String, String>) {
    let clock = state.clock.clone();
    let text = match result {
        Ok(text) => text,
        Err(why) => return state.say(Level::Error, why),
    };
    let Some(form) = state.form.as_mut().filter(|f| f.record_id == id) else {
        return state.say(
            Level::Error,
            "The form was closed while the editor was open: the edit is not used.",
        );
    };
    // An editor ends a file with a newline (CRLF on some); the field's text does not, and keeps
    // no carriage returns.
    let text = text.replace("\r\n", "\n");
    let text = text.strip_suffix('\n').unwrap_or(&text);
    if !form.replace_text(field, text, &clock) {
        return state.say(Level::Error, "That field cannot take the edited text.");
    }
    let error = form
        .fields
        .iter()
        .find(|f| f.spec.key == field)
        .and_then(|f| f.error.clone());
    match error {
        Some(_) => state.say(
            Level::Error,
            "The edited text is not valid: fix what is marked in red (Ctrl-e edits it again).",
        ),
        None => state.say(Level::Info, "Edited text put in the field."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::action::Action;
    use crate::app::{form::Form, update};
    use crate::domain::Record;
    use serde_json::json;

    /// A v1 form on ref_1 with its metadata field focused.
    fn state() -> State {
        let mut state = State::sample();
        let fields = json!({"first_name": "Ada", "email": "a@x.io", "metadata": {"a": 1}});
        let record = Record::new("ref_1", fields.as_object().unwrap().clone());
        state.append_records(vec![record.clone()]);
        let mut form = Form::open(state.schema, &record);
        form.focus = form
            .fields
            .iter()
            .position(|f| f.spec.key == "metadata")
            .unwrap();
        state.form = Some(form);
        state
    }

    fn metadata(state: &State) -> (String, Option<String>) {
        let form = state.form.as_ref().unwrap();
        let field = form
            .fields
            .iter()
            .find(|f| f.spec.key == "metadata")
            .unwrap();
        (field.text(), field.error.clone())
    }

    #[test]
    fn ctrl_e_opens_the_editor_on_the_pretty_json_of_a_multi_line_field_only() {
        let mut state = state();
        let effects = update(&mut state, Action::FormOpenEditor);
        let text = "{\n  \"a\": 1\n}".to_string();
        let want = Effect::OpenEditor {
            id: "ref_1".into(),
            field: "metadata",
            text,
        };
        assert_eq!(effects, vec![want]);
        state.form.as_mut().unwrap().focus = 0;
        assert_eq!(
            update(&mut state, Action::FormOpenEditor),
            vec![],
            "first name: one line"
        );
    }

    /// One row per rule: what the editor returned, the field's text and error after, the message.
    #[test]
    fn the_returned_text_goes_into_the_field_and_is_checked() {
        let edited = |text: &str| Action::Edited {
            id: "ref_1".into(),
            field: "metadata",
            result: Ok(text.into()),
        };
        let cases: &[(Action, &str, bool, &str)] = &[
            (
                edited("{\"b\": 2}\n"),
                "{\"b\": 2}",
                false,
                "Edited text put in the field.",
            ),
            (
                edited("{\r\n  \"b\": 2\r\n}\r\n"),
                "{\n  \"b\": 2\n}",
                false,
                "Edited text put in the field.",
            ),
            (
                edited("{\"b\": \n"),
                "{\"b\": ",
                true,
                "The edited text is not valid: fix what is marked in red (Ctrl-e edits it again).",
            ),
            (
                Action::Edited {
                    id: "ref_1".into(),
                    field: "metadata",
                    result: Err("Could not start the editor `nope`".into()),
                },
                "{\n  \"a\": 1\n}",
                false,
                "Could not start the editor `nope`",
            ),
            (
                Action::Edited {
                    id: "ref_2".into(),
                    field: "metadata",
                    result: Ok("{}".into()),
                },
                "{\n  \"a\": 1\n}",
                false,
                "The form was closed while the editor was open: the edit is not used.",
            ),
        ];
        for (action, text, has_error, said) in cases {
            let mut state = state();
            let before = metadata(&state).0;
            update(&mut state, action.clone());
            let (after, error) = metadata(&state);
            let want = if text.is_empty() {
                before
            } else {
                text.to_string()
            };
            assert_eq!(after, want, "{action:?}");
            assert_eq!(error.is_some(), *has_error, "{action:?}: {error:?}");
            assert_eq!(state.message.as_ref().unwrap().text, *said, "{action:?}");
        }
    }
}
