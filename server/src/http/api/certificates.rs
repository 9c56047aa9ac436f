//! `POST /api/v0/certificates/generate` with `{"domains": ["*.apps.example.com", …]}` →
//! `{"certificate": "<PEM>", "key": "<PEM>"}`: a certificate signed by the installation's root
//! CA, as om's `generate-certificate` asks for it. The answer holds a private key, so the gate
//! lets only roles that may see credentials ask.

use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::json_body;
use crate::http::AppState;
use crate::{Error, Result};

pub async fn generate(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>> {
    let body = json_body(&body)?;
    let domains: Vec<String> = match body.get("domains") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| Error::invalid("domains", "expected a list of domain names"))
            })
            .collect::<Result<_>>()?,
        Some(Value::String(text)) => vec![text.clone()],
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(Error::invalid("domains", "expected a list of domain names")),
    };
    let generated = state.products.generate_certificate(&domains).await?;
    Ok(Json(json!({
        "certificate": generated.cert_pem,
        "key": generated.private_key_pem,
    })))
}
