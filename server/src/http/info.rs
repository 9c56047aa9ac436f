//! `GET /api/v0/info`: public; om reads `major.minor` of the version to pick its calls.

use axum::Json;
use serde_json::{json, Value};

pub async fn info() -> Json<Value> {
    Json(json!({"info": {"version": crate::info_version()}}))
}
