//! The BOSH deployment manifest (v2) and runtime config, typed (bosh-cfcr-pks-odb §1).
//!
//! Fields serialize in the order BOSH documents them, so rendered manifests read like
//! hand-written ones and diffs stay stable. Every struct keeps keys it does not know in `extra`
//! (serialized after the known ones): manifests evolve and carry features this model does not
//! name, and dropping them silently would change what gets deployed. Optional sections are
//! `Option`s so that "absent" and "empty" survive a round trip.

mod runtime_config;
mod update;

pub use runtime_config::RuntimeConfig;
pub use update::{Count, CountValue, Update, WatchTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{Error, Result};

/// A BOSH v2 deployment manifest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub director_uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
    #[serde(default)]
    pub releases: Vec<Release>,
    #[serde(default)]
    pub stemcells: Vec<Stemcell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    #[serde(default)]
    pub instance_groups: Vec<InstanceGroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addons: Option<Vec<Addon>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<Variable>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    /// Deprecated global properties; kept because old manifests still use them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `features:` switches.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Features {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converge_variables: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randomize_az_placement: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_dns_addresses: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_short_dns_addresses: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_tmpfs_config: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A version string. YAML turns unquoted versions into numbers (`version: 621.76`), so numbers
/// are accepted and kept as their text; it always serializes as a string, which is what BOSH
/// expects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Version(pub String);

impl Version {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Version {
    fn from(s: &str) -> Self {
        Version(s.to_string())
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Version(s)),
            Value::Number(n) => Ok(Version(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "a version must be a string or a number, not {other}"
            ))),
        }
    }
}

/// `releases[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    pub version: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// The stemcell a compiled release was compiled against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stemcell: Option<StemcellRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exported_from: Option<Vec<StemcellRef>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{os, version}` of a stemcell.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StemcellRef {
    pub os: String,
    pub version: Version,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `stemcells[]`: `alias` plus `os` (or the full `name`) and `version`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Stemcell {
    pub alias: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub version: Version,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `instance_groups[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct InstanceGroup {
    pub name: String,
    /// `service` (default) or `errand`; kept as text so a wrong value can be reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azs: Option<Vec<String>>,
    pub instances: i64,
    #[serde(default)]
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_resources: Option<VmResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_extensions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stemcell: Option<String>,
    /// Size in MB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_disk: Option<i64>,
    /// A cloud-config disk type name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_disk_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent_disks: Option<Vec<PersistentDisk>>,
    #[serde(default)]
    pub networks: Vec<NetworkRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<Update>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<Vec<MigratedFrom>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    /// Deprecated group-level properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InstanceGroup {
    /// True for `lifecycle: errand`.
    pub fn is_errand(&self) -> bool {
        self.lifecycle.as_deref() == Some("errand")
    }
}

/// `vm_resources`: sizing without a named VM type.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmResources {
    pub cpu: i64,
    pub ram: i64,
    pub ephemeral_disk_size: i64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `persistent_disks[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PersistentDisk {
    pub name: String,
    #[serde(rename = "type")]
    pub disk_type: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `migrated_from[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MigratedFrom {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `instance_groups[].networks[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkRef {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_ips: Option<Vec<String>>,
    /// Which of `dns`, `gateway` this network provides when a group has several networks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nic_group: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A job (release job template) in an instance group or addon.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Job {
    pub name: String,
    pub release: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// Link consumption; a link may be `null` to switch it off, so values stay untyped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumes: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provides: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_provider_definitions: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `variables[]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    #[serde(rename = "type")]
    pub var_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumes: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An addon (in a manifest or a runtime config).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Addon {
    pub name: String,
    #[serde(default)]
    pub jobs: Vec<Job>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Placement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Placement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Addon placement rules (`include` / `exclude`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Placement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stemcell: Option<Vec<Map<String, Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployments: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<Map<String, Value>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub networks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a typed model from a value tree; errors name the failing field path
/// (`instance_groups[1].instances: invalid type…`).
pub(crate) fn from_value<T: DeserializeOwned>(value: &Value, what: &str) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::Shape {
            path: if path == "." {
                what.to_string()
            } else {
                format!("{what}.{path}")
            },
            message: e.into_inner().to_string(),
        }
    })
}

pub(crate) fn to_value<T: Serialize>(model: &T, what: &str) -> Result<Value> {
    serde_json::to_value(model).map_err(|e| Error::Shape {
        path: what.to_string(),
        message: e.to_string(),
    })
}

impl Manifest {
    /// Reads a manifest from a value tree (a YAML document once loaded).
    pub fn from_value(value: &Value) -> Result<Manifest> {
        from_value(value, "manifest")
    }

    /// The manifest as a value tree, fields in BOSH's documented order.
    pub fn to_value(&self) -> Result<Value> {
        to_value(self, "manifest")
    }

    pub fn instance_group(&self, name: &str) -> Option<&InstanceGroup> {
        self.instance_groups.iter().find(|g| g.name == name)
    }
}

#[cfg(test)]
pub(crate) mod tests;
