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

#[server(prefix = "/_app", endpoint = "product_settings")]
pub async fn load_product_settings(guid: String) -> Result<ProductSettings, ServerFnError> {
    let backend = crate::backend::backend()?;
    backend
        .product_settings(&guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `values_json` is a JSON object of reference → value: arbitrary JSON travels more faithfully
/// as one JSON string than through form encoding.
#[server(prefix = "/_app", endpoint = "save_product_form")]
pub async fn save_product_form(
    guid: String,
    form: String,
    config_version: i64,
    values_json: String,
) -> Result<SaveOutcome, ServerFnError> {
    let values: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&values_json)
            .map_err(|e| ServerFnError::new(format!("values: not a JSON object: {e}")))?;
    let backend = crate::backend::backend()?;
    backend
        .save_form(
            &crate::backend::actor().await?,
            &guid,
            &form,
            config_version,
            values,
        )
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
