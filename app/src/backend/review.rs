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
    pub config_warnings: Vec<crate::backend::Problem>,
    /// Stemcells the product needs that the Stemcell Library lacks.
    pub stemcell_warnings: Vec<String>,
    pub errands: Vec<ReviewErrand>,
    /// The high-level items behind the action (deletion staged, version updated, stemcell
    /// updated, what configuration changed).
    #[serde(default)]
    pub changes: Vec<ReviewChange>,
    /// `requires_product_versions`, resolved on the server with `tiles::product_versions`.
    #[serde(default)]
    pub depends_on: Vec<ReviewDependency>,
    /// The PKS service adapter's warnings: plan settings its clusters will not carry
    /// (`tiles::verifiers::pks::adapter_warnings`). They inform; they never block.
    #[serde(default)]
    pub adapter_warnings: Vec<crate::backend::Problem>,
    /// What the rendered manifest sets that its releases' job specs do not declare, and jobs
    /// its releases lack (`tiles::job_specs`; BOSH would ignore the property). They inform;
    /// they never block.
    #[serde(default)]
    pub job_spec_warnings: Vec<crate::backend::Problem>,
}

impl ReviewProduct {
    /// Nothing stops its deploy: configuration complete and valid, stemcells present, required
    /// dependencies met.
    pub fn is_deployable(&self) -> bool {
        self.config_warnings.is_empty()
            && self.stemcell_warnings.is_empty()
            && !self.depends_on.iter().any(ReviewDependency::blocks)
    }

    /// The dependencies that must deploy in the same Apply Changes when this product does:
    /// staged products with pending changes.
    pub fn forced_dependencies(&self) -> impl Iterator<Item = &str> {
        self.depends_on
            .iter()
            .filter(|d| d.pending)
            .filter_map(|d| d.guid.as_deref())
    }
}

/// One item of a product's Changes list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewChange {
    /// `deletion`, `install`, `version`, `stemcell` or `configuration`.
    pub kind: String,
    pub description: String,
}

/// One entry of a product's Depends on list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewDependency {
    pub name: String,
    /// As the tile wrote it (`~> 2.4`).
    pub requirement: String,
    pub optional: bool,
    /// `satisfied`, `incompatible` or `missing`.
    pub state: String,
    /// `green`, `red` or `gray`.
    pub colour: String,
    pub found_version: Option<String>,
    /// The staged product that provides it.
    pub guid: Option<String>,
    /// That product has pending changes: it deploys in the same Apply Changes.
    pub pending: bool,
    pub note: Option<String>,
}

impl ReviewDependency {
    /// A required dependency that is not met stops the deploy (an error); an optional one
    /// never does.
    pub fn blocks(&self) -> bool {
        !self.optional && self.state != "satisfied"
    }

    /// An optional dependency at an incompatible version: a warning.
    pub fn warns(&self) -> bool {
        self.optional && self.state == "incompatible"
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
    /// Nothing started: the errors, by product GUID (or `deploy_products`), and the
    /// warnings (which `ignore_warnings` skips).
    Refused {
        reasons: BTreeMap<String, Vec<String>>,
        #[serde(default)]
        warnings: Vec<String>,
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
        /// one-time override map of `POST /api/v0/installations`, `ignore_warnings` its flag.
        async fn apply(
            &self,
            actor: &str,
            deploy_products: Vec<String>,
            errands: serde_json::Value,
            ignore_warnings: bool,
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
/// `{"<guid>": {"run_post_deploy": {"<errand>": true|false|"default"}, "run_pre_delete": …}}`;
/// `ignore_warnings`: apply despite warnings (never despite errors).
#[server(prefix = "/_app", endpoint = "apply_changes")]
pub async fn apply_changes(
    deploy_products_json: String,
    errands_json: String,
    ignore_warnings: bool,
) -> Result<ApplyOutcome, ServerFnError> {
    let products: Vec<String> =
        crate::backend::from_json("deploy_products", &deploy_products_json)?;
    let errands: serde_json::Value = crate::backend::from_json("errands", &errands_json)?;
    let axum::Extension(user) =
        leptos_axum::extract::<axum::Extension<crate::session::CurrentUser>>()
            .await
            .map_err(|_| ServerFnError::new("not logged in"))?;
    review_backend()?
        .apply(&user.username, products, errands, ignore_warnings)
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
