//! Small helpers that read the loaded YAML tree into the typed model while tracking the YAML
//! path, so that a wrong shape is reported as `job_types[2].templates[0].name: expected …`.
//!
//! Leniency follows Ops Manager: unknown keys are ignored, `null` counts as absent, scalars are
//! accepted for string fields (YAML 1.1 may have turned `version: 15` into a number), and
//! boolean fields accept `y/n/yes/no/on/off/true/false` text in any case as well as booleans.

use crate::error::{Error, Result};
use crate::yaml;
use serde_json::{Map, Value};

/// A YAML map being decoded, with its path for error messages.
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: String,
}

pub(crate) fn shape(path: &str, message: impl Into<String>) -> Error {
    Error::Shape {
        path: if path.is_empty() {
            "(document)".to_string()
        } else {
            path.to_string()
        },
        message: message.into(),
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Text of a scalar as written: strings as they are, numbers printed back (the YAML loader keeps
/// non-round-tripping numbers like `1709.10` as strings), booleans as `true`/`false`.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Boolean from a boolean or from YAML 1.1 boolean words (including `y`/`n`).
pub(crate) fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" | "true" | "on" => Some(true),
            "n" | "no" | "false" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Integer from a number or from digits written as a string (`'8_192'`, `"1024"`).
pub(crate) fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => match yaml::resolve_plain(s.trim()) {
            Value::Number(n) => n.as_i64(),
            _ => None,
        },
        _ => None,
    }
}

impl<'a> Obj<'a> {
    pub fn new(v: &'a Value, path: &str) -> Result<Obj<'a>> {
        match v {
            Value::Object(map) => Ok(Obj {
                map,
                path: path.to_string(),
            }),
            other => Err(shape(
                path,
                format!("expected a map, found {}", kind_of(other)),
            )),
        }
    }

    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value of `key`, `None` when absent or null.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn string(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => scalar_text(v).map(Some).ok_or_else(|| {
                shape(
                    &self.at(key),
                    format!("expected a string, found {}", kind_of(v)),
                )
            }),
        }
    }

    /// A string that must be present (a name, a reference).
    pub fn required_string(&self, key: &str) -> Result<String> {
        self.string(key)?
            .ok_or_else(|| shape(&self.at(key), "is required"))
    }

    /// A string the model keeps even when missing (empty); lint reports the absence.
    pub fn string_or_empty(&self, key: &str) -> Result<String> {
        Ok(self.string(key)?.unwrap_or_default())
    }

    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => bool_of(v).map(Some).ok_or_else(|| {
                shape(
                    &self.at(key),
                    format!("expected a boolean, found {}", kind_of(v)),
                )
            }),
        }
    }

    pub fn flag(&self, key: &str) -> Result<bool> {
        Ok(self.bool(key)?.unwrap_or(false))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => int_of(v).map(Some).ok_or_else(|| {
                shape(
                    &self.at(key),
                    format!("expected an integer, found {}", kind_of(v)),
                )
            }),
        }
    }

    /// YAML text fields (`manifest`, `consumes`, `runtime_config`): normally a string; a map or
    /// list written inline is accepted and printed back as YAML text.
    pub fn text(&self, key: &str) -> Result<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ (Value::Object(_) | Value::Array(_))) => Ok(Some(yaml::to_yaml_string(v))),
            Some(v) => Ok(scalar_text(v)),
        }
    }

    pub fn value(&self, key: &str) -> Option<Value> {
        self.get(key).cloned()
    }

    /// A list of items decoded by `f`; absent or null is an empty list.
    pub fn list<T>(&self, key: &str, f: impl Fn(&'a Value, &str) -> Result<T>) -> Result<Vec<T>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| f(item, &format!("{}[{i}]", self.at(key))))
                .collect(),
            Some(other) => Err(shape(
                &self.at(key),
                format!("expected a list, found {}", kind_of(other)),
            )),
        }
    }

    /// A list of scalars as strings (errand `instances`, zero_if `property_values`); a single
    /// scalar is accepted as a one-element list.
    pub fn string_list(&self, key: &str) -> Result<Vec<String>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, v)| !v.is_null())
                .map(|(i, v)| {
                    scalar_text(v).ok_or_else(|| {
                        shape(
                            &format!("{}[{i}]", self.at(key)),
                            format!("expected a string, found {}", kind_of(v)),
                        )
                    })
                })
                .collect(),
            Some(v) => scalar_text(v).map(|s| vec![s]).ok_or_else(|| {
                shape(
                    &self.at(key),
                    format!("expected a list of strings, found {}", kind_of(v)),
                )
            }),
        }
    }
}
