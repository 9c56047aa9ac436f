//! Instance log downloads (Ops Manager's Status-tab log links; its documented API has no
//! route for them, so these are Tileworks's own, in the same style):
//!
//! - `POST /api/v0/deployed/products/:guid/logs` `{"instance_group": "master", "index": 0}`
//!   (leave `index` out for the whole group; optional `"type": "job,agent"`) → `202` with the
//!   fetch (`{"id", "status": "running", …}`).
//! - `GET …/logs/:id` → the fetch: `running`, `ready` (with `download_url`) or `failed`
//!   (with `error`).
//! - `GET …/logs/:id/download` → the bundle, `application/gzip`, as an attachment named
//!   `<deployment>-<group>[-<index>]-<time>.tgz`; `409` while it is not ready.
//!
//! Only roles that may see credentials may use them (logs can hold secrets): others get `403`.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::{json_body, Caller};
use crate::deployed::instance_logs::FetchRequest;
use crate::http::AppState;
use crate::{Error, Result};

pub fn routes() -> Router<AppState> {
    let logs = "/api/v0/deployed/products/{guid}/logs";
    Router::new()
        .route(logs, post(start))
        .route(&format!("{logs}/{{id}}"), get(show))
        .route(&format!("{logs}/{{id}}/download"), get(download))
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Path(guid): Path<String>,
    body: Bytes,
) -> Result<Response> {
    // The role first: a caller who may not have logs learns nothing about the deployment.
    crate::deployed::instance_logs::may_fetch(&caller)?;
    let request = FetchRequest::parse(&json_body(&body)?)?;
    let fetch = state.logs.start(&caller, &guid, &request).await?;
    Ok((StatusCode::ACCEPTED, Json(fetch)).into_response())
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path((guid, id)): Path<(String, String)>,
) -> Result<Response> {
    Ok(Json(state.logs.status(&caller, &guid, &id).await?).into_response())
}

async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path((guid, id)): Path<(String, String)>,
) -> Result<Response> {
    let ready = match state.logs.download(&caller, &guid, &id).await? {
        Ok(ready) => ready,
        Err(fetch) => {
            let message = match &fetch.error {
                Some(error) => format!("the log fetch failed: {error}"),
                None => "the logs are still being fetched; try again when the status is ready"
                    .to_string(),
            };
            return Ok((
                StatusCode::CONFLICT,
                Json(json!({"errors": {"id": [message]}, "status": fetch.status})),
            )
                .into_response());
        }
    };
    let len = ready
        .file
        .metadata()
        .await
        .map_err(|e| Error::io(format!("reading the bundle of log fetch '{id}'"), e))?
        .len();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(ready.file));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    // The name is built from filename-safe characters only.
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", ready.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
