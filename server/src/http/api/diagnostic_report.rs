//! `GET /api/v0/diagnostic_report`: om's data source for staged and deployed products.

use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::http::AppState;
use crate::Result;

pub async fn show(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(state.products.diagnostic_report().await?))
}
