//! A settings form posted by the browser itself, without the wasm (JavaScript off, or Save
//! clicked before the page hydrated): the form fields' names and encodings, read back into the
//! typed values the server function receives, so both paths end in the same save.
//!
//! The widgets (`components/widgets.rs`) name every control after its field key (the
//! reference, `.properties.coll[0].field` inside collections). Parts of a credential post as
//! `<key>#<part>` (`#identity`, `#password`, `#cert_pem`, `#private_key_pem`); a checkbox and
//! a multi-select post a hidden empty entry first, so a field that was on the page but left
//! unchecked still says so. Only what differs from the stored value counts as changed, as in the
//! browser, where only what the operator touched is sent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tiles::forms::Input;
use tiles::metadata::PropertyType;

/// Hidden fields of the settings form.
pub const FORM_FIELD: &str = "_form";
pub const VERSION_FIELD: &str = "_config_version";
/// What the page loaded for the form's fields (JSON, credentials masked as the page had them):
/// a posted field counts as changed when it differs from this, not from what is stored now, so
/// a save that another operator's overtook does not carry their values back unnoticed.
pub const LOADED_FIELD: &str = "_loaded";

/// A refused post, shown again by the page: what the operator sent, on top of the stored
/// values, with the findings and the message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PostedForm {
    pub form: String,
    /// The changed values the post carried.
    pub values: BTreeMap<String, Value>,
    pub errors: BTreeMap<String, Vec<String>>,
    pub message: String,
    /// The configuration version to save against next (the current one after a stale refusal).
    pub config_version: Option<i64>,
    /// After a stale refusal: what the other operator changed, listed by the page's conflict
    /// panel as after a refused save in the browser.
    #[serde(default)]
    pub changes: Vec<crate::backend::FieldChange>,
}

/// The posted values of `inputs` that differ from `stored`.
pub fn changed_values(
    inputs: &[Input],
    posted: &[(String, String)],
    stored: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for input in inputs {
        if !input.configurable {
            continue;
        }
        if let Some(value) = read(
            input,
            &input.reference,
            posted,
            stored.get(&input.reference),
        ) {
            if !same(&value, stored.get(&input.reference)) {
                out.insert(input.reference.clone(), value);
            }
        }
        // The chosen selector option's fields (the only ones on the page).
        for choice in &input.selector_options {
            out.extend(changed_values(&choice.inputs, posted, stored));
        }
    }
    out
}

/// Whether a posted value is what is stored (an unset value reads as `null`).
fn same(value: &Value, stored: Option<&Value>) -> bool {
    value == stored.unwrap_or(&Value::Null)
}

fn all<'a>(posted: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    posted
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn last<'a>(posted: &'a [(String, String)], name: &str) -> Option<&'a str> {
    posted
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The value field `key` (of type `input`) posted, `None` when it was not on the page or left
/// as it was (an untouched credential).
fn read(
    input: &Input,
    key: &str,
    posted: &[(String, String)],
    stored: Option<&Value>,
) -> Option<Value> {
    let part = |name: &str| last(posted, &format!("{key}#{name}"));
    match &input.property_type {
        PropertyType::Boolean => last(posted, key).map(|v| json!(v == "true")),
        PropertyType::Integer | PropertyType::Port => {
            last(posted, key).map(|typed| match typed.trim().replace('_', "").parse::<i64>() {
                Ok(n) => json!(n),
                Err(_) if typed.trim().is_empty() => unset_or_blank(stored),
                Err(_) => Value::String(typed.to_owned()),
            })
        }
        PropertyType::DropdownSelect => last(posted, key).map(|picked| {
            input
                .options
                .iter()
                .find(|c| option_key(&c.value) == picked)
                .map(|c| c.value.clone())
                .unwrap_or(Value::Null)
        }),
        PropertyType::MultiSelectOptions | PropertyType::ServiceNetworkAzMultiSelect => {
            let mut entries = all(posted, key).peekable();
            entries.peek()?;
            let picked: Vec<Value> = entries
                .filter(|v| !v.is_empty())
                .map(|picked| {
                    input
                        .options
                        .iter()
                        .find(|c| option_key(&c.value) == picked)
                        .map(|c| c.value.clone())
                        .unwrap_or_else(|| Value::String(picked.to_owned()))
                })
                .collect();
            Some(Value::Array(picked))
        }
        PropertyType::VmTypeDropdown
        | PropertyType::DiskTypeDropdown
        | PropertyType::ServiceNetworkAzSingleSelect
        | PropertyType::StemcellSelector => last(posted, key).map(|picked| {
            if picked.is_empty() {
                Value::Null
            } else {
                Value::String(picked.to_owned())
            }
        }),
        PropertyType::Secret => {
            let typed = last(posted, key)?;
            (!typed.is_empty()).then(|| json!({ "secret": typed }))
        }
        PropertyType::SimpleCredentials | PropertyType::SaltedCredentials => record(
            stored,
            &[
                ("identity", part("identity")),
                ("password", part("password")),
            ],
        ),
        PropertyType::RsaCertCredentials => record(
            stored,
            &[
                ("cert_pem", part("cert_pem")),
                ("private_key_pem", part("private_key_pem")),
            ],
        ),
        PropertyType::RsaPkeyCredentials => {
            record(stored, &[("private_key_pem", part("private_key_pem"))])
        }
        PropertyType::Selector => last(posted, key).map(|v| Value::String(v.to_owned())),
        PropertyType::Collection => {
            let records = stored
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut changed = false;
            let records: Vec<Value> = records
                .into_iter()
                .enumerate()
                .map(|(index, record)| {
                    let mut fields = record.as_object().cloned().unwrap_or_default();
                    for sub in &input.record_inputs {
                        let field_key = format!("{key}[{index}].{}", sub.reference);
                        let before = fields.get(&sub.reference).cloned();
                        if let Some(value) = read(sub, &field_key, posted, before.as_ref()) {
                            if !same(&value, before.as_ref()) {
                                changed = true;
                                fields.insert(sub.reference.clone(), value);
                            }
                        }
                    }
                    Value::Object(fields)
                })
                .collect();
            changed.then_some(Value::Array(records))
        }
        _ => last(posted, key).map(|typed| {
            if typed.is_empty() {
                unset_or_blank(stored)
            } else {
                Value::String(typed.to_owned())
            }
        }),
    }
}

/// An emptied field: unchanged when nothing was stored (the page showed it empty), else empty.
fn unset_or_blank(stored: Option<&Value>) -> Value {
    match stored {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) if s.is_empty() => Value::String(String::new()),
        Some(_) => Value::Null,
    }
}

/// A credential record: the typed parts over the stored ones (masked as `REDACTED`, which the
/// save keeps as stored); `None` when nothing was typed, so a set credential stays as it is.
fn record(stored: Option<&Value>, parts: &[(&str, Option<&str>)]) -> Option<Value> {
    if parts
        .iter()
        .all(|(_, typed)| typed.is_none_or(str::is_empty))
    {
        return None;
    }
    let mut fields: Map<String, Value> = stored
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (name, typed) in parts {
        match typed {
            Some(text) if !text.is_empty() => {
                fields.insert((*name).to_owned(), Value::String((*text).to_owned()));
            }
            // Left empty: a stored part stays as it is (the mask keeps its stored value on save).
            _ => {
                fields
                    .entry((*name).to_owned())
                    .or_insert_with(|| Value::String(String::new()));
            }
        }
    }
    Some(Value::Object(fields))
}

/// How a choice value is written in an `<option value>` (and in the post).
pub fn option_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
