//! Log downloads from a product's Status tab, as Ops Manager (3.0.3+) offers them: per instance
//! and per instance group, a click queues a fetch of the instances' logs from the Director, and
//! when the bundle is ready it is a download link.
//!
//! [`LogFetch`] is also the body of the Ops Manager–style API
//! (`POST /api/v0/deployed/products/:guid/logs`, `GET …/logs/:id`), so the page and the API
//! cannot disagree. The server implements [`LogsBackend`] and provides it as Leptos context.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One log fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFetch {
    pub id: String,
    /// The deployed product.
    pub guid: String,
    pub instance_group: String,
    /// `None`: every instance of the group.
    pub index: Option<u64>,
    /// `running`, `ready` or `failed`.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// The name the bundle downloads as (`<deployment>-<group>[-<index>]-<time>.tgz`).
    pub file_name: String,
    /// Where to download it, once ready.
    pub download_url: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
}

impl LogFetch {
    pub fn is_running(&self) -> bool {
        self.status == "running"
    }
}

/// What a Logs link on the Status tab stands for: an instance, or (`index: None`) its group.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LogTarget {
    pub instance_group: String,
    pub index: Option<u64>,
}

impl LogTarget {
    /// `master/0`, or `master (all instances)`.
    pub fn describe(&self) -> String {
        match self.index {
            Some(i) => format!("{}/{i}", self.instance_group),
            None => format!("{} (all instances)", self.instance_group),
        }
    }
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use crate::session::CurrentUser;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn LogsBackend>`.
    #[async_trait::async_trait]
    pub trait LogsBackend: Send + Sync + 'static {
        async fn start_fetch(
            &self,
            caller: &CurrentUser,
            guid: &str,
            target: &LogTarget,
        ) -> Result<LogFetch, BackendError>;
        async fn fetch_status(
            &self,
            caller: &CurrentUser,
            guid: &str,
            id: &str,
        ) -> Result<LogFetch, BackendError>;
    }

    /// The logs backend of the current request.
    pub fn logs_backend() -> Result<Arc<dyn LogsBackend>, ServerFnError> {
        use_context::<Arc<dyn LogsBackend>>()
            .ok_or_else(|| ServerFnError::new("backend not configured"))
    }
}

/// Queues a log fetch for an instance or a whole group.
#[server(prefix = "/_app", endpoint = "start_log_fetch")]
pub async fn start_log_fetch(guid: String, target: LogTarget) -> Result<LogFetch, ServerFnError> {
    let caller = crate::backend::caller().await?;
    logs_backend()?
        .start_fetch(&caller, &guid, &target)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// How a log fetch is doing.
#[server(prefix = "/_app", endpoint = "log_fetch_status")]
pub async fn log_fetch_status(guid: String, id: String) -> Result<LogFetch, ServerFnError> {
    let caller = crate::backend::caller().await?;
    logs_backend()?
        .fetch_status(&caller, &guid, &id)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_describe_themselves() {
        let one = LogTarget {
            instance_group: "master".into(),
            index: Some(0),
        };
        assert_eq!(one.describe(), "master/0");
        let all = LogTarget { index: None, ..one };
        assert_eq!(all.describe(), "master (all instances)");
    }
}
