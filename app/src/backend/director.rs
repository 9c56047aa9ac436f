//! The BOSH Director tile's settings page: IaaS, Director config, AZs, networks, VM and disk
//! types and the resulting cloud config.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SaveOutcome;
#[cfg(feature = "ssr")]
use super::{actor, context, from_json};

/// The Director tile's settings page: every section's current values. IaaS secrets arrive as
/// [`REDACTED`] when set (they are write-only in the browser).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectorPage {
    pub guid: String,
    pub version: String,
    pub config_version: i64,
    /// `vsphere`, `aws`, `gcp`, `azure`, `openstack` or `embedded`.
    pub iaas: String,
    /// Whether Tileworks drives its embedded Director stand-in (the `embedded` IaaS is offered).
    #[serde(default)]
    pub embedded_available: bool,
    pub iaas_configuration: BTreeMap<String, Value>,
    pub director_configuration: BTreeMap<String, Value>,
    pub azs: Vec<DirectorAz>,
    pub networks: Vec<DirectorNetwork>,
    pub icmp_checks_enabled: bool,
    /// The Director's own network and singleton AZ (empty when not chosen).
    pub network: String,
    pub singleton_az: String,
    pub vm_types: Vec<tiles::cloud_config::VmTypeConfig>,
    /// True when `vm_types` is the default catalogue.
    pub vm_types_builtin: bool,
    pub disk_types: Vec<tiles::cloud_config::DiskTypeConfig>,
    pub disk_types_builtin: bool,
    /// What keeps the Director from being deployable, in the service's keys and words.
    pub problems: BTreeMap<String, Vec<String>>,
    /// The cloud config YAML, or the findings that prevent it.
    pub cloud_config: Result<String, BTreeMap<String, Vec<String>>>,
    /// The Security section as saved (om's `security_configuration`).
    #[serde(default)]
    pub security_configuration: BTreeMap<String, Value>,
    /// The Syslog section as saved (om's `syslog_configuration`).
    #[serde(default)]
    pub syslog_configuration: BTreeMap<String, Value>,
    /// The Resource Config section: the Director's jobs, `director` first.
    #[serde(default)]
    pub resources: Vec<DirectorJobResources>,
}

/// One Director job on the Resource Config section, as saved and what automatic means for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectorJobResources {
    /// `director` or `compilation`.
    pub job: String,
    /// A count, or `automatic`.
    pub instances: String,
    /// A VM type's name, or `automatic`.
    pub instance_type: String,
    /// A size in MB, or `automatic`; `None`: the job has no persistent disk.
    pub persistent_disk_mb: Option<String>,
    /// What automatic means for this job, in words ("large.disk: 2 CPU, 8 GB RAM, 64 GB disk").
    pub automatic_vm: String,
    pub automatic_instances: String,
    pub automatic_disk: String,
}

/// A Security, Syslog or Resource Config form posted without the wasm and refused: the server
/// (`server/src/http/director_forms.rs`) renders the page again with this in its context, so
/// the form shows what was posted and the errors under their fields.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectorPosted {
    /// The section's slug (`security`, `syslog`, `resource-config`).
    pub section: String,
    /// The posted fields by their form names.
    pub values: BTreeMap<String, String>,
    /// The refusal by the service's field keys (`syslog_configuration.port`,
    /// `resource-config.director.instance_type`).
    pub errors: BTreeMap<String, Vec<String>>,
    pub message: String,
    /// The configuration version the form posts next: the one it was opened at, or the
    /// current one after another operator's save (the operator saw the refusal).
    pub config_version: i64,
}

/// What the IaaS and Director Config sections save (either or both, as the page's `body_json`:
/// the shapes `PUT /api/v0/staged/director/properties` takes): each section's fields by name;
/// `iaas_configuration` names its IaaS with `iaas`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorProperties {
    #[serde(default)]
    pub iaas_configuration: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub director_configuration: Option<serde_json::Map<String, Value>>,
}

/// An availability zone: AWS/GCP/Azure/OpenStack name it with `iaas_identifier`, vSphere places
/// it on clusters. Fields the UI does not edit (explicit `cloud_properties`…) travel in `other`
/// so a save keeps them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectorAz {
    pub name: String,
    pub iaas_identifier: String,
    pub clusters: Vec<AzCluster>,
    pub other: BTreeMap<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AzCluster {
    pub cluster: String,
    pub resource_pool: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectorNetwork {
    pub name: String,
    pub subnets: Vec<DirectorSubnet>,
}

/// A subnet as Ops Manager shows it: lists of IPs and ranges are comma-separated text.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectorSubnet {
    pub iaas_identifier: String,
    pub cidr: String,
    pub dns: String,
    pub gateway: String,
    pub reserved_ip_ranges: String,
    pub static_ip_ranges: String,
    pub availability_zone_names: Vec<String>,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;

    /// The Director tile's settings; implemented by the server, provided as
    /// `Arc<dyn DirectorBackend>` context.
    #[async_trait::async_trait]
    pub trait DirectorBackend: Send + Sync + 'static {
        async fn director_page(&self) -> Result<DirectorPage, BackendError>;
        async fn save_director_properties(
            &self,
            actor: &str,
            config_version: i64,
            properties: DirectorProperties,
        ) -> Result<SaveOutcome, BackendError>;
        async fn save_director_azs(
            &self,
            actor: &str,
            config_version: i64,
            azs: Vec<DirectorAz>,
        ) -> Result<SaveOutcome, BackendError>;
        async fn save_director_networks(
            &self,
            actor: &str,
            config_version: i64,
            networks: Vec<DirectorNetwork>,
            icmp_checks_enabled: bool,
        ) -> Result<SaveOutcome, BackendError>;
        async fn save_director_network_and_az(
            &self,
            actor: &str,
            config_version: i64,
            network: String,
            singleton_az: String,
        ) -> Result<SaveOutcome, BackendError>;
        /// `None` restores the default catalogue.
        async fn save_director_vm_types(
            &self,
            actor: &str,
            config_version: i64,
            vm_types: Option<Vec<tiles::cloud_config::VmTypeConfig>>,
        ) -> Result<SaveOutcome, BackendError>;
        /// An empty list restores the default catalogue.
        async fn save_director_disk_types(
            &self,
            actor: &str,
            config_version: i64,
            disk_types: Vec<tiles::cloud_config::DiskTypeConfig>,
        ) -> Result<SaveOutcome, BackendError>;
    }
}

// Director tile. Lists and objects travel as one JSON string (`*_json`): arbitrary JSON travels
// more faithfully that way than through form encoding.

#[server(prefix = "/_app", endpoint = "director")]
pub async fn load_director() -> Result<DirectorPage, ServerFnError> {
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .director_page()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "save_director_properties")]
pub async fn save_director_properties(
    config_version: i64,
    body_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let properties = from_json("body", &body_json)?;
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .save_director_properties(&actor().await?, config_version, properties)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "save_director_azs")]
pub async fn save_director_azs(
    config_version: i64,
    azs_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let azs = from_json("availability zones", &azs_json)?;
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .save_director_azs(&actor().await?, config_version, azs)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "save_director_networks")]
pub async fn save_director_networks(
    config_version: i64,
    networks_json: String,
    icmp_checks_enabled: bool,
) -> Result<SaveOutcome, ServerFnError> {
    let networks = from_json("networks", &networks_json)?;
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .save_director_networks(
            &actor().await?,
            config_version,
            networks,
            icmp_checks_enabled,
        )
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "save_director_network_and_az")]
pub async fn save_director_network_and_az(
    config_version: i64,
    network: String,
    singleton_az: String,
) -> Result<SaveOutcome, ServerFnError> {
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .save_director_network_and_az(&actor().await?, config_version, network, singleton_az)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `vm_types_json` is a list of VM types, or `null` to restore the default catalogue.
#[server(prefix = "/_app", endpoint = "save_director_vm_types")]
pub async fn save_director_vm_types(
    config_version: i64,
    vm_types_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let vm_types = from_json("VM types", &vm_types_json)?;
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .save_director_vm_types(&actor().await?, config_version, vm_types)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `disk_types_json` is a list of disk types; an empty list restores the default catalogue.
#[server(prefix = "/_app", endpoint = "save_director_disk_types")]
pub async fn save_director_disk_types(
    config_version: i64,
    disk_types_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let disk_types = from_json("disk types", &disk_types_json)?;
    let backend = context::<dyn DirectorBackend>()?;
    backend
        .save_director_disk_types(&actor().await?, config_version, disk_types)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
