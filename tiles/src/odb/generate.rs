//! `generate-manifest`: a plan, the request's parameters and the previous manifest in, the
//! cluster's BOSH manifest out.
//!
//! The manifest's shape lives in a tera template beside the tile (tile authors change it without
//! Rust); this module decides the values: it checks the inputs, resolves the cluster parameters,
//! renders, and checks the result's structure before anyone deploys it.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use super::check::check_manifest;
use super::model::{
    GenerateManifestInput, GenerateManifestOutput, InstanceGroup, Plan, ServiceDeployment,
};
use super::params::{self, Carried};
use super::settings;
use crate::{Error, Result};

/// The name the template is registered under (also what tera's messages call it).
const TEMPLATE_NAME: &str = "cluster-manifest.yml";
/// The alias the manifest's stemcell gets; instance groups refer to it.
const STEMCELL_ALIAS: &str = "default";

/// Generates the cluster manifest with the bundled PKS template.
pub fn generate_manifest(input: &GenerateManifestInput) -> Result<GenerateManifestOutput> {
    generate_manifest_with(crate::products::PKS_CLUSTER_MANIFEST_TEMPLATE, input)
}

/// Generates the cluster manifest with a given template text (a tile author's edited copy).
///
/// The bundled template (the same text, however it is passed) is compiled once per process and
/// reused: parsing it is most of the cost of a render. Any other text is compiled per call, so
/// an edited template takes effect at once.
pub fn generate_manifest_with(
    template: &str,
    input: &GenerateManifestInput,
) -> Result<GenerateManifestOutput> {
    let sd = &input.service_deployment;
    check_service_deployment(sd)?;
    let plan = &input.plan;

    let master = plan_group(plan, "master")?;
    let worker = plan_group(plan, "worker")?;
    if ![1, 3, 5].contains(&master.instances) {
        return Err(invalid(
            "master_instances",
            format!(
                "a cluster has 1, 3 or 5 master/etcd nodes (etcd needs a quorum), not {}",
                master.instances
            ),
        ));
    }
    // The add-ons errand runs on the plan's errand VM; a plan without an `apply-addons` group
    // runs it on a worker-sized VM.
    let errand = match plan.instance_group("apply-addons") {
        Some(g) => checked_group(g)?.clone(),
        None => InstanceGroup {
            name: "apply-addons".into(),
            instances: 1,
            persistent_disk_type: None,
            lifecycle: Some("errand".into()),
            ..worker.clone()
        },
    };

    let previous = match input.previous_manifest.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(parse_yaml(text, "previous_manifest")?),
    };
    let carried = previous
        .as_ref()
        .map(Carried::from_manifest)
        .unwrap_or_default();
    let plan_changed = input.previous_plan.as_ref().is_some_and(|p| p != plan);
    let cluster = params::resolve(
        &input.request_parameters,
        &carried,
        plan,
        worker.instances,
        plan_changed,
    )?;

    let mut worker_ctx = group_context(worker);
    worker_ctx["instances"] = Value::from(cluster.worker_instances);
    let stemcell = sd.stemcells.first().ok_or_else(|| {
        invalid(
            "service_deployment.stemcells",
            "at least one stemcell is needed".into(),
        )
    })?;

    let k8s = settings::k8s_context(&plan.properties)?;
    let context = json!({
        "deployment_name": sd.deployment_name,
        "releases": sd.releases.iter().map(|r| json!({"name": r.name, "version": r.version})).collect::<Vec<_>>(),
        "stemcell": {"alias": STEMCELL_ALIAS, "os": stemcell.stemcell_os, "version": stemcell.stemcell_version},
        "master": group_context(master),
        "worker": worker_ctx,
        "errand": group_context(&errand),
        "update": serde_json::to_value(plan.update.clone().unwrap_or_default()).map_err(render_err)?,
        "cluster": {
            "external_hostname": cluster.external_hostname,
        },
        "k8s": k8s.context,
    });

    let rendered = render(template, context, sd)?;
    let manifest_value = parse_yaml(&rendered, TEMPLATE_NAME)?;
    check_manifest(&manifest_value, sd).map_err(|problems| {
        Error::Render(format!(
            "the rendered manifest is not deployable: {}",
            problems.join("; ")
        ))
    })?;
    let manifest = crate::yaml::to_yaml_string(&manifest_value);
    Ok(GenerateManifestOutput {
        manifest,
        manifest_value,
        configs: Map::new(),
        warnings: k8s.warnings,
    })
}

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid {
        field: field.to_owned(),
        message,
    }
}

fn render_err(e: impl std::fmt::Display) -> Error {
    Error::Render(e.to_string())
}

/// ODB refuses floating versions, and so does BOSH for on-demand deploys: check up front so the
/// broker's operator sees which release is wrong.
fn check_service_deployment(sd: &ServiceDeployment) -> Result<()> {
    if sd.deployment_name.trim().is_empty() {
        return Err(invalid(
            "service_deployment.deployment_name",
            "must not be empty".into(),
        ));
    }
    for r in &sd.releases {
        if r.version.is_empty() || r.version == "latest" || r.version.ends_with(".latest") {
            return Err(invalid(
                "service_deployment.releases",
                format!(
                    "release {} needs an exact version, not {:?}",
                    r.name, r.version
                ),
            ));
        }
    }
    for s in &sd.stemcells {
        if s.stemcell_version.is_empty()
            || s.stemcell_version == "latest"
            || s.stemcell_version.ends_with(".latest")
        {
            return Err(invalid(
                "service_deployment.stemcells",
                format!(
                    "stemcell {} needs an exact version, not {:?}",
                    s.stemcell_os, s.stemcell_version
                ),
            ));
        }
    }
    Ok(())
}

fn plan_group<'a>(plan: &'a Plan, name: &str) -> Result<&'a InstanceGroup> {
    let g = plan.instance_group(name).ok_or_else(|| {
        invalid(
            "plan.instance_groups",
            format!("the plan has no `{name}` instance group"),
        )
    })?;
    checked_group(g)
}

/// The SDK's validation of a plan instance group: instances ≥ 1, at least one AZ and network.
fn checked_group(g: &InstanceGroup) -> Result<&InstanceGroup> {
    let field = format!("plan.instance_groups.{}", g.name);
    if g.instances < 1 {
        return Err(invalid(&field, "instances must be at least 1".into()));
    }
    if g.azs.is_empty() || g.azs.iter().any(|a| a.trim().is_empty()) {
        return Err(invalid(
            &field,
            "needs at least one availability zone".into(),
        ));
    }
    if g.networks.is_empty() || g.networks.iter().any(|n| n.trim().is_empty()) {
        return Err(invalid(&field, "needs a network".into()));
    }
    if g.vm_type.trim().is_empty() {
        return Err(invalid(&field, "needs a VM type".into()));
    }
    Ok(g)
}

fn group_context(g: &InstanceGroup) -> Value {
    json!({
        "name": g.name,
        "instances": g.instances,
        "vm_type": g.vm_type,
        "vm_extensions": g.vm_extensions,
        "persistent_disk_type": g.persistent_disk_type.as_deref().filter(|d| !d.is_empty()),
        "azs": g.azs,
        "networks": g.networks,
    })
}

fn parse_yaml(text: &str, what: &str) -> Result<Value> {
    crate::yaml::load(text).map_err(|e| match e {
        Error::Yaml { at, message } => Error::Yaml {
            at: format!("{what} {at}"),
            message,
        },
        other => other,
    })
}

/// The template text compiled into a tera instance holding it under [`TEMPLATE_NAME`].
/// An error is tera's message chain (what [`Error::Render`] carries).
fn compile(template: &str) -> std::result::Result<tera::Tera, String> {
    let mut tera = tera::Tera::default();
    tera.add_raw_template(TEMPLATE_NAME, template)
        .map_err(|e| error_chain(&e))?;
    Ok(tera)
}

/// The bundled template, compiled on first use. A compile error is kept as its message (the
/// bundled template compiles — a test checks it — but a library never panics on it).
fn bundled() -> Result<&'static tera::Tera> {
    static COMPILED: OnceLock<std::result::Result<tera::Tera, String>> = OnceLock::new();
    COMPILED
        .get_or_init(|| compile(crate::products::PKS_CLUSTER_MANIFEST_TEMPLATE))
        .as_ref()
        .map_err(|message| Error::Render(message.clone()))
}

/// Renders the template. `release_for(job=...)` is a template function so that a job no release
/// provides (or several do) stops the render with a message naming the job.
fn render(template: &str, context: Value, sd: &ServiceDeployment) -> Result<String> {
    // The function closes over this deployment's releases, so it is registered on a copy of the
    // compiled template; copying the parsed template is far cheaper than parsing it again.
    let mut tera = if template == crate::products::PKS_CLUSTER_MANIFEST_TEMPLATE {
        bundled()?.clone()
    } else {
        compile(template).map_err(Error::Render)?
    };
    let providers: HashMap<String, Vec<String>> =
        sd.releases.iter().fold(HashMap::new(), |mut acc, r| {
            for job in &r.jobs {
                acc.entry(job.clone()).or_default().push(r.name.clone());
            }
            acc
        });
    tera.register_function(
        "release_for",
        move |args: &HashMap<String, Value>| -> tera::Result<Value> {
            let job = args
                .get("job")
                .and_then(Value::as_str)
                .ok_or_else(|| tera::Error::msg("release_for needs job=\"<job name>\""))?;
            match providers.get(job).map(Vec::as_slice) {
                Some([release]) => Ok(Value::from(release.as_str())),
                Some(many) if many.len() > 1 => Err(tera::Error::msg(format!(
                    "job `{job}` is provided by several releases of the service deployment ({})",
                    many.join(", ")
                ))),
                _ => Err(tera::Error::msg(format!(
                    "no release of the service deployment provides job `{job}`"
                ))),
            }
        },
    );
    let ctx = tera::Context::from_value(context).map_err(|e| Error::Render(error_chain(&e)))?;
    tera.render(TEMPLATE_NAME, &ctx)
        .map_err(|e| Error::Render(error_chain(&e)))
}

/// tera's top-level message only says which template failed; the cause is in the chain.
fn error_chain(e: &tera::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.join(": ")
}
