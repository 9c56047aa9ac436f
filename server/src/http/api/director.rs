//! The Director tile's configuration: `GET/PUT /api/v0/staged/director/properties`,
//! `iaas_configurations`, `availability_zones`, `networks`, `network_and_az`, and the resulting
//! cloud config (`GET /api/v0/staged/cloud_config`, read-only).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Value};

use app::session::CurrentUser;

use super::{answer, redaction, scope, with_version, ConfigWrite};
use crate::http::AppState;
use crate::products::field_changes::Target;
use crate::products::{AzSpec, NetworkSpec};
use crate::{Error, Result};

async fn director_version(state: &AppState) -> Result<i64> {
    Ok(state.products.director().await?.config_version)
}

fn field<T: serde::de::DeserializeOwned>(body: &Value, key: &str) -> Result<T> {
    let value = body
        .get(key)
        .cloned()
        .ok_or_else(|| Error::invalid(key, "can't be blank"))?;
    serde_json::from_value(value).map_err(|e| Error::invalid(key, e.to_string()))
}

pub async fn properties(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let redact = redaction(&caller, query.get("redact").map(String::as_str))?;
    let version = director_version(&state).await?;
    Ok(with_version(
        state.products.director_properties(redact).await?,
        version,
    ))
}

pub async fn update_properties(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        mut body,
        expected,
    } = write;
    if let Some(map) = body.as_object_mut() {
        map.remove("config_version");
    }
    // The 409 explains the sections the request sets.
    let sections: Vec<String> = body
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let result = state
        .products
        .set_director_properties(&body, expected, &caller.username)
        .await;
    answer(&state, result, Target::Director, &sections).await
}

/// One IaaS configuration (Tileworks has exactly one), redacted unless asked otherwise.
pub async fn iaas_configurations(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let redact = redaction(&caller, query.get("redact").map(String::as_str))?;
    let props = state.products.director_properties(redact).await?;
    Ok(Json(
        json!({"iaas_configurations": [props["iaas_configuration"].clone()]}),
    ))
}

/// A second IaaS configuration is not supported: 501 tells om to fall back to
/// `PUT /api/v0/staged/director/properties`.
pub async fn add_iaas_configuration() -> Response {
    (
        StatusCode::NOT_IMPLEMENTED,
        Json(json!({"errors": {"base": ["Tileworks has one IaaS configuration; update it with PUT /api/v0/staged/director/properties"]}})),
    )
        .into_response()
}

pub async fn update_iaas_configuration(
    State(state): State<AppState>,
    Path(iaas_guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let current = state.products.director().await?;
    if current.settings.iaas_configuration.get("guid") != Some(&Value::String(iaas_guid.clone())) {
        return Err(Error::NotFound(format!("IaaS configuration '{iaas_guid}'")));
    }
    let config = body
        .get("iaas_configuration")
        .cloned()
        .ok_or_else(|| Error::invalid("iaas_configuration", "can't be blank"))?;
    let result = state
        .products
        .set_director_properties(
            &json!({ "iaas_configuration": config }),
            expected,
            &caller.username,
        )
        .await;
    answer(
        &state,
        result,
        Target::Director,
        &scope(&["iaas_configuration"]),
    )
    .await
}

pub async fn availability_zones(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    Ok(with_version(
        state.products.availability_zones().await?,
        version,
    ))
}

/// `{"availability_zones": [{"name", …}]}` replaces the list.
pub async fn replace_availability_zones(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let azs: Vec<AzSpec> = field(&body, "availability_zones")?;
    save_availability_zones(&state, azs, expected, &caller.username).await
}

/// Stores the whole AZ list (every AZ write ends here); a stale write names the AZ changes.
async fn save_availability_zones(
    state: &AppState,
    azs: Vec<AzSpec>,
    expected: Option<i64>,
    user: &str,
) -> Result<Response> {
    let result = state
        .products
        .set_availability_zones(azs, expected, user)
        .await;
    answer(
        state,
        result,
        Target::Director,
        &scope(&["availability_zones"]),
    )
    .await
}

/// `{"availability_zone": {…}}` adds one (om's per-AZ create).
pub async fn add_availability_zone(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let az: AzSpec = field(&body, "availability_zone")?;
    let mut azs = state.products.director().await?.settings.azs;
    if azs.iter().any(|a| a.name == az.name) {
        return Err(Error::invalid(
            "availability_zone.name",
            format!("'{}' already exists", az.name),
        ));
    }
    azs.push(az);
    save_availability_zones(&state, azs, expected, &caller.username).await
}

/// `{"availability_zone": {…}}` updates the AZ with this GUID (om's per-AZ update).
pub async fn update_availability_zone(
    State(state): State<AppState>,
    Path(az_guid): Path<String>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let mut az: AzSpec = field(&body, "availability_zone")?;
    let mut azs = state.products.director().await?.settings.azs;
    let Some(slot) = azs.iter_mut().find(|a| a.guid == az_guid) else {
        return Err(Error::NotFound(format!("availability zone '{az_guid}'")));
    };
    az.guid = az_guid;
    *slot = az;
    save_availability_zones(&state, azs, expected, &caller.username).await
}

pub async fn networks(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    Ok(with_version(
        state.products.director_networks().await?,
        version,
    ))
}

/// `{"icmp_checks_enabled": bool, "networks": [...]}` replaces the networks.
pub async fn update_networks(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let networks: Vec<NetworkSpec> = field(&body, "networks")?;
    let icmp = body.get("icmp_checks_enabled").and_then(Value::as_bool);
    let result = state
        .products
        .set_director_networks(networks, icmp, expected, &caller.username)
        .await;
    answer(
        &state,
        result,
        Target::Director,
        &scope(&["networks", "icmp_checks_enabled"]),
    )
    .await
}

pub async fn network_and_az(State(state): State<AppState>) -> Result<Response> {
    let version = director_version(&state).await?;
    let value = state.products.director_network_and_az().await?;
    Ok(with_version(json!({ "network_and_az": value }), version))
}

pub async fn update_network_and_az(
    State(state): State<AppState>,
    write: ConfigWrite,
) -> Result<Response> {
    let ConfigWrite {
        caller,
        body,
        expected,
    } = write;
    let value = body
        .get("network_and_az")
        .cloned()
        .ok_or_else(|| Error::invalid("network_and_az", "can't be blank"))?;
    let result = state
        .products
        .set_director_network_and_az(value, expected, &caller.username)
        .await;
    answer(
        &state,
        result,
        Target::Director,
        &scope(&["network_and_az"]),
    )
    .await
}

/// The cloud config the Director settings produce, or 422 with what prevents it.
pub async fn cloud_config(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(
        json!({"cloud_config": state.products.cloud_config().await?}),
    ))
}

/// VM extensions are not configurable yet; om's `staged-director-config` reads this list.
pub async fn vm_extensions() -> Json<Value> {
    Json(json!({"vm_extensions": []}))
}
