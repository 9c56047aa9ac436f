//! `DELETE /api/v0/staged`: **revert** every staged product to what is deployed, discarding
//! pending edits (products never deployed leave the dashboard, staged deletions are cancelled).
//! It deletes nothing from any Director. This is deliberately a different route and a
//! different word from deleting a product (`DELETE /api/v0/staged/products/:guid`, which for
//! a deployed product *stages a deletion*): om once confused the two (pivotal-cf/om#421).
//!
//! om's revert expects `204 No Content`. `?verbose=true` answers `200` with what was done.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use app::session::CurrentUser;

use crate::http::AppState;
use crate::Result;

pub async fn revert(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let outcome = state.products.revert_staged(&caller.username).await?;
    if query.get("verbose").map(String::as_str) == Some("true") {
        Ok(Json(outcome).into_response())
    } else {
        Ok(StatusCode::NO_CONTENT.into_response())
    }
}
