//! Instances and VMs of a deployment.
//!
//! `GET /deployments/<d>/instances?format=full` is a task on a real Director (it asks every
//! agent for its state): the answer is a 302 to the task, whose result is one JSON object per
//! instance. A Director that answers the list directly (200) is read as is.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::tasks::{Event, OutputType};
use super::{director_error, parse_json_stream, DirectorClient};
use crate::error::Result;

/// One instance as `format=full` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    #[serde(default)]
    pub agent_id: Option<String>,
    /// The instance group.
    #[serde(default)]
    pub job_name: String,
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub index: Option<u64>,
    /// `running`, `failing`, `stopped`, `unresponsive agent`…
    #[serde(default)]
    pub job_state: Option<String>,
    #[serde(default)]
    pub bootstrap: bool,
    #[serde(default)]
    pub ips: Vec<String>,
    #[serde(default)]
    pub az: Option<String>,
    /// The desired state: `started`, `stopped`, `detached`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub vm_cid: Option<String>,
    #[serde(default)]
    pub vm_type: Option<String>,
    #[serde(default)]
    pub disk_cids: Vec<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub vm_created_at: Option<String>,
    #[serde(default)]
    pub processes: Vec<Process>,
    #[serde(default)]
    pub vitals: Option<serde_json::Value>,
    #[serde(default)]
    pub resurrection_paused: Option<bool>,
    #[serde(default)]
    pub ignore: Option<bool>,
    #[serde(default)]
    pub cloud_properties: Option<serde_json::Value>,
    #[serde(default)]
    pub stemcell: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub name: String,
    #[serde(default)]
    pub state: String,
}

/// One entry of the plain `GET /deployments/<d>/vms` or `…/instances` (what the Director
/// knows without asking the agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    #[serde(default)]
    pub job: String,
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub cid: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub az: Option<String>,
    #[serde(default)]
    pub ips: Vec<String>,
}

impl DirectorClient {
    /// Every instance of a deployment with its processes and vitals (`instances?format=full`).
    pub async fn instances(
        &self,
        deployment: &str,
        on_event: impl FnMut(&Event),
    ) -> Result<Vec<Instance>> {
        self.full_listing(deployment, "instances", on_event).await
    }

    /// Every VM of a deployment in the same detail (`vms?format=full`).
    pub async fn vms_full(
        &self,
        deployment: &str,
        on_event: impl FnMut(&Event),
    ) -> Result<Vec<Instance>> {
        self.full_listing(deployment, "vms", on_event).await
    }

    /// The plain `GET /deployments/<d>/instances`: every instance, with or without a VM, as
    /// the Director's database has it (no task, no agent round trip).
    pub async fn instance_list(&self, deployment: &str) -> Result<Vec<Vm>> {
        let call = format!("GET /deployments/{deployment}/instances");
        let request = self.request(Method::GET, &["deployments", deployment, "instances"]);
        self.send_json(&call, request).await
    }

    /// The plain `GET /deployments/<d>/vms` (no agent round trip).
    pub async fn vms(&self, deployment: &str) -> Result<Vec<Vm>> {
        let call = format!("GET /deployments/{deployment}/vms");
        let request = self.request(Method::GET, &["deployments", deployment, "vms"]);
        self.send_json(&call, request).await
    }

    async fn full_listing(
        &self,
        deployment: &str,
        what: &str,
        on_event: impl FnMut(&Event),
    ) -> Result<Vec<Instance>> {
        let call = format!("GET /deployments/{deployment}/{what}?format=full");
        let request = self
            .request(Method::GET, &["deployments", deployment, what])
            .query(&[("format", "full")]);
        let response = self.send(&call, request).await?;
        let (text, source) = if response.status().is_redirection() {
            let task = super::task_from_response(&call, response, &self.target.client).await?;
            self.wait_for_task(task, on_event).await?;
            let text = self.task_output_text(task, OutputType::Result).await?;
            (text, format!("{call} (task {task} result)"))
        } else {
            let response = super::check_status(&call, response, &self.target.client).await?;
            let status = response.status();
            let text = response.text().await.map_err(|e| {
                director_error(&call, Some(status.as_u16()), super::error_chain(&e))
            })?;
            if status == StatusCode::NO_CONTENT {
                return Ok(Vec::new());
            }
            (text, call.clone())
        };
        parse_json_stream(&text).map_err(|e| {
            director_error(
                &source,
                None,
                format!("the instance list is not readable: {e}"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_instances_parse_from_result_lines() {
        let text = concat!(
            r#"{"agent_id":"ag","job_name":"master","id":"abc","index":0,"job_state":"running","bootstrap":true,"ips":["10.0.0.10"],"az":"z1","state":"started","vm_cid":"vm-1","vm_type":"small","disk_cids":["disk-1"],"active":true,"vm_created_at":"2025-01-01T00:00:00Z","processes":[{"name":"etcd","state":"running","uptime":{"secs":3}}],"vitals":{"cpu":{}},"resurrection_paused":false,"ignore":false,"cloud_properties":{},"stemcell":{"name":"s","version":"1"}}"#,
            "\n",
            r#"{"job_name":"apply-addons","id":"def","index":null,"job_state":null,"ips":[],"processes":[]}"#,
            "\n"
        );
        let instances: Vec<Instance> = parse_json_stream(text).unwrap();
        assert_eq!(instances.len(), 2);
        assert_eq!(instances[0].processes[0].name, "etcd");
        assert_eq!(instances[0].ips, vec!["10.0.0.10"]);
        assert_eq!(instances[1].index, None);
    }
}
