//! The UI's [`SettingsMenuBackend`]: the Settings menu's entries, each marked available when
//! the gate has a rule for its page (a page another change has not added yet is shown as not
//! available rather than linked to a 404).

use std::sync::Arc;

use app::backend::settings_menu::{SettingsEntry, SettingsMenuBackend, SETTINGS_ENTRIES};
use app::backend::BackendError;
use axum::http::Method;

struct UiSettingsMenu;

/// The backend as the Leptos context holds it.
pub fn context() -> Arc<dyn SettingsMenuBackend> {
    Arc::new(UiSettingsMenu)
}

#[async_trait::async_trait]
impl SettingsMenuBackend for UiSettingsMenu {
    async fn entries(&self) -> Result<Vec<SettingsEntry>, BackendError> {
        Ok(SETTINGS_ENTRIES
            .iter()
            .map(|(href, title, description)| SettingsEntry {
                href: (*href).to_owned(),
                title: (*title).to_owned(),
                description: (*description).to_owned(),
                available: crate::http::gate::access(&Method::GET, href).is_some(),
            })
            .collect())
    }
}
