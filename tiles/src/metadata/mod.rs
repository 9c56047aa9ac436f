//! The typed product template (a tile's `metadata/*.yml`).
//!
//! Loading is lenient in the way Ops Manager is: unknown keys are ignored everywhere, missing
//! optional lists are empty, and top-level keys that Ops Manager requires (`name`,
//! `product_version`, `metadata_version`, …) load as empty strings so that [`crate::lint`] can
//! report every problem at once instead of stopping at the first. Wrong *shapes* (a list where a
//! map belongs, a blueprint without a `name`) stop loading with [`Error::Shape`] naming the YAML
//! path, because nothing sensible can be built from them.
//!
//! Submodules hold one concept each: property blueprints, forms, job types.
//!
//! The YAML is read by hand ([`decode`]); the serde derives serve one purpose, the page data a
//! settings page sends the browser (cut per form by [`crate::form_template`]). That JSON leaves
//! out what is absent or at its default — `None`, empty lists, `false`, the simple shape — which
//! the reading side restores (the PKS Plan 1 form's template: 13 KB of JSON instead of 23 KB).
//! The two shape enums are externally tagged for the same reader: see [`BlueprintKind`].

mod decode;
pub mod form;
pub mod job_type;
mod lookup;
mod parsed;
pub mod property_blueprint;

pub use form::{FormType, InputKind, PropertyInput, SelectorOptionInput, Verifier};
pub use job_type::{
    InstanceDefinition, JobTemplate, JobType, MaxInFlight, ResourceDefinition, ZeroIf,
};
pub use property_blueprint::{
    BlueprintKind, ConditionalDefault, Constraints, IntegerConstraints, NamedManifest,
    OptionTemplate, PropertyBlueprint, PropertyType, SelectOption, StringConstraint,
};

use crate::error::Result;
use decode::Obj;
pub(crate) use decode::{int_of as decode_int, scalar_text as decode_text};
use lookup::LookupCell;
use parsed::ParsedCell;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A whole product template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductTemplate {
    /// Product identifier (`pivotal-container-service`); empty if missing (lint reports it).
    pub name: String,
    /// Version text as written (`1.1.3-build.11`); empty if missing.
    pub product_version: String,
    /// Schema version (`"2.1"`); empty if missing.
    pub metadata_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_version_for_upgrade: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_metadata_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Base64 PNG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated_tile_image: Option<String>,
    /// Dashboard order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub service_broker: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opsmanager_syslog: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub supports_parallel_deploys: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pivnet_filename_regex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_releases_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stemcell_criteria: Option<StemcellCriteria>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_stemcells_criteria: Vec<StemcellCriteria>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<Release>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_product_versions: Vec<ProductVersionRequirement>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides_product_versions: Vec<ProvidedProductVersion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub install_time_verifiers: Vec<Verifier>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variables: Vec<Variable>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub property_blueprints: Vec<PropertyBlueprint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub form_types: Vec<FormType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub job_types: Vec<JobType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_deploy_errands: Vec<ErrandTemplate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_delete_errands: Vec<ErrandTemplate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runtime_configs: Vec<RuntimeConfig>,
    /// Observed `update:` block (canaries, max_in_flight, …), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<Value>,
    /// Name indexes over the lists above, built on the first lookup (see [`lookup`]).
    #[serde(skip)]
    pub(crate) lookup: LookupCell,
    /// Manifest texts already parsed, by text (see [`parsed`]).
    #[serde(skip)]
    pub(crate) parsed: ParsedCell,
}

/// Which stemcell the product's VMs run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StemcellCriteria {
    pub os: String,
    /// Version text as written (`'3586.26'`, `1709.10`).
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_patch_security_updates: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_cpi: Option<bool>,
}

impl StemcellCriteria {
    /// Early tiles (Ops Manager 1.1–1.4) named one stemcell file instead of criteria:
    /// `stemcell: {name: bosh-vsphere-esxi-ubuntu, version: '1471.2', file: …}`. The OS is the
    /// name after `bosh-IAAS-HYPERVISOR-` (without a `-go_agent` suffix). `None` when the entry
    /// has no readable name and version.
    pub fn from_legacy_stemcell(v: &Value) -> Option<StemcellCriteria> {
        let name = v.get("name")?.as_str()?;
        let version = decode::scalar_text(v.get("version")?)?;
        let os = name
            .splitn(4, '-')
            .nth(3)
            .map(|os| os.strip_suffix("-go_agent").unwrap_or(os))
            .filter(|os| !os.is_empty())?;
        Some(StemcellCriteria {
            os: os.to_string(),
            version,
            enable_patch_security_updates: None,
            requires_cpi: None,
        })
    }
}

/// A BOSH release shipped with (or fetched for) the tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    pub file: String,
    /// Version text as written.
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_hash: Option<String>,
}

/// `requires_product_versions[]`: another product this one needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductVersionRequirement {
    pub name: String,
    /// Constraint text (`'~> 2.4'`, `'>= 1.12'`).
    pub version: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// `provides_product_versions[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvidedProductVersion {
    pub name: String,
    pub version: String,
}

/// A BOSH/CredHub variable declared for the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    #[serde(rename = "type")]
    pub variable_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// A post-deploy or pre-delete errand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrandTemplate {
    /// An errand job type, or a job template name when `colocated`.
    pub name: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub colocated: bool,
    /// `None` means "on" (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_default: Option<bool>,
    /// Where a colocated errand runs: `job_name` or `job_name/first`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_warning: Option<String>,
}

/// A BOSH runtime config shipped by the product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeConfig {
    pub name: String,
    /// YAML text with expressions.
    pub runtime_config: String,
}

/// Where a blueprint lives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyScope<'a> {
    /// Top-level `property_blueprints` (`.properties.X`).
    Product,
    /// A job type's `property_blueprints` (`.JOB.X`).
    Job(&'a JobType),
}

/// A blueprint found by reference, with where it sits.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyRef<'a> {
    /// Canonical reference: `.properties.X`, `.JOB.X`, `.properties.SEL.OPTION.X`.
    pub reference: String,
    pub blueprint: &'a PropertyBlueprint,
    pub scope: PropertyScope<'a>,
    /// For selector sub-properties: the selector and the option holding the blueprint.
    pub selector: Option<(&'a PropertyBlueprint, &'a OptionTemplate)>,
}

impl ProductTemplate {
    /// Loads a product template from metadata YAML (YAML 1.1 rules, see [`crate::yaml`]).
    pub fn from_yaml(text: &str) -> Result<ProductTemplate> {
        let value = crate::yaml::load(text)?;
        ProductTemplate::from_value(&value)
    }

    /// Builds the model from an already loaded YAML tree.
    pub fn from_value(value: &Value) -> Result<ProductTemplate> {
        let o = Obj::new(value, "")?;
        let stemcell_criteria = match (o.get("stemcell_criteria"), o.get("stemcell")) {
            (Some(v), _) => Some(StemcellCriteria::decode(v, "stemcell_criteria")?),
            (None, Some(v)) => StemcellCriteria::from_legacy_stemcell(v),
            (None, None) => None,
        };
        Ok(ProductTemplate {
            name: o.string_or_empty("name")?,
            product_version: o.string_or_empty("product_version")?,
            metadata_version: o.string_or_empty("metadata_version")?,
            minimum_version_for_upgrade: o.string("minimum_version_for_upgrade")?,
            original_metadata_version: o.string("original_metadata_version")?,
            label: o.string("label")?,
            description: o.string("description")?,
            icon_image: o.string("icon_image")?,
            deprecated_tile_image: o.string("deprecated_tile_image")?,
            rank: o.int("rank")?,
            serial: o.bool("serial")?,
            service_broker: o.flag("service_broker")?,
            opsmanager_syslog: o.flag("opsmanager_syslog")?,
            supports_parallel_deploys: o.flag("supports_parallel_deploys")?,
            pivnet_filename_regex: o.string("pivnet_filename_regex")?,
            base_releases_url: o.string("base_releases_url")?,
            stemcell_criteria,
            additional_stemcells_criteria: o
                .list("additional_stemcells_criteria", StemcellCriteria::decode)?,
            releases: o.list("releases", Release::decode)?,
            requires_product_versions: o.list(
                "requires_product_versions",
                ProductVersionRequirement::decode,
            )?,
            provides_product_versions: o
                .list("provides_product_versions", ProvidedProductVersion::decode)?,
            install_time_verifiers: o.list("install_time_verifiers", Verifier::decode)?,
            variables: o.list("variables", Variable::decode)?,
            property_blueprints: o.list("property_blueprints", PropertyBlueprint::decode)?,
            form_types: o.list("form_types", FormType::decode)?,
            job_types: o.list("job_types", JobType::decode)?,
            post_deploy_errands: o.list("post_deploy_errands", ErrandTemplate::decode)?,
            pre_delete_errands: o.list("pre_delete_errands", ErrandTemplate::decode)?,
            runtime_configs: o.list("runtime_configs", RuntimeConfig::decode)?,
            update: o.value("update"),
            lookup: LookupCell::default(),
            parsed: ParsedCell::default(),
        })
    }

    /// A job type by name.
    pub fn job_type(&self, name: &str) -> Option<&JobType> {
        self.lookup.get(self).job_type(self, name)
    }

    /// A form type by name.
    pub fn form_type(&self, name: &str) -> Option<&FormType> {
        self.lookup.get(self).form_type(self, name)
    }

    /// A product-level blueprint by name.
    pub fn product_blueprint(&self, name: &str) -> Option<&PropertyBlueprint> {
        self.lookup.get(self).product_blueprint(self, name)
    }

    /// A manifest text of this template (or any YAML text) parsed with [`crate::yaml::load`];
    /// a text parsed before is not parsed again (see [`parsed`]).
    pub(crate) fn parsed_yaml(&self, text: &str) -> Result<std::sync::Arc<Value>> {
        self.parsed.load(text)
    }

    /// A release by name.
    pub fn release(&self, name: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.name == name)
    }

    /// The blueprint `name` of a scope (`properties` for product-level, else a job type's),
    /// with the scope.
    fn scoped_blueprint(
        &self,
        head: &str,
        name: &str,
    ) -> Option<(PropertyScope<'_>, &PropertyBlueprint)> {
        let lookup = self.lookup.get(self);
        if head == "properties" {
            let bp = lookup.product_blueprint(self, name)?;
            Some((PropertyScope::Product, bp))
        } else {
            let job = lookup.job_type(self, head)?;
            let bp = lookup.job_blueprint(self, job, name)?;
            Some((PropertyScope::Job(job), bp))
        }
    }

    /// Finds the blueprint a property reference names. Accepts `.properties.X`, `.JOB.X`,
    /// selector sub-properties `.properties.SEL.OPTION.X` (also the migration spelling
    /// `.properties.SEL.options.OPTION.X`) and the same under a job. The leading `.` is optional.
    /// Collection sub-properties have no reference of their own (they live in records).
    pub fn property(&self, reference: &str) -> Option<PropertyRef<'_>> {
        let trimmed = reference.strip_prefix('.').unwrap_or(reference);
        if trimmed.starts_with('.') {
            return None; // `..product.` references another product
        }
        let mut segs: Vec<&str> = trimmed.split('.').collect();
        if segs.len() == 1 {
            // Early tiles (metadata 1.3 and before) name product properties `.NAME` in their
            // forms; Ops Manager still reads them as `.properties.NAME`.
            segs.insert(0, "properties");
        }
        let (scope, top) = self.scoped_blueprint(segs.first()?, segs.get(1)?)?;
        let (option_name, sub_name) = match segs.len() {
            2 => {
                return Some(PropertyRef {
                    reference: format!(".{}.{}", segs[0], top.name),
                    blueprint: top,
                    scope,
                    selector: None,
                })
            }
            4 => (segs[2], segs[3]),
            5 if segs[2] == "options" => (segs[3], segs[4]),
            _ => return None,
        };
        let option = top.option_template(option_name)?;
        let sub = option
            .property_blueprints
            .iter()
            .find(|b| b.name == sub_name)?;
        Some(PropertyRef {
            reference: format!(".{}.{}.{}.{}", segs[0], top.name, option.name, sub.name),
            blueprint: sub,
            scope,
            selector: Some((top, option)),
        })
    }

    /// Finds a selector option by its reference `.properties.SEL.OPTION` (as used in
    /// `selector_property_inputs`).
    pub fn selector_option(
        &self,
        reference: &str,
    ) -> Option<(&PropertyBlueprint, &OptionTemplate)> {
        let trimmed = reference.strip_prefix('.').unwrap_or(reference);
        let segs: Vec<&str> = trimmed.split('.').collect();
        if segs.len() != 3 {
            return None;
        }
        let (_, selector) = self.scoped_blueprint(segs[0], segs[1])?;
        let option = selector.option_template(segs[2])?;
        Some((selector, option))
    }

    /// Every addressable property in metadata order: product blueprints (each followed by its
    /// selector options' sub-properties), then each job type's. This is the key set of the
    /// properties API.
    pub fn property_refs(&self) -> Vec<PropertyRef<'_>> {
        let mut out = Vec::new();
        let scopes = std::iter::once((
            "properties",
            PropertyScope::Product,
            &self.property_blueprints,
        ))
        .chain(self.job_types.iter().map(|j| {
            (
                j.name.as_str(),
                PropertyScope::Job(j),
                &j.property_blueprints,
            )
        }));
        for (head, scope, blueprints) in scopes {
            for bp in blueprints {
                out.push(PropertyRef {
                    reference: format!(".{head}.{}", bp.name),
                    blueprint: bp,
                    scope,
                    selector: None,
                });
                for option in bp.option_templates() {
                    for sub in &option.property_blueprints {
                        out.push(PropertyRef {
                            reference: format!(".{head}.{}.{}.{}", bp.name, option.name, sub.name),
                            blueprint: sub,
                            scope,
                            selector: Some((bp, option)),
                        });
                    }
                }
            }
        }
        out
    }

    /// Errand job types (`errand: true`).
    pub fn errand_job_types(&self) -> impl Iterator<Item = &JobType> {
        self.job_types.iter().filter(|j| j.errand)
    }
}

impl StemcellCriteria {
    fn decode(v: &Value, path: &str) -> Result<StemcellCriteria> {
        let o = Obj::new(v, path)?;
        Ok(StemcellCriteria {
            os: o.string_or_empty("os")?,
            version: o.string_or_empty("version")?,
            enable_patch_security_updates: o.bool("enable_patch_security_updates")?,
            requires_cpi: o.bool("requires_cpi")?,
        })
    }
}

impl Release {
    fn decode(v: &Value, path: &str) -> Result<Release> {
        let o = Obj::new(v, path)?;
        Ok(Release {
            name: o.required_string("name")?,
            file: o.string_or_empty("file")?,
            version: o.string_or_empty("version")?,
            sha1: o.string("sha1")?,
            md5: o.string("md5")?,
            url: o.string("url")?,
            path: o.string("path")?,
            commit_hash: o.string("commit_hash")?,
        })
    }
}

impl ProductVersionRequirement {
    pub(crate) fn decode(v: &Value, path: &str) -> Result<ProductVersionRequirement> {
        let o = Obj::new(v, path)?;
        Ok(ProductVersionRequirement {
            name: o.required_string("name")?,
            version: o.string_or_empty("version")?,
            optional: o.flag("optional")?,
        })
    }
}

impl ProvidedProductVersion {
    fn decode(v: &Value, path: &str) -> Result<ProvidedProductVersion> {
        let o = Obj::new(v, path)?;
        Ok(ProvidedProductVersion {
            name: o.required_string("name")?,
            version: o.string_or_empty("version")?,
        })
    }
}

impl Variable {
    fn decode(v: &Value, path: &str) -> Result<Variable> {
        let o = Obj::new(v, path)?;
        Ok(Variable {
            name: o.required_string("name")?,
            variable_type: o.string_or_empty("type")?,
            options: o.value("options"),
        })
    }
}

impl ErrandTemplate {
    fn decode(v: &Value, path: &str) -> Result<ErrandTemplate> {
        // A bare string is accepted as an errand name.
        if let Value::String(name) = v {
            return Ok(ErrandTemplate {
                name: name.clone(),
                colocated: false,
                run_default: None,
                instances: Vec::new(),
                label: None,
                description: None,
                impact_warning: None,
            });
        }
        let o = Obj::new(v, path)?;
        Ok(ErrandTemplate {
            name: o.required_string("name")?,
            colocated: o.flag("colocated")?,
            run_default: o.bool("run_default")?,
            instances: o.string_list("instances")?,
            label: o.string("label")?,
            description: o.string("description")?,
            impact_warning: o.string("impact_warning")?,
        })
    }
}

impl RuntimeConfig {
    fn decode(v: &Value, path: &str) -> Result<RuntimeConfig> {
        let o = Obj::new(v, path)?;
        Ok(RuntimeConfig {
            name: o.required_string("name")?,
            runtime_config: o.text("runtime_config")?.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests;
