//! What a refused stale save tells its operator, field by field.
//!
//! A save names the configuration version it started from; when another save came first the
//! write is refused ([`Error::Stale`](crate::Error::Stale)) and nothing is stored. To say *what*
//! changed, the change log (`config_changes`: per version, the references a save changed and
//! who saved) is read from the operator's version on, and each changed reference of interest is
//! reported with its **current** value — redacted for credentials, which are never shown — and
//! who changed it last.
//!
//! The log keeps no old values. The value the operator *started from* is the one their page
//! loaded, so the UI sends the loaded values of the form with its save, and they are echoed
//! beside the current ones (a field changed and changed back is then not reported). When the
//! log no longer reaches back to the operator's version (it keeps 200 saves per product), the
//! loaded values are compared with the stored ones instead.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use tiles::forms::{FormTree, Input};
use tiles::metadata::{BlueprintKind, ProductTemplate};
use tiles::properties::types;

use super::Products;
use crate::Result;

/// One field another operator changed since the version a save started from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub reference: String,
    /// Who saved it last (the change log's user), or `null` when the log no longer says.
    pub changed_by: Option<String>,
    /// The configuration version that last changed it.
    pub version: Option<i64>,
    /// The stored value now; credential fields read `***`.
    pub value: Value,
    /// A credential: its value is not shown, only that it changed.
    pub credential: bool,
    /// The value the operator's page loaded (only when the save sent it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_from: Option<Value>,
}

/// Every reference a form shows: its inputs and the inputs of each selector option.
pub fn form_references(template: &ProductTemplate, form: &str) -> Vec<String> {
    fn walk(inputs: &[Input], out: &mut Vec<String>) {
        for input in inputs {
            out.push(input.reference.clone());
            for choice in &input.selector_options {
                walk(&choice.inputs, out);
            }
        }
    }
    let tree = FormTree::build(template);
    let mut out = Vec::new();
    if let Some(f) = tree.form(form) {
        walk(&f.inputs, &mut out);
    }
    out
}

/// A value as a browser may see it: credential fields masked, collection records included.
pub fn redacted(template: &ProductTemplate, reference: &str, value: &Value) -> (Value, bool) {
    let Some(found) = template.property(reference) else {
        return (Value::String("***".into()), true);
    };
    let blueprint = found.blueprint;
    let type_name = blueprint.property_type.as_str();
    if types::is_credential(type_name) {
        return (types::redact(type_name, value), true);
    }
    let masked = match (&blueprint.kind, value) {
        (
            BlueprintKind::Collection {
                property_blueprints,
                ..
            },
            Value::Array(records),
        ) => Value::Array(
            records
                .iter()
                .map(|record| match record {
                    Value::Object(fields) => Value::Object(
                        fields
                            .iter()
                            .map(|(name, field)| {
                                let shown = property_blueprints
                                    .iter()
                                    .find(|b| &b.name == name)
                                    .map(|b| types::redact(b.property_type.as_str(), field))
                                    .unwrap_or_else(|| field.clone());
                                (name.clone(), shown)
                            })
                            .collect::<Map<_, _>>(),
                    ),
                    other => other.clone(),
                })
                .collect(),
        ),
        (_, other) => other.clone(),
    };
    (masked, false)
}

/// Two values the same for the operator: collections compared without the generated record
/// `guid`s the page does not hold.
fn same(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| match i {
                        Value::Object(m) => Value::Object(
                            m.iter()
                                .filter(|(k, _)| k.as_str() != "guid")
                                .map(|(k, v)| (k.clone(), v.clone()))
                                .collect(),
                        ),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    strip(a) == strip(b)
}

impl Products {
    /// The fields among `references` that saves after version `since` changed, in `references`
    /// order, each with its current (redacted) value and who changed it. `started_from` holds the
    /// values the operator's page loaded (redacted as the page received them), when known.
    pub async fn field_changes(
        &self,
        guid: &str,
        since: i64,
        references: &[String],
        started_from: Option<&BTreeMap<String, Value>>,
    ) -> Result<Vec<FieldChange>> {
        let product = self.staged_product(guid).await?;
        let records = self
            .store()
            .products()
            .change_records_since(&product.guid, since)
            .await?;
        // The log reaches back to `since` when it holds the save right after it.
        let log_complete = records.first().is_some_and(|r| r.version == since + 1)
            || product.config_version <= since;
        let mut last_change: BTreeMap<&str, (i64, &str)> = BTreeMap::new();
        for record in &records {
            for reference in &record.changed {
                last_change.insert(reference, (record.version, &record.changed_by));
            }
        }
        let mut staged = product.settings.staged.clone();
        tiles::properties::defaults::apply_defaults(&product.template, &mut staged, &[]);
        let mut out = Vec::new();
        for reference in references {
            let stored = staged
                .properties
                .get(reference)
                .cloned()
                .unwrap_or(Value::Null);
            let (value, credential) = redacted(&product.template, reference, &stored);
            let loaded = started_from.and_then(|m| m.get(reference)).cloned();
            let logged = last_change.get(reference.as_str()).copied();
            let differs = |loaded: &Option<Value>| match loaded {
                // A credential reads `***` before and after: only the log can tell.
                _ if credential => false,
                Some(l) => !same(l, &value),
                None => !value.is_null(),
            };
            let report = match logged {
                // Changed, but back to what the operator started from: nothing to tell.
                Some(_) if !credential && started_from.is_some() => differs(&loaded),
                Some(_) => true,
                None => !log_complete && started_from.is_some() && differs(&loaded),
            };
            if report {
                out.push(FieldChange {
                    reference: reference.clone(),
                    changed_by: logged.map(|(_, by)| by.to_owned()),
                    version: logged.map(|(v, _)| v),
                    value,
                    credential,
                    started_from: loaded,
                });
            }
        }
        Ok(out)
    }
}
