//! The Installation Dashboard and a product's settings pages: tiles, staging, one form at a
//! time, and the placement sections (Assign AZs and Networks, Resource Config, Errands).

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SaveOutcome;
#[cfg(feature = "ssr")]
use super::{actor, context};

/// A tile on the Installation Dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TileSummary {
    /// Product GUID (`<name>-<20 hex>`), `p-bosh-...` for the Director.
    pub guid: String,
    pub name: String,
    pub label: String,
    pub version: String,
    /// Empty when the product is deployable; otherwise why not, in the operator's words.
    pub incomplete_reasons: Vec<crate::backend::Problem>,
    /// Against the last deploy: `install` (never deployed), `unchanged` (deployed as staged),
    /// `update` (deployed, with pending changes) or `delete` (its deletion is staged).
    #[serde(default)]
    pub action: String,
}

impl TileSummary {
    /// Whether a deploy of this product was recorded (it then offers Delete, not Unstage).
    pub fn is_deployed(&self) -> bool {
        matches!(self.action.as_str(), "unchanged" | "update" | "delete")
    }

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
    /// Assign AZs and Networks holds every placement the product needs (its navigation mark).
    #[serde(default)]
    pub placement_complete: bool,
    /// Properties and jobs the tile's job templates use that its releases' job specs do not
    /// declare (`tiles::job_specs`), one sentence each: warnings, never a block.
    #[serde(default)]
    pub job_spec_warnings: Vec<String>,
    /// What Ops Manager tolerates in the tile's metadata and the import accepted as it does
    /// (its lint warnings), one line each: never a block.
    #[serde(default)]
    pub lint_warnings: Vec<String>,
    /// Notes on this form's fields that never block a save, by reference: the PKS service
    /// adapter's warnings (a plan value its clusters' manifests cannot carry). Shown under the
    /// field they are about, as the server saw the staged values.
    #[serde(default)]
    pub notes: BTreeMap<String, Vec<String>>,
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

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;

    /// Implemented by the server; provided to the UI as `Arc<dyn ProductsBackend>` context.
    #[async_trait::async_trait]
    pub trait ProductsBackend: Send + Sync + 'static {
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
}

#[server(prefix = "/_app", endpoint = "dashboard")]
pub async fn load_dashboard() -> Result<Dashboard, ServerFnError> {
    let backend = context::<dyn ProductsBackend>()?;
    backend
        .dashboard()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "stage_product")]
pub async fn stage_product(name: String, version: String) -> Result<String, ServerFnError> {
    let backend = context::<dyn ProductsBackend>()?;
    backend
        .stage_product(&actor().await?, &name, &version)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "unstage_product")]
pub async fn unstage_product(guid: String) -> Result<(), ServerFnError> {
    let backend = context::<dyn ProductsBackend>()?;
    backend
        .unstage_product(&actor().await?, &guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "delete_available_product")]
pub async fn delete_available_product(name: String, version: String) -> Result<(), ServerFnError> {
    let backend = context::<dyn ProductsBackend>()?;
    backend
        .delete_available_product(&actor().await?, &name, &version)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// One page of a product's settings: form `form` (the first when `None`), or with `section`
/// one of the placement sections. The answer carries only what that page reads.
#[server(prefix = "/_app", endpoint = "product_settings")]
pub async fn load_product_settings(
    guid: String,
    form: Option<String>,
    section: bool,
) -> Result<ProductSettings, ServerFnError> {
    let backend = context::<dyn ProductsBackend>()?;
    backend
        .product_settings(&guid, form.as_deref(), section)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

// Assign AZs and Networks, Resource Config, Errands

#[server(prefix = "/_app", endpoint = "product_placement")]
pub async fn load_product_placement(guid: String) -> Result<ProductPlacement, ServerFnError> {
    let backend = context::<dyn PlacementBackend>()?;
    backend
        .product_placement(&guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `section` is `azs`, `resources` or `errands`; `placement_json` the edited page as JSON.
#[server(prefix = "/_app", endpoint = "save_product_placement")]
pub async fn save_product_placement(
    guid: String,
    section: String,
    placement_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let placement: ProductPlacement = crate::backend::from_json("placement", &placement_json)?;
    let backend = context::<dyn PlacementBackend>()?;
    let actor = actor().await?;
    let saved = match section.as_str() {
        "azs" => {
            backend
                .save_networks_and_azs(&actor, &guid, &placement)
                .await
        }
        "resources" => backend.save_resources(&actor, &guid, &placement).await,
        "errands" => backend.save_errands(&actor, &guid, &placement).await,
        other => {
            return Err(crate::backend::bad_request(&format!(
                "section '{other}' does not exist: azs, resources or errands"
            )))
        }
    };
    saved.map_err(|e| ServerFnError::new(e.0))
}
