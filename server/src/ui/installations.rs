//! The UI's [`InstallationsBackend`]: the installations service and the Director seen through
//! the plain types of the progress page, the Change Log and the Status tab.
//!
//! The BOSH Director has a row of its own on the progress page and in the Change Log, first:
//! Apply Changes always updates it (its cloud config) before the products. The installation
//! records only the products' runs (om reads that list), so the Director's row is derived here
//! ([`director_state`]) and the page follows it live from the `cloud_config` step's events.

use std::collections::HashMap;
use std::sync::Arc;

use app::backend::installations::{
    ChangeLog, InstallationDetail, InstallationSummary, InstallationsBackend, LogLine,
    ProductRunSummary, ProductStatusPage, PAGE_SIZES,
};
use app::backend::BackendError;

use crate::installations::{parse_rfc3339, InstallationView, Installations};
use crate::ui::shown;

pub struct UiInstallations {
    installations: Installations,
}

/// The backend as the Leptos context holds it.
pub fn backend(installations: Installations) -> Arc<dyn InstallationsBackend> {
    Arc::new(UiInstallations { installations })
}

fn seconds_between(start: &Option<String>, end: &Option<String>) -> Option<i64> {
    let start = parse_rfc3339(start.as_deref()?)?;
    let end = parse_rfc3339(end.as_deref()?)?;
    Some(end - start)
}

/// The staged products' labels by GUID, and the Director's GUID and label.
struct Labels {
    by_guid: HashMap<String, String>,
    director: Option<(String, String)>,
}

impl UiInstallations {
    /// Tile labels by GUID for the staged products (the Change Log names products as the
    /// dashboard does); products no longer staged keep their name.
    async fn labels(&self) -> Labels {
        match self.installations.products().staged_products().await {
            Ok(list) => Labels {
                director: list
                    .iter()
                    .find(|p| p.is_director)
                    .map(|p| (p.guid.clone(), p.label.clone())),
                by_guid: list.into_iter().map(|p| (p.guid, p.label)).collect(),
            },
            Err(e) => {
                tracing::warn!(error = %e, "reading product labels for the Change Log");
                Labels {
                    by_guid: HashMap::new(),
                    director: None,
                }
            }
        }
    }

    /// `first_director_install`: the installation that first updated the Director (its row
    /// reads Install there, Update after).
    fn summary(
        view: &InstallationView,
        labels: &Labels,
        first_director_install: Option<i64>,
    ) -> InstallationSummary {
        let director = labels
            .director
            .as_ref()
            .map(|(guid, label)| director_row(view, guid, label, first_director_install));
        InstallationSummary {
            id: view.id,
            status: view.status.clone(),
            user_name: view.user_name.clone(),
            started_at: view.started_at.clone(),
            finished_at: view.finished_at.clone(),
            duration_seconds: view.duration_seconds(),
            result: view.result.clone(),
            products: director
                .into_iter()
                .chain(view.products.iter().map(|p| {
                    ProductRunSummary {
                        guid: p.guid.clone(),
                        name: p.name.clone(),
                        label: labels
                            .by_guid
                            .get(&p.guid)
                            .cloned()
                            .unwrap_or_else(|| p.name.clone()),
                        version: p.version.clone(),
                        action: p.action.clone(),
                        status: p.status.clone(),
                        progress: p.progress,
                        started_at: p.started_at.clone(),
                        finished_at: p.finished_at.clone(),
                        duration_seconds: seconds_between(&p.started_at, &p.finished_at),
                        is_director: false,
                    }
                }))
                .collect(),
        }
    }

    /// Every installation, newest first, with the one that first updated the Director.
    async fn all(&self) -> Result<(Vec<InstallationView>, Option<i64>), BackendError> {
        let all = self.installations.list().await.map_err(shown)?;
        let first = all
            .iter()
            .filter(|v| director_state(v).0 == "succeeded")
            .map(|v| v.id)
            .min();
        Ok((all, first))
    }
}

/// The Director's step of an installation and when it ended: `(status, finished_at)`. Apply
/// Changes updates the Director's cloud config before any product starts (installations/
/// pipeline.rs), so a product that started means the Director's step succeeded, at that
/// product's start; a run that failed before any product started failed there.
fn director_state(view: &InstallationView) -> (&'static str, Option<String>) {
    let first_product_start = view
        .products
        .iter()
        .filter_map(|p| p.started_at.clone())
        .min();
    match (view.status.as_str(), first_product_start) {
        (_, Some(start)) => ("succeeded", Some(start)),
        ("succeeded", None) => ("succeeded", view.finished_at.clone()),
        ("running", None) => ("running", None),
        (_, None) => ("failed", view.finished_at.clone()),
    }
}

fn director_row(
    view: &InstallationView,
    guid: &str,
    label: &str,
    first_director_install: Option<i64>,
) -> ProductRunSummary {
    let (status, finished_at) = director_state(view);
    let started_at = Some(view.started_at.clone());
    ProductRunSummary {
        guid: guid.to_owned(),
        name: crate::products::DIRECTOR_PRODUCT_NAME.to_owned(),
        label: label.to_owned(),
        version: crate::info_version(),
        action: if first_director_install.is_none_or(|first| first >= view.id) {
            "install".into()
        } else {
            "update".into()
        },
        status: status.to_owned(),
        progress: if status == "succeeded" { 100 } else { 0 },
        duration_seconds: seconds_between(&started_at, &finished_at),
        started_at,
        finished_at,
        is_director: true,
    }
}

#[async_trait::async_trait]
impl InstallationsBackend for UiInstallations {
    async fn installation(&self, id: i64) -> Result<InstallationDetail, BackendError> {
        let view = self.installations.get(id).await.map_err(shown)?;
        let log = self
            .installations
            .store()
            .installations()
            .log_lines(id, 0)
            .await
            .map_err(shown)?;
        let labels = self.labels().await;
        let (_, first) = self.all().await?;
        Ok(InstallationDetail {
            installation: Self::summary(&view, &labels, first),
            log: log
                .into_iter()
                .map(|(seq, line)| LogLine { seq, line })
                .collect(),
        })
    }

    async fn change_log(
        &self,
        page: usize,
        per_page: usize,
        query: &str,
    ) -> Result<ChangeLog, BackendError> {
        let per_page = if PAGE_SIZES.contains(&per_page) {
            per_page
        } else {
            PAGE_SIZES[0]
        };
        let labels = self.labels().await;
        let (all, first) = self.all().await?;
        let all: Vec<_> = all
            .iter()
            .map(|v| Self::summary(v, &labels, first))
            .filter(|s| s.matches(query))
            .collect();
        let total = all.len();
        let pages = total.div_ceil(per_page).max(1);
        let page = page.clamp(1, pages);
        let installations = all
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        Ok(ChangeLog {
            installations,
            total,
            query: query.trim().to_owned(),
            page,
            per_page,
        })
    }

    async fn product_status(&self, guid: &str) -> Result<ProductStatusPage, BackendError> {
        let status = self
            .installations
            .product_status(guid)
            .await
            .map_err(shown)?;
        Ok(ProductStatusPage {
            guid: status.guid,
            label: status.label,
            deployed: status.instances.is_some(),
            instances: status.instances.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::installations::InstallEvent;
    use app::backend::installations::LiveEvent;
    use serde_json::json;

    /// The progress page reads the events stream with its own mirror of [`InstallEvent`]: every
    /// event the server sends must read as the same event in the browser.
    #[test]
    fn the_browser_reads_every_install_event() {
        let events = [
            InstallEvent::Log {
                seq: 3,
                line: "hello".into(),
            },
            InstallEvent::StepStarted {
                id: "p-1.deploy".into(),
                description: "Deploying".into(),
                product: Some("p-1".into()),
            },
            InstallEvent::StepFinished {
                id: "p-1.deploy".into(),
                status: "succeeded".into(),
                product: Some("p-1".into()),
            },
            InstallEvent::StepFinished {
                id: "cloud_config".into(),
                status: "failed".into(),
                product: None,
            },
            InstallEvent::Progress {
                product: "p-1".into(),
                percent: 40,
            },
            InstallEvent::DirectorEvent {
                product: "p-1".into(),
                task_id: 7,
                event: json!({"stage": "Updating instance", "task": "web/0", "state": "started"}),
            },
            InstallEvent::Finished {
                status: "succeeded".into(),
            },
        ];
        let read: Vec<LiveEvent> = events
            .iter()
            .map(|e| serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap())
            .collect();
        assert_eq!(
            read,
            vec![
                LiveEvent::Log {
                    seq: 3,
                    line: "hello".into()
                },
                LiveEvent::StepStarted {
                    id: "p-1.deploy".into(),
                    product: Some("p-1".into())
                },
                LiveEvent::StepFinished {
                    id: "p-1.deploy".into(),
                    status: "succeeded".into(),
                    product: Some("p-1".into())
                },
                LiveEvent::StepFinished {
                    id: "cloud_config".into(),
                    status: "failed".into(),
                    product: None
                },
                LiveEvent::Progress {
                    product: "p-1".into(),
                    percent: 40
                },
                LiveEvent::DirectorEvent {
                    product: "p-1".into(),
                    event: json!({"stage": "Updating instance", "task": "web/0", "state": "started"}),
                },
                LiveEvent::Finished {
                    status: "succeeded".into()
                },
            ]
        );
    }

    #[test]
    fn durations_need_both_ends() {
        let t = |s: &str| Some(s.to_owned());
        assert_eq!(
            seconds_between(&t("2026-01-01T10:00:00Z"), &t("2026-01-01T10:01:05Z")),
            Some(65)
        );
        assert_eq!(seconds_between(&t("2026-01-01T10:00:00Z"), &None), None);
    }
}
