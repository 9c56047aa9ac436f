//! `GET /api/v0/staged/products/:guid/jobs` and
//! `GET/PUT …/jobs/:job_guid/resource_config` (the full object, as om sends it).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::json;

use app::session::CurrentUser;

use super::{expected_version, json_body, may_write, saved, version_of, with_version};
use crate::http::AppState;
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

pub async fn update_resource_config(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path((guid, job_guid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    may_write(&caller)?;
    let mut body = json_body(&body)?;
    let expected = expected_version(&headers, &body)?;
    if let Some(map) = body.as_object_mut() {
        map.remove("config_version");
    }
    let done = state
        .products
        .set_resource_config(&guid, &job_guid, &body, expected, &caller.username)
        .await?;
    Ok(saved(done))
}
