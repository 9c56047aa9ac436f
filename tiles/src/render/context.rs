//! Everything a render needs besides the tile's metadata and its staged values: who the product
//! is (its guid, which is also the BOSH deployment name), where it runs (network and AZ
//! assignment, the Director's cloud config), how its jobs are sized, and the environment the
//! `$ops_manager`, `$director`, `$self` and `$runtime` contexts and `..product` references read.
//!
//! The server builds a [`RenderContext`] from its database; [`RenderContext::offline_default`]
//! builds one with no server at all (the `tile render` command, the browser preview, tests):
//! a Director with the AZs and networks an om `network-properties` section names, Ops Manager's
//! default VM and disk catalogue, and a root CA given as PEM or left as a CredHub placeholder.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::cloud_config::{AzConfig, CloudConfig, DirectorConfig, NetworkConfig, SubnetConfig};
use crate::metadata::ProductTemplate;
use crate::product_config::ErrandConfig;
use crate::properties::StagedValues;
use crate::{Error, Result};

/// The CredHub name of the installation's root CA when no PEM is at hand: the server stores the
/// root CA there, so a manifest rendered offline still deploys with the right CA.
pub const ROOT_CA_VARIABLE: &str = "/tileworks/root_ca";

/// Where the product's VMs go (the Assign AZs and Networks page, om `network-properties`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetworkAssignment {
    /// The AZ of `single_az_only` jobs.
    pub singleton_availability_zone: String,
    /// The AZs every other job is balanced across (empty means the singleton AZ only).
    pub availability_zones: Vec<String>,
    /// The network every job is placed on.
    pub network: String,
    /// The network on-demand service instances go to (`$self.service_network`), for
    /// `service_broker: true` tiles.
    pub service_network: Option<String>,
}

impl NetworkAssignment {
    /// Reads om's `network-properties` section:
    /// `{network: {name}, service_network: {name}, singleton_availability_zone: {name},
    /// other_availability_zones: [{name}]}` (plain strings are accepted for each name too).
    pub fn from_om(value: &Value) -> Result<NetworkAssignment> {
        let name_of = |v: &Value| -> Option<String> {
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Object(m) => m.get("name").and_then(Value::as_str).map(str::to_string),
                _ => None,
            }
        };
        let invalid = |field: &str, message: &str| Error::Invalid {
            field: format!("network-properties.{field}"),
            message: message.to_string(),
        };
        let Value::Object(map) = value else {
            return Err(invalid("", "expected a map"));
        };
        let network = map
            .get("network")
            .and_then(name_of)
            .ok_or_else(|| invalid("network", "needs a `name`"))?;
        let singleton = map
            .get("singleton_availability_zone")
            .and_then(name_of)
            .ok_or_else(|| invalid("singleton_availability_zone", "needs a `name`"))?;
        let others = match map.get("other_availability_zones") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    name_of(i).ok_or_else(|| {
                        invalid("other_availability_zones", "each entry needs a `name`")
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            Some(_) => return Err(invalid("other_availability_zones", "expected a list")),
        };
        Ok(NetworkAssignment {
            singleton_availability_zone: singleton,
            availability_zones: others,
            network,
            service_network: map.get("service_network").and_then(name_of),
        })
    }

    /// The AZs of a job: the singleton AZ for `single_az_only` jobs, else the balanced ones.
    pub fn azs_for(&self, single_az_only: bool) -> Vec<String> {
        if single_az_only || self.availability_zones.is_empty() {
            vec![self.singleton_availability_zone.clone()]
        } else {
            self.availability_zones.clone()
        }
    }
}

/// The BOSH Director the product deploys to, and the `$director` accessors.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorContext {
    /// The operator's Director configuration (IaaS, AZs, networks, VM and disk catalogues).
    pub config: DirectorConfig,
    /// The cloud config generated from `config` (or read from the Director).
    pub cloud_config: CloudConfig,
    /// `canaries` of the deployment `update` block when the tile does not say.
    pub canaries: i64,
    /// `max_in_flight` of the deployment `update` block when neither the job nor the operator
    /// says (an integer or `"N%"`).
    pub max_in_flight: Value,
    pub canary_watch_time: String,
    pub update_watch_time: String,
    /// `$director.*` accessors: `guid`, `hostname`, `deployment_ip`, `username`, `password`,
    /// `ntp_servers`, `ca_public_key`, `tld`, … Documented accessors that are absent read as
    /// null; others are unknown references.
    pub accessors: Map<String, Value>,
}

/// The `$ops_manager` accessors and the installation's root CA.
#[derive(Debug, Clone, PartialEq)]
pub struct OpsManagerContext {
    /// `ca_certificate`, `trusted_certificates`, `http_proxy`, `https_proxy`, `no_proxy`,
    /// `instance_types_catalog`, `restricted_view_api_access_credentials`, `iaas_type`,
    /// `dns_enabled`. Documented accessors that are absent read as null.
    pub accessors: Map<String, Value>,
    /// The CredHub name of the CA that signs generated certificates declared as BOSH
    /// variables (see the module documentation of `render`).
    pub root_ca_variable: String,
}

/// `$self`: the product's own service-broker context.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelfContext {
    /// The UAA client Ops Manager creates for a `service_broker` tile; defaults to the guid.
    pub uaa_client_name: Option<String>,
    /// Its secret; a BOSH placeholder (declared in `variables`) until the server provides it.
    pub uaa_client_secret: Option<String>,
}

/// Another product of the installation, for `..NAME.` references.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherProduct {
    /// Its guid (deployment name).
    pub guid: String,
    pub template: ProductTemplate,
    pub staged: StagedValues,
    /// Its network assignment; `None` means the same as the product being rendered.
    pub network: Option<NetworkAssignment>,
    /// When it was staged (RFC 3339; empty offline): with its name, the order in which
    /// products on one network are given addresses (`plan.rs`).
    pub staged_at: String,
}

/// Everything besides metadata and staged values that a render reads.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderContext {
    /// `<product name>-<20 hex digits>`; the deployment name and `.deployment_name`.
    pub guid: String,
    pub network: NetworkAssignment,
    pub director: DirectorContext,
    pub ops_manager: OpsManagerContext,
    pub self_context: SelfContext,
    /// `$runtime.*` (PAS values: `system_domain`, `apps_domain`, …).
    pub runtime: Map<String, Value>,
    /// Stemcell versions assigned to the product, by OS; absent OSes use the version of the
    /// metadata's stemcell criteria.
    pub stemcells: BTreeMap<String, String>,
    /// Errand run rules by errand name (om `errand-config`).
    pub errands: BTreeMap<String, ErrandConfig>,
    /// Other products by name.
    pub products: BTreeMap<String, OtherProduct>,
    /// When the product being rendered was staged (RFC 3339; empty offline): see
    /// [`OtherProduct::staged_at`].
    pub staged_at: String,
}

/// Options of [`RenderContext::offline_default`].
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineOptions {
    pub director_hostname: String,
    /// The root CA certificate PEM; `None` renders `((/tileworks/root_ca.certificate))`.
    pub root_ca_pem: Option<String>,
    /// om `network-properties`; `None` means AZ `az1` and network `default`.
    pub network_properties: Option<Value>,
    /// The guid's 20 hex digits; `None` derives them from the product name, so offline renders
    /// are reproducible.
    pub guid_suffix: Option<String>,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        OfflineOptions {
            director_hostname: "bosh.tileworks.internal".into(),
            root_ca_pem: None,
            network_properties: None,
            guid_suffix: None,
        }
    }
}

/// `<name>-<20 hex>` with the hex derived from `seed` (FNV-1a, so the same seed always gives
/// the same guid; the server passes random bytes as the seed).
pub fn product_guid(name: &str, seed: &[u8]) -> String {
    let mut hex = String::with_capacity(20);
    let mut round: u64 = 0;
    while hex.len() < 20 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round;
        for b in seed.iter().chain(name.as_bytes()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        hex.push_str(&format!("{h:016x}"));
        round += 1;
    }
    hex.truncate(20);
    format!("{name}-{hex}")
}

/// True when `guid` is `<name>-<20 lowercase hex digits>`.
pub fn is_product_guid(name: &str, guid: &str) -> bool {
    guid.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            hex.len() == 20
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        })
}

impl RenderContext {
    /// A context with defaults for everything but the product, the Director configuration and
    /// the network assignment. The cloud config is generated from `director`; it fails when the
    /// Director configuration is not valid.
    pub fn new(
        guid: impl Into<String>,
        director: DirectorConfig,
        network: NetworkAssignment,
    ) -> Result<RenderContext> {
        let cloud_config = director.cloud_config()?;
        let catalogue: Vec<Value> = director
            .effective_vm_types()
            .iter()
            .map(|v| {
                json!({"name": v.name, "cpu": v.cpu, "ram": v.ram, "ephemeral_disk": v.ephemeral_disk})
            })
            .collect();
        let iaas = serde_json::to_value(director.iaas).unwrap_or(Value::Null);
        let mut om = Map::new();
        om.insert("iaas_type".into(), iaas);
        om.insert("instance_types_catalog".into(), Value::Array(catalogue));
        om.insert("dns_enabled".into(), Value::Bool(true));
        om.insert("trusted_certificates".into(), Value::String(String::new()));
        let mut dir = Map::new();
        dir.insert("tld".into(), Value::String("bosh".into()));
        dir.insert("ntp_servers".into(), Value::Array(Vec::new()));
        dir.insert("username".into(), Value::String("director".into()));
        Ok(RenderContext {
            guid: guid.into(),
            network,
            director: DirectorContext {
                config: director,
                cloud_config,
                canaries: 1,
                max_in_flight: Value::from(1),
                canary_watch_time: "30000-300000".into(),
                update_watch_time: "30000-300000".into(),
                accessors: dir,
            },
            ops_manager: OpsManagerContext {
                accessors: om,
                root_ca_variable: ROOT_CA_VARIABLE.into(),
            },
            self_context: SelfContext::default(),
            runtime: Map::new(),
            stemcells: BTreeMap::new(),
            errands: BTreeMap::new(),
            products: BTreeMap::new(),
            staged_at: String::new(),
        })
    }

    /// A context for rendering with no server: a vSphere Director whose AZs and networks are the
    /// ones `network_properties` names (one `/24` per network, `10.0.N.0/24`, gateway `.1`,
    /// `.2–.9` reserved, `.10–.100` static, spanning every AZ), Ops Manager's default VM and disk
    /// catalogue, the given Director hostname and the root CA as PEM or as a CredHub
    /// placeholder. The service network defaults to the product network.
    pub fn offline_default(product_name: &str, options: &OfflineOptions) -> Result<RenderContext> {
        let mut network = match &options.network_properties {
            Some(v) => NetworkAssignment::from_om(v)?,
            None => NetworkAssignment {
                singleton_availability_zone: "az1".into(),
                availability_zones: vec!["az1".into()],
                network: "default".into(),
                service_network: None,
            },
        };
        if network.service_network.is_none() {
            network.service_network = Some(network.network.clone());
        }
        let mut azs: Vec<String> = vec![network.singleton_availability_zone.clone()];
        for az in &network.availability_zones {
            if !azs.contains(az) {
                azs.push(az.clone());
            }
        }
        let mut networks = vec![network.network.clone()];
        if let Some(s) = &network.service_network {
            if !networks.contains(s) {
                networks.push(s.clone());
            }
        }
        let director = DirectorConfig {
            azs: azs
                .iter()
                .map(|name| AzConfig {
                    name: name.clone(),
                    cloud_properties: Map::new(),
                })
                .collect(),
            networks: networks
                .iter()
                .enumerate()
                .map(|(i, name)| NetworkConfig {
                    name: name.clone(),
                    subnets: vec![SubnetConfig {
                        cidr: format!("10.0.{i}.0/24"),
                        gateway: format!("10.0.{i}.1"),
                        dns: vec!["8.8.8.8".into()],
                        reserved: vec![format!("10.0.{i}.2-10.0.{i}.9")],
                        static_ips: vec![format!("10.0.{i}.10-10.0.{i}.100")],
                        azs: azs.clone(),
                        cloud_properties: Map::new(),
                    }],
                })
                .collect(),
            ..DirectorConfig::default()
        };
        let guid = match &options.guid_suffix {
            Some(hex) => format!("{product_name}-{hex}"),
            None => product_guid(product_name, b"tileworks-offline"),
        };
        let mut ctx = RenderContext::new(guid, director, network)?;
        let ca = options
            .root_ca_pem
            .clone()
            .unwrap_or_else(|| format!("(({ROOT_CA_VARIABLE}.certificate))"));
        ctx.ops_manager
            .accessors
            .insert("ca_certificate".into(), Value::String(ca.clone()));
        let d = &mut ctx.director.accessors;
        d.insert(
            "hostname".into(),
            Value::String(options.director_hostname.clone()),
        );
        d.insert("deployment_ip".into(), Value::String("10.0.0.3".into()));
        d.insert("ca_public_key".into(), Value::String(ca));
        d.insert(
            "guid".into(),
            Value::String(product_guid("director", b"tileworks-offline")),
        );
        Ok(ctx)
    }

    /// The names of the products present next to this one (for `conditional_default`).
    pub fn present_products(&self) -> Vec<String> {
        self.products.keys().cloned().collect()
    }
}
