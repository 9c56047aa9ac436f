//! Instance log downloads: what the Status tab's Logs links and
//! `POST /api/v0/deployed/products/:guid/logs` start. A fetch asks the Director for the logs of
//! one instance or of a whole instance group (a `fetch logs` task, then the blob it names,
//! streamed to a file), keeps the bundle with Tileworks's files (`crate::files`, `logs/`: the
//! data dir, or the object store that replicas share), and is then downloadable by its id.
//!
//! Fetches are rows in the database (`store::log_fetches`), so with several replicas behind a
//! load balancer any of them answers a fetch's status and download. The replica fetching holds
//! a lease it renews (the length of `--apply-lease-secs`); a fetch whose replica died (kill -9,
//! a lost machine) is failed by whichever replica next looks at it, saying so, and a replica
//! restarted under the same `--replica-id` fails what it was fetching. A finished fetch is
//! kept for [`KEEP_FOR`], and at most [`MAX_FETCHES`] of them, so neither the database nor
//! the files grow without bound.
//!
//! Logs can contain secrets, so only roles that may see credentials may fetch or download them
//! ([`crate::auth::roles`]).

use std::time::Duration;

use app::backend::logs::LogFetch;

use crate::auth::roles::{role_allows, Action};
use app::session::CurrentUser;
use serde_json::Value;

use crate::director_client::LogsRequest;
use crate::files::{Files, Folder};
use crate::installations::lease::now_ms;
use crate::installations::{error_text, now_rfc3339, Installations};
use crate::store::log_fetches::LogFetchRow;
use crate::{Error, Result};

/// How long a finished fetch (and its bundle) is kept.
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

/// A ready fetch's bundle, open for reading, and the name it downloads as.
#[derive(Debug)]
pub struct Download {
    pub file: tokio::fs::File,
    pub file_name: String,
}

struct Inner {
    installations: Installations,
    files: Files,
}

/// The log fetches of every replica sharing the database. Cheap to clone.
#[derive(Clone)]
pub struct InstanceLogs {
    inner: std::sync::Arc<Inner>,
}

impl InstanceLogs {
    /// Keeps bundles in `files`' `logs/`, removing the partial downloads a crash left there and
    /// the expired fetches, and fails the fetches this replica (same `--replica-id`) was
    /// running before it restarted.
    pub async fn open(installations: Installations, files: Files) -> Result<InstanceLogs> {
        let dir = files.dir(Folder::Logs);
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        crate::uploads::remove_stale(&dir);
        let me = installations.replica().id;
        let fetches = installations.store().log_fetches();
        for id in fetches.running_of(&me).await? {
            let why = |holder: &str| {
                format!(
                    "Tileworks ({holder}) restarted while fetching these logs; fetch them again"
                )
            };
            fetches
                .fail_abandoned(&id, now_ms(), Some(&me), &now_rfc3339(), why)
                .await?;
        }
        let logs = InstanceLogs {
            inner: std::sync::Arc::new(Inner {
                installations,
                files,
            }),
        };
        // What expired while no replica started a fetch goes now.
        logs.prune().await;
        Ok(logs)
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
        let installations = &self.inner.installations;
        let deployed = installations
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

        self.prune().await;
        let replica = installations.replica();
        let row = LogFetchRow {
            id: format!("{:032x}", rand::random::<u128>()),
            guid: guid.to_owned(),
            instance_group: request.instance_group.clone(),
            instance_index: request.index.map(|i| i64::try_from(i).unwrap_or(i64::MAX)),
            log_types: log_types.clone(),
            user_name: caller.username.clone(),
            status: "running".into(),
            error: None,
            file_name: bundle_name(&deployment, &request.instance_group, request.index),
            bundle: None,
            holder: replica.id.clone(),
            lease_until_ms: lease_until(replica.lease),
            started_at: now_rfc3339(),
            finished_at: None,
        };
        installations.store().log_fetches().insert(&row).await?;
        tracing::info!(%guid, %deployment, group = %request.instance_group, index = ?request.index,
            user = %caller.username, fetch = %row.id, "fetching instance logs");

        let logs = LogsRequest {
            instance_group: Some(request.instance_group.clone()),
            index_or_id: request.index.map(|i| i.to_string()),
            log_types,
            filters: Vec::new(),
        };
        let this = self.clone();
        let (id, holder) = (row.id.clone(), row.holder.clone());
        tokio::spawn(async move {
            this.run(&id, &holder, replica.lease, &deployment, &logs)
                .await;
        });
        Ok(view(row))
    }

    /// Fetches, keeps the bundle and records the outcome, renewing the lease meanwhile. A fetch
    /// another replica failed (this one stopped renewing in time) stops, and its bundle goes.
    async fn run(
        &self,
        id: &str,
        holder: &str,
        lease: Duration,
        deployment: &str,
        logs: &LogsRequest,
    ) {
        let store = self.inner.installations.store();
        let files = &self.inner.files;
        let dir = files.dir(Folder::Logs);
        let part = dir.join(format!(
            "{}{}.part",
            crate::uploads::UPLOAD_PREFIX,
            crate::secrets::random_token(12)
        ));
        let work = async {
            let director = &self.inner.installations.director().client;
            let blob = director.fetch_logs(deployment, logs, |_| {}).await?;
            director.download_resource(&blob, &part).await?;
            files
                .keep_file(Folder::Logs, &part, &format!("{id}.tgz"))
                .await
        };
        let renew = async {
            let every = (lease / 3).max(Duration::from_millis(200));
            loop {
                tokio::time::sleep(every).await;
                match store
                    .log_fetches()
                    .renew(id, holder, lease_until(lease))
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(fetch = %id, error = %e, "renewing a log fetch's lease")
                    }
                }
            }
        };
        let outcome = tokio::select! {
            outcome = work => outcome,
            () = renew => {
                tracing::error!(fetch = %id, "another replica failed this log fetch; stopping");
                let _ = tokio::fs::remove_file(&part).await;
                return;
            }
        };
        let _ = tokio::fs::remove_file(&part).await;
        let finished = match &outcome {
            Ok(bundle) => {
                let bundle = bundle.to_string_lossy();
                store
                    .log_fetches()
                    .finish(id, holder, Ok(&bundle), &now_rfc3339(), now_ms())
                    .await
            }
            Err(e) => {
                tracing::warn!(fetch = %id, error = %e, "fetching instance logs failed");
                store
                    .log_fetches()
                    .finish(id, holder, Err(&error_text(e)), &now_rfc3339(), now_ms())
                    .await
            }
        };
        match (finished, outcome) {
            (Ok(true), _) | (Ok(false), Err(_)) => {}
            (Ok(false), Ok(bundle)) => {
                tracing::error!(fetch = %id, "another replica failed this log fetch; its bundle goes");
                self.remove_bundle(&bundle.to_string_lossy()).await;
            }
            (Err(e), outcome) => {
                tracing::error!(fetch = %id, error = %e, "recording a log fetch's end");
                if let Ok(bundle) = outcome {
                    self.remove_bundle(&bundle.to_string_lossy()).await;
                }
            }
        }
    }

    /// A fetch of `guid` as it stands; one whose replica stopped renewing its lease is failed
    /// first, saying so.
    pub async fn status(&self, caller: &CurrentUser, guid: &str, id: &str) -> Result<LogFetch> {
        may_fetch(caller)?;
        Ok(view(self.row(guid, id).await?))
    }

    async fn row(&self, guid: &str, id: &str) -> Result<LogFetchRow> {
        let fetches = self.inner.installations.store().log_fetches();
        let not_found = || Error::NotFound(format!("log fetch '{id}'"));
        let row = fetches
            .get(id)
            .await?
            .filter(|r| r.guid == guid)
            .ok_or_else(not_found)?;
        if row.status != "running" || row.lease_until_ms >= now_ms() {
            return Ok(row);
        }
        let why = |holder: &str| {
            format!(
                "the replica fetching these logs ({holder}) stopped before it finished (it no \
                 longer renews its lease); fetch them again"
            )
        };
        if fetches
            .fail_abandoned(id, now_ms(), None, &now_rfc3339(), why)
            .await?
        {
            tracing::warn!(fetch = %id, holder = %row.holder, "failed a log fetch whose replica stopped");
        }
        fetches.get(id).await?.ok_or_else(not_found)
    }

    /// The bundle of a fetch: `Ok(Err(view))` while it is not ready (running or failed).
    pub async fn download(
        &self,
        caller: &CurrentUser,
        guid: &str,
        id: &str,
    ) -> Result<std::result::Result<Download, LogFetch>> {
        may_fetch(caller)?;
        let row = self.row(guid, id).await?;
        let bundle = match (&row.status[..], &row.bundle) {
            ("ready", Some(bundle)) => bundle.clone(),
            _ => return Ok(Err(view(row))),
        };
        let file = self
            .inner
            .files
            .open_stored(Folder::Logs, &bundle)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "the bundle of log fetch '{id}' is no longer kept; fetch the logs again"
                ))
            })?;
        Ok(Ok(Download {
            file,
            file_name: row.file_name,
        }))
    }

    /// Forgets finished fetches older than [`KEEP_FOR`] and all but the newest [`MAX_FETCHES`]
    /// finished ones, bundle first. Running fetches stay. A failure is logged: a leftover costs
    /// space, never correctness.
    pub async fn prune(&self) {
        let fetches = self.inner.installations.store().log_fetches();
        let before = now_ms().saturating_sub(i64::try_from(KEEP_FOR.as_millis()).unwrap_or(0));
        let expired = match fetches.expired(before, MAX_FETCHES as i64).await {
            Ok(expired) => expired,
            Err(e) => {
                tracing::warn!(error = %e, "listing expired log fetches");
                return;
            }
        };
        for row in expired {
            if let Some(bundle) = &row.bundle {
                if !self.remove_bundle(bundle).await {
                    continue;
                }
            }
            if let Err(e) = fetches.delete(&row.id).await {
                tracing::warn!(fetch = %row.id, error = %e, "forgetting a log fetch");
            }
        }
    }

    /// Removes a bundle from the store and this replica; `false` when the store refused.
    async fn remove_bundle(&self, bundle: &str) -> bool {
        let files = &self.inner.files;
        if let Err(e) = files.remove_stored(Folder::Logs, bundle).await {
            tracing::warn!(%bundle, error = %e, "removing a log bundle");
            return false;
        }
        files.remove_local(Folder::Logs, bundle).await;
        true
    }
}

fn lease_until(lease: Duration) -> i64 {
    now_ms().saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

/// The API's and the page's view of a stored fetch.
fn view(row: LogFetchRow) -> LogFetch {
    let download_url = (row.status == "ready").then(|| {
        format!(
            "/api/v0/deployed/products/{}/logs/{}/download",
            row.guid, row.id
        )
    });
    LogFetch {
        index: row.instance_index.and_then(|i| u64::try_from(i).ok()),
        id: row.id,
        guid: row.guid,
        instance_group: row.instance_group,
        status: row.status,
        error: row.error,
        file_name: row.file_name,
        download_url,
        started_at: row.started_at,
        finished_at: row.finished_at,
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
}
