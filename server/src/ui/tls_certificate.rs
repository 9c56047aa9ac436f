//! The UI's [`TlsCertificateBackend`]: what `GET /api/v0/settings/ssl_certificate` reads
//! (`crate::tls_certificate`), described for the page (subject, names, issuer, expiry) rather
//! than as PEM, and never the key.

use std::sync::Arc;

use app::backend::tls_certificate::{LeafCertificate, TlsCertificateBackend, TlsCertificateView};
use app::backend::BackendError;

use crate::tls_certificate::{describe, TlsCertificate};
use crate::ui::shown;

struct UiTlsCertificate {
    service: TlsCertificate,
}

/// The backend as the Leptos context holds it.
pub fn context(service: &TlsCertificate) -> Arc<dyn TlsCertificateBackend> {
    Arc::new(UiTlsCertificate {
        service: service.clone(),
    })
}

#[async_trait::async_trait]
impl TlsCertificateBackend for UiTlsCertificate {
    async fn show(&self) -> Result<TlsCertificateView, BackendError> {
        let served = self.service.show().await.map_err(shown)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let leaf = match served.certificate.as_deref() {
            Some(pem) => {
                let leaf = describe(pem).map_err(shown)?;
                Some(LeafCertificate {
                    subject: leaf.subject,
                    issuer: leaf.issuer,
                    names: leaf.names,
                    not_after: rfc3339(leaf.not_after),
                    expired: leaf.not_after < now,
                })
            }
            None => None,
        };
        Ok(TlsCertificateView {
            https: served.https,
            custom: served.custom,
            leaf,
        })
    }
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
