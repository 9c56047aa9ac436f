//! The UI's [`LogsBackend`]: the Status tab's Logs links, over the same service as the API
//! (`crate::instance_logs`), so roles and checks are the same. The bundle itself downloads from
//! the API route the fetch's `download_url` names (the session authenticates it).

use std::sync::Arc;

use app::backend::BackendError;
use app::logs_backend::{LogFetch, LogTarget, LogsBackend};
use app::session::CurrentUser;

use crate::instance_logs::{FetchRequest, InstanceLogs};
use crate::Error;

struct UiLogs {
    logs: InstanceLogs,
}

/// The backend as the Leptos context holds it.
pub fn context(logs: &InstanceLogs) -> Arc<dyn LogsBackend> {
    Arc::new(UiLogs { logs: logs.clone() })
}

/// What the operator reads when something fails; internal details stay in the log.
fn shown(err: Error) -> BackendError {
    match err {
        Error::Invalid { field, message } => BackendError(format!("{field}: {message}")),
        Error::NotFound(what) => BackendError(format!("{what} not found")),
        Error::Forbidden(what) => BackendError(format!("not allowed: {what}")),
        Error::Director { .. } => BackendError(err.to_string()),
        other => {
            tracing::error!(error = %other, "UI request failed");
            BackendError("Internal error; see the server log.".into())
        }
    }
}

#[async_trait::async_trait]
impl LogsBackend for UiLogs {
    async fn start_fetch(
        &self,
        caller: &CurrentUser,
        guid: &str,
        target: &LogTarget,
    ) -> Result<LogFetch, BackendError> {
        let request = FetchRequest {
            instance_group: target.instance_group.clone(),
            index: target.index,
            log_types: None,
        };
        self.logs.start(caller, guid, &request).await.map_err(shown)
    }

    async fn fetch_status(
        &self,
        caller: &CurrentUser,
        guid: &str,
        id: &str,
    ) -> Result<LogFetch, BackendError> {
        self.logs.status(caller, guid, id).map_err(shown)
    }
}
