//! Form types: the tabs of the product's settings page and the inputs on them. Property inputs
//! come in three shapes, told apart by which key is present (as kiln does):
//! `selector_property_inputs` → selector, else `property_inputs` → collection, else simple.

use super::decode::Obj;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One settings form (a tab).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormType {
    pub name: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Markdown rendered at the top of the form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_inputs: Vec<PropertyInput>,
    /// Checks run (non-blocking) when the form is saved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifiers: Vec<Verifier>,
}

/// An input on a form, pointing at a blueprint through `reference`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyInput {
    /// `.properties.X`, `.JOB.X`, or a bare sub-property name inside a collection input.
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// `text_area` for multi-line secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_type: Option<String>,
    /// Collection sub-inputs: shown as the record's title.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub slug: bool,
    #[serde(default, skip_serializing_if = "InputKind::is_simple")]
    pub kind: InputKind,
}

/// What a property input adds by shape. Externally tagged, as [`super::BlueprintKind`] is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    #[default]
    Simple,
    Selector {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        selector_property_inputs: Vec<SelectorOptionInput>,
    },
    Collection {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        property_inputs: Vec<PropertyInput>,
    },
}

impl InputKind {
    /// Most inputs: left out of the page data.
    pub fn is_simple(&self) -> bool {
        matches!(self, InputKind::Simple)
    }
}

/// The inputs shown when one selector option is chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectorOptionInput {
    /// `.properties.SEL.OPTION` (option template name).
    pub reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_inputs: Vec<PropertyInput>,
}

/// A verifier (install-time or form-level): a named check with its inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verifier {
    pub name: String,
    /// Property references (`.properties.x`) or literals.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignorable: bool,
    /// `always` or `major_or_minor_upgrades`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_on: Option<String>,
}

impl FormType {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<FormType> {
        let o = Obj::new(v, path)?;
        Ok(FormType {
            name: o.required_string("name")?,
            label: o.string_or_empty("label")?,
            description: o.string("description")?,
            markdown: o.string("markdown")?,
            property_inputs: o.list("property_inputs", PropertyInput::decode)?,
            verifiers: o.list("verifiers", Verifier::decode)?,
        })
    }
}

impl PropertyInput {
    /// Sub-inputs of a collection input, or of every selector option (flattened).
    pub fn nested_inputs(&self) -> Vec<&PropertyInput> {
        match &self.kind {
            InputKind::Simple => Vec::new(),
            InputKind::Collection { property_inputs } => property_inputs.iter().collect(),
            InputKind::Selector {
                selector_property_inputs,
            } => selector_property_inputs
                .iter()
                .flat_map(|s| s.property_inputs.iter())
                .collect(),
        }
    }

    pub(crate) fn decode(v: &Value, path: &str) -> Result<PropertyInput> {
        let o = Obj::new(v, path)?;
        let kind = if o.has("selector_property_inputs") {
            InputKind::Selector {
                selector_property_inputs: o
                    .list("selector_property_inputs", SelectorOptionInput::decode)?,
            }
        } else if o.has("property_inputs") {
            InputKind::Collection {
                property_inputs: o.list("property_inputs", PropertyInput::decode)?,
            }
        } else {
            InputKind::Simple
        };
        Ok(PropertyInput {
            reference: o.required_string("reference")?,
            label: o.string("label")?,
            description: o.string("description")?,
            placeholder: o.string("placeholder")?,
            display_type: o.string("display_type")?,
            slug: o.flag("slug")?,
            kind,
        })
    }
}

impl SelectorOptionInput {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<SelectorOptionInput> {
        let o = Obj::new(v, path)?;
        Ok(SelectorOptionInput {
            reference: o.required_string("reference")?,
            label: o.string("label")?,
            description: o.string("description")?,
            property_inputs: o.list("property_inputs", PropertyInput::decode)?,
        })
    }

    /// The option template name: the last segment of the reference.
    pub fn option_name(&self) -> &str {
        self.reference
            .rsplit('.')
            .next()
            .unwrap_or(self.reference.as_str())
    }
}

impl Verifier {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<Verifier> {
        let o = Obj::new(v, path)?;
        let properties = match o.get("properties") {
            Some(Value::Object(m)) => m.clone(),
            // Early tiles list the properties a verifier reads (`- saml_login.sso_url`); the
            // names become keys without settings.
            Some(Value::Array(names)) => names
                .iter()
                .filter_map(super::decode::scalar_text)
                .map(|name| (name, Value::Null))
                .collect(),
            Some(other) => {
                return Err(super::decode::shape(
                    &o.at("properties"),
                    format!("expected a map, found {}", super::decode::kind_of(other)),
                ))
            }
            None => Map::new(),
        };
        Ok(Verifier {
            name: o.required_string("name")?,
            properties,
            ignorable: o.flag("ignorable")?,
            run_on: o.string("run_on")?,
        })
    }
}
