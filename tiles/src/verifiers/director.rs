//! The Director's install-time verifiers, under Ops Manager's type names (those Ops Manager
//! lists for the Director that Tileworks can really run): the networks and availability
//! zones the Director and every staged product are placed on exist in the Director's
//! settings, and an AZ a placement uses is served by a subnet of its network (BOSH cannot
//! place a VM in an AZ its network has no subnet in); each subnet's gateway can serve it and
//! answers (`NetworksPingableVerifier`); the IaaS configuration is usable and its endpoint
//! answers ([`super::iaas`]); each NTP server is a usable address and answers a time request
//! (`NtpVerifier`); Director Config's external database and blobstore take the Director's
//! credentials (`DirectorConfigurationVerifier`, [`super::backing`]). Blank placements are left to completeness ("can't be blank").
//!
//! What needs the network comes back as [`Reach`]es for the caller to try.

use serde_json::{Map, Value};

use super::backing::{self, DIRECTOR_CONFIGURATION};
use super::iaas::{self, IAAS_CONFIGURATION};
use super::{Finding, Reach, Target};
use crate::cloud_config::{Cidr, DirectorConfig, Iaas, Ip, IpRange};

pub const NETWORKS_EXISTENCE: &str = "NetworksExistenceVerifier";
pub const AVAILABILITY_ZONES: &str = "AvailabilityZonesVerifier";
pub const NETWORKS_PINGABLE: &str = "NetworksPingableVerifier";
pub const NTP: &str = "NtpVerifier";
pub const ALLOCATED_IP_ADDRESS: &str = "AllocatedIpAddressVerifier";
pub const PRIVILEGE: &str = "PrivilegeVerifier";

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
    (
        ALLOCATED_IP_ADDRESS,
        "The static IPs given to products' jobs that their VMs do not hold yet are free: nothing answers a ping there (when ICMP checks are on)",
    ),
    (
        PRIVILEGE,
        "The vCenter signs the Director's user in and shows it the datacenter and the datastores the Director is to use",
    ),
    (
        DIRECTOR_CONFIGURATION,
        "Director Config's external database signs its user in and its S3 blobstore takes an object written with its keys",
    ),
];

/// Whether a verifier's findings only warn. Ops Manager lets an apply through an unanswered
/// gateway or NTP server (firewalls often drop probes, and VMs may reach what Tileworks cannot)
/// but never through an unusable IaaS configuration. An address that answers a ping warns too:
/// a proxy answering for a subnet answers for free addresses as well.
pub fn ignorable(verifier: &str) -> bool {
    verifier == NETWORKS_PINGABLE || verifier == NTP || verifier == ALLOCATED_IP_ADDRESS
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
    /// Director Config, secrets opened (its external database and blobstore sections).
    pub director_configuration: &'a Map<String, Value>,
    /// The static IPs operators give products' jobs that those jobs' deployed VMs do not hold
    /// yet, each with where it is given (`AllocatedIpAddressVerifier`).
    pub new_static_ips: &'a [NewAddress],
}

/// An address a deploy is about to give a VM, and the field that gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAddress {
    pub ip: String,
    pub at: Finding,
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
            product: None,
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
        ALLOCATED_IP_ADDRESS => allocated_ip_addresses(inputs),
        PRIVILEGE => privilege(inputs.config.iaas, inputs.iaas_configuration),
        DIRECTOR_CONFIGURATION => {
            let real = inputs.config.iaas != Iaas::Embedded;
            let (findings, reach) =
                backing::director_configuration(inputs.director_configuration, real);
            Outcome {
                findings,
                reach,
                note: (!real).then(|| {
                    "the embedded IaaS's Director keeps its own database and blobstore: \
                     nothing was reached"
                        .to_owned()
                }),
            }
        }
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
                product: None,
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
        product: None,
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

/// Each address about to be given to a new VM must be free: a ping answered there means
/// something (a VM of another deployment, a host outside BOSH) has it, and the Director would
/// bring up a second machine on the same address. Pinged only on a real IaaS with Create
/// Networks' ICMP checks on, as gateways are.
fn allocated_ip_addresses(inputs: &DirectorInputs<'_>) -> Outcome {
    let mut out = Outcome::default();
    let real = inputs.config.iaas != Iaas::Embedded;
    if !real {
        out.note = Some("the embedded IaaS has no real network: addresses are not pinged".into());
        return out;
    }
    if !inputs.icmp_checks_enabled {
        out.note = Some("ICMP checks are off (Create Networks): addresses are not pinged".into());
        return out;
    }
    for address in inputs.new_static_ips {
        let mut at = address.at.clone();
        at.verifier = ALLOCATED_IP_ADDRESS.to_owned();
        at.message = format!("{} is already in use", address.ip);
        out.reach.push(Reach {
            target: Target::Unused {
                ip: address.ip.clone(),
            },
            at,
            credentials_at: None,
        });
    }
    out
}

/// The Director's vCenter user may do what the Director does: the vCenter signs it in and
/// shows it the datacenter and every datastore the IaaS Configuration names. Other IaaSes'
/// permissions are not checked (their APIs are not spoken here), which the note says. Blank
/// settings are the IaaS Configuration's findings, not repeated.
fn privilege(iaas: Iaas, settings: &Map<String, Value>) -> Outcome {
    if iaas != Iaas::Vsphere {
        return Outcome {
            note: Some(format!(
                "checks a vSphere user's permissions; {} permissions are not checked",
                serde_json::to_value(iaas)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )),
            ..Outcome::default()
        };
    }
    let text = |key: &str| {
        settings
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let finding = |key: &str, label: &str, message: String| Finding {
        verifier: PRIVILEGE.to_owned(),
        form: "iaas_configuration".to_owned(),
        form_label: "BOSH Director › IaaS Configuration".to_owned(),
        reference: format!("iaas_configuration.{key}"),
        field_label: label.to_owned(),
        message,
        product: None,
    };
    let (Some(host), Some(username), Some(password), Some(datacenter)) = (
        text("vcenter_host"),
        text("vcenter_username"),
        text("vcenter_password"),
        text("datacenter"),
    ) else {
        return Outcome::default();
    };
    let Ok((host, port)) = iaas::host_and_port(&host, 443) else {
        return Outcome::default();
    };
    let mut datastores: Vec<String> = Vec::new();
    for key in ["persistent_datastore_names", "ephemeral_datastore_names"] {
        for name in text(key).unwrap_or_default().split(',') {
            let name = name.trim();
            if !name.is_empty() && !datastores.iter().any(|d| d == name) {
                datastores.push(name.to_owned());
            }
        }
    }
    Outcome {
        reach: vec![Reach {
            target: Target::VcenterInventory {
                host,
                port,
                username,
                password,
                datacenter,
                datastores,
            },
            at: finding(
                "datacenter",
                "Datacenter name",
                "the vCenter user cannot see what the Director needs".into(),
            ),
            credentials_at: Some(finding(
                "vcenter_username",
                "vCenter username",
                "the vCenter refused the user or its password".into(),
            )),
        }],
        ..Outcome::default()
    }
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
