//! UAA-style client credentials, for clients that prefer tokens over basic auth: the Director
//! serves a minimal token endpoint at `/uaa/oauth/token` (`grant_type=client_credentials`, the
//! client and secret as basic auth or form fields) and accepts `Authorization: bearer <token>`.
//! With `--uaa`, `/info` advertises `user_authentication.type = uaa` with this URL, so the `bosh`
//! CLI fetches tokens itself. Tokens live in memory for an hour; after a restart clients get a
//! 401 and fetch a new one, as they do when a UAA token expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::Shared;

/// Token lifetime.
pub const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// Issued bearer tokens (by SHA-256) and who holds them.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: Mutex<HashMap<Vec<u8>, (String, Instant)>>,
}

fn digest(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

impl Tokens {
    pub fn issue(&self, client: &str) -> Result<String> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| Error::Internal("no randomness for a token".into()))?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        issued.retain(|_, (_, expiry)| *expiry > Instant::now());
        issued.insert(
            digest(&token),
            (client.to_string(), Instant::now() + TOKEN_TTL),
        );
        Ok(token)
    }

    /// The client a live token belongs to.
    pub fn check(&self, token: &str) -> Option<String> {
        let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        issued
            .get(&digest(token))
            .filter(|(_, expiry)| *expiry > Instant::now())
            .map(|(client, _)| client.clone())
    }
}

pub fn routes() -> Router<Shared> {
    Router::new().route("/uaa/oauth/token", post(token))
}

async fn token(
    State(d): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Json<Value>> {
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Err(Error::Invalid(
            "unsupported_grant_type: only client_credentials is supported".into(),
        ));
    }
    let client = super::basic_client(&d, &headers).or_else(|| {
        let id = form.get("client_id")?;
        let secret = form.get("client_secret")?;
        super::credentials_match(&d, id, secret).then(|| id.clone())
    });
    let client = client.ok_or_else(|| Error::Unauthorized("Bad credentials".into()))?;
    let token = d.tokens.issue(&client)?;
    Ok(Json(json!({
        "access_token": token,
        "token_type": "bearer",
        "expires_in": TOKEN_TTL.as_secs() - 1,
        "scope": "bosh.admin",
        "jti": uuid::Uuid::new_v4().to_string(),
    })))
}
