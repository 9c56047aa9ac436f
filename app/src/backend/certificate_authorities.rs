//! The Certificate Authorities settings page (`/settings/certificate-authorities`): the CAs
//! Tileworks signs generated certificates with, which one is active, and when each expires.
//! The page's writes are plain forms the server handles (`server/src/http/ca_forms.rs`), so
//! generate, import, activate and delete work without the wasm.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One CA as the page lists it (never its private key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaEntry {
    pub guid: String,
    pub issuer: String,
    pub created_on: String,
    pub expires_on: String,
    pub active: bool,
}

/// A form of the page the server refused (`server/src/http/ca_forms.rs`): it renders the page
/// again with a 4xx and this in its context, so the refusal sits beside the form that was sent
/// and names the field and the rule. The import form gets its certificate back; the private key
/// is never written into a page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaRefusal {
    /// `generate`, `import`, `activate` or `delete`.
    pub form: String,
    /// The field the rule is about (`cert_pem`, `private_key_pem`, `guid`…).
    pub field: String,
    pub message: String,
    /// The CA the activate or delete form named.
    pub guid: String,
    /// What the import form held as the certificate.
    pub cert_pem: String,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn CertificateAuthoritiesBackend>`.
    #[async_trait::async_trait]
    pub trait CertificateAuthoritiesBackend: Send + Sync + 'static {
        async fn list(&self) -> Result<Vec<CaEntry>, BackendError>;
    }

    pub fn certificate_authorities_backend(
    ) -> Result<Arc<dyn CertificateAuthoritiesBackend>, ServerFnError> {
        crate::backend::context::<dyn CertificateAuthoritiesBackend>()
    }
}

/// The CAs, oldest first.
#[server(prefix = "/_app", endpoint = "certificate_authorities")]
pub async fn load_certificate_authorities() -> Result<Vec<CaEntry>, ServerFnError> {
    certificate_authorities_backend()?
        .list()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
