//! The TLS certificate settings page (`/settings/ssl-certificate`): the certificate Tileworks
//! serves its pages and API with, read by the same service as `GET
//! /api/v0/settings/ssl_certificate` (never the private key). The page's writes are plain
//! forms (`server/src/http/settings_forms.rs`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the page shows of the served certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsCertificateView {
    /// Tileworks serves HTTPS (else plain HTTP: there is no certificate to show or replace).
    pub https: bool,
    /// Set through the API or this page; else the command line's (`--tls-cert`).
    pub custom: bool,
    /// The leaf certificate, when there is one to read.
    pub leaf: Option<LeafCertificate>,
}

/// The served chain's first certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafCertificate {
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names (DNS names and IP addresses).
    pub names: Vec<String>,
    /// RFC 3339, UTC.
    pub not_after: String,
    pub expired: bool,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn TlsCertificateBackend>`.
    #[async_trait::async_trait]
    pub trait TlsCertificateBackend: Send + Sync + 'static {
        async fn show(&self) -> Result<TlsCertificateView, BackendError>;
    }

    pub fn tls_certificate_backend() -> Result<Arc<dyn TlsCertificateBackend>, ServerFnError> {
        crate::backend::context::<dyn TlsCertificateBackend>()
    }
}

/// The served certificate.
#[server(prefix = "/_app", endpoint = "tls_certificate")]
pub async fn load_tls_certificate() -> Result<TlsCertificateView, ServerFnError> {
    tls_certificate_backend()?
        .show()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}
