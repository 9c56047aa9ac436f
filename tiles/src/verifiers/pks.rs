//! The bundled PKS tile's install-time verifiers: what its help text promises and the forms
//! alone cannot check, because each rule spans several fields (or a certificate's contents).
//!
//! - [`API_CERTIFICATE`]: "The certificate must cover it" (the API hostname), by
//!   [`super::hostname`]'s rules;
//! - [`PLAN_NAMES`]: plan names "unique across plans" (active plans only);
//! - [`NETWORK_CIDRS`]: the pod network "must not overlap" the service network, and neither
//!   may overlap a Director network (Flannel only; NSX-T takes its blocks from NSX);
//! - [`WORKER_COUNTS`]: a plan's worker count is "at most the maximum above";
//! - [`ADDONS_YAML`]: add-ons are "Kubernetes YAML (documents separated by ---)": each
//!   document parses and is a resource (`apiVersion` and `kind`);
//! - [`DRAIN_SETTINGS`]: forcing a node to drain "after timeout" needs a timeout above 0.
//!
//! Not a verifier (it never blocks Apply Changes): [`adapter_warnings`], the plan settings the
//! service adapter cannot carry into a cluster's manifest (kubo 0.18.0 has no property for
//! them), named by plan field, for the operator to see before any cluster is made.
//!
//! Plans are found by shape, not by number: every product selector `planN_selector` whose
//! selected option is `active`, its fields under `.properties.planN_selector.active.*`.

use serde_json::Value;

use super::{value_of, Finding, Labels, VerifyContext};
use crate::cloud_config::{Cidr, IpRange};
use crate::metadata::{BlueprintKind, ProductTemplate};
use crate::properties::defaults::selected_option;
use crate::properties::staged::StagedValues;

pub const API_CERTIFICATE: &str = "PksApiCertificateVerifier";
pub const PLAN_NAMES: &str = "PksPlanNamesVerifier";
pub const NETWORK_CIDRS: &str = "PksNetworkCidrsVerifier";
pub const WORKER_COUNTS: &str = "PksWorkerCountsVerifier";
pub const ADDONS_YAML: &str = "PksAddonsYamlVerifier";
pub const DRAIN_SETTINGS: &str = "PksDrainSettingsVerifier";

/// The API certificate and hostname properties.
pub const TLS_REFERENCE: &str = ".pivotal-container-service.pks_tls";
pub const HOSTNAME_REFERENCE: &str = ".properties.pks_api_hostname";
const NETWORK_SELECTOR: &str = ".properties.network_selector";

/// Whether `verifier` is one of this module's (the PKS tile has them all).
pub fn is_pks(verifier: &str) -> bool {
    [
        API_CERTIFICATE,
        PLAN_NAMES,
        NETWORK_CIDRS,
        WORKER_COUNTS,
        ADDONS_YAML,
        DRAIN_SETTINGS,
    ]
    .contains(&verifier)
}

/// An active plan: its selector's reference and the prefix of its fields.
struct Plan {
    /// `.properties.plan2_selector.active`.
    prefix: String,
}

impl Plan {
    fn field(&self, name: &str) -> String {
        format!("{}.{name}", self.prefix)
    }
}

/// The active plans, in metadata order.
fn active_plans(template: &ProductTemplate, staged: &StagedValues) -> Vec<Plan> {
    template
        .property_blueprints
        .iter()
        .filter(|b| {
            b.name
                .strip_prefix("plan")
                .and_then(|rest| rest.strip_suffix("_selector"))
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
                && matches!(b.kind, BlueprintKind::Selector { .. })
        })
        .filter_map(|selector| {
            let reference = format!(".properties.{}", selector.name);
            let value = value_of(template, staged, &reference)?;
            let option = selected_option(selector, &value)?;
            (option.name == "active").then(|| Plan {
                prefix: format!("{reference}.{}", option.name),
            })
        })
        .collect()
}

fn integer(value: Option<Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(value: Option<Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

fn text(value: Option<Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

/// The API certificate covers the API hostname.
pub fn api_certificate(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let labels = Labels::of(template);
    let Some(host) = text(value_of(template, staged, HOSTNAME_REFERENCE)) else {
        return Vec::new(); // blank: completeness reports it
    };
    let Some(names) = ctx.certificates.and_then(|c| c.get(TLS_REFERENCE)) else {
        return Vec::new();
    };
    let message = match names {
        Err(why) => format!("the certificate cannot be read: {why}"),
        Ok(names) if !names.covers(&host) => format!(
            "the certificate is for {}, which does not cover the {} '{}'; generate one for \
             the hostname (or a wildcard covering it)",
            names.described(),
            labels.label(HOSTNAME_REFERENCE),
            host.trim()
        ),
        Ok(_) => return Vec::new(),
    };
    vec![labels.finding(API_CERTIFICATE, TLS_REFERENCE, message)]
}

/// Active plans have unique names (compared without case: `pks create-cluster --plan` users
/// would not tell them apart).
pub fn plan_names(
    template: &ProductTemplate,
    staged: &StagedValues,
    _ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let labels = Labels::of(template);
    let mut seen: Vec<(String, String)> = Vec::new(); // (lowercase name, reference)
    let mut out = Vec::new();
    for plan in active_plans(template, staged) {
        let reference = plan.field("name");
        let Some(name) = text(value_of(template, staged, &reference)) else {
            continue;
        };
        let key = name.trim().to_lowercase();
        match seen.iter().find(|(k, _)| *k == key) {
            Some((_, first)) => out.push(labels.finding(
                PLAN_NAMES,
                &reference,
                format!(
                    "the plan name '{}' is already used by {}; plan names must be unique",
                    name.trim(),
                    labels.form_label(first)
                ),
            )),
            None => seen.push((key, reference)),
        }
    }
    out
}

/// The Flannel pod and service CIDRs overlap neither each other nor a Director network.
pub fn network_cidrs(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let labels = Labels::of(template);
    let Some(selector) = template.property(NETWORK_SELECTOR) else {
        return Vec::new();
    };
    let option = value_of(template, staged, NETWORK_SELECTOR)
        .and_then(|v| selected_option(selector.blueprint, &v).map(|o| o.name.clone()));
    if option.as_deref() != Some("flannel") {
        return Vec::new();
    }
    let pod_ref = format!("{NETWORK_SELECTOR}.flannel.pod_network_cidr");
    let service_ref = format!("{NETWORK_SELECTOR}.flannel.service_cluster_cidr");
    // Unreadable CIDRs are the fields' own constraints' business.
    let range = |reference: &str| {
        text(value_of(template, staged, reference)).and_then(|t| {
            Cidr::parse(t.trim())
                .ok()
                .map(|c| (t.trim().to_owned(), c.range()))
        })
    };
    let (pod, service) = (range(&pod_ref), range(&service_ref));
    let mut out = Vec::new();
    if let (Some((p, pr)), Some((s, sr))) = (&pod, &service) {
        if pr.overlaps(sr) {
            out.push(labels.finding(
                NETWORK_CIDRS,
                &service_ref,
                format!("{s} overlaps the {} {p}", labels.label(&pod_ref)),
            ));
        }
    }
    if let Some(director) = ctx.director {
        for (reference, cidr) in [(&pod_ref, &pod), (&service_ref, &service)] {
            let Some((text, r)) = cidr else { continue };
            for network in &director.networks {
                for subnet in &network.subnets {
                    let Ok(subnet_range) = IpRange::parse(&subnet.cidr) else {
                        continue;
                    };
                    if r.overlaps(&subnet_range) {
                        out.push(labels.finding(
                            NETWORK_CIDRS,
                            reference,
                            format!(
                                "{text} overlaps the Director network '{}' (subnet {}); pods \
                                 and services could not reach VMs there",
                                network.name, subnet.cidr
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Each plan's worker count is within its maximum.
pub fn worker_counts(
    template: &ProductTemplate,
    staged: &StagedValues,
    _ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let labels = Labels::of(template);
    let mut out = Vec::new();
    for plan in active_plans(template, staged) {
        let (workers_ref, max_ref) = (
            plan.field("worker_instances"),
            plan.field("max_worker_instances"),
        );
        let workers = integer(value_of(template, staged, &workers_ref));
        let max = integer(value_of(template, staged, &max_ref));
        if let (Some(workers), Some(max)) = (workers, max) {
            if workers > max {
                out.push(labels.finding(
                    WORKER_COUNTS,
                    &workers_ref,
                    format!(
                        "{workers} workers is more than the plan's {} ({max})",
                        labels.label(&max_ref)
                    ),
                ));
            }
        }
    }
    out
}

/// Each plan's add-ons are YAML documents that parse, each a Kubernetes resource.
pub fn addons_yaml(
    template: &ProductTemplate,
    staged: &StagedValues,
    _ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let labels = Labels::of(template);
    let mut out = Vec::new();
    for plan in active_plans(template, staged) {
        let reference = plan.field("addons_spec");
        let Some(spec) = text(value_of(template, staged, &reference)) else {
            continue;
        };
        for problem in addons_problems(&spec) {
            out.push(labels.finding(ADDONS_YAML, &reference, problem));
        }
    }
    out
}

/// What is wrong with an add-ons text (empty when nothing): per document, a YAML error or
/// a document that is not a Kubernetes resource.
pub fn addons_problems(spec: &str) -> Vec<String> {
    let mut documents: Vec<(usize, String)> = vec![(1, String::new())];
    for (i, line) in spec.lines().enumerate() {
        let separator = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'));
        if separator {
            documents.push((i + 2, String::new()));
        } else if let Some((_, doc)) = documents.last_mut() {
            doc.push_str(line);
            doc.push('\n');
        }
    }
    let mut out = Vec::new();
    for (n, (first_line, doc)) in documents.iter().enumerate() {
        let number = n + 1;
        match crate::yaml::load(doc) {
            Err(e) => out.push(format!(
                "document {number} (from line {first_line}) is not YAML: {e}"
            )),
            Ok(Value::Null) => {}
            Ok(Value::Object(map)) => {
                let missing: Vec<&str> = ["apiVersion", "kind"]
                    .into_iter()
                    .filter(|k| !map.get(*k).is_some_and(|v| v.is_string()))
                    .collect();
                if !missing.is_empty() {
                    out.push(format!(
                        "document {number} (from line {first_line}) is not a Kubernetes \
                         resource: it has no {}",
                        missing.join(" and ")
                    ));
                }
            }
            Ok(_) => out.push(format!(
                "document {number} (from line {first_line}) is not a Kubernetes resource: \
                 expected a mapping with apiVersion and kind"
            )),
        }
    }
    out
}

/// Forcing a node to drain after the timeout needs a timeout.
pub fn drain_settings(
    template: &ProductTemplate,
    staged: &StagedValues,
    _ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let labels = Labels::of(template);
    let mut out = Vec::new();
    for plan in active_plans(template, staged) {
        let force_ref = plan.field("kubelet_drain_force_node");
        let timeout_ref = plan.field("kubelet_drain_timeout");
        let forced = boolean(value_of(template, staged, &force_ref)).unwrap_or(false);
        let timeout = integer(value_of(template, staged, &timeout_ref)).unwrap_or(0);
        if forced && timeout <= 0 {
            out.push(labels.finding(
                DRAIN_SETTINGS,
                &force_ref,
                format!(
                    "a forced drain needs a timeout: set {} above 0 (0 waits forever, so the \
                     node would never be forced)",
                    labels.label(&timeout_ref)
                ),
            ));
        }
    }
    out
}

/// The name [`adapter_warnings`]' findings carry (not in `PRODUCT_VERIFIERS`: they inform, they
/// do not block).
pub const ADAPTER_WARNINGS: &str = "PksServiceAdapterWarnings";

/// The plan properties the service adapter reads from a plan (the tile's `planN_snippet`
/// `properties`), by the plan field of the same name.
const ADAPTER_PLAN_FIELDS: &[&str] = &[
    "allow_privileged_containers",
    "admission_plugins",
    "addons_spec",
    "kubelet_system_reserved",
    "kubelet_eviction_hard",
    "kubelet_drain_timeout",
    "kubelet_drain_grace_period",
    "kubelet_drain_force",
    "kubelet_drain_ignore_daemonsets",
    "kubelet_drain_delete_local_data",
    "kubelet_drain_force_node",
];

/// The service adapter's warnings for every active plan, as it would give them when a cluster
/// of the plan is made (`odb::k8s_context` on the plan's properties and the Flannel CIDRs),
/// each on the plan field (or network field) it names. Values the adapter refuses outright are
/// not repeated here: the fields' constraints and the verifiers report them. The cloud
/// provider's `cloud_config` is not read here (it comes from a selector's parsed manifest),
/// so its warnings still reach only the server log when a cluster is made.
pub fn adapter_warnings(template: &ProductTemplate, staged: &StagedValues) -> Vec<Finding> {
    let warnings = adapter_field_warnings(template, staged);
    if warnings.is_empty() {
        return Vec::new();
    }
    // Labels cost a walk of every form: made only when a warning needs them.
    let labels = Labels::of(template);
    warnings
        .into_iter()
        .map(|w| labels.finding(ADAPTER_WARNINGS, &w.reference, w.message))
        .collect()
}

/// One of [`adapter_warnings`] before it is named by its form and label: what a page that
/// shows it beside its own field needs (the settings page, on every render).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWarning {
    pub reference: String,
    pub message: String,
}

/// [`adapter_warnings`] by property reference, without the walk of every form that labels
/// them; each once (the network fields are shared by every plan).
pub fn adapter_field_warnings(
    template: &ProductTemplate,
    staged: &StagedValues,
) -> Vec<FieldWarning> {
    let flannel = template.property(NETWORK_SELECTOR).is_some_and(|selector| {
        value_of(template, staged, NETWORK_SELECTOR)
            .and_then(|v| selected_option(selector.blueprint, &v).map(|o| o.name == "flannel"))
            .unwrap_or(false)
    });
    let mut out = Vec::new();
    for plan in active_plans(template, staged) {
        let mut props = serde_json::Map::new();
        for field in ADAPTER_PLAN_FIELDS {
            if let Some(value) = value_of(template, staged, &plan.field(field)) {
                props.insert((*field).to_owned(), value);
            }
        }
        if flannel {
            for field in ["pod_network_cidr", "service_cluster_cidr"] {
                let reference = format!("{NETWORK_SELECTOR}.flannel.{field}");
                if let Some(Value::String(cidr)) = value_of(template, staged, &reference) {
                    props.insert(field.to_owned(), Value::from(cidr.trim()));
                }
            }
        }
        let Ok(settings) = crate::odb::k8s_context(&props) else {
            continue;
        };
        for warning in settings.warnings {
            // Each warning starts with the plan property it is about.
            let field: String = warning
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let reference = match field.as_str() {
                "pod_network_cidr" | "service_cluster_cidr" => {
                    format!("{NETWORK_SELECTOR}.flannel.{field}")
                }
                _ => plan.field(&field),
            };
            let message = format!(
                "not carried into this plan's clusters: {}",
                warning
                    .strip_prefix(field.as_str())
                    .map(|rest| rest.trim_start_matches([':', ' ']))
                    .unwrap_or(&warning)
            );
            let found = FieldWarning { reference, message };
            if !out.contains(&found) {
                out.push(found);
            }
        }
    }
    out
}
