//! The Kubernetes settings of a plan: its `properties` (plan fields and the tile's global
//! properties), checked and turned into the values the cluster manifest needs.
//!
//! The property names are the ones the bundled PKS tile writes into each catalog plan
//! (tiles/products/pks/metadata.yml, the `planN_snippet` named manifests and the
//! `global_properties` of the networking and cloud-provider selectors).
//!
//! The cluster manifest names kubo 0.18.0 (the bundled tile's release), whose jobs hard-code much
//! of what later kubo releases made settable: the pod and service networks, cluster DNS, the
//! drain command's flags, most admission plugins. A plan value that kubo 0.18.0 cannot carry is
//! not written into the manifest as an undeclared property (BOSH would drop it silently); it
//! becomes a warning naming the setting and what the cluster runs instead (see [`K8sSettings`]).

use serde_json::{json, Map, Value};

use crate::{Error, Result};

/// Pod and service networks when the plan does not name them (CFCR's defaults).
pub const DEFAULT_POD_CIDR: &str = "10.200.0.0/16";
pub const DEFAULT_SERVICE_CIDR: &str = "10.100.200.0/24";

/// The `kubernetes` service address and cluster DNS address kubo 0.18.0 uses: its
/// kube-apiserver and kube-controller-manager fix the service range at 10.100.200.0/24 and its
/// kubelet configuration fixes cluster DNS at 10.100.200.10.
const KUBO_KUBERNETES_SERVICE_IP: &str = "10.100.200.1";
const KUBO_DNS_SERVICE_IP: &str = "10.100.200.10";

/// Container networking the manifest template knows how to lay out.
const CNIS: &[&str] = &["flannel", "nsx-t"];

/// The settings kubo 0.18.0's `cloud-provider` job declares under `cloud-provider.<iaas>.`, per
/// `cloud-provider.type` (jobs/cloud-provider/spec at v0.18.0). Azure came with later kubo.
const CLOUD_PROVIDER_SETTINGS: &[(&str, &[&str])] = &[
    ("aws", &["access_key_id", "secret_access_key"]),
    (
        "gce",
        &[
            "network-name",
            "project-id",
            "service_key",
            "worker-node-tag",
        ],
    ),
    (
        "openstack",
        &[
            "auth-url",
            "bs-version",
            "ca-file",
            "domain-id",
            "domain-name",
            "ignore-volume-az",
            "password",
            "region",
            "tenant-id",
            "tenant-name",
            "trust-device-path",
            "trust-id",
            "username",
        ],
    ),
    (
        "vsphere",
        &[
            "datacenter",
            "datastore",
            "insecure-flag",
            "password",
            "port",
            "resourcepool-path",
            "scsicontrollertype",
            "server",
            "user",
            "vm-uuid",
            "working-dir",
        ],
    ),
];

/// The admission plugins kubo 0.18.0's kube-apiserver can switch: `DenyEscalatingExec` through
/// `deny_escalating_exec`, `SecurityContextDeny` through `allow_privileged` (on exactly when
/// privileged containers are not allowed). Any other plugin it cannot enable.
const DENY_ESCALATING_EXEC: &str = "DenyEscalatingExec";
const SECURITY_CONTEXT_DENY: &str = "SecurityContextDeny";

/// What kubo 0.18.0's kubelet drain script does, fixed: `kubectl drain --grace-period 10 --force
/// --delete-local-data --ignore-daemonsets`, no timeout, and a failed drain fails (no forced
/// node kill). `(plan field, the value kubo 0.18.0 behaves as)`.
const KUBO_DRAIN: &[(&str, &str)] = &[
    ("kubelet_drain_timeout", "0"),
    ("kubelet_drain_grace_period", "10"),
    ("kubelet_drain_force", "true"),
    ("kubelet_drain_ignore_daemonsets", "true"),
    ("kubelet_drain_delete_local_data", "true"),
    ("kubelet_drain_force_node", "false"),
];

/// A plan's Kubernetes settings, ready for the template.
#[derive(Debug, Clone, PartialEq)]
pub struct K8sSettings {
    /// The template's `k8s` context object.
    pub context: Value,
    /// Plan values the named kubo release cannot carry, each naming the plan field, the value
    /// the cluster runs with instead, and why. Empty when the plan fits kubo 0.18.0.
    pub warnings: Vec<String>,
}

/// Reads the plan's properties into the template's `k8s` context object.
pub fn k8s_context(props: &Map<String, Value>) -> Result<K8sSettings> {
    let mut warnings = Vec::new();
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
    if pod != DEFAULT_POD_CIDR {
        warnings.push(format!(
            "pod_network_cidr {pod} is not applied: kubo 0.18.0's flanneld and kube-proxy fix \
             the pod network at {DEFAULT_POD_CIDR}"
        ));
    }
    if service != DEFAULT_SERVICE_CIDR {
        warnings.push(format!(
            "service_cluster_cidr {service} is not applied: kubo 0.18.0 fixes the service \
             network at {DEFAULT_SERVICE_CIDR} (cluster DNS {KUBO_DNS_SERVICE_IP})"
        ));
    }

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

    let allow_privileged = boolean(props, "allow_privileged_containers")?.unwrap_or(false);
    let deny_escalating_exec = admission_plugins.iter().any(|p| p == DENY_ESCALATING_EXEC);
    for plugin in admission_plugins.iter().filter_map(Value::as_str) {
        if plugin != DENY_ESCALATING_EXEC && plugin != SECURITY_CONTEXT_DENY {
            warnings.push(format!(
                "admission_plugins {plugin} is not applied: kubo 0.18.0's kube-apiserver has \
                 no setting for it"
            ));
        }
    }
    let security_context_deny = admission_plugins.iter().any(|p| p == SECURITY_CONTEXT_DENY);
    if security_context_deny && allow_privileged {
        warnings.push(format!(
            "admission_plugins {SECURITY_CONTEXT_DENY} is not applied: kubo 0.18.0 enables it \
             only when privileged containers are not allowed"
        ));
    } else if !security_context_deny && !allow_privileged {
        warnings.push(format!(
            "admission_plugins: {SECURITY_CONTEXT_DENY} is on although the plan does not list \
             it: kubo 0.18.0 enables it whenever privileged containers are not allowed"
        ));
    }

    let cloud_provider = match props.get("cloud_provider") {
        None | Some(Value::Null) => Value::Null,
        Some(Value::Object(cp)) => {
            let kind = cp.get("type").and_then(Value::as_str).unwrap_or_default();
            let Some((_, known)) = CLOUD_PROVIDER_SETTINGS.iter().find(|(k, _)| *k == kind) else {
                let kinds: Vec<_> = CLOUD_PROVIDER_SETTINGS.iter().map(|(k, _)| *k).collect();
                return Err(invalid(
                    "cloud_provider",
                    format!(
                        "type must be one of {} (the providers kubo 0.18.0's cloud-provider \
                         job knows), not {kind:?}",
                        kinds.join(", ")
                    ),
                ));
            };
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
            let settings = cloud_provider_settings(kind, known, &config, &mut warnings);
            let mut job_properties = Map::new();
            job_properties.insert("type".into(), Value::from(kind));
            if !settings.is_empty() {
                job_properties.insert(kind.to_owned(), Value::Object(settings));
            }
            json!({"type": kind, "job_properties": job_properties})
        }
        Some(other) => {
            return Err(invalid(
                "cloud_provider",
                format!("must be a map, not {other}"),
            ))
        }
    };

    // The drain fields are checked (a bad value is still the operator's error to fix), then
    // compared with what kubo 0.18.0's drain script does.
    let drain = [
        integer(props, "kubelet_drain_timeout", 0, 1440)?.map(|n| n.to_string()),
        integer(props, "kubelet_drain_grace_period", -1, 86400)?.map(|n| n.to_string()),
        boolean(props, "kubelet_drain_force")?.map(|b| b.to_string()),
        boolean(props, "kubelet_drain_ignore_daemonsets")?.map(|b| b.to_string()),
        boolean(props, "kubelet_drain_delete_local_data")?.map(|b| b.to_string()),
        boolean(props, "kubelet_drain_force_node")?.map(|b| b.to_string()),
    ];
    for ((field, fixed), given) in KUBO_DRAIN.iter().zip(drain) {
        if let Some(given) = given.filter(|g| g != fixed) {
            warnings.push(format!(
                "{field} {given} is not applied: kubo 0.18.0's kubelet drain always runs \
                 `kubectl drain --grace-period 10 --force --delete-local-data \
                 --ignore-daemonsets` without a timeout (as {field} {fixed})"
            ));
        }
    }

    let context = json!({
        "cni": cni,
        "pod_network_cidr": DEFAULT_POD_CIDR,
        "service_cluster_cidr": DEFAULT_SERVICE_CIDR,
        "kubernetes_service_ip": KUBO_KUBERNETES_SERVICE_IP,
        "dns_service_ip": KUBO_DNS_SERVICE_IP,
        "allow_privileged": allow_privileged,
        "deny_escalating_exec": deny_escalating_exec,
        "addons_spec": string(props, "addons_spec")?.filter(|s| !s.trim().is_empty()),
        "system_reserved": resource_flag(props, "kubelet_system_reserved", '=')?,
        "eviction_hard": resource_flag(props, "kubelet_eviction_hard", '<')?,
        "cloud_provider": cloud_provider,
    });
    Ok(K8sSettings { context, warnings })
}

/// The plan's `cloud_config` (INI-style sections such as `Global` and `Disk`, or flat keys) as
/// kubo 0.18.0's `cloud-provider.<kind>.<setting>` properties. A key the job does not declare
/// for that provider is left out with a warning.
fn cloud_provider_settings(
    kind: &str,
    known: &[&str],
    config: &Value,
    warnings: &mut Vec<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let mut take = |path: String, key: &str, value: &Value| {
        if known.contains(&key) {
            out.insert(key.to_owned(), value.clone());
        } else {
            warnings.push(format!(
                "cloud_provider.cloud_config.{path} is not applied: kubo 0.18.0's cloud-provider \
                 job has no {kind} setting `{key}`"
            ));
        }
    };
    for (key, value) in config.as_object().into_iter().flatten() {
        match value {
            Value::Object(section) => {
                for (k, v) in section {
                    take(format!("{key}.{k}"), k, v);
                }
            }
            _ => take(key.clone(), key, value),
        }
    }
    out
}

/// A kubelet resource setting as kubo 0.18.0's kubelet takes it, a flag value string:
/// `memory=250Mi,cpu=150m` for `system-reserved`, `memory.available<100Mi` for
/// `eviction-hard` (`sep` is what joins a name and its value). `null` when not set.
fn resource_flag(props: &Map<String, Value>, key: &str, sep: char) -> Result<Value> {
    Ok(match resource_map(props, key)? {
        Value::Object(m) => Value::from(
            m.iter()
                .map(|(k, v)| format!("{k}{sep}{}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => Value::Null,
    })
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
    fn defaults_give_kubo_networks_and_fit_kubo_0_18() {
        let k = k8s_context(&props(
            json!({"admission_plugins": ["SecurityContextDeny"]}),
        ))
        .unwrap();
        assert_eq!(k.context["pod_network_cidr"], "10.200.0.0/16");
        assert_eq!(k.context["kubernetes_service_ip"], "10.100.200.1");
        assert_eq!(k.context["dns_service_ip"], "10.100.200.10");
        assert_eq!(k.context["system_reserved"], Value::Null);
        assert_eq!(k.context["deny_escalating_exec"], false);
        assert_eq!(k.warnings, Vec::<String>::new());
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
    fn networks_kubo_0_18_fixes_are_warned_about_not_applied() {
        let k = k8s_context(&props(json!({
            "pod_network_cidr": "10.244.0.0/16",
            "service_cluster_cidr": "10.96.0.0/24",
        })))
        .unwrap();
        assert_eq!(k.context["pod_network_cidr"], "10.200.0.0/16");
        assert_eq!(k.context["dns_service_ip"], "10.100.200.10");
        assert!(
            k.warnings[0].starts_with("pod_network_cidr 10.244.0.0/16 is not applied"),
            "{:?}",
            k.warnings
        );
        assert!(k.warnings[1].starts_with("service_cluster_cidr 10.96.0.0/24 is not applied"));
    }

    #[test]
    fn kubelet_resource_settings_become_kubelet_flag_values() {
        let k = k8s_context(&props(json!({
            "kubelet_system_reserved": "memory=250Mi, cpu=150m",
            "kubelet_eviction_hard": "memory.available=100Mi, nodefs.available=10%",
        })))
        .unwrap();
        assert_eq!(k.context["system_reserved"], "memory=250Mi,cpu=150m");
        assert_eq!(
            k.context["eviction_hard"],
            "memory.available<100Mi,nodefs.available<10%"
        );
        let e =
            k8s_context(&props(json!({"kubelet_system_reserved": "memory 250Mi"}))).unwrap_err();
        assert!(
            matches!(e, Error::Invalid { ref field, .. } if field == "kubelet_system_reserved")
        );
    }

    #[test]
    fn drain_fields_are_range_checked_and_kubo_0_18_differences_warned() {
        let k = k8s_context(&props(json!({
            "kubelet_drain_timeout": 0, "kubelet_drain_grace_period": 10,
            "kubelet_drain_force": true, "kubelet_drain_force_node": false,
        })))
        .unwrap();
        assert!(
            k.warnings.iter().all(|w| !w.contains("drain")),
            "{:?}",
            k.warnings
        );
        let k = k8s_context(&props(
            json!({"kubelet_drain_timeout": 15, "kubelet_drain_grace_period": -1}),
        ))
        .unwrap();
        let drain: Vec<_> = k.warnings.iter().filter(|w| w.contains("drain")).collect();
        assert_eq!(drain.len(), 2, "{drain:?}");
        assert!(drain[0].starts_with("kubelet_drain_timeout 15 is not applied"));
        assert!(drain[1].starts_with("kubelet_drain_grace_period -1 is not applied"));
        assert!(k8s_context(&props(json!({"kubelet_drain_timeout": 1441}))).is_err());
        assert!(k8s_context(&props(json!({"kubelet_drain_force": "yes"}))).is_err());
    }

    #[test]
    fn admission_plugins_map_to_kubo_0_18_switches() {
        let k = k8s_context(&props(json!({
            "admission_plugins": ["DenyEscalatingExec", "PodSecurityPolicy"],
            "allow_privileged_containers": true,
        })))
        .unwrap();
        assert_eq!(k.context["deny_escalating_exec"], true);
        assert_eq!(k.context["allow_privileged"], true);
        assert_eq!(k.warnings.len(), 1, "{:?}", k.warnings);
        assert!(k.warnings[0].starts_with("admission_plugins PodSecurityPolicy is not applied"));
        // Without privileged containers kubo 0.18.0 turns SecurityContextDeny on regardless.
        let k = k8s_context(&props(json!({"admission_plugins": []}))).unwrap();
        assert!(
            k.warnings[0].contains("SecurityContextDeny is on"),
            "{:?}",
            k.warnings
        );
    }

    #[test]
    fn cloud_config_maps_to_kubo_0_18_cloud_provider_settings() {
        assert!(k8s_context(&props(json!({"cni": "calico"}))).is_err());
        assert!(k8s_context(&props(json!({"cloud_provider": {"type": "digitalocean"}}))).is_err());
        let e = k8s_context(&props(json!({"cloud_provider": {"type": "azure"}}))).unwrap_err();
        assert!(e.to_string().contains("kubo 0.18.0"), "{e}");
        let k = k8s_context(&props(json!({"cloud_provider": {"type": "vsphere"}}))).unwrap();
        assert_eq!(
            k.context["cloud_provider"],
            json!({"type": "vsphere", "job_properties": {"type": "vsphere"}})
        );
        let k = k8s_context(&props(
            json!({"cloud_provider": {"type": "gce", "cloud_config": {
                "Global": {"project-id": "p1", "network-name": "net", "multizone": true}
            }}}),
        ))
        .unwrap();
        assert_eq!(
            k.context["cloud_provider"]["job_properties"],
            json!({"type": "gce", "gce": {"project-id": "p1", "network-name": "net"}})
        );
        assert!(
            k.warnings
                .iter()
                .any(|w| w
                    .starts_with("cloud_provider.cloud_config.Global.multizone is not applied")),
            "{:?}",
            k.warnings
        );
    }
}
