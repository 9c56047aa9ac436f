//! `/deployments`: list, manifest, deploy (a YAML manifest → task), delete, diff, variables,
//! and instance state changes (`PUT /deployments/:name/jobs/...?state=`, and the
//! non-converging `POST .../instance_groups/:group/:id/actions/:action` of `--no-converge`).

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
        .route(
            "/deployments/{name}/instance_groups/{group}/{id}/actions/{action}",
            post(instance_action),
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
    let opts = deploy_options(&query)?;
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

/// A time query parameter (`recreate_vms_created_before`), RFC 3339 as the CLI sends it.
fn time_param(query: &HashMap<String, String>, key: &str) -> Result<Option<i64>> {
    match query.get(key).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(text) => crate::store::parse_rfc3339(text).map(Some).ok_or_else(|| {
            Error::Invalid(format!("'{key}' must be an RFC 3339 time, got '{text}'"))
        }),
    }
}

/// The query of `POST /deployments` as `bosh deploy` sends it.
fn deploy_options(query: &HashMap<String, String>) -> Result<DeployOptions> {
    let context = match query.get("context").filter(|c| !c.trim().is_empty()) {
        Some(text) => deploy::DeployContext::parse(text)?,
        None => deploy::DeployContext::default(),
    };
    let nonempty = |key: &str| query.get(key).filter(|v| !v.is_empty()).cloned();
    Ok(DeployOptions {
        recreate: flag(query.get("recreate")),
        recreate_vms_created_before: time_param(query, "recreate_vms_created_before")?,
        recreate_persistent_disks: flag(query.get("recreate_persistent_disks")),
        fix: flag(query.get("fix")),
        skip_drain: nonempty("skip_drain"),
        canaries: nonempty("canaries"),
        max_in_flight: nonempty("max_in_flight"),
        dry_run: flag(query.get("dry_run")),
        context,
    })
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
    // The Director redacts unless told `redact=false` (`bosh deploy --no-redact`).
    let redact = query.get("redact").map(String::as_str) != Some("false");
    let render = |v: &Value| {
        if v.is_null() {
            String::new()
        } else if redact {
            tiles::yaml::to_yaml_string(&deploy::diff::redact(v))
        } else {
            tiles::yaml::to_yaml_string(v)
        }
    };
    // The configs a deploy would use now; the CLI hands this back as `context`, pinning them.
    let ids = |rows: Vec<crate::store::ConfigRow>| {
        let mut ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids
    };
    let cloud_config_ids = ids(deploy::config_set(&d.store, "cloud", None).await?);
    let runtime_config_ids = ids(deploy::config_set(&d.store, "runtime", None).await?);
    Ok(Json(json!({
        "context": {
            "cloud_config_ids": cloud_config_ids,
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

/// The body of a state change: the CLI sends none (the stored manifest applies); a manifest, as
/// older clients send, must be this deployment's and is checked, not deployed.
fn check_state_body(name: &str, body: &[u8]) -> Result<()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| Error::Invalid("the request body is not UTF-8 text".into()))?;
    let manifest = deploy::parse_yaml(&text)?;
    let given = deploy::manifest_name(&manifest)?;
    if given != name {
        return Err(Error::Invalid(format!(
            "Manifest is for deployment '{given}', not '{name}'"
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn state_task(
    d: Shared,
    user: String,
    name: String,
    group: Option<String>,
    id: Option<String>,
    query: HashMap<String, String>,
    context_id: String,
    body: Bytes,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    check_state_body(&name, &body)?;
    let state = query
        .get("state")
        .cloned()
        .ok_or_else(|| Error::Invalid("missing query parameter 'state'".into()))?;
    let opts = deploy::StateOptions {
        dry_run: flag(query.get("dry_run")),
        recreate_vms_created_before: time_param(&query, "recreate_vms_created_before")?,
    };
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
        context_id,
        lock: true,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| {
        deploy::change_state(d, ctx, name, group, id, state, opts)
    })
    .await?;
    Ok(task_redirect(id))
}

async fn change_state(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, group)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let group = (group != "*").then_some(group);
    let context = context_id(&headers);
    state_task(d, user, name, group, None, query, context, body).await
}

async fn change_instance_state(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, group, id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let context = context_id(&headers);
    state_task(d, user, name, Some(group), Some(id), query, context, body).await
}

/// `POST /deployments/:name/instance_groups/:group/:id/actions/:action` (`bosh start`, `stop`,
/// `restart`, `recreate` with `--no-converge`): the same change for one instance, without
/// touching the desired state of others. `hard=true` on stop detaches the VM.
async fn instance_action(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, group, id, action)): Path<(String, String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response> {
    let state = match action.as_str() {
        "start" => "started",
        "stop" if flag(query.get("hard")) => "detached",
        "stop" => "stopped",
        "restart" => "restart",
        "recreate" => "recreate",
        other => {
            return Err(Error::NotFound(format!(
                "Unknown instance action '{other}'; use start, stop, restart or recreate"
            )))
        }
    };
    let mut query = query;
    query.insert("state".into(), state.into());
    let group = (group != "*").then_some(group);
    let id = (id != "*").then_some(id);
    let context = context_id(&headers);
    state_task(d, user, name, group, id, query, context, Bytes::new()).await
}
