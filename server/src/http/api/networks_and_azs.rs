//! `GET/PUT /api/v0/staged/products/:guid/networks_and_azs`: where the product's jobs run
//! (`network`, `service_network`, `singleton_availability_zone`, `other_availability_zones`).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::{answer, om_json, scope, version_of, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::field_changes::Target;
use crate::Result;

pub async fn show(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Response> {
    let version = version_of(&state, &guid).await?;
    let value = state.products.networks_and_azs(&guid).await?;
    Ok(with_version(json!({ "networks_and_azs": value }), version))
}

/// `{"networks_and_azs": {…}}`.
pub async fn update(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let placement = om_json::placement(write.part("networks_and_azs")?)?;
    let result = state
        .products
        .set_networks_and_azs(&guid, &placement, write.expected, write.actor())
        .await;
    // On the Director tile this is its own network and AZ.
    answer(
        &state,
        result,
        Target::Product(&guid),
        &scope(&["networks_and_azs", "network_and_az"]),
    )
    .await
}
