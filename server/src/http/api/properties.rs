//! `GET/PUT /api/v0/staged/products/:guid/properties`. GET redacts credentials (`***`) unless
//! `redact=false` is asked by a role that may see them; PUT takes
//! `{"properties": {REF: {"value": …}}}` and saves all or nothing.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Extension;
use serde_json::Value;

use app::session::CurrentUser;

use super::{redaction, saved, version_of, with_version, ConfigWrite};
use crate::http::AppState;
use crate::{Error, Result};

pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(guid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let redact = redaction(&caller, query.get("redact").map(String::as_str))?;
    let version = version_of(&state, &guid).await?;
    let body = state.products.properties(&guid, redact).await?;
    Ok(with_version(body, version))
}

pub async fn update(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let properties = body
        .get("properties")
        .cloned()
        .ok_or_else(|| Error::invalid("properties", "can't be blank"))?;
    let done = state
        .products
        .set_properties(&guid, &properties, expected, &caller.username)
        .await?;
    Ok(saved(done))
}

/// Syslog forwarding per product is not configurable in Tileworks; om's `staged-config`
/// accepts 422 here as "none".
pub async fn syslog(
    State(state): State<AppState>,
    Path(guid): Path<String>,
) -> Result<axum::Json<Value>> {
    version_of(&state, &guid).await?;
    Err(Error::invalid(
        "syslog_configuration",
        "this product has no syslog configuration",
    ))
}
