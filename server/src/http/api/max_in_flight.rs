//! `GET/PUT /api/v0/staged/products/:guid/max_in_flight`:
//! `{"max_in_flight": {"<job guid>": 2 | "20%" | "default"}}`.

use axum::extract::{Path, State};
use axum::response::Response;

use super::{answer, om_json, scope, version_of, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::field_changes::Target;
use crate::Result;

pub async fn show(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Response> {
    let version = version_of(&state, &guid).await?;
    Ok(with_version(
        state.products.max_in_flight(&guid).await?,
        version,
    ))
}

pub async fn update(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let (values, refused) = om_json::max_in_flight(write.part("max_in_flight")?)?;
    let result = state
        .products
        .set_max_in_flight(&guid, &values, &refused, write.expected, write.actor())
        .await;
    answer(
        &state,
        result,
        Target::Product(&guid),
        &scope(&["resource-config"]),
    )
    .await
}
