//! `GET /api/v0/deployed/director/credentials/bosh_commandline_credentials`: how to point the
//! `bosh` CLI at the Director Tileworks deploys to (`BOSH_CLIENT=… BOSH_CLIENT_SECRET=…
//! BOSH_CA_CERT=<file under the data dir> BOSH_ENVIRONMENT=… bosh `). It holds the Director's
//! client secret, so only roles that may see credentials get it.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use super::Caller;
use crate::http::AppState;
use crate::products::role_may_see_credentials;
use crate::{Error, Result};

pub async fn show(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>> {
    if !role_may_see_credentials(&caller.role) {
        return Err(Error::Forbidden(format!(
            "the role '{}' may not see credentials",
            caller.role
        )));
    }
    Ok(Json(json!({
        "credential": state.installations.director().bosh_commandline_credentials()
    })))
}
