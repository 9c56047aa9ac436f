//! The Kubernetes settings of a plan: its `properties` (plan fields and the tile's global
//! properties), checked and turned into the values the cluster manifest needs.
//!
//! The property names are the ones the bundled PKS tile writes into each catalog plan
//! (tiles/products/pks/metadata.yml, the `planN_snippet` named manifests and the
//! `global_properties` of the networking and cloud-provider selectors).

use serde_json::{json, Map, Value};

use crate::{Error, Result};

/// Pod and service networks when the plan does not name them (CFCR's defaults).
pub const DEFAULT_POD_CIDR: &str = "10.200.0.0/16";
pub const DEFAULT_SERVICE_CIDR: &str = "10.100.200.0/24";

/// Container networking the manifest template knows how to lay out.
const CNIS: &[&str] = &["flannel", "nsx-t"];
/// `cloud-provider.type` values kubo-release's cloud-provider job accepts.
const CLOUD_PROVIDERS: &[&str] = &["vsphere", "gce", "aws", "azure", "openstack"];

/// Reads the plan's properties into the template's `k8s` context object.
pub fn k8s_context(props: &Map<String, Value>) -> Result<Value> {
    let cni = string(props, "cni")?.unwrap_or_else(|| "flannel".to_owned());
    if !CNIS.contains(&cni.as_str()) {
        return Err(invalid(
            "cni",
            format!("must be one of {}, not {cni:?}", CNIS.join(", ")),
        ));
    }
    let pod = string(props, "pod_network_cidr")?.unwrap_or_else(|| DEFAULT_POD_CIDR.to_owned());
    let service =
        string(props, "service_cluster_cidr")?.unwrap_or_else(|| DEFAULT_SERVICE_CIDR.to_owned());
    let (pod_net, pod_len) = parse_cidr(&pod).map_err(|m| invalid("pod_network_cidr", m))?;
    let (svc_net, svc_len) =
        parse_cidr(&service).map_err(|m| invalid("service_cluster_cidr", m))?;
    if svc_len > 28 {
        return Err(invalid(
            "service_cluster_cidr",
            format!(
                "{service} is too small: the cluster needs at least 16 service addresses (/28)"
            ),
        ));
    }
    if overlaps((pod_net, pod_len), (svc_net, svc_len)) {
        return Err(invalid(
            "service_cluster_cidr",
            format!("{service} overlaps the pod network {pod}"),
        ));
    }
    // The first service address is the `kubernetes` service; the tenth is cluster DNS.
    let kubernetes_service_ip = std::net::Ipv4Addr::from(svc_net + 1).to_string();
    let dns_service_ip = std::net::Ipv4Addr::from(svc_net + 10).to_string();

    let admission_plugins = match props.get("admission_plugins") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut names = Vec::new();
            for item in items {
                let name = item
                    .as_str()
                    .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
                    .ok_or_else(|| {
                        invalid(
                            "admission_plugins",
                            format!("{item} is not an admission plugin name"),
                        )
                    })?;
                names.push(Value::from(name));
            }
            names
        }
        Some(other) => {
            return Err(invalid(
                "admission_plugins",
                format!("must be a list of names, not {other}"),
            ))
        }
    };

    let cloud_provider = match props.get("cloud_provider") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Object(cp)) => {
            let kind = cp.get("type").and_then(Value::as_str).unwrap_or_default();
            if !CLOUD_PROVIDERS.contains(&kind) {
                return Err(invalid(
                    "cloud_provider",
                    format!(
                        "type must be one of {}, not {kind:?}",
                        CLOUD_PROVIDERS.join(", ")
                    ),
                ));
            }
            let config = match cp.get("cloud_config") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(c @ Value::Object(_)) => c.clone(),
                Some(other) => {
                    return Err(invalid(
                        "cloud_provider",
                        format!("cloud_config must be a map, not {other}"),
                    ))
                }
            };
            json!({"type": kind, "cloud_config": config})
        }
        Some(other) => {
            return Err(invalid(
                "cloud_provider",
                format!("must be a map, not {other}"),
            ))
        }
    };

    let timeout = integer(props, "kubelet_drain_timeout", 0, 1440)?.unwrap_or(0);
    let drain = json!({
        "timeout": if timeout == 0 { "0s".to_owned() } else { format!("{timeout}m") },
        "grace_period": integer(props, "kubelet_drain_grace_period", -1, 86400)?.unwrap_or(10),
        "force": boolean(props, "kubelet_drain_force")?.unwrap_or(true),
        "ignore_daemonsets": boolean(props, "kubelet_drain_ignore_daemonsets")?.unwrap_or(true),
        "delete_local_data": boolean(props, "kubelet_drain_delete_local_data")?.unwrap_or(true),
        "force_node": boolean(props, "kubelet_drain_force_node")?.unwrap_or(false),
    });

    Ok(json!({
        "cni": cni,
        "pod_network_cidr": pod,
        "service_cluster_cidr": service,
        "kubernetes_service_ip": kubernetes_service_ip,
        "dns_service_ip": dns_service_ip,
        "allow_privileged": boolean(props, "allow_privileged_containers")?.unwrap_or(false),
        "admission_plugins": admission_plugins,
        "addons_spec": string(props, "addons_spec")?.filter(|s| !s.trim().is_empty()),
        "system_reserved": resource_map(props, "kubelet_system_reserved")?,
        "eviction_hard": resource_map(props, "kubelet_eviction_hard")?,
        "drain": drain,
        "cloud_provider": cloud_provider,
    }))
}

fn invalid(field: &str, message: String) -> Error {
    Error::Invalid {
        field: field.to_owned(),
        message,
    }
}

fn string(props: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(invalid(key, format!("must be a string, not {other}"))),
    }
}

fn boolean(props: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(invalid(key, format!("must be true or false, not {other}"))),
    }
}

fn integer(props: &Map<String, Value>, key: &str, min: i64, max: i64) -> Result<Option<i64>> {
    match props.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_i64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(invalid(
                key,
                format!("must be a whole number {min}–{max}, not {v}"),
            )),
        },
    }
}

/// Kubelet resource settings as the tile's form takes them, `memory=250Mi, cpu=150m`, into a
/// map (`{memory: 250Mi, cpu: 150m}`). Empty or absent means "not set" (`null`).
fn resource_map(props: &Map<String, Value>, key: &str) -> Result<Value> {
    let Some(text) = string(props, key)? else {
        return Ok(Value::Null);
    };
    let mut out = Map::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .map(|(n, v)| (n.trim(), v.trim()))
            .filter(|(n, v)| {
                !n.is_empty()
                    && !v.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
                    && !v.contains(char::is_whitespace)
            })
            .ok_or_else(|| {
                invalid(
                    key,
                    format!("{item:?} is not of the form name=value (e.g. memory=250Mi)"),
                )
            })?;
        if out.insert(name.to_owned(), Value::from(value)).is_some() {
            return Err(invalid(key, format!("{name} is given twice")));
        }
    }
    Ok(if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    })
}

/// An IPv4 CIDR block: its network address (host bits must be zero) and prefix length.
fn parse_cidr(text: &str) -> std::result::Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not an IPv4 CIDR block such as 10.200.0.0/16");
    let (addr, len) = text.split_once('/').ok_or_else(bad)?;
    let addr: std::net::Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    if len > 32 {
        return Err(bad());
    }
    let net = u32::from(addr);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    if net & !mask != 0 {
        return Err(format!(
            "{text:?} has host bits set; the network address is {}/{len}",
            std::net::Ipv4Addr::from(net & mask)
        ));
    }
    Ok((net, len))
}

fn overlaps(a: (u32, u32), b: (u32, u32)) -> bool {
    let shorter = a.1.min(b.1);
    let mask = if shorter == 0 {
        0
    } else {
        u32::MAX << (32 - shorter)
    };
    a.0 & mask == b.0 & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn defaults_give_cfcr_networks() {
        let k = k8s_context(&Map::new()).unwrap();
        assert_eq!(k["pod_network_cidr"], "10.200.0.0/16");
        assert_eq!(k["kubernetes_service_ip"], "10.100.200.1");
        assert_eq!(k["dns_service_ip"], "10.100.200.10");
        assert_eq!(k["drain"]["timeout"], "0s");
        assert_eq!(k["drain"]["grace_period"], 10);
        assert_eq!(k["system_reserved"], Value::Null);
    }

    #[test]
    fn overlapping_or_malformed_cidrs_are_refused() {
        let e = k8s_context(&props(json!({"service_cluster_cidr": "10.200.4.0/24"}))).unwrap_err();
        assert!(
            matches!(e, Error::Invalid { ref field, .. } if field == "service_cluster_cidr"),
            "{e}"
        );
        let e = k8s_context(&props(json!({"pod_network_cidr": "10.200.0.1/16"}))).unwrap_err();
        assert!(
            matches!(e, Error::Invalid { ref field, .. } if field == "pod_network_cidr"),
            "{e}"
        );
        let e = k8s_context(&props(json!({"service_cluster_cidr": "10.0.0.0/30"}))).unwrap_err();
        assert!(e.to_string().contains("too small"), "{e}");
    }

    #[test]
    fn kubelet_resource_settings_parse_into_maps() {
        let k = k8s_context(&props(json!({
            "kubelet_system_reserved": "memory=250Mi, cpu=150m",
            "kubelet_eviction_hard": "memory.available=100Mi, nodefs.available=10%",
        })))
        .unwrap();
        assert_eq!(
            k["system_reserved"],
            json!({"memory": "250Mi", "cpu": "150m"})
        );
        assert_eq!(k["eviction_hard"]["nodefs.available"], "10%");
        let e =
            k8s_context(&props(json!({"kubelet_system_reserved": "memory 250Mi"}))).unwrap_err();
        assert!(
            matches!(e, Error::Invalid { ref field, .. } if field == "kubelet_system_reserved")
        );
    }

    #[test]
    fn drain_fields_are_range_checked() {
        let k = k8s_context(&props(
            json!({"kubelet_drain_timeout": 15, "kubelet_drain_grace_period": -1}),
        ))
        .unwrap();
        assert_eq!(k["drain"]["timeout"], "15m");
        assert_eq!(k["drain"]["grace_period"], -1);
        assert!(k8s_context(&props(json!({"kubelet_drain_timeout": 1441}))).is_err());
        assert!(k8s_context(&props(json!({"kubelet_drain_force": "yes"}))).is_err());
    }

    #[test]
    fn unknown_cni_and_cloud_provider_are_refused() {
        assert!(k8s_context(&props(json!({"cni": "calico"}))).is_err());
        assert!(k8s_context(&props(json!({"cloud_provider": {"type": "digitalocean"}}))).is_err());
        let k = k8s_context(&props(json!({"cloud_provider": {"type": "vsphere"}}))).unwrap();
        assert_eq!(
            k["cloud_provider"],
            json!({"type": "vsphere", "cloud_config": {}})
        );
    }
}
