//! What the UI needs from the server, as data the browser can hold too.
//!
//! The UI's server functions do not reach into the server crate (that would be a dependency
//! cycle); they call a [`Backend`] that the server provides as Leptos context. Everything the
//! browser receives is one of the plain types below — secrets arrive redacted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A tile on the Installation Dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileSummary {
    /// Product GUID (`<name>-<20 hex>`), `p-bosh-...` for the Director.
    pub guid: String,
    pub name: String,
    pub label: String,
    pub version: String,
    /// Empty when the product is deployable; otherwise why not, in the operator's words.
    pub incomplete_reasons: Vec<String>,
}

impl TileSummary {
    pub fn is_complete(&self) -> bool {
        self.incomplete_reasons.is_empty()
    }
}

/// An imported product that can be staged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AvailableProduct {
    pub name: String,
    pub label: String,
    pub version: String,
    /// True when this version is the one staged.
    pub staged: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub director: TileSummary,
    pub staged: Vec<TileSummary>,
    pub available: Vec<AvailableProduct>,
}

/// Everything a product's settings page needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductSettings {
    pub guid: String,
    pub label: String,
    pub product_version: String,
    /// Optimistic-concurrency version of the staged configuration; a save names the version it
    /// started from and is refused if another save came first.
    pub config_version: i64,
    /// The form the page shows and `template` is cut for: the one asked for, or the first
    /// when none (or an unknown one) was; `None` on the placement sections.
    pub form: Option<String>,
    /// The tile metadata this page reads, cut down by [`tiles::form_template::for_form`]: every
    /// form's name and label (the navigation), and only for the form shown its inputs and the
    /// blueprints they reach. The browser builds the form and validates as the operator types
    /// with it, with the same `tiles` code as the server. A few KB instead of the whole tile
    /// (PKS: 169 KB of YAML), and no YAML to parse on either side.
    pub template: tiles::metadata::ProductTemplate,
    /// Staged values (defaults where nothing is staged) of the properties the form shows.
    /// Credentials are redacted: every credential field reads `***`.
    pub values: BTreeMap<String, Value>,
    pub vm_types: Vec<tiles::validate::VmType>,
    pub disk_types: Vec<String>,
    pub availability_zones: Vec<String>,
    /// Per form name: complete (no validation errors) or not.
    pub form_complete: BTreeMap<String, bool>,
}

/// The marker the server puts in every credential field it redacts.
pub const REDACTED: &str = "***";

/// The result of saving one form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved {
        config_version: i64,
    },
    /// Nothing was saved: reference → messages.
    Invalid {
        errors: BTreeMap<String, Vec<String>>,
    },
    /// Another save came first; nothing was saved. Says what changed, per field of the page
    /// that saved (empty when the saves in between changed nothing the page edits).
    Conflict {
        message: String,
        current_version: i64,
        #[serde(default)]
        changes: Vec<FieldChange>,
    },
}

/// One field another operator changed since this operator's page loaded it (a refused stale
/// save's explanation). `reference` is the products service's name for the field (a property
/// reference, `director_configuration.ntp_servers_string`, `resource-config.<job>.instances`,
/// `errands.<name>.post_deploy`…); each page words it with its own labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub reference: String,
    /// Who saved it last (`None` when the change log no longer says).
    pub changed_by: Option<String>,
    /// Their value, as the page may hold it: credential fields read `***`.
    pub value: Value,
    /// A credential: the page says "changed" and never shows a value.
    pub credential: bool,
    /// The value before their save, when the change log kept it (never for credentials).
    #[serde(default)]
    pub previous: Option<Value>,
    /// What this operator's page loaded for the field (when the page sent it).
    #[serde(default)]
    pub started_from: Option<Value>,
}

/// A product's Assign AZs and Networks, Resource Config and Errands settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductPlacement {
    pub config_version: i64,
    /// The Director's catalogues to choose from.
    pub availability_zones: Vec<String>,
    pub networks: Vec<String>,
    pub vm_types: Vec<String>,
    pub disk_types: Vec<String>,
    pub singleton_availability_zone: Option<String>,
    pub other_availability_zones: Vec<String>,
    pub network: Option<String>,
    pub service_network: Option<String>,
    /// On-demand service tiles also place their service instances on a network.
    pub uses_service_network: bool,
    pub jobs: Vec<JobResources>,
    pub errands: Vec<ErrandSetting>,
}

/// One job's row of Resource Config. `None` means "Automatic" (the tile's default, shown in
/// the `*_default` fields).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobResources {
    pub job: String,
    pub guid: String,
    pub label: String,
    pub instances: Option<Value>,
    pub instances_default: Option<i64>,
    pub vm_type: Option<String>,
    pub vm_type_default: Option<String>,
    /// Persistent disk type name or size in MB.
    pub persistent_disk: Option<String>,
    pub persistent_disk_default: Option<String>,
    pub has_persistent_disk: bool,
}

/// One errand and its rule: `"default"`, `"on"`, `"off"` or (post-deploy) `"when-changed"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrandSetting {
    pub name: String,
    pub label: String,
    /// `post_deploy` or `pre_delete`.
    pub phase: String,
    pub rule: String,
    /// What "default" means for this errand.
    pub default_on: bool,
}

/// A failure the UI shows as text (not found, not allowed, internal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendError(pub String);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

// Director tile

/// The Director tile's settings page: every section's current values. IaaS secrets arrive as
/// [`REDACTED`] when set (they are write-only in the browser).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DirectorPage {
    pub guid: String,
    pub version: String,
    pub config_version: i64,
    /// `vsphere`, `aws`, `gcp`, `azure` or `openstack`.
    pub iaas: String,
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
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn Backend>` context.
    #[async_trait::async_trait]
    pub trait Backend: Send + Sync + 'static {
        async fn dashboard(&self) -> Result<Dashboard, BackendError>;
        /// Stages a product; returns its GUID. `actor` names who asked, for the change record.
        async fn stage_product(
            &self,
            actor: &str,
            name: &str,
            version: &str,
        ) -> Result<String, BackendError>;
        async fn unstage_product(&self, actor: &str, guid: &str) -> Result<(), BackendError>;
        async fn delete_available_product(
            &self,
            actor: &str,
            name: &str,
            version: &str,
        ) -> Result<(), BackendError>;
        /// The settings page of form `form` (`None` or an unknown name: the first form), or
        /// with `section`, of a placement section (no property metadata, no values).
        async fn product_settings(
            &self,
            guid: &str,
            form: Option<&str>,
            section: bool,
        ) -> Result<ProductSettings, BackendError>;
        // Director tile
        async fn director_page(&self) -> Result<DirectorPage, BackendError>;
        /// `body` holds `iaas_configuration` and/or `director_configuration` (and other
        /// sections), as `PUT /api/v0/staged/director/properties` takes them.
        async fn save_director_properties(
            &self,
            actor: &str,
            config_version: i64,
            body: Value,
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

    /// Placement, resources and errands (the product pages after the forms).
    #[async_trait::async_trait]
    pub trait PlacementBackend: Send + Sync + 'static {
        async fn product_placement(&self, guid: &str) -> Result<ProductPlacement, BackendError>;
        /// Saves the AZs and networks; `placement` carries the chosen names.
        async fn save_networks_and_azs(
            &self,
            actor: &str,
            guid: &str,
            placement: &ProductPlacement,
        ) -> Result<SaveOutcome, BackendError>;
        /// Saves every job's resources at once, all or nothing.
        async fn save_resources(
            &self,
            actor: &str,
            guid: &str,
            placement: &ProductPlacement,
        ) -> Result<SaveOutcome, BackendError>;
        async fn save_errands(
            &self,
            actor: &str,
            guid: &str,
            placement: &ProductPlacement,
        ) -> Result<SaveOutcome, BackendError>;
    }

    /// The placement backend of the current request.
    pub fn placement_backend() -> Result<Arc<dyn PlacementBackend>, leptos::prelude::ServerFnError>
    {
        leptos::prelude::use_context::<Arc<dyn PlacementBackend>>()
            .ok_or_else(|| leptos::prelude::ServerFnError::new("backend not configured"))
    }

    /// Who is asking: the user and role the server's authentication layer put in the request.
    pub async fn caller() -> Result<crate::session::CurrentUser, leptos::prelude::ServerFnError> {
        let axum::Extension(user) =
            leptos_axum::extract::<axum::Extension<crate::session::CurrentUser>>()
                .await
                .map_err(|_| leptos::prelude::ServerFnError::new("not logged in"))?;
        Ok(user)
    }

    /// The name of the user the request acts for.
    pub async fn actor() -> Result<String, leptos::prelude::ServerFnError> {
        Ok(caller().await?.username)
    }

    /// The backend of the current request.
    pub fn backend() -> Result<Arc<dyn Backend>, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Arc<dyn Backend>>()
            .ok_or_else(|| leptos::prelude::ServerFnError::new("backend not configured"))
    }
}
