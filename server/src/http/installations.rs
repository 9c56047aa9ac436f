//! `GET /api/v0/installations`: the installation history, newest first. om checks
//! `installations[0].status` before configuring anything, so the list must exist even while empty;
//! Apply Changes fills it.

use axum::Json;
use serde_json::{json, Value};

pub async fn list() -> Json<Value> {
    Json(json!({"installations": []}))
}
