//! The BOSH cloud config, typed (AZs, networks and their subnets, VM types and extensions, disk
//! types, compilation). Every struct keeps keys it does not know in `extra`: a cloud config read
//! from a Director may use features this model does not name, and must round-trip unchanged.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::ips::{Ip, IpRange};
use crate::Result;

fn one_or_many<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<String>>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s])),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(serde::de::Error::custom(format!(
                    "expected an IP or range string, found {other}"
                ))),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string or a list of strings, found {other}"
        ))),
    }
}

/// A BOSH cloud config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloudConfig {
    #[serde(default)]
    pub azs: Vec<Az>,
    #[serde(default)]
    pub networks: Vec<Network>,
    #[serde(default)]
    pub vm_types: Vec<VmType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vm_extensions: Vec<VmExtension>,
    #[serde(default)]
    pub disk_types: Vec<DiskType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compilation: Option<Compilation>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Az {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpi: Option<String>,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// `manual` (the default), `dynamic` or `vip`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_properties: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Network {
    /// The network type, `manual` when unset.
    pub fn kind(&self) -> &str {
        self.network_type.as_deref().unwrap_or("manual")
    }

    pub fn is_manual(&self) -> bool {
        self.kind() == "manual"
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Subnet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_or_many"
    )]
    pub reserved: Option<Vec<String>>,
    #[serde(
        rename = "static",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_or_many"
    )]
    pub static_ips: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azs: Option<Vec<String>>,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Subnet {
    /// The subnet's AZs, from `az` or `azs`.
    pub fn az_names(&self) -> Vec<&str> {
        self.az
            .iter()
            .chain(self.azs.iter().flatten())
            .map(String::as_str)
            .collect()
    }

    /// Whether `ip` is in one of the subnet's `static` ranges (unparsable entries are ignored
    /// here; `validate` reports them).
    pub fn static_contains(&self, ip: Ip) -> bool {
        self.static_ips
            .iter()
            .flatten()
            .filter_map(|s| IpRange::parse(s).ok())
            .any(|r| r.contains(ip))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmType {
    pub name: String,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmExtension {
    pub name: String,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DiskType {
    pub name: String,
    /// MB.
    pub disk_size: i64,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Compilation {
    pub workers: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_type: Option<String>,
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_compilation_vms: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CloudConfig {
    pub fn from_value(value: &Value) -> Result<CloudConfig> {
        crate::manifest::from_value(value, "cloud_config")
    }

    pub fn to_value(&self) -> Result<Value> {
        crate::manifest::to_value(self, "cloud_config")
    }
}

/// The static ranges of `network`, per availability zone; for UIs that suggest static IPs.
pub fn static_ranges_by_az(cloud: &CloudConfig, network: &str) -> HashMap<String, Vec<IpRange>> {
    let mut out: HashMap<String, Vec<IpRange>> = HashMap::new();
    for n in cloud.networks.iter().filter(|n| n.name == network) {
        for s in &n.subnets {
            let ranges: Vec<IpRange> = s
                .static_ips
                .iter()
                .flatten()
                .filter_map(|t| IpRange::parse(t).ok())
                .collect();
            for az in s.az_names() {
                out.entry(az.to_string())
                    .or_default()
                    .extend(ranges.iter().copied());
            }
        }
    }
    out
}
