//! `/deployments`: list, manifest, diff, deploy, delete, and instance state changes
//! (start/stop/restart/recreate). Deploys and deletes are tasks: the call returns the task id.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{with_content_type, DirectorClient};
use crate::error::Result;

/// A `name`/`version` pair, as deployments list their releases and stemcells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameVersion {
    pub name: String,
    #[serde(default)]
    pub version: String,
}

/// One entry of `GET /deployments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deployment {
    pub name: String,
    #[serde(default)]
    pub releases: Vec<NameVersion>,
    #[serde(default)]
    pub stemcells: Vec<NameVersion>,
    /// `latest`, `outdated` or `none`.
    #[serde(default)]
    pub cloud_config: Option<String>,
    #[serde(default)]
    pub teams: Vec<String>,
}

/// `POST /deployments/<name>/diff`: the manifest diff as lines with their change, and the context
/// (config ids) to pass to the deploy so it uses exactly what was diffed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentDiff {
    #[serde(default)]
    pub context: serde_json::Value,
    /// `[line, null | "added" | "removed"]`.
    #[serde(default)]
    pub diff: Vec<(String, Option<String>)>,
}

/// Options of `POST /deployments`.
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    pub recreate: bool,
    pub recreate_persistent_disks: bool,
    pub fix: bool,
    pub skip_drain: bool,
    pub dry_run: bool,
    pub canaries: Option<String>,
    pub max_in_flight: Option<String>,
    /// The `context` of a diff ([`DeploymentDiff::context`]).
    pub context: Option<serde_json::Value>,
    /// `X-Bosh-Context-Id`: a caller's id the Director records on the task (`context_id`), so
    /// a task can be traced back to the installation that started it.
    pub context_id: Option<String>,
}

/// Which instances a state change applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobTarget {
    All,
    Group(String),
    Instance { group: String, id: String },
}

/// The state to put instances in (`PUT /deployments/<d>/jobs/...?state=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Started,
    Stopped,
    /// Stopped and the VM deleted (`bosh stop --hard`).
    Detached,
    Restart,
    Recreate,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Started => "started",
            JobState::Stopped => "stopped",
            JobState::Detached => "detached",
            JobState::Restart => "restart",
            JobState::Recreate => "recreate",
        }
    }
}

/// Options of a state change.
#[derive(Debug, Clone, Default)]
pub struct JobStateOptions {
    pub skip_drain: bool,
    pub force: bool,
    pub fix: bool,
    pub dry_run: bool,
    pub canaries: Option<String>,
    pub max_in_flight: Option<String>,
}

#[derive(Deserialize)]
struct ManifestAnswer {
    #[serde(default)]
    manifest: Option<String>,
}

impl DirectorClient {
    /// `GET /deployments?exclude_configs=true`.
    pub async fn deployments(&self) -> Result<Vec<Deployment>> {
        let request = self
            .request(Method::GET, &["deployments"])
            .query(&[("exclude_configs", "true")]);
        self.send_json("GET /deployments", request).await
    }

    /// `GET /deployments/<name>`: the deployed manifest (YAML), `None` when the deployment has
    /// none yet. A missing deployment is an error (404).
    pub async fn deployment_manifest(&self, name: &str) -> Result<Option<String>> {
        let call = format!("GET /deployments/{name}");
        let request = self.request(Method::GET, &["deployments", name]);
        let answer: ManifestAnswer = self.send_json(&call, request).await?;
        Ok(answer.manifest.filter(|m| !m.is_empty()))
    }

    /// Whether a deployment exists (from the list, as bosh does).
    pub async fn deployment_exists(&self, name: &str) -> Result<bool> {
        Ok(self.deployments().await?.iter().any(|d| d.name == name))
    }

    /// `POST /deployments/<name>/diff?redact=true`: what deploying `manifest_yaml` would change.
    pub async fn diff(&self, name: &str, manifest_yaml: &str) -> Result<DeploymentDiff> {
        let call = format!("POST /deployments/{name}/diff");
        let request = with_content_type(
            self.request(Method::POST, &["deployments", name, "diff"]),
            "text/yaml",
        )
        .query(&[("redact", "true")])
        .body(manifest_yaml.to_string());
        self.send_json(&call, request).await
    }

    /// `POST /deployments` with the manifest (`text/yaml`): creates or updates the deployment
    /// the manifest names. Returns the task id.
    pub async fn deploy(&self, manifest_yaml: &str, options: &DeployOptions) -> Result<u64> {
        let mut query: Vec<(&str, String)> = Vec::new();
        for (flag, on) in [
            ("recreate", options.recreate),
            (
                "recreate_persistent_disks",
                options.recreate_persistent_disks,
            ),
            ("fix", options.fix),
            ("skip_drain", options.skip_drain),
            ("dry_run", options.dry_run),
        ] {
            if on {
                query.push((flag, "true".into()));
            }
        }
        if let Some(canaries) = &options.canaries {
            query.push(("canaries", canaries.clone()));
        }
        if let Some(max) = &options.max_in_flight {
            query.push(("max_in_flight", max.clone()));
        }
        if let Some(context) = &options.context {
            query.push(("context", context.to_string()));
        }
        let mut request =
            with_content_type(self.request(Method::POST, &["deployments"]), "text/yaml")
                .query(&query)
                .body(manifest_yaml.to_string());
        if let Some(id) = &options.context_id {
            request = request.header("X-Bosh-Context-Id", id);
        }
        self.send_for_task("POST /deployments", request).await
    }

    /// `DELETE /deployments/<name>[?force=true]`. Returns the task id.
    pub async fn delete_deployment(&self, name: &str, force: bool) -> Result<u64> {
        let call = format!("DELETE /deployments/{name}");
        let mut request = self.request(Method::DELETE, &["deployments", name]);
        if force {
            request = request.query(&[("force", "true")]);
        }
        self.send_for_task(&call, request).await
    }

    /// `PUT /deployments/<d>/jobs/{*|group|group/id}?state=…` (empty `text/yaml` body): start,
    /// stop, restart or recreate instances. Returns the task id.
    pub async fn change_job_state(
        &self,
        deployment: &str,
        target: &JobTarget,
        state: JobState,
        options: &JobStateOptions,
    ) -> Result<u64> {
        let mut segments = vec!["deployments", deployment, "jobs"];
        match target {
            JobTarget::All => segments.push("*"),
            JobTarget::Group(group) => segments.push(group),
            JobTarget::Instance { group, id } => {
                segments.push(group);
                segments.push(id);
            }
        }
        let call = format!("PUT /{}?state={}", segments.join("/"), state.as_str());
        let mut query: Vec<(&str, String)> = vec![("state", state.as_str().into())];
        for (flag, on) in [
            ("skip_drain", options.skip_drain),
            ("force", options.force),
            ("fix", options.fix),
            ("dry_run", options.dry_run),
        ] {
            if on {
                query.push((flag, "true".into()));
            }
        }
        if let Some(canaries) = &options.canaries {
            query.push(("canaries", canaries.clone()));
        }
        if let Some(max) = &options.max_in_flight {
            query.push(("max_in_flight", max.clone()));
        }
        let request = with_content_type(self.request(Method::PUT, &segments), "text/yaml")
            .query(&query)
            .body(String::new());
        self.send_for_task(&call, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_list_and_diff_shapes_parse() {
        let list: Vec<Deployment> = serde_json::from_str(
            r#"[{"name":"pks","releases":[{"name":"kubo","version":"0.44.0"}],"stemcells":[{"name":"bosh-stemcell","version":"621.76"}],"cloud_config":"latest","teams":[]}]"#,
        )
        .unwrap();
        assert_eq!(list[0].releases[0].version, "0.44.0");
        assert_eq!(list[0].cloud_config.as_deref(), Some("latest"));
        let diff: DeploymentDiff = serde_json::from_str(
            r#"{"context":{"cloud_config_id":null,"runtime_config_ids":[]},"diff":[["instance_groups:",null],["- name: web","added"]]}"#,
        )
        .unwrap();
        assert_eq!(
            diff.diff[1],
            ("- name: web".to_string(), Some("added".to_string()))
        );
        assert_eq!(diff.context["runtime_config_ids"], serde_json::json!([]));
    }
}
