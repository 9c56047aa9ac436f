//! `GET/POST/DELETE /api/v0/available_products`: imported tiles. The upload (multipart field
//! `product[file]`, as `om upload-product` sends it) streams to the tile store chunk by chunk.

use std::collections::HashMap;

use axum::extract::{Multipart, Query, State};
use axum::Extension;
use axum::Json;
use serde_json::{json, Value};

use app::session::CurrentUser;

use crate::http::AppState;
use crate::products::ImportOutcome;
use crate::{Error, Result};

/// The multipart field carrying the file.
pub const FILE_FIELD: &str = "product[file]";

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(
        serde_json::to_value(state.products.available().await?).unwrap_or(Value::Null),
    ))
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    mut multipart: Multipart,
) -> Result<Json<ImportOutcome>> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        Error::invalid(FILE_FIELD, format!("the upload could not be read: {e}"))
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some(FILE_FIELD) {
            continue;
        }
        let mut upload = state.products.begin_upload().await?;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            upload.write(&chunk).await?;
        }
        let outcome = state
            .products
            .finish_import(upload, &caller.username)
            .await?;
        return Ok(Json(outcome));
    }
    Err(Error::invalid(
        FILE_FIELD,
        format!("the multipart body has no '{FILE_FIELD}' field"),
    ))
}

/// `?product_name=N&version=V` deletes one product; no query deletes every unused one.
pub async fn delete(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    match (query.get("product_name"), query.get("version")) {
        (Some(name), Some(version)) => {
            state.products.delete_available(name, version).await?;
            Ok(Json(
                json!({"deleted": [{"name": name, "product_version": version}]}),
            ))
        }
        (None, None) => {
            let deleted: Vec<Value> = state
                .products
                .delete_unused()
                .await?
                .into_iter()
                .map(|(name, version)| json!({"name": name, "product_version": version}))
                .collect();
            Ok(Json(json!({ "deleted": deleted })))
        }
        _ => Err(Error::invalid(
            "product_name",
            "give both product_name and version, or neither to delete every unused product",
        )),
    }
}
