//! The UI's [`CredentialsBackend`]: the Credentials tab over the same service as the API
//! ([`crate::deployed::credentials`]), so the list, the roles and the audit are the same.

use std::sync::Arc;

use app::backend::credentials::{CredentialsBackend, CredentialsPage, RevealedCredential};
use app::backend::BackendError;
use app::session::CurrentUser;

use crate::deployed::credentials::DeployedCredentials;
use crate::installations::Installations;
use crate::ui::{described, shown};
use crate::Error;

/// What the audit line says a reveal came through.
const VIA: &str = "ui";

struct UiCredentials {
    installations: Installations,
    credentials: DeployedCredentials,
}

/// The backend as the Leptos context holds it.
pub fn context(installations: &Installations) -> Arc<dyn CredentialsBackend> {
    Arc::new(UiCredentials {
        installations: installations.clone(),
        credentials: DeployedCredentials::new(installations.clone()),
    })
}

impl UiCredentials {
    /// The tile's label: the staged product's, the Director tile's, or `None` for a product
    /// that is no longer staged (its deletion was applied).
    /// The second is whether it is the Director tile.
    async fn label(&self, guid: &str) -> Result<(Option<String>, bool), Error> {
        let products = self.installations.products();
        match products.staged_product(guid).await {
            Ok(p) => return Ok((Some(p.label), false)),
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        if products.is_director(guid).await? {
            return Ok((Some("BOSH Director".into()), true));
        }
        Ok((None, false))
    }
}

#[async_trait::async_trait]
impl CredentialsBackend for UiCredentials {
    async fn credentials_page(
        &self,
        caller: &CurrentUser,
        guid: &str,
    ) -> Result<CredentialsPage, BackendError> {
        let may_reveal = caller.permissions.see_credentials;
        let (label, director) = self.label(guid).await.map_err(shown)?;
        let listing = match self.credentials.list(guid).await {
            Ok(listing) => listing,
            Err(Error::NotFound(what)) => {
                // Staged but never deployed: the tab says so. Neither: not found.
                let Some(label) = label else {
                    return Err(shown(Error::NotFound(what)));
                };
                return Ok(CredentialsPage {
                    guid: guid.to_owned(),
                    label,
                    version: None,
                    deployed: false,
                    director,
                    credentials: Vec::new(),
                    variables: Vec::new(),
                    variables_error: None,
                    may_reveal,
                });
            }
            Err(e) => return Err(shown(e)),
        };
        let (variables, variables_error) = if listing.director {
            (Vec::new(), None)
        } else {
            match self.credentials.variables(guid).await {
                Ok(names) => (names, None),
                Err(e) => (Vec::new(), Some(described(e).0)),
            }
        };
        Ok(CredentialsPage {
            guid: guid.to_owned(),
            label: label.unwrap_or_else(|| listing.name.clone()),
            version: Some(listing.version),
            deployed: true,
            director: listing.director,
            credentials: listing.credentials,
            variables,
            variables_error,
            may_reveal,
        })
    }

    async fn reveal(
        &self,
        caller: &CurrentUser,
        guid: &str,
        reference: &str,
    ) -> Result<RevealedCredential, BackendError> {
        let credential = self
            .credentials
            .reveal(caller, guid, reference, VIA)
            .await
            .map_err(shown)?;
        Ok(RevealedCredential::from_value(
            &credential.reference,
            &credential.credential_type,
            &credential.value,
        ))
    }
}
