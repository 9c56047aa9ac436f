//! The installations service: Apply Changes as a durable job.
//!
//! An installation validates the selected products, updates the Director's cloud config from
//! the Director tile, then deploys each selected product (dependencies first, independent
//! products in parallel): stemcell and releases if the Director lacks them, the rendered
//! manifest through a Director task followed event by event into the installation log, then
//! the post-deploy errands by their rules. Only after a product's deploy and errands succeed is
//! its *deployed snapshot* written (settings + manifest), which is what pending changes compare
//! the staged configuration against. A failure ends the installation `failed` and keeps every
//! staged change, so the next apply retries.
//!
//! One installation at a time: the store refuses a second running row, and while one runs the
//! products service refuses configuration writes (`409`), so an apply deploys what it
//! validated. If Tileworks stops during an apply, the next start marks it failed and follows
//! the Director tasks it left behind to their end ([`recovery`]). With several replicas on one
//! database the running row is the lock for all of them: it names the replica holding it and
//! carries a lease that replica renews; when the lease runs out, any replica fails it ([`lease`]).
//!
//! One file per concept: [`request`] (the POST body), [`pipeline`] (the steps), [`log`]
//! (numbered log lines and live events), [`render`] (the manifest as deployed, and redacted),
//! [`order`] (dependency waves), [`deployed`] (snapshots), [`director`] (which Director),
//! [`recovery`] (after a restart), [`errand_runners`] (errands Tileworks runs itself: the PKS
//! tile's fleet errands, run by the broker).

pub mod checks;
pub mod deployed;
pub mod diff;
pub mod director;
pub mod errand_runners;
pub mod job_spec_check;
pub mod lease;
pub mod log;
pub mod order;
pub mod pipeline;
pub mod recovery;
pub mod render;
pub mod request;
pub mod status;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tiles::job_specs::SpecReport;
use tokio::sync::broadcast;

use crate::products::Products;
use crate::store::installations::{InstallationRow, Started};
use crate::store::Store;
use crate::{Error, Result};

use crate::products::changes::dependencies_of;
use checks::Refusal;
use tiles::product_versions::DependencyState;

pub use director::DirectorLink;
pub use log::{InstallEvent, InstallLog};
pub use request::{ApplyRequest, DeployProducts, ErrandOverride};

/// One product of an installation and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRun {
    pub guid: String,
    pub name: String,
    pub version: String,
    /// `install`, `update`, `delete` or `unchanged` (`Products::change_action` when the run
    /// began).
    pub action: String,
    /// `pending`, `running`, `succeeded`, `failed` or `skipped` (an earlier product failed).
    pub status: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// 0–100.
    #[serde(default)]
    pub progress: u8,
}

/// An installation as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallationView {
    pub id: i64,
    pub status: String,
    pub user_name: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub request: ApplyRequest,
    pub products: Vec<ProductRun>,
    /// Why it failed (or a short summary when it succeeded).
    pub result: Option<String>,
}

impl InstallationView {
    fn from_row(row: InstallationRow) -> InstallationView {
        InstallationView {
            id: row.id,
            status: row.status,
            user_name: row.user_name,
            started_at: row.started_at,
            finished_at: row.finished_at,
            request: serde_json::from_str(&row.request).unwrap_or_default(),
            products: serde_json::from_str(&row.products).unwrap_or_default(),
            result: row.result,
        }
    }

    /// Seconds between start and end (none while running).
    pub fn duration_seconds(&self) -> Option<i64> {
        let start = parse_rfc3339(&self.started_at)?;
        let end = parse_rfc3339(self.finished_at.as_deref()?)?;
        Some(end - start)
    }

    /// The entry of `GET /api/v0/installations`: om reads `id`, `status`, `user_name`,
    /// `started_at`, `finished_at`; `additions`/`updates`/`deletions` follow Ops Manager;
    /// `products` is the
    /// Change Log's per-product table.
    pub fn to_json(&self) -> Value {
        let by_action = |action: &str| -> Vec<Value> {
            self.products
                .iter()
                .filter(|p| p.action == action && p.status != "skipped")
                .map(
                    |p| json!({"identifier": p.name, "product_version": p.version, "guid": p.guid}),
                )
                .collect()
        };
        let products: Vec<Value> = self
            .products
            .iter()
            .map(|p| {
                let duration = match (&p.started_at, &p.finished_at) {
                    (Some(s), Some(f)) => {
                        parse_rfc3339(f).zip(parse_rfc3339(s)).map(|(f, s)| f - s)
                    }
                    _ => None,
                };
                json!({
                    "guid": p.guid,
                    "identifier": p.name,
                    "product_version": p.version,
                    "action": p.action,
                    "status": p.status,
                    "progress": p.progress,
                    "started_at": p.started_at,
                    "finished_at": p.finished_at,
                    "duration_seconds": duration,
                })
            })
            .collect();
        json!({
            "id": self.id,
            "status": self.status,
            "user_name": self.user_name,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "deploy_products": self.request.deploy_products,
            "ignore_warnings": self.request.ignore_warnings,
            "additions": by_action("install"),
            "updates": by_action("update"),
            "deletions": by_action("delete"),
            "products": products,
            "result": self.result,
            "duration_seconds": self.duration_seconds(),
        })
    }
}

/// The installations service. Cheap to clone; one per process.
#[derive(Clone)]
pub struct Installations {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    products: Products,
    director: DirectorLink,
    /// The logs (with their live event channels) of running installations.
    streams: Mutex<HashMap<i64, InstallLog>>,
    /// How many product deploys/deletions run at once (`--apply-parallelism`; 1 = serial).
    parallelism: AtomicUsize,
    /// Recent instance lists per deployment, shared by every Status tab ([`status`]).
    status_cache: status::StatusCache,
    /// Errands run by Tileworks itself (the broker's fleet errands), set once at start-up.
    errand_runner: std::sync::OnceLock<Arc<dyn errand_runners::ErrandRunner>>,
    /// This replica's id and lease length ([`lease`]).
    replica: Mutex<lease::Replica>,
    /// Job-spec checks of staged products' manifests while nothing they read changes
    /// ([`job_spec_check`]; by guid and Director hostname).
    spec_checks: crate::store::generation::Memo<(String, String), Option<SpecReport>>,
}

/// The default of `--apply-parallelism`: the BOSH Director's default number of workers, so the
/// Director is kept busy without queueing tasks behind its own limit.
pub const DEFAULT_APPLY_PARALLELISM: u16 = 5;

impl std::fmt::Debug for Installations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installations")
            .field("director", &self.inner.director.target)
            .finish()
    }
}

/// How many products' job-spec checks are kept at most.
const SPEC_CHECKS_KEPT: usize = 256;

impl Installations {
    pub fn new(store: Store, products: Products, director: DirectorLink) -> Installations {
        Installations {
            inner: Arc::new(Inner {
                store,
                products,
                director,
                streams: Mutex::new(HashMap::new()),
                status_cache: status::StatusCache::default(),
                parallelism: AtomicUsize::new(usize::from(DEFAULT_APPLY_PARALLELISM)),
                errand_runner: std::sync::OnceLock::new(),
                replica: Mutex::new(lease::Replica::default()),
                spec_checks: crate::store::generation::Memo::new(SPEC_CHECKS_KEPT),
            }),
        }
    }

    /// Hands some products' errands to `runner` (the broker, for the PKS tile's fleet
    /// errands). Set once; a second call is ignored.
    pub fn set_errand_runner(&self, runner: Arc<dyn errand_runners::ErrandRunner>) {
        let _ = self.inner.errand_runner.set(runner);
    }

    /// The runner that takes `errand` of `product`, if one does.
    pub(crate) fn errand_runner(
        &self,
        product: &str,
        errand: &str,
    ) -> Option<Arc<dyn errand_runners::ErrandRunner>> {
        self.inner
            .errand_runner
            .get()
            .filter(|r| r.runs(product, errand))
            .cloned()
    }

    /// Sets how many independent products deploy (or are deleted) at once; `1` deploys one
    /// product after the other. Applies to installations started afterwards.
    pub fn set_apply_parallelism(&self, n: usize) {
        self.inner.parallelism.store(n.max(1), Ordering::Relaxed);
    }

    pub fn apply_parallelism(&self) -> usize {
        self.inner.parallelism.load(Ordering::Relaxed).max(1)
    }

    pub fn director(&self) -> &DirectorLink {
        &self.inner.director
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn products(&self) -> &Products {
        &self.inner.products
    }

    fn lock_streams(&self) -> std::sync::MutexGuard<'_, HashMap<i64, InstallLog>> {
        self.inner
            .streams
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `POST /api/v0/installations`: validates what was asked and starts the installation in
    /// the background. Refused with 422 (naming every reason) when a selected product cannot be
    /// deployed, with 409 when an installation is running.
    ///
    /// The write-block has no gap: the apply claims the products' write gate before it
    /// validates ([`Products::claim_for_apply`]; writes in flight finish first, new ones wait),
    /// and releases it only once the installation row exists and writes are refused
    /// ([`Products::set_applying`]) — or once the request was refused, when nothing changed.
    pub async fn apply(&self, request: ApplyRequest, user: &str) -> Result<i64> {
        let claim = self.products().claim_for_apply().await?;
        if let Some(running) = self.products().applying() {
            return Err(Error::InstallationRunning(running));
        }
        // Running on another replica: 409 before validating, as on this one.
        if let Some(running) = self.store().installations().running_id().await? {
            return Err(Error::InstallationRunning(running));
        }
        let (plan, log_notes) = self.plan(&request).await?;
        let products_json = serde_json::to_string(&plan)
            .map_err(|e| Error::Internal(format!("encoding the installation plan: {e}")))?;
        let request_json = serde_json::to_string(&request)
            .map_err(|e| Error::Internal(format!("encoding the installation request: {e}")))?;
        let id = match self
            .store()
            .installations()
            .start(
                user,
                &request_json,
                &products_json,
                &now_rfc3339(),
                &self.replica().id,
                self.lease_until(),
            )
            .await?
        {
            Started::Created(id) => id,
            Started::Busy(running) => return Err(Error::InstallationRunning(running)),
        };
        self.products().set_applying(Some(id));
        drop(claim);
        let (events, _) = broadcast::channel(1024);
        let (log, writer) = InstallLog::open(self.store().clone(), id, 0, events);
        self.lock_streams().insert(id, log.clone());
        for note in &log_notes {
            log.line(note.clone());
        }
        let service = self.clone();
        let user = user.to_owned();
        let mut lease = self.keep_lease(id);
        tokio::spawn(async move {
            pipeline::run(&service, &log, writer, &request, plan, &user, lease.lost()).await;
            drop(lease);
        });
        Ok(id)
    }

    /// Which products the request selects, validated, with their actions, and the lines the
    /// log starts with: install-time verifiers skipped (switched off) and warnings the request
    /// ignored. Refused with every error and warning found ([`checks`]); warnings
    /// only refuse without `ignore_warnings`.
    async fn plan(&self, request: &ApplyRequest) -> Result<(Vec<ProductRun>, Vec<String>)> {
        use crate::products::ChangeAction;
        let products = self.products();
        let staged = products.store().products().staged().await?;
        let director = products.director().await?;
        let mut refusal = Refusal::default();
        // Selected products whose deletion is staged are carried out (action `delete`).
        let selected: Vec<_> = match &request.deploy_products {
            DeployProducts::Keyword(k) if k == "none" => Vec::new(),
            DeployProducts::Keyword(_) => staged.clone(),
            DeployProducts::Some(guids) => {
                for g in guids {
                    if *g != director.guid && !staged.iter().any(|r| &r.guid == g) {
                        refusal.error("deploy_products", format!("'{g}' is not a staged product"));
                    }
                }
                if !refusal.errors.is_empty() {
                    return Err(refusal.into());
                }
                staged
                    .iter()
                    .filter(|r| guids.contains(&r.guid))
                    .cloned()
                    .collect()
            }
        };
        for (field, messages) in director.settings.problems() {
            for m in messages {
                refusal.error(&director.guid, format!("{field}: {m}"));
            }
        }
        if director.settings.iaas == tiles::cloud_config::Iaas::Embedded
            && !products.embedded_director()
        {
            let why = crate::products::director::EMBEDDED_ONLY;
            refusal.error(&director.guid, format!("iaas_configuration.iaas: {why}"));
        }
        if refusal.errors.is_empty() {
            if let Err(e) = products.cloud_config().await {
                refusal.error(&director.guid, format!("cloud config: {}", error_text(&e)));
            }
        }
        let mut plan = Vec::new();
        let mut templates = Vec::new();
        let mut deleting: Vec<(String, String)> = Vec::new(); // (guid, name)
        let mut deploying = Vec::new();
        for row in selected {
            let product = products.load_staged(row).await?;
            let action = products.change_action(&product).await?;
            if action == ChangeAction::Delete {
                // A product being deleted needs no complete configuration: only its
                // deployment and pre-delete errands matter.
                deleting.push((product.guid.clone(), product.name.clone()));
            } else {
                let completeness = products.completeness_of(&product).await?;
                for (reference, messages) in
                    completeness.missing.iter().chain(&completeness.invalid)
                {
                    for m in messages {
                        refusal.error(&product.guid, format!("{reference}: {m}"));
                    }
                }
                let check = refusal.product(&product.guid, &product.name);
                check.stemcell_criteria =
                    crate::stemcells::criteria::criteria_of(&product.template)
                        .into_iter()
                        .map(|c| (c.os.clone(), c.version.clone()))
                        .collect();
                check.completeness = Some(completeness);
                deploying.push(product.clone());
            }
            templates.push(product.template.clone());
            plan.push(ProductRun {
                guid: product.guid,
                name: product.name,
                version: product.version,
                action: action.as_str().to_owned(),
                status: "pending".into(),
                started_at: None,
                finished_at: None,
                progress: 0,
            });
        }
        // A deletion must not pull a product from under another that stays: every staged
        // product that is not deleted by this apply and requires a deleted one is a reason.
        if !deleting.is_empty() {
            for row in &staged {
                if deleting.iter().any(|(g, _)| *g == row.guid) {
                    continue;
                }
                let template = products.available_template(&row.name, &row.version).await?;
                let required_by = template.requires_product_versions.iter();
                for required in required_by.filter(|r| !r.optional) {
                    if let Some((guid, name)) = deleting.iter().find(|(_, n)| *n == required.name) {
                        refusal.verifier(
                            guid,
                            name,
                            checks::DEPENDENCIES,
                            false,
                            format!(
                                "{} ({}) requires {name}; delete it in the same apply or revert \
                                 the deletion",
                                row.name, row.guid
                            ),
                        );
                    }
                }
            }
        }
        // Dependencies of what deploys: met by a staged product, and deployed in the same run
        // when they have pending changes.
        let on_hand = products.products_on_hand().await?;
        let in_run = |guid: &str| plan.iter().any(|p: &ProductRun| p.guid == guid);
        for (p, template) in plan.iter().zip(&templates) {
            if p.action == ChangeAction::Delete.as_str() {
                continue;
            }
            for d in dependencies_of(template, &p.guid, &on_hand) {
                let what = format!("{} {}", d.name, d.requirement);
                if d.blocks() {
                    let why = d.note.clone().unwrap_or_default();
                    refusal.verifier(
                        &p.guid,
                        &p.name,
                        checks::DEPENDENCIES,
                        false,
                        format!("{} requires {what}: {why}", p.name),
                    );
                    refusal
                        .product(&p.guid, &p.name)
                        .dependencies
                        .push(d.clone());
                } else if d.optional && d.state == DependencyState::Incompatible {
                    let why = d.note.clone().unwrap_or_default();
                    refusal.verifier(
                        &p.guid,
                        &p.name,
                        checks::OPTIONAL_DEPENDENCIES,
                        true,
                        format!("optional dependency {what}: {why}"),
                    );
                    refusal
                        .product(&p.guid, &p.name)
                        .dependencies
                        .push(d.clone());
                }
                if let Some(dep_guid) = d.guid.as_deref().filter(|g| d.pending && !in_run(g)) {
                    refusal.verifier(
                        &p.guid,
                        &p.name,
                        checks::DEPENDENCIES,
                        false,
                        format!(
                            "{} requires {}, which has pending changes: deploy {} ({dep_guid}) \
                             in the same Apply Changes",
                            p.name, d.name, d.name
                        ),
                    );
                }
            }
        }
        // One-time errand overrides: for errands the product has, in that phase.
        for (guid, overrides) in &request.errands {
            let Some(index) = plan.iter().position(|p| &p.guid == guid) else {
                match staged.iter().find(|r| &r.guid == guid) {
                    Some(row) => refusal.verifier(
                        guid,
                        &row.name,
                        checks::ERRAND_OVERRIDES,
                        true,
                        "errand overrides are ignored: this Apply Changes does not deploy it"
                            .into(),
                    ),
                    None => refusal.error(
                        "errands",
                        format!("'{guid}' is not a staged product (or is the BOSH Director, which has no errands)"),
                    ),
                }
                continue;
            };
            let (p, template) = (&plan[index], &templates[index]);
            for (phase, names, list) in [
                (
                    "post-deploy",
                    &overrides.run_post_deploy,
                    &template.post_deploy_errands,
                ),
                (
                    "pre-delete",
                    &overrides.run_pre_delete,
                    &template.pre_delete_errands,
                ),
            ] {
                for name in names.keys().filter(|n| !list.iter().any(|e| &e.name == *n)) {
                    refusal.verifier(
                        guid,
                        &p.name,
                        checks::ERRAND_OVERRIDES,
                        false,
                        format!("errand override: {} has no {phase} errand '{name}'", p.name),
                    );
                }
            }
        }
        // Install-time verifiers (products::verifiers): the Director's over what deploys,
        // each deploying product's own; switched-off ones are skipped and logged.
        let mut skipped = Vec::new();
        let director_runs = products.run_director_verifiers(&deploying).await?;
        let mut runs = vec![(
            director.guid.clone(),
            crate::products::DIRECTOR_PRODUCT_NAME.to_owned(),
            director_runs,
        )];
        // Every staged product's static IPs count, deployed in this run or not.
        let all_staged = products.staged_all().await?;
        for product in &deploying {
            let product_runs = products.run_product_verifiers(product, &all_staged).await?;
            runs.push((product.guid.clone(), product.name.clone(), product_runs));
        }
        for (guid, name, list) in runs {
            for run in list {
                if !run.enabled {
                    skipped.push(format!(
                        "Install-time verifier {} of {name} ({guid}) is disabled: skipped",
                        run.kind
                    ));
                } else if let Some(note) = &run.note {
                    skipped.push(format!(
                        "Install-time verifier {} of {name} ({guid}): {note}",
                        run.kind
                    ));
                }
                for finding in &run.findings {
                    refusal.verifier(&guid, &name, &run.kind, run.ignorable, finding.text());
                }
            }
        }
        if refusal.refuses(request.ignore_warnings) {
            if request.ignore_warnings {
                refusal.drop_warnings();
            }
            return Err(refusal.into());
        }
        let mut notes = skipped;
        notes.extend(
            refusal
                .warnings
                .into_iter()
                .map(|w| format!("Warning ignored (ignore_warnings): {w}")),
        );
        Ok((plan, notes))
    }

    pub async fn get(&self, id: i64) -> Result<InstallationView> {
        self.store()
            .installations()
            .get(id)
            .await?
            .map(InstallationView::from_row)
            .ok_or_else(|| Error::NotFound(format!("installation {id}")))
    }

    /// Newest first.
    pub async fn list(&self) -> Result<Vec<InstallationView>> {
        Ok(self
            .store()
            .installations()
            .list()
            .await?
            .into_iter()
            .map(InstallationView::from_row)
            .collect())
    }

    /// The whole log so far, one line per line.
    pub async fn logs(&self, id: i64) -> Result<String> {
        self.get(id).await?;
        let lines = self.store().installations().log_lines(id, 0).await?;
        let mut out = String::new();
        for (_, line) in lines {
            out.push_str(&line);
            out.push('\n');
        }
        Ok(out)
    }

    /// For the events stream of a running installation: its log lines so far and a receiver of
    /// everything after them. `None` once it ended (its stored log is then complete).
    pub fn subscribe(&self, id: i64) -> Option<log::Subscription> {
        let log = self.lock_streams().get(&id).cloned();
        log.map(|l| l.subscribe())
    }

    /// Called by the pipeline when an installation ends.
    fn finished(&self, id: i64) {
        self.lock_streams().remove(&id);
        self.products().set_applying(None);
    }
}

/// The message of an error as an operator should read it (422 findings joined).
pub fn error_text(e: &Error) -> String {
    match e {
        Error::Rejected(findings) => findings
            .iter()
            .flat_map(|(k, ms)| ms.iter().map(move |m| format!("{k}: {m}")))
            .collect::<Vec<_>>()
            .join("; "),
        Error::ApplyRefused(refusal) => refusal.to_string(),
        other => other.to_string(),
    }
}

/// Now, as RFC 3339 UTC with seconds (`2026-01-31T12:00:00Z`), the format om parses.
pub fn now_rfc3339() -> String {
    format_rfc3339(crate::store::unix_now())
}

pub fn format_rfc3339(unix: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Reads what [`format_rfc3339`] writes.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z')?;
    let (date, clock) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, mo, da) = (d.next()??, d.next()??, d.next()??);
    let mut c = clock.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (c.next()??, c.next()??, c.next()??);
    let month = time::Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(da).ok()?)
            .ok()?;
    let t = date
        .with_hms(
            u8::try_from(h).ok()?,
            u8::try_from(mi).ok()?,
            u8::try_from(s).ok()?,
        )
        .ok()?;
    Some(t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        let t = 1_767_225_599; // 2025-12-31T23:59:59Z
        assert_eq!(format_rfc3339(t), "2025-12-31T23:59:59Z");
        assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        assert_eq!(parse_rfc3339("2025-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn the_list_entry_has_oms_fields() {
        let view = InstallationView {
            id: 3,
            status: "succeeded".into(),
            user_name: "admin".into(),
            started_at: "2026-01-01T10:00:00Z".into(),
            finished_at: Some("2026-01-01T10:02:30Z".into()),
            request: ApplyRequest::default(),
            products: vec![
                ProductRun {
                    guid: "p-1".into(),
                    name: "p".into(),
                    version: "1.0".into(),
                    action: "install".into(),
                    status: "succeeded".into(),
                    started_at: Some("2026-01-01T10:00:10Z".into()),
                    finished_at: Some("2026-01-01T10:02:00Z".into()),
                    progress: 100,
                },
                ProductRun {
                    guid: "gone-1".into(),
                    name: "gone".into(),
                    version: "2.0".into(),
                    action: "delete".into(),
                    status: "succeeded".into(),
                    started_at: None,
                    finished_at: None,
                    progress: 100,
                },
            ],
            result: None,
        };
        let v = view.to_json();
        assert_eq!(v["id"], 3);
        assert_eq!(v["duration_seconds"], 150);
        assert_eq!(v["deploy_products"], "all");
        assert_eq!(v["additions"][0]["identifier"], "p");
        assert_eq!(v["products"][0]["duration_seconds"], 110);
        assert_eq!(v["updates"], json!([]));
        assert_eq!(
            v["deletions"],
            json!([{"identifier": "gone", "product_version": "2.0", "guid": "gone-1"}])
        );
    }
}
