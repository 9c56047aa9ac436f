//! `GET /events` (`bosh events`): what happened to a deployment's VMs and instances, newest
//! first. Tileworks reads it to show healing: the health monitor's alert for an agent that
//! stopped answering, and the resurrector's `delete vm` / `create vm` / `recreate instance`
//! (user `health_monitor`, in its `scan and fix` task). The fields mirror the `bosh` CLI's
//! `director/events.go` (`EventResp`): ids and tasks as strings, the time as Unix seconds.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{string_or_number, DirectorClient};
use crate::error::Result;

/// One event as the Director lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectorEvent {
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// Unix time in seconds.
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub user: String,
    /// `create`, `delete`, `recreate`, `kill`…
    #[serde(default)]
    pub action: String,
    /// `vm`, `instance`, `alert`, `deployment`…
    #[serde(default)]
    pub object_type: String,
    #[serde(default)]
    pub object_name: Option<String>,
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub deployment: Option<String>,
    /// `group/id`.
    #[serde(default)]
    pub instance: Option<String>,
    #[serde(default)]
    pub context: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<String>,
}

impl DirectorClient {
    /// `GET /events?deployment=…`: the deployment's events, newest first (at most `limit`).
    pub async fn deployment_events(
        &self,
        deployment: &str,
        limit: u32,
    ) -> Result<Vec<DirectorEvent>> {
        let call = format!("GET /events?deployment={deployment}");
        let request = self.request(Method::GET, &["events"]).query(&[
            ("deployment", deployment.to_owned()),
            ("limit", limit.to_string()),
        ]);
        self.send_json(&call, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_as_the_cli_reads_them() {
        let events: Vec<DirectorEvent> = serde_json::from_str(
            r#"[{"id":"12","timestamp":1700000000,"user":"health_monitor","action":"recreate",
                 "object_type":"instance","object_name":"worker/abc","task":"7",
                 "deployment":"service-instance_x","instance":"worker/abc","context":{},
                 "error":null},
                {"id":3,"timestamp":1699999999,"user":"chaos","action":"kill",
                 "object_type":"vm","object_name":"vm-1"}]"#,
        )
        .unwrap();
        assert_eq!(events[0].id, "12");
        assert_eq!(events[0].instance.as_deref(), Some("worker/abc"));
        assert_eq!(events[1].id, "3");
        assert_eq!(events[1].task, None);
    }
}
