//! The Director tile's configuration: `GET/PUT /api/v0/staged/director/properties`,
//! `iaas_configurations`, `availability_zones`, `networks`, `network_and_az`, and the resulting
//! cloud config (`GET /api/v0/staged/cloud_config`, read-only).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use app::session::CurrentUser;

use super::{director_answer, om_json, redaction, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::commands::{DirectorPropertiesUpdate, Findings};
use crate::products::{AzSpec, NetworkSpec};
use crate::{Error, Result};

async fn director_version(state: &AppState) -> Result<i64> {
    Ok(state.products.director().await?.config_version)
}

pub async fn properties(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let redact = redaction(&caller, query.get("redact").map(String::as_str))?;
    let version = director_version(&state).await?;
    Ok(with_version(
        state.products.director_properties(redact).await?,
        version,
    ))
}

pub async fn update_properties(
    State(state): State<AppState>,
    mut write: ConfigWrite,
) -> Result<Response> {
    if let Some(map) = write.body.as_object_mut() {
        map.remove("config_version");
    }
    let (update, refused) = om_json::director_properties(&write.body)?;
    save_properties(&state, &update, &refused, &write).await
}

/// Stores a properties update (every properties write ends here); a stale write names the
/// changes within the sections it sets.
async fn save_properties(
    state: &AppState,
    update: &DirectorPropertiesUpdate,
    refused: &Findings,
    write: &ConfigWrite,
) -> Result<Response> {
    let result = state
        .products
        .set_director_properties(update, refused, write.expected, write.actor())
        .await;
    let sections = update.sections();
    let sections: Vec<&str> = sections.iter().map(String::as_str).collect();
    director_answer(state, result, &sections).await
}

/// One IaaS configuration (Tileworks has exactly one), redacted unless asked otherwise.
pub async fn iaas_configurations(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let redact = redaction(&caller, query.get("redact").map(String::as_str))?;
    let props = state.products.director_properties(redact).await?;
    Ok(Json(
        json!({"iaas_configurations": [props["iaas_configuration"].clone()]}),
    ))
}

/// A second IaaS configuration is not supported: 501 tells om to fall back to
/// `PUT /api/v0/staged/director/properties`.
pub async fn add_iaas_configuration() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        Json(json!({"errors": {"base": ["Tileworks has one IaaS configuration; update it with PUT /api/v0/staged/director/properties"]}})),
    )
        .into_response()
}

/// `{"iaas_configuration": {…}}` updates the one IaaS configuration, by its GUID.
pub async fn update_iaas_configuration(
    State(state): State<AppState>,
    Path(iaas_guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let current = state.products.director().await?;
    if current.settings.iaas_configuration.get("guid") != Some(&Value::String(iaas_guid.clone())) {
        return Err(Error::NotFound(format!("IaaS configuration '{iaas_guid}'")));
    }
    let config = write.part("iaas_configuration")?;
    let (update, refused) = om_json::director_properties(&json!({ "iaas_configuration": config }))?;
    save_properties(&state, &update, &refused, &write).await
}

pub async fn availability_zones(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    Ok(with_version(
        state.products.availability_zones().await?,
        version,
    ))
}

/// `{"availability_zones": [{"name", …}]}` replaces the list.
pub async fn replace_availability_zones(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let azs = write.read("availability_zones")?;
    save_availability_zones(&state, azs, &write).await
}

/// Stores the whole AZ list (every AZ write ends here); a stale write names the AZ changes.
async fn save_availability_zones(
    state: &AppState,
    azs: Vec<AzSpec>,
    write: &ConfigWrite,
) -> Result<Response> {
    let result = state
        .products
        .set_availability_zones(azs, write.expected, write.actor())
        .await;
    director_answer(state, result, &["availability_zones"]).await
}

/// `{"availability_zone": {…}}` adds one (om's per-AZ create).
pub async fn add_availability_zone(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let az: AzSpec = write.read("availability_zone")?;
    let mut azs = state.products.director().await?.settings.azs;
    if azs.iter().any(|a| a.name == az.name) {
        return Err(Error::invalid(
            "availability_zone.name",
            format!("'{}' already exists", az.name),
        ));
    }
    azs.push(az);
    save_availability_zones(&state, azs, &write).await
}

/// `{"availability_zone": {…}}` updates the AZ with this GUID (om's per-AZ update).
pub async fn update_availability_zone(
    State(state): State<AppState>,
    Path(az_guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let mut az: AzSpec = write.read("availability_zone")?;
    let mut azs = state.products.director().await?.settings.azs;
    let Some(slot) = azs.iter_mut().find(|a| a.guid == az_guid) else {
        return Err(Error::NotFound(format!("availability zone '{az_guid}'")));
    };
    az.guid = az_guid;
    *slot = az;
    save_availability_zones(&state, azs, &write).await
}

pub async fn networks(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    Ok(with_version(
        state.products.director_networks().await?,
        version,
    ))
}

/// `{"icmp_checks_enabled": bool, "networks": [...]}` replaces the networks.
pub async fn update_networks(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let networks: Vec<NetworkSpec> = write.read("networks")?;
    let icmp = write
        .body
        .get("icmp_checks_enabled")
        .and_then(Value::as_bool);
    let result = state
        .products
        .set_director_networks(networks, icmp, write.expected, write.actor())
        .await;
    director_answer(&state, result, &["networks", "icmp_checks_enabled"]).await
}

pub async fn network_and_az(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    let value = state.products.director_network_and_az().await?;
    Ok(with_version(json!({ "network_and_az": value }), version))
}

/// `{"network_and_az": {"network": {"name"}, "singleton_availability_zone": {"name"}}}`.
pub async fn update_network_and_az(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let placement = om_json::director_placement(write.part("network_and_az")?)?;
    let result = state
        .products
        .set_director_network_and_az(&placement, write.expected, write.actor())
        .await;
    director_answer(&state, result, &["network_and_az"]).await
}

/// `GET /api/v0/staged/director/manifest`: the Director's own manifest as its staged Security,
/// Syslog and Resource Config sections render it (`products/director_manifest.rs`).
pub async fn manifest(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(
        json!({"manifest": state.products.director_manifest().await?}),
    ))
}

/// The cloud config the Director settings produce, or 422 with what prevents it.
pub async fn cloud_config(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(
        json!({"cloud_config": state.products.cloud_config().await?}),
    ))
}

/// `GET /api/v0/staged/vm_extensions`: `{"vm_extensions": [{"name", "cloud_properties"}]}`
/// (om's `api.VMExtensionResponse`).
pub async fn vm_extensions(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    let list = state.products.vm_extensions().await?;
    Ok(with_version(json!({ "vm_extensions": list }), version))
}

/// `GET /api/v0/staged/vm_extensions/:name`: `{"vm_extension": {"name", "cloud_properties"}}`.
pub async fn vm_extension(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response> {
    let version = director_version(&state).await?;
    let entry = state.products.vm_extension(&name).await?;
    Ok(with_version(json!({ "vm_extension": entry }), version))
}

/// `PUT /api/v0/staged/vm_extensions/:name` with om's `{"name", "cloud_properties"}` (om's
/// `api.CreateVMExtension`): creates or replaces the extension. The body's `name`, when given,
/// must be the path's.
pub async fn put_vm_extension(
    State(state): State<AppState>,
    Path(name): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let entry = om_json::vm_extension(&name, &write.body)?;
    let result = state
        .products
        .put_vm_extension(entry, write.expected, write.actor())
        .await;
    director_answer(&state, result, &["vm_extensions"]).await
}

/// `DELETE /api/v0/staged/vm_extensions/:name`: 404 for an unknown name, 409 while a job names
/// it in `additional_vm_extensions`.
pub async fn delete_vm_extension(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    headers: axum::http::HeaderMap,
    Path(name): Path<String>,
) -> Result<Response> {
    let expected = super::expected_version(&headers, &Value::Null)?;
    let result = state
        .products
        .delete_vm_extension(&name, expected, &caller.username)
        .await;
    director_answer(&state, result, &["vm_extensions"]).await
}
