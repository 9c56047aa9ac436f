//! `create-binding` and `dashboard-url`: what a client gets to reach a cluster.
//!
//! A binding hands out kubeconfig-style credentials: the API server's URL, the cluster CA and
//! the admin token. The values come from the cluster's own manifest (address, port) and from the
//! resolved variables the broker passes (`secrets`), so nothing here generates or stores secrets.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::params::Carried;
use crate::{Error, Result};

/// What `create-binding` is given, as the broker passes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BindingRequest {
    pub binding_id: String,
    /// The cluster's deployed manifest (YAML text).
    pub manifest: String,
    /// Instance group name → IP addresses of its VMs (`bosh_vms`).
    pub bosh_vms: BTreeMap<String, Vec<String>>,
    /// Resolved variables, keyed as the broker passes them: `((name))` or `((name.key))`
    /// (bare names are accepted too). A certificate may be given whole, as an object
    /// `{ca, certificate, private_key}` or its JSON text.
    pub secrets: Map<String, Value>,
}

/// The binding: `{"credentials": {"kubeconfig": {...}}}`. The kubeconfig is a JSON tree of the
/// same shape `kubectl` reads from YAML.
pub fn create_binding(req: &BindingRequest) -> Result<Value> {
    let manifest = parse_manifest(&req.manifest)?;
    let carried = Carried::from_manifest(&manifest);
    let host = match carried.external_hostname {
        Some(h) => h,
        None => req
            .bosh_vms
            .get("master")
            .and_then(|ips| ips.first())
            .cloned()
            .ok_or_else(|| Error::Invalid {
                field: "bosh_vms".into(),
                message: "the cluster has no external hostname and no master VM address".into(),
            })?,
    };
    let port = carried.master_port.unwrap_or(super::DEFAULT_MASTER_PORT);
    let ca = secret(&req.secrets, "tls-kubernetes", Some("ca"))
        .or_else(|| secret(&req.secrets, "kubo_ca", Some("certificate")))
        .ok_or_else(|| missing("tls-kubernetes.ca"))?;
    let token = secret(&req.secrets, "kubo-admin-password", None)
        .ok_or_else(|| missing("kubo-admin-password"))?;

    let deployment = manifest
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let cluster = deployment
        .strip_prefix("service-instance_")
        .unwrap_or(deployment);
    let user = format!("binding-{}", req.binding_id);
    let ca_data = base64::engine::general_purpose::STANDARD.encode(ca.as_bytes());
    Ok(json!({
        "credentials": {
            "kubeconfig": {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{
                    "name": cluster,
                    "cluster": {
                        "server": format!("https://{host}:{port}"),
                        "certificate-authority-data": ca_data,
                    },
                }],
                "users": [{"name": user, "user": {"token": token}}],
                "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
                "current-context": cluster,
            }
        }
    }))
}

/// The cluster's API URL when it has an external hostname; PKS clusters have no other dashboard.
pub fn dashboard_url(manifest_yaml: &str) -> Result<Option<String>> {
    let carried = Carried::from_manifest(&parse_manifest(manifest_yaml)?);
    Ok(carried.external_hostname.map(|h| {
        format!(
            "https://{h}:{}",
            carried.master_port.unwrap_or(super::DEFAULT_MASTER_PORT)
        )
    }))
}

fn parse_manifest(text: &str) -> Result<Value> {
    crate::yaml::load(text).map_err(|e| match e {
        Error::Yaml { at, message } => Error::Yaml {
            at: format!("manifest {at}"),
            message,
        },
        other => other,
    })
}

fn missing(name: &str) -> Error {
    Error::Invalid {
        field: "secrets".into(),
        message: format!("the resolved value of (({name})) is needed"),
    }
}

/// Finds a resolved variable by the ways a broker may key it.
fn secret(secrets: &Map<String, Value>, name: &str, key: Option<&str>) -> Option<String> {
    if let Some(key) = key {
        for k in [format!("(({name}.{key}))"), format!("{name}.{key}")] {
            if let Some(Value::String(s)) = secrets.get(&k) {
                return Some(s.clone());
            }
        }
    }
    let whole = secrets
        .get(&format!("(({name}))"))
        .or_else(|| secrets.get(name))?;
    match (whole, key) {
        (Value::String(s), None) => Some(s.clone()),
        (Value::Object(o), Some(k)) => o.get(k).and_then(Value::as_str).map(str::to_owned),
        (Value::String(s), Some(k)) => serde_json::from_str::<Value>(s)
            .ok()?
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    }
}
