//! `/releases`: upload (a tarball, its `release.MF` alone as YAML, or JSON metadata), list and
//! delete. When the upload names the release's jobs, deploys check that each job exists.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use super::stemcells::{metadata, receive, text_field, usage};
use super::{task_redirect, User};
use crate::error::{Error, Result};
use crate::tasks::{self, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/releases", get(list).post(upload))
        .route("/releases/{name}", get(show).delete(destroy))
        .route("/packages/matches", post(matches))
        .route("/packages/matches_compiled", post(matches))
        .layer(DefaultBodyLimit::disable())
}

async fn list(State(d): State<Shared>) -> Result<Json<Value>> {
    let used = usage(&d, "releases").await?;
    let mut by_name: Vec<(String, Vec<Value>)> = Vec::new();
    for r in d.store.releases().await? {
        let jobs: Vec<String> = r
            .jobs
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
            .unwrap_or_default();
        let version = json!({
            "version": r.version,
            "commit_hash": r.commit_hash,
            "uncommitted_changes": r.uncommitted_changes,
            "currently_deployed": used.contains_key(&(r.name.clone(), r.version.clone())),
            "job_names": jobs,
        });
        match by_name.iter_mut().find(|(n, _)| *n == r.name) {
            Some((_, versions)) => versions.push(version),
            None => by_name.push((r.name.clone(), vec![version])),
        }
    }
    Ok(Json(Value::Array(
        by_name
            .into_iter()
            .map(|(name, versions)| json!({"name": name, "release_versions": versions}))
            .collect(),
    )))
}

/// `GET /releases/:name?version=V`: the version's jobs and packages, which `bosh upload-release`
/// reads to decide whether a release already on the Director is complete. The stand-in keeps
/// no package blobs, so it lists no packages (nothing to re-upload); jobs are those the upload
/// named.
async fn show(
    State(d): State<Shared>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let version = q
        .get("version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::Invalid("missing query parameter 'version'".into()))?;
    let row = d
        .store
        .releases()
        .await?
        .into_iter()
        .find(|r| r.name == name && &r.version == version)
        .ok_or_else(|| Error::NotFound(format!("Release '{name}/{version}' doesn't exist")))?;
    let jobs: Vec<String> = row
        .jobs
        .as_deref()
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    Ok(Json(json!({
        "jobs": jobs.iter().map(|j| json!({
            "name": j,
            "fingerprint": "",
            "blobstore_id": "",
            "sha1": "",
            "consumes": [],
            "provides": [],
        })).collect::<Vec<_>>(),
        "packages": [],
    })))
}

/// Every package is "needed": the stand-in keeps no blobs, so the CLI uploads full tarballs.
async fn matches() -> Json<Value> {
    Json(json!([]))
}

async fn upload(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let upload = receive(&d, &headers, body).await?;
    let spec = TaskSpec {
        description: "create release".into(),
        deployment: None,
        user,
        context_id: String::new(),
        lock: false,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| async move {
        let stage = ctx.stage("Extracting release", Vec::new(), 1);
        let meta = stage
            .step("Extracting release", async {
                metadata(&d, upload, "release.MF")
            })
            .await?;
        let name = text_field(&meta, "name", "release.MF")?;
        let version = text_field(&meta, "version", "release.MF")?;
        let commit = meta
            .get("commit_hash")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let jobs: Option<Vec<String>> = meta.get("jobs").and_then(Value::as_array).map(|jobs| {
            jobs.iter()
                .filter_map(|j| {
                    j.get("name")
                        .and_then(Value::as_str)
                        .or_else(|| j.as_str())
                        .map(str::to_string)
                })
                .collect()
        });
        let stage = ctx.stage("Creating new jobs", Vec::new(), 1);
        stage
            .step(&format!("{name}/{version}"), async {
                d.store
                    .add_release(&name, &version, &commit, jobs.as_deref())
                    .await
            })
            .await?;
        Ok(format!("Created release '{name}/{version}'"))
    })
    .await?;
    Ok(task_redirect(id))
}

async fn destroy(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path(name): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let version = q.get("version").cloned();
    let used = usage(&d, "releases").await?;
    let in_use: Vec<String> = used
        .iter()
        .filter(|((n, v), _)| *n == name && version.as_ref().is_none_or(|w| w == v))
        .flat_map(|(_, deps)| deps.clone())
        .collect();
    if !in_use.is_empty() && !super::flag(q.get("force")) {
        return Err(Error::Conflict(format!(
            "Release '{name}' is still in use by: {}",
            in_use.join(", ")
        )));
    }
    let spec = TaskSpec {
        description: "delete release".into(),
        deployment: None,
        user,
        context_id: String::new(),
        lock: false,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| async move {
        let stage = ctx.stage("Deleting release", Vec::new(), 1);
        stage
            .step(&name, async {
                if d.store.delete_release(&name, version.as_deref()).await? {
                    Ok(())
                } else {
                    Err(Error::NotFound(format!("Release '{name}' doesn't exist")))
                }
            })
            .await?;
        Ok(format!("/releases/{name}"))
    })
    .await?;
    Ok(task_redirect(id))
}
