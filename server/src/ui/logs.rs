//! The UI's [`LogsBackend`]: the Status tab's Logs links, over the same service as the API
//! (`crate::deployed::instance_logs`), so roles and checks are the same. The bundle itself downloads from
//! the API route the fetch's `download_url` names (the session authenticates it).

use std::sync::Arc;

use app::backend::logs::{LogFetch, LogTarget, LogsBackend};
use app::backend::BackendError;
use app::session::CurrentUser;

use crate::deployed::instance_logs::{FetchRequest, InstanceLogs};
use crate::ui::shown;

struct UiLogs {
    logs: InstanceLogs,
}

/// The backend as the Leptos context holds it.
pub fn context(logs: &InstanceLogs) -> Arc<dyn LogsBackend> {
    Arc::new(UiLogs { logs: logs.clone() })
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
        self.logs.status(caller, guid, id).await.map_err(shown)
    }
}
