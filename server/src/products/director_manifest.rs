//! The Director's own deployment manifest, as Ops Manager renders it for the BOSH Director VM
//! (`GET /api/v0/staged/director/manifest`, `{"manifest": …}`): where the Director tile's
//! Security, Syslog and Resource Config sections land.
//!
//! * Security (`security_configuration`): `trusted_certificates`, with the installation's root
//!   CA appended when `opsmanager_root_ca_trusted_certs` is on, become the `director` job's
//!   `director.trusted_certs` (the Director installs them on every VM it creates, as a real
//!   Director does); `generate_vm_passwords` becomes `director.generate_vm_passwords`. The same
//!   certificates reach the products' manifests as `$ops_manager.trusted_certificates`
//!   (`installations/render.rs`).
//! * Syslog (`syslog_configuration`): when enabled, the Director VM gets syslog-release's
//!   `syslog_forwarder` job with its `syslog.*` properties (address, port, transport, TLS, the
//!   permitted peer and the CA, a custom rule; with "Forward debug logs" off, a rule that drops
//!   debug lines comes first).
//! * Resource Config (the `director` job): the VM type (automatic: [`AUTOMATIC_VM_TYPE`] when the
//!   catalogue has it) and the persistent disk (automatic: [`AUTOMATIC_DISK_MB`]).
//!
//! The embedded stand-in runs in-process and needs no VM of its own: this manifest is what a
//! real Ops Manager would deploy for it, rendered from the same saved values and shown for
//! review; Apply Changes deploys the products and the cloud config, not this manifest.

use serde_json::{json, Map, Value};

use super::director::{DirectorSettings, VmTypeEntry};
use super::Products;
use crate::Result;

/// The Director VM's type when its Resource Config says automatic (if the catalogue has it;
/// else the catalogue's first type).
pub const AUTOMATIC_VM_TYPE: &str = "large.disk";
/// The Director's persistent disk in MB when its Resource Config says automatic.
pub const AUTOMATIC_DISK_MB: i64 = 65_536;

/// The rsyslog rule that keeps debug lines from being forwarded (Syslog's "Forward debug logs"
/// off).
pub const DROP_DEBUG_RULE: &str = r#"if ($msg contains " DEBUG ") then stop"#;

/// The Director VM's resources as the manifest uses them: VM type and persistent disk (MB).
pub fn director_resources(s: &DirectorSettings, vm_types: &[VmTypeEntry]) -> (String, i64) {
    let rc = s.resources.get("director");
    let vm_type = rc
        .and_then(|rc| rc.vm_type())
        .map(str::to_owned)
        .or_else(|| {
            vm_types
                .iter()
                .find(|v| v.name == AUTOMATIC_VM_TYPE)
                .or_else(|| vm_types.first())
                .map(|v| v.name.clone())
        })
        .unwrap_or_else(|| AUTOMATIC_VM_TYPE.to_owned());
    let disk = match rc.map(|rc| rc.persistent_disk_mb()) {
        Some(Ok(tiles::properties::staged::Sized::Value(mb))) => mb,
        _ => AUTOMATIC_DISK_MB,
    };
    (vm_type, disk)
}

/// The manifest; `root_ca_pem` is the installation's active root CA (appended to the trusted
/// certificates when the Security section asks for it).
pub fn director_manifest(
    s: &DirectorSettings,
    vm_types: &[VmTypeEntry],
    root_ca_pem: &str,
) -> Value {
    let section = |name: &str| {
        s.other_properties
            .get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let security = section("security_configuration");
    let syslog = section("syslog_configuration");
    let text = |m: &Map<String, Value>, key: &str| {
        m.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    // A flag as JSON's boolean or as text (om's YAML configs may quote it).
    let flag = |m: &Map<String, Value>, key: &str| match m.get(key) {
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(t)) => t.trim().parse().ok(),
        _ => None,
    };

    let mut trusted: Vec<String> = Vec::new();
    let given = text(&security, "trusted_certificates");
    if !given.is_empty() {
        trusted.push(given);
    }
    if flag(&security, "opsmanager_root_ca_trusted_certs") == Some(true) {
        trusted.push(root_ca_pem.trim().to_owned());
    }
    let mut director = Map::new();
    director.insert("name".into(), json!("p-bosh"));
    director.insert(
        "trusted_certs".into(),
        json!(if trusted.is_empty() {
            String::new()
        } else {
            trusted.join("\n") + "\n"
        }),
    );
    director.insert(
        "generate_vm_passwords".into(),
        json!(flag(&security, "generate_vm_passwords").unwrap_or(true)),
    );
    if let Some(workers) = s.director_configuration.get("director_worker_instances") {
        director.insert("workers".into(), workers.clone());
    }
    if let Some(threads) = s.director_configuration.get("max_threads") {
        director.insert("max_threads".into(), threads.clone());
    }

    let mut jobs = vec![json!({
        "name": "director",
        "release": "bosh",
        "properties": { "director": Value::Object(director) },
    })];
    if flag(&syslog, "enabled") == Some(true) {
        let port = match syslog.get("port") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(p)) => p.trim().parse().ok(),
            _ => None,
        };
        let tls = flag(&syslog, "tls_enabled") == Some(true);
        let mut props = Map::new();
        props.insert("address".into(), json!(text(&syslog, "address")));
        props.insert("port".into(), json!(port));
        props.insert(
            "transport".into(),
            json!(text(&syslog, "transport_protocol")),
        );
        props.insert("tls_enabled".into(), json!(tls));
        if tls {
            props.insert(
                "permitted_peer".into(),
                json!(text(&syslog, "permitted_peer")),
            );
            props.insert(
                "ca_cert".into(),
                json!(text(&syslog, "ssl_ca_certificate") + "\n"),
            );
        }
        // "Forward debug logs" off (Ops Manager's default): debug lines are dropped before the
        // forwarding rule, with the rule syslog-release documents for it (its
        // example-custom-rules.md; syslog-migration-release's
        // `heuristically_filter_debug_messages` writes the same), ahead of the operator's own.
        let mut rules = Vec::new();
        if flag(&syslog, "forward_debug_logs") != Some(true) {
            rules.push(DROP_DEBUG_RULE.to_owned());
        }
        let custom = text(&syslog, "custom_rsyslog_configuration");
        if !custom.is_empty() {
            rules.push(custom);
        }
        if !rules.is_empty() {
            props.insert("custom_rule".into(), json!(rules.join("\n")));
        }
        jobs.push(json!({
            "name": "syslog_forwarder",
            "release": "syslog",
            "properties": { "syslog": Value::Object(props) },
        }));
    }

    let (vm_type, disk) = director_resources(s, vm_types);
    let assigned = |key: &str| {
        s.network_assignment
            .as_ref()
            .and_then(|a| a.get(key))
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut group = Map::new();
    group.insert("name".into(), json!("bosh"));
    group.insert("instances".into(), json!(1));
    group.insert("vm_type".into(), json!(vm_type));
    group.insert("persistent_disk".into(), json!(disk));
    group.insert("stemcell".into(), json!("default"));
    if let Some(az) = assigned("singleton_availability_zone") {
        group.insert("azs".into(), json!([az]));
    }
    if let Some(network) = assigned("network") {
        group.insert("networks".into(), json!([{ "name": network }]));
    }
    group.insert("jobs".into(), Value::Array(jobs));

    json!({
        "name": "p-bosh",
        "instance_groups": [Value::Object(group)],
        "update": {
            "canaries": 1,
            "max_in_flight": 1,
            "canary_watch_time": "30000-180000",
            "update_watch_time": "30000-180000",
        },
    })
}

impl Products {
    /// `GET /api/v0/staged/director/manifest`: the Director's manifest from its staged settings.
    pub async fn director_manifest(&self) -> Result<Value> {
        let view = self.director().await?;
        let vm_types = self.vm_types().await?;
        let ca = self.root_ca().await?;
        Ok(director_manifest(&view.settings, &vm_types, &ca.cert_pem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiles::properties::staged::ResourceConfig;

    fn vm(name: &str) -> VmTypeEntry {
        VmTypeEntry {
            name: name.into(),
            cpu: 2,
            ram: 8192,
            ephemeral_disk: 65536,
            builtin: true,
            cloud_properties: None,
        }
    }

    fn job<'a>(manifest: &'a Value, name: &str) -> Option<&'a Value> {
        manifest["instance_groups"][0]["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
    }

    #[test]
    fn sections_land_in_the_director_job_and_the_syslog_forwarder() {
        let mut s = DirectorSettings::default();
        s.other_properties.insert(
            "security_configuration".into(),
            json!({"trusted_certificates": "CERT-A\n", "generate_vm_passwords": false,
                   "opsmanager_root_ca_trusted_certs": true}),
        );
        s.other_properties.insert(
            "syslog_configuration".into(),
            json!({"enabled": true, "address": "logs.example.com", "port": "6514",
                   "transport_protocol": "tcp", "tls_enabled": true, "permitted_peer": "*.example.com",
                   "ssl_ca_certificate": "CA-PEM"}),
        );
        s.resources.insert(
            "director".into(),
            ResourceConfig {
                instance_type: Some("xlarge".into()),
                persistent_disk_mb: Some(json!("102400")),
                ..Default::default()
            },
        );
        let m = director_manifest(&s, &[vm("large.disk"), vm("xlarge")], "ROOT-CA\n");
        let d = &job(&m, "director").unwrap()["properties"]["director"];
        assert_eq!(d["trusted_certs"], "CERT-A\nROOT-CA\n");
        assert_eq!(d["generate_vm_passwords"], false);
        let sl = &job(&m, "syslog_forwarder").unwrap()["properties"]["syslog"];
        assert_eq!(sl["address"], "logs.example.com");
        assert_eq!(sl["port"], 6514);
        assert_eq!(sl["transport"], "tcp");
        assert_eq!(sl["tls_enabled"], true);
        assert_eq!(sl["permitted_peer"], "*.example.com");
        assert_eq!(sl["ca_cert"], "CA-PEM\n");
        assert_eq!(
            sl["custom_rule"], DROP_DEBUG_RULE,
            "debug logs are not forwarded"
        );
        assert_eq!(m["instance_groups"][0]["vm_type"], "xlarge");
        assert_eq!(m["instance_groups"][0]["persistent_disk"], 102400);
    }

    #[test]
    fn forward_debug_logs_and_a_custom_rule_decide_the_forwarders_rules() {
        let rules = |syslog: Value| {
            let mut s = DirectorSettings::default();
            s.other_properties
                .insert("syslog_configuration".into(), syslog);
            let m = director_manifest(&s, &[vm("large.disk")], "ROOT\n");
            job(&m, "syslog_forwarder").unwrap()["properties"]["syslog"]["custom_rule"].clone()
        };
        let base = json!({"enabled": true, "address": "logs", "port": 514,
                          "transport_protocol": "udp"});
        let with = |extra: Value| {
            let mut v = base.clone();
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        assert_eq!(rules(base.clone()), DROP_DEBUG_RULE);
        assert_eq!(
            rules(with(json!({"forward_debug_logs": true}))),
            Value::Null
        );
        assert_eq!(
            rules(with(json!({"forward_debug_logs": "true",
                              "custom_rsyslog_configuration": "if ($app-name != \"uaa\") then stop"}))),
            "if ($app-name != \"uaa\") then stop"
        );
        assert_eq!(
            rules(with(json!({"custom_rsyslog_configuration": "R"}))),
            format!("{DROP_DEBUG_RULE}\nR")
        );
    }

    #[test]
    fn defaults_without_sections() {
        let s = DirectorSettings::default();
        let m = director_manifest(&s, &[vm("medium"), vm("large.disk")], "ROOT\n");
        let d = &job(&m, "director").unwrap()["properties"]["director"];
        assert_eq!(d["trusted_certs"], "");
        assert_eq!(d["generate_vm_passwords"], true);
        assert!(job(&m, "syslog_forwarder").is_none());
        assert_eq!(m["instance_groups"][0]["vm_type"], AUTOMATIC_VM_TYPE);
        assert_eq!(
            m["instance_groups"][0]["persistent_disk"],
            AUTOMATIC_DISK_MB
        );
    }
}
