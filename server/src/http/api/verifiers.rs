//! Install-time verifiers, as om's `disable-director-verifiers` and
//! `disable-product-verifiers` use them (om `api/disable_*_verifiers_service.go`):
//! `GET /api/v0/staged/director/verifiers/install_time` → `{"verifiers": [{"type",
//! "enabled"}]}`, `PUT …/install_time/:type` with `{"enabled": false}` → `{"type",
//! "enabled"}`; the same under `/api/v0/staged/products/:guid/`. Beyond om's shape each
//! listed verifier has a `description`. An unknown GUID or type is `404`; a body without a
//! boolean `enabled` is `422` naming the field.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::products::verifiers::VerifierState;
use crate::{Error, Result};

fn listed(states: Vec<VerifierState>) -> Json<Value> {
    Json(json!({
        "verifiers": states
            .into_iter()
            .map(|s| json!({"type": s.kind, "enabled": s.enabled, "description": s.description}))
            .collect::<Vec<_>>(),
    }))
}

/// The `enabled` flag of a PUT body.
fn enabled_of(body: &[u8]) -> Result<bool> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid("base", format!("the body is not JSON: {e}")))?;
    match value.get("enabled") {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" => Ok(true),
        Some(Value::String(s)) if s == "false" => Ok(false),
        Some(_) => Err(Error::invalid("enabled", "must be true or false")),
        None => Err(Error::invalid("enabled", "is required (true or false)")),
    }
}

fn changed(state: VerifierState) -> Json<Value> {
    Json(json!({"type": state.kind, "enabled": state.enabled}))
}

pub async fn director_list(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(listed(state.products.director_verifiers().await?))
}

pub async fn director_set(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    body: Bytes,
) -> Result<Json<Value>> {
    let enabled = enabled_of(&body)?;
    Ok(changed(
        state.products.set_director_verifier(&kind, enabled).await?,
    ))
}

pub async fn product_list(
    State(state): State<AppState>,
    Path(guid): Path<String>,
) -> Result<Json<Value>> {
    Ok(listed(state.products.product_verifiers(&guid).await?))
}

pub async fn product_set(
    State(state): State<AppState>,
    Path((guid, kind)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>> {
    let enabled = enabled_of(&body)?;
    Ok(changed(
        state
            .products
            .set_product_verifier(&guid, &kind, enabled)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oms_body_and_refusals() {
        assert!(!enabled_of(br#"{ "enabled": false }"#).unwrap());
        assert!(enabled_of(br#"{"enabled": "true"}"#).unwrap());
        for bad in [&b"{}"[..], br#"{"enabled": 1}"#, b"nope"] {
            assert!(matches!(enabled_of(bad), Err(Error::Invalid { .. })));
        }
    }
}
