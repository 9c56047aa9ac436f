//! `GET /api/v0/deployed/products`: what the last Apply Changes deployed. Apply Changes arrives
//! with the installations pipeline; until then nothing is deployed.

use axum::Json;
use serde_json::{json, Value};

pub async fn list() -> Json<Value> {
    Json(json!([]))
}
