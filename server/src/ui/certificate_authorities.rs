//! The UI's [`CertificateAuthoritiesBackend`]: the same service `GET /api/v0/certificate_authorities`
//! reads, without the certificates' PEM (the page shows issuer, dates and which is active).

use std::sync::Arc;

use app::backend::certificate_authorities::{CaEntry, CertificateAuthoritiesBackend};
use app::backend::BackendError;

use crate::products::Products;
use crate::ui::shown;

struct UiCertificateAuthorities {
    products: Products,
}

/// The backend as the Leptos context holds it.
pub fn context(products: &Products) -> Arc<dyn CertificateAuthoritiesBackend> {
    Arc::new(UiCertificateAuthorities {
        products: products.clone(),
    })
}

#[async_trait::async_trait]
impl CertificateAuthoritiesBackend for UiCertificateAuthorities {
    async fn list(&self) -> Result<Vec<CaEntry>, BackendError> {
        let cas = self
            .products
            .certificate_authorities()
            .await
            .map_err(shown)?;
        Ok(cas
            .into_iter()
            .map(|ca| CaEntry {
                guid: ca.guid,
                issuer: ca.issuer,
                created_on: ca.created_on,
                expires_on: ca.expires_on,
                active: ca.active,
            })
            .collect())
    }
}
