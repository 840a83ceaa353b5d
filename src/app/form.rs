//! The edit form, built from the schema's editable fields: per field its input, the text it started
//! with, and its error. Errors show when a field is left or on Ctrl-s and clear as soon as it is edited.

use serde_json::{Map, Value};

use super::action::RequestId;
use super::drafts::DraftMark;
use super::text::{TextBuffer, TextEdit};
use crate::domain::schema::{FieldKind, FieldSpec, RefKind, Schema};
use crate::domain::validate::{input_text, parse_input, unkept};
use crate::domain::{Clock, Record};

#[derive(Debug, Clone, PartialEq)]
pub enum FieldInput {
    Text(TextBuffer),
    /// A picker; `None` when the stored value is not one of the choices.
    Choice {
        options: &'static [&'static str],
        selected: Option<usize>,
    },
    /// The id of a referenced resource, chosen in a searchable picker.
    Pick {
        kind: RefKind,
        id: String,
    },
    /// Not editable here: part of the server's value could not be read, and writing the field
    /// would lose it. `why` says which part.
    Locked {
        why: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct FormField {
    pub spec: &'static FieldSpec,
    pub input: FieldInput,
    /// The text the field started with: an untouched field is neither checked nor sent.
    pub original: String,
    pub error: Option<String>,
    /// `error` came from the server: it stays until the field itself is edited, not when the
    /// cursor merely passes through.
    pub error_from_server: bool,
}

impl FormField {
    pub fn text(&self) -> String {
        match &self.input {
            FieldInput::Text(buffer) => buffer.text(),
            FieldInput::Choice { options, selected } => selected
                .map(|i| options[i].to_string())
                .unwrap_or_else(|| self.original.clone()),
            FieldInput::Pick { id, .. } => id.clone(),
            FieldInput::Locked { .. } => self.original.clone(),
        }
    }

    pub fn is_changed(&self) -> bool {
        self.text() != self.original
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Form {
    pub record_id: String,
    pub fields: Vec<FormField>,
    pub focus: usize,
    /// The request sending the reviewed change; the form is read-only until it answers.
    pub saving: Option<RequestId>,
    /// A server message that names no field of the form.
    pub top_error: Option<String>,
    /// Where the crash-safe draft of what is typed here stands (`app::drafts`).
    pub draft: DraftMark,
}

impl Form {
    pub fn open(schema: &'static Schema, record: &Record) -> Form {
        let fields = schema
            .editable_fields()
            .map(|spec| {
                let stored = record.get(spec.key);
                let original = input_text(spec, &stored);
                // What of the server's value the field could not hold: an unreadable part, or a
                // split entry the editor has no line for.
                let lost = record
                    .unreadable_under(spec.key)
                    .next()
                    .map(|u| u.note(spec.key))
                    .or_else(|| unkept(spec, &stored));
                let input = match (spec.kind, lost) {
                    (_, Some(lost)) => FieldInput::Locked {
                        why: format!(
                            "Not editable here: {lost} — saving it would lose what the server holds."
                        ),
                    },
                    (FieldKind::Enum(options), None) => FieldInput::Choice {
                        options,
                        selected: options.iter().position(|o| *o == original),
                    },
                    (FieldKind::JsonObject | FieldKind::Splits, None) => {
                        FieldInput::Text(TextBuffer::multi(&original))
                    }
                    (FieldKind::Reference(kind), None) => FieldInput::Pick {
                        kind,
                        id: original.clone(),
                    },
                    (_, None) => FieldInput::Text(TextBuffer::single(&original)),
                };
                FormField {
                    spec,
                    input,
                    original,
                    error: None,
                    error_from_server: false,
                }
            })
            .collect();
        Form {
            record_id: record.id.clone(),
            fields,
            focus: 0,
            saving: None,
            top_error: None,
            draft: DraftMark::default(),
        }
    }

    /// What is typed: the text of each changed field by its key (a draft keeps exactly this).
    pub fn typed(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .filter(|f| f.is_changed())
            .map(|f| (f.spec.key.to_string(), Value::from(f.text())))
            .collect()
    }

    /// Puts `text` into the field `key` as if it had been typed there, and checks it. False when
    /// the form has no such field or `text` is not one of a picker's choices.
    pub fn restore(&mut self, key: &str, text: &str, clock: &Clock) -> bool {
        let Some(index) = self.fields.iter().position(|f| f.spec.key == key) else {
            return false;
        };
        let field = &mut self.fields[index];
        match &mut field.input {
            FieldInput::Text(buffer) => {
                *buffer = if buffer.is_multiline() {
                    TextBuffer::multi(text)
                } else {
                    TextBuffer::single(text)
                }
            }
            FieldInput::Choice { options, selected } => {
                match options.iter().position(|o| *o == text) {
                    Some(i) => *selected = Some(i),
                    None => return false,
                }
            }
            FieldInput::Pick { id, .. } => *id = text.to_string(),
            FieldInput::Locked { .. } => return false,
        }
        self.top_error = None;
        self.check(index, clock);
        true
    }

    /// Puts text from outside the keyboard (the editor) into field `key` as an edit: an error the
    /// server gave the field goes, and the new text is checked at once.
    pub fn replace_text(&mut self, key: &str, text: &str, clock: &Clock) -> bool {
        if let Some(field) = self.fields.iter_mut().find(|f| f.spec.key == key) {
            field.error_from_server = false;
        }
        self.restore(key, text, clock)
    }

    pub fn focused(&self) -> &FormField {
        &self.fields[self.focus]
    }

    pub fn is_dirty(&self) -> bool {
        self.fields.iter().any(FormField::is_changed)
    }

    fn touched(&mut self) {
        let field = &mut self.fields[self.focus];
        field.error = None;
        field.error_from_server = false;
        self.top_error = None;
    }

    pub fn edit(&mut self, edit: TextEdit) {
        if let FieldInput::Text(buffer) = &mut self.fields[self.focus].input
            && buffer.apply(edit)
        {
            self.touched();
        }
    }

    pub fn pick(&mut self, step: isize) {
        if let FieldInput::Choice { options, selected } = &mut self.fields[self.focus].input {
            let len = options.len() as isize;
            let from = selected
                .map(|s| s as isize)
                .unwrap_or(if step > 0 { -1 } else { 0 });
            *selected = Some((from + step).rem_euclid(len) as usize);
            self.touched();
        }
    }

    /// Picks the next option after the chosen one that starts with `letter`, wrapping around, so
    /// pressing it again goes on to the next such option.
    pub fn pick_letter(&mut self, letter: char) {
        if let FieldInput::Choice { options, selected } = &mut self.fields[self.focus].input {
            let letter = letter.to_ascii_lowercase();
            let start = selected.map_or(0, |s| s + 1);
            let found = (0..options.len())
                .map(|i| (start + i) % options.len())
                .find(|i| options[*i].starts_with(letter));
            if let Some(i) = found {
                *selected = Some(i);
                self.touched();
            }
        }
    }

    /// Sets the focused picked field to `chosen`.
    pub fn set_pick(&mut self, chosen: &str) {
        if let FieldInput::Pick { id, .. } = &mut self.fields[self.focus].input {
            *id = chosen.to_string();
            self.touched();
        }
    }

    /// Moves focus by `step`, checking the field being left.
    pub fn move_focus(&mut self, step: isize, clock: &Clock) {
        let len = self.fields.len() as isize;
        self.focus_on((self.focus as isize + step).rem_euclid(len) as usize, clock);
    }

    /// Gives field `index` the keyboard (when there is one), checking the field it leaves.
    pub fn focus_on(&mut self, index: usize, clock: &Clock) {
        if index < self.fields.len() {
            self.check(self.focus, clock);
            self.focus = index;
        }
    }

    /// Checks one field if it was changed, setting or clearing its error.
    fn check(&mut self, index: usize, clock: &Clock) -> Option<Value> {
        let field = &mut self.fields[index];
        if field.error_from_server {
            return None;
        }
        if !field.is_changed() {
            field.error = None;
            return None;
        }
        match parse_input(field.spec, &field.text(), clock) {
            Ok(value) => {
                field.error = None;
                Some(value)
            }
            Err(message) => {
                field.error = Some(message);
                None
            }
        }
    }

    /// Checks every changed field. All valid: the wanted values of the changed ones. Otherwise focus
    /// moves to the first invalid field and the count of invalid fields is returned.
    pub fn collect(&mut self, clock: &Clock) -> Result<Map<String, Value>, usize> {
        let mut wanted = Map::new();
        for index in 0..self.fields.len() {
            if let Some(value) = self.check(index, clock) {
                wanted.insert(self.fields[index].spec.key.to_string(), value);
            }
        }
        let invalid: Vec<usize> = (0..self.fields.len())
            .filter(|i| self.fields[*i].error.is_some())
            .collect();
        match invalid.first() {
            None => Ok(wanted),
            Some(first) => {
                self.focus = *first;
                Err(invalid.len())
            }
        }
    }

    /// Resets the field `key` to `value` as stored on the server, as if it had never been edited.
    pub fn take_value(&mut self, key: &str, value: &Value) {
        let Some(field) = self.fields.iter_mut().find(|f| f.spec.key == key) else {
            return;
        };
        let text = input_text(field.spec, value);
        field.input = match &field.input {
            FieldInput::Choice { options, .. } => FieldInput::Choice {
                options,
                selected: options.iter().position(|o| *o == text),
            },
            FieldInput::Pick { kind, .. } => FieldInput::Pick {
                kind: *kind,
                id: text.clone(),
            },
            FieldInput::Text(buffer) if buffer.is_multiline() => {
                FieldInput::Text(TextBuffer::multi(&text))
            }
            FieldInput::Text(_) => FieldInput::Text(TextBuffer::single(&text)),
            FieldInput::Locked { why } => FieldInput::Locked { why: why.clone() },
        };
        field.original = text;
        field.error = None;
    }

    /// Puts a server's message under the field it names; false when the form has no such field.
    /// `from_server`: the error stays until the field itself is edited (the server said it);
    /// otherwise it is the console's own check, made again at every review.
    pub fn place_error(&mut self, key: &str, message: &str, from_server: bool) -> bool {
        let named = |f: &FormField| f.spec.key == key || f.spec.body_key() == key;
        match self.fields.iter().position(named) {
            Some(index) => {
                self.fields[index].error = Some(message.to_string());
                self.fields[index].error_from_server = from_server;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Record;
    use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};
    use serde_json::json;

    /// A letter picks the next option starting with it, so pressing it again goes on.
    #[test]
    fn a_letter_again_picks_the_next_option_starting_with_it() {
        let record = Record::sample(json!({"email": "a@x.io"}));
        let mut form = Form::open(&V1_SCHEMA, &record);
        form.fields[0].input = FieldInput::Choice {
            options: &["same_ip", "none", "same_email"],
            selected: None,
        };
        form.focus = 0;
        let chosen = |form: &Form| match form.fields[0].input {
            FieldInput::Choice { selected, .. } => selected,
            _ => None,
        };
        for want in [0, 2, 0] {
            form.pick_letter('S');
            assert_eq!(chosen(&form), Some(want));
        }
        form.pick_letter('x');
        assert_eq!(chosen(&form), Some(0), "no option: nothing changes");
    }

    #[test]
    fn a_server_error_stays_until_its_field_is_edited() {
        let record = Record::sample(json!({"email": "a@x.io", "first_name": "Ada"}));
        let clock = Clock::fixed(
            "2026-11-21T10:00:00Z".parse().unwrap(),
            jiff::tz::TimeZone::UTC,
        );
        let mut form = Form::open(&V1_SCHEMA, &record);
        assert!(form.place_error("email", "already used by another referral", true));
        let email = form
            .fields
            .iter()
            .position(|f| f.spec.key == "email")
            .unwrap();
        form.focus = email;
        form.move_focus(1, &clock);
        form.move_focus(-1, &clock);
        assert!(form.fields[email].error.is_some(), "Tab past it keeps it");
        assert_eq!(
            form.collect(&clock),
            Err(1),
            "and it is not sent again as it is"
        );
        form.edit(TextEdit::Insert('m'));
        assert!(
            form.fields[email].error.is_none(),
            "editing the field clears it"
        );
    }

    #[test]
    fn a_split_with_an_entry_the_editor_cannot_hold_is_locked_and_the_rest_stays_editable() {
        let record = Record::sample(json!({
            "email": "a@x.io",
            "split_details": [
                {"promoter_campaign_id": 1004, "percentage": 20},
                {"promoter_id": 214, "percentage": 40}
            ]
        }));
        let clock = Clock::fixed(
            "2026-11-21T10:00:00Z".parse().unwrap(),
            jiff::tz::TimeZone::UTC,
        );
        let mut form = Form::open(&V2_SCHEMA, &record);
        let at = |form: &Form, key| form.fields.iter().position(|f| f.spec.key == key).unwrap();
        let splits = at(&form, "split_details");
        match &form.fields[splits].input {
            FieldInput::Locked { why } => assert!(
                why.contains("split entry 2 (promoter 214, 40%) has no promoter_campaign_id"),
                "{why}"
            ),
            other => panic!("locked, not {other:?}"),
        }
        form.focus = splits;
        form.edit(TextEdit::Insert('9'));
        form.focus = at(&form, "username");
        form.edit(TextEdit::Insert('a'));
        let wanted = form.collect(&clock).unwrap();
        assert_eq!(wanted.keys().collect::<Vec<_>>(), ["username"]);

        let whole = Record::sample(
            json!({"split_details": [{"promoter_campaign_id": 1004, "percentage": 20}]}),
        );
        let form = Form::open(&V2_SCHEMA, &whole);
        assert!(matches!(
            form.fields[at(&form, "split_details")].input,
            FieldInput::Text(_)
        ));
    }

    #[test]
    fn a_field_with_an_unreadable_part_is_locked_and_nothing_is_sent_for_it() {
        let mut record = Record::sample(json!({"email": "a@x.io", "first_name": "Ada"}));
        record.unreadable.push(crate::domain::record::Unreadable {
            path: "metadata".into(),
            expected: "an object",
            raw: json!("not an object"),
        });
        let clock = Clock::fixed(
            "2026-11-21T10:00:00Z".parse().unwrap(),
            jiff::tz::TimeZone::UTC,
        );
        let mut form = Form::open(&V1_SCHEMA, &record);
        let metadata = form
            .fields
            .iter()
            .position(|f| f.spec.key == "metadata")
            .unwrap();
        assert!(
            matches!(&form.fields[metadata].input, FieldInput::Locked { why } if why.contains("Not editable"))
        );
        form.focus = metadata;
        form.edit(TextEdit::Insert('x'));
        assert!(!form.restore("metadata", "{}", &clock));
        assert!(!form.fields[metadata].is_changed());
        let wanted = form.collect(&clock).unwrap();
        assert!(!wanted.contains_key("metadata"), "{wanted:?}");
    }
}
