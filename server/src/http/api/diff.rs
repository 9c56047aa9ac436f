//! `GET /api/v0/products/:guid/diff` and `GET /api/v0/director/diff`: what the next Apply
//! Changes would change, as om's `bosh-diff` reads it (`manifest`, `runtime_configs`, and for
//! the Director `cloud_config` and `cpi_configs`; products also carry their `errands` rule
//! changes). Credentials appear only as `((placeholders))`; see
//! [`crate::installations::diff`].

use axum::extract::{Path, State};
use axum::Json;

use crate::http::AppState;
use crate::installations::diff::{DirectorDiff, ProductDiff};
use crate::Result;

pub async fn product(
    State(state): State<AppState>,
    Path(guid): Path<String>,
) -> Result<Json<ProductDiff>> {
    Ok(Json(state.installations.product_diff(&guid).await?))
}

pub async fn director(State(state): State<AppState>) -> Result<Json<DirectorDiff>> {
    Ok(Json(state.installations.director_diff().await?))
}
