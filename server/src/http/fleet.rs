//! Fleet operations over HTTP, beside the PKS API (`/pks/v1/`, Tileworks tokens and sessions):
//! PKS's `POST /upgrade-clusters` with canaries and max in flight, and the same for recreate and
//! delete-all, each answered `202` with the run; `GET /pks/v1/fleet-runs/{id}` shows each
//! cluster's state while the run goes on (`broker/fleet.rs`).
//!
//! The gate asks `ManageAllClusters` for the writes (they touch every principal's clusters) and
//! `ViewAllClusters` for the reads. Also here: ODB's management API's per-instance upgrade and
//! recreate, `PATCH /broker/mgmt/service_instances/{id}?operation_type=…` (broker credentials).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value};

use super::AppState;
use crate::broker::fleet::{FleetKind, FleetOptions, FleetRun};
use crate::{Error, Result};
use app::session::CurrentUser;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pks/v1/upgrade-clusters", post(upgrade_all))
        .route("/pks/v1/recreate-clusters", post(recreate_all))
        .route("/pks/v1/delete-all-clusters", post(delete_all))
        .route("/pks/v1/fleet-runs", get(runs))
        .route("/pks/v1/fleet-runs/{id}", get(run))
        .route(
            "/broker/mgmt/service_instances/{instance_id}",
            patch(manage_instance),
        )
}

/// The fleet run's options from a request body; 422 naming the field.
fn options(body: &Bytes) -> Result<(FleetOptions, Map<String, Value>)> {
    let body: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err(Error::invalid("body", "must be a JSON object")),
            Err(e) => return Err(Error::invalid("body", format!("is not JSON: {e}"))),
        }
    };
    let defaults = FleetOptions::default();
    let number = |field: &str, default: u64| -> Result<u64> {
        match body.get(field) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Number(n)) => n
                .as_u64()
                .ok_or_else(|| Error::invalid(field, "must be a whole number, 0 or more")),
            Some(_) => Err(Error::invalid(field, "must be a whole number")),
        }
    };
    let small =
        |field: &str, v: u64| u32::try_from(v).map_err(|_| Error::invalid(field, "is too large"));
    let options = FleetOptions {
        canaries: small(
            "canaries",
            number("canaries", u64::from(defaults.canaries))?,
        )?,
        max_in_flight: small(
            "max_in_flight",
            number("max_in_flight", u64::from(defaults.max_in_flight))?,
        )?,
        attempts: small(
            "attempts",
            number("attempts", u64::from(defaults.attempts))?,
        )?,
        attempt_interval_ms: number("attempt_interval_ms", defaults.attempt_interval_ms)?,
    };
    options.check()?;
    Ok((options, body))
}

fn started(run: FleetRun) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(serde_json::to_value(run).unwrap_or_default()),
    )
        .into_response()
}

/// Starts a fleet run of `kind` for the caller and answers `202` with it.
async fn start(
    state: &AppState,
    caller: &CurrentUser,
    kind: FleetKind,
    options: FleetOptions,
) -> Result<Response> {
    let run = state
        .broker
        .start_fleet(kind, options, &caller.username)
        .await?;
    Ok(started(run))
}

/// `POST /pks/v1/upgrade-clusters` `{canaries, max_in_flight, attempts, attempt_interval_ms}`.
async fn upgrade_all(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Response> {
    let (options, _) = options(&body)?;
    start(&state, &caller, FleetKind::Upgrade, options).await
}

/// `POST /pks/v1/recreate-clusters` (same body).
async fn recreate_all(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Response> {
    let (options, _) = options(&body)?;
    start(&state, &caller, FleetKind::Recreate, options).await
}

/// `POST /pks/v1/delete-all-clusters` `{"confirm": "delete-all-clusters", …}`: the body must
/// name what it does, so that no stray request deletes every cluster.
async fn delete_all(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Response> {
    let (options, body) = options(&body)?;
    if body.get("confirm").and_then(Value::as_str) != Some(FleetKind::Delete.errand()) {
        return Err(Error::invalid(
            "confirm",
            "must be \"delete-all-clusters\" to delete every cluster",
        ));
    }
    start(&state, &caller, FleetKind::Delete, options).await
}

/// `GET /pks/v1/fleet-runs`: the stored runs, newest first (they outlive restarts).
async fn runs(State(state): State<AppState>) -> Result<Json<Value>> {
    let runs = state.broker.fleet_runs().await?;
    Ok(Json(serde_json::to_value(runs).unwrap_or_default()))
}

/// `GET /pks/v1/fleet-runs/{id}`: one run, each cluster's state.
async fn run(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Value>> {
    let id: u64 = id
        .parse()
        .map_err(|_| Error::invalid("id", format!("{id:?} is not a fleet run id")))?;
    let run = state.broker.fleet_run(id).await?;
    Ok(Json(serde_json::to_value(run).unwrap_or_default()))
}

/// `PATCH /broker/mgmt/service_instances/{id}?operation_type=upgrade|recreate` (ODB's
/// management API): `202` with the operation (ODB's `OperationData` fields), `404` for an
/// unknown instance, `422 ConcurrencyError` while it is busy.
async fn manage_instance(
    State(state): State<AppState>,
    Path(instance_id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let config = state.broker.deployed().await?;
    let token = match query.get("operation_type").map(String::as_str) {
        Some("upgrade") => state.broker.upgrade_instance(&config, &instance_id).await?,
        Some("recreate") => {
            state
                .broker
                .recreate_instance(&config, &instance_id)
                .await?
        }
        Some(other) => {
            return Err(Error::invalid(
                "operation_type",
                format!("{other:?} is not one of upgrade, recreate"),
            ))
        }
        None => return Err(Error::invalid("operation_type", "is required")),
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::to_value(token).unwrap_or_default()),
    )
        .into_response())
}
