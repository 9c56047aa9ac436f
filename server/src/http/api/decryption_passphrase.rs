//! `PUT /api/v0/decryption_passphrase` `{"current_passphrase", "new_passphrase"}` → `204`:
//! administrators change the decryption passphrase (Ops Manager's Settings → Change Decryption
//! Passphrase). Only the sealed data key changes (`crate::passphrase::change`); the running
//! server is unaffected and the next start needs the new passphrase. A wrong current passphrase
//! is `403` (counted as a wrong unlock is, `429` after too many: `http::unlock::change_passphrase`),
//! a missing field or a short new one `422` naming the field.

use axum::extract::rejection::JsonRejection;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::put;
use axum::{Extension, Json, Router};
use serde::Deserialize;

use app::session::CurrentUser;

use crate::http::AppState;
use crate::{Error, Result};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v0/decryption_passphrase", put(change))
}

#[derive(Debug, Deserialize)]
pub struct ChangePassphrase {
    current_passphrase: Option<String>,
    new_passphrase: Option<String>,
}

async fn change(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: std::result::Result<Json<ChangePassphrase>, JsonRejection>,
) -> Result<StatusCode> {
    let Json(body) = body.map_err(|e| {
        Error::invalid(
            "current_passphrase",
            format!("expected a JSON object ({})", e.body_text()),
        )
    })?;
    let current = body
        .current_passphrase
        .ok_or_else(|| Error::invalid("current_passphrase", "is required"))?;
    let new = body
        .new_passphrase
        .ok_or_else(|| Error::invalid("new_passphrase", "is required"))?;
    crate::http::unlock::change_passphrase(&state.store, client.ip(), &current, &new).await?;
    tracing::info!(target: "audit", user = %caller.username, "changed the decryption passphrase");
    Ok(StatusCode::NO_CONTENT)
}
