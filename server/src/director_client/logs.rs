//! Instance logs, the way `bosh logs` fetches them: `GET /deployments/<d>/jobs/<group>/<index or
//! id>/logs?type=job&filters=…` starts a `fetch logs` task; the task's `result` is the blobstore
//! id of a gzipped tarball, which `GET /resources/<id>` hands out. `*` (or nothing) for the
//! group or the index means all of them.
//!
//! The bundle is written to a file as it arrives, never held in memory: a group's logs can be
//! large.

use std::path::Path;

use reqwest::Method;
use tokio::io::AsyncWriteExt;

use super::tasks::Event;
use super::{director_error, error_chain, DirectorClient};
use crate::error::{Error, Result};

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsRequest {
    /// The instance group; `None` for every group.
    pub instance_group: Option<String>,
    /// The instance's index or id; `None` for every instance of the group.
    pub index_or_id: Option<String>,
    /// `job`, `agent`, `system`, comma-separated (`bosh logs --agent`, `--system`, `--all`).
    pub log_types: String,
    /// Globs over the log paths (`bosh logs --only`); none means everything.
    pub filters: Vec<String>,
}

impl LogsRequest {
    /// The job logs of one instance, or of the whole group when `index_or_id` is `None`.
    pub fn job_logs(instance_group: &str, index_or_id: Option<String>) -> LogsRequest {
        LogsRequest {
            instance_group: Some(instance_group.to_owned()),
            index_or_id,
            log_types: "job".into(),
            filters: Vec::new(),
        }
    }
}

impl DirectorClient {
    /// Starts the `fetch logs` task; returns its id.
    pub async fn start_fetch_logs(&self, deployment: &str, request: &LogsRequest) -> Result<u64> {
        let group = request.instance_group.as_deref().unwrap_or("*");
        let index = request.index_or_id.as_deref().unwrap_or("*");
        let call = format!("GET /deployments/{deployment}/jobs/{group}/{index}/logs");
        let mut query: Vec<(&str, String)> = Vec::new();
        if !request.filters.is_empty() {
            query.push(("filters", request.filters.join(",")));
        }
        query.push(("type", request.log_types.clone()));
        let http = self
            .request(
                Method::GET,
                &["deployments", deployment, "jobs", group, index, "logs"],
            )
            .query(&query);
        self.send_for_task(&call, http).await
    }

    /// Fetches logs: starts the task, follows it to its end, and returns the blobstore id
    /// its result names.
    pub async fn fetch_logs(
        &self,
        deployment: &str,
        request: &LogsRequest,
        on_event: impl FnMut(&Event),
    ) -> Result<String> {
        let task = self.start_fetch_logs(deployment, request).await?;
        let done = self.wait_for_task(task, on_event).await?;
        let blob = done.result.unwrap_or_default().trim().to_owned();
        if blob.is_empty() {
            return Err(director_error(
                &format!("task {task} (fetch logs)"),
                None,
                "the task ended without a blobstore id",
            ));
        }
        Ok(blob)
    }

    /// `GET /resources/<id>` into `dest`, chunk by chunk; returns the bytes written. A failed
    /// download leaves no file behind.
    pub async fn download_resource(&self, blobstore_id: &str, dest: &Path) -> Result<u64> {
        let call = format!("GET /resources/{blobstore_id}");
        let request = self.untimed_request(Method::GET, &["resources", blobstore_id]);
        let response = self.send_ok(&call, request).await?;
        let written = write_body(&call, response, dest).await;
        if written.is_err() {
            let _ = tokio::fs::remove_file(dest).await;
        }
        written
    }
}

async fn write_body(call: &str, mut response: reqwest::Response, dest: &Path) -> Result<u64> {
    let io = |e: std::io::Error| Error::io(format!("writing {}", dest.display()), e);
    let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
    let mut total = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| director_error(call, None, format!("reading the body: {}", error_chain(&e))))?
    {
        file.write_all(&chunk).await.map_err(io)?;
        total += chunk.len() as u64;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(total)
}
