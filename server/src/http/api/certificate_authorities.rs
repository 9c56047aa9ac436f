//! Certificate authorities as Ops Manager serves them to om (`api/certificate_authorities_service.go`,
//! `api/security_service.go`, `api/expiring_certificates_service.go`):
//! - `GET /api/v0/certificate_authorities` → `{"certificate_authorities": [{"guid", "issuer",
//!   "created_on", "expires_on", "active", "cert_pem"}]}`;
//! - `POST /api/v0/certificate_authorities` with `{"cert_pem", "private_key_pem"}` (import) and
//!   `POST …/generate` (no body) → the new, inactive, CA;
//! - `POST …/:guid/activate` (om sends `{}`), `POST …/active/regenerate` (no body),
//!   `DELETE …/:guid` (an inactive CA only) → `200 {}`;
//! - `GET /api/v0/security/root_ca_certificate` → `{"root_ca_certificate_pem"}` (the active CA);
//! - `GET /api/v0/deployed/certificates[?expires_within=3m]` → `{"certificates": [...]}`.
//!
//! Private keys are taken, never returned. The service (`products/certificate_authorities.rs`)
//! holds the rotation.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};

use super::ConfigWrite;
use crate::http::AppState;
use crate::products::certificate_authorities::parse_expires_within;
use crate::{Error, Result};

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    let cas = state.products.certificate_authorities().await?;
    Ok(Json(json!({ "certificate_authorities": cas })))
}

/// Import: `cert_pem` and `private_key_pem` (text), nothing else.
pub async fn import(State(state): State<AppState>, write: ConfigWrite) -> Result<Json<Value>> {
    let Some(body) = write.body.as_object() else {
        return Err(Error::invalid(
            "base",
            "expected {\"cert_pem\": …, \"private_key_pem\": …}",
        ));
    };
    let text = |field: &str| -> Result<String> {
        match body.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            None | Some(Value::Null) => Err(Error::invalid(field, tiles::validate::BLANK)),
            Some(_) => Err(Error::invalid(field, "must be PEM text")),
        }
    };
    if let Some(other) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "cert_pem" | "private_key_pem"))
    {
        return Err(Error::invalid(
            other.as_str(),
            "is not a field of a certificate authority (cert_pem, private_key_pem)",
        ));
    }
    let ca = state
        .products
        .import_certificate_authority(&text("cert_pem")?, &text("private_key_pem")?)
        .await?;
    Ok(Json(json!(ca)))
}

pub async fn generate(State(state): State<AppState>, _write: ConfigWrite) -> Result<Json<Value>> {
    let ca = state.products.generate_certificate_authority().await?;
    Ok(Json(json!(ca)))
}

pub async fn activate(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    write: ConfigWrite,
) -> Result<Json<Value>> {
    let regenerated = state
        .products
        .activate_certificate_authority(&guid, write.actor())
        .await?;
    Ok(Json(
        json!({ "regenerated_certificates": regenerated.certificates }),
    ))
}

pub async fn regenerate(State(state): State<AppState>, write: ConfigWrite) -> Result<Json<Value>> {
    let regenerated = state
        .products
        .regenerate_certificates(true, write.actor())
        .await?;
    Ok(Json(
        json!({ "regenerated_certificates": regenerated.certificates }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    _write: ConfigWrite,
) -> Result<Json<Value>> {
    state.products.delete_certificate_authority(&guid).await?;
    Ok(Json(json!({})))
}

pub async fn root_ca_certificate(State(state): State<AppState>) -> Result<Json<Value>> {
    let ca = state.products.root_ca().await?;
    Ok(Json(json!({ "root_ca_certificate_pem": ca.cert_pem })))
}

pub async fn deployed_certificates(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let within = query
        .get("expires_within")
        .map(|text| parse_expires_within(text))
        .transpose()?;
    let certificates = state.products.deployed_certificates(within).await?;
    Ok(Json(json!({ "certificates": certificates })))
}
