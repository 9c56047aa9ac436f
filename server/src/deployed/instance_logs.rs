//! Instance log downloads: what the Status tab's Logs links and
//! `POST /api/v0/deployed/products/:guid/logs` start. A fetch asks the Director for the logs of
//! one instance or of a whole instance group (a `fetch logs` task, then the blob it names,
//! streamed to a file under `<data-dir>/logs/`), and is then downloadable by its id.
//!
//! Fetches live in memory: they are short-lived by nature (a restart forgets them and empties
//! the folder). A finished fetch is kept for [`KEEP_FOR`], and at most [`MAX_FETCHES`] of them,
//! so neither memory nor the data dir grows without bound.
//!
//! Logs can contain secrets, so only roles that may see credentials may fetch or download them
//! ([`crate::auth::roles`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::backend::logs::LogFetch;

use crate::auth::roles::{role_allows, Action};
use app::session::CurrentUser;
use serde_json::Value;

use crate::director_client::LogsRequest;
use crate::installations::{error_text, now_rfc3339, Installations};
use crate::{Error, Result};

/// How long a finished fetch (and its file) is kept.
pub const KEEP_FOR: Duration = Duration::from_secs(60 * 60);

/// How many finished fetches are kept at most (the newest).
pub const MAX_FETCHES: usize = 20;

/// The log types the Director bundles.
pub const LOG_TYPES: &[&str] = &["job", "agent", "system"];

/// What a fetch asks for, as the API body reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FetchRequest {
    pub instance_group: String,
    /// `None`: the whole group.
    pub index: Option<u64>,
    /// `job` (the default), `agent`, `system`, comma-separated.
    pub log_types: Option<String>,
}

impl FetchRequest {
    /// Reads `{"instance_group": "master", "index": 0, "type": "job"}`; 422 naming the field.
    pub fn parse(body: &Value) -> Result<FetchRequest> {
        let Value::Object(map) = body else {
            return Err(Error::invalid(
                "instance_group",
                "expected a JSON object with instance_group (and index for one instance)",
            ));
        };
        let instance_group = match map.get("instance_group") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                return Err(Error::invalid(
                    "instance_group",
                    "the instance group's name is required",
                ))
            }
        };
        let index = match map.get("index") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| {
                Error::invalid(
                    "index",
                    "expected a whole number (0 for the first instance)",
                )
            })?),
        };
        let log_types = match map.get("type") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::invalid("type", "expected text such as \"job\"")),
        };
        Ok(FetchRequest {
            instance_group,
            index,
            log_types,
        })
    }
}

/// A finished fetch's bundle.
#[derive(Debug, Clone)]
pub struct Download {
    pub path: PathBuf,
    pub file_name: String,
}

struct Entry {
    view: LogFetch,
    path: PathBuf,
    finished: Option<Instant>,
}

struct Inner {
    installations: Installations,
    dir: PathBuf,
    fetches: Mutex<HashMap<String, Entry>>,
}

/// The log fetches of this process. Cheap to clone.
#[derive(Clone)]
pub struct InstanceLogs {
    inner: Arc<Inner>,
}

impl InstanceLogs {
    /// Keeps bundles in `<data-dir>/logs`, emptied first: fetches of an earlier run are gone.
    pub fn open(installations: Installations, data_dir: &Path) -> Result<InstanceLogs> {
        let dir = data_dir.join("logs");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .map_err(|e| Error::io(format!("emptying {}", dir.display()), e))?;
        }
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(InstanceLogs {
            inner: Arc::new(Inner {
                installations,
                dir,
                fetches: Mutex::new(HashMap::new()),
            }),
        })
    }

    fn fetches(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.inner
            .fetches
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks the request against the deployed manifest and starts fetching in the background.
    pub async fn start(
        &self,
        caller: &CurrentUser,
        guid: &str,
        request: &FetchRequest,
    ) -> Result<LogFetch> {
        may_fetch(caller)?;
        let log_types = log_types(request.log_types.as_deref())?;
        let deployed = self
            .inner
            .installations
            .store()
            .installations()
            .deployed_one(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("deployed product '{guid}'")))?;
        let manifest: Value = serde_json::from_str(&deployed.manifest)
            .map_err(|e| Error::Internal(format!("deployed manifest of {guid}: {e}")))?;
        let deployment = manifest
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(guid)
            .to_owned();
        check_target(&manifest, &deployment, request)?;

        self.prune();
        let id = format!("{:032x}", rand::random::<u128>());
        let file_name = bundle_name(&deployment, &request.instance_group, request.index);
        let path = self.inner.dir.join(format!("{id}.tgz"));
        let view = LogFetch {
            id: id.clone(),
            guid: guid.to_owned(),
            instance_group: request.instance_group.clone(),
            index: request.index,
            status: "running".into(),
            error: None,
            file_name,
            download_url: None,
            started_at: now_rfc3339(),
            finished_at: None,
        };
        self.fetches().insert(
            id.clone(),
            Entry {
                view: view.clone(),
                path: path.clone(),
                finished: None,
            },
        );
        tracing::info!(%guid, %deployment, group = %request.instance_group, index = ?request.index,
            user = %caller.username, fetch = %id, "fetching instance logs");

        let director = self.inner.installations.director().client.clone();
        let logs = LogsRequest {
            instance_group: Some(request.instance_group.clone()),
            index_or_id: request.index.map(|i| i.to_string()),
            log_types,
            filters: Vec::new(),
        };
        let this = self.clone();
        tokio::spawn(async move {
            let part = path.with_extension("part");
            let outcome = async {
                let blob = director.fetch_logs(&deployment, &logs, |_| {}).await?;
                director.download_resource(&blob, &part).await?;
                tokio::fs::rename(&part, &path)
                    .await
                    .map_err(|e| Error::io(format!("storing {}", path.display()), e))
            }
            .await;
            if let Err(e) = &outcome {
                tracing::warn!(fetch = %id, error = %e, "fetching instance logs failed");
                let _ = tokio::fs::remove_file(&part).await;
            }
            this.finish(&id, outcome.map_err(|e| error_text(&e)));
        });
        Ok(view)
    }

    fn finish(&self, id: &str, outcome: std::result::Result<(), String>) {
        let mut fetches = self.fetches();
        let Some(entry) = fetches.get_mut(id) else {
            return;
        };
        entry.finished = Some(Instant::now());
        entry.view.finished_at = Some(now_rfc3339());
        match outcome {
            Ok(()) => {
                entry.view.status = "ready".into();
                entry.view.download_url = Some(format!(
                    "/api/v0/deployed/products/{}/logs/{}/download",
                    entry.view.guid, entry.view.id
                ));
            }
            Err(message) => {
                entry.view.status = "failed".into();
                entry.view.error = Some(message);
            }
        }
    }

    /// A fetch of `guid` as it stands.
    pub fn status(&self, caller: &CurrentUser, guid: &str, id: &str) -> Result<LogFetch> {
        may_fetch(caller)?;
        self.fetches()
            .get(id)
            .filter(|e| e.view.guid == guid)
            .map(|e| e.view.clone())
            .ok_or_else(|| Error::NotFound(format!("log fetch '{id}'")))
    }

    /// The bundle of a fetch: `Ok(Err(view))` while it is not ready (running or failed).
    pub fn download(
        &self,
        caller: &CurrentUser,
        guid: &str,
        id: &str,
    ) -> Result<std::result::Result<Download, LogFetch>> {
        may_fetch(caller)?;
        let fetches = self.fetches();
        let entry = fetches
            .get(id)
            .filter(|e| e.view.guid == guid)
            .ok_or_else(|| Error::NotFound(format!("log fetch '{id}'")))?;
        if entry.view.status != "ready" {
            return Ok(Err(entry.view.clone()));
        }
        Ok(Ok(Download {
            path: entry.path.clone(),
            file_name: entry.view.file_name.clone(),
        }))
    }

    /// Forgets finished fetches older than [`KEEP_FOR`] and all but the newest [`MAX_FETCHES`]
    /// finished ones, deleting their files. Running fetches stay.
    pub fn prune(&self) {
        prune_entries(&mut self.fetches(), KEEP_FOR, MAX_FETCHES);
    }
}

fn prune_entries(fetches: &mut HashMap<String, Entry>, keep_for: Duration, max: usize) {
    let mut finished: Vec<(Instant, String)> = fetches
        .iter()
        .filter_map(|(id, e)| e.finished.map(|at| (at, id.clone())))
        .collect();
    finished.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    for (n, (at, id)) in finished.into_iter().enumerate() {
        if n >= max || at.elapsed() > keep_for {
            if let Some(entry) = fetches.remove(&id) {
                let _ = std::fs::remove_file(&entry.path);
            }
        }
    }
}

/// Logs can hold credentials: only the roles that may see those.
pub fn may_fetch(caller: &CurrentUser) -> Result<()> {
    if role_allows(&caller.role, Action::SeeCredentials) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "the role '{}' may not download logs: they can contain credentials",
            caller.role
        )))
    }
}

/// `job,agent` → checked and normalised; none means `job`.
fn log_types(raw: Option<&str>) -> Result<String> {
    let mut types: Vec<&str> = Vec::new();
    for t in raw.unwrap_or("job").split(',').map(str::trim) {
        if t.is_empty() {
            continue;
        }
        if !LOG_TYPES.contains(&t) {
            return Err(Error::invalid(
                "type",
                format!("unknown log type '{t}'; use {}", LOG_TYPES.join(", ")),
            ));
        }
        if !types.contains(&t) {
            types.push(t);
        }
    }
    Ok(if types.is_empty() {
        "job".into()
    } else {
        types.join(",")
    })
}

/// The group must be a deployed instance group with VMs, the index one of its instances.
fn check_target(manifest: &Value, deployment: &str, request: &FetchRequest) -> Result<()> {
    let groups: Vec<&Value> = manifest
        .get("instance_groups")
        .and_then(Value::as_array)
        .map(|g| g.iter().collect())
        .unwrap_or_default();
    let name_of = |g: &Value| g.get("name").and_then(Value::as_str).map(str::to_owned);
    let group = request.instance_group.as_str();
    let Some(found) = groups.iter().find(|g| name_of(g).as_deref() == Some(group)) else {
        let names: Vec<String> = groups.iter().filter_map(|g| name_of(g)).collect();
        return Err(Error::invalid(
            "instance_group",
            format!(
                "deployment '{deployment}' has no instance group '{group}' (it has: {})",
                names.join(", ")
            ),
        ));
    };
    if found.get("lifecycle").and_then(Value::as_str) == Some("errand") {
        return Err(Error::invalid(
            "instance_group",
            format!("'{group}' is an errand: it has no VMs to fetch logs from between runs"),
        ));
    }
    let count = found.get("instances").and_then(Value::as_u64).unwrap_or(0);
    if count == 0 {
        return Err(Error::invalid(
            "instance_group",
            format!("'{group}' has no instances"),
        ));
    }
    if let Some(index) = request.index {
        if index >= count {
            return Err(Error::invalid(
                "index",
                format!(
                    "'{group}' has {count} instance{}, so the index is 0 to {}; {index} is out of range",
                    if count == 1 { "" } else { "s" },
                    count - 1
                ),
            ));
        }
    }
    Ok(())
}

/// `<deployment>-<group>[-<index>]-<UTC time>.tgz`, with only filename-safe characters.
fn bundle_name(deployment: &str, group: &str, index: Option<u64>) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let stamp: String = now_rfc3339()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    match index {
        Some(i) => format!("{}-{}-{i}-{stamp}.tgz", safe(deployment), safe(group)),
        None => format!("{}-{}-{stamp}.tgz", safe(deployment), safe(group)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Value {
        json!({"name": "pivotal-container-service-abc", "instance_groups": [
            {"name": "pivotal-container-service", "instances": 2},
            {"name": "smoke-tests", "lifecycle": "errand", "instances": 1},
            {"name": "spare", "instances": 0},
        ]})
    }

    fn request(group: &str, index: Option<u64>) -> FetchRequest {
        FetchRequest {
            instance_group: group.into(),
            index,
            log_types: None,
        }
    }

    fn field_of(e: Error) -> String {
        match e {
            Error::Invalid { field, .. } => field,
            other => panic!("expected a 422, got {other}"),
        }
    }

    #[test]
    fn targets_are_checked_against_the_manifest() {
        let m = manifest();
        let d = "pivotal-container-service-abc";
        assert!(check_target(&m, d, &request("pivotal-container-service", Some(1))).is_ok());
        assert!(check_target(&m, d, &request("pivotal-container-service", None)).is_ok());
        let e = check_target(&m, d, &request("pivotal-container-service", Some(2))).unwrap_err();
        assert!(e.to_string().contains("0 to 1"), "{e}");
        assert_eq!(field_of(e), "index");
        for group in ["nope", "smoke-tests", "spare"] {
            let e = check_target(&m, d, &request(group, None)).unwrap_err();
            assert_eq!(field_of(e), "instance_group", "{group}");
        }
    }

    #[test]
    fn bodies_name_the_bad_field() {
        let ok = FetchRequest::parse(&json!({"instance_group": "master", "index": 0})).unwrap();
        assert_eq!(ok, request("master", Some(0)));
        let group = FetchRequest::parse(&json!({"instance_group": "master"})).unwrap();
        assert_eq!(group.index, None);
        for (body, field) in [
            (json!({}), "instance_group"),
            (json!({"instance_group": ""}), "instance_group"),
            (json!([1]), "instance_group"),
            (json!({"instance_group": "m", "index": -1}), "index"),
            (json!({"instance_group": "m", "index": "0"}), "index"),
            (json!({"instance_group": "m", "type": 3}), "type"),
        ] {
            assert_eq!(field_of(FetchRequest::parse(&body).unwrap_err()), field);
        }
        assert_eq!(log_types(None).unwrap(), "job");
        assert_eq!(log_types(Some("agent, job,agent")).unwrap(), "agent,job");
        assert_eq!(field_of(log_types(Some("kernel")).unwrap_err()), "type");
    }

    #[test]
    fn bundle_names_are_safe_and_say_what_they_hold() {
        let one = bundle_name("pks-abc", "master", Some(0));
        assert!(one.starts_with("pks-abc-master-0-"), "{one}");
        assert!(one.ends_with("Z.tgz"), "{one}");
        assert!(!one.contains(':'));
        let all = bundle_name("my dep/x", "web", None);
        assert!(all.starts_with("my_dep_x-web-2"), "{all}");
    }

    #[test]
    fn pruning_keeps_running_and_recent_fetches() {
        let dir = tempfile::tempdir().unwrap();
        let mut fetches = HashMap::new();
        let entry = |id: &str, finished: Option<Instant>| {
            let path = dir.path().join(id);
            std::fs::write(&path, b"x").unwrap();
            Entry {
                view: LogFetch {
                    id: id.into(),
                    guid: "g".into(),
                    instance_group: "web".into(),
                    index: None,
                    status: if finished.is_some() {
                        "ready"
                    } else {
                        "running"
                    }
                    .into(),
                    error: None,
                    file_name: "f.tgz".into(),
                    download_url: None,
                    started_at: String::new(),
                    finished_at: None,
                },
                path,
                finished,
            }
        };
        let now = Instant::now();
        fetches.insert("running".to_string(), entry("running", None));
        for n in 0..4u64 {
            let at = now.checked_sub(Duration::from_secs(n)).unwrap_or(now);
            fetches.insert(format!("done{n}"), entry(&format!("done{n}"), Some(at)));
        }
        prune_entries(&mut fetches, KEEP_FOR, 2);
        let mut left: Vec<&String> = fetches.keys().collect();
        left.sort();
        assert_eq!(left, ["done0", "done1", "running"]);
        assert!(!dir.path().join("done3").exists());
        prune_entries(&mut fetches, Duration::ZERO, 10);
        assert_eq!(fetches.len(), 1);
        assert!(dir.path().join("running").exists());
    }
}
