//! The steps of an installation, each logged:
//!
//! 1. the Director tile: its cloud config uploaded (`POST /configs`, type cloud);
//! 2. each selected product, in dependency waves (independent products in parallel):
//!    render the manifest (generated credentials filled, the root CA) → upload the stemcells
//!    and releases the manifest names that the Director lacks (the tarball shipped in the
//!    `.pivotal` when there is one, else its manifest alone, which the embedded stand-in
//!    accepts) → runtime configs → deploy through a Director task, following its events →
//!    post-deploy errands by their rules → the deployed snapshot.
//!
//! The first failure ends the installation `failed`: the products after it are `skipped`,
//! nothing staged changes, and the snapshot of the failed product is not written.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tiles::render::{ErrandPhase, ErrandRule};
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
    plan: Mutex<Vec<ProductRun>>,
}

impl Run {
    fn id(&self) -> i64 {
        self.log.id()
    }

    fn lock_plan(&self) -> std::sync::MutexGuard<'_, Vec<ProductRun>> {
        self.plan.lock().unwrap_or_else(|p| p.into_inner())
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
    request: &ApplyRequest,
    plan: Vec<ProductRun>,
    user: &str,
) {
    let run = Arc::new(Run {
        service: service.clone(),
        log: log.clone(),
        request: request.clone(),
        plan: Mutex::new(plan),
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
    let outcome = steps(&run).await;
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
    // Let the writer store every line before the status says the run ended, so a client that
    // sees `succeeded` or `failed` reads the complete log.
    log.close();
    wait_for_log(service, id, log).await;
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

/// Waits (briefly) until the stored log has every line handed out.
async fn wait_for_log(service: &Installations, id: i64, log: &InstallLog) {
    let want = log.last_seq();
    for _ in 0..100 {
        match service.store().installations().last_seq(id).await {
            Ok(seq) if seq >= want => return,
            Err(_) => return,
            _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
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

    // Dependency waves among the selected products.
    let selected: Vec<ProductRun> = run.lock_plan().clone();
    let mut deps = Vec::new();
    for p in &selected {
        let product = products.staged_product(&p.guid).await?;
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
    for wave in waves(&deps) {
        let mut set = JoinSet::new();
        for i in wave {
            let Some(p) = selected.get(i) else { continue };
            let run = run.clone();
            let guid = p.guid.clone();
            set.spawn(async move { deploy_product(&run, &guid).await });
        }
        let mut first_error = None;
        while let Some(joined) = set.join_next().await {
            let outcome = joined
                .map_err(|e| Error::Internal(format!("a product deploy stopped: {e}")))
                .and_then(|r| r);
            if let Err(e) = outcome {
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
    }
    Ok(())
}

async fn deploy_product(run: &Arc<Run>, guid: &str) -> Result<()> {
    let step = format!("{guid}.deploy");
    run.update(guid, |p| {
        p.status = "running".into();
        p.started_at = Some(now_rfc3339());
        p.progress = 0;
    })
    .await;
    let outcome = deploy_product_steps(run, guid).await;
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
    run.progress(guid, 10).await;

    // Stemcells.
    let known = client.stemcells().await?;
    let iaas = products.director().await?.settings.director_config().iaas;
    let iaas_name = serde_json::to_value(iaas)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "vsphere".into());
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
        if known
            .iter()
            .any(|k| k.operating_system == os && k.version == version)
        {
            run.log.line(format!(
                "[{label}] Stemcell {os} {version} is on the Director"
            ));
            continue;
        }
        let name = format!("bosh-{iaas_name}-{os}-go_agent");
        run.log
            .line(format!("[{label}] Uploading stemcell {name} {version}"));
        let mf = format!(
            "---\nname: {name}\nversion: '{version}'\noperating_system: {os}\ncloud_properties: {{}}\n"
        );
        let task = client
            .upload_stemcell(&Upload::Manifest(mf), UploadOptions::default())
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
        if name.is_empty() || client.has_release(name, &version).await? {
            continue;
        }
        let upload = release_upload(run, &product, name, &version).await;
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

    run.log.line(format!("[{label}] Deploying to the Director"));
    let options = DeployOptions {
        context_id: Some(format!("tileworks-installation-{}", run.id())),
        ..DeployOptions::default()
    };
    let task = client.deploy(&render.rendered.to_yaml(), &options).await?;
    run.follow(guid, &label, task, "create deployment", Some((30, 80)))
        .await?;
    run.progress(guid, 80).await;

    // Post-deploy errands.
    let action = run
        .lock_plan()
        .iter()
        .find(|p| p.guid == guid)
        .map(|p| p.action.clone())
        .unwrap_or_default();
    let overrides = run.request.errands.get(guid);
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
        if !runs {
            run.log
                .line(format!("[{label}] Errand {} skipped ({why})", e.name));
            continue;
        }
        run.log
            .line(format!("[{label}] Running errand {} ({why})", e.name));
        let task = client
            .run_errand(guid, &e.name, &ErrandRunOptions::default())
            .await?;
        run.follow(guid, &label, task, &format!("run errand {}", e.name), None)
            .await?;
        let results = client.errand_results(task).await?;
        for r in &results {
            let at = r
                .instance
                .as_ref()
                .map(|i| format!("{}/{}", i.group, i.id))
                .unwrap_or_else(|| "errand".into());
            for line in r.stdout.lines().chain(r.stderr.lines()) {
                run.log.line(format!("[{label}] {} {at} | {line}", e.name));
            }
        }
        if let Some(bad) = results.iter().find(|r| !r.succeeded()) {
            return Err(Error::Director {
                call: format!("errand {} of {guid}", e.name),
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
        run.log
            .line(format!("[{label}] Errand {} succeeded", e.name));
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

/// The release tarball the tile ships, extracted to a temporary file, or its manifest alone.
async fn release_upload(
    run: &Arc<Run>,
    product: &crate::products::StagedProduct,
    name: &str,
    version: &str,
) -> Upload {
    let manifest_only = Upload::Manifest(format!("---\nname: {name}\nversion: '{version}'\n"));
    let Some(release) = product
        .template
        .releases
        .iter()
        .find(|r| r.name == name && r.version == version)
    else {
        return manifest_only;
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
        _ => return manifest_only,
    };
    let Some(tile) = available.file_path else {
        return manifest_only;
    };
    let dir = run.service.products().tiles_dir().to_path_buf();
    let id = run.id();
    let extracted = tokio::task::spawn_blocking(move || -> Result<std::path::PathBuf> {
        let mut archive = crate::tile_archive::PivotalArchive::open(
            std::path::Path::new(&tile),
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
    match extracted {
        Ok(Ok(path)) => Upload::File(path),
        _ => manifest_only,
    }
}
