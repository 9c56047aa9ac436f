//! The PKS API under `/pks/v1/` (bosh-cfcr-pks-odb.md §3.5): what the `pks` CLI calls —
//! plans, clusters by name (create, list, show, resize, delete) and a cluster's kubeconfig
//! (`pks get-credentials`). Served by the broker service (`broker/clusters.rs`), so a cluster made
//! here is the same instance the OSB API sees, and by the same rules.
//!
//! Unlike the OSB API it takes Tileworks tokens and sessions: the gate asks the role table for
//! `View` (reads) or `ManageClusters` (writes). Which cluster a principal may see or change is
//! `roles::may_see_cluster`/`may_manage_cluster` on the cluster's creator: a cluster the caller
//! may not see is answered as unknown (`404` naming it).
//!
//! The cluster page's kubeconfig download (`GET /clusters/{name}/kubeconfig`) lives here too:
//! it is `POST …/binds` for a browser, with the same rules.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Map, Value};

use super::AppState;
use crate::auth::roles::may_see_cluster;
use crate::broker::clusters::{Cluster, CreateCluster};
use crate::{Error, Result};
use app::session::CurrentUser;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/pks/v1/plans", get(plans))
        .route("/pks/v1/clusters", get(list).post(create))
        .route(
            "/pks/v1/clusters/{name}",
            get(show).patch(update).delete(delete),
        )
        .route("/pks/v1/clusters/{name}/binds", post(binds))
        .route("/clusters/{name}/kubeconfig", get(kubeconfig_download))
}

/// The cluster object (§3.5).
fn cluster_json(c: &Cluster) -> Value {
    json!({
        "name": c.name,
        "plan_name": c.plan_name,
        "uuid": c.uuid,
        "last_action": c.last_action,
        "last_action_state": c.last_action_state,
        "last_action_description": c.last_action_description,
        "kubernetes_master_ips": c.kubernetes_master_ips,
        "parameters": c.parameters,
    })
}

/// A request body as a JSON object (an empty body is an empty object); 422 naming `body`.
fn body_object(bytes: &Bytes) -> Result<Map<String, Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::invalid("body", "must be a JSON object")),
        Err(e) => Err(Error::invalid("body", format!("is not JSON: {e}"))),
    }
}

fn required_string(body: &Map<String, Value>, field: &str) -> Result<String> {
    match body.get(field) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        None | Some(Value::Null) => Err(Error::invalid(field, "is required")),
        Some(Value::String(_)) => Err(Error::invalid(field, "must not be empty")),
        Some(_) => Err(Error::invalid(field, "must be a string")),
    }
}

/// A cluster name PKS accepts (`tiles::odb::check_cluster_name`), else 422 naming `name`.
pub(crate) fn check_name(name: &str) -> Result<()> {
    tiles::odb::check_cluster_name(name).map_err(|m| Error::invalid("name", m))
}

/// The cluster `name` if the caller may see it, else 404 as for an unknown one.
async fn visible(state: &AppState, caller: &CurrentUser, name: &str) -> Result<Cluster> {
    state.broker.visible_cluster(caller, name).await
}

/// The cluster `name` if the caller may change it (404 unseen, 403 seen but not theirs).
async fn manageable(state: &AppState, caller: &CurrentUser, name: &str) -> Result<Cluster> {
    state.broker.manageable_cluster(caller, name).await
}

async fn plans(State(state): State<AppState>) -> Result<Json<Value>> {
    let plans = state.broker.cluster_plans().await?;
    Ok(Json(Value::Array(
        plans
            .iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "name": p.name,
                    "description": p.description,
                    "worker_instances": p.worker_instances,
                    "max_worker_instances": p.max_worker_instances,
                })
            })
            .collect(),
    )))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
) -> Result<Json<Value>> {
    let clusters = state.broker.clusters().await?;
    Ok(Json(Value::Array(
        clusters
            .iter()
            .filter(|c| may_see_cluster(&caller, c.created_by.as_deref()))
            .map(cluster_json)
            .collect(),
    )))
}

async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    Ok(Json(cluster_json(&visible(&state, &caller, &name).await?)))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    body: Bytes,
) -> Result<Response> {
    let body = body_object(&body)?;
    let name = required_string(&body, "name")?;
    check_name(&name)?;
    let plan_name = required_string(&body, "plan_name")?;
    let parameters = match body.get("parameters") {
        Some(Value::Object(p)) => p.clone(),
        None | Some(Value::Null) => return Err(Error::invalid("parameters", "is required")),
        Some(_) => return Err(Error::invalid("parameters", "must be a JSON object")),
    };
    required_string(&parameters, "kubernetes_master_host")
        .map_err(|e| prefixed(e, "parameters."))?;
    let cluster = state
        .broker
        .create_cluster(CreateCluster {
            name,
            plan_name,
            parameters,
            created_by: caller.username.clone(),
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(cluster_json(&cluster))).into_response())
}

fn prefixed(e: Error, prefix: &str) -> Error {
    match e {
        Error::Invalid { field, message } => Error::Invalid {
            field: format!("{prefix}{field}"),
            message,
        },
        other => other,
    }
}

async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let body = body_object(&body)?;
    manageable(&state, &caller, &name).await?;
    if body.is_empty() {
        return Err(Error::invalid(
            "kubernetes_worker_instances",
            "is required (the update names no change)",
        ));
    }
    state.broker.update_cluster(&name, body).await?;
    let cluster = state.broker.cluster(&name).await?;
    Ok((StatusCode::ACCEPTED, Json(cluster_json(&cluster))).into_response())
}

async fn delete(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<Response> {
    manageable(&state, &caller, &name).await?;
    state.broker.delete_cluster(&name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn binds(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    manageable(&state, &caller, &name).await?;
    Ok(Json(
        state
            .broker
            .cluster_credentials(&name, &caller.username)
            .await?,
    ))
}

/// `GET /clusters/{name}/kubeconfig`: the cluster page's download — the kubeconfig
/// `pks get-credentials` writes, as a YAML file. The gate lets only roles that manage clusters
/// reach it, and the cluster must be one the caller manages (the view roles get none: it holds
/// an admin token).
async fn kubeconfig_download(
    State(state): State<AppState>,
    Extension(caller): Extension<CurrentUser>,
    Path(name): Path<String>,
) -> Result<Response> {
    manageable(&state, &caller, &name).await?;
    let kubeconfig = state
        .broker
        .cluster_credentials(&name, &caller.username)
        .await?;
    let file = format!("{}-kubeconfig.yml", name);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/yaml".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        tiles::yaml::to_yaml_string(&kubeconfig),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_names() {
        for ok in ["k8s1", "my-cluster_2", "A"] {
            assert!(super::check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a&b", "a b", "a.b", &"x".repeat(65)] {
            assert!(super::check_name(bad).is_err(), "{bad}");
        }
    }
}
