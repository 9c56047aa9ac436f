//! `GET /events`, `GET /locks` and `PUT /resurrection` (pause or resume the resurrector).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::error::Result;
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/events", get(events))
        .route("/locks", get(locks))
        .route("/resurrection", put(resurrection))
}

async fn events(
    State(d): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(200)
        .clamp(1, 1000);
    let rows = d
        .store
        .events(q.get("deployment").map(String::as_str), limit)
        .await?;
    Ok(Json(Value::Array(
        rows.iter().map(|e| e.to_json()).collect(),
    )))
}

async fn locks(State(d): State<Shared>) -> Json<Value> {
    Json(d.locks.to_json())
}

#[derive(Debug, Deserialize)]
struct Resurrection {
    resurrection_paused: bool,
}

async fn resurrection(
    State(d): State<Shared>,
    Json(body): Json<Resurrection>,
) -> Result<StatusCode> {
    d.health.set_resurrection(!body.resurrection_paused);
    d.store
        .set_setting(
            "resurrection_paused",
            if body.resurrection_paused {
                "true"
            } else {
                "false"
            },
        )
        .await?;
    Ok(StatusCode::OK)
}
