//! Job types: the instance groups of the product's BOSH deployment, with their BOSH jobs
//! (`templates`), sizing (`instance_definition`, `resource_definitions`) and job-level
//! properties.

use super::decode::{int_of, kind_of, shape, Obj};
use super::property_blueprint::{
    decode_integer_constraints, IntegerConstraints, PropertyBlueprint,
};
use super::ProductVersionRequirement;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One instance group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobType {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<JobTemplate>,
    /// Legacy job-level release name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// Job-type level manifest snippet (YAML text with expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// Ignored by modern Ops Manager; kept for completeness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub static_ip: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_ip: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<MaxInFlight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub canaries: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub single_az_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_stemcell: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_internet_connected: Option<bool>,
    /// A lifecycle errand instance group.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub errand: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_post_deploy_errand_default: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_pre_delete_errand_default: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_definition: Option<InstanceDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_definitions: Vec<ResourceDefinition>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_blueprints: Vec<PropertyBlueprint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_product_versions: Vec<ProductVersionRequirement>,
}

/// A BOSH job placed on the instance group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobTemplate {
    pub name: String,
    pub release: String,
    /// Properties of this BOSH job (YAML text with expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// BOSH link specs (YAML text, may contain expressions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provides: Option<String>,
}

/// `max_in_flight`: a count or a percentage. Other text is kept so lint can report it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxInFlight {
    Count(i64),
    /// `"N%"`, N as written.
    Percent(u32),
    Other(String),
}

impl MaxInFlight {
    fn decode(v: &Value) -> MaxInFlight {
        if let Some(n) = int_of(v) {
            return MaxInFlight::Count(n);
        }
        let text = super::decode::scalar_text(v).unwrap_or_default();
        match text
            .trim()
            .strip_suffix('%')
            .map(|n| n.trim().parse::<u32>())
        {
            Some(Ok(p)) => MaxInFlight::Percent(p),
            _ => MaxInFlight::Other(text),
        }
    }
}

/// Instance count definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceDefinition {
    pub name: String,
    pub property_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configurable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<IntegerConstraints>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zero_if: Option<ZeroIf>,
}

/// Forces 0 instances when a property (usually a selector) has one of the given values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZeroIf {
    pub property_reference: String,
    /// `property_value` and `property_values` merged into one list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_values: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_manual_selection_of_zero: bool,
}

/// A VM resource minimum or default (`ram`, `ephemeral_disk`, `persistent_disk`, `cpu`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDefinition {
    pub name: String,
    pub property_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configurable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<IntegerConstraints>,
}

impl JobType {
    /// A job-level blueprint by name.
    pub fn property_blueprint(&self, name: &str) -> Option<&PropertyBlueprint> {
        self.property_blueprints.iter().find(|b| b.name == name)
    }

    /// A BOSH job of this instance group by name.
    pub fn template(&self, name: &str) -> Option<&JobTemplate> {
        self.templates.iter().find(|t| t.name == name)
    }

    /// A resource definition by name (`ram`, `persistent_disk`, …).
    pub fn resource_definition(&self, name: &str) -> Option<&ResourceDefinition> {
        self.resource_definitions.iter().find(|r| r.name == name)
    }

    pub(crate) fn decode(v: &Value, path: &str) -> Result<JobType> {
        let o = Obj::new(v, path)?;
        let instance_definition = match o.get("instance_definition") {
            Some(d) => Some(InstanceDefinition::decode(d, &o.at("instance_definition"))?),
            // metadata_version < 1.7 wrote a one-element list `instance_definitions`.
            None => match o.get("instance_definitions") {
                Some(Value::Array(items)) => match items.first() {
                    Some(d) => Some(InstanceDefinition::decode(
                        d,
                        &format!("{}[0]", o.at("instance_definitions")),
                    )?),
                    None => None,
                },
                _ => None,
            },
        };
        let release = o.string("release")?;
        let mut templates = o.list("templates", JobTemplate::decode)?;
        // Before metadata 1.5 a job type named its BOSH jobs `template: NAME` (or a list of
        // names) with the release beside them (`release: R`); Ops Manager still deploys such
        // tiles.
        if o.get("templates").is_none() {
            let names: Vec<String> = match o.get("template") {
                Some(Value::String(name)) => vec![name.clone()],
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            templates.extend(names.into_iter().map(|name| JobTemplate {
                name,
                release: release.clone().unwrap_or_default(),
                manifest: None,
                consumes: None,
                provides: None,
            }));
        }
        Ok(JobType {
            name: o.required_string("name")?,
            resource_label: o.string("resource_label")?,
            label: o.string("label")?,
            description: o.string("description")?,
            templates,
            release,
            manifest: o.text("manifest")?,
            static_ip: o.int("static_ip")?,
            dynamic_ip: o.int("dynamic_ip")?,
            max_in_flight: o.get("max_in_flight").map(MaxInFlight::decode),
            canaries: o.int("canaries")?,
            serial: o.bool("serial")?,
            single_az_only: o.flag("single_az_only")?,
            use_stemcell: o.string("use_stemcell")?,
            default_internet_connected: o.bool("default_internet_connected")?,
            errand: o.flag("errand")?,
            run_post_deploy_errand_default: o.bool("run_post_deploy_errand_default")?,
            run_pre_delete_errand_default: o.bool("run_pre_delete_errand_default")?,
            instance_definition,
            resource_definitions: o.list("resource_definitions", ResourceDefinition::decode)?,
            property_blueprints: o.list("property_blueprints", PropertyBlueprint::decode)?,
            requires_product_versions: o.list(
                "requires_product_versions",
                ProductVersionRequirement::decode,
            )?,
        })
    }
}

impl JobTemplate {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<JobTemplate> {
        let o = Obj::new(v, path)?;
        Ok(JobTemplate {
            name: o.required_string("name")?,
            release: o.string_or_empty("release")?,
            manifest: o.text("manifest")?,
            consumes: o.text("consumes")?,
            provides: o.text("provides")?,
        })
    }
}

fn optional_int_constraints(o: &Obj<'_>) -> Result<Option<IntegerConstraints>> {
    match o.get("constraints") {
        None => Ok(None),
        Some(c @ Value::Object(_)) => {
            Ok(Some(decode_integer_constraints(c, &o.at("constraints"))?))
        }
        Some(other) => Err(shape(
            &o.at("constraints"),
            format!(
                "expected a map of integer constraints, found {}",
                kind_of(other)
            ),
        )),
    }
}

impl InstanceDefinition {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<InstanceDefinition> {
        let o = Obj::new(v, path)?;
        let zero_if = match o.get("zero_if") {
            None => None,
            Some(z) => {
                let z = Obj::new(z, &o.at("zero_if"))?;
                let mut values = z.string_list("property_value")?;
                values.extend(z.string_list("property_values")?);
                Some(ZeroIf {
                    property_reference: z.string_or_empty("property_reference")?,
                    property_values: values,
                    allow_manual_selection_of_zero: z.flag("allow_manual_selection_of_zero")?,
                })
            }
        };
        Ok(InstanceDefinition {
            name: o.string("name")?.unwrap_or_else(|| "instances".to_string()),
            property_type: o.string("type")?.unwrap_or_else(|| "integer".to_string()),
            label: o.string("label")?,
            configurable: o.flag("configurable")?,
            default: o.int("default")?,
            constraints: optional_int_constraints(&o)?,
            zero_if,
        })
    }
}

impl ResourceDefinition {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<ResourceDefinition> {
        let o = Obj::new(v, path)?;
        Ok(ResourceDefinition {
            name: o.required_string("name")?,
            property_type: o.string("type")?.unwrap_or_else(|| "integer".to_string()),
            label: o.string("label")?,
            configurable: o.flag("configurable")?,
            default: o.int("default")?,
            constraints: optional_int_constraints(&o)?,
        })
    }
}
