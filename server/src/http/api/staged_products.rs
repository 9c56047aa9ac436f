//! `GET/POST /api/v0/staged/products`, `PUT/DELETE /api/v0/staged/products/:guid`: the
//! dashboard's tiles (the Director, `p-bosh`, always first), staging, upgrading and unstaging.
//! Unstaging a deployed product stages its deletion (pending change `delete`) instead of
//! removing it; see `crate::products::deployed`.

use axum::extract::{Path, State};
use axum::{Extension, Json};
use serde_json::{json, Value};

use app::session::CurrentUser;

use super::ConfigWrite;
use crate::http::AppState;
use crate::products::StagedSummary;
use crate::{Error, Result};

fn entry(s: &StagedSummary) -> Value {
    json!({
        "installation_name": s.guid,
        "guid": s.guid,
        "type": s.name,
        "product_version": s.product_version,
        "label": s.label,
        "deploy_in_parallel": false,
        "license_metadata": [],
        "config_version": s.config_version,
        "state": s.state,
    })
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    let list: Vec<Value> = state
        .products
        .staged_products()
        .await?
        .iter()
        .map(entry)
        .collect();
    Ok(Json(Value::Array(list)))
}

/// `{"name": N, "product_version": V}` (V may be `latest`).
pub async fn stage(State(state): State<AppState>, write: ConfigWrite) -> Result<Json<Value>> {
    let ConfigWrite { caller, body, .. } = write;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let name = text("name").ok_or_else(|| Error::invalid("name", "can't be blank"))?;
    let version = text("product_version")
        .ok_or_else(|| Error::invalid("product_version", "can't be blank"))?;
    let staged = state
        .products
        .stage(&name, &version, &caller.username)
        .await?;
    Ok(Json(entry(&staged)))
}

/// `{"to_version": V}`: upgrade keeping the configuration.
pub async fn upgrade(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    write: ConfigWrite,
) -> Result<Json<Value>> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let to = body
        .get("to_version")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid("to_version", "can't be blank"))?;
    let outcome = state
        .products
        .upgrade(&guid, to, expected, &caller.username)
        .await?;
    let mut out = entry(&outcome.product);
    out["from_version"] = json!(outcome.from_version);
    out["dropped"] = json!(outcome.dropped);
    Ok(Json(out))
}

pub async fn unstage(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(guid): Path<String>,
) -> Result<Json<Value>> {
    let outcome = state
        .products
        .remove_or_stage_deletion(&guid, &caller.username)
        .await?;
    Ok(Json(json!({ "outcome": outcome })))
}
