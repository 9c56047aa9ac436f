//! `GET /deployments/:name/instances` and `/vms`: a plain list, or with `format=full` a task
//! whose result has one JSON line per instance (IPs, AZ, VM CID, process state, vitals).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use super::deployments::require_deployment;
use super::{task_redirect, User};
use crate::deploy;
use crate::error::Result;
use crate::tasks::{self, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/deployments/{name}/instances", get(instances))
        .route("/deployments/{name}/vms", get(vms))
}

async fn report(
    d: Shared,
    user: String,
    name: String,
    query: HashMap<String, String>,
    vms_only: bool,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    if query.get("format").map(String::as_str) == Some("full") {
        let spec = TaskSpec {
            description: "retrieve vm-stats".into(),
            deployment: Some(name.clone()),
            user,
            context_id: String::new(),
            lock: false,
        };
        let id = tasks::enqueue(&d, spec, move |d, ctx| {
            deploy::instance_report(d, ctx, name, vms_only)
        })
        .await?;
        return Ok(task_redirect(id));
    }
    let list: Vec<Value> = d
        .store
        .instances(&name)
        .await?
        .iter()
        .filter(|i| !vms_only || i.vm_cid.is_some())
        .map(|i| {
            json!({
                "agent_id": i.agent_id,
                "cid": i.vm_cid,
                "job": i.instance_group,
                "index": i.idx,
                "id": i.id,
                "az": i.az,
                "ips": i.ip_list(),
                "vm_created_at": i.vm_created_at.map(crate::store::rfc3339),
                "expects_vm": i.lifecycle == "service" && i.state != "detached",
            })
        })
        .collect();
    Ok(Json(Value::Array(list)).into_response())
}

async fn instances(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    report(d, user, name, query, false).await
}

async fn vms(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    report(d, user, name, query, true).await
}
