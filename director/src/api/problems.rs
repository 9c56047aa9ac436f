//! Cloud check (`bosh cck`): `POST /deployments/:name/scans` (task), `GET .../problems`,
//! `PUT .../problems` with resolutions (task).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::Value;

use super::deployments::require_deployment;
use super::{task_redirect, User};
use crate::error::Result;
use crate::health;
use crate::tasks::{self, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/deployments/{name}/scans", post(scan))
        .route("/deployments/{name}/problems", get(list).put(resolve))
}

async fn scan(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path(name): Path<String>,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    let spec = TaskSpec {
        description: "scan cloud".into(),
        deployment: Some(name.clone()),
        user,
        context_id: String::new(),
        lock: true,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| health::scan(d, ctx, name)).await?;
    Ok(task_redirect(id))
}

async fn list(State(d): State<Shared>, Path(name): Path<String>) -> Result<Json<Value>> {
    require_deployment(&d, &name).await?;
    Ok(Json(health::problems_json(&d, &name).await?))
}

/// The body of `PUT /deployments/:name/problems`: a resolution name per problem id, where
/// `null` (`bosh cck --auto`) means the problem type's default; `max_in_flight_overrides` is
/// accepted (problems are resolved one after another).
#[derive(Debug, Default, Deserialize)]
struct Resolutions {
    #[serde(default)]
    resolutions: HashMap<String, Option<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    max_in_flight_overrides: HashMap<String, String>,
}

async fn resolve(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    let body: Resolutions = super::json_body_or_default(&body)?;
    let spec = TaskSpec {
        description: "apply resolutions".into(),
        deployment: Some(name.clone()),
        user,
        context_id: String::new(),
        lock: true,
    };
    let choices = body.resolutions;
    let id = tasks::enqueue(&d, spec, move |d, ctx| {
        health::resolve(d, ctx, name, choices)
    })
    .await?;
    Ok(task_redirect(id))
}
