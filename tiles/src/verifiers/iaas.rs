//! Ops Manager's `IaasConfigurationVerifier` for the Director tile: the IaaS Configuration
//! section holds what its IaaS needs, each value in a shape the CPI can use, and names an
//! endpoint the caller then tries to reach (the vCenter, the Keystone URL, the cloud's API).
//!
//! The embedded IaaS passes: its CPI simulates VMs and has nothing to connect to. Blank
//! required settings are findings here as well as completeness problems, because disabling
//! this verifier must not hide that the IaaS cannot be reached without them. Not ignorable,
//! as in Ops Manager: a Director that cannot reach its IaaS deploys nothing.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::{Finding, Reach, Target};
use crate::cloud_config::Iaas;

pub const IAAS_CONFIGURATION: &str = "IaasConfigurationVerifier";

/// The settings each IaaS requires, with the labels the IaaS Configuration form gives them
/// (alternatives, such as AWS keys or an instance profile, are checked by completeness). The
/// Director's completeness reads the same list.
pub fn required(iaas: Iaas) -> &'static [(&'static str, &'static str)] {
    match iaas {
        Iaas::Vsphere => &[
            ("vcenter_host", "vCenter host"),
            ("vcenter_username", "vCenter username"),
            ("vcenter_password", "vCenter password"),
            ("datacenter", "Datacenter name"),
            ("persistent_datastore_names", "Persistent datastore names"),
            ("ephemeral_datastore_names", "Ephemeral datastore names"),
        ],
        Iaas::Aws => &[
            ("region", "Region"),
            ("security_group", "Security group ID"),
            ("key_pair_name", "Key pair name"),
            ("ssh_private_key", "SSH private key"),
        ],
        Iaas::Gcp => &[
            ("project", "Project"),
            ("default_deployment_tag", "Default deployment tag"),
        ],
        Iaas::Azure => &[
            ("subscription_id", "Subscription ID"),
            ("tenant_id", "Tenant ID"),
            ("client_id", "Application (client) ID"),
            ("client_secret", "Client secret"),
            ("resource_group_name", "Resource group name"),
            ("bosh_storage_account_name", "Storage account name"),
            ("ssh_public_key", "SSH public key"),
            ("ssh_private_key", "SSH private key"),
        ],
        Iaas::Openstack => &[
            ("identity_endpoint", "Identity endpoint"),
            ("username", "Username"),
            ("password", "Password"),
            ("tenant", "Project (tenant)"),
            ("security_group", "Security group"),
            ("key_pair_name", "Key pair name"),
            ("ssh_private_key", "SSH private key"),
        ],
        Iaas::Embedded => &[],
    }
}

fn finding(key: &str, label: &str, message: impl Into<String>) -> Finding {
    Finding {
        verifier: IAAS_CONFIGURATION.to_owned(),
        form: "iaas_configuration".to_owned(),
        form_label: "BOSH Director › IaaS Configuration".to_owned(),
        reference: format!("iaas_configuration.{key}"),
        field_label: label.to_owned(),
        message: message.into(),
        product: None,
    }
}

fn text<'a>(settings: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    settings
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn pattern(cell: &'static OnceLock<Regex>, re: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(re).expect("a valid pattern"))
}

/// `host` or `host:port` as a host name or address, without a scheme or path.
pub(crate) fn host_and_port(value: &str, default_port: u16) -> Result<(String, u16), String> {
    if value.contains("://") || value.contains('/') {
        return Err(format!(
            "'{value}' is a URL; give the host name or address only (like vcsa.example.com)"
        ));
    }
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (
            h,
            p.parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("'{p}' is not a port (1–65535)"))?,
        ),
        _ => (value, default_port),
    };
    static HOST: OnceLock<Regex> = OnceLock::new();
    let ok = pattern(
        &HOST,
        r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$",
    );
    if !ok.is_match(host) && host.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("'{host}' is neither a host name nor an IP address"));
    }
    Ok((host.to_owned(), port))
}

/// `https://host[:port]/…` → host, port (443 or 80 by scheme), TLS.
pub(crate) fn url_endpoint(value: &str) -> Result<(String, u16, bool), String> {
    let (scheme, rest) = value.split_once("://").ok_or_else(|| {
        format!("'{value}' is not a URL (like https://keystone.example.com:5000/v3)")
    })?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        other => return Err(format!("'{other}' is not http or https")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if authority.is_empty() {
        return Err(format!("'{value}' names no host"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("'{authority}' is not a host"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("'{authority}' is not a host")),
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("'{p}' is not a port (1–65535)"))?,
        None if tls => 443,
        None => 80,
    };
    Ok((host, port, tls))
}

fn tls_endpoint(host: &str) -> Target {
    Target::Connect {
        host: host.to_owned(),
        port: 443,
        tls: true,
    }
}

/// Runs the verifier: what is missing or malformed, and the endpoint to reach when the
/// settings name one.
pub fn check(iaas: Iaas, settings: &Map<String, Value>) -> (Vec<Finding>, Vec<Reach>) {
    let mut out = Vec::new();
    for (key, label) in required(iaas) {
        if settings.get(*key).is_none_or(|v| match v {
            Value::String(s) => s.trim().is_empty(),
            Value::Null => true,
            _ => false,
        }) {
            out.push(finding(key, label, format!("can't be blank on {iaas:?}")));
        }
    }
    let mut reach = Vec::new();
    let mut reach_at = |key: &str, label: &str, target: Target, what: &str| {
        reach.push(Reach {
            target,
            at: finding(key, label, format!("{what} cannot be reached")),
            credentials_at: None,
        })
    };
    match iaas {
        Iaas::Embedded => {}
        Iaas::Vsphere => {
            for (key, label) in [
                ("persistent_datastore_names", "Persistent datastore names"),
                ("ephemeral_datastore_names", "Ephemeral datastore names"),
            ] {
                if let Some(names) = text(settings, key) {
                    if names.split(',').any(|n| n.trim().is_empty()) {
                        out.push(finding(
                            key,
                            label,
                            format!("'{names}' has an empty name between its commas"),
                        ));
                    }
                }
            }
            if let Some(ca) = text(settings, "vcenter_ca_certificate") {
                if !ca.starts_with("-----BEGIN CERTIFICATE-----") {
                    out.push(finding(
                        "vcenter_ca_certificate",
                        "vCenter CA certificate",
                        "is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
                    ));
                }
            }
            if let Some(host) = text(settings, "vcenter_host") {
                match host_and_port(host, 443) {
                    Err(e) => out.push(finding("vcenter_host", "vCenter host", e)),
                    Ok((host, port)) => reach_at(
                        "vcenter_host",
                        "vCenter host",
                        Target::Connect {
                            host: host.clone(),
                            port,
                            tls: true,
                        },
                        &format!("the vCenter at {host}:{port}"),
                    ),
                }
            }
        }
        Iaas::Aws => {
            static REGION: OnceLock<Regex> = OnceLock::new();
            static KEY_ID: OnceLock<Regex> = OnceLock::new();
            let region = text(settings, "region");
            if let Some(r) = region {
                if pattern(&REGION, r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$").is_match(r) {
                    let host = format!("ec2.{r}.amazonaws.com");
                    reach_at(
                        "region",
                        "Region",
                        tls_endpoint(&host),
                        &format!("the EC2 API of {r} ({host})"),
                    );
                } else {
                    out.push(finding(
                        "region",
                        "Region",
                        format!("'{r}' is not an AWS region (like eu-west-1)"),
                    ));
                }
            }
            if let Some(id) = text(settings, "access_key_id") {
                if !pattern(&KEY_ID, r"^(AKIA|ASIA)[A-Z0-9]{16}$").is_match(id) {
                    out.push(finding(
                        "access_key_id",
                        "Access key ID",
                        "is not an AWS access key ID (AKIA or ASIA and 16 capitals or digits)",
                    ));
                }
            }
            pem_key(settings, "ssh_private_key", "SSH private key", &mut out);
        }
        Iaas::Gcp => {
            static PROJECT: OnceLock<Regex> = OnceLock::new();
            if let Some(p) = text(settings, "project") {
                if !pattern(&PROJECT, r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$").is_match(p) {
                    out.push(finding(
                        "project",
                        "Project",
                        format!("'{p}' is not a GCP project ID (6–30 lowercase letters, digits and hyphens, starting with a letter)"),
                    ));
                }
            }
            if let Some(json) = text(settings, "auth_json") {
                let kind = serde_json::from_str::<Value>(json)
                    .ok()
                    .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_owned));
                if kind.as_deref() != Some("service_account") {
                    out.push(finding(
                        "auth_json",
                        "Service account key",
                        "is not a service account key (JSON with \"type\": \"service_account\")",
                    ));
                }
            }
            reach_at(
                "project",
                "Project",
                tls_endpoint("compute.googleapis.com"),
                "the Compute Engine API (compute.googleapis.com)",
            );
        }
        Iaas::Azure => {
            static GUID: OnceLock<Regex> = OnceLock::new();
            for (key, label) in [
                ("subscription_id", "Subscription ID"),
                ("tenant_id", "Tenant ID"),
            ] {
                if let Some(v) = text(settings, key) {
                    if !pattern(
                        &GUID,
                        r"^[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$",
                    )
                    .is_match(v)
                    {
                        out.push(finding(key, label, format!("'{v}' is not a GUID")));
                    }
                }
            }
            reach_at(
                "subscription_id",
                "Subscription ID",
                tls_endpoint("management.azure.com"),
                "the Azure Resource Manager API (management.azure.com)",
            );
            pem_key(settings, "ssh_private_key", "SSH private key", &mut out);
        }
        Iaas::Openstack => {
            if let Some(url) = text(settings, "identity_endpoint") {
                match url_endpoint(url) {
                    Err(e) => out.push(finding("identity_endpoint", "Identity endpoint", e)),
                    Ok((host, port, tls)) => reach_at(
                        "identity_endpoint",
                        "Identity endpoint",
                        Target::Connect {
                            host: host.clone(),
                            port,
                            tls,
                        },
                        &format!("Keystone at {host}:{port}"),
                    ),
                }
            }
            pem_key(settings, "ssh_private_key", "SSH private key", &mut out);
        }
    }
    // An endpoint is worth reaching only when nothing already says the settings are wrong.
    if !out.is_empty() {
        reach.clear();
    }
    (out, reach)
}

fn pem_key(settings: &Map<String, Value>, key: &str, label: &str, out: &mut Vec<Finding>) {
    if let Some(pem) = text(settings, key) {
        if !(pem.starts_with("-----BEGIN") && pem.contains("PRIVATE KEY-----")) {
            out.push(finding(key, label, "is not a PEM private key"));
        }
    }
}
