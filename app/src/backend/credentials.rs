//! A deployed product's Credentials tab (Ops Manager's "Credentials" tab with its **Link to
//! Credential** action, operator-ux-security.md §1.7): the credentials the product was
//! *deployed* with, listed by reference and type, and revealed one at a time on request.
//!
//! The list never carries a value: values travel only in the answer to [`reveal_credential`],
//! a server function the browser calls when the operator clicks, so no value is ever part of
//! the server-rendered HTML. Only the roles that may see credentials may reveal (the page shows
//! the others the list without the action), and every reveal is written to the server log as
//! an audit line naming the user and the reference, never the value.
//!
//! The server implements [`CredentialsBackend`] (server/src/ui_credentials.rs) over the same
//! service as the Ops Manager API (`GET /api/v0/deployed/products/:guid/credentials[/:ref]`),
//! so the page and the API cannot disagree about what is listed or who may see it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One credential of a deployed product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialReference {
    /// `.properties.X`, `.JOB.X`, `.properties.SEL.OPTION.X`; for the Director tile, the name
    /// (`director_client_credentials`).
    pub reference: String,
    /// The property type (`secret`, `simple_credentials`, `rsa_cert_credentials`, …).
    pub credential_type: String,
}

/// The Credentials tab of one product.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CredentialsPage {
    pub guid: String,
    pub label: String,
    /// The deployed version (`None` while the product was never deployed).
    pub version: Option<String>,
    pub deployed: bool,
    /// The Director tile (its credentials are Tileworks's own, not a tile's properties).
    pub director: bool,
    pub credentials: Vec<CredentialReference>,
    /// The names of the variables the Director's config server keeps for the deployment
    /// (values are not readable through the Director API).
    pub variables: Vec<String>,
    /// Why the variables could not be listed (the Director did not answer), if so.
    pub variables_error: Option<String>,
    /// Whether the caller's role may reveal values (the Link to Credential action).
    pub may_reveal: bool,
}

/// One field of a revealed value (`identity`, `password`, `cert_pem`, …).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialField {
    pub name: String,
    pub value: String,
}

/// A credential's value, as the Link to Credential action shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealedCredential {
    pub reference: String,
    pub credential_type: String,
    pub fields: Vec<CredentialField>,
}

impl RevealedCredential {
    /// The fields of an API value: an object's members in order (text as is, anything else as
    /// JSON), or a single `value` field for a bare string or other value.
    pub fn from_value(reference: &str, credential_type: &str, value: &Value) -> Self {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let fields = match value {
            Value::Object(map) => map
                .iter()
                .map(|(name, v)| CredentialField {
                    name: name.clone(),
                    value: text(v),
                })
                .collect(),
            other => vec![CredentialField {
                name: "value".into(),
                value: text(other),
            }],
        };
        RevealedCredential {
            reference: reference.to_owned(),
            credential_type: credential_type.to_owned(),
            fields,
        }
    }
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use crate::session::CurrentUser;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn CredentialsBackend>`.
    #[async_trait::async_trait]
    pub trait CredentialsBackend: Send + Sync + 'static {
        /// The tab: references and types (never values), the Director variables' names.
        async fn credentials_page(
            &self,
            caller: &CurrentUser,
            guid: &str,
        ) -> Result<CredentialsPage, BackendError>;
        /// One value, for a role that may see credentials; audited.
        async fn reveal(
            &self,
            caller: &CurrentUser,
            guid: &str,
            reference: &str,
        ) -> Result<RevealedCredential, BackendError>;
    }

    /// The credentials backend of the current request.
    pub fn credentials_backend() -> Result<Arc<dyn CredentialsBackend>, ServerFnError> {
        use_context::<Arc<dyn CredentialsBackend>>()
            .ok_or_else(|| ServerFnError::new("backend not configured"))
    }
}

/// The Credentials tab of a product.
#[server(prefix = "/_app", endpoint = "product_credentials")]
pub async fn load_product_credentials(guid: String) -> Result<CredentialsPage, ServerFnError> {
    let caller = crate::backend::caller().await?;
    credentials_backend()?
        .credentials_page(&caller, &guid)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// Link to Credential: one value, fetched only when the operator asks.
#[server(prefix = "/_app", endpoint = "reveal_credential")]
pub async fn reveal_credential(
    guid: String,
    reference: String,
) -> Result<RevealedCredential, ServerFnError> {
    let caller = crate::backend::caller().await?;
    credentials_backend()?
        .reveal(&caller, &guid, &reference)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_fields_in_order() {
        let r = RevealedCredential::from_value(
            ".properties.creds",
            "simple_credentials",
            &json!({"identity": "admin", "password": "p4ss", "extra": 3}),
        );
        let names: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["identity", "password", "extra"]);
        assert_eq!(r.fields[1].value, "p4ss");
        assert_eq!(r.fields[2].value, "3");
        let bare = RevealedCredential::from_value("x", "text", &json!("BOSH_CLIENT=a bosh "));
        assert_eq!(bare.fields.len(), 1);
        assert_eq!(bare.fields[0].name, "value");
        assert_eq!(bare.fields[0].value, "BOSH_CLIENT=a bosh ");
    }
}
