//! Property blueprints: the typed declarations of everything an operator (or Ops Manager's
//! generator) gives a value to. Decoded by shape, as kiln does: `type: selector` carries
//! `option_templates`, `type: collection` carries sub-blueprints and named manifests, every
//! other type is simple.

use super::decode::{int_of, scalar_text, shape, Obj};
use super::job_type::ResourceDefinition;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The 32 documented property types. Unknown names are kept (`Other`) rather than rejected at
/// load time: Ops Manager versions add types, and lint reports them as warnings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PropertyType {
    String,
    Text,
    Integer,
    Boolean,
    Port,
    Domain,
    WildcardDomain,
    Email,
    HttpUrl,
    LdapUrl,
    IpAddress,
    IpRanges,
    NetworkAddress,
    NetworkAddressList,
    StringList,
    SmtpAuthentication,
    CaCertificate,
    Uuid,
    Secret,
    SimpleCredentials,
    SaltedCredentials,
    RsaCertCredentials,
    RsaPkeyCredentials,
    DropdownSelect,
    MultiSelectOptions,
    Selector,
    Collection,
    VmTypeDropdown,
    DiskTypeDropdown,
    ServiceNetworkAzMultiSelect,
    ServiceNetworkAzSingleSelect,
    StemcellSelector,
    /// A type name this engine does not know.
    Other(String),
}

impl PropertyType {
    /// Every known type, in the order of the reference catalogue.
    pub const KNOWN: [PropertyType; 32] = [
        PropertyType::String,
        PropertyType::Text,
        PropertyType::Integer,
        PropertyType::Boolean,
        PropertyType::Port,
        PropertyType::Domain,
        PropertyType::WildcardDomain,
        PropertyType::Email,
        PropertyType::HttpUrl,
        PropertyType::LdapUrl,
        PropertyType::IpAddress,
        PropertyType::IpRanges,
        PropertyType::NetworkAddress,
        PropertyType::NetworkAddressList,
        PropertyType::StringList,
        PropertyType::SmtpAuthentication,
        PropertyType::CaCertificate,
        PropertyType::Uuid,
        PropertyType::Secret,
        PropertyType::SimpleCredentials,
        PropertyType::SaltedCredentials,
        PropertyType::RsaCertCredentials,
        PropertyType::RsaPkeyCredentials,
        PropertyType::DropdownSelect,
        PropertyType::MultiSelectOptions,
        PropertyType::Selector,
        PropertyType::Collection,
        PropertyType::VmTypeDropdown,
        PropertyType::DiskTypeDropdown,
        PropertyType::ServiceNetworkAzMultiSelect,
        PropertyType::ServiceNetworkAzSingleSelect,
        PropertyType::StemcellSelector,
    ];

    /// The metadata spelling of the type.
    pub fn as_str(&self) -> &str {
        match self {
            PropertyType::String => "string",
            PropertyType::Text => "text",
            PropertyType::Integer => "integer",
            PropertyType::Boolean => "boolean",
            PropertyType::Port => "port",
            PropertyType::Domain => "domain",
            PropertyType::WildcardDomain => "wildcard_domain",
            PropertyType::Email => "email",
            PropertyType::HttpUrl => "http_url",
            PropertyType::LdapUrl => "ldap_url",
            PropertyType::IpAddress => "ip_address",
            PropertyType::IpRanges => "ip_ranges",
            PropertyType::NetworkAddress => "network_address",
            PropertyType::NetworkAddressList => "network_address_list",
            PropertyType::StringList => "string_list",
            PropertyType::SmtpAuthentication => "smtp_authentication",
            PropertyType::CaCertificate => "ca_certificate",
            PropertyType::Uuid => "uuid",
            PropertyType::Secret => "secret",
            PropertyType::SimpleCredentials => "simple_credentials",
            PropertyType::SaltedCredentials => "salted_credentials",
            PropertyType::RsaCertCredentials => "rsa_cert_credentials",
            PropertyType::RsaPkeyCredentials => "rsa_pkey_credentials",
            PropertyType::DropdownSelect => "dropdown_select",
            PropertyType::MultiSelectOptions => "multi_select_options",
            PropertyType::Selector => "selector",
            PropertyType::Collection => "collection",
            PropertyType::VmTypeDropdown => "vm_type_dropdown",
            PropertyType::DiskTypeDropdown => "disk_type_dropdown",
            PropertyType::ServiceNetworkAzMultiSelect => "service_network_az_multi_select",
            PropertyType::ServiceNetworkAzSingleSelect => "service_network_az_single_select",
            PropertyType::StemcellSelector => "stemcell_selector",
            PropertyType::Other(name) => name,
        }
    }

    /// Parses a metadata type name; never fails (unknown names become `Other`).
    pub fn from_name(name: &str) -> PropertyType {
        PropertyType::KNOWN
            .iter()
            .find(|t| t.as_str() == name)
            .cloned()
            .unwrap_or_else(|| PropertyType::Other(name.to_string()))
    }

    pub fn is_known(&self) -> bool {
        !matches!(self, PropertyType::Other(_))
    }

    /// Types whose values are credentials (API flag `credential: true`; redacted, sealed).
    pub fn is_credential(&self) -> bool {
        matches!(
            self,
            PropertyType::Secret
                | PropertyType::SimpleCredentials
                | PropertyType::SaltedCredentials
                | PropertyType::RsaCertCredentials
                | PropertyType::RsaPkeyCredentials
        )
    }

    /// Types Ops Manager generates a value for when `configurable: false`.
    pub fn is_generated(&self) -> bool {
        self.is_credential() || *self == PropertyType::Uuid
    }

    /// Types whose value is an integer.
    pub fn is_integer(&self) -> bool {
        matches!(self, PropertyType::Integer | PropertyType::Port)
    }

    /// Types that choose among the blueprint's `options`.
    pub fn uses_options(&self) -> bool {
        matches!(
            self,
            PropertyType::DropdownSelect | PropertyType::MultiSelectOptions
        )
    }
}

impl fmt::Display for PropertyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PropertyType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PropertyType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Ok(PropertyType::from_name(&name))
    }
}

/// One property declaration (product-level, job-level, selector-option-level or a collection's
/// sub-property).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyBlueprint {
    pub name: String,
    #[serde(rename = "type")]
    pub property_type: PropertyType,
    /// Default false: non-configurable properties never appear in forms or the API.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configurable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional_default: Option<ConditionalDefault>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Constraints>,
    /// Choices of `dropdown_select` / `multi_select_options`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub freeze_on_deploy: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// Minimum bounds for `vm_type_dropdown` / `disk_type_dropdown`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_definitions: Vec<ResourceDefinition>,
    /// What the shape adds: selector options or collection sub-blueprints.
    #[serde(default, skip_serializing_if = "BlueprintKind::is_simple")]
    pub kind: BlueprintKind,
}

/// The shape-specific part of a blueprint. Externally tagged (`{"selector": {…}}`), not by a
/// `shape` field: serde reads an internally tagged enum by buffering the whole value first, which
/// made it the slowest part of reading a settings page's data in the browser.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlueprintKind {
    #[default]
    Simple,
    Selector {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        option_templates: Vec<OptionTemplate>,
    },
    Collection {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        property_blueprints: Vec<PropertyBlueprint>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        named_manifests: Vec<NamedManifest>,
    },
}

/// One choice of a selector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptionTemplate {
    /// Option id, used in references (`.properties.SEL.NAME.sub`) and as `selected_option`.
    pub name: String,
    /// The value shown and stored (API `value`, `zero_if` comparisons, `default`).
    pub select_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_manifests: Vec<NamedManifest>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_blueprints: Vec<PropertyBlueprint>,
}

/// A named YAML snippet (with `(( ))` expressions) produced through `parsed_manifest(NAME)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedManifest {
    pub name: String,
    /// The YAML text; `None` when written as an empty `manifest:`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
}

/// A `dropdown_select` / `multi_select_options` choice. `name` may be a string or an integer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectOption {
    pub name: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl SelectOption {
    /// The option name as text (integers printed).
    pub fn name_text(&self) -> String {
        scalar_text(&self.name).unwrap_or_default()
    }
}

/// `conditional_default: {dependency_present: PRODUCT, value: V}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConditionalDefault {
    pub dependency_present: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// Constraints come in two shapes: a map of integer bounds, or a list of string rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraints {
    Integer(IntegerConstraints),
    Rules(Vec<StringConstraint>),
}

/// Integer bounds (properties, `instance_definition`, `resource_definitions`). Both spellings of
/// the odd/increase rules are accepted (`may_only_*` in real tiles, `can_only_*` in the docs).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct IntegerConstraints {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// 0 or at least this value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zero_or_min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modulo: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub power_of_two: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_only_increase: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_only_be_odd_or_zero: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// One string rule: a regex to match or a cron-schedule check, with its message.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StringConstraint {
    /// Ruby-flavoured regex as written in the metadata.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub must_match_regex: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_be_cron_schedule: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl BlueprintKind {
    /// Most blueprints: left out of the page data.
    pub fn is_simple(&self) -> bool {
        matches!(self, BlueprintKind::Simple)
    }
}

impl PropertyBlueprint {
    /// Selector options (empty for other shapes).
    pub fn option_templates(&self) -> &[OptionTemplate] {
        match &self.kind {
            BlueprintKind::Selector { option_templates } => option_templates,
            _ => &[],
        }
    }

    /// Collection sub-blueprints (empty for other shapes).
    pub fn sub_blueprints(&self) -> &[PropertyBlueprint] {
        match &self.kind {
            BlueprintKind::Collection {
                property_blueprints,
                ..
            } => property_blueprints,
            _ => &[],
        }
    }

    /// Collection named manifests (empty for other shapes; selector options have their own).
    pub fn named_manifests(&self) -> &[NamedManifest] {
        match &self.kind {
            BlueprintKind::Collection {
                named_manifests, ..
            } => named_manifests,
            _ => &[],
        }
    }

    /// A selector option by its template `name`.
    pub fn option_template(&self, name: &str) -> Option<&OptionTemplate> {
        self.option_templates().iter().find(|o| o.name == name)
    }

    /// A selector option by its `select_value` (what `default` and `zero_if` name).
    pub fn option_by_select_value(&self, value: &str) -> Option<&OptionTemplate> {
        self.option_templates()
            .iter()
            .find(|o| o.select_value == value)
    }

    /// Integer constraints, if the blueprint has them in map form.
    pub fn integer_constraints(&self) -> Option<&IntegerConstraints> {
        match &self.constraints {
            Some(Constraints::Integer(c)) => Some(c),
            _ => None,
        }
    }

    /// String rules, if the blueprint has them in list form (empty otherwise).
    pub fn string_constraints(&self) -> &[StringConstraint] {
        match &self.constraints {
            Some(Constraints::Rules(r)) => r,
            _ => &[],
        }
    }

    pub(crate) fn decode(v: &Value, path: &str) -> Result<PropertyBlueprint> {
        let o = Obj::new(v, path)?;
        let name = o.required_string("name")?;
        let type_name = o.required_string("type")?;
        let property_type = PropertyType::from_name(&type_name);
        let kind = match property_type {
            PropertyType::Selector => BlueprintKind::Selector {
                option_templates: o.list("option_templates", OptionTemplate::decode)?,
            },
            PropertyType::Collection => BlueprintKind::Collection {
                property_blueprints: o.list("property_blueprints", PropertyBlueprint::decode)?,
                named_manifests: o.list("named_manifests", NamedManifest::decode)?,
            },
            _ => BlueprintKind::Simple,
        };
        let conditional_default = match o.get("conditional_default") {
            None => None,
            Some(cd) => {
                let c = Obj::new(cd, &o.at("conditional_default"))?;
                Some(ConditionalDefault {
                    dependency_present: c.string_or_empty("dependency_present")?,
                    value: c.value("value"),
                })
            }
        };
        Ok(PropertyBlueprint {
            name,
            property_type,
            configurable: o.flag("configurable")?,
            optional: o.flag("optional")?,
            default: o.value("default"),
            conditional_default,
            constraints: decode_constraints(o.get("constraints"), &o.at("constraints"))?,
            options: o.list("options", SelectOption::decode)?,
            freeze_on_deploy: o.flag("freeze_on_deploy")?,
            unique: o.flag("unique")?,
            label: o.string("label")?,
            description: o.string("description")?,
            placeholder: o.string("placeholder")?,
            resource_definitions: o.list("resource_definitions", ResourceDefinition::decode)?,
            kind,
        })
    }
}

impl OptionTemplate {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<OptionTemplate> {
        let o = Obj::new(v, path)?;
        let name = o.required_string("name")?;
        Ok(OptionTemplate {
            // A missing select_value falls back to the name, as the option is still selectable.
            select_value: o.string("select_value")?.unwrap_or_else(|| name.clone()),
            name,
            label: o.string("label")?,
            description: o.string("description")?,
            named_manifests: o.list("named_manifests", NamedManifest::decode)?,
            property_blueprints: o.list("property_blueprints", PropertyBlueprint::decode)?,
        })
    }
}

impl NamedManifest {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<NamedManifest> {
        let o = Obj::new(v, path)?;
        Ok(NamedManifest {
            name: o.required_string("name")?,
            manifest: o.text("manifest")?,
        })
    }
}

impl SelectOption {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<SelectOption> {
        match v {
            Value::Object(_) => {
                let o = Obj::new(v, path)?;
                let name = o
                    .get("name")
                    .cloned()
                    .ok_or_else(|| shape(&o.at("name"), "is required"))?;
                Ok(SelectOption {
                    name,
                    label: o.string("label")?,
                })
            }
            // A bare scalar option is its own name.
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(SelectOption {
                name: v.clone(),
                label: None,
            }),
            other => Err(shape(
                path,
                format!(
                    "expected an option map, found {}",
                    super::decode::kind_of(other)
                ),
            )),
        }
    }
}

/// Decodes `constraints` by shape: a list is string rules; a map is integer bounds unless it is
/// a single string rule written without the list.
pub(crate) fn decode_constraints(v: Option<&Value>, path: &str) -> Result<Option<Constraints>> {
    match v {
        None => Ok(None),
        Some(Value::Array(items)) => {
            let rules = items
                .iter()
                .enumerate()
                .map(|(i, item)| decode_string_rule(item, &format!("{path}[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            Ok(Some(Constraints::Rules(rules)))
        }
        Some(m @ Value::Object(map)) => {
            if map.contains_key("must_match_regex") || map.contains_key("must_be_cron_schedule") {
                Ok(Some(Constraints::Rules(vec![decode_string_rule(m, path)?])))
            } else {
                Ok(Some(Constraints::Integer(decode_integer_constraints(
                    m, path,
                )?)))
            }
        }
        Some(other) => Err(shape(
            path,
            format!(
                "expected a map or a list, found {}",
                super::decode::kind_of(other)
            ),
        )),
    }
}

fn decode_string_rule(v: &Value, path: &str) -> Result<StringConstraint> {
    let o = Obj::new(v, path)?;
    Ok(StringConstraint {
        must_match_regex: o.string("must_match_regex")?,
        must_be_cron_schedule: o.flag("must_be_cron_schedule")?,
        error_message: o.string("error_message")?,
    })
}

pub(crate) fn decode_integer_constraints(v: &Value, path: &str) -> Result<IntegerConstraints> {
    let o = Obj::new(v, path)?;
    let min = o.int("min")?;
    // `zero_or_min` is an integer bound; a bare `true` means "0 or `min`".
    let zero_or_min = match o.get("zero_or_min") {
        None => None,
        Some(Value::Bool(true)) => min.or(Some(0)),
        Some(Value::Bool(false)) => None,
        Some(v) => Some(int_of(v).ok_or_else(|| {
            shape(
                &o.at("zero_or_min"),
                "expected an integer or a boolean".to_string(),
            )
        })?),
    };
    Ok(IntegerConstraints {
        min,
        max: o.int("max")?,
        zero_or_min,
        modulo: o.int("modulo")?,
        power_of_two: o.flag("power_of_two")?,
        may_only_increase: o.flag("may_only_increase")? || o.flag("can_only_increase")?,
        may_only_be_odd_or_zero: o.flag("may_only_be_odd_or_zero")?
            || o.flag("can_only_be_odd_or_zero")?,
        error_message: o.string("error_message")?,
    })
}
