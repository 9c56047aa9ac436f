//! `GET/PUT/DELETE /api/v0/vm_types` (DELETE restores the default catalogue, as om's
//! `configure-director` expects before its PUT) and `GET/PUT /api/v0/disk_types`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::json;
use tiles::cloud_config::DiskTypeConfig;

use app::session::CurrentUser;

use super::{answer, expected_version, scope, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::field_changes::Target;
use crate::products::VmTypeEntry;
use crate::{Error, Result};

pub async fn list(State(state): State<AppState>) -> Result<Response> {
    let version = state.products.director().await?.config_version;
    let types = state.products.vm_types().await?;
    Ok(with_version(json!({ "vm_types": types }), version))
}

pub async fn replace(State(state): State<AppState>, write: ConfigWrite) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let types: Vec<VmTypeEntry> = serde_json::from_value(
        body.get("vm_types")
            .cloned()
            .ok_or_else(|| Error::invalid("vm_types", "can't be blank"))?,
    )
    .map_err(|e| Error::invalid("vm_types", e.to_string()))?;
    let result = state
        .products
        .set_vm_types(types, expected, &caller.username)
        .await;
    answer(&state, result, Target::Director, &scope(&["vm_types"])).await
}

pub async fn reset(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    headers: HeaderMap,
) -> Result<Response> {
    let expected = expected_version(&headers, &serde_json::Value::Null)?;
    let result = state
        .products
        .reset_vm_types(expected, &caller.username)
        .await;
    answer(&state, result, Target::Director, &scope(&["vm_types"])).await
}

pub async fn disk_types(State(state): State<AppState>) -> Result<Response> {
    let version = state.products.director().await?.config_version;
    let types: Vec<serde_json::Value> = state
        .products
        .disk_types()
        .await?
        .into_iter()
        .map(|d| json!({"name": d.name(), "size_mb": d.disk_size, "disk_size": d.disk_size, "cloud_properties": d.cloud_properties}))
        .collect();
    Ok(with_version(json!({ "disk_types": types }), version))
}

pub async fn replace_disk_types(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let types: Vec<DiskTypeConfig> = serde_json::from_value(
        body.get("disk_types")
            .cloned()
            .ok_or_else(|| Error::invalid("disk_types", "can't be blank"))?,
    )
    .map_err(|e| Error::invalid("disk_types", e.to_string()))?;
    let result = state
        .products
        .set_disk_types(types, expected, &caller.username)
        .await;
    answer(&state, result, Target::Director, &scope(&["disk_types"])).await
}
