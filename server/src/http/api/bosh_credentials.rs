//! `GET /api/v0/deployed/director/credentials/bosh_commandline_credentials`: how to point the
//! `bosh` CLI at the Director Tileworks deploys to (`BOSH_CLIENT=… BOSH_CLIENT_SECRET=…
//! BOSH_CA_CERT=<file under the data dir> BOSH_ENVIRONMENT=… bosh `). It holds the Director's
//! client secret, so the gate lets only roles that may see credentials have it.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::Result;

pub async fn show(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(json!({
        "credential": state.installations.director().bosh_commandline_credentials()
    })))
}
