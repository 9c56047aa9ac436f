//! The Director's install-time verifiers, under Ops Manager's type names, limited to what can
//! really be checked without reaching the IaaS: the networks and availability zones the
//! Director and every staged product are placed on exist in the Director's settings, and an
//! AZ a placement uses is served by a subnet of its network (BOSH cannot place a VM in an AZ
//! its network has no subnet in). Blank placements are left to completeness ("can't be
//! blank").

use super::Finding;
use crate::cloud_config::DirectorConfig;

pub const NETWORKS_EXISTENCE: &str = "NetworksExistenceVerifier";
pub const AVAILABILITY_ZONES: &str = "AvailabilityZonesVerifier";

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
];

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
pub fn run(verifier: &str, config: &DirectorConfig, placements: &[Placement]) -> Vec<Finding> {
    match verifier {
        NETWORKS_EXISTENCE => networks_existence(config, placements),
        AVAILABILITY_ZONES => availability_zones(config, placements),
        _ => Vec::new(),
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
