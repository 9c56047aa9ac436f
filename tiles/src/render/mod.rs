//! The tile engine's last step: a staged product rendered into the BOSH deployment manifest
//! (and runtime configs) Ops Manager would send to the Director (tile-metadata §6–§8,
//! bosh-cfcr-pks-odb §1).
//!
//! [`render_product`] takes the metadata, the staged values and a [`RenderContext`] and builds:
//! * `name` — the product guid (`<name>-<20 hex>`);
//! * `releases` — the metadata's releases (name, exact version; `url`/`sha1` when given);
//! * `stemcells` — alias `default` for `stemcell_criteria` (the version assigned in the context,
//!   else the criteria's), plus one alias per other OS a job's `use_stemcell` names;
//! * `update` — canaries, `max_in_flight`, watch times from the Director defaults, overridden by
//!   the metadata's `update` block; `serial` from the metadata's `serial` (default true);
//! * `instance_groups` — one per job type with at least one instance: its templates become jobs
//!   with their rendered `manifest` as `properties` and rendered `consumes`/`provides`; the
//!   job type's own `manifest` becomes the group's `properties`; AZs (`single_az_only` → the
//!   singleton AZ), the assigned network, VM type and persistent disk type (see [`plan`]), a
//!   per-group `update` for the job's `max_in_flight`/`canaries`, `lifecycle: errand` for
//!   errand jobs, and `vm_extensions`/`env`/`migrated_from` when the resource config has them.
//!   With one network per group no `default: [dns, gateway]` is needed, so none is written;
//! * `variables` — the metadata's `variables`, then the placeholders described below.
//!
//! Runtime configs are rendered too (named `<guid>-<name>`; one that renders to null is
//! skipped), and so is the list of errands to run with their rules.
//!
//! **Generated credentials without a value.** Credentials Ops Manager generates
//! (`configurable: false` secrets, credentials and uuids) are normally filled once by
//! `credentials::fill_generated` before a deploy. When a render meets one that has no value yet
//! (an offline render, a preview in the browser) it never writes an empty string: it writes a
//! BOSH variable and declares it in `variables`, so the Director (CredHub) generates it at deploy
//! time. The variable is named after the reference with non-name characters as `_`
//! (`.web_server.generated_secret` → `web_server_generated_secret`, collection fields
//! `properties_coll_GUID_field`), relative to the deployment, so it lives at
//! `/<director>/<guid>/<name>` in CredHub. Types: `secret`/`uuid` → `password` (`((n))`),
//! `simple_credentials`/`salted_credentials` → `user` (`((n.username))`, `((n.password))`;
//! the salt is another `password` variable `n_salt`), `rsa_cert_credentials` → `certificate`
//! signed by the root CA variable of the context (`((n.certificate))`, `((n.private_key))`,
//! common name and alternative names from the blueprint's `default.domains`),
//! `rsa_pkey_credentials` → `rsa` (`((n.private_key))`, `((n.public_key))`). `value_present?`
//! is true for them (they will exist at deploy time). Accessors with no BOSH equivalent
//! (`sha512_hashed_password`, `public_key_openssh`, `public_key_fingerprint`, a certificate's
//! `public_key_pem`) fail with an error asking for the credentials to be generated first.
//! `$self.uaa_client_secret` without a value in the context is the variable
//! `uaa_client_secret` likewise. Another product's missing credentials are an error.
//!
//! **Inactive selector options** have empty named manifests; a list element that renders one
//! to null is dropped (see [`resolver::render_tree`]), which is how only the active PKS plans
//! reach the broker's `service_catalog.plans`.
//!
//! The cloud config itself needs no rendering step here: it is
//! [`DirectorConfig::cloud_config`](crate::cloud_config::DirectorConfig::cloud_config).
//! [`validate_rendered`] checks a render against it with the Director's rules.
//!
//! Errors name the expression and the YAML path (`job_types[web].templates[web].manifest.x`)
//! or the field (`resource-config.JOB.instances`). Rendering never panics.

pub mod context;
mod keys;
pub mod plan;
pub mod resolver;

use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{json, Map, Value};

pub use context::{
    is_product_guid, product_guid, DirectorContext, NetworkAssignment, OfflineOptions,
    OpsManagerContext, OtherProduct, RenderContext, SelfContext, ROOT_CA_VARIABLE,
};
pub use plan::JobPlan;
pub use resolver::{placeholder_name, Placeholder, ProductResolver, ProductScope, RenderState};

use crate::cloud_config::CloudConfig;
use crate::manifest::{Manifest, RuntimeConfig};
use crate::manifest_check::{self, Finding};
use crate::metadata::{ErrandTemplate, JobType, ProductTemplate};
use crate::properties::StagedValues;
use crate::{Error, Result};

/// A rendered runtime config.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedRuntimeConfig {
    /// `<guid>-<runtime config name>`, the name it is uploaded under.
    pub name: String,
    pub config: Value,
}

/// When an errand runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrandPhase {
    PostDeploy,
    PreDelete,
}

/// Whether an errand runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrandRule {
    On,
    Off,
    /// Only when the product changed since the last deploy.
    WhenChanged,
}

/// One errand of the product and the rule for running it.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrandRun {
    pub name: String,
    pub phase: ErrandPhase,
    pub colocated: bool,
    /// Colocated errands: the `job` or `job/first` instances it runs on (empty = all).
    pub instances: Vec<String>,
    pub rule: ErrandRule,
}

/// The result of [`render_product`].
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedProduct {
    /// The BOSH deployment manifest.
    pub manifest: Value,
    pub runtime_configs: Vec<RenderedRuntimeConfig>,
    pub errands: Vec<ErrandRun>,
    /// BOSH variables declared for generated credentials that had no value.
    pub placeholders: Vec<String>,
}

impl RenderedProduct {
    /// The manifest as YAML (what is POSTed to the Director).
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_yaml_string(&self.manifest)
    }

    /// Whether there is a deployment to make: a tile without job types (NSX-T's, which only
    /// adds a runtime config to every deployment) has no instance group, and Ops Manager
    /// deploys no manifest for it, only its runtime configs.
    pub fn deploys(&self) -> bool {
        manifest_deploys(&self.manifest)
    }
}

/// Whether a deployment manifest has an instance group, so that there is a deployment to make
/// (or to ask the Director about): see [`RenderedProduct::deploys`].
pub fn manifest_deploys(manifest: &Value) -> bool {
    manifest
        .get("instance_groups")
        .and_then(Value::as_array)
        .is_some_and(|groups| !groups.is_empty())
}

/// Checks a render with the Director's rules against `cloud`: the manifest
/// ([`manifest_check::check_value`]) and each runtime config.
pub fn validate_rendered(rendered: &RenderedProduct, cloud: &CloudConfig) -> Vec<Finding> {
    // A manifest that is never deployed (no instance groups) has no rules to keep.
    let mut out = if rendered.deploys() {
        manifest_check::check_value(&rendered.manifest, cloud)
    } else {
        Vec::new()
    };
    for rc in &rendered.runtime_configs {
        let at = format!("runtime_configs[{}]", rc.name);
        match RuntimeConfig::from_value(&rc.config) {
            Ok(parsed) => out.extend(
                parsed
                    .problems()
                    .into_iter()
                    .map(|(field, message)| Finding::error(format!("{at}.{field}"), message)),
            ),
            Err(e) => out.push(Finding::error(at, e.to_string())),
        }
    }
    out
}

/// Renders YAML text with expressions: absent or blank text is null.
fn render_text(text: Option<&str>, r: &ProductResolver<'_>, at: &str) -> Result<Value> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Value::Null);
    };
    let doc = r.template().parsed_yaml(text).map_err(|e| match e {
        Error::Yaml { at: inner, message } => Error::Yaml {
            at: format!("{at} {inner}"),
            message,
        },
        other => other,
    })?;
    resolver::render_tree(&doc, r, at)
}

/// A rendered value that must be a map (or nothing).
fn as_map(value: Value, at: &str) -> Result<Option<Map<String, Value>>> {
    match value {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        other => Err(Error::Render(format!(
            "{at} must render to a map, not {}",
            crate::expr::to_text(&other)
        ))),
    }
}

fn errand_rule(setting: Option<&Value>, default_on: bool) -> ErrandRule {
    match setting {
        Some(Value::Bool(true)) => ErrandRule::On,
        Some(Value::Bool(false)) => ErrandRule::Off,
        Some(Value::String(s)) if s == "when-changed" => ErrandRule::WhenChanged,
        Some(Value::String(s)) if s == "true" || s == "on" => ErrandRule::On,
        Some(Value::String(s)) if s == "false" || s == "off" => ErrandRule::Off,
        _ if default_on => ErrandRule::On,
        _ => ErrandRule::Off,
    }
}

fn errands(template: &ProductTemplate, ctx: &RenderContext) -> Vec<ErrandRun> {
    let mut out = Vec::new();
    let list = |errands: &[ErrandTemplate], phase: ErrandPhase, out: &mut Vec<ErrandRun>| {
        for e in errands {
            let job_default = template.job_type(&e.name).and_then(|j| match phase {
                ErrandPhase::PostDeploy => j.run_post_deploy_errand_default,
                ErrandPhase::PreDelete => j.run_pre_delete_errand_default,
            });
            let default_on = e.run_default.or(job_default).unwrap_or(true);
            let setting = ctx.errands.get(&e.name).and_then(|c| match phase {
                ErrandPhase::PostDeploy => c.post_deploy.as_ref(),
                ErrandPhase::PreDelete => c.pre_delete.as_ref(),
            });
            out.push(ErrandRun {
                name: e.name.clone(),
                phase,
                colocated: e.colocated,
                instances: e.instances.clone(),
                rule: errand_rule(setting, default_on),
            });
        }
    };
    list(
        &template.post_deploy_errands,
        ErrandPhase::PostDeploy,
        &mut out,
    );
    list(
        &template.pre_delete_errands,
        ErrandPhase::PreDelete,
        &mut out,
    );
    out
}

/// The stemcell alias of a job (`default`, or the OS its `use_stemcell` names).
fn stemcell_alias(template: &ProductTemplate, job: &JobType) -> String {
    match (&job.use_stemcell, &template.stemcell_criteria) {
        (Some(os), Some(c)) if *os != c.os => os.clone(),
        (Some(os), None) => os.clone(),
        _ => "default".to_string(),
    }
}

fn count_value(v: &Value) -> Value {
    match v {
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_or_else(|_| Value::String(s.clone()), Value::from),
        other => other.clone(),
    }
}

struct RenderedJob {
    index: usize,
    jobs: Vec<Value>,
    properties: Option<Map<String, Value>>,
}

/// Renders a staged product into a BOSH manifest, its runtime configs and errand rules (see the
/// module documentation).
pub fn render_product(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &RenderContext,
) -> Result<RenderedProduct> {
    let plans = Rc::new(plan::plan_jobs(template, staged, ctx, &ctx.network)?);
    let state = RenderState::default();
    let scope = ProductScope {
        template,
        staged,
        guid: &ctx.guid,
        network: &ctx.network,
        plans: plans.clone(),
        is_self: true,
    };
    let base = ProductResolver::new(ctx, scope, &state);

    // Render every job's text first: a job may read another job's IPs, which decides whether
    // that job gets static IPs.
    let mut rendered_jobs = Vec::new();
    for (index, (job, plan)) in template.job_types.iter().zip(plans.iter()).enumerate() {
        if plan.instances <= 0 {
            continue;
        }
        let r = base.in_job(&job.name);
        let jat = format!("job_types[{}]", job.name);
        let mut jobs = Vec::with_capacity(job.templates.len());
        for t in &job.templates {
            let at = format!("{jat}.templates[{}]", t.name);
            let mut entry = Map::new();
            entry.insert("name".into(), Value::String(t.name.clone()));
            entry.insert("release".into(), Value::String(t.release.clone()));
            for (key, text) in [
                ("properties", &t.manifest),
                ("consumes", &t.consumes),
                ("provides", &t.provides),
            ] {
                let field = if key == "properties" { "manifest" } else { key };
                let fat = format!("{at}.{field}");
                if let Some(m) = as_map(render_text(text.as_deref(), &r, &fat)?, &fat)? {
                    entry.insert(key.into(), Value::Object(m));
                }
            }
            jobs.push(Value::Object(entry));
        }
        let mat = format!("{jat}.manifest");
        let properties = as_map(render_text(job.manifest.as_deref(), &r, &mat)?, &mat)?;
        rendered_jobs.push(RenderedJob {
            index,
            jobs,
            properties,
        });
    }

    let mut runtime_configs = Vec::new();
    for rc in &template.runtime_configs {
        let at = format!("runtime_configs[{}].runtime_config", rc.name);
        let config = render_text(Some(&rc.runtime_config), &base, &at)?;
        if !config.is_null() {
            runtime_configs.push(RenderedRuntimeConfig {
                name: format!("{}-{}", ctx.guid, rc.name),
                config,
            });
        }
    }

    let ips_read = state.ips_read.borrow().clone();
    let mut instance_groups = Vec::new();
    let mut aliases: BTreeMap<String, ()> = BTreeMap::new();
    for rj in rendered_jobs {
        let (Some(job), Some(plan)) = (template.job_types.get(rj.index), plans.get(rj.index))
        else {
            continue;
        };
        let alias = stemcell_alias(template, job);
        aliases.insert(alias.clone(), ());
        let mut network = Map::new();
        network.insert("name".into(), Value::String(plan.network.clone()));
        let wants_static = plan.operator_static_ips || ips_read.contains(&plan.name);
        if wants_static
            && plan.ips_are_static
            && !plan.ips.is_empty()
            && i64::try_from(plan.ips.len()).ok() == Some(plan.instances)
        {
            network.insert(
                "static_ips".into(),
                Value::Array(plan.ips.iter().cloned().map(Value::String).collect()),
            );
        }
        let mut ig = Map::new();
        ig.insert("name".into(), Value::String(job.name.clone()));
        if job.errand {
            ig.insert("lifecycle".into(), Value::String("errand".into()));
        }
        ig.insert("azs".into(), json!(plan.azs));
        ig.insert("instances".into(), Value::from(plan.instances));
        ig.insert("jobs".into(), Value::Array(rj.jobs));
        if let Some(vm) = &plan.vm_type {
            ig.insert("vm_type".into(), Value::String(vm.clone()));
        }
        let extra = staged.resource(&job.name).map(|r| &r.extra);
        if let Some(ext) = extra.and_then(|e| e.get("additional_vm_extensions")) {
            ig.insert("vm_extensions".into(), ext.clone());
        }
        ig.insert("stemcell".into(), Value::String(alias));
        if let Some(d) = &plan.disk_type {
            ig.insert("persistent_disk_type".into(), Value::String(d.clone()));
        }
        ig.insert("networks".into(), json!([network]));
        let mut update = Map::new();
        if let Some(c) = plan.canaries {
            update.insert("canaries".into(), Value::from(c));
        }
        if let Some(m) = &plan.max_in_flight {
            update.insert("max_in_flight".into(), count_value(m));
        }
        if let Some(s) = job.serial {
            update.insert("serial".into(), Value::Bool(s));
        }
        if !update.is_empty() {
            ig.insert("update".into(), Value::Object(update));
        }
        for key in ["migrated_from", "env"] {
            if let Some(v) = extra.and_then(|e| e.get(key)) {
                ig.insert(key.into(), v.clone());
            }
        }
        if let Some(p) = rj.properties {
            ig.insert("properties".into(), Value::Object(p));
        }
        instance_groups.push(Value::Object(ig));
    }

    let mut stemcells = Vec::new();
    if let Some(c) = &template.stemcell_criteria {
        let version = ctx
            .stemcells
            .get(&c.os)
            .cloned()
            .unwrap_or(c.version.clone());
        stemcells.push(json!({"alias": "default", "os": c.os, "version": version}));
    }
    for alias in aliases.keys().filter(|a| *a != "default") {
        let version = ctx.stemcells.get(alias).cloned().or_else(|| {
            template
                .additional_stemcells_criteria
                .iter()
                .find(|c| &c.os == alias)
                .map(|c| c.version.clone())
        });
        let Some(version) = version else {
            return Err(Error::Render(format!(
                "a job uses stemcell '{alias}', which neither stemcell_criteria nor additional_stemcells_criteria name"
            )));
        };
        stemcells.push(json!({"alias": alias, "os": alias, "version": version}));
    }
    if stemcells.is_empty() && !instance_groups.is_empty() {
        return Err(Error::Render(
            "the metadata has no stemcell_criteria, so its jobs have no stemcell".into(),
        ));
    }

    let mut update = json!({
        "canaries": ctx.director.canaries,
        "max_in_flight": count_value(&ctx.director.max_in_flight),
        "canary_watch_time": ctx.director.canary_watch_time,
        "update_watch_time": ctx.director.update_watch_time,
        "serial": template.serial.unwrap_or(true),
    });
    if let (Some(Value::Object(over)), Value::Object(base)) = (&template.update, &mut update) {
        for (k, v) in over {
            base.insert(k.clone(), v.clone());
        }
    }

    let releases: Vec<Value> = template
        .releases
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(r.name.clone()));
            m.insert("version".into(), Value::String(r.version.clone()));
            if let Some(url) = &r.url {
                m.insert("url".into(), Value::String(url.clone()));
                if let Some(sha1) = &r.sha1 {
                    m.insert("sha1".into(), Value::String(sha1.clone()));
                }
            }
            Value::Object(m)
        })
        .collect();

    let placeholders = state.placeholders.borrow().clone();
    let mut variables: Vec<Value> = template
        .variables
        .iter()
        .map(|v| {
            let mut m = Map::new();
            m.insert("name".into(), Value::String(v.name.clone()));
            m.insert("type".into(), Value::String(v.variable_type.clone()));
            if let Some(o) = v.options.as_ref().filter(|o| !o.is_null()) {
                m.insert("options".into(), o.clone());
            }
            Value::Object(m)
        })
        .collect();
    for p in &placeholders {
        if template.variables.iter().any(|v| v.name == p.name) {
            continue;
        }
        let mut m = Map::new();
        m.insert("name".into(), Value::String(p.name.clone()));
        m.insert("type".into(), Value::String(p.variable_type.clone()));
        if let Some(o) = &p.options {
            m.insert("options".into(), Value::Object(o.clone()));
        }
        variables.push(Value::Object(m));
    }

    let mut manifest = Map::new();
    manifest.insert("name".into(), Value::String(ctx.guid.clone()));
    manifest.insert("releases".into(), Value::Array(releases));
    manifest.insert("stemcells".into(), Value::Array(stemcells));
    manifest.insert("update".into(), update);
    manifest.insert("instance_groups".into(), Value::Array(instance_groups));
    if !variables.is_empty() {
        manifest.insert("variables".into(), Value::Array(variables));
    }
    // Through the typed model, for BOSH's key order and a shape check.
    let manifest = Manifest::from_value(&Value::Object(manifest))?.to_value()?;

    Ok(RenderedProduct {
        manifest,
        runtime_configs,
        errands: errands(template, ctx),
        placeholders: placeholders.into_iter().map(|p| p.name).collect(),
    })
}

#[cfg(test)]
mod tests;
