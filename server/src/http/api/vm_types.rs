//! `GET/PUT/DELETE /api/v0/vm_types` (DELETE restores the default catalogue, as om's
//! `configure-director` expects before its PUT) and `GET/PUT /api/v0/disk_types`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::json;
use tiles::cloud_config::DiskTypeConfig;

use app::session::CurrentUser;

use super::{director_answer, expected_version, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::VmTypeEntry;
use crate::Result;

pub async fn list(State(state): State<AppState>) -> Result<Response> {
    let version = state.products.director().await?.config_version;
    let types = state.products.vm_types().await?;
    Ok(with_version(json!({ "vm_types": types }), version))
}

pub async fn replace(State(state): State<AppState>, write: ConfigWrite) -> Result<Response> {
    let types: Vec<VmTypeEntry> = write.read("vm_types")?;
    let result = state
        .products
        .set_vm_types(types, write.expected, write.actor())
        .await;
    director_answer(&state, result, &["vm_types"]).await
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
    director_answer(&state, result, &["vm_types"]).await
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
    let types: Vec<DiskTypeConfig> = write.read("disk_types")?;
    let result = state
        .products
        .set_disk_types(types, write.expected, write.actor())
        .await;
    director_answer(&state, result, &["disk_types"]).await
}
