//! `--set field=value` (and `--expect field=value`) for `referee update` and `referee bulk --set`:
//! what a script asks to change, typed into the console's own edit form for a referral, so the
//! form's checks, its companion fields (a status brings `verified_at`, `verified_by`…) and its diff
//! decide what is sent. `field=` empties a field (null, or "" where the backend wants text);
//! `metadata.key=value` sets one key (the value is JSON when it parses, else text), and
//! `metadata.key=` removes it, as deleting the line in the form would.

use serde_json::{Map, Value};

use super::{Driver, Failure};
use crate::app::form::{FieldInput, Form};
use crate::app::update::{Submitted, submit};
use crate::domain::diff::ChangeSet;
use crate::domain::schema::{FieldKind, FieldSpec, Schema};
use crate::domain::validate::parse_input;
use crate::domain::{Clock, Record};

/// One `--set`: a field of the form, or one key of an object field (`metadata.source`).
#[derive(Debug, Clone)]
pub struct Set {
    pub spec: &'static FieldSpec,
    pub sub: Option<String>,
    pub value: String,
}

impl Set {
    /// `metadata.source` or `email`, as the script wrote it.
    pub fn name(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{sub}", self.spec.key),
            None => self.spec.key.to_string(),
        }
    }
}

/// The fields `--set` takes on this backend, for the message about an unknown one.
fn known(schema: &Schema) -> String {
    schema
        .editable_fields()
        .map(|spec| match spec.kind {
            FieldKind::JsonObject => format!("{0}, {0}.KEY", spec.key),
            _ => spec.key.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `field=value` arguments of `flag` (`--set`, `--expect`); an unknown field, a missing
/// `=`, or a field named twice is bad input.
pub fn parse(schema: &'static Schema, flag: &str, args: &[String]) -> Result<Vec<Set>, Failure> {
    let mut sets: Vec<Set> = Vec::new();
    for arg in args {
        let Some((name, value)) = arg.split_once('=') else {
            return Err(Failure::bad(format!(
                "{flag} takes field=value, not `{}` (field= empties a field)",
                super::shown(arg)
            )));
        };
        let name = name.trim();
        let unknown = || {
            Failure::bad(format!(
                "{flag}: unknown field `{}`: the fields this backend lets you change are {}",
                super::shown(name),
                known(schema)
            ))
        };
        // A field by its whole name (`promoter_campaign.id` too), else one key of an object field.
        let whole = schema
            .editable_fields()
            .find(|spec| spec.key == name || spec.body_key() == name);
        let (spec, sub) = match whole {
            Some(spec) => (spec, None),
            None => schema
                .editable_fields()
                .filter(|spec| spec.kind == FieldKind::JsonObject)
                .find_map(|spec| {
                    let sub = name.strip_prefix(spec.key)?.strip_prefix('.')?;
                    Some((spec, Some(sub.to_string())))
                })
                .ok_or_else(unknown)?,
        };
        if sub.as_deref().is_some_and(str::is_empty) {
            return Err(Failure::bad(format!("{flag} {name}: the key is missing")));
        }
        let set = Set {
            spec,
            sub,
            value: value.to_string(),
        };
        if sets.iter().any(|s| s.name() == set.name()) {
            return Err(Failure::bad(format!("{flag} names `{}` twice", set.name())));
        }
        sets.push(set);
    }
    Ok(sets)
}

/// The value a script wrote for one object key: JSON when it parses, else text; None (empty)
/// removes the key.
fn key_value(text: &str) -> Option<Value> {
    if text.is_empty() {
        return None;
    }
    Some(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())))
}

/// `record` as the script says it read it: each `--expect` value in place of the server's, so the
/// change is made against it and the guard refuses it when the server holds something else.
pub fn as_expected(
    record: &Record,
    expects: &[Set],
    clock: &Clock,
) -> Result<Record, Vec<(String, String)>> {
    let mut values = match record.to_json() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let mut errors = Vec::new();
    for expect in expects {
        let key = expect.spec.key.to_string();
        match &expect.sub {
            None => match parse_input(expect.spec, &expect.value, clock) {
                Ok(value) => {
                    values.insert(key, value);
                }
                Err(message) => errors.push((expect.name(), message)),
            },
            Some(sub) => {
                let mut object = match values.get(&key) {
                    Some(Value::Object(object)) => object.clone(),
                    _ => Map::new(),
                };
                match key_value(&expect.value) {
                    Some(value) => object.insert(sub.clone(), value),
                    None => object.remove(sub),
                };
                values.insert(key, Value::Object(object));
            }
        }
    }
    if errors.is_empty() {
        Ok(Record::new(record.id.clone(), values))
    } else {
        Err(errors)
    }
}

/// Types `sets` into the form. What cannot be typed at all (a value that is not one of a
/// picker's choices, a field that is locked) is returned as (field, message); other values are
/// checked by the form itself when it is reviewed.
fn fill(form: &mut Form, sets: &[Set], clock: &Clock) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    for set in sets {
        let Some(field) = form.fields.iter().find(|f| f.spec.key == set.spec.key) else {
            errors.push((set.name(), "not editable on this backend".to_string()));
            continue;
        };
        if let FieldInput::Locked { why } = &field.input {
            errors.push((set.name(), why.clone()));
            continue;
        }
        let text = match &set.sub {
            None => set.value.clone(),
            Some(sub) => {
                let mut object = match parse_input(field.spec, &field.text(), clock) {
                    Ok(Value::Object(object)) => object,
                    _ => Map::new(),
                };
                match key_value(&set.value) {
                    Some(value) => object.insert(sub.clone(), value),
                    None => object.remove(sub),
                };
                serde_json::to_string_pretty(&Value::Object(object)).unwrap_or_default()
            }
        };
        if !form.restore(set.spec.key, &text, clock) {
            let message = parse_input(set.spec, &text, clock)
                .err()
                .unwrap_or_else(|| "this value cannot be set here".to_string());
            errors.push((set.name(), message));
        }
    }
    errors
}

/// What the form made of a script's change to one referral.
pub enum Reviewed {
    /// The change, exactly as the review would show it and the write would send it.
    Change(ChangeSet),
    /// The referral already holds these values: nothing to send.
    Unchanged,
    /// What the form refused, by field: nothing is sent.
    Invalid(Vec<(String, String)>),
}

/// Opens the console's form on `record` (which must be in the state), types `sets` into it and
/// asks for the review (Ctrl-s), then closes it again. The form's own checks decide.
pub fn review(driver: &mut Driver, record: &Record, sets: &[Set]) -> Reviewed {
    let state = driver.state();
    let clock = state.clock.clone();
    let mut form = Form::open(state.schema, record);
    let mut errors = fill(&mut form, sets, &clock);
    state.form = Some(form);
    state.message = None;
    let submitted = submit(state);
    let form = state.form.take();
    if let Some(form) = &form {
        for field in &form.fields {
            if let Some(error) = &field.error
                && !errors
                    .iter()
                    .any(|(key, _)| names_field(key, field.spec.key))
            {
                errors.push((field.spec.key.to_string(), error.clone()));
            }
        }
        if let Some(top) = &form.top_error {
            errors.push(("(form)".to_string(), top.clone()));
        }
    }
    if !errors.is_empty() {
        return Reviewed::Invalid(errors);
    }
    match submitted {
        Submitted::Review(changes) => Reviewed::Change(changes),
        Submitted::Unchanged => Reviewed::Unchanged,
        Submitted::Refused => Reviewed::Invalid(vec![("(form)".to_string(), driver.message())]),
    }
}

/// Whether an error's name (`email`, `metadata.tier`, `promoter_campaign.id`) is about the field
/// `key`.
fn names_field(name: &str, key: &str) -> bool {
    name.strip_prefix(key)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
}

/// "email: Not a valid email address…; status: Must be one of…", for exit 2.
pub fn invalid_text(errors: &[(String, String)]) -> String {
    errors
        .iter()
        .map(|(field, message)| format!("{field}: {}", message.trim_end_matches('.')))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::{V1_SCHEMA, V2_SCHEMA};

    fn one(schema: &'static Schema, arg: &str) -> Result<(String, Option<String>), String> {
        parse(schema, "--set", &[arg.to_string()])
            .map(|sets| (sets[0].spec.key.to_string(), sets[0].sub.clone()))
            .map_err(|failure| failure.message)
    }

    #[test]
    fn a_field_is_named_whole_or_as_one_key_of_an_object() {
        assert_eq!(one(&V1_SCHEMA, "email=a@b.co"), Ok(("email".into(), None)));
        assert_eq!(
            one(&V1_SCHEMA, "metadata.tier=gold"),
            Ok(("metadata".into(), Some("tier".into())))
        );
        assert_eq!(
            one(&V2_SCHEMA, "promoter_campaign.id=5"),
            Ok(("promoter_campaign.id".into(), None)),
            "a dotted field key is the field, not a key inside an object"
        );
        let unknown = one(&V1_SCHEMA, "emial=x").unwrap_err();
        assert!(unknown.contains("unknown field `emial`"), "{unknown}");
        let not_object = one(&V1_SCHEMA, "email.x=1").unwrap_err();
        assert!(not_object.contains("unknown field"), "{not_object}");
        let missing = one(&V1_SCHEMA, "metadata.=1").unwrap_err();
        assert!(missing.contains("the key is missing"), "{missing}");
    }

    #[test]
    fn an_error_is_about_the_field_it_names() {
        assert!(names_field("promoter_campaign.id", "promoter_campaign.id"));
        assert!(names_field("metadata.tier", "metadata"));
        assert!(!names_field("metadata_x", "metadata"));
    }
}
