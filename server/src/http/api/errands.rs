//! `GET/PUT /api/v0/staged/products/:guid/errands`:
//! `{"errands": [{"name", "post_deploy", "pre_delete"}]}`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::{answer, om_json, scope, version_of, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::field_changes::Target;
use crate::Result;

pub async fn show(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Response> {
    let version = version_of(&state, &guid).await?;
    let errands = state.products.errands(&guid).await?;
    Ok(with_version(json!({ "errands": errands }), version))
}

pub async fn update(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let (errands, refused) = om_json::errand_rules(write.part("errands")?)?;
    let result = state
        .products
        .set_errands(&guid, &errands, &refused, write.expected, write.actor())
        .await;
    answer(&state, result, Target::Product(&guid), &scope(&["errands"])).await
}
