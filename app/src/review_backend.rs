//! What Review Pending Changes and See changes need from the server: plain data types the
//! browser can hold, the [`ReviewBackend`] trait the server implements (provided as Leptos
//! context), and the server functions the pages call.
//!
//! Diffs arrive as text already redacted by the server: credentials are `((placeholders))`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The Review Pending Changes page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewPage {
    /// The Director first, then the staged products in dashboard order.
    pub products: Vec<ReviewProduct>,
    /// The installation running now, if any (Apply Changes would be refused).
    pub running: Option<i64>,
}

/// One product's row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewProduct {
    pub guid: String,
    pub name: String,
    pub label: String,
    /// The staged version.
    pub version: String,
    pub deployed_version: Option<String>,
    /// The BOSH Director: always part of an apply.
    pub is_director: bool,
    /// `install`, `update`, `delete` or `unchanged`.
    pub action: String,
    /// Why the configuration is not deployable (blank or invalid values), in the operator's words.
    pub config_warnings: Vec<String>,
    /// Stemcells the product needs that the Stemcell Library lacks.
    pub stemcell_warnings: Vec<String>,
    pub errands: Vec<ReviewErrand>,
}

impl ReviewProduct {
    pub fn is_deployable(&self) -> bool {
        self.config_warnings.is_empty() && self.stemcell_warnings.is_empty()
    }
}

/// An errand with its staged rules (`on`, `off`, `when-changed`); `None` where the errand
/// does not run in that phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewErrand {
    pub name: String,
    pub label: String,
    pub post_deploy: Option<String>,
    pub pre_delete: Option<String>,
}

/// What Apply Changes answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ApplyOutcome {
    Started {
        id: i64,
    },
    /// Nothing started: why, by product GUID (or `deploy_products`).
    Refused {
        reasons: BTreeMap<String, Vec<String>>,
    },
    /// Another installation is running.
    Running {
        id: i64,
    },
}

/// One document's comparison: `status` is `same`, `different`, `to_be_installed` or
/// `to_be_deleted`; `diff` has lines prefixed `+ `, `- `, `  ` and `@@` hunk headers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiffSection {
    pub name: String,
    pub status: String,
    pub diff: String,
}

/// One errand's rules, staged against deployed (`None`: not in that phase / not deployed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrandRuleChange {
    pub name: String,
    pub label: String,
    pub status: String,
    pub post_deploy: (Option<String>, Option<String>),
    pub pre_delete: (Option<String>, Option<String>),
}

/// The See changes page of a product or of the Director.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangesPage {
    pub guid: String,
    pub label: String,
    pub version: String,
    pub is_director: bool,
    /// Why nothing could be compared (the staged configuration cannot be rendered yet).
    pub problem: Option<String>,
    pub manifest: Option<DiffSection>,
    /// The Director only.
    pub cloud_config: Option<DiffSection>,
    pub runtime_configs: Vec<DiffSection>,
    /// Products only.
    pub errands_status: Option<String>,
    pub errands: Vec<ErrandRuleChange>,
}

#[cfg(feature = "ssr")]
pub use server_side::*;

#[cfg(feature = "ssr")]
mod server_side {
    use super::*;
    use crate::backend::BackendError;
    use std::sync::Arc;

    /// Implemented by the server; provided to the UI as `Arc<dyn ReviewBackend>` context.
    #[async_trait::async_trait]
    pub trait ReviewBackend: Send + Sync + 'static {
        async fn review_page(&self) -> Result<ReviewPage, BackendError>;
        /// Starts Apply Changes for the Director and `deploy_products`; `errands` is the
        /// one-time override map of `POST /api/v0/installations`. `role` is the caller's (roles
        /// that may only read are refused).
        async fn apply(
            &self,
            actor: &str,
            role: &str,
            deploy_products: Vec<String>,
            errands: serde_json::Value,
        ) -> Result<ApplyOutcome, BackendError>;
        async fn product_changes(&self, guid: &str) -> Result<ChangesPage, BackendError>;
        async fn director_changes(&self) -> Result<ChangesPage, BackendError>;
    }

    /// The review backend of the current request.
    pub fn review_backend() -> Result<Arc<dyn ReviewBackend>, ServerFnError> {
        use_context::<Arc<dyn ReviewBackend>>()
            .ok_or_else(|| ServerFnError::new("review backend not configured"))
    }
}

#[server(prefix = "/_app", endpoint = "review_page")]
pub async fn load_review() -> Result<ReviewPage, ServerFnError> {
    review_backend()?
        .review_page()
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// `deploy_products_json`: a JSON list of product GUIDs; `errands_json`: the override map
/// `{"<guid>": {"run_post_deploy": {"<errand>": true|false|"default"}, "run_pre_delete": …}}`.
#[server(prefix = "/_app", endpoint = "apply_changes")]
pub async fn apply_changes(
    deploy_products_json: String,
    errands_json: String,
) -> Result<ApplyOutcome, ServerFnError> {
    let products: Vec<String> = serde_json::from_str(&deploy_products_json)
        .map_err(|e| ServerFnError::new(format!("deploy_products: {e}")))?;
    let errands: serde_json::Value = serde_json::from_str(&errands_json)
        .map_err(|e| ServerFnError::new(format!("errands: {e}")))?;
    let axum::Extension(user) =
        leptos_axum::extract::<axum::Extension<crate::session::CurrentUser>>()
            .await
            .map_err(|_| ServerFnError::new("not logged in"))?;
    review_backend()?
        .apply(&user.username, &user.role, products, errands)
        .await
        .map_err(|e| ServerFnError::new(e.0))
}

/// The See changes page of a product, or of the Director when `guid` is empty.
#[server(prefix = "/_app", endpoint = "changes_page")]
pub async fn load_changes(guid: String) -> Result<ChangesPage, ServerFnError> {
    let backend = review_backend()?;
    let page = if guid.is_empty() {
        backend.director_changes().await
    } else {
        backend.product_changes(&guid).await
    };
    page.map_err(|e| ServerFnError::new(e.0))
}
