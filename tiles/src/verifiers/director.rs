//! The Director's install-time verifiers, under Ops Manager's type names (those Ops Manager
//! lists for the Director that Tileworks can really run): the networks and availability
//! zones the Director and every staged product are placed on exist in the Director's
//! settings, and an AZ a placement uses is served by a subnet of its network (BOSH cannot
//! place a VM in an AZ its network has no subnet in); each subnet's gateway can serve it and
//! answers (`NetworksPingableVerifier`); the IaaS configuration is usable and its endpoint
//! answers ([`super::iaas`]); each NTP server is a usable address and answers a time request
//! (`NtpVerifier`). Blank placements are left to completeness ("can't be blank").
//!
//! What needs the network comes back as [`Reach`]es for the caller to try.

use serde_json::{Map, Value};

use super::iaas::{self, IAAS_CONFIGURATION};
use super::{Finding, Reach, Target};
use crate::cloud_config::{Cidr, DirectorConfig, Iaas, Ip, IpRange};

pub const NETWORKS_EXISTENCE: &str = "NetworksExistenceVerifier";
pub const AVAILABILITY_ZONES: &str = "AvailabilityZonesVerifier";
pub const NETWORKS_PINGABLE: &str = "NetworksPingableVerifier";
pub const NTP: &str = "NtpVerifier";

/// The Director's verifiers: type name and what it checks.
pub const DIRECTOR_VERIFIERS: &[(&str, &str)] = &[
    (
        NETWORKS_EXISTENCE,
        "The networks the Director and each product are placed on exist",
    ),
    (
        AVAILABILITY_ZONES,
        "The availability zones the Director and each product are placed in exist and are served by a subnet of their network",
    ),
    (
        IAAS_CONFIGURATION,
        "The IaaS configuration has what its IaaS needs, in usable shapes, and its endpoint answers",
    ),
    (
        NETWORKS_PINGABLE,
        "Each subnet's gateway lies in its CIDR, is no static IP, and answers when ICMP checks are on",
    ),
    (
        NTP,
        "Each NTP server is a host name or address (with an optional port) and answers an SNTP time request",
    ),
];

/// Whether a verifier's findings only warn. Ops Manager lets an apply through an unanswered
/// gateway or NTP server (firewalls often drop probes, and VMs may reach what Tileworks cannot)
/// but never through an unusable IaaS configuration.
pub fn ignorable(verifier: &str) -> bool {
    verifier == NETWORKS_PINGABLE || verifier == NTP
}

/// What the Director's verifiers look at.
#[derive(Debug, Clone, Copy)]
pub struct DirectorInputs<'a> {
    pub config: &'a DirectorConfig,
    /// The IaaS Configuration section, secrets opened.
    pub iaas_configuration: &'a Map<String, Value>,
    /// Create Networks' "Enable ICMP checks": whether gateways are to be reached.
    pub icmp_checks_enabled: bool,
    pub placements: &'a [Placement],
    /// Director Config's NTP servers, as listed (`ntp_servers_string` split at commas).
    pub ntp_servers: &'a [String],
}

/// One verifier's result: findings, what is left to reach, and a note for the log (why
/// nothing was reached).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub reach: Vec<Reach>,
    pub note: Option<String>,
}

/// Where the Director or one product is placed (its Assign AZs and Networks form).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// Whose placement: `BOSH Director` or the product's label.
    pub owner: String,
    /// The form's name and its key prefix: `network_and_az` (the Director) or
    /// `networks_and_azs` (a product).
    pub form: String,
    pub network: Option<String>,
    pub service_network: Option<String>,
    pub singleton_az: Option<String>,
    pub other_azs: Vec<String>,
}

impl Placement {
    fn finding(&self, verifier: &str, key: &str, label: &str, message: String) -> Finding {
        Finding {
            verifier: verifier.to_owned(),
            form: self.form.clone(),
            form_label: format!("{} › Assign AZs and Networks", self.owner),
            reference: format!("{}.{key}", self.form),
            field_label: label.to_owned(),
            message,
        }
    }
}

/// Runs one Director verifier (unknown names find nothing).
pub fn run(verifier: &str, inputs: &DirectorInputs<'_>) -> Outcome {
    let findings = |findings| Outcome {
        findings,
        ..Outcome::default()
    };
    match verifier {
        NETWORKS_EXISTENCE => findings(networks_existence(inputs.config, inputs.placements)),
        AVAILABILITY_ZONES => findings(availability_zones(inputs.config, inputs.placements)),
        IAAS_CONFIGURATION => {
            let (findings, reach) = iaas::check(inputs.config.iaas, inputs.iaas_configuration);
            let note = (inputs.config.iaas == Iaas::Embedded)
                .then(|| "the embedded IaaS simulates its VMs: no endpoint to reach".to_owned());
            Outcome {
                findings,
                reach,
                note,
            }
        }
        NETWORKS_PINGABLE => networks_pingable(inputs.config, inputs.icmp_checks_enabled),
        NTP => ntp(inputs.config, inputs.ntp_servers),
        _ => Outcome::default(),
    }
}

/// Each subnet's gateway: in its CIDR, neither its network nor broadcast address, not among
/// its static IPs (BOSH would hand it to a VM). A gateway inside the reserved ranges is
/// normal (Ops Manager's own examples reserve it) and BOSH never assigns it either way.
/// Gateways are reached only on a real IaaS with ICMP checks on, as Ops Manager pings them.
fn networks_pingable(config: &DirectorConfig, icmp_checks_enabled: bool) -> Outcome {
    let mut out = Outcome::default();
    let real = config.iaas != Iaas::Embedded;
    for (i, network) in config.networks.iter().enumerate() {
        for (j, subnet) in network.subnets.iter().enumerate() {
            let at = |message: String| Finding {
                verifier: NETWORKS_PINGABLE.to_owned(),
                form: "networks".to_owned(),
                form_label: format!("BOSH Director › Create Networks › {}", network.name),
                reference: format!("networks[{i}].subnets[{j}].gateway"),
                field_label: "Gateway".to_owned(),
                message,
            };
            let gateway = subnet.gateway.trim();
            let (Ok(ip), Ok(cidr)) = (Ip::parse(gateway), Cidr::parse(&subnet.cidr)) else {
                // Unreadable addresses are completeness problems of Create Networks.
                continue;
            };
            let range = cidr.range();
            let problem = if !range.contains(ip) {
                Some(format!("{gateway} is outside the subnet {}", subnet.cidr))
            } else if range.len() > 2 && (ip == range.first || ip == range.last) {
                Some(format!(
                    "{gateway} is the network or broadcast address of {}",
                    subnet.cidr
                ))
            } else {
                subnet
                    .static_ips
                    .iter()
                    .find(|r| IpRange::parse(r).is_ok_and(|r| r.contains(ip)))
                    .map(|r| {
                        format!(
                            "{gateway} is among the static IPs ({r}): BOSH would give it to a VM"
                        )
                    })
            };
            match problem {
                Some(message) => out.findings.push(at(message)),
                None if real && icmp_checks_enabled => out.reach.push(Reach {
                    target: Target::Host {
                        host: gateway.to_owned(),
                    },
                    at: at(format!("{gateway} does not answer")),
                    credentials_at: None,
                }),
                None => {}
            }
        }
    }
    out.note = if !real {
        Some("the embedded IaaS has no real network: gateways are not reached".into())
    } else if !icmp_checks_enabled {
        Some("ICMP checks are off (Create Networks): gateways are not reached".into())
    } else {
        None
    };
    out
}

/// The standard NTP port.
pub const NTP_PORT: u16 = 123;

/// Each NTP server: a host name or IP address, optionally `host:port` (an IPv6 address is
/// taken whole, on port 123), asked for the time on a real IaaS — the Director's VMs set their
/// clocks from these servers, and a clock off by minutes breaks TLS and the agents' messages.
/// A blank list is completeness's ("can't be blank").
fn ntp(config: &DirectorConfig, servers: &[String]) -> Outcome {
    let mut out = Outcome::default();
    let real = config.iaas != Iaas::Embedded;
    let at = |message: String| Finding {
        verifier: NTP.to_owned(),
        form: "director_configuration".to_owned(),
        form_label: "BOSH Director › Director Config".to_owned(),
        reference: "director_configuration.ntp_servers_string".to_owned(),
        field_label: "NTP servers".to_owned(),
        message,
    };
    for server in servers.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let parsed = match server.parse::<std::net::Ipv6Addr>() {
            Ok(v6) => Ok((v6.to_string(), NTP_PORT)),
            Err(_) => iaas::host_and_port(server, NTP_PORT),
        };
        match parsed {
            Err(e) => out.findings.push(at(e)),
            Ok((host, port)) if real => out.reach.push(Reach {
                target: Target::Ntp { host, port },
                at: at(format!(
                    "the NTP server {server} does not answer a time request"
                )),
                credentials_at: None,
            }),
            Ok(_) => {}
        }
    }
    if !real {
        out.note =
            Some("the embedded IaaS simulates its VMs' clocks: NTP servers are not asked".into());
    }
    out
}

fn known_networks(config: &DirectorConfig) -> String {
    let names: Vec<&str> = config.networks.iter().map(|n| n.name.as_str()).collect();
    if names.is_empty() {
        "none is configured".into()
    } else {
        format!("the Director has {}", names.join(", "))
    }
}

fn networks_existence(config: &DirectorConfig, placements: &[Placement]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in placements {
        for (key, label, name) in [
            ("network", "Network", &p.network),
            ("service_network", "Service Network", &p.service_network),
        ] {
            let Some(name) = name.as_deref().filter(|n| !n.trim().is_empty()) else {
                continue;
            };
            if !config.networks.iter().any(|n| n.name == name) {
                out.push(p.finding(
                    NETWORKS_EXISTENCE,
                    key,
                    label,
                    format!(
                        "the network '{name}' does not exist ({})",
                        known_networks(config)
                    ),
                ));
            }
        }
    }
    out
}

fn availability_zones(config: &DirectorConfig, placements: &[Placement]) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in placements {
        let network = p
            .network
            .as_deref()
            .and_then(|name| config.networks.iter().find(|n| n.name == name));
        let zones = p
            .singleton_az
            .iter()
            .map(|az| {
                (
                    "singleton_availability_zone",
                    "Singleton Availability Zone",
                    az,
                )
            })
            .chain(
                p.other_azs
                    .iter()
                    .map(|az| ("other_availability_zones", "Balance other jobs in", az)),
            );
        for (key, label, az) in zones {
            if az.trim().is_empty() {
                continue;
            }
            if !config.azs.iter().any(|a| a.name == *az) {
                let known: Vec<&str> = config.azs.iter().map(|a| a.name.as_str()).collect();
                out.push(p.finding(
                    AVAILABILITY_ZONES,
                    key,
                    label,
                    format!(
                        "the availability zone '{az}' does not exist (the Director has {})",
                        if known.is_empty() {
                            "none".into()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            } else if let Some(network) = network {
                if !network
                    .subnets
                    .iter()
                    .any(|s| s.azs.iter().any(|a| a == az))
                {
                    out.push(p.finding(
                        AVAILABILITY_ZONES,
                        key,
                        label,
                        format!(
                            "the network '{}' has no subnet in the availability zone '{az}'",
                            network.name
                        ),
                    ));
                }
            }
        }
    }
    out
}
