//! `/deployments/:name/errands`: list, and run one (a task whose result is one JSON object per
//! instance with exit code, stdout and stderr).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::Value;

use super::deployments::require_deployment;
use super::{task_redirect, User};
use crate::errands::{self, RunRequest};
use crate::error::{Error, Result};
use crate::tasks::{self, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/deployments/{name}/errands", get(list))
        .route("/deployments/{name}/errands/{errand}/runs", post(run))
}

async fn list(State(d): State<Shared>, Path(name): Path<String>) -> Result<Json<Value>> {
    Ok(Json(errands::list(&d, &name).await?))
}

async fn run(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, errand)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    require_deployment(&d, &name).await?;
    let request: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::Invalid(format!("errand run request: {e}")))?
    };
    let spec = TaskSpec {
        description: format!("run errand {errand} from deployment {name}"),
        deployment: Some(name.clone()),
        user,
        context_id: String::new(),
        lock: true,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| {
        errands::run(d, ctx, name, errand, request)
    })
    .await?;
    Ok(task_redirect(id))
}
