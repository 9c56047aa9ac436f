//! Non-BOSH endpoints for tests and demos (all under `/chaos/`, behind the same basic auth):
//!
//! - `POST /chaos/deployments/:name/instances/:group/:id/kill`: the VM's agent dies and stops
//!   sending heartbeats; the health monitor then marks it unresponsive and the resurrector
//!   recreates it (unless resurrection is paused). `:id` is the instance id or index.
//! - `PUT /chaos/errands/:deployment/:errand` with `{"exit_code", "stdout", "stderr"}`: later
//!   runs of that errand end that way; `DELETE` restores success.
//! - `PUT /chaos/deployments/:name/deploy` with `{"message", "times"}`: the next deploys of
//!   that deployment fail with `message` (every one, or the next `times`); `DELETE` restores
//!   success (see `faults.rs`); `…/delete` likewise for its deletion.
//! - `PUT /chaos/cpi` with `{"paused": true|false}`: every CPI call (create/delete VM or disk,
//!   update) waits while paused, holding tasks inside their current step. `GET` reads it.
//! - `PUT /chaos/logs` with `{"paused": true|false}`: `fetch logs` tasks wait before each
//!   instance while paused, as behind agents slow to bundle their logs.
//! - `PUT /chaos/config_server` with `{"refuse_writes": true|false}`: the config server API
//!   (`PUT /api/v1/data`) answers `403` as CredHub does to a client without write access.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::deploy::event;
use crate::errands::Outcome;
use crate::error::{Error, Result};
use crate::faults::{DeployFault, Faulted};
use crate::store::EventRow;
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/chaos/deployments/{name}/instances/{group}/{id}/kill",
            post(kill),
        )
        .route(
            "/chaos/errands/{deployment}/{errand}",
            put(set_errand).delete(clear_errand),
        )
        .route(
            "/chaos/deployments/{name}/deploy",
            put(set_deploy_fault).delete(clear_deploy_fault),
        )
        .route(
            "/chaos/deployments/{name}/delete",
            put(set_delete_fault).delete(clear_delete_fault),
        )
        .route("/chaos/cpi", put(set_cpi).get(cpi_state))
        .route("/chaos/logs", put(set_logs))
        .route("/chaos/config_server", put(set_config_server))
}

async fn kill(
    State(d): State<Shared>,
    Path((name, group, id)): Path<(String, String, String)>,
) -> Result<Json<Value>> {
    let inst = d
        .store
        .instances(&name)
        .await?
        .into_iter()
        .find(|i| i.instance_group == group && (i.id == id || i.idx.to_string() == id))
        .ok_or_else(|| {
            Error::NotFound(format!("Instance '{group}/{id}' doesn't exist in '{name}'"))
        })?;
    let cid = inst
        .vm_cid
        .clone()
        .ok_or_else(|| Error::Invalid(format!("Instance '{group}/{id}' has no VM")))?;
    d.store.set_agent_alive(&inst.id, false).await?;
    d.store
        .add_event(&EventRow {
            deployment: Some(name.clone()),
            instance: Some(format!("{}/{}", inst.instance_group, inst.id)),
            context: json!({"chaos": "killed"}).to_string(),
            user: "chaos".into(),
            ..event(None, "kill", "vm", &cid)
        })
        .await?;
    Ok(Json(json!({"vm_cid": cid, "instance": inst.label()})))
}

async fn set_errand(
    State(d): State<Shared>,
    Path((deployment, errand)): Path<(String, String)>,
    Json(outcome): Json<Outcome>,
) -> StatusCode {
    d.errands.set(&deployment, &errand, outcome);
    StatusCode::NO_CONTENT
}

async fn clear_errand(
    State(d): State<Shared>,
    Path((deployment, errand)): Path<(String, String)>,
) -> StatusCode {
    d.errands.clear(&deployment, &errand);
    StatusCode::NO_CONTENT
}

async fn set_deploy_fault(
    State(d): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode> {
    let fault: DeployFault = super::json_body(&body)?;
    d.deploy_faults.set(&name, Faulted::Deploy, fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_deploy_fault(State(d): State<Shared>, Path(name): Path<String>) -> StatusCode {
    d.deploy_faults.clear(&name, Faulted::Deploy);
    StatusCode::NO_CONTENT
}

async fn set_delete_fault(
    State(d): State<Shared>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<StatusCode> {
    let fault: DeployFault = super::json_body(&body)?;
    d.deploy_faults.set(&name, Faulted::Delete, fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_delete_fault(State(d): State<Shared>, Path(name): Path<String>) -> StatusCode {
    d.deploy_faults.clear(&name, Faulted::Delete);
    StatusCode::NO_CONTENT
}

/// `{"paused": …}`, for `/chaos/cpi` and `/chaos/logs`.
#[derive(Debug, Deserialize)]
struct Paused {
    paused: bool,
}

async fn set_cpi(State(d): State<Shared>, body: axum::body::Bytes) -> Result<Json<Value>> {
    let state: Paused = super::json_body(&body)?;
    d.cpi.set_paused(state.paused);
    Ok(Json(json!({"paused": d.cpi.is_paused()})))
}

async fn set_logs(State(d): State<Shared>, body: axum::body::Bytes) -> Result<Json<Value>> {
    let state: Paused = super::json_body(&body)?;
    d.logs_paused.send_replace(state.paused);
    Ok(Json(json!({"paused": state.paused})))
}

async fn cpi_state(State(d): State<Shared>) -> Json<Value> {
    Json(json!({"paused": d.cpi.is_paused()}))
}

#[derive(Debug, Deserialize)]
struct ConfigServerFault {
    refuse_writes: bool,
}

async fn set_config_server(
    State(d): State<Shared>,
    body: axum::body::Bytes,
) -> Result<Json<Value>> {
    let fault: ConfigServerFault = super::json_body(&body)?;
    d.refuse_config_server_writes
        .store(fault.refuse_writes, std::sync::atomic::Ordering::Relaxed);
    Ok(Json(json!({"refuse_writes": fault.refuse_writes})))
}
