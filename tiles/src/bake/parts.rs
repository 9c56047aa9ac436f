//! Part files (`forms/*.yml`, `properties/*.yml`, …) read into named parts.
//!
//! As kiln reads them: a file holds one part (a map) or a list of parts; a part is named by
//! its `alias` if it has one (the key is then removed) or else by its `name`. Before the YAML
//! is read, `{{ tile }}` in the file is replaced by the `tile_name` variable in lower case
//! (kiln pre-processes part files with Go's default `{{ }}` delimiters and that one function).
//! Unlike kiln, which lets a later file silently replace a part of the same name, two parts
//! with one name are refused: the base file could not say which it means.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{PartKind, SourceFile};
use crate::{Error, Result};

/// One part: its value and the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Part {
    pub file: String,
    pub value: Value,
}

/// The parts of one kind by name.
pub(super) type Parts = BTreeMap<String, Part>;

/// Reads the part files of one kind.
pub(super) fn read(kind: PartKind, files: &[SourceFile], tile_name: Option<&str>) -> Result<Parts> {
    let mut parts = Parts::new();
    for file in files {
        let text = preprocess(&file.text, &file.path, tile_name)?;
        let value = crate::yaml::load(&text).map_err(|e| Error::Invalid {
            field: file.path.clone(),
            message: format!("not readable YAML: {e}"),
        })?;
        let items = match value {
            Value::Array(items) => items,
            map @ Value::Object(_) => vec![map],
            other => {
                return Err(Error::Invalid {
                    field: file.path.clone(),
                    message: format!(
                        "a {} file holds a map or a list of maps, not {}",
                        kind.noun(),
                        kind_of(&other)
                    ),
                })
            }
        };
        for item in items {
            let mut map = match item {
                Value::Object(map) => map,
                other => {
                    return Err(Error::Invalid {
                        field: file.path.clone(),
                        message: format!(
                            "each {} must be a map, found {}",
                            kind.noun(),
                            kind_of(&other)
                        ),
                    })
                }
            };
            let name = match map.shift_remove("alias") {
                Some(Value::String(alias)) => alias,
                Some(other) => {
                    return Err(Error::Invalid {
                        field: file.path.clone(),
                        message: format!("`alias` must be a string, found {}", kind_of(&other)),
                    })
                }
                None => match map.get("name") {
                    Some(Value::String(name)) => name.clone(),
                    _ => {
                        return Err(Error::Invalid {
                            field: file.path.clone(),
                            message: format!(
                                "a {} needs a string `name` (or `alias`) so the base file can refer to it",
                                kind.noun()
                            ),
                        })
                    }
                },
            };
            if let Some(first) = parts.get(&name) {
                return Err(Error::Invalid {
                    field: file.path.clone(),
                    message: format!(
                        "two {}s are named `{name}`: here and in {} (rename one or give it an `alias`)",
                        kind.noun(),
                        first.file
                    ),
                });
            }
            parts.insert(
                name,
                Part {
                    file: file.path.clone(),
                    value: Value::Object(map),
                },
            );
        }
    }
    Ok(parts)
}

/// kiln's pre-processing of part files: `{{ tile }}` (also `{{tile}}`, `{{- tile -}}`) becomes
/// the tile name in lower case; any other `{{ }}` action is refused, as Go's template would.
fn preprocess(text: &str, file: &str, tile_name: Option<&str>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let line = text.len() - rest.len() + start;
        let line = text[..line].matches('\n').count() + 1;
        let fail = |message: String| Error::Invalid {
            field: format!("{file} line {line}"),
            message,
        };
        let mut before = &rest[..start];
        let close = rest[start..]
            .find("}}")
            .ok_or_else(|| fail("unclosed `{{`".into()))?;
        let mut body = &rest[start + 2..start + close];
        let mut after = &rest[start + close + 2..];
        if let Some(b) = body.strip_prefix("- ") {
            before = before.trim_end();
            body = b;
        }
        if let Some(b) = body.strip_suffix(" -") {
            after = after.trim_start();
            body = b;
        }
        out.push_str(before);
        match body.trim() {
            "tile" => {
                let name = tile_name.ok_or_else(|| {
                    fail("`{{ tile }}` needs the variable `tile_name` (--variable tile_name=NAME)".into())
                })?;
                out.push_str(&name.to_lowercase());
            }
            other => {
                return Err(fail(format!(
                    "`{{{{{other}}}}}`: part files may use only `{{{{ tile }}}}` (kiln reads them as Go templates with that one function)"
                )))
            }
        }
        rest = after;
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}
