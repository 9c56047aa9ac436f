//! What the UI needs from the server, as data the browser can hold too: one file per page
//! group, each with its backend trait (implemented by the server in `server/src/ui/`), the plain
//! types it answers with, and the server functions the pages call.
//!
//! The UI's server functions do not reach into the server crate (that would be a dependency
//! cycle); they call a backend that the server provides as Leptos context. Everything the
//! browser receives is one of the plain types — secrets arrive redacted. Who may call what is
//! not decided here: every server function passes the server's gate before it runs.

pub mod audit;
pub mod certificate_authorities;
pub mod clusters;
pub mod credentials;
pub mod director;
pub mod installations;
pub mod logs;
pub mod page_forms;
pub mod products;
pub mod review;
pub mod settings;
pub mod settings_menu;
pub mod stemcells;
pub mod tls_certificate;
pub mod users;
pub mod vm_extensions;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The marker the server puts in every credential field it redacts.
pub const REDACTED: &str = "***";

/// The result of saving one form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Saved {
        config_version: i64,
    },
    /// Nothing was saved: reference → messages.
    Invalid {
        errors: BTreeMap<String, Vec<String>>,
    },
    /// Another save came first; nothing was saved. Says what changed, per field of the page
    /// that saved (empty when the saves in between changed nothing the page edits).
    Conflict {
        message: String,
        current_version: i64,
        #[serde(default)]
        changes: Vec<FieldChange>,
    },
}

/// One field another operator changed since this operator's page loaded it (a refused stale
/// save's explanation). `reference` is the products service's name for the field (a property
/// reference, `director_configuration.ntp_servers_string`, `resource-config.<job>.instances`,
/// `errands.<name>.post_deploy`…); each page words it with its own labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    pub reference: String,
    /// Who saved it last (`None` when the change log no longer says).
    pub changed_by: Option<String>,
    /// Their value, as the page may hold it: credential fields read `***`.
    pub value: Value,
    /// A credential: the page says "changed" and never shows a value.
    pub credential: bool,
    /// The value before their save, when the change log kept it (never for credentials).
    #[serde(default)]
    pub previous: Option<Value>,
    /// What this operator's page loaded for the field (when the page sent it).
    #[serde(default)]
    pub started_from: Option<Value>,
}

/// Why a product (or the Director) is not deployable, in the operator's words: one finding of
/// the completeness checks, worded once on the server (`server/src/ui/problems.rs`) for the
/// dashboard's tiles and Review Pending Changes alike.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// The field as its form labels it (`vSphere › Datacenter Name`); the reference when no
    /// form shows it.
    pub label: String,
    /// The form (or section) that edits it, as its navigation names it.
    pub form: Option<String>,
    /// That form, anchored at the field.
    pub href: Option<String>,
    pub message: String,
    /// The service's reference (`.properties.cloud_provider.vsphere.vcenter_dc`), shown small
    /// for operators who script with om.
    pub reference: String,
}

impl Problem {
    /// As the checks and om word it (`<reference>: <message>`).
    pub fn raw(&self) -> String {
        format!("{}: {}", self.reference, self.message)
    }
}

/// A failure the UI shows as text (not found, not allowed, internal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendError(pub String);

impl std::fmt::Display for BackendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use std::sync::Arc;

    /// Who is asking: the user and role the server's authentication layer put in the request.
    pub async fn caller() -> Result<crate::session::CurrentUser, leptos::prelude::ServerFnError> {
        let axum::Extension(user) =
            leptos_axum::extract::<axum::Extension<crate::session::CurrentUser>>()
                .await
                .map_err(|_| leptos::prelude::ServerFnError::new("not logged in"))?;
        Ok(user)
    }

    /// The name of the user the request acts for.
    pub async fn actor() -> Result<String, leptos::prelude::ServerFnError> {
        Ok(caller().await?.username)
    }

    /// A backend of type `B` from the request's context.
    pub fn context<B: ?Sized + Send + Sync + 'static>(
    ) -> Result<Arc<B>, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Arc<B>>()
            .ok_or_else(|| leptos::prelude::ServerFnError::new("backend not configured"))
    }

    /// Reads a server function argument that travels as JSON text (lists and objects travel
    /// more faithfully that way than through form encoding); text that is not the expected
    /// JSON is the caller's mistake: `400` naming the argument.
    pub fn from_json<T: serde::de::DeserializeOwned>(
        what: &str,
        text: &str,
    ) -> Result<T, leptos::prelude::ServerFnError> {
        serde_json::from_str(text).map_err(|e| bad_request(&format!("{what}: {e}")))
    }

    /// A refusal of the caller's arguments, answered `400` (not the framework's `500`).
    pub fn bad_request(message: &str) -> leptos::prelude::ServerFnError {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::BAD_REQUEST);
        }
        leptos::prelude::ServerFnError::new(message)
    }
}
