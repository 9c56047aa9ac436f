//! `GET /api/v0/staged/products/:guid/jobs` and
//! `GET/PUT …/jobs/:job_guid/resource_config` (the full object, as om sends it).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::{answer, om_json, version_of, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::field_changes::Target;
use crate::Result;

pub async fn list(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Response> {
    let version = version_of(&state, &guid).await?;
    let jobs = state.products.jobs(&guid).await?;
    Ok(with_version(json!({ "jobs": jobs }), version))
}

pub async fn resource_config(
    State(state): State<AppState>,
    Path((guid, job_guid)): Path<(String, String)>,
) -> Result<Response> {
    let version = version_of(&state, &guid).await?;
    let body = state.products.resource_config(&guid, &job_guid).await?;
    Ok(with_version(body, version))
}

/// The whole resource config of one job (om merges its keys over the current one first).
pub async fn update_resource_config(
    State(state): State<AppState>,
    Path((guid, job_guid)): Path<(String, String)>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        mut body,
        expected,
    } = write;
    if let Some(map) = body.as_object_mut() {
        map.remove("config_version");
    }
    let (config, unread) = om_json::resource_config(&body)?;
    // Findings and the 409 are about this job's resources.
    let scope = state
        .products
        .jobs(&guid)
        .await?
        .into_iter()
        .find(|j| j.guid == job_guid)
        .map(|j| format!("resource-config.{}", j.name))
        .unwrap_or_else(|| "resource-config".into());
    let refused = om_json::under(&scope, unread);
    let result = state
        .products
        .set_resource_config(
            &guid,
            &job_guid,
            &config,
            &refused,
            expected,
            &caller.username,
        )
        .await;
    answer(&state, result, Target::Product(&guid), &[scope]).await
}
