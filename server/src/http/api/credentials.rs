//! The credentials API, as om's `credential-references` and `credentials` call it (see
//! [`crate::deployed::credentials`] for what is listed and who may see values):
//!
//! - `GET /api/v0/deployed/products/:guid/credentials` → `{"credentials": [".properties.x",
//!   ".job.y", …]}` (references only; every role).
//! - `GET /api/v0/deployed/products/:guid/credentials/:reference` →
//!   `{"credential": {"type": "simple_credentials", "value": {"identity", "password"}}}`; the
//!   value is the object `properties?redact=false` shows (`secret` → `{"secret": "…"}`, so om's
//!   `-f secret` works). Roles that may not see credentials get `403`; an unknown reference
//!   is `404` naming it.
//! - `GET /api/v0/deployed/products/:guid/variables` → `{"variables": ["name", …]}`, the
//!   config-server variables of the deployment, as the Director lists them.
//!   `?name=X` asks for a value: `403` for roles that may not see credentials, `404` for an
//!   unknown name, and `422` saying why otherwise: the Director API gives no values.
//! - `GET /api/v0/deployed/director/credentials` → `{"credentials": ["bosh_commandline_credentials",
//!   "director_client_credentials"]}` once the Director tile is deployed (`404` before: om's
//!   `configure-director` relies on it), and `…/credentials/director_client_credentials` →
//!   `{"credential": {"type": "simple_credentials", "value": {"identity", "password"}}}`
//!   (`bosh_commandline_credentials` has its own route, [`super::bosh_credentials`]).
//!
//! A product that is not deployed is `404`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::Caller;
use crate::auth::roles::{self, Action};
use crate::deployed::credentials::{Credential, DeployedCredentials};
use crate::http::AppState;
use crate::{Error, Result};

/// What the audit line says a reveal came through.
const VIA: &str = "api";

pub fn routes() -> Router<AppState> {
    let product = "/api/v0/deployed/products/{guid}";
    Router::new()
        .route(&format!("{product}/credentials"), get(list))
        .route(&format!("{product}/credentials/{{reference}}"), get(show))
        .route(&format!("{product}/variables"), get(variables))
        .route("/api/v0/deployed/director/credentials", get(director_list))
        .route(
            "/api/v0/deployed/director/credentials/{name}",
            get(director_show),
        )
}

fn service(state: &AppState) -> DeployedCredentials {
    DeployedCredentials::new(state.installations.clone())
}

fn credential_body(credential: Credential) -> Json<Value> {
    Json(json!({
        "credential": {
            "type": credential.credential_type,
            "value": credential.value,
        }
    }))
}

async fn list(State(state): State<AppState>, Path(guid): Path<String>) -> Result<Json<Value>> {
    let listing = service(&state).list(&guid).await?;
    let references: Vec<String> = listing
        .credentials
        .into_iter()
        .map(|c| c.reference)
        .collect();
    Ok(Json(json!({ "credentials": references })))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path((guid, reference)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let credential = service(&state)
        .reveal(&caller, &guid, &reference, VIA)
        .await?;
    Ok(credential_body(credential))
}

async fn variables(
    State(state): State<AppState>,
    caller: Caller,
    Path(guid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let Some(name) = query.get("name") else {
        let names = service(&state).variables(&guid).await?;
        return Ok(Json(json!({ "variables": names })));
    };
    // A value is asked for: the role first, so a restricted caller learns nothing more.
    roles::require(&caller, Action::SeeCredentials)?;
    let names = service(&state).variables(&guid).await?;
    if !names.iter().any(|n| n == name) {
        return Err(Error::NotFound(format!(
            "variable '{name}' of deployed product '{guid}'"
        )));
    }
    Err(Error::invalid(
        "name",
        format!(
            "the value of '{name}' is kept by the BOSH Director's config server, which the \
             Director API does not read out; Tileworks lists variable names only (use \
             `credhub get` against the Director to read it)"
        ),
    ))
}

async fn director_list(State(state): State<AppState>) -> Result<Json<Value>> {
    let names: Vec<String> = service(&state)
        .director_list()
        .await?
        .into_iter()
        .map(|c| c.reference)
        .collect();
    Ok(Json(json!({ "credentials": names })))
}

async fn director_show(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let credential = service(&state).director_reveal(&caller, &name, VIA).await?;
    Ok(credential_body(credential))
}
