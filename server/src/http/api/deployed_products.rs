//! `GET /api/v0/deployed/products`: what Apply Changes deployed (the snapshots written after
//! each product's successful deploy), and `GET /api/v0/deployed/products/:guid/manifest`: the
//! manifest last deployed, as a bare document (om's `deployed-manifest` reads it unwrapped),
//! credentials as `((placeholders))`.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::Result;

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    let list: Vec<Value> = state
        .installations
        .deployed_products()
        .await?
        .into_iter()
        .map(|p| {
            json!({
                "installation_name": p.guid,
                "guid": p.guid,
                "type": p.name,
                "product_version": p.product_version,
                "installation_id": p.installation_id,
                "deployed_at": p.deployed_at,
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

pub async fn manifest(
    State(state): State<AppState>,
    Path(guid): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(state.installations.deployed_manifest(&guid).await?))
}
