//! Deploying a manifest: validation with the Director's rules, variable interpolation, the plan
//! (which instances are created, updated, recreated or deleted, and where they go) and its
//! execution in the order the `update` block prescribes: instance groups one after another
//! (or side by side when `serial: false`), canaries first, then AZ by AZ in batches of
//! `max_in_flight`. Persistent disks stay with their instance across updates.

pub mod addons;
pub mod diff;
pub mod ips;
pub mod placement;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures_util::future::try_join_all;
use serde_json::{json, Value};
use tiles::cloud_config::CloudConfig;
use tiles::manifest::{Count, InstanceGroup, Manifest, Update, Variable};
use tiles::manifest_check::{self, Severity};

use crate::error::{Error, Result};
use crate::store::{EventRow, Instance, Store};
use crate::tasks::{Stage, TaskCtx};
use crate::Shared;

/// Query options of `POST /deployments` that change how the deploy runs (the `bosh deploy`
/// flags of the same names).
#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// Recreate every VM (`--recreate`).
    pub recreate: bool,
    /// With `recreate`: only VMs created before this time (`--recreate-vms-created-before`).
    pub recreate_vms_created_before: Option<i64>,
    /// Replace every persistent disk with a new one (`--recreate-persistent-disks`).
    pub recreate_persistent_disks: bool,
    /// Recreate instances whose agent stopped responding (`--fix`).
    pub fix: bool,
    /// `--skip-drain`: the simulated jobs have no drain scripts, so it only shows in the log.
    pub skip_drain: Option<String>,
    pub canaries: Option<String>,
    pub max_in_flight: Option<String>,
    pub dry_run: bool,
    /// The configs the operator saw in the diff (`context` query parameter).
    pub context: DeployContext,
}

/// The `context` of `POST /deployments/:name/diff`, which the CLI hands back to
/// `POST /deployments?context=...`: the ids of the cloud and runtime configs the diff was made
/// against, so the deploy uses exactly those even if a config changes in between. Ids may be
/// numbers or strings; the older single `cloud_config_id` is accepted too.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeployContext {
    pub cloud_config_ids: Option<Vec<i64>>,
    pub runtime_config_ids: Option<Vec<i64>>,
}

impl DeployContext {
    pub fn parse(text: &str) -> Result<DeployContext> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Error::Invalid(format!("Invalid deploy context '{text}': {e}")))?;
        let ids = |v: &Value| -> Result<Vec<i64>> {
            let items: Vec<&Value> = match v {
                Value::Null => Vec::new(),
                Value::Array(items) => items.iter().collect(),
                single => vec![single],
            };
            items
                .into_iter()
                .map(|i| match i {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .map(|id| {
                    id.ok_or_else(|| {
                        Error::Invalid(format!("Invalid config id in context '{text}'"))
                    })
                })
                .collect()
        };
        let cloud = match (value.get("cloud_config_ids"), value.get("cloud_config_id")) {
            (Some(v), _) | (None, Some(v)) => Some(ids(v)?),
            (None, None) => None,
        };
        let runtime = value.get("runtime_config_ids").map(ids).transpose()?;
        Ok(DeployContext {
            cloud_config_ids: cloud,
            runtime_config_ids: runtime,
        })
    }
}

/// The configs of a type a deploy uses: the latest of each name, or exactly `ids` (from a
/// deploy context; an unknown id fails).
pub async fn config_set(
    store: &Store,
    config_type: &str,
    ids: Option<&[i64]>,
) -> Result<Vec<crate::store::ConfigRow>> {
    let Some(ids) = ids else {
        return store.configs(Some(config_type), None, true).await;
    };
    let all = store.configs(Some(config_type), None, false).await?;
    let mut rows = Vec::new();
    for id in ids {
        let row = all.iter().find(|r| r.id == *id).ok_or_else(|| {
            Error::Invalid(format!(
                "Config {id} of type '{config_type}' from the deploy context doesn't exist"
            ))
        })?;
        rows.push(row.clone());
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.id));
    Ok(rows)
}

/// The merged cloud config (every named `cloud` config, as the Director merges them) and the
/// id of the newest one; `ids` pins the configs (a deploy context).
pub async fn cloud_config(
    store: &Store,
    ids: Option<&[i64]>,
) -> Result<(CloudConfig, Option<i64>)> {
    let configs = config_set(store, "cloud", ids).await?;
    let mut merged = CloudConfig::default();
    let mut newest = None;
    for c in configs.iter().rev() {
        newest = Some(newest.map_or(c.id, |n: i64| n.max(c.id)));
        let value = tiles::yaml::load(&c.content)?;
        if value.is_null() {
            continue;
        }
        let cc = CloudConfig::from_value(&value)?;
        merged.azs.extend(cc.azs);
        merged.networks.extend(cc.networks);
        merged.vm_types.extend(cc.vm_types);
        merged.vm_extensions.extend(cc.vm_extensions);
        merged.disk_types.extend(cc.disk_types);
        if merged.compilation.is_none() {
            merged.compilation = cc.compilation;
        }
    }
    Ok((merged, newest))
}

fn sha256_hex(value: &Value) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, value.to_string().as_bytes()).as_ref())
}

/// A manifest ready to deploy: interpolated, typed, checked, with versions resolved.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub manifest: Manifest,
    pub cloud: CloudConfig,
    pub cloud_config_id: Option<i64>,
    /// Resolved `(name, version)` per release.
    pub releases: Vec<(String, String)>,
    /// Resolved `(name, version)` per stemcell alias.
    pub stemcells: HashMap<String, (String, String)>,
    /// Addon jobs `(name, release)` per instance group, from runtime configs and `addons`.
    pub addon_jobs: HashMap<String, Vec<(String, String)>>,
    /// Ids of the runtime configs applied.
    pub runtime_config_ids: Vec<i64>,
}

/// Parses a manifest's YAML into a value, naming YAML errors the Director's way.
pub fn parse_yaml(yaml: &str) -> Result<Value> {
    let value = tiles::yaml::load(yaml).map_err(|e| {
        Error::Invalid(format!(
            "Incorrect YAML structure of the uploaded manifest: {e}"
        ))
    })?;
    if !value.is_object() {
        return Err(Error::Invalid(
            "Incorrect YAML structure of the uploaded manifest: expected a map".into(),
        ));
    }
    Ok(value)
}

/// The deployment name of a manifest value.
pub fn manifest_name(value: &Value) -> Result<String> {
    value
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::Invalid("Deployment manifest must have a 'name'".into()))
}

fn newest_version<'a>(versions: impl Iterator<Item = &'a str>) -> Option<String> {
    // Compare dotted versions numerically where possible.
    fn key(v: &str) -> Vec<(u64, String)> {
        v.split(['.', '-', '+'])
            .map(|p| (p.parse::<u64>().unwrap_or(0), p.to_string()))
            .collect()
    }
    versions.max_by_key(|v| key(v)).map(str::to_string)
}

/// Interpolates, types and checks a manifest, and resolves its releases and stemcells.
pub async fn prepare(
    d: &Shared,
    name: &str,
    raw: &Value,
    context: &DeployContext,
) -> Result<Prepared> {
    let declared: Vec<Variable> = match raw.get("variables") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| Error::Invalid(format!("variables: {e}")))?,
    };
    let generated = d
        .config_server
        .ensure_variables(&d.store, name, &declared)
        .await?;
    if !generated.is_empty() {
        tracing::info!(deployment = name, variables = ?generated, "generated variables");
    }
    let value = d.config_server.interpolate(&d.store, name, raw).await?;
    let manifest = Manifest::from_value(&value)?;
    let (cloud, cloud_config_id) =
        cloud_config(&d.store, context.cloud_config_ids.as_deref()).await?;
    let errors: Vec<String> = manifest_check::check(&manifest, &cloud)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    if !errors.is_empty() {
        return Err(Error::Invalid(format!(
            "Deployment manifest for '{name}' is invalid:\n  - {}",
            errors.join("\n  - ")
        )));
    }
    let existing = d.store.deployments().await?;
    let canonical = manifest_check::canonical_name(name);
    if let Some(other) = existing
        .iter()
        .find(|o| o.name != name && manifest_check::canonical_name(&o.name) == canonical)
    {
        return Err(Error::Invalid(format!(
            "Deployment name '{name}' collides with deployment '{}' (same canonical name '{canonical}')",
            other.name
        )));
    }
    let runtime = addons::runtime_configs(&d.store, context.runtime_config_ids.as_deref()).await?;
    let mut addon_jobs = HashMap::new();
    for g in &manifest.instance_groups {
        addon_jobs.insert(
            g.name.clone(),
            addons::jobs_for(name, g, &manifest, &runtime),
        );
    }
    let known_releases = d.store.releases().await?;
    let mut wanted_releases = manifest.releases.clone();
    for (_, rc) in &runtime {
        for r in &rc.releases {
            if !wanted_releases.iter().any(|w| w.name == r.name) {
                wanted_releases.push(r.clone());
            }
        }
    }
    let mut releases = Vec::new();
    for r in &wanted_releases {
        let wanted = r.version.as_str();
        let versions = known_releases.iter().filter(|k| k.name == r.name);
        let version = if wanted == "latest" {
            newest_version(versions.clone().map(|k| k.version.as_str()))
        } else {
            versions
                .clone()
                .find(|k| k.version == wanted)
                .map(|k| k.version.clone())
        };
        let Some(version) = version else {
            return Err(Error::Invalid(format!(
                "Release version '{}/{}' doesn't exist",
                r.name, wanted
            )));
        };
        // Jobs are checked when the upload told us the release's jobs.
        if let Some(row) = known_releases
            .iter()
            .find(|k| k.name == r.name && k.version == version)
        {
            if let Some(jobs) = row.jobs.as_deref() {
                let jobs: Vec<String> = serde_json::from_str(jobs).unwrap_or_default();
                for g in &manifest.instance_groups {
                    let own = g.jobs.iter().map(|j| (&j.name, &j.release));
                    let added = addon_jobs
                        .get(&g.name)
                        .into_iter()
                        .flatten()
                        .map(|(n, r)| (n, r));
                    for (job, _) in own.chain(added).filter(|(_, rel)| **rel == r.name) {
                        if !jobs.contains(job) {
                            return Err(Error::Invalid(format!(
                                "Job '{job}' not found in release '{}/{}' (instance group '{}')",
                                r.name, version, g.name
                            )));
                        }
                    }
                }
            }
        }
        releases.push((r.name.clone(), version));
    }
    let known_stemcells = d.store.stemcells().await?;
    let mut stemcells = HashMap::new();
    for s in &manifest.stemcells {
        let matching = known_stemcells.iter().filter(|k| {
            s.name.as_deref().map(|n| n == k.name).unwrap_or(true)
                && s.os
                    .as_deref()
                    .map(|o| o == k.operating_system)
                    .unwrap_or(true)
        });
        let wanted = s.version.as_str();
        let found = if wanted == "latest" {
            let newest = newest_version(matching.clone().map(|k| k.version.as_str()));
            matching
                .clone()
                .find(|k| Some(&k.version) == newest.as_ref())
        } else {
            matching.clone().find(|k| k.version == wanted)
        };
        let Some(found) = found else {
            return Err(Error::Invalid(format!(
                "Stemcell '{}' version '{}' for alias '{}' doesn't exist; upload it first",
                s.os.as_deref().or(s.name.as_deref()).unwrap_or("?"),
                wanted,
                s.alias
            )));
        };
        stemcells.insert(s.alias.clone(), (found.name.clone(), found.version.clone()));
    }
    Ok(Prepared {
        manifest,
        cloud,
        cloud_config_id,
        releases,
        stemcells,
        addon_jobs,
        runtime_config_ids: runtime.iter().map(|(id, _)| *id).collect(),
    })
}

/// The effective update settings of a group: group overrides, then deployment, then the
/// deploy's `canaries` / `max_in_flight` query options.
fn effective_update(m: &Manifest, group: &InstanceGroup, opts: &DeployOptions) -> Update {
    let base = m.update.clone().unwrap_or_default();
    let g = group.update.clone().unwrap_or_default();
    let mut u = Update {
        canaries: g.canaries.or(base.canaries),
        max_in_flight: g.max_in_flight.or(base.max_in_flight),
        canary_watch_time: g.canary_watch_time.or(base.canary_watch_time),
        update_watch_time: g.update_watch_time.or(base.update_watch_time),
        serial: g.serial.or(base.serial),
        vm_strategy: g.vm_strategy.or(base.vm_strategy),
        initial_deploy_az_update_strategy: g
            .initial_deploy_az_update_strategy
            .or(base.initial_deploy_az_update_strategy),
        extra: Default::default(),
    };
    if let Some(c) = &opts.canaries {
        u.canaries = Some(Count::Text(c.clone()));
    }
    if let Some(c) = &opts.max_in_flight {
        u.max_in_flight = Some(Count::Text(c.clone()));
    }
    u
}

fn resolve_count(count: Option<&Count>, size: u64, default: u64) -> u64 {
    count
        .and_then(|c| c.parse().ok())
        .map(|c| c.resolve(size))
        .unwrap_or(default)
}

/// The persistent disk size (MB) a group asks for.
fn disk_size(group: &InstanceGroup, cloud: &CloudConfig) -> i64 {
    if let Some(size) = group.persistent_disk {
        return size.max(0);
    }
    let size_of = |t: &str| {
        cloud
            .disk_types
            .iter()
            .find(|d| d.name == t)
            .map(|d| d.disk_size)
            .unwrap_or(0)
    };
    if let Some(t) = &group.persistent_disk_type {
        return size_of(t);
    }
    group
        .persistent_disks
        .iter()
        .flatten()
        .map(|d| size_of(&d.disk_type))
        .sum()
}

/// What changes for one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Recreate,
    Update,
    Keep,
}

#[derive(Debug, Clone)]
struct Planned {
    inst: Instance,
    action: Action,
    disk: i64,
    /// Replace the persistent disk even if its size is unchanged.
    new_disk: bool,
}

#[derive(Debug, Clone)]
struct GroupPlan {
    group: InstanceGroup,
    update: Update,
    planned: Vec<Planned>,
}

/// Hashes of what an instance runs (`spec`) and of what its VM is (`vm`, a change recreates).
fn hashes(p: &Prepared, group: &InstanceGroup) -> (String, String) {
    let stemcell = group
        .stemcell
        .as_ref()
        .and_then(|a| p.stemcells.get(a))
        .cloned();
    let releases: Vec<_> = group
        .jobs
        .iter()
        .map(|j| {
            (
                j.release.clone(),
                p.releases
                    .iter()
                    .find(|(n, _)| n == &j.release)
                    .map(|(_, v)| v.clone()),
            )
        })
        .collect();
    let mut g = serde_json::to_value(group).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut g {
        for k in ["instances", "azs", "update", "migrated_from", "name"] {
            map.remove(k);
        }
    }
    let addon_jobs: Vec<_> = p
        .addon_jobs
        .get(&group.name)
        .into_iter()
        .flatten()
        .map(|(job, release)| {
            let version = p
                .releases
                .iter()
                .find(|(n, _)| n == release)
                .map(|(_, v)| v);
            json!([job, release, version])
        })
        .collect();
    let spec = json!({
        "group": g,
        "addons": addon_jobs,
        "releases": releases,
        "stemcell": stemcell,
        "properties": p.manifest.properties,
        "tags": p.manifest.tags,
        "features": p.manifest.features,
    });
    let vm = json!({
        "vm_type": group.vm_type,
        "vm_resources": group.vm_resources,
        "vm_extensions": group.vm_extensions,
        "stemcell": stemcell,
        "env": group.env,
        "networks": group.networks.iter().map(|n| &n.name).collect::<Vec<_>>(),
    });
    (sha256_hex(&spec), sha256_hex(&vm))
}

fn new_instance(deployment: &str, group: &InstanceGroup, idx: i64, az: Option<String>) -> Instance {
    Instance {
        vm_type: group.vm_type.clone(),
        lifecycle: group.lifecycle.clone().unwrap_or_else(|| "service".into()),
        ..Instance::new(deployment, &group.name, idx, az)
    }
}

/// Plans every service instance group; returns the plans and the instances to delete.
async fn plan(
    d: &Shared,
    name: &str,
    p: &Prepared,
    opts: &DeployOptions,
) -> Result<(Vec<GroupPlan>, Vec<Instance>)> {
    // IP allocation is serialised across deployments: addresses planned by a deploy still
    // running elsewhere are reserved even before its instances are saved.
    let mut reservations = d.ip_reservations.lock().await;
    reservations.retain(|_, owner| owner != name);
    let existing = d.store.instances(name).await?;
    let mut used: HashSet<String> = d
        .store
        .all_instances()
        .await?
        .iter()
        .filter(|i| i.deployment != name)
        .flat_map(|i| i.ip_list())
        .chain(reservations.keys().cloned())
        .collect();
    let mut pool: HashMap<String, Vec<Instance>> = HashMap::new();
    for inst in existing {
        pool.entry(inst.instance_group.clone())
            .or_default()
            .push(inst);
    }
    let mut placements = Vec::new();
    let mut deleted = Vec::new();
    for group in p.manifest.instance_groups.iter().filter(|g| !g.is_errand()) {
        let mut mine = pool.remove(&group.name).unwrap_or_default();
        for mf in group.migrated_from.iter().flatten() {
            for mut inst in pool.remove(&mf.name).unwrap_or_default() {
                inst.instance_group = group.name.clone();
                if inst.az.is_none() {
                    inst.az = mf.az.clone();
                }
                mine.push(inst);
            }
        }
        // Merged groups may share indexes: renumber duplicates.
        mine.sort_by_key(|i| i.idx);
        let mut seen = HashSet::new();
        let mut next = mine.iter().map(|i| i.idx).max().unwrap_or(-1) + 1;
        for inst in &mut mine {
            if !seen.insert(inst.idx) {
                inst.idx = next;
                seen.insert(next);
                next += 1;
            }
        }
        let placed = placement::place(
            mine,
            usize::try_from(group.instances).unwrap_or(0),
            group.azs.as_deref().unwrap_or(&[]),
        );
        deleted.extend(placed.deleted);
        for inst in &placed.kept {
            used.extend(inst.ip_list());
        }
        placements.push((group, placed.kept, placed.new));
    }
    // Groups that left the manifest (or became errands) lose their instances.
    for (_, insts) in pool {
        deleted.extend(insts);
    }
    let mut plans = Vec::new();
    for (group, kept, new) in placements {
        let (spec_hash, vm_hash) = hashes(p, group);
        let disk = disk_size(group, &p.cloud);
        let stemcell = group
            .stemcell
            .as_ref()
            .and_then(|a| p.stemcells.get(a))
            .map(|(n, v)| format!("{n}/{v}"));
        let mut all: Vec<(Instance, bool)> = kept.into_iter().map(|i| (i, false)).collect();
        all.extend(
            new.into_iter()
                .map(|(idx, az)| (new_instance(name, group, idx, az), true)),
        );
        all.sort_by_key(|(i, _)| i.idx);
        let mut insts: Vec<Instance> = all.iter().map(|(i, _)| i.clone()).collect();
        ips::assign_ips(group, &p.cloud, &mut insts, &mut used)?;
        let jobs: Vec<&str> = group
            .jobs
            .iter()
            .map(|j| j.name.as_str())
            .chain(
                p.addon_jobs
                    .get(&group.name)
                    .into_iter()
                    .flatten()
                    .map(|(n, _)| n.as_str()),
            )
            .collect();
        let mut planned = Vec::new();
        for (pos, (old, is_new)) in all.into_iter().enumerate() {
            let Some(mut inst) = insts.get(pos).cloned() else {
                continue;
            };
            let recreate_requested = opts.recreate
                && opts
                    .recreate_vms_created_before
                    .is_none_or(|before| old.vm_created_at.is_some_and(|created| created < before));
            let fix_needed =
                opts.fix && old.vm_cid.is_some() && (old.unresponsive || !old.agent_alive);
            let new_disk = opts.recreate_persistent_disks && disk > 0 && old.disk_cid.is_some();
            let action = if is_new {
                Action::Create
            } else if (old.vm_cid.is_none() && old.state != "detached")
                || recreate_requested
                || fix_needed
                || old.vm_hash != vm_hash
                || old.ips != inst.ips
            {
                Action::Recreate
            } else if old.spec_hash != spec_hash
                || old.disk_size != disk
                || new_disk
                || old.bootstrap != (pos == 0)
            {
                Action::Update
            } else {
                Action::Keep
            };
            inst.bootstrap = pos == 0;
            inst.jobs = serde_json::to_string(&jobs).unwrap_or_else(|_| "[]".into());
            inst.vm_type = group.vm_type.clone();
            inst.stemcell = stemcell.clone();
            inst.lifecycle = "service".into();
            if action != Action::Keep {
                inst.spec_hash = spec_hash.clone();
                inst.vm_hash = vm_hash.clone();
            }
            planned.push(Planned {
                inst,
                action,
                disk,
                new_disk,
            });
        }
        for p in &planned {
            for ip in p.inst.ip_list() {
                reservations.insert(ip, name.to_string());
            }
        }
        plans.push(GroupPlan {
            group: group.clone(),
            update: effective_update(&p.manifest, group, opts),
            planned,
        });
    }
    Ok((plans, deleted))
}

/// Creates a VM for an instance (and registers its agent with the health monitor).
pub async fn create_vm(d: &Shared, ctx: &TaskCtx, inst: &mut Instance) {
    let vm = d
        .cpi
        .create_vm(ctx, &inst.label(), inst.vm_type.as_deref())
        .await;
    inst.vm_cid = Some(vm.cid);
    inst.agent_id = Some(vm.agent_id.clone());
    inst.vm_created_at = Some(vm.created_at);
    inst.agent_alive = true;
    inst.unresponsive = false;
    d.health.heartbeat(&vm.agent_id);
}

/// Deletes an instance's VM (the disk stays).
pub async fn delete_vm(d: &Shared, ctx: &TaskCtx, inst: &mut Instance) {
    if let Some(cid) = inst.vm_cid.take() {
        d.cpi.delete_vm(ctx, &cid).await;
    }
    if let Some(agent) = inst.agent_id.take() {
        d.health.forget(&agent);
    }
    inst.vm_created_at = None;
}

/// Deletes an instance entirely: VM, disk and row.
pub async fn delete_instance(d: &Shared, ctx: &TaskCtx, mut inst: Instance) -> Result<()> {
    delete_vm(d, ctx, &mut inst).await;
    if let Some(disk) = inst.disk_cid.take() {
        d.cpi.delete_disk(ctx, &disk).await;
    }
    d.store.delete_instance(&inst.id).await
}

async fn update_one(
    d: &Shared,
    ctx: &TaskCtx,
    stage: &Stage,
    planned: Planned,
    canary: bool,
) -> Result<()> {
    let Planned {
        mut inst,
        action,
        disk,
        new_disk,
    } = planned;
    let label = if canary {
        format!("{} (canary)", inst.label())
    } else {
        inst.label()
    };
    stage
        .step(&label, async {
            if action == Action::Recreate {
                delete_vm(d, ctx, &mut inst).await;
                if inst.state == "detached" {
                    inst.state = "started".into();
                }
                create_vm(d, ctx, &mut inst).await;
            }
            if inst.disk_size != disk || new_disk {
                let old = inst.disk_cid.take();
                if disk > 0 {
                    let cid = d.cpi.create_disk(ctx, disk, inst.vm_cid.as_deref()).await;
                    inst.disk_cid = Some(cid);
                }
                if let Some(old) = old {
                    ctx.debug(&format!(
                        "Migrating persistent disk of {} from {old} ({} MB) to {} MB",
                        inst.label(),
                        inst.disk_size,
                        disk
                    ));
                    d.cpi.delete_disk(ctx, &old).await;
                }
                inst.disk_size = disk;
            }
            if let Some(cid) = &inst.vm_cid {
                d.cpi.update_vm(ctx, cid).await;
            }
            d.store.save_instance(&inst).await
        })
        .await
}

async fn update_group(d: &Shared, ctx: &Arc<TaskCtx>, plan: GroupPlan) -> Result<()> {
    let mut changed: Vec<Planned> = Vec::new();
    for p in plan.planned {
        if p.action == Action::Keep {
            // Bootstrap flags and job lists may still change without an update.
            d.store.save_instance(&p.inst).await?;
        } else {
            changed.push(p);
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let azs: Vec<Option<String>> = match plan.group.azs.as_deref() {
        Some(list) if !list.is_empty() => list.iter().cloned().map(Some).collect(),
        _ => vec![None],
    };
    let az_pos = |az: &Option<String>| azs.iter().position(|a| a == az).unwrap_or(usize::MAX);
    changed.sort_by_key(|p| (az_pos(&p.inst.az), p.inst.idx));
    let size = u64::try_from(plan.group.instances).unwrap_or(0);
    let canaries =
        (resolve_count(plan.update.canaries.as_ref(), size, 1) as usize).min(changed.len());
    let max_in_flight =
        (resolve_count(plan.update.max_in_flight.as_ref(), size, 1) as usize).max(1);
    let stage = ctx.stage(
        "Updating instance",
        vec![plan.group.name.clone()],
        changed.len(),
    );
    ctx.debug(&format!(
        "Updating instance group {}: {} instance(s), {canaries} canaries, max_in_flight {max_in_flight}",
        plan.group.name,
        changed.len()
    ));
    let rest = changed.split_off(canaries);
    ctx.checkpoint()?;
    try_join_all(
        changed
            .into_iter()
            .map(|p| update_one(d, ctx, &stage, p, true)),
    )
    .await?;
    for az in &azs {
        let in_az: Vec<Planned> = rest.iter().filter(|p| &p.inst.az == az).cloned().collect();
        for chunk in in_az.chunks(max_in_flight) {
            ctx.checkpoint()?;
            try_join_all(
                chunk
                    .iter()
                    .cloned()
                    .map(|p| update_one(d, ctx, &stage, p, false)),
            )
            .await?;
        }
    }
    Ok(())
}

/// An event row for the `events` table, attributed to the task's user (or the health monitor).
pub fn event(
    ctx: Option<&TaskCtx>,
    action: &str,
    object_type: &str,
    object_name: &str,
) -> EventRow {
    EventRow {
        user: ctx
            .map(|c| c.user.clone())
            .unwrap_or_else(|| "health_monitor".into()),
        action: action.into(),
        object_type: object_type.into(),
        object_name: Some(object_name.into()),
        task: ctx.map(|c| c.id.to_string()),
        context: "{}".into(),
        ..EventRow::default()
    }
}

/// The deploy task: `POST /deployments`.
pub async fn deploy(
    d: Shared,
    ctx: Arc<TaskCtx>,
    yaml: String,
    opts: DeployOptions,
) -> Result<String> {
    let raw = parse_yaml(&yaml)?;
    let name = manifest_name(&raw)?;
    let existed = d.store.deployment(&name).await?.is_some();
    let prep_stage = ctx.stage("Preparing deployment", Vec::new(), 1);
    let prepared = prep_stage
        .step(
            "Preparing deployment",
            prepare(&d, &name, &raw, &opts.context),
        )
        .await;
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            let event = EventRow {
                deployment: Some(name.clone()),
                error: Some(e.to_string()),
                ..event(
                    Some(&ctx),
                    if existed { "update" } else { "create" },
                    "deployment",
                    &name,
                )
            };
            d.store.add_event(&event).await?;
            return Err(e);
        }
    };
    if !existed {
        d.store.ensure_deployment(&name, &yaml).await?;
    }
    let (plans, deleted) = plan(&d, &name, &prepared, &opts).await?;
    if opts.dry_run {
        return Ok(format!("/deployments/{name}"));
    }
    if let Some(skip) = &opts.skip_drain {
        ctx.debug(&format!(
            "Skipping drain for '{skip}' (the simulated jobs have no drain scripts)"
        ));
    }
    ctx.checkpoint()?;
    if !deleted.is_empty() {
        let stage = ctx.stage("Deleting unneeded instances", Vec::new(), deleted.len());
        for inst in deleted {
            ctx.checkpoint()?;
            let label = inst.label();
            stage.step(&label, delete_instance(&d, &ctx, inst)).await?;
        }
    }
    let creating: Vec<usize> = plans
        .iter()
        .flat_map(|g| g.planned.iter())
        .enumerate()
        .filter(|(_, p)| p.action == Action::Create)
        .map(|(n, _)| n)
        .collect();
    let mut plans = plans;
    ctx.checkpoint()?;
    if !creating.is_empty() {
        let stage = ctx.stage("Creating missing vms", Vec::new(), creating.len());
        let mut targets: Vec<&mut Planned> = plans
            .iter_mut()
            .flat_map(|g| g.planned.iter_mut())
            .filter(|p| p.action == Action::Create)
            .collect();
        try_join_all(targets.iter_mut().map(|p| {
            let stage = &stage;
            let d = &d;
            let ctx = &ctx;
            async move {
                let label = p.inst.label();
                stage
                    .step(&label, async {
                        create_vm(d, ctx, &mut p.inst).await;
                        Ok(())
                    })
                    .await
            }
        }))
        .await?;
    }
    // A fault injected for this deployment (`faults.rs`) fails it here, as a real deploy
    // fails while updating its instances: the VMs exist, the manifest is not saved.
    if let Some(message) = d.deploy_faults.take(&name, crate::faults::Faulted::Deploy) {
        let error = Error::Invalid(format!(
            "{message} (fault injected into deployment '{name}')"
        ));
        let failed = EventRow {
            deployment: Some(name.clone()),
            error: Some(error.to_string()),
            ..event(
                Some(&ctx),
                if existed { "update" } else { "create" },
                "deployment",
                &name,
            )
        };
        d.store.add_event(&failed).await?;
        return Err(error);
    }
    // Serial groups run one after another; consecutive `serial: false` groups run together.
    let mut batches: Vec<(bool, Vec<GroupPlan>)> = Vec::new();
    for plan in plans {
        let serial = plan.update.serial.unwrap_or(true);
        match batches.last_mut() {
            Some((false, batch)) if !serial => batch.push(plan),
            _ => batches.push((serial, vec![plan])),
        }
    }
    for (_, batch) in batches {
        ctx.checkpoint()?;
        try_join_all(batch.into_iter().map(|plan| update_group(&d, &ctx, plan))).await?;
    }
    let releases: Vec<Value> = prepared
        .releases
        .iter()
        .map(|(n, v)| json!({"name": n, "version": v}))
        .collect();
    let mut stemcells: Vec<Value> = prepared
        .stemcells
        .values()
        .map(|(n, v)| json!({"name": n, "version": v}))
        .collect();
    stemcells.dedup();
    d.store
        .save_deployment(
            &name,
            &yaml,
            &Value::Array(releases),
            &Value::Array(stemcells),
            prepared.cloud_config_id,
        )
        .await?;
    let event = EventRow {
        deployment: Some(name.clone()),
        ..event(
            Some(&ctx),
            if existed { "update" } else { "create" },
            "deployment",
            &name,
        )
    };
    d.store.add_event(&event).await?;
    Ok(format!("/deployments/{name}"))
}

/// The delete-deployment task.
pub async fn delete_deployment(d: Shared, ctx: Arc<TaskCtx>, name: String) -> Result<String> {
    // A fault injected for this deletion (`faults.rs`): nothing is deleted.
    if let Some(message) = d.deploy_faults.take(&name, crate::faults::Faulted::Delete) {
        let error = Error::Invalid(format!(
            "{message} (fault injected into deleting deployment '{name}')"
        ));
        let failed = EventRow {
            deployment: Some(name.clone()),
            error: Some(error.to_string()),
            ..event(Some(&ctx), "delete", "deployment", &name)
        };
        d.store.add_event(&failed).await?;
        return Err(error);
    }
    let instances = d.store.instances(&name).await?;
    if !instances.is_empty() {
        let stage = ctx.stage("Deleting instances", Vec::new(), instances.len());
        for inst in instances {
            ctx.checkpoint()?;
            let label = inst.label();
            stage.step(&label, delete_instance(&d, &ctx, inst)).await?;
        }
    }
    d.ip_reservations
        .lock()
        .await
        .retain(|_, owner| owner != &name);
    let stage = ctx.stage("Removing deployment", Vec::new(), 1);
    stage
        .step("Destroying deployment", d.store.delete_deployment(&name))
        .await?;
    let event = EventRow {
        deployment: Some(name.clone()),
        ..event(Some(&ctx), "delete", "deployment", &name)
    };
    d.store.add_event(&event).await?;
    Ok(format!("/deployments/{name}"))
}

/// Query options of `PUT /deployments/:name/jobs/...` (the flags of `bosh recreate`, `stop`,
/// `start`, `restart`). Instances change one after another, which stays within any
/// `canaries` / `max_in_flight`; the simulated jobs have no drain scripts (`skip_drain`), and
/// the simulated agents always answer, so `fix` and `force` add nothing.
#[derive(Debug, Clone, Default)]
pub struct StateOptions {
    /// Plan only: the task names what would change and changes nothing.
    pub dry_run: bool,
    /// For `recreate`: only VMs created before this time.
    pub recreate_vms_created_before: Option<i64>,
}

/// `PUT /deployments/:name/jobs/:group[/:id]?state=...`: recreate, stop, start, restart or
/// detach instances, one after another, stopping at a checkpoint between instances when the
/// task is cancelled.
pub async fn change_state(
    d: Shared,
    ctx: Arc<TaskCtx>,
    name: String,
    group: Option<String>,
    id: Option<String>,
    state: String,
    opts: StateOptions,
) -> Result<String> {
    let targets: Vec<Instance> = d
        .store
        .instances(&name)
        .await?
        .into_iter()
        .filter(|i| i.lifecycle == "service")
        .filter(|i| group.as_deref().is_none_or(|g| g == i.instance_group))
        .filter(|i| {
            id.as_deref()
                .is_none_or(|id| id == i.id || id == i.idx.to_string())
        })
        .collect();
    if targets.is_empty() {
        return Err(Error::NotFound(format!(
            "No instances match '{}' in deployment '{name}'",
            [
                group.clone().unwrap_or_else(|| "*".into()),
                id.clone().unwrap_or_default()
            ]
            .join("/")
            .trim_end_matches('/')
        )));
    }
    // `--vms-created-before` narrows a recreate; none that old is nothing to do, not an error.
    let targets: Vec<Instance> = targets
        .into_iter()
        .filter(|i| {
            state != "recreate"
                || opts
                    .recreate_vms_created_before
                    .is_none_or(|before| i.vm_created_at.is_some_and(|created| created < before))
        })
        .collect();
    if opts.dry_run {
        for inst in &targets {
            ctx.debug(&format!("Dry run: would {state} {}", inst.label()));
        }
        return Ok(format!("/deployments/{name}"));
    }
    let stage_name = "Updating instance";
    let mut by_group: Vec<(String, Vec<Instance>)> = Vec::new();
    for inst in targets {
        match by_group.iter_mut().find(|(g, _)| *g == inst.instance_group) {
            Some((_, list)) => list.push(inst),
            None => by_group.push((inst.instance_group.clone(), vec![inst])),
        }
    }
    for (group_name, insts) in by_group {
        let stage = ctx.stage(stage_name, vec![group_name], insts.len());
        for mut inst in insts {
            ctx.checkpoint()?;
            let label = inst.label();
            let state = state.clone();
            stage
                .step(&label, async {
                    match state.as_str() {
                        "recreate" => {
                            delete_vm(&d, &ctx, &mut inst).await;
                            create_vm(&d, &ctx, &mut inst).await;
                            inst.state = "started".into();
                        }
                        "stopped" => {
                            if let Some(cid) = &inst.vm_cid {
                                d.cpi.update_vm(&ctx, cid).await;
                            }
                            inst.state = "stopped".into();
                        }
                        "detached" => {
                            delete_vm(&d, &ctx, &mut inst).await;
                            inst.state = "detached".into();
                        }
                        "started" | "restart" => {
                            if inst.vm_cid.is_none() {
                                create_vm(&d, &ctx, &mut inst).await;
                            } else if let Some(cid) = &inst.vm_cid {
                                d.cpi.update_vm(&ctx, cid).await;
                            }
                            inst.state = "started".into();
                        }
                        other => {
                            return Err(Error::Invalid(format!(
                                "Unknown state '{other}'; use started, stopped, detached, restart or recreate"
                            )))
                        }
                    }
                    d.store.save_instance(&inst).await
                })
                .await?;
        }
    }
    Ok(format!("/deployments/{name}"))
}

/// The process state `bosh instances` shows.
pub fn process_state(inst: &Instance) -> &'static str {
    if inst.vm_cid.is_none() {
        ""
    } else if inst.unresponsive {
        "unresponsive agent"
    } else if inst.state == "stopped" {
        "stopped"
    } else {
        "running"
    }
}

/// The agent's vitals as the Director reports them: numbers as strings (the CLI's types),
/// except `uptime.secs`; a `persistent` disk entry when the instance has one. Empty without a
/// responding agent.
fn vitals(inst: &Instance) -> Value {
    if inst.vm_cid.is_none() || inst.unresponsive {
        return json!({});
    }
    let uptime = inst
        .vm_created_at
        .map(|t| (crate::store::unix_now() - t).max(0))
        .unwrap_or(0);
    let mut disk = json!({
        "system": {"percent": "30", "inode_percent": "12"},
        "ephemeral": {"percent": "5", "inode_percent": "1"},
    });
    if inst.disk_cid.is_some() {
        disk["persistent"] = json!({"percent": "2", "inode_percent": "0"});
    }
    json!({
        "cpu": {"sys": "0.5", "user": "1.0", "wait": "0.0"},
        "disk": disk,
        "load": ["0.10", "0.05", "0.01"],
        "mem": {"kb": "512000", "percent": "25"},
        "swap": {"kb": "0", "percent": "0"},
        "uptime": {"secs": uptime},
    })
}

/// One line of the `instances?format=full` / `vms?format=full` task result.
pub fn instance_details(inst: &Instance) -> Value {
    let state = process_state(inst);
    let processes: Vec<Value> = inst
        .job_list()
        .iter()
        .map(|j| {
            json!({
                "name": j,
                "state": if state == "running" { "running" } else if state.is_empty() { "unknown" } else { state },
                "uptime": {"secs": inst.vm_created_at.map(|t| (crate::store::unix_now() - t).max(0)).unwrap_or(0)},
                "mem": {"kb": 1024, "percent": 0.1},
                "cpu": {"total": 0.5},
            })
        })
        .collect();
    json!({
        "agent_id": inst.agent_id,
        "job_name": inst.instance_group,
        "id": inst.id,
        "index": inst.idx,
        "job_state": state,
        "process_state": state,
        "state": inst.state,
        "bootstrap": inst.bootstrap,
        "ips": inst.ip_list(),
        "dns": [],
        "az": inst.az,
        "vm_cid": inst.vm_cid,
        "vm_type": inst.vm_type,
        "disk_cid": inst.disk_cid,
        "disk_cids": inst.disk_cid.iter().collect::<Vec<_>>(),
        "active": inst.vm_cid.is_some(),
        "expects_vm": inst.lifecycle == "service" && inst.state != "detached",
        "vm_created_at": inst.vm_created_at.map(crate::store::rfc3339),
        "processes": processes,
        "vitals": vitals(inst),
        "resurrection_paused": inst.resurrection_paused,
        "ignore": inst.ignore_instance,
        "cloud_properties": serde_json::from_str::<Value>(&inst.cloud_properties).unwrap_or(json!({})),
        "stemcell": inst.stemcell.as_deref().and_then(|s| s.split_once('/')).map(|(n, v)| json!({"name": n, "version": v, "api_version": 3})),
    })
}

/// The `instances?format=full` task: one JSON line per instance in the result.
pub async fn instance_report(
    d: Shared,
    ctx: Arc<TaskCtx>,
    name: String,
    vms_only: bool,
) -> Result<String> {
    let instances = d.store.instances(&name).await?;
    let stage = ctx.stage("Retrieving vm stats", Vec::new(), 1);
    stage
        .step("Retrieving vm stats", async {
            for inst in &instances {
                if vms_only && inst.vm_cid.is_none() {
                    continue;
                }
                ctx.result_line(&instance_details(inst));
            }
            Ok(())
        })
        .await?;
    Ok(String::new())
}
