//! `/deployments`: list, manifest, deploy (a YAML manifest → task), delete, diff, variables,
//! and instance state changes (`PUT /deployments/:name/jobs/...?state=`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use super::{body_text, flag, task_redirect, User};
use crate::deploy::{self, DeployOptions};
use crate::error::{Error, Result};
use crate::tasks::{self, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/deployments", get(list).post(create))
        .route("/deployments/{name}", get(show).delete(destroy))
        .route("/deployments/{name}/diff", post(diff))
        .route("/deployments/{name}/variables", get(variables))
        .route("/deployments/{name}/jobs/{group}", put(change_state))
        .route(
            "/deployments/{name}/jobs/{group}/{id}",
            put(change_instance_state),
        )
}

pub async fn require_deployment(d: &Shared, name: &str) -> Result<crate::store::DeploymentRow> {
    d.store
        .deployment(name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("Deployment '{name}' doesn't exist")))
}

async fn list(State(d): State<Shared>) -> Result<Json<Value>> {
    let rows = d.store.deployments().await?;
    Ok(Json(Value::Array(
        rows.into_iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "releases": serde_json::from_str::<Value>(&r.releases).unwrap_or(json!([])),
                    "stemcells": serde_json::from_str::<Value>(&r.stemcells).unwrap_or(json!([])),
                    "cloud_config": if r.cloud_config_id.is_some() { "latest" } else { "none" },
                    "teams": [],
                })
            })
            .collect(),
    )))
}

async fn show(State(d): State<Shared>, Path(name): Path<String>) -> Result<Json<Value>> {
    let row = require_deployment(&d, &name).await?;
    Ok(Json(json!({"manifest": row.manifest})))
}

fn context_id(headers: &HeaderMap) -> String {
    headers
        .get("X-Bosh-Context-Id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn create(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let yaml = body_text(body)?;
    let raw = deploy::parse_yaml(&yaml)?;
    let name = deploy::manifest_name(&raw)?;
    let opts = DeployOptions {
        recreate: flag(query.get("recreate")),
        canaries: query.get("canaries").cloned(),
        max_in_flight: query.get("max_in_flight").cloned(),
        dry_run: flag(query.get("dry_run")),
    };
    let spec = TaskSpec {
        description: "create deployment".into(),
        deployment: Some(name),
        user,
        context_id: context_id(&headers),
        lock: true,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| deploy::deploy(d, ctx, yaml, opts)).await?;
    Ok(task_redirect(id))
}

async fn destroy(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    let spec = TaskSpec {
        description: format!("delete deployment {name}"),
        deployment: Some(name.clone()),
        user,
        context_id: context_id(&headers),
        lock: true,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| {
        deploy::delete_deployment(d, ctx, name)
    })
    .await?;
    Ok(task_redirect(id))
}

async fn diff(
    State(d): State<Shared>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Json<Value>> {
    let new = deploy::parse_yaml(&body_text(body)?)?;
    let old = match d.store.deployment(&name).await? {
        Some(row) if !row.manifest.trim().is_empty() => tiles::yaml::load(&row.manifest)?,
        _ => Value::Null,
    };
    let redact = flag(query.get("redact"));
    let render = |v: &Value| {
        if v.is_null() {
            String::new()
        } else if redact {
            tiles::yaml::to_yaml_string(&deploy::diff::redact(v))
        } else {
            tiles::yaml::to_yaml_string(v)
        }
    };
    let (_, cloud_config_id) = deploy::cloud_config(&d.store).await?;
    let runtime_config_ids: Vec<String> = d
        .store
        .configs(Some("runtime"), None, true)
        .await?
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    Ok(Json(json!({
        "context": {
            "cloud_config_id": cloud_config_id.map(|i| i.to_string()),
            "runtime_config_ids": runtime_config_ids,
        },
        "diff": deploy::diff::line_diff(&render(&old), &render(&new)),
    })))
}

async fn variables(State(d): State<Shared>, Path(name): Path<String>) -> Result<Json<Value>> {
    require_deployment(&d, &name).await?;
    let rows = d.store.variables(&name).await?;
    Ok(Json(Value::Array(
        rows.into_iter()
            .map(|r| {
                json!({
                    "id": r.id.to_string(),
                    "name": d.config_server.full_name(&name, &r.name),
                })
            })
            .collect(),
    )))
}

async fn state_task(
    d: Shared,
    user: String,
    name: String,
    group: Option<String>,
    id: Option<String>,
    query: HashMap<String, String>,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    let state = query
        .get("state")
        .cloned()
        .ok_or_else(|| Error::Invalid("missing query parameter 'state'".into()))?;
    if !["started", "stopped", "detached", "restart", "recreate"].contains(&state.as_str()) {
        return Err(Error::Invalid(format!(
            "Unknown state '{state}'; use started, stopped, detached, restart or recreate"
        )));
    }
    let target = match (&group, &id) {
        (Some(g), Some(i)) => format!("{g}/{i}"),
        (Some(g), None) => g.clone(),
        _ => "*".into(),
    };
    let verb = match state.as_str() {
        "started" => "start",
        "stopped" => "stop",
        "detached" => "stop (hard)",
        other => other,
    };
    let spec = TaskSpec {
        description: format!("{verb} instance {target}"),
        deployment: Some(name.clone()),
        user,
        context_id: String::new(),
        lock: true,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| {
        deploy::change_state(d, ctx, name, group, id, state)
    })
    .await?;
    Ok(task_redirect(id))
}

async fn change_state(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, group)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let group = (group != "*").then_some(group);
    state_task(d, user, name, group, None, query).await
}

async fn change_instance_state(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, group, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    state_task(d, user, name, Some(group), Some(id), query).await
}
