//! What the product settings forms need beyond [`Backend`](crate::backend::Backend): the
//! Stemcell Library's choices for `stemcell_selector` fields, a form save that says field by
//! field what another operator changed when it is refused as stale, and Generate for
//! `rsa_cert_credentials` fields.
//!
//! Generate runs on the server and stores the certificate *and its key* straight into the
//! property (a save of that one property, guarded by the form's configuration version); the
//! browser receives the certificate only, so a private key never reaches the page.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use serde_json::Value;

use crate::backend::SaveOutcome;

pub use crate::backend::FieldChange;

/// A form save's answer: on a stale save, the form's fields that changed since.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormSaved {
    pub outcome: SaveOutcome,
    pub changes: Vec<FieldChange>,
}

/// A `stemcell_selector` choice: an OS the tile's stemcell criteria name, with the imported
/// stemcell versions of the Stemcell Library that satisfy it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StemcellChoice {
    pub os: String,
    pub versions: Vec<String>,
}

/// Per-product choices the form widgets draw from besides the Director's catalogues.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FormExtras {
    /// Only OSes with at least one matching imported stemcell.
    pub stemcells: Vec<StemcellChoice>,
}

/// Generate's answer: saved (with the certificate, never the key), invalid domains, or stale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertificateGenerated {
    pub outcome: SaveOutcome,
    pub cert_pem: Option<String>,
    /// After a save, each form's complete mark, so the page's navigation can follow without a
    /// reload (which would drop what the operator typed elsewhere on the form).
    pub form_complete: Option<BTreeMap<String, bool>>,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use std::sync::Arc;

    use crate::backend::BackendError;

    /// Implemented by the server; provided to the UI as `Arc<dyn SettingsBackend>` context.
    #[async_trait::async_trait]
    pub trait SettingsBackend: Send + Sync + 'static {
        async fn form_extras(&self, guid: &str) -> Result<FormExtras, BackendError>;
        /// Saves one form, all or nothing; `loaded` holds the values the page loaded for the
        /// form's fields (what the operator started from), reported back if the save is stale.
        async fn save_form_from(
            &self,
            actor: &str,
            guid: &str,
            form: &str,
            config_version: i64,
            values: BTreeMap<String, Value>,
            loaded: BTreeMap<String, Value>,
        ) -> Result<FormSaved, BackendError>;
        /// Generates a certificate for `domains` signed by the root CA and saves it (with its
        /// key) as the value of `reference`.
        async fn generate_certificate(
            &self,
            actor: &str,
            guid: &str,
            reference: &str,
            domains: Vec<String>,
            config_version: i64,
        ) -> Result<CertificateGenerated, BackendError>;
    }

    /// The settings backend of the current request.
    pub fn settings_backend() -> Result<Arc<dyn SettingsBackend>, ServerFnError> {
        use_context::<Arc<dyn SettingsBackend>>()
            .ok_or_else(|| ServerFnError::new("backend not configured"))
    }
}

#[server(prefix = "/_app", endpoint = "form_extras")]
pub async fn load_form_extras(guid: String) -> Result<FormExtras, ServerFnError> {
    settings_backend()?
        .form_extras(&guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `values_json` and `loaded_json` are JSON objects of reference → value.
#[server(prefix = "/_app", endpoint = "save_settings_form")]
pub async fn save_settings_form(
    guid: String,
    form: String,
    config_version: i64,
    values_json: String,
    loaded_json: String,
) -> Result<FormSaved, ServerFnError> {
    use crate::backend::from_json;
    let values: std::collections::BTreeMap<String, Value> =
        from_json("values (a JSON object)", &values_json)?;
    let loaded: std::collections::BTreeMap<String, Value> =
        from_json("loaded (a JSON object)", &loaded_json)?;
    settings_backend()?
        .save_form_from(
            &crate::backend::actor().await?,
            &guid,
            &form,
            config_version,
            values,
            loaded,
        )
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `domains` is what the operator typed: a comma-separated list, wildcards allowed.
#[server(prefix = "/_app", endpoint = "generate_form_certificate")]
pub async fn generate_form_certificate(
    guid: String,
    reference: String,
    domains: String,
    config_version: i64,
) -> Result<CertificateGenerated, ServerFnError> {
    settings_backend()?
        .generate_certificate(
            &crate::backend::actor().await?,
            &guid,
            &reference,
            vec![domains],
            config_version,
        )
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
