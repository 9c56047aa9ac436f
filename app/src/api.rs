//! The UI's server functions. Each one runs on the server (behind the authentication layer,
//! under `/_app/`) and calls the [`Backend`](crate::backend) the server provides.

use leptos::prelude::*;

use crate::backend::{Dashboard, ProductPlacement, ProductSettings, SaveOutcome};

#[server(prefix = "/_app", endpoint = "dashboard")]
pub async fn load_dashboard() -> Result<Dashboard, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .dashboard()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "stage_product")]
pub async fn stage_product(name: String, version: String) -> Result<String, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .stage_product(&crate::backend::actor().await?, &name, &version)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "unstage_product")]
pub async fn unstage_product(guid: String) -> Result<(), ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .unstage_product(&crate::backend::actor().await?, &guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "delete_available_product")]
pub async fn delete_available_product(name: String, version: String) -> Result<(), ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .delete_available_product(&crate::backend::actor().await?, &name, &version)
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
    let backend = crate::backend::backend()?;
    backend
        .product_settings(&guid, form.as_deref(), section)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

// Assign AZs and Networks, Resource Config, Errands

#[server(prefix = "/_app", endpoint = "product_placement")]
pub async fn load_product_placement(guid: String) -> Result<ProductPlacement, ServerFnError> {
    let backend = crate::backend::placement_backend()?;
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
    let placement: ProductPlacement = serde_json::from_str(&placement_json)
        .map_err(|e| ServerFnError::new(format!("placement: {e}")))?;
    let backend = crate::backend::placement_backend()?;
    let actor = crate::backend::actor().await?;
    let saved = match section.as_str() {
        "azs" => {
            backend
                .save_networks_and_azs(&actor, &guid, &placement)
                .await
        }
        "resources" => backend.save_resources(&actor, &guid, &placement).await,
        "errands" => backend.save_errands(&actor, &guid, &placement).await,
        other => {
            return Err(ServerFnError::new(format!(
                "section '{other}' does not exist"
            )))
        }
    };
    saved.map_err(|e| ServerFnError::new(e.0))
}

// Director tile. Lists and objects travel as one JSON string (`*_json`): arbitrary JSON travels
// more faithfully that way than through form encoding.

#[cfg(feature = "ssr")]
fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, ServerFnError> {
    serde_json::from_str(text).map_err(|e| ServerFnError::new(format!("{what}: {e}")))
}

#[server(prefix = "/_app", endpoint = "director")]
pub async fn load_director() -> Result<crate::backend::DirectorPage, ServerFnError> {
    let backend = crate::backend::backend()?;
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
    let body = from_json("body", &body_json)?;
    let backend = crate::backend::backend()?;
    backend
        .save_director_properties(&crate::backend::actor().await?, config_version, body)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "save_director_azs")]
pub async fn save_director_azs(
    config_version: i64,
    azs_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let azs = from_json("availability zones", &azs_json)?;
    let backend = crate::backend::backend()?;
    backend
        .save_director_azs(&crate::backend::actor().await?, config_version, azs)
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
    let backend = crate::backend::backend()?;
    backend
        .save_director_networks(
            &crate::backend::actor().await?,
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
    let backend = crate::backend::backend()?;
    backend
        .save_director_network_and_az(
            &crate::backend::actor().await?,
            config_version,
            network,
            singleton_az,
        )
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
    let backend = crate::backend::backend()?;
    backend
        .save_director_vm_types(&crate::backend::actor().await?, config_version, vm_types)
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
    let backend = crate::backend::backend()?;
    backend
        .save_director_disk_types(&crate::backend::actor().await?, config_version, disk_types)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
