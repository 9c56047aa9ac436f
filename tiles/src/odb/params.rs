//! Cluster parameters: what a `pks create-cluster` / `update-cluster` request may set, checked
//! and merged with what the cluster already has.
//!
//! ODB passes arbitrary parameters only with the request that carries them; later updates and
//! upgrades arrive without them. So the adapter reads the previous manifest back and keeps its
//! values unless the request says otherwise (precedence: request > previous manifest > plan).

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::Plan;
use crate::{Error, Result};

/// The worker count a plan allows at most when its properties do not say
/// (`max_worker_instances`, PKS's default).
pub const DEFAULT_MAX_WORKERS: u64 = 50;
/// The port kube-apiserver listens on: kubo 0.18.0 fixes `--secure-port=8443`, so a request may
/// name this port and no other.
pub const DEFAULT_MASTER_PORT: u64 = 8443;

/// The names kubo 0.18.0's `tls-kubernetes` certificate always carries (the `kubernetes`
/// service address of its fixed service network, the service names and the master's DNS
/// name). Any other alternative name in a previous manifest is the cluster's external hostname.
pub const FIXED_MASTER_NAMES: &[&str] = &[
    "10.100.200.1",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "master.cfcr.internal",
];

/// Accepted parameter names. Each line: the name, and the canonical name it is an alias of.
/// The PKS API sends the `kubernetes_*` names; the short names are what people type.
const ALIASES: &[(&str, &str)] = &[
    ("kubernetes_worker_instances", "worker_instances"),
    ("worker_instances", "worker_instances"),
    ("kubernetes_master_host", "external_hostname"),
    ("external_hostname", "external_hostname"),
    ("kubernetes_master_port", "master_port"),
    ("authorization_mode", "authorization_mode"),
];

/// Authorization modes a request may ask for, and the kube-apiserver flag value each becomes.
/// kubo 0.18.0's kube-apiserver fixes `--authorization-mode=RBAC`.
const AUTHORIZATION_MODES: &[(&str, &str)] = &[("rbac", "RBAC")];

/// The parameter names a request may use, in a stable order (for schemas and messages).
pub fn accepted_names() -> Vec<&'static str> {
    ALIASES.iter().map(|(name, _)| *name).collect()
}

/// The resolved parameters of one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterParams {
    pub worker_instances: u64,
    /// Hostname or IPv4 address clients reach the master at; `None` when not set.
    pub external_hostname: Option<String>,
    pub master_port: u64,
    /// The kube-apiserver `authorization-mode` flag value (`RBAC`, `ABAC`).
    pub authorization_mode: String,
}

/// Values of a previous manifest that carry over. Every field is optional: an older or foreign
/// manifest may lack any of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Carried {
    pub worker_instances: Option<u64>,
    pub external_hostname: Option<String>,
    pub master_port: Option<u64>,
    pub authorization_mode: Option<String>,
}

impl Carried {
    /// Reads the carried values out of a previous manifest: the worker group's instance count
    /// and the external hostname, which a kubo 0.18.0 manifest carries only as an alternative
    /// name of the `tls-kubernetes` certificate. Manifests rendered for later kubo (before the
    /// template followed kubo 0.18.0) kept it, the port and the authorization mode in
    /// kube-apiserver's `k8s-args`; those are read too, so such clusters keep their hostname.
    pub fn from_manifest(manifest: &Value) -> Carried {
        let groups = manifest
            .get("instance_groups")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let group = |name: &str| {
            groups
                .iter()
                .find(|g| g.get("name").and_then(Value::as_str) == Some(name))
        };
        let worker_instances = group("worker")
            .and_then(|g| g.get("instances"))
            .and_then(Value::as_u64);
        let args = group("master")
            .and_then(|g| g.get("jobs"))
            .and_then(Value::as_array)
            .and_then(|jobs| {
                jobs.iter()
                    .find(|j| j.get("name").and_then(Value::as_str) == Some("kube-apiserver"))
            })
            .and_then(|j| j.pointer("/properties/k8s-args"));
        let arg = |key: &str| args.and_then(|a| a.get(key));
        let certificate_name = manifest
            .get("variables")
            .and_then(Value::as_array)
            .and_then(|vars| {
                vars.iter()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some("tls-kubernetes"))
            })
            .and_then(|v| v.pointer("/options/alternative_names"))
            .and_then(Value::as_array)
            .and_then(|names| {
                names
                    .iter()
                    .filter_map(Value::as_str)
                    .find(|n| !FIXED_MASTER_NAMES.contains(n))
            });
        Carried {
            worker_instances,
            external_hostname: certificate_name
                .or_else(|| arg("external-hostname").and_then(Value::as_str))
                .map(str::to_owned),
            master_port: arg("secure-port").and_then(Value::as_u64),
            authorization_mode: arg("authorization-mode")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }
}

/// The largest worker count the plan allows (`properties.max_worker_instances`).
pub fn max_workers(plan: &Plan) -> Result<u64> {
    match plan.properties.get("max_worker_instances") {
        None | Some(Value::Null) => Ok(DEFAULT_MAX_WORKERS),
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| Error::Invalid {
                field: "max_worker_instances".into(),
                message: format!(
                    "the plan's maximum worker count must be a whole number ≥ 1, not {v}"
                ),
            }),
    }
}

/// Checks the request's parameters and merges them with the carried values and the plan.
///
/// `plan_changed` relaxes nothing for explicit parameters, but decides what happens to a carried
/// worker count above the plan's maximum: on the same plan it is kept (an operator lowering the
/// maximum must not block upgrades of existing clusters), on a plan change it is refused.
pub fn resolve(
    request_parameters: &Value,
    carried: &Carried,
    plan: &Plan,
    plan_workers: u64,
    plan_changed: bool,
) -> Result<ClusterParams> {
    let given = arbitrary_params(request_parameters)?;
    let max = max_workers(plan)?;

    let worker_instances = match given.get("worker_instances") {
        Some((name, v)) => {
            let n = v
                .as_u64()
                .ok_or_else(|| invalid(name, format!("must be a whole number, not {v}")))?;
            check_worker_count(n, max).map_err(|m| invalid(name, m))?;
            n
        }
        None => match carried.worker_instances {
            Some(n) if plan_changed && n > max => {
                return Err(invalid(
                    "worker_instances",
                    format!("the cluster has {n} workers; the new plan allows at most {max}"),
                ))
            }
            Some(n) => n,
            None => plan_workers.clamp(1, max),
        },
    };

    let external_hostname = match given.get("external_hostname") {
        Some((_, Value::Null)) => None,
        Some((name, v)) => {
            let host = v
                .as_str()
                .ok_or_else(|| invalid(name, format!("must be a string, not {v}")))?;
            check_host(host).map_err(|m| invalid(name, m))?;
            Some(host.to_owned())
        }
        None => carried.external_hostname.clone(),
    };

    // A carried port other than 8443 comes from a manifest of a later kubo; kubo 0.18.0
    // listens on 8443, so that is what the cluster gets on its next deploy.
    let master_port = match given.get("master_port") {
        Some((name, v)) => {
            let port = v
                .as_u64()
                .filter(|p| (1..=65535).contains(p))
                .ok_or_else(|| invalid(name, format!("must be a port number 1–65535, not {v}")))?;
            if port != DEFAULT_MASTER_PORT {
                return Err(invalid(
                    name,
                    format!(
                        "must be {DEFAULT_MASTER_PORT}, not {port}: kubo 0.18.0's kube-apiserver \
                         listens on {DEFAULT_MASTER_PORT} only"
                    ),
                ));
            }
            port
        }
        None => DEFAULT_MASTER_PORT,
    };

    let authorization_mode = match given.get("authorization_mode") {
        Some((name, v)) => {
            let s = v
                .as_str()
                .ok_or_else(|| invalid(name, format!("must be a string, not {v}")))?;
            AUTHORIZATION_MODES
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(s))
                .map(|(_, flag)| (*flag).to_owned())
                .ok_or_else(|| {
                    let names: Vec<_> = AUTHORIZATION_MODES.iter().map(|(k, _)| *k).collect();
                    invalid(
                        name,
                        format!(
                            "must be one of {}, not {s:?} (kubo 0.18.0's kube-apiserver runs \
                             RBAC only)",
                            names.join(", ")
                        ),
                    )
                })?
        }
        None => "RBAC".to_owned(),
    };

    Ok(ClusterParams {
        worker_instances,
        external_hostname,
        master_port,
        authorization_mode,
    })
}

/// The request's `parameters`, keyed by canonical name, each with the name the request used
/// (for messages). Unknown names, and two spellings of one parameter with different values, are
/// refused.
fn arbitrary_params(request: &Value) -> Result<Given> {
    let params = match request {
        Value::Null => return Ok(Given::default()),
        Value::Object(body) => match body.get("parameters") {
            None | Some(Value::Null) => return Ok(Given::default()),
            Some(Value::Object(p)) => p,
            Some(other) => {
                return Err(invalid(
                    "parameters",
                    format!("must be a JSON object, not {other}"),
                ))
            }
        },
        other => {
            return Err(invalid(
                "request_parameters",
                format!("must be a JSON object, not {other}"),
            ))
        }
    };
    let mut out = Given::default();
    for (name, value) in params {
        let canonical = ALIASES
            .iter()
            .find(|(alias, _)| alias == name)
            .map(|(_, c)| *c)
            .ok_or_else(|| {
                invalid(
                    name,
                    format!(
                        "unknown parameter; accepted: {}",
                        accepted_names().join(", ")
                    ),
                )
            })?;
        if let Some((first, existing)) = out.0.get(canonical) {
            if existing != value {
                return Err(invalid(
                    name,
                    format!("conflicts with {first} given in the same request"),
                ));
            }
        }
        out.0.insert(canonical, (name.clone(), value.clone()));
    }
    Ok(out)
}

/// Parameters of one request by canonical name: `(name the request used, value)`.
#[derive(Default)]
struct Given(BTreeMap<&'static str, (String, Value)>);

impl Given {
    fn get(&self, canonical: &str) -> Option<(&str, &Value)> {
        self.0.get(canonical).map(|(n, v)| (n.as_str(), v))
    }
}

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid {
        field: field.to_owned(),
        message,
    }
}

/// A host clients can reach the master at: an IPv4 address or a DNS name (RFC 1123 labels).
/// It ends up in a certificate's alternative names and in kubeconfig URLs, so anything else
/// (spaces, schemes, ports, wildcards) is refused here rather than failing at deploy.
pub fn check_host(host: &str) -> std::result::Result<(), String> {
    if host.parse::<std::net::Ipv4Addr>().is_ok() {
        return Ok(());
    }
    if host.is_empty() {
        return Err("must not be empty".into());
    }
    if host.len() > 253 {
        return Err("a hostname has at most 253 characters".into());
    }
    let all_numeric = host
        .split('.')
        .all(|l| l.chars().all(|c| c.is_ascii_digit()));
    if all_numeric {
        return Err(format!(
            "{host:?} is neither an IPv4 address nor a hostname"
        ));
    }
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(format!(
                "{host:?} is not a valid hostname (letters, digits and '-' in dot-separated labels of 1–63 characters)"
            ));
        }
    }
    Ok(())
}

/// A worker count a plan allowing at most `max` workers accepts (the Clusters page checks it as
/// the operator types, the adapter again on every request).
pub fn check_worker_count(n: u64, max: u64) -> std::result::Result<(), String> {
    if n < 1 {
        return Err("a cluster needs at least 1 worker".into());
    }
    if n > max {
        return Err(format!(
            "{n} workers is more than this plan allows (at most {max})"
        ));
    }
    Ok(())
}

/// PKS cluster names: letters, digits, `-` and `_`, starting with a letter or digit, at most
/// 64 characters (the `pks` CLI does not check; PKS refuses special characters).
pub fn check_cluster_name(name: &str) -> std::result::Result<(), String> {
    let ok = name.len() <= 64
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a cluster name: letters, digits, '-' and '_', starting with a \
             letter or digit, at most 64 characters"
        ))
    }
}
