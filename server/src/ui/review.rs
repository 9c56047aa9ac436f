//! The UI's [`ReviewBackend`](app::backend::review::ReviewBackend): Review Pending Changes and
//! See changes, from the same services the Ops Manager API uses (pending changes, the diffs of
//! `crate::installations::diff`, `POST /api/v0/installations`).

use std::collections::BTreeMap;
use std::sync::Arc;

use app::backend::review::{
    ApplyOutcome, ChangesPage, DiffSection, ErrandRuleChange, ReviewBackend, ReviewChange,
    ReviewDependency, ReviewErrand, ReviewPage, ReviewProduct,
};
use app::backend::{BackendError, Problem};
use serde_json::Value;

use crate::installations::diff::{DiffStatus, SectionDiff};
use crate::installations::{ApplyRequest, Installations};
use crate::products::Products;
use crate::ui::shown;
use crate::Error;

pub struct UiReview {
    products: Products,
    installations: Installations,
}

impl UiReview {
    pub fn new(products: Products, installations: Installations) -> Self {
        UiReview {
            products,
            installations,
        }
    }

    /// As Leptos context.
    pub fn context(state: &crate::http::AppState) -> Arc<dyn ReviewBackend> {
        Arc::new(UiReview::new(
            state.products.clone(),
            state.installations.clone(),
        ))
    }
}

fn joined(errors: &BTreeMap<String, Vec<String>>) -> String {
    errors
        .iter()
        .flat_map(|(k, v)| v.iter().map(move |m| format!("{k}: {m}")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An errand rule as the API holds it (`true`, `false`, `"when-changed"`…) in words.
fn rule(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(true) => Some("on".into()),
        Value::Bool(false) => Some("off".into()),
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn status(s: DiffStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn section(name: &str, d: SectionDiff) -> DiffSection {
    DiffSection {
        name: name.to_owned(),
        status: status(d.status),
        diff: d.diff,
    }
}

/// Configuration that cannot be rendered (yet) is a page message, not a failure.
fn problem(err: Error) -> Result<String, BackendError> {
    match err {
        Error::Invalid { field, message } => Ok(format!("{field}: {message}")),
        Error::Rejected(errors) => Ok(joined(&errors)),
        other => Err(shown(other)),
    }
}

#[async_trait::async_trait]
impl ReviewBackend for UiReview {
    async fn review_page(&self) -> Result<ReviewPage, BackendError> {
        let labels: BTreeMap<String, (String, bool)> = self
            .products
            .staged_products()
            .await
            .map_err(shown)?
            .into_iter()
            .map(|s| (s.guid, (s.label, s.is_director)))
            .collect();
        let changes = self.products.pending_changes().await.map_err(shown)?;
        // Each finding worded with the labels of the form that edits it (super::problems).
        let mut problems: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
        for c in &changes {
            let mut config = c.completeness.missing.clone();
            for (k, v) in &c.completeness.invalid {
                config
                    .entry(k.clone())
                    .or_default()
                    .extend(v.iter().cloned());
            }
            if config.is_empty() {
                continue;
            }
            let worded = if labels.get(&c.guid).is_some_and(|(_, d)| *d) {
                super::problems::of_director(&config)
            } else {
                let product = self.products.staged_product(&c.guid).await.map_err(shown)?;
                let tree = tiles::forms::FormTree::build(&product.template);
                super::problems::of_product(&c.guid, &tree, &config)
            };
            problems.insert(c.guid.clone(), worded);
        }
        // The PKS service adapter's warnings on the plan fields (never blocking).
        let mut adapter: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
        for c in &changes {
            if c.name != tiles::products::PKS_NAME || c.action == "delete" {
                continue;
            }
            let product = self.products.staged_product(&c.guid).await.map_err(shown)?;
            let findings = tiles::verifiers::pks::adapter_warnings(
                &product.template,
                &product.settings.staged,
            );
            adapter.insert(
                c.guid.clone(),
                super::problems::of_findings(&c.guid, false, &findings),
            );
        }
        // The job-spec check of each rendered manifest (never blocking).
        let mut job_specs: BTreeMap<String, Vec<Problem>> = BTreeMap::new();
        for c in &changes {
            if c.action == "delete" || labels.get(&c.guid).is_some_and(|(_, d)| *d) {
                continue;
            }
            let Some(report) = self
                .installations
                .job_spec_check(&c.guid)
                .await
                .map_err(shown)?
            else {
                continue;
            };
            job_specs.insert(
                c.guid.clone(),
                super::problems::of_job_specs(&c.guid, &report.findings),
            );
        }
        let products = changes
            .into_iter()
            .map(|c| {
                let (label, is_director) = labels
                    .get(&c.guid)
                    .cloned()
                    .unwrap_or_else(|| (c.name.clone(), false));
                let errands = c
                    .errands
                    .iter()
                    .map(|e| {
                        let name = e
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        ReviewErrand {
                            label: e
                                .get("label")
                                .and_then(Value::as_str)
                                .unwrap_or(&name)
                                .to_owned(),
                            post_deploy: e.get("post_deploy").and_then(rule),
                            pre_delete: e.get("pre_delete").and_then(rule),
                            name,
                        }
                    })
                    .collect();
                let mut config_warnings = problems.remove(&c.guid).unwrap_or_default();
                // Install-time verifiers' findings name their form and field already.
                config_warnings.extend(c.verifiers.iter().flat_map(|run| {
                    super::problems::of_findings(&c.guid, is_director, &run.findings)
                }));
                ReviewProduct {
                    adapter_warnings: adapter.remove(&c.guid).unwrap_or_default(),
                    job_spec_warnings: job_specs.remove(&c.guid).unwrap_or_default(),
                    guid: c.guid,
                    name: c.name,
                    label,
                    version: c.version,
                    deployed_version: c.deployed_version,
                    is_director,
                    action: c.action,
                    config_warnings,
                    stemcell_warnings: c
                        .completeness
                        .stemcells
                        .values()
                        .flatten()
                        .cloned()
                        .collect(),
                    errands,
                    changes: c
                        .changes
                        .into_iter()
                        .map(|i| ReviewChange {
                            kind: i.kind,
                            description: i.description,
                        })
                        .collect(),
                    depends_on: c
                        .depends_on
                        .into_iter()
                        .map(|d| ReviewDependency {
                            state: serde_json::to_value(d.state)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                            name: d.name,
                            requirement: d.requirement,
                            optional: d.optional,
                            colour: d.colour,
                            found_version: d.found_version,
                            guid: d.guid,
                            pending: d.pending,
                            note: d.note,
                        })
                        .collect(),
                }
            })
            .collect();
        let running = self
            .installations
            .list()
            .await
            .map_err(shown)?
            .into_iter()
            .find(|i| i.status == "running")
            .map(|i| i.id);
        Ok(ReviewPage { products, running })
    }

    async fn apply(
        &self,
        actor: &str,
        deploy_products: Vec<String>,
        errands: Value,
        ignore_warnings: bool,
    ) -> Result<ApplyOutcome, BackendError> {
        let body = serde_json::json!({
            "deploy_products": deploy_products,
            "errands": errands,
            "ignore_warnings": ignore_warnings,
        });
        let request = ApplyRequest::parse(&body).map_err(shown)?;
        match self.installations.apply(request, actor).await {
            Ok(id) => Ok(ApplyOutcome::Started { id }),
            Err(Error::Rejected(reasons)) => Ok(ApplyOutcome::Refused {
                reasons,
                warnings: Vec::new(),
            }),
            Err(Error::ApplyRefused(refusal)) => Ok(ApplyOutcome::Refused {
                reasons: refusal.errors,
                warnings: refusal.warnings,
            }),
            Err(Error::InstallationRunning(id)) => Ok(ApplyOutcome::Running { id }),
            Err(other) => Err(shown(other)),
        }
    }

    async fn product_changes(&self, guid: &str) -> Result<ChangesPage, BackendError> {
        let product = self.products.staged_product(guid).await.map_err(shown)?;
        let mut page = ChangesPage {
            guid: product.guid.clone(),
            label: product.label.clone(),
            version: product.version.clone(),
            is_director: false,
            problem: None,
            manifest: None,
            cloud_config: None,
            runtime_configs: Vec::new(),
            errands_status: None,
            errands: Vec::new(),
        };
        match self.installations.product_diff(guid).await {
            Ok(d) => {
                page.manifest = Some(section("Manifest", d.manifest));
                page.runtime_configs = d
                    .runtime_configs
                    .into_iter()
                    .map(|r| DiffSection {
                        name: r.name,
                        status: status(r.status),
                        diff: r.diff,
                    })
                    .collect();
                page.errands_status = Some(status(d.errands.status));
                page.errands = d
                    .errands
                    .changes
                    .into_iter()
                    .map(|e| ErrandRuleChange {
                        label: e.label.unwrap_or_else(|| e.name.clone()),
                        name: e.name,
                        status: status(e.status),
                        post_deploy: (rule(&e.post_deploy.staged), rule(&e.post_deploy.deployed)),
                        pre_delete: (rule(&e.pre_delete.staged), rule(&e.pre_delete.deployed)),
                    })
                    .collect();
            }
            Err(e) => page.problem = Some(problem(e)?),
        }
        Ok(page)
    }

    async fn director_changes(&self) -> Result<ChangesPage, BackendError> {
        let director = self.products.director().await.map_err(shown)?;
        let mut page = ChangesPage {
            guid: director.guid,
            label: "BOSH Director".into(),
            version: crate::info_version(),
            is_director: true,
            problem: None,
            manifest: None,
            cloud_config: None,
            runtime_configs: Vec::new(),
            errands_status: None,
            errands: Vec::new(),
        };
        match self.installations.director_diff().await {
            Ok(d) => {
                page.manifest = Some(section("Manifest", d.manifest));
                page.cloud_config = Some(section("Cloud config", d.cloud_config));
                page.runtime_configs = d
                    .runtime_configs
                    .into_iter()
                    .chain(d.cpi_configs)
                    .map(|r| DiffSection {
                        name: r.name,
                        status: status(r.status),
                        diff: r.diff,
                    })
                    .collect();
            }
            Err(e) => page.problem = Some(problem(e)?),
        }
        Ok(page)
    }
}
