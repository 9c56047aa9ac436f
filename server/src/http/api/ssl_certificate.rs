//! `GET/PUT/DELETE /api/v0/settings/ssl_certificate`, Tileworks's own TLS certificate, in
//! om's shapes (`api/ssl_certificates_service.go`): `GET` → `{"ssl_certificate":
//! {"certificate": "<PEM>"}}` (never the key; `""` on plain HTTP, which om shows as its
//! self-signed default) plus Tileworks's `custom` (set through the API); `PUT` with
//! `{"certificate", "private_key"}` (om's `SSLCertificateInput`) → `200`, served at once;
//! `DELETE` → back to the command line's certificate. Administrators only (the gate);
//! `crate::tls_certificate` says what is checked and when it is served.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::{Error, Result};

/// om's `SSLCertificateInput`.
#[derive(Deserialize)]
struct Input {
    certificate: Option<Value>,
    private_key: Option<Value>,
}

fn text(value: Option<Value>, field: &str) -> Result<String> {
    match value {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(Error::invalid(field, "can't be blank")),
        Some(_) => Err(Error::invalid(field, "must be PEM text")),
    }
}

pub async fn show(State(state): State<AppState>) -> Result<Json<Value>> {
    let shown = state.tls_certificate.show().await?;
    Ok(Json(json!({"ssl_certificate": {
        "certificate": shown.certificate.unwrap_or_default(),
        "custom": shown.custom,
    }})))
}

pub async fn update(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>> {
    let input: Input = serde_json::from_slice(&body).map_err(|e| {
        Error::invalid(
            "base",
            format!("expected {{\"certificate\", \"private_key\"}}: {e}"),
        )
    })?;
    let certificate = text(input.certificate, "certificate")?;
    let private_key = text(input.private_key, "private_key")?;
    state
        .tls_certificate
        .set(&certificate, &private_key)
        .await?;
    show(State(state)).await
}

pub async fn reset(State(state): State<AppState>) -> Result<Json<Value>> {
    state.tls_certificate.reset().await?;
    show(State(state)).await
}
