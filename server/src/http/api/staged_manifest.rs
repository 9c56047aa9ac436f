//! `GET /api/v0/staged/products/:guid/manifest`: the manifest the staged configuration renders
//! to now, wrapped as om's `staged-manifest` expects (`{"manifest": …}`), credentials as
//! `((placeholders))`. A product that cannot render yet is a 422 naming why.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::Result;

pub async fn show(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Json<Value>> {
    let manifest = state.installations.staged_manifest(&guid).await?;
    Ok(Json(json!({ "manifest": manifest })))
}
