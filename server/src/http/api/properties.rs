//! `GET/PUT /api/v0/staged/products/:guid/properties`. GET redacts credentials (`***`) unless
//! `redact=false` is asked by a role that may see them; PUT takes
//! `{"properties": {REF: {"value": …}}}` and saves all or nothing.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Extension;
use serde_json::Value;

use app::session::CurrentUser;

use super::{om_json, redaction, saved, version_of, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::commands::PropertyUpdates;
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
    let properties = om_json::property_updates(write.part("properties")?)?;
    match state
        .products
        .set_properties(&guid, &properties, write.expected, write.actor())
        .await
    {
        Ok(done) => Ok(saved(done)),
        Err(stale @ Error::Stale { .. }) => stale_answer(&state, &guid, &properties, stale).await,
        Err(other) => Err(other),
    }
}

/// A refused stale write says, for each property the request sets that another save changed
/// since the request's version, who changed it and its value now (credentials as `***`):
/// `{"errors": …, "config_version": N, "changed": […], "changes": [{"reference",
/// "changed_by", "version", "value", "credential", "previous"}]}`.
async fn stale_answer(
    state: &AppState,
    guid: &str,
    properties: &PropertyUpdates,
    stale: Error,
) -> Result<Response> {
    let Error::Stale { expected, .. } = &stale else {
        return Err(stale);
    };
    let references: Vec<String> = properties.keys().cloned().collect();
    let changes = state
        .products
        .field_changes(guid, *expected, &references, None)
        .await?;
    Ok(stale.with_changes(&changes))
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
