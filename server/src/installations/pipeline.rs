//! The steps of an installation, each logged:
//!
//! 1. the Director tile: its cloud config uploaded (`POST /configs`, type cloud);
//! 2. each selected product to deploy, in dependency waves (independent products in parallel,
//!    at most `--apply-parallelism` at a time): render the manifest (generated credentials
//!    filled, the root CA, the stemcells the Stemcell Library assigns) → upload the stemcells
//!    and releases the manifest names that the Director lacks (the library's tarball, or its
//!    manifest alone for a light stemcell; a release's tarball shipped in the `.pivotal` when
//!    there is one, else its manifest alone, which the embedded stand-in accepts) → runtime
//!    configs → deploy through a Director task, following its events → post-deploy errands by
//!    their rules → the deployed snapshot;
//! 3. each selected product whose deletion is staged, after every deploy: its pre-delete
//!    errands by their rules → `DELETE /deployments/<guid>` through a Director task → its
//!    runtime configs removed → the product forgotten ([`Products::complete_deletion`]).
//!
//! **Order of deletions.** Deploys go first: a product that stays and requires a deleted one
//! is refused when the apply is validated, so no deploy needs a product this apply deletes.
//! Deletions then run in the *reverse* of their dependency waves: a product others depend on
//! is deleted after them (products that do not depend on each other in parallel).
//!
//! The first failure ends the installation `failed`: the products after it are `skipped`,
//! nothing staged changes, the snapshot of the failed product is not written, and a failed
//! deletion (a pre-delete errand that failed, say) stays staged.
//!
//! [`Products::complete_deletion`]: crate::products::Products::complete_deletion

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tiles::render::{ErrandPhase, ErrandRule};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::log::{InstallEvent, InstallLog};
use super::order::waves;
use super::render::render_staged;
use super::request::{ApplyRequest, ErrandOverride};
use super::{error_text, now_rfc3339, Installations, ProductRun};
use crate::director_client::{DeployOptions, ErrandRunOptions, Event, Task, Upload, UploadOptions};
use crate::{Error, Result};

/// The state shared by the steps of one run.
struct Run {
    service: Installations,
    log: InstallLog,
    request: ApplyRequest,
    /// Who started it (recorded with a completed deletion).
    user: String,
    plan: Mutex<Vec<ProductRun>>,
    /// Product deploys and deletions running at once (`--apply-parallelism`).
    slots: Arc<Semaphore>,
    /// One lock per stemcell or release (`stemcell:os/version`, `release:name/version`):
    /// products deploying side by side that share one check for it and upload it once.
    uploads: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Run {
    fn id(&self) -> i64 {
        self.log.id()
    }

    fn lock_plan(&self) -> std::sync::MutexGuard<'_, Vec<ProductRun>> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds the upload of one stemcell or release: while one product checks and uploads
    /// it, another product wanting the same waits and then finds it on the Director.
    async fn upload_turn(&self, key: String) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .uploads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    /// Changes one product's record and stores the plan.
    async fn update(&self, guid: &str, change: impl FnOnce(&mut ProductRun)) {
        let text = {
            let mut plan = self.lock_plan();
            if let Some(p) = plan.iter_mut().find(|p| p.guid == guid) {
                change(p);
            }
            serde_json::to_string(&*plan).unwrap_or_else(|_| "[]".into())
        };
        if let Err(e) = self
            .service
            .store()
            .installations()
            .set_products(self.id(), &text)
            .await
        {
            tracing::error!(installation = self.id(), error = %e, "storing installation progress");
        }
    }

    async fn progress(&self, guid: &str, percent: u8) {
        self.log.event(InstallEvent::Progress {
            product: guid.to_owned(),
            percent,
        });
        self.update(guid, |p| p.progress = percent).await;
    }

    fn step_started(&self, id: &str, description: &str, product: Option<&str>) {
        self.log.line(description);
        self.log.event(InstallEvent::StepStarted {
            id: id.to_owned(),
            description: description.to_owned(),
            product: product.map(str::to_owned),
        });
    }

    fn step_finished(&self, id: &str, ok: bool, product: Option<&str>) {
        self.log.event(InstallEvent::StepFinished {
            id: id.to_owned(),
            status: if ok { "succeeded" } else { "failed" }.to_owned(),
            product: product.map(str::to_owned),
        });
    }

    /// Records a task, follows it to its end with its events in the log, and requires `done`.
    /// `span` maps the task's stage progress onto the product's progress.
    async fn follow(
        &self,
        guid: &str,
        label: &str,
        task_id: u64,
        description: &str,
        span: Option<(u8, u8)>,
    ) -> Result<Task> {
        let store = self.service.store().installations();
        let db_id = i64::try_from(task_id).unwrap_or(i64::MAX);
        store.add_task(self.id(), db_id, guid, description).await?;
        self.log
            .line(format!("[{label}] Director task {task_id}: {description}"));
        let client = &self.service.director().client;
        let log = self.log.clone();
        let product = guid.to_owned();
        let label_owned = label.to_owned();
        let last_percent = Arc::new(Mutex::new(None::<u8>));
        let seen = last_percent.clone();
        let followed = client
            .follow_task(task_id, move |event: &Event| {
                log.line(format!(
                    "[{label_owned}] Task {task_id} | {}",
                    event.describe()
                ));
                log.event(InstallEvent::DirectorEvent {
                    product: product.clone(),
                    task_id,
                    event: serde_json::to_value(event).unwrap_or(Value::Null),
                });
                if let (Some((from, to)), Some(index), Some(total)) =
                    (span, event.index, event.total)
                {
                    if total > 0 && event.state.as_deref() == Some("finished") {
                        let share = u64::from(to.saturating_sub(from)) * index.min(total) / total;
                        let percent = from.saturating_add(u8::try_from(share).unwrap_or(0));
                        *seen.lock().unwrap_or_else(|p| p.into_inner()) = Some(percent);
                        log.event(InstallEvent::Progress {
                            product: product.clone(),
                            percent,
                        });
                    }
                }
            })
            .await;
        let task = match followed {
            Ok(task) => task,
            Err(e) => {
                // The task may still run; a later start reconciles it.
                return Err(e);
            }
        };
        store
            .set_task_state(self.id(), db_id, task.state.as_str())
            .await?;
        self.log.line(format!(
            "[{label}] Director task {task_id} ended: {}",
            task.state.as_str()
        ));
        let last = *last_percent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = last {
            self.update(guid, |r| r.progress = p).await;
        }
        task.ensure_done()
    }
}

/// Runs an installation to its end and records the outcome. Never fails: every failure is
/// logged and ends the installation `failed`.
pub async fn run(
    service: &Installations,
    log: &InstallLog,
    writer: tokio::task::JoinHandle<()>,
    request: &ApplyRequest,
    plan: Vec<ProductRun>,
    user: &str,
    lease_lost: impl std::future::Future<Output = ()>,
) {
    let run = Arc::new(Run {
        service: service.clone(),
        log: log.clone(),
        request: request.clone(),
        user: user.to_owned(),
        plan: Mutex::new(plan),
        slots: Arc::new(Semaphore::new(service.apply_parallelism())),
        uploads: Mutex::new(HashMap::new()),
    });
    let id = run.id();
    let names: Vec<String> = run
        .lock_plan()
        .iter()
        .map(|p| format!("{} {} ({})", p.name, p.version, p.action))
        .collect();
    log.line(format!(
        "Installation {id} started by {user}. Products: {}",
        if names.is_empty() {
            "none (BOSH Director only)".to_owned()
        } else {
            names.join(", ")
        }
    ));
    // A replica that stopped renewing its lease in time (slow, not dead) while another one
    // failed its installation stops at once, as a killed one would: the other replica follows
    // the Director tasks it left behind, and a new apply may already run.
    let outcome = tokio::select! {
        outcome = steps(&run) => outcome,
        () = lease_lost => Err(Error::Conflict(format!(
            "replica {} lost its lock on installation {id} (another replica found its lease \
             run out and failed it); it stopped here",
            service.replica().id
        ))),
    };
    let (status, result) = match &outcome {
        Ok(()) => ("succeeded", None),
        Err(e) => ("failed", Some(error_text(e))),
    };
    match &result {
        None => log.line(format!("Installation {id} succeeded.")),
        Some(reason) => {
            log.line(format!("Installation {id} failed: {reason}"));
            log.line("Staged changes are kept; apply again to retry.");
        }
    }
    // Products that never ran.
    let pending: Vec<String> = run
        .lock_plan()
        .iter()
        .filter(|p| p.status == "pending")
        .map(|p| p.guid.clone())
        .collect();
    for guid in pending {
        run.update(&guid, |p| p.status = "skipped".into()).await;
    }
    // The writer stores every line before the status says the run ended, so a client that
    // sees `succeeded` or `failed` (another replica's events stream, om) reads the complete log.
    log.close();
    let _ = writer.await;
    if let Err(e) = service
        .store()
        .installations()
        .finish(id, status, &now_rfc3339(), result.as_deref())
        .await
    {
        tracing::error!(installation = id, error = %e, "recording the end of an installation");
    }
    log.event(InstallEvent::Finished {
        status: status.to_owned(),
    });
    service.finished(id);
}

async fn steps(run: &Arc<Run>) -> Result<()> {
    let service = &run.service;
    let products = service.products();

    run.step_started(
        "cloud_config",
        "Updating the BOSH Director's cloud config",
        None,
    );
    let director = products.director().await?;
    let cloud = products.cloud_config().await;
    let cloud = match cloud {
        Ok(c) => c,
        Err(e) => {
            run.step_finished("cloud_config", false, None);
            return Err(e);
        }
    };
    let yaml = tiles::yaml::to_yaml_string(&cloud);
    if let Err(e) = service.director().client.update_cloud_config(&yaml).await {
        run.step_finished("cloud_config", false, None);
        return Err(e);
    }
    service
        .write_snapshot(
            run.id(),
            &director.guid,
            crate::products::DIRECTOR_PRODUCT_NAME,
            &crate::info_version(),
            &director.settings,
            &cloud,
        )
        .await?;
    run.log.line("Cloud config updated.");
    run.step_finished("cloud_config", true, None);

    // Dependency waves among the selected products: deploys first, then deletions in the
    // reverse order (see the module docs).
    let selected: Vec<ProductRun> = run.lock_plan().clone();
    let (deletions, deploys): (Vec<ProductRun>, Vec<ProductRun>) =
        selected.into_iter().partition(|p| p.action == "delete");
    for wave in product_waves(run, &deploys).await? {
        run_wave(run, wave, false).await?;
    }
    let mut delete_waves = product_waves(run, &deletions).await?;
    delete_waves.reverse();
    for wave in delete_waves {
        run_wave(run, wave, true).await?;
    }
    Ok(())
}

/// `products` (GUIDs) grouped into dependency waves ([`waves`]).
async fn product_waves(run: &Arc<Run>, products: &[ProductRun]) -> Result<Vec<Vec<String>>> {
    let mut deps = Vec::new();
    for p in products {
        let product = run.service.products().staged_product(&p.guid).await?;
        deps.push((
            p.name.clone(),
            product
                .template
                .requires_product_versions
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>(),
        ));
    }
    Ok(waves(&deps)
        .into_iter()
        .map(|wave| {
            wave.into_iter()
                .filter_map(|i| products.get(i).map(|p| p.guid.clone()))
                .collect()
        })
        .collect())
}

/// Runs one wave (deploys or deletions) in parallel, at most `slots` at a time, and waits for
/// all of it; the first failure is the result.
async fn run_wave(run: &Arc<Run>, wave: Vec<String>, delete: bool) -> Result<()> {
    let mut set = JoinSet::new();
    for guid in wave {
        let run = run.clone();
        set.spawn(async move {
            let _slot = run
                .slots
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| Error::Internal(format!("apply slots closed: {e}")))?;
            if delete {
                delete_product(&run, &guid).await
            } else {
                deploy_product(&run, &guid).await
            }
        });
    }
    let mut first_error = None;
    while let Some(joined) = set.join_next().await {
        let outcome = joined
            .map_err(|e| Error::Internal(format!("a product step stopped: {e}")))
            .and_then(|r| r);
        if let Err(e) = outcome {
            first_error.get_or_insert(e);
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The job-spec check of the manifest about to be deployed, each finding a warning line at the
/// product's step (names of properties and jobs, from the redacted manifest: no values). They
/// never stop the deploy; specs that cannot be read are a warning too.
async fn log_job_spec_warnings(
    run: &Arc<Run>,
    label: &str,
    name: &str,
    version: &str,
    redacted: &Value,
) {
    match run.service.check_rendered(name, version, redacted).await {
        Ok(report) => {
            for f in &report.findings {
                run.log
                    .line(format!("[{label}] Warning: job spec: {}: {}", f.at, f.message));
            }
        }
        Err(e) => run.log.line(format!(
            "[{label}] Warning: the job specs could not be read, so the manifest was not checked against them: {}",
            error_text(&e)
        )),
    }
}

async fn deploy_product(run: &Arc<Run>, guid: &str) -> Result<()> {
    tracked(run, guid, "deploy", deploy_product_steps(run, guid)).await
}

async fn delete_product(run: &Arc<Run>, guid: &str) -> Result<()> {
    tracked(run, guid, "delete", delete_product_steps(run, guid)).await
}

/// Runs one product's steps with its record kept: running, then succeeded or failed, the
/// failure in the log, the step `<guid>.<kind>` finished.
async fn tracked(
    run: &Arc<Run>,
    guid: &str,
    kind: &str,
    steps: impl std::future::Future<Output = Result<()>>,
) -> Result<()> {
    let step = format!("{guid}.{kind}");
    run.update(guid, |p| {
        p.status = "running".into();
        p.started_at = Some(now_rfc3339());
        p.progress = 0;
    })
    .await;
    let outcome = steps.await;
    let ok = outcome.is_ok();
    if let Err(e) = &outcome {
        run.log.line(format!("[{guid}] Failed: {}", error_text(e)));
    }
    run.update(guid, |p| {
        p.status = if ok { "succeeded" } else { "failed" }.into();
        p.finished_at = Some(now_rfc3339());
        if ok {
            p.progress = 100;
        }
    })
    .await;
    if ok {
        run.log.event(InstallEvent::Progress {
            product: guid.to_owned(),
            percent: 100,
        });
    }
    run.step_finished(&step, ok, Some(guid));
    outcome
}

async fn deploy_product_steps(run: &Arc<Run>, guid: &str) -> Result<()> {
    let service = &run.service;
    let products = service.products();
    let client = &service.director().client;
    let product = products.staged_product(guid).await?;
    let label = format!("{} {}", product.name, product.version);
    let step = format!("{guid}.deploy");
    run.step_started(
        &step,
        &format!("[{label}] Deploying {} ({guid})", product.label),
        Some(guid),
    );

    run.log.line(format!("[{label}] Rendering the manifest"));
    let render = render_staged(products, &product, &service.director().hostname()).await?;
    let manifest = &render.rendered.manifest;
    log_job_spec_warnings(
        run,
        &label,
        &product.name,
        &product.version,
        &render.redacted,
    )
    .await;
    run.progress(guid, 10).await;

    // Stemcells: the ones the manifest names (the Stemcell Library's assignment, see
    // `render_staged`), uploaded from the library when the Director lacks them.
    let library = products.store().stemcells().all().await?;
    for s in manifest
        .get("stemcells")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let os = s.get("os").and_then(Value::as_str).unwrap_or_default();
        let version = s.get("version").and_then(Value::as_str).unwrap_or_default();
        if os.is_empty() || version.is_empty() || version == "latest" {
            continue;
        }
        let _turn = run.upload_turn(format!("stemcell:{os}/{version}")).await;
        // Asked after the turn: a product ahead of this one may have just uploaded it.
        let known = client.stemcells().await?;
        if known
            .iter()
            .any(|k| k.operating_system == os && k.version == version)
        {
            run.log.line(format!(
                "[{label}] Stemcell {os} {version} is on the Director"
            ));
            continue;
        }
        let upload = stemcell_upload(&library, os, version, products).await?;
        run.log.line(format!(
            "[{label}] Uploading stemcell {os} {version}{}",
            if matches!(upload, Upload::File(_)) {
                " from the Stemcell Library"
            } else {
                " (light: its manifest only)"
            }
        ));
        let task = client
            .upload_stemcell(&upload, UploadOptions::default())
            .await?;
        run.follow(guid, &label, task, "upload stemcell", None)
            .await?;
    }
    run.progress(guid, 20).await;

    // Releases.
    for r in manifest
        .get("releases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
        let version = match r.get("version") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        if name.is_empty() {
            continue;
        }
        let _turn = run.upload_turn(format!("release:{name}/{version}")).await;
        if client.has_release(name, &version).await? {
            continue;
        }
        let upload = release_upload(run, &product, name, &version).await?;
        run.log.line(format!(
            "[{label}] Uploading release {name}/{version}{}",
            if matches!(upload, Upload::File(_)) {
                " from the tile"
            } else {
                " (metadata only; the tile ships no tarball)"
            }
        ));
        let task = client
            .upload_release(&upload, UploadOptions::default())
            .await;
        if let Upload::File(path) = &upload {
            let _ = std::fs::remove_file(path);
        }
        run.follow(guid, &label, task?, "upload release", None)
            .await?;
    }
    run.progress(guid, 30).await;

    for rc in &render.rendered.runtime_configs {
        run.log
            .line(format!("[{label}] Updating runtime config {}", rc.name));
        client
            .update_runtime_config(&rc.name, &tiles::yaml::to_yaml_string(&rc.config))
            .await?;
    }

    // A tile without job types (NSX-T's) deploys no manifest: its runtime configs, updated
    // above, are all it gives the Director, as in Ops Manager.
    if render.rendered.deploys() {
        run.log.line(format!("[{label}] Deploying to the Director"));
        let options = DeployOptions {
            context_id: Some(format!("tileworks-installation-{}", run.id())),
            ..DeployOptions::default()
        };
        // A Director with a config server (a real one's CredHub, the stand-in's own) gets the
        // manifest with placeholders and the values in its config server, so it stores no
        // credential in plaintext; one without gets the manifest as rendered, and the log says so.
        // A real Director's config server that refuses the values (Tileworks's client without
        // CredHub write access, CredHub out of reach) does not stop a deploy that works without
        // it: the log says why the manifest carries the credentials. The embedded stand-in's must
        // work.
        let placeholders = async {
            if client.config_server_url().await?.is_none() {
                return Ok(None);
            }
            let (manifest, values) =
                super::render::for_config_server(&render.rendered.manifest, &render.secrets, guid);
            for (name, value) in &values {
                client.set_config_server_variable(name, value).await?;
            }
            Ok::<_, crate::Error>(Some(tiles::yaml::to_yaml_string(&manifest)))
        };
        let manifest_yaml = match placeholders.await {
            Ok(Some(yaml)) => yaml,
            Ok(None) => {
                run.log.line(format!(
                    "[{label}] The Director names no config server: its manifest carries the \
                     credentials"
                ));
                render.rendered.to_yaml()
            }
            Err(err) if !service.director().embedded => {
                run.log.line(format!(
                    "[{label}] The Director's config server did not take the credentials ({err}): \
                     its manifest carries them"
                ));
                render.rendered.to_yaml()
            }
            Err(err) => return Err(err),
        };
        // Post-deploy errands, decided before the deploy so that the progress counts them: the
        // deploy task and every errand that runs are steps of the bar (see [`steps_span`]).
        let action = run
            .lock_plan()
            .iter()
            .find(|p| p.guid == guid)
            .map(|p| p.action.clone())
            .unwrap_or_default();
        let overrides = run.request.errands.get(guid);
        let mut errands = Vec::new();
        for e in &render.rendered.errands {
            if e.phase != ErrandPhase::PostDeploy {
                continue;
            }
            let forced = overrides
                .and_then(|o| o.run_post_deploy.get(&e.name))
                .copied();
            let (runs, why) = match forced {
                Some(ErrandOverride::On) => (true, "on for this apply"),
                Some(ErrandOverride::Off) => (false, "off for this apply"),
                Some(ErrandOverride::Default) | None => match e.rule {
                    ErrandRule::On => (true, "on"),
                    ErrandRule::Off => (false, "off"),
                    ErrandRule::WhenChanged if action != "unchanged" => {
                        (true, "when changed; the product changed")
                    }
                    ErrandRule::WhenChanged => (false, "when changed; nothing changed"),
                },
            };
            errands.push((e.name.clone(), runs, why));
        }
        let spans = steps_span(
            DEPLOY_FROM,
            DEPLOY_TO,
            errands.iter().filter(|(_, runs, _)| *runs).count(),
        );
        let task = client.deploy(&manifest_yaml, &options).await?;
        run.follow(guid, &label, task, "create deployment", Some(spans[0]))
            .await?;
        run.progress(guid, spans[0].1).await;

        let mut next = spans[1..].iter();
        for (name, runs, why) in &errands {
            if !runs {
                run.log
                    .line(format!("[{label}] Errand {name} skipped ({why})"));
                continue;
            }
            let span = next.next().copied();
            run.log
                .line(format!("[{label}] Running errand {name} ({why})"));
            match service.errand_runner(&product.name, name) {
                Some(runner) => {
                    run_errand_in_tileworks(
                        run,
                        &*runner,
                        &label,
                        name,
                        Some(&render.rendered.manifest),
                    )
                    .await?
                }
                None => run_errand(run, guid, &label, name, span).await?,
            }
            if let Some((_, to)) = span {
                run.progress(guid, to).await;
            }
        }
    } else {
        run.log.line(format!(
            "[{label}] No instance groups: nothing to deploy (the tile gives the Director its \
             runtime configs only)"
        ));
    }
    run.progress(guid, 95).await;

    service
        .write_snapshot(
            run.id(),
            guid,
            &product.name,
            &product.version,
            &product.settings,
            &render.redacted,
        )
        .await?;
    // The stemcells this deploy used, as the Stemcell Library sees them, on the same row, so
    // pending changes and revert compare and restore stemcell pins against what was deployed.
    let stemcells: Vec<crate::stemcells::OsVersion> =
        crate::stemcells::assignments::uses_of(products, guid, &product.template)
            .await?
            .into_iter()
            .filter_map(|u| {
                u.staged_version.map(|version| crate::stemcells::OsVersion {
                    os: u.required_os,
                    version,
                })
            })
            .collect();
    products.record_deployed_stemcells(guid, &stemcells).await?;
    run.log.line(format!("[{label}] Deployed."));
    Ok(())
}

/// Where a product's bar stands when its deploy task starts, and when its last errand ends
/// (the snapshot and the stemcell records take it to 100).
const DEPLOY_FROM: u8 = 30;
const DEPLOY_TO: u8 = 95;

/// The bar from `from` to `to` shared by the deploy task (two shares: it is the long step) and
/// each of `errands` errands that run (one share each): the first span is the deploy's, then
/// one per errand, each starting where the one before ended and the last ending at `to`.
fn steps_span(from: u8, to: u8, errands: usize) -> Vec<(u8, u8)> {
    let shares = 2 + errands as u64;
    let width = u64::from(to.saturating_sub(from));
    let at = |share: u64| from + u8::try_from(width * share / shares).unwrap_or(0);
    let mut spans = vec![(from, at(2))];
    for i in 0..errands as u64 {
        spans.push((at(2 + i), at(3 + i)));
    }
    spans
}

/// What to upload for a stemcell the manifest names: the library's tarball (preferred over a
/// light record of the same OS and version), else the light record's `stemcell.MF`, else (no
/// library record at all, which the completeness check normally prevents) a manifest named
/// after the Director's IaaS.
async fn stemcell_upload(
    library: &[crate::store::stemcells::StemcellRow],
    os: &str,
    version: &str,
    products: &crate::products::Products,
) -> Result<Upload> {
    let mut candidates: Vec<_> = library
        .iter()
        .filter(|r| r.os == os && r.version == version)
        .collect();
    candidates.sort_by_key(|r| r.light);
    for row in &candidates {
        if let Some(recorded) = row.file_path.as_deref() {
            // This replica's copy (with an object store, downloaded first when missing; a
            // store that fails stops the apply with its message).
            let path = products
                .files()
                .local_copy(
                    crate::files::Folder::Stemcells,
                    recorded,
                    row.sha256.as_deref(),
                )
                .await?;
            if path.is_file() {
                return Ok(Upload::File(path));
            }
        }
    }
    if let Some(row) = candidates.iter().find(|r| !r.manifest.trim().is_empty()) {
        return Ok(Upload::Manifest(row.manifest.clone()));
    }
    let iaas = products.director().await?.settings.director_config().iaas;
    let iaas_name = serde_json::to_value(iaas)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "vsphere".into());
    let name = format!("bosh-{iaas_name}-{os}-go_agent");
    Ok(Upload::Manifest(format!(
        "---\nname: {name}\nversion: '{version}'\noperating_system: {os}\ncloud_properties: {{}}\n"
    )))
}

/// The steps of deleting a product's deployment (see the module docs). A deployment the
/// Director no longer has is not an error: the product is forgotten all the same.
async fn delete_product_steps(run: &Arc<Run>, guid: &str) -> Result<()> {
    let service = &run.service;
    let products = service.products();
    let client = &service.director().client;
    let product = products.staged_product(guid).await?;
    let label = format!("{} {}", product.name, product.version);
    run.step_started(
        &format!("{guid}.delete"),
        &format!("[{label}] Deleting {} ({guid})", product.label),
        Some(guid),
    );
    if client.deployment_exists(guid).await? {
        // Pre-delete errands, by their rules, where the deployment has them.
        let present: Vec<String> = client
            .errands(guid)
            .await?
            .into_iter()
            .map(|e| e.name)
            .collect();
        let overrides = run.request.errands.get(guid);
        for (name, runs, why) in
            pre_delete_errands(&product.template, &product.settings.errands, overrides)
        {
            if !runs {
                run.log
                    .line(format!("[{label}] Errand {name} skipped ({why})"));
                continue;
            }
            if !present.contains(&name) {
                run.log.line(format!(
                    "[{label}] Errand {name} skipped (the deployment has no such errand)"
                ));
                continue;
            }
            run.log
                .line(format!("[{label}] Running errand {name} ({why})"));
            match service.errand_runner(&product.name, &name) {
                Some(runner) => run_errand_in_tileworks(run, &*runner, &label, &name, None).await?,
                None => run_errand(run, guid, &label, &name, None).await?,
            }
        }
        run.progress(guid, 30).await;
        run.log
            .line(format!("[{label}] Deleting the deployment {guid}"));
        let task = client.delete_deployment(guid, false).await?;
        run.follow(guid, &label, task, "delete deployment", Some((30, 90)))
            .await?;
    } else {
        run.log.line(format!(
            "[{label}] The Director has no deployment {guid}; nothing to delete there"
        ));
    }
    // Its runtime configs (`<guid>-<name>`).
    let prefix = format!("{guid}-");
    for rc in client.runtime_configs().await? {
        if rc.name.starts_with(&prefix) {
            run.log
                .line(format!("[{label}] Removing runtime config {}", rc.name));
            client.delete_config("runtime", &rc.name).await?;
        }
    }
    run.progress(guid, 95).await;
    products.complete_deletion(guid, &run.user).await?;
    run.log.line(format!("[{label}] Deleted."));
    Ok(())
}

/// The pre-delete errands of a product: name, whether it runs, and why. The staged rule
/// (`true`/`false`/`when-changed`, or the tile's default: the errand's `run_default`, else
/// its job's `run_pre_delete_errand_default`, else on) unless the request overrides it once.
/// `when-changed` runs: a deletion is a change.
fn pre_delete_errands(
    t: &tiles::metadata::ProductTemplate,
    staged: &std::collections::BTreeMap<String, tiles::product_config::ErrandConfig>,
    overrides: Option<&super::request::ProductErrands>,
) -> Vec<(String, bool, &'static str)> {
    t.pre_delete_errands
        .iter()
        .map(|e| {
            let forced = overrides
                .and_then(|o| o.run_pre_delete.get(&e.name))
                .copied();
            let default_on = e
                .run_default
                .or_else(|| {
                    t.job_type(&e.name)
                        .and_then(|j| j.run_pre_delete_errand_default)
                })
                .unwrap_or(true);
            let staged = staged.get(&e.name).and_then(|c| c.pre_delete.as_ref());
            let (runs, why) = match forced {
                Some(ErrandOverride::On) => (true, "on for this apply"),
                Some(ErrandOverride::Off) => (false, "off for this apply"),
                Some(ErrandOverride::Default) | None => match staged {
                    Some(Value::Bool(true)) => (true, "on"),
                    Some(Value::Bool(false)) => (false, "off"),
                    Some(Value::String(s)) if s == "true" || s == "on" => (true, "on"),
                    Some(Value::String(s)) if s == "false" || s == "off" => (false, "off"),
                    Some(Value::String(s)) if s == "when-changed" => {
                        (true, "when changed; the product is deleted")
                    }
                    _ if default_on => (true, "on by default"),
                    _ => (false, "off by default"),
                },
            };
            (e.name.clone(), runs, why)
        })
        .collect()
}

/// Runs an errand Tileworks implements itself (`errand_runners`), its progress in the log.
async fn run_errand_in_tileworks(
    run: &Arc<Run>,
    runner: &dyn super::errand_runners::ErrandRunner,
    label: &str,
    name: &str,
    manifest: Option<&Value>,
) -> Result<()> {
    let log = run.log.clone();
    let prefix = format!("[{label}] {name} |");
    let write = move |line: String| log.line(format!("{prefix} {line}"));
    runner.run(name, manifest, &write).await?;
    run.log.line(format!("[{label}] Errand {name} succeeded"));
    Ok(())
}

/// Runs an errand of `guid`, its output in the log; an errand that exits non-zero fails.
/// `span`: where its task's progress lands on the product's bar.
async fn run_errand(
    run: &Arc<Run>,
    guid: &str,
    label: &str,
    name: &str,
    span: Option<(u8, u8)>,
) -> Result<()> {
    let client = &run.service.director().client;
    let task = client
        .run_errand(guid, name, &ErrandRunOptions::default())
        .await?;
    run.follow(guid, label, task, &format!("run errand {name}"), span)
        .await?;
    let results = client.errand_results(task).await?;
    for r in &results {
        let at = r
            .instance
            .as_ref()
            .map(|i| format!("{}/{}", i.group, i.id))
            .unwrap_or_else(|| "errand".into());
        for line in r.stdout.lines().chain(r.stderr.lines()) {
            run.log.line(format!("[{label}] {name} {at} | {line}"));
        }
    }
    if let Some(bad) = results.iter().find(|r| !r.succeeded()) {
        return Err(Error::Director {
            call: format!("errand {name} of {guid}"),
            status: None,
            message: format!(
                "exited with code {}{}",
                bad.exit_code,
                if bad.stderr.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", bad.stderr.trim())
                }
            ),
        });
    }
    run.log.line(format!("[{label}] Errand {name} succeeded"));
    Ok(())
}

/// The release tarball the tile ships, extracted to a temporary file, or its manifest alone.
/// An error only when the tile's file cannot be had (an object store failing: its message).
async fn release_upload(
    run: &Arc<Run>,
    product: &crate::products::StagedProduct,
    name: &str,
    version: &str,
) -> Result<Upload> {
    let manifest_only = Upload::Manifest(format!("---\nname: {name}\nversion: '{version}'\n"));
    let Some(release) = product
        .template
        .releases
        .iter()
        .find(|r| r.name == name && r.version == version)
    else {
        return Ok(manifest_only);
    };
    let file = release.file.clone();
    let available = match run
        .service
        .products()
        .store()
        .products()
        .available_one(&product.name, &product.version)
        .await
    {
        Ok(Some(row)) => row,
        _ => return Ok(manifest_only),
    };
    let Some(recorded) = available.file_path else {
        return Ok(manifest_only);
    };
    // This replica's copy of the tile (with an object store, downloaded first when missing).
    let tile = run
        .service
        .products()
        .files()
        .local_copy(
            crate::files::Folder::Tiles,
            &recorded,
            Some(&available.sha256),
        )
        .await?;
    let dir = run.service.products().tiles_dir().to_path_buf();
    let id = run.id();
    let extracted = tokio::task::spawn_blocking(move || -> Result<std::path::PathBuf> {
        let mut archive = crate::tile_archive::PivotalArchive::open(
            &tile,
            crate::tile_archive::Limits::default(),
        )?;
        let path = dir.join(format!(".release-{id}-{file}"));
        let mut out = std::fs::File::create(&path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        match archive.copy_entry(&format!("releases/{file}"), &mut out) {
            Ok(_) => Ok(path),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    })
    .await;
    Ok(match extracted {
        Ok(Ok(path)) => Upload::File(path),
        _ => manifest_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::installations::request::ProductErrands;
    use std::collections::BTreeMap;
    use tiles::metadata::ProductTemplate;
    use tiles::product_config::ErrandConfig;

    #[test]
    fn the_bar_counts_the_deploy_and_each_errand_that_runs() {
        // Without errands the deploy task takes the whole span.
        assert_eq!(steps_span(30, 95, 0), vec![(30, 95)]);
        // Two errands: the deploy two shares, each errand one, end to end.
        assert_eq!(steps_span(30, 95, 2), vec![(30, 62), (62, 78), (78, 95)]);
        let many = steps_span(30, 95, 5);
        assert_eq!(many.len(), 6);
        assert_eq!(many.last().unwrap().1, 95);
        for pair in many.windows(2) {
            assert_eq!(pair[0].1, pair[1].0, "{many:?}");
            assert!(
                pair[1].1 > pair[1].0,
                "every errand moves the bar: {many:?}"
            );
        }
    }

    fn template() -> ProductTemplate {
        ProductTemplate::from_yaml(
            "name: t\nproduct_version: 1.0.0\nmetadata_version: '2.1'\nlabel: T\n\
             pre_delete_errands:\n\
             - {name: cleanup}\n\
             - {name: quiet, run_default: false}\n\
             - {name: by-job}\n\
             job_types:\n\
             - name: by-job\n  run_pre_delete_errand_default: false\n  templates: []\n",
        )
        .unwrap()
    }

    fn rules(
        staged: &BTreeMap<String, ErrandConfig>,
        overrides: Option<&ProductErrands>,
    ) -> Vec<(String, bool)> {
        pre_delete_errands(&template(), staged, overrides)
            .into_iter()
            .map(|(n, runs, _)| (n, runs))
            .collect()
    }

    #[test]
    fn pre_delete_errands_follow_defaults_staged_rules_and_overrides() {
        let none = BTreeMap::new();
        assert_eq!(
            rules(&none, None),
            vec![
                ("cleanup".to_owned(), true),
                ("quiet".to_owned(), false),
                ("by-job".to_owned(), false),
            ]
        );
        let staged = BTreeMap::from([
            (
                "cleanup".to_owned(),
                ErrandConfig {
                    post_deploy: None,
                    pre_delete: Some(Value::Bool(false)),
                },
            ),
            (
                "quiet".to_owned(),
                ErrandConfig {
                    post_deploy: None,
                    pre_delete: Some(Value::String("when-changed".into())),
                },
            ),
        ]);
        assert_eq!(
            rules(&staged, None),
            vec![
                ("cleanup".to_owned(), false),
                ("quiet".to_owned(), true),
                ("by-job".to_owned(), false),
            ]
        );
        let once = ProductErrands {
            run_post_deploy: BTreeMap::new(),
            run_pre_delete: BTreeMap::from([
                ("cleanup".to_owned(), ErrandOverride::On),
                ("quiet".to_owned(), ErrandOverride::Off),
                ("by-job".to_owned(), ErrandOverride::Default),
            ]),
        };
        assert_eq!(
            rules(&staged, Some(&once)),
            vec![
                ("cleanup".to_owned(), true),
                ("quiet".to_owned(), false),
                ("by-job".to_owned(), false),
            ]
        );
    }
}
