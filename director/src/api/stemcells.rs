//! `/stemcells`: upload (a tarball, its `stemcell.MF` alone as YAML, or JSON metadata), list and
//! delete. The simulated CPI keeps no image: only the name, version and OS matter.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path as FsPath, PathBuf};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::{task_redirect, User};
use crate::error::{Error, Result};
use crate::tasks::{self, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/stemcells", get(list).post(upload))
        .route("/stemcells/{name}/{version}", delete(destroy))
        .route("/stemcell_uploads", post(needed))
        .layer(DefaultBodyLimit::disable())
}

/// An uploaded body: kept on disk (tarballs can be large) until the task reads it.
#[derive(Debug)]
pub enum Upload {
    /// A gzipped tarball on disk.
    Tarball(PathBuf),
    /// A YAML manifest (`stemcell.MF` / `release.MF`) or JSON metadata.
    Metadata(Value),
    /// `{"location": url, "sha1": digest}` (`bosh upload-stemcell URL --sha1`): fetched by the
    /// task, as the Director does. The stand-in reads `file://` locations; it has no network.
    Remote {
        location: String,
        digest: Option<String>,
    },
}

/// Reads the request body by content type: JSON metadata or `{location}`, YAML metadata, or a
/// tarball streamed to `<data>/uploads/`.
pub async fn receive(d: &Shared, headers: &HeaderMap, body: Body) -> Result<Upload> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/x-compressed")
        .to_string();
    let mut stream = body.into_data_stream();
    if content_type.contains("json") || content_type.contains("yaml") {
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| Error::Invalid(format!("reading upload: {e}")))?;
            bytes.extend_from_slice(&chunk);
            if bytes.len() > 16 * 1024 * 1024 {
                return Err(Error::Invalid("metadata upload too large".into()));
            }
        }
        let text =
            String::from_utf8(bytes).map_err(|_| Error::Invalid("metadata is not UTF-8".into()))?;
        let value = tiles::yaml::load(&text)
            .map_err(|e| Error::Invalid(format!("metadata is not valid YAML/JSON: {e}")))?;
        if let Some(location) = value.get("location").and_then(Value::as_str) {
            return Ok(Upload::Remote {
                location: location.to_string(),
                digest: value
                    .get("sha1")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            });
        }
        return Ok(Upload::Metadata(value));
    }
    let dir = d.settings.data_dir.join("uploads");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating the upload dir", e))?;
    let path = dir.join(uuid::Uuid::new_v4().to_string());
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| Error::io("storing an upload", e))?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::Invalid(format!("reading upload: {e}")))?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .map_err(|e| Error::io("storing an upload", e))?;
    }
    // A tokio File hands writes to a blocking thread; without this flush the last chunk may
    // still be in flight when the task reads the file, which then looks truncated.
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .map_err(|e| Error::io("storing an upload", e))?;
    Ok(Upload::Tarball(path))
}

/// The YAML of `file_name` (`stemcell.MF`, `release.MF`) inside a gzipped (or plain) tarball.
pub fn manifest_in_tarball(path: &FsPath, file_name: &str) -> Result<Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading the uploaded tarball", e))?;
    let gzipped = bytes.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = if gzipped {
        Box::new(flate2::read::GzDecoder::new(bytes.as_slice()))
    } else {
        Box::new(bytes.as_slice())
    };
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| Error::Invalid(format!("the upload is not a tarball: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::Invalid(format!("reading the tarball: {e}")))?;
        let is_it = entry
            .path()
            .ok()
            .and_then(|p| p.file_name().map(|f| f == file_name))
            .unwrap_or(false)
            && entry
                .path()
                .map(|p| p.components().count() <= 2)
                .unwrap_or(false);
        if is_it {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| Error::Invalid(format!("reading {file_name}: {e}")))?;
            return tiles::yaml::load(&text)
                .map_err(|e| Error::Invalid(format!("{file_name} is not valid YAML: {e}")));
        }
    }
    Err(Error::Invalid(format!(
        "The tarball has no {file_name}; is it a BOSH {}?",
        file_name.trim_end_matches(".MF")
    )))
}

/// Checks bytes against a Director digest: a bare SHA-1 (hex), `sha256:<hex>`, or several
/// `algo:hex` joined by `;` (every known one must match).
pub fn verify_digest(bytes: &[u8], expected: &str) -> Result<()> {
    let mut checked = 0;
    for part in expected.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (algorithm, want) = part.split_once(':').unwrap_or(("sha1", part));
        let algorithm_ref = match algorithm.to_ascii_lowercase().as_str() {
            "sha1" => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            "sha256" => &ring::digest::SHA256,
            "sha512" => &ring::digest::SHA512,
            _ => continue,
        };
        let got = hex::encode(ring::digest::digest(algorithm_ref, bytes).as_ref());
        if !got.eq_ignore_ascii_case(want.trim()) {
            return Err(Error::Invalid(format!(
                "Expected stream to have digest '{expected}' but was '{algorithm}:{got}'"
            )));
        }
        checked += 1;
    }
    if checked == 0 {
        return Err(Error::Invalid(format!(
            "Unknown digest '{expected}'; use a SHA-1 or sha256:<hex>"
        )));
    }
    Ok(())
}

/// Reads an upload's metadata, removing a stored tarball afterwards.
pub fn metadata(d: &Shared, upload: Upload, file_name: &str) -> Result<Value> {
    match upload {
        Upload::Metadata(v) => Ok(v),
        Upload::Remote { location, digest } => {
            let Some(path) = location.strip_prefix("file://") else {
                return Err(Error::Invalid(format!(
                    "Downloading remote {} from '{location}' failed: the Director stand-in has no network access; upload the file instead",
                    file_name.trim_end_matches(".MF")
                )));
            };
            if let Some(digest) = digest {
                let bytes = std::fs::read(path)
                    .map_err(|e| Error::Invalid(format!("Reading '{location}': {e}")))?;
                verify_digest(&bytes, &digest)?;
            }
            manifest_in_tarball(FsPath::new(path), file_name)
        }
        Upload::Tarball(path) => {
            let result = manifest_in_tarball(&path, file_name);
            if path.starts_with(d.settings.data_dir.join("uploads")) {
                let _ = std::fs::remove_file(&path);
            }
            result
        }
    }
}

pub fn text_field(v: &Value, key: &str, what: &str) -> Result<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(Error::Invalid(format!("{what} has no '{key}'"))),
    }
}

/// Which deployments use each stemcell / release version.
pub async fn usage(d: &Shared, key: &str) -> Result<HashMap<(String, String), Vec<String>>> {
    let mut out: HashMap<(String, String), Vec<String>> = HashMap::new();
    for dep in d.store.deployments().await? {
        let list = if key == "stemcells" {
            &dep.stemcells
        } else {
            &dep.releases
        };
        let items: Vec<Value> = serde_json::from_str(list).unwrap_or_default();
        for item in items {
            if let (Some(n), Some(v)) = (
                item.get("name").and_then(Value::as_str),
                item.get("version").and_then(Value::as_str),
            ) {
                out.entry((n.to_string(), v.to_string()))
                    .or_default()
                    .push(dep.name.clone());
            }
        }
    }
    Ok(out)
}

async fn list(State(d): State<Shared>) -> Result<Json<Value>> {
    let used = usage(&d, "stemcells").await?;
    let rows = d.store.stemcells().await?;
    Ok(Json(Value::Array(
        rows.into_iter()
            .map(|s| {
                let deployments: Vec<Value> = used
                    .get(&(s.name.clone(), s.version.clone()))
                    .into_iter()
                    .flatten()
                    .map(|n| json!({"name": n}))
                    .collect();
                json!({
                    "name": s.name,
                    "version": s.version,
                    "operating_system": s.operating_system,
                    "cid": s.cid,
                    "cpi": "",
                    "api_version": 3,
                    "deployments": deployments,
                })
            })
            .collect(),
    )))
}

async fn needed(State(d): State<Shared>, Json(body): Json<Value>) -> Result<Json<Value>> {
    let s = body.get("stemcell").cloned().unwrap_or(Value::Null);
    let name = text_field(&s, "name", "stemcell")?;
    let version = text_field(&s, "version", "stemcell")?;
    let exists = d
        .store
        .stemcells()
        .await?
        .iter()
        .any(|r| r.name == name && r.version == version);
    Ok(Json(json!({"needed": !exists})))
}

/// `POST /stemcells[?fix=true]`: a tarball (`application/x-compressed`), a URL
/// (`{"location", "sha1"}`), or metadata. A stemcell already present is kept as is unless
/// `fix` replaces it.
async fn upload(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let upload = receive(&d, &headers, body).await?;
    let fix = super::flag(q.get("fix"));
    let spec = TaskSpec {
        description: "create stemcell".into(),
        deployment: None,
        user,
        context_id: String::new(),
        lock: false,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| async move {
        let stage = ctx.stage("Update stemcell", Vec::new(), 3);
        let meta = stage
            .step("Extracting stemcell archive", async {
                metadata(&d, upload, "stemcell.MF")
            })
            .await?;
        let name = text_field(&meta, "name", "stemcell.MF")?;
        let version = text_field(&meta, "version", "stemcell.MF")?;
        let os = meta
            .get("operating_system")
            .and_then(Value::as_str)
            .unwrap_or("ubuntu-jammy")
            .to_string();
        let exists = d
            .store
            .stemcells()
            .await?
            .iter()
            .any(|s| s.name == name && s.version == version);
        if exists && !fix {
            ctx.debug(&format!("Stemcell '{name}/{version}' already exists"));
            return Ok(format!("/stemcells/{name}/{version}"));
        }
        let cid = format!("stemcell-{}", uuid::Uuid::new_v4());
        stage
            .step(
                &format!("Uploading stemcell {name}/{version} to the cloud"),
                async { Ok(()) },
            )
            .await?;
        stage
            .step(&format!("Save stemcell {name}/{version} ({cid})"), async {
                d.store.add_stemcell(&name, &version, &os, &cid).await
            })
            .await?;
        Ok(format!("/stemcells/{name}/{version}"))
    })
    .await?;
    Ok(task_redirect(id))
}

async fn destroy(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((name, version)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let used = usage(&d, "stemcells").await?;
    if let Some(deps) = used.get(&(name.clone(), version.clone())) {
        if !super::flag(q.get("force")) {
            return Err(Error::Conflict(format!(
                "Stemcell '{name}/{version}' is still in use by: {}",
                deps.join(", ")
            )));
        }
    }
    let spec = TaskSpec {
        description: "delete stemcell".into(),
        deployment: None,
        user,
        context_id: String::new(),
        lock: false,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| async move {
        let stage = ctx.stage("Deleting stemcell from cloud", Vec::new(), 1);
        stage
            .step(&format!("Deleting stemcell {name}/{version}"), async {
                if d.store.delete_stemcell(&name, &version).await? {
                    Ok(())
                } else {
                    Err(Error::NotFound(format!(
                        "Stemcell '{name}/{version}' doesn't exist"
                    )))
                }
            })
            .await?;
        Ok(format!("/stemcells/{name}/{version}"))
    })
    .await?;
    Ok(task_redirect(id))
}
