//! What the Apply Changes progress page, the Change Log and a product's Status tab need from the
//! server, as plain data, and the server functions that fetch it.
//!
//! The server implements [`InstallationsBackend`] over its installations service and the
//! Director client and provides it as Leptos context, the way [`crate::backend::Backend`] is
//! provided. [`InstanceStatus`] is also the entry of the Ops Manager API's
//! `GET /api/v0/deployed/products/:guid/status`, so it serializes in Ops Manager's field names
//! and the page and the API cannot disagree.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One product of an installation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductRunSummary {
    pub guid: String,
    /// The tile's name (`pivotal-container-service`).
    pub name: String,
    /// What the operator calls it (the tile's label when known, else the name).
    pub label: String,
    pub version: String,
    /// `install`, `update`, `delete` or `unchanged`.
    pub action: String,
    /// `pending`, `running`, `succeeded`, `failed` or `skipped`.
    pub status: String,
    /// 0–100.
    pub progress: u8,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub duration_seconds: Option<i64>,
    /// The BOSH Director's row: its step (the cloud config) runs before every product's.
    #[serde(default)]
    pub is_director: bool,
}

impl ProductRunSummary {
    /// The Change Log's ACTION column, in Ops Manager's words: a failed product reads FAILED
    /// whatever it was meant to do.
    pub fn change_log_action(&self) -> &'static str {
        if self.status == "failed" {
            return "FAILED";
        }
        match self.action.as_str() {
            "install" => "ADDED",
            "update" => "UPDATED",
            "delete" => "DELETED",
            _ => "NO CHANGES",
        }
    }
}

/// One Apply Changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstallationSummary {
    pub id: i64,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub user_name: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_seconds: Option<i64>,
    /// Why it failed (or a short summary when it succeeded).
    pub result: Option<String>,
    pub products: Vec<ProductRunSummary>,
}

impl InstallationSummary {
    /// The Change Log's free-text search: every word of `query` (case-insensitive) must appear
    /// in the installation's id, user, status, result, or a product's label, name, version or
    /// Change Log action (`ADDED`, `FAILED`…).
    pub fn matches(&self, query: &str) -> bool {
        let mut text = format!(
            "#{} {} {} {}",
            self.id,
            self.user_name,
            self.status,
            self.result.as_deref().unwrap_or_default()
        );
        for p in &self.products {
            text.push_str(&format!(
                " {} {} {} {}",
                p.label,
                p.name,
                p.version,
                p.change_log_action()
            ));
        }
        let text = text.to_lowercase();
        query
            .split_whitespace()
            .all(|word| text.contains(&word.to_lowercase()))
    }
}

/// One numbered line of an installation's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: i64,
    pub line: String,
}

/// The progress page: the installation and its log so far.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstallationDetail {
    pub installation: InstallationSummary,
    pub log: Vec<LogLine>,
}

/// Page sizes the Change Log offers.
pub const PAGE_SIZES: [usize; 3] = [10, 25, 50];

/// One page of the Change Log, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeLog {
    pub installations: Vec<InstallationSummary>,
    /// How many installations there are in all (that match `query`).
    pub total: usize,
    /// The free-text search the page was asked for (empty: everything).
    pub query: String,
    /// 1-based.
    pub page: usize,
    pub per_page: usize,
}

impl ChangeLog {
    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.per_page.max(1)).max(1)
    }
}

/// A process on an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessStatus {
    pub name: String,
    pub state: String,
}

/// One instance of a deployed product: an entry of
/// `GET /api/v0/deployed/products/:guid/status`. Ops Manager's fields keep its names
/// (`job-name`, `az_name`, `cid`, `load_avg`…); `id`, `job_state`, `process_state` and
/// `processes` are Tileworks' additions from the Director's `instances?format=full`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// The instance group.
    #[serde(rename = "job-name")]
    pub job_name: String,
    pub index: Option<u64>,
    /// The instance's id on the Director.
    pub id: String,
    pub az_name: Option<String>,
    pub ips: Vec<String>,
    /// The VM CID (none while the instance has no VM).
    pub cid: Option<String>,
    pub load_avg: Vec<String>,
    /// `{"sys", "user", "wait"}` percentages as the agent reports them (Ops Manager's shape).
    pub cpu: Option<Value>,
    /// `{"kb", "percent"}` as the agent reports it.
    pub memory: Option<Value>,
    pub swap: Option<Value>,
    /// `{"percent", "inode_percent"}` as the agent reports it.
    pub system_disk: Option<Value>,
    pub ephemeral_disk: Option<Value>,
    pub persistent_disk: Option<Value>,
    /// `running`, `failing`, `stopped`, `unresponsive agent`…
    pub job_state: String,
    /// The same as `job_state` (the Director's newer name for it).
    pub process_state: String,
    pub processes: Vec<ProcessStatus>,
}

impl InstanceStatus {
    /// CPU in use (user + sys), in percent, for the Status table.
    pub fn cpu_percent(&self) -> Option<String> {
        let cpu = self.cpu.as_ref()?;
        let part = |k: &str| {
            cpu.get(k).and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|t| t.parse().ok()))
            })
        };
        match (part("user"), part("sys")) {
            (None, None) => None,
            (u, s) => Some(format!("{:.1}", u.unwrap_or(0.0) + s.unwrap_or(0.0))),
        }
    }

    /// `group/index`, or `group/id` when the instance has no index.
    pub fn name(&self) -> String {
        match self.index {
            Some(i) => format!("{}/{i}", self.job_name),
            None => format!("{}/{}", self.job_name, self.id),
        }
    }
}

/// The `percent` of an agent's `{"kb", "percent"}` object, for display.
pub fn percent_of(v: &Option<Value>) -> Option<String> {
    let p = v.as_ref()?.get("percent")?;
    match p {
        Value::String(s) => Some(format!("{s}%")),
        Value::Number(n) => Some(format!("{n}%")),
        _ => None,
    }
}

/// The Status tab of a product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProductStatusPage {
    pub guid: String,
    pub label: String,
    /// False while no Apply Changes has deployed the product.
    pub deployed: bool,
    pub instances: Vec<InstanceStatus>,
}

/// What the events stream (`GET /api/v0/installations/:id/events`) carries, as the browser
/// reads it. Mirrors the server's `InstallEvent`; an event type the page does not know is
/// ignored.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    Log {
        seq: i64,
        line: String,
    },
    StepStarted {
        id: String,
        #[serde(default)]
        product: Option<String>,
    },
    StepFinished {
        id: String,
        status: String,
        #[serde(default)]
        product: Option<String>,
    },
    Progress {
        product: String,
        percent: u8,
    },
    DirectorEvent {
        product: String,
        event: Value,
    },
    Finished {
        status: String,
    },
    #[serde(other)]
    Other,
}

/// The text of a Director task event for the progress page: `stage › task (state)`.
pub fn director_event_text(event: &Value) -> Option<String> {
    let stage = event.get("stage").and_then(Value::as_str).unwrap_or("");
    let task = event.get("task").and_then(Value::as_str).unwrap_or("");
    let state = event.get("state").and_then(Value::as_str).unwrap_or("");
    if stage.is_empty() && task.is_empty() {
        return None;
    }
    let mut out = stage.to_owned();
    if !task.is_empty() {
        if !out.is_empty() {
            out.push_str(" › ");
        }
        out.push_str(task);
    }
    if !state.is_empty() {
        out.push_str(&format!(" ({state})"));
    }
    Some(out)
}

/// `1h 2m 3s`, `2m 5s`, `7s`.
pub fn format_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h {m}m {s}s")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn InstallationsBackend>`.
    #[async_trait::async_trait]
    pub trait InstallationsBackend: Send + Sync + 'static {
        async fn installation(&self, id: i64) -> Result<InstallationDetail, BackendError>;
        /// `page` is 1-based.
        async fn change_log(
            &self,
            page: usize,
            per_page: usize,
            query: &str,
        ) -> Result<ChangeLog, BackendError>;
        async fn product_status(&self, guid: &str) -> Result<ProductStatusPage, BackendError>;
    }

    /// The installations backend of the current request.
    pub fn installations_backend(
    ) -> Result<Arc<dyn InstallationsBackend>, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Arc<dyn InstallationsBackend>>()
            .ok_or_else(|| leptos::prelude::ServerFnError::new("backend not configured"))
    }
}

#[server(prefix = "/_app", endpoint = "installation")]
pub async fn load_installation(id: i64) -> Result<InstallationDetail, ServerFnError> {
    installations_backend()?
        .installation(id)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "change_log")]
pub async fn load_change_log(
    page: usize,
    per_page: usize,
    query: String,
) -> Result<ChangeLog, ServerFnError> {
    installations_backend()?
        .change_log(page, per_page, &query)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[server(prefix = "/_app", endpoint = "product_status")]
pub async fn load_product_status(guid: String) -> Result<ProductStatusPage, ServerFnError> {
    installations_backend()?
        .product_status(&guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(action: &str, status: &str) -> ProductRunSummary {
        ProductRunSummary {
            guid: "p-1".into(),
            name: "p".into(),
            label: "P".into(),
            version: "1".into(),
            action: action.into(),
            status: status.into(),
            progress: 0,
            started_at: None,
            finished_at: None,
            duration_seconds: None,
            is_director: false,
        }
    }

    #[test]
    fn change_log_actions_use_ops_managers_words() {
        assert_eq!(run("install", "succeeded").change_log_action(), "ADDED");
        assert_eq!(run("update", "succeeded").change_log_action(), "UPDATED");
        assert_eq!(run("delete", "succeeded").change_log_action(), "DELETED");
        assert_eq!(
            run("unchanged", "succeeded").change_log_action(),
            "NO CHANGES"
        );
        assert_eq!(run("install", "failed").change_log_action(), "FAILED");
    }

    #[test]
    fn change_log_search_needs_every_word_somewhere() {
        let install = InstallationSummary {
            id: 12,
            status: "failed".into(),
            user_name: "alice".into(),
            started_at: "2026-01-01T10:00:00Z".into(),
            finished_at: None,
            duration_seconds: None,
            result: Some("errand smoke-tests exited 1".into()),
            products: vec![run("install", "failed")],
        };
        for query in [
            "",
            "  ",
            "ALICE",
            "#12",
            "failed p",
            "smoke",
            "P 1",
            "FAILED alice",
        ] {
            assert!(install.matches(query), "{query:?} should match");
        }
        for query in ["bob", "#13", "ADDED", "alice bob"] {
            assert!(!install.matches(query), "{query:?} should not match");
        }
    }

    #[test]
    fn live_events_parse_and_unknown_ones_are_ignored() {
        let e: LiveEvent =
            serde_json::from_str(r#"{"type":"progress","product":"p-1","percent":40}"#).unwrap();
        assert_eq!(
            e,
            LiveEvent::Progress {
                product: "p-1".into(),
                percent: 40
            }
        );
        let e: LiveEvent =
            serde_json::from_str(r#"{"type":"step_started","id":"x","description":"d"}"#).unwrap();
        assert_eq!(
            e,
            LiveEvent::StepStarted {
                id: "x".into(),
                product: None
            }
        );
        let e: LiveEvent = serde_json::from_str(r#"{"type":"something_new","x":1}"#).unwrap();
        assert_eq!(e, LiveEvent::Other);
        let e: LiveEvent = serde_json::from_str(
            r#"{"type":"director_event","product":"p","task_id":3,"event":{"stage":"Updating instance","task":"master/0","state":"started"}}"#,
        )
        .unwrap();
        let LiveEvent::DirectorEvent { event, .. } = e else {
            panic!()
        };
        assert_eq!(
            director_event_text(&event).as_deref(),
            Some("Updating instance › master/0 (started)")
        );
        assert_eq!(director_event_text(&json!({"time": 1})), None);
    }

    #[test]
    fn instance_status_serializes_in_ops_managers_names() {
        let i = InstanceStatus {
            job_name: "master".into(),
            index: Some(0),
            id: "abc".into(),
            az_name: Some("az1".into()),
            ips: vec!["10.0.0.11".into()],
            cid: Some("vm-1".into()),
            load_avg: vec!["0.10".into()],
            cpu: Some(json!({"sys": "0.5", "user": "1.0", "wait": "0.0"})),
            memory: Some(json!({"kb": "512000", "percent": "25"})),
            swap: None,
            system_disk: None,
            ephemeral_disk: None,
            persistent_disk: None,
            job_state: "running".into(),
            process_state: "running".into(),
            processes: vec![],
        };
        let v = serde_json::to_value(&i).unwrap();
        assert_eq!(v["job-name"], "master");
        assert_eq!(v["az_name"], "az1");
        assert_eq!(v["cpu"]["user"], "1.0");
        assert_eq!(i.cpu_percent().as_deref(), Some("1.5"));
        assert_eq!(v["cid"], "vm-1");
        assert_eq!(i.name(), "master/0");
        assert_eq!(percent_of(&i.memory).as_deref(), Some("25%"));
        assert_eq!(percent_of(&i.swap), None);
        let back: InstanceStatus = serde_json::from_value(v).unwrap();
        assert_eq!(back, i);
    }

    #[test]
    fn durations_and_pages() {
        assert_eq!(format_duration(7), "7s");
        assert_eq!(format_duration(125), "2m 5s");
        assert_eq!(format_duration(3723), "1h 2m 3s");
        let log = ChangeLog {
            installations: vec![],
            total: 26,
            query: String::new(),
            page: 1,
            per_page: 25,
        };
        assert_eq!(log.pages(), 2);
        let empty = ChangeLog {
            installations: vec![],
            total: 0,
            query: String::new(),
            page: 1,
            per_page: 10,
        };
        assert_eq!(empty.pages(), 1);
    }
}
