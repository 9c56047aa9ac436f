//! The operator's Director configuration: the model the Director tile's forms edit (with
//! defaults), its field-by-field validation, and the BOSH cloud config generated from it.
//!
//! Validation checks what only this model has (names given by the operator, AZs chosen for each
//! subnet, the VM and disk type catalogues) and runs the network and compilation checks it
//! shares with the cloud config's rules (`validate`), reporting them at this model's paths.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::catalogue::{default_disk_types, default_vm_types};
use super::model::{Az, CloudConfig, Compilation, DiskType, Network, Subnet, VmExtension, VmType};
use super::validate::{
    check_compilation, check_subnet_azs, CompilationRefs, ManualSubnets, Names, Wording,
};
use crate::manifest_check::{canonical_name, Finding};
use crate::{Error, Result};

/// The IaaS the Director deploys to; decides how VM types are expressed to the CPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Iaas {
    #[default]
    Vsphere,
    Aws,
    Gcp,
    Azure,
    Openstack,
    /// Tileworks's embedded Director stand-in: its CPI simulates VMs, so it needs no cloud
    /// credentials and places AZs and networks nowhere (empty cloud properties).
    Embedded,
}

/// The operator-facing Director configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DirectorConfig {
    #[serde(default)]
    pub iaas: Iaas,
    #[serde(default)]
    pub azs: Vec<AzConfig>,
    #[serde(default)]
    pub networks: Vec<NetworkConfig>,
    /// Empty means the default catalogue ([`default_vm_types`]).
    #[serde(default)]
    pub vm_types: Vec<VmTypeConfig>,
    #[serde(default)]
    pub vm_extensions: Vec<VmExtension>,
    /// Empty means the default catalogue ([`default_disk_types`]).
    #[serde(default)]
    pub disk_types: Vec<DiskTypeConfig>,
    #[serde(default)]
    pub compilation: CompilationConfig,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AzConfig {
    pub name: String,
    /// IaaS placement, passed through (vSphere `datacenters/clusters`, AWS `availability_zone`…).
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkConfig {
    pub name: String,
    #[serde(default)]
    pub subnets: Vec<SubnetConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SubnetConfig {
    /// CIDR, e.g. `10.0.0.0/24`.
    pub cidr: String,
    pub gateway: String,
    #[serde(default)]
    pub dns: Vec<String>,
    /// IPs and ranges the Director must never hand out.
    #[serde(default)]
    pub reserved: Vec<String>,
    /// IPs and ranges usable as `static_ips`.
    #[serde(rename = "static", default)]
    pub static_ips: Vec<String>,
    #[serde(default)]
    pub azs: Vec<String>,
    /// IaaS network identity (vSphere `name`, AWS `subnet`, GCP `network_name`…), passed through.
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
}

/// A VM type: CPUs, RAM (MB) and ephemeral disk (MB). `cloud_properties`, when given, replace
/// the ones derived for the IaaS.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmTypeConfig {
    pub name: String,
    pub cpu: u32,
    pub ram: u32,
    pub ephemeral_disk: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_properties: Option<Map<String, Value>>,
}

/// A disk type of `disk_size` MB; named by its size unless `name` is given.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DiskTypeConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub disk_size: u32,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
}

impl DiskTypeConfig {
    pub fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.disk_size.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompilationConfig {
    #[serde(default = "default_workers")]
    pub workers: u32,
    #[serde(default = "default_compilation_vm_type")]
    pub vm_type: String,
    /// Defaults to the first AZ.
    #[serde(default)]
    pub az: Option<String>,
    /// Defaults to the first network.
    #[serde(default)]
    pub network: Option<String>,
    #[serde(default = "default_true")]
    pub reuse_compilation_vms: bool,
}

fn default_workers() -> u32 {
    4
}

fn default_compilation_vm_type() -> String {
    "large.disk".into()
}

fn default_true() -> bool {
    true
}

impl Default for CompilationConfig {
    fn default() -> Self {
        CompilationConfig {
            workers: default_workers(),
            vm_type: default_compilation_vm_type(),
            az: None,
            network: None,
            reuse_compilation_vms: true,
        }
    }
}

impl DirectorConfig {
    pub fn from_value(value: &Value) -> Result<DirectorConfig> {
        crate::manifest::from_value(value, "director")
    }

    /// The VM types in effect (the catalogue when none are configured).
    pub fn effective_vm_types(&self) -> Vec<VmTypeConfig> {
        if self.vm_types.is_empty() {
            default_vm_types()
        } else {
            self.vm_types.clone()
        }
    }

    /// The disk types in effect (the catalogue when none are configured).
    pub fn effective_disk_types(&self) -> Vec<DiskTypeConfig> {
        if self.disk_types.is_empty() {
            default_disk_types()
        } else {
            self.disk_types.clone()
        }
    }

    /// Field-by-field validation; an empty list means [`cloud_config`](Self::cloud_config)
    /// will succeed and produce a cloud config the Director accepts.
    pub fn validate(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let vm_types = self.effective_vm_types();
        let known = Names {
            azs: self.azs.iter().map(|a| a.name.as_str()).collect(),
            networks: self.networks.iter().map(|n| n.name.as_str()).collect(),
            vm_types: vm_types.iter().map(|v| v.name.as_str()).collect(),
        };
        if self.azs.is_empty() {
            out.push(Finding::error(
                "azs",
                "at least one availability zone is required",
            ));
        }
        let mut seen = HashSet::new();
        for (i, az) in self.azs.iter().enumerate() {
            let (name, field) = (&az.name, format!("azs[{i}].name"));
            let what = "availability zone";
            check_operator_name(what, name, name.clone(), &mut seen, &field, &mut out);
        }
        if self.networks.is_empty() {
            out.push(Finding::error(
                "networks",
                "at least one network is required",
            ));
        }
        let mut seen = HashSet::new();
        for (i, n) in self.networks.iter().enumerate() {
            let at = format!("networks[{i}]");
            // Network names clash when they differ only in case or punctuation.
            let key = canonical_name(&n.name);
            let field = format!("{at}.name");
            check_operator_name("network", &n.name, key, &mut seen, &field, &mut out);
            if n.subnets.is_empty() {
                out.push(Finding::error(
                    format!("{at}.subnets"),
                    "a network needs at least one subnet",
                ));
            }
            let mut manual = ManualSubnets::new(&at);
            for (j, s) in n.subnets.iter().enumerate() {
                let sat = format!("{at}.subnets[{j}]");
                if s.azs.is_empty() {
                    out.push(Finding::error(
                        format!("{sat}.azs"),
                        "choose at least one availability zone for the subnet",
                    ));
                }
                let azs = s.azs.iter().map(String::as_str);
                check_subnet_azs(&sat, azs, &known, Wording::Operator, &mut out);
                let (own, overlap) = manual.check(j, &self.subnet(s), &sat);
                // The operator's model calls the range `cidr`, and reports an overlap first.
                out.extend(
                    overlap
                        .into_iter()
                        .chain(own)
                        .map(|f| range_as_cidr(f, &sat)),
                );
            }
        }
        let mut seen = HashSet::new();
        for (i, v) in vm_types.iter().enumerate() {
            let at = format!("vm_types[{i}]");
            if !seen.insert(v.name.as_str()) {
                out.push(Finding::error(
                    format!("{at}.name"),
                    format!("duplicate VM type '{}'", v.name),
                ));
            }
            for (field, val) in [
                ("cpu", v.cpu),
                ("ram", v.ram),
                ("ephemeral_disk", v.ephemeral_disk),
            ] {
                if val == 0 {
                    out.push(Finding::error(
                        format!("{at}.{field}"),
                        "must be greater than 0",
                    ));
                }
            }
            if v.cloud_properties_for(self.iaas).is_none() {
                out.push(Finding::error(
                    format!("{at}.cloud_properties"),
                    format!(
                        "no {:?} instance type has {} CPUs and {} MB RAM; set cloud_properties",
                        self.iaas, v.cpu, v.ram
                    ),
                ));
            }
        }
        let mut seen = HashSet::new();
        for (i, d) in self.effective_disk_types().iter().enumerate() {
            if d.disk_size == 0 {
                out.push(Finding::error(
                    format!("disk_types[{i}].disk_size"),
                    "must be greater than 0",
                ));
            }
            if !seen.insert(d.name()) {
                out.push(Finding::error(
                    format!("disk_types[{i}].name"),
                    format!("duplicate disk type '{}'", d.name()),
                ));
            }
        }
        let c = &self.compilation;
        let refs = CompilationRefs {
            workers: i64::from(c.workers),
            network: c.network.as_deref(),
            az: c.az.as_deref(),
            vm_type: Some(&c.vm_type),
        };
        check_compilation(&refs, &known, Wording::Operator, &mut out);
        out
    }

    /// The cloud-config subnet for `s`.
    fn subnet(&self, s: &SubnetConfig) -> Subnet {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Subnet {
            range: Some(s.cidr.clone()),
            gateway: Some(s.gateway.clone()),
            dns: list(&s.dns),
            reserved: list(&s.reserved),
            static_ips: list(&s.static_ips),
            az: None,
            azs: list(&s.azs),
            cloud_properties: s.cloud_properties.clone(),
            extra: Map::new(),
        }
    }

    /// The BOSH cloud config. Fails with [`Error::Invalid`] naming the first problem when
    /// [`validate`](Self::validate) finds any.
    pub fn cloud_config(&self) -> Result<CloudConfig> {
        if let Some(f) = self.validate().into_iter().next() {
            return Err(Error::Invalid {
                field: f.field,
                message: f.message,
            });
        }
        let vm_types = self
            .effective_vm_types()
            .iter()
            .map(|v| VmType {
                name: v.name.clone(),
                cloud_properties: v.cloud_properties_for(self.iaas).unwrap_or_default(),
                extra: Map::new(),
            })
            .collect();
        let disk_types = self
            .effective_disk_types()
            .iter()
            .map(|d| DiskType {
                name: d.name(),
                disk_size: i64::from(d.disk_size),
                cloud_properties: d.cloud_properties.clone(),
                extra: Map::new(),
            })
            .collect();
        let first_network = self
            .networks
            .first()
            .map(|n| n.name.clone())
            .unwrap_or_default();
        Ok(CloudConfig {
            azs: self
                .azs
                .iter()
                .map(|a| Az {
                    name: a.name.clone(),
                    cpi: None,
                    cloud_properties: a.cloud_properties.clone(),
                    extra: Map::new(),
                })
                .collect(),
            networks: self
                .networks
                .iter()
                .map(|n| Network {
                    name: n.name.clone(),
                    network_type: Some("manual".into()),
                    subnets: n.subnets.iter().map(|s| self.subnet(s)).collect(),
                    cloud_properties: None,
                    extra: Map::new(),
                })
                .collect(),
            vm_types,
            vm_extensions: self.vm_extensions.clone(),
            disk_types,
            compilation: Some(Compilation {
                workers: i64::from(self.compilation.workers),
                az: self
                    .compilation
                    .az
                    .clone()
                    .or_else(|| self.azs.first().map(|a| a.name.clone())),
                vm_type: Some(self.compilation.vm_type.clone()),
                network: self.compilation.network.clone().unwrap_or(first_network),
                reuse_compilation_vms: Some(self.compilation.reuse_compilation_vms),
                extra: Map::new(),
            }),
            extra: Map::new(),
        })
    }
}

/// An operator-given name of a `what` (at `field`) must not be blank nor repeat an earlier one;
/// `key` is what makes two names the same.
fn check_operator_name(
    what: &str,
    name: &str,
    key: String,
    seen: &mut HashSet<String>,
    field: &str,
    out: &mut Vec<Finding>,
) {
    if name.trim().is_empty() {
        out.push(Finding::error(field, format!("{what} name is empty")));
    } else if !seen.insert(key) {
        out.push(Finding::error(field, format!("duplicate {what} '{name}'")));
    }
}

/// A finding about a subnet's `range` (at `sat`), pointed at the operator's name for it, `cidr`.
fn range_as_cidr(mut f: Finding, sat: &str) -> Finding {
    if let Some(rest) = f.field.strip_prefix(&format!("{sat}.range")) {
        f.field = format!("{sat}.cidr{rest}");
    }
    f
}
