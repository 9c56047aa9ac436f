//! Instance logs, as `bosh logs` fetches them:
//! `GET /deployments/:d/jobs/:group/:index_or_id/logs?type=job|agent|system[,…]&filters=…`
//! starts a `fetch logs` task whose result is a blobstore id, and `GET /resources/:id` hands
//! out that blob, a gzipped tarball.
//!
//! `:group` may be `*` (every instance group) and `:index_or_id` `*` or left out (every
//! instance of the group), as the CLI sends them. The instances are simulated, so the bundle
//! is too, but from what the stand-in knows: per instance, for `type=job` each job's
//! `<job>/<job>.stdout.log` and `<job>/<job>.stderr.log` (its start, its process checks, the
//! output of errands run on it), for `type=agent` the agent's `current` log (VM creation,
//! heartbeats, the Director's events about the instance), for `type=system` a `syslog`.
//! `filters` are the agent's globs over those paths (`*` within a path segment, `**` across).
//!
//! One instance's bundle has its files at the top, as an agent's tarball does; a bundle of
//! several instances has one directory per instance, `<group>.<index>.<id>/`.

use std::collections::HashMap;
use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::deployments::require_deployment;
use super::{task_redirect, User};
use crate::blobs::{self, NewBlob};
use crate::error::{Error, Result};
use crate::store::{iso_time, unix_now, Instance};
use crate::tasks::{self, TaskCtx, TaskSpec};
use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/deployments/{name}/jobs/{group}/{id}/logs", get(fetch_one))
        .route("/deployments/{name}/jobs/{group}/logs", get(fetch_all))
        .route("/resources/{id}", get(resource))
}

/// The log types an agent bundles.
pub const LOG_TYPES: &[&str] = &["job", "agent", "system"];

/// Most heartbeat lines an agent log carries (the newest).
const MAX_HEARTBEATS: i64 = 40;

async fn fetch_one(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((deployment, group, index_or_id)): Path<(String, String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    start(d, user, deployment, group, index_or_id, query).await
}

async fn fetch_all(
    State(d): State<Shared>,
    Extension(User(user)): Extension<User>,
    Path((deployment, group)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    start(d, user, deployment, group, "*".into(), query).await
}

/// Checks the request, picks the instances, and queues the task.
async fn start(
    d: Shared,
    user: String,
    deployment: String,
    group: String,
    index_or_id: String,
    query: HashMap<String, String>,
) -> Result<Response> {
    let row = require_deployment(&d, &deployment).await?;
    let types = log_types(query.get("type").map(String::as_str))?;
    let filters: Vec<String> = query
        .get("filters")
        .map(|f| {
            f.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let instances = select(&d, &row, &group, &index_or_id).await?;
    let spec = TaskSpec {
        description: "fetch logs".into(),
        deployment: Some(deployment.clone()),
        user,
        context_id: String::new(),
        lock: false,
    };
    let id = tasks::enqueue(&d, spec, move |d, ctx| {
        fetch(d, ctx, deployment, instances, types, filters)
    })
    .await?;
    Ok(task_redirect(id))
}

/// `type=job,agent`: each must be known; none means `job`, the CLI's default.
fn log_types(raw: Option<&str>) -> Result<Vec<String>> {
    let mut types: Vec<String> = Vec::new();
    for t in raw.unwrap_or("job").split(',').map(str::trim) {
        if t.is_empty() {
            continue;
        }
        if !LOG_TYPES.contains(&t) {
            return Err(Error::Invalid(format!(
                "Invalid log type '{t}'; use one of {}",
                LOG_TYPES.join(", ")
            )));
        }
        if !types.iter().any(|have| have == t) {
            types.push(t.to_string());
        }
    }
    if types.is_empty() {
        types.push("job".into());
    }
    Ok(types)
}

/// The instances a request names, each with a VM (logs come from the agent on the VM).
async fn select(
    d: &Shared,
    row: &crate::store::DeploymentRow,
    group: &str,
    index_or_id: &str,
) -> Result<Vec<Instance>> {
    let deployment = row.name.as_str();
    let all = d.store.instances(deployment).await?;
    let whole_group = index_or_id.is_empty() || index_or_id == "*";
    if group != "*" && !all.iter().any(|i| i.instance_group == group) {
        // A group of the manifest without instances now (an errand between runs) has no VM
        // to ask; any other name is unknown.
        let in_manifest = crate::deploy::parse_yaml(&row.manifest)
            .ok()
            .and_then(|m| m.get("instance_groups").cloned())
            .and_then(|g| g.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .any(|g| g.get("name").and_then(Value::as_str) == Some(group));
        return Err(if in_manifest {
            Error::Invalid(format!(
                "Instance group '{group}' of deployment '{deployment}' has no VMs to fetch logs from"
            ))
        } else {
            Error::NotFound(format!(
                "Instance group '{group}' doesn't exist in deployment '{deployment}'"
            ))
        });
    }
    let mut chosen: Vec<Instance> = all
        .into_iter()
        .filter(|i| group == "*" || i.instance_group == group)
        .filter(|i| whole_group || i.id == index_or_id || i.idx.to_string() == index_or_id.trim())
        .collect();
    if chosen.is_empty() {
        return Err(Error::NotFound(format!(
            "Instance '{group}/{index_or_id}' doesn't exist in deployment '{deployment}'"
        )));
    }
    if !whole_group {
        if let Some(inst) = chosen.iter().find(|i| i.vm_cid.is_none()) {
            return Err(Error::Invalid(format!(
                "Instance '{}' doesn't have a VM to fetch logs from",
                inst.label()
            )));
        }
    }
    chosen.retain(|i| i.vm_cid.is_some());
    if chosen.is_empty() {
        return Err(Error::Invalid(format!(
            "No instances with a VM were found in '{group}' of deployment '{deployment}'"
        )));
    }
    chosen.sort_by(|a, b| (&a.instance_group, a.idx).cmp(&(&b.instance_group, b.idx)));
    Ok(chosen)
}

/// The task: collects each instance's logs, packs them, stores the blob, returns its id.
async fn fetch(
    d: Shared,
    ctx: std::sync::Arc<TaskCtx>,
    deployment: String,
    instances: Vec<Instance>,
    types: Vec<String>,
    filters: Vec<String>,
) -> Result<String> {
    let stage = ctx.stage("Fetching logs", Vec::new(), instances.len());
    let errand_output = errand_output(&d, &deployment).await?;
    let events = d.store.events(Some(&deployment), 500).await?;
    let several = instances.len() > 1;
    let mut files: Vec<(String, String)> = Vec::new();
    for inst in &instances {
        let label = inst.label();
        let index = stage.start(&label);
        // Held here while log fetches are paused (`PUT /chaos/logs`).
        let _ = d.logs_paused.subscribe().wait_for(|paused| !*paused).await;
        let prefix = if several {
            format!("{}.{}.{}/", inst.instance_group, inst.idx, inst.id)
        } else {
            String::new()
        };
        for (path, text) in instance_logs(&d, inst, &types, &events, &errand_output) {
            if filters.is_empty() || filters.iter().any(|f| glob_match(f, &path)) {
                files.push((format!("{prefix}{path}"), text));
            }
        }
        stage.finish(&label, index);
    }
    let stage = ctx.stage("Packing log files together", Vec::new(), 1);
    let data_dir = d.settings.data_dir.clone();
    let blob_id = stage
        .step("Packing log files together", async move {
            tokio::task::spawn_blocking(move || pack(&data_dir, &files))
                .await
                .map_err(|e| Error::Internal(format!("packing logs: {e}")))?
        })
        .await?;
    ctx.debug(&format!("Stored log bundle as blob {blob_id}"));
    Ok(blob_id)
}

/// Writes the files into a gzipped tarball blob.
fn pack(data_dir: &std::path::Path, files: &[(String, String)]) -> Result<String> {
    let blob = NewBlob::create(data_dir)?;
    let io = |e: std::io::Error| Error::io("writing the log bundle", e);
    let file = std::fs::File::create(&blob.path).map_err(io)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = u64::try_from(unix_now()).unwrap_or(0);
    for (path, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("./{path}"), text.as_bytes())
            .map_err(io)?;
    }
    let gz = tar.into_inner().map_err(io)?;
    gz.finish().map_err(io)?.sync_all().map_err(io)?;
    blob.commit(data_dir)
}

/// Errand output per instance id: `(errand, time, stdout, stderr, exit code)` of every errand
/// run recorded in the deployment's tasks.
type ErrandRuns = HashMap<String, Vec<(String, i64, String, String, i64)>>;

async fn errand_output(d: &Shared, deployment: &str) -> Result<ErrandRuns> {
    let mut runs: ErrandRuns = HashMap::new();
    let tasks = d
        .store
        .tasks(&["done".to_string()], Some(deployment), 200)
        .await?;
    for task in tasks.iter().rev() {
        if !task.description.starts_with("run errand ") {
            continue;
        }
        let Ok(bytes) = tasks::read_output(&d.settings.data_dir, task.id, "result") else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            let Ok(value) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let field = |k: &str| {
                value
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let Some(id) = value.pointer("/instance/id").and_then(Value::as_str) else {
                continue;
            };
            runs.entry(id.to_string()).or_default().push((
                field("errand_name"),
                task.finished_at.unwrap_or(task.created_at),
                field("stdout"),
                field("stderr"),
                value.get("exit_code").and_then(Value::as_i64).unwrap_or(0),
            ));
        }
    }
    Ok(runs)
}

/// `[2024-01-02 03:04:05+0000]`, the timestamp prefix BOSH job logs use.
fn stamp(unix: i64) -> String {
    let t = iso_time(unix);
    format!("[{}+0000]", t.trim_end_matches(" UTC"))
}

/// The simulated log files of one instance, by path inside its bundle.
fn instance_logs(
    d: &Shared,
    inst: &Instance,
    types: &[String],
    events: &[crate::store::EventRow],
    errands: &ErrandRuns,
) -> Vec<(String, String)> {
    let now = unix_now();
    let created = inst.vm_created_at.unwrap_or(now);
    let name = format!("{}/{}", inst.instance_group, inst.id);
    let cid = inst.vm_cid.as_deref().unwrap_or("");
    let agent = inst.agent_id.as_deref().unwrap_or("");
    let running = crate::deploy::process_state(inst);
    let mut files = Vec::new();
    if types.iter().any(|t| t == "job") {
        for job in inst.job_list() {
            let mut out = format!(
                "{} {job}: starting on {name} (index {}, az {}, ips {})\n",
                stamp(created),
                inst.idx,
                inst.az.as_deref().unwrap_or("none"),
                inst.ip_list().join(",")
            );
            out.push_str(&format!(
                "{} {job}: listening; process state {}\n",
                stamp(created + 1),
                if running.is_empty() {
                    "unknown"
                } else {
                    running
                }
            ));
            let mut err = format!("{} {job}: stderr of {name} (VM {cid})\n", stamp(created));
            for (errand, at, stdout, stderr, code) in errands.get(&inst.id).into_iter().flatten() {
                if *errand != job {
                    continue;
                }
                out.push_str(&format!(
                    "{} errand {errand} run, exit code {code}\n",
                    stamp(*at)
                ));
                for line in stdout.lines() {
                    out.push_str(&format!("{line}\n"));
                }
                for line in stderr.lines() {
                    err.push_str(&format!("{line}\n"));
                }
            }
            if inst.state == "stopped" {
                out.push_str(&format!("{} {job}: stopped by the Director\n", stamp(now)));
            }
            files.push((format!("{job}/{job}.stdout.log"), out));
            files.push((format!("{job}/{job}.stderr.log"), err));
        }
    }
    if types.iter().any(|t| t == "agent") {
        let mut log = format!(
            "{} [main] INFO - Starting agent {agent} on VM {cid}\n{} [agent] INFO - Applying spec of {name} (jobs: {})\n",
            stamp(created),
            stamp(created),
            inst.job_list().join(", ")
        );
        let mut lines: Vec<(i64, String)> = events
            .iter()
            .filter(|e| e.instance.as_deref() == Some(name.as_str()))
            .map(|e| {
                (
                    e.timestamp,
                    format!(
                        "{} [director] INFO - {} {} {}{}",
                        stamp(e.timestamp),
                        e.action,
                        e.object_type,
                        e.object_name.as_deref().unwrap_or(""),
                        e.error
                            .as_deref()
                            .map(|err| format!(" (error: {err})"))
                            .unwrap_or_default()
                    ),
                )
            })
            .collect();
        let interval = i64::try_from(d.health.interval.as_secs())
            .unwrap_or(1)
            .max(1);
        if inst.agent_alive && !inst.unresponsive {
            let first = (now - interval * MAX_HEARTBEATS).max(created);
            let mut t = first;
            while t <= now {
                lines.push((
                    t,
                    format!(
                        "{} [heartbeat] INFO - Sending heartbeat: job_state {running}",
                        stamp(t)
                    ),
                ));
                t += interval;
            }
        } else {
            lines.push((
                now,
                format!(
                    "{} [agent] ERROR - agent stopped; no heartbeats",
                    stamp(now)
                ),
            ));
        }
        lines.sort_by_key(|(t, _)| *t);
        for (_, line) in lines {
            log.push_str(&line);
            log.push('\n');
        }
        files.push(("current".into(), log));
    }
    if types.iter().any(|t| t == "system") {
        files.push((
            "syslog".into(),
            format!(
                "{} {} kernel: booted stemcell {}\n{} {} monit[1]: monit started, {} job(s)\n",
                stamp(created),
                cid,
                inst.stemcell.as_deref().unwrap_or("unknown"),
                stamp(created),
                cid,
                inst.job_list().len()
            ),
        ));
    }
    files
}

/// The agent's filter globs: `*` matches within a path segment, `**` across segments.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) if rest.first() == Some(&b'*') => {
                let rest = &rest[1..];
                let rest = rest.strip_prefix(b"/").unwrap_or(rest);
                (0..=s.len()).any(|i| go(rest, &s[i..]))
            }
            Some((b'*', rest)) => {
                let segment = s.iter().position(|&c| c == b'/').unwrap_or(s.len());
                (0..=segment).any(|i| go(rest, &s[i..]))
            }
            Some((&c, rest)) => s.first() == Some(&c) && go(rest, &s[1..]),
        }
    }
    let pattern = pattern.trim_start_matches("./");
    go(pattern.as_bytes(), path.as_bytes())
}

/// `GET /resources/:id`: streams a blob (`Range: bytes=N-[M]` answers that part).
async fn resource(
    State(d): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let path = blobs::blob_path(&d.settings.data_dir, &id)?;
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| Error::NotFound(format!("Resource '{id}' doesn't exist")))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| Error::io(format!("reading blob {id}"), e))?
        .len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_range);
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, len),
        Some((start, last)) => {
            if start >= len || last.is_some_and(|l| l < start) {
                let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                    response.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(response);
            }
            let end = last.map_or(len, |l| l.saturating_add(1).min(len));
            (StatusCode::PARTIAL_CONTENT, start, end)
        }
    };
    file.seek(SeekFrom::Start(start))
        .await
        .map_err(|e| Error::io(format!("reading blob {id}"), e))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(end - start)));
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// `bytes=N-` or `bytes=N-M`.
fn parse_range(value: &str) -> Option<(u64, Option<u64>)> {
    let (start, end) = value.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let end = match end.trim() {
        "" => None,
        e => Some(e.parse().ok()?),
    };
    Some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_and_across_segments() {
        assert!(glob_match("**/*", "web/web.stdout.log"));
        assert!(glob_match("**/*", "current"));
        assert!(glob_match("web/*.log", "web/web.stderr.log"));
        assert!(!glob_match("web/*.log", "other/web.log"));
        assert!(!glob_match("*.log", "web/web.log"));
        assert!(glob_match("*/*.stdout.log", "web/web.stdout.log"));
        assert!(glob_match("./current", "current"));
        assert!(!glob_match("current", "currently"));
    }

    #[test]
    fn log_types_default_to_job_and_refuse_unknown_ones() {
        assert_eq!(log_types(None).unwrap(), vec!["job"]);
        assert_eq!(log_types(Some("")).unwrap(), vec!["job"]);
        assert_eq!(
            log_types(Some("agent,job,agent")).unwrap(),
            vec!["agent", "job"]
        );
        assert!(log_types(Some("job,kernel")).is_err());
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("bytes=5-"), Some((5, None)));
        assert_eq!(parse_range("bytes=0-9"), Some((0, Some(9))));
        assert_eq!(parse_range("lines=0-9"), None);
    }

    #[test]
    fn timestamps_read_like_bosh_job_logs() {
        assert_eq!(stamp(1_700_000_000), "[2023-11-14 22:13:20+0000]");
    }
}
