//! The Director's configuration (what the operator fills in on the BOSH Director tile: IaaS,
//! availability zones, networks, VM and disk types) and the BOSH cloud config generated from it
//! (bosh-cfcr-pks-odb §1.9).
//!
//! Two models live here:
//! * [`DirectorConfig`] — operator-facing, with defaults (Ops Manager–style VM and disk type
//!   catalogues, compilation settings), validated field by field ([`DirectorConfig::validate`]);
//! * [`CloudConfig`] — BOSH's cloud config, typed; produced by [`DirectorConfig::cloud_config`]
//!   or read from any Director (`GET /configs?type=cloud`), and checked with the Director's own
//!   rules ([`CloudConfig::validate`]). `manifest_check` validates manifests against it.
//!
//! IP arithmetic (CIDRs and `a-b` ranges, IPv4 and IPv6) is here too, because subnets and static
//! IPs are where it is needed.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::manifest_check::{canonical_name, Finding};
use crate::{Error, Result};

// ---- IP arithmetic -------------------------------------------------------------------------

/// An address as a number: `Ip(is_v6, value)`. Numbers make ranges and containment trivial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ip(pub bool, pub u128);

impl Ip {
    pub fn parse(text: &str) -> std::result::Result<Ip, String> {
        match text.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => Ok(Ip(false, u128::from(u32::from(a)))),
            Ok(IpAddr::V6(a)) => Ok(Ip(true, u128::from(a))),
            Err(_) => Err(format!("'{}' is not an IP address", text.trim())),
        }
    }
}

/// Formats an [`Ip`] the usual way (`10.0.0.1`, `fd00::1`).
pub fn format_ip(ip: Ip) -> String {
    ip.to_string()
}

impl std::fmt::Display for Ip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 {
            write!(f, "{}", std::net::Ipv6Addr::from(self.1))
        } else {
            let v4 = u32::try_from(self.1).unwrap_or(u32::MAX);
            write!(f, "{}", std::net::Ipv4Addr::from(v4))
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub first: Ip,
    pub last: Ip,
}

impl IpRange {
    /// Reads `10.0.0.5`, `10.0.0.5-10.0.0.9` (spaces allowed around `-`) or a CIDR `10.0.0.0/28`.
    pub fn parse(text: &str) -> std::result::Result<IpRange, String> {
        let t = text.trim();
        if t.contains('/') {
            return Cidr::parse(t).map(|c| c.range());
        }
        // IPv6 addresses contain no '-', so splitting on it is safe for both families.
        let (a, b) = match t.split_once('-') {
            Some((a, b)) => (Ip::parse(a)?, Ip::parse(b)?),
            None => {
                let ip = Ip::parse(t)?;
                (ip, ip)
            }
        };
        if a.0 != b.0 {
            return Err(format!("'{t}' mixes IPv4 and IPv6"));
        }
        if a.1 > b.1 {
            return Err(format!("'{t}': the first address is after the last"));
        }
        Ok(IpRange { first: a, last: b })
    }

    pub fn contains(&self, ip: Ip) -> bool {
        ip.0 == self.first.0 && self.first.1 <= ip.1 && ip.1 <= self.last.1
    }

    pub fn contains_range(&self, other: &IpRange) -> bool {
        self.contains(other.first) && self.contains(other.last)
    }

    pub fn overlaps(&self, other: &IpRange) -> bool {
        self.first.0 == other.first.0
            && self.first.1 <= other.last.1
            && other.first.1 <= self.last.1
    }

    /// Number of addresses (saturating).
    pub fn len(&self) -> u128 {
        (self.last.1 - self.first.1).saturating_add(1)
    }

    /// Never true: a range holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn iter(&self) -> impl Iterator<Item = Ip> + '_ {
        let v6 = self.first.0;
        (self.first.1..=self.last.1).map(move |n| Ip(v6, n))
    }
}

/// A network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: Ip,
    pub prefix: u8,
}

impl Cidr {
    /// Reads `10.0.0.0/24`. The address must be the network address (host bits zero), as the
    /// Director requires for a subnet range.
    pub fn parse(text: &str) -> std::result::Result<Cidr, String> {
        let t = text.trim();
        let (addr, prefix) = t
            .split_once('/')
            .ok_or_else(|| format!("'{t}' is not in CIDR notation (like 10.0.0.0/24)"))?;
        let ip = Ip::parse(addr)?;
        let bits: u8 = if ip.0 { 128 } else { 32 };
        let prefix: u8 = prefix
            .trim()
            .parse()
            .ok()
            .filter(|p| *p <= bits)
            .ok_or_else(|| format!("'{t}': prefix length must be 0–{bits}"))?;
        let host_bits = u32::from(bits - prefix);
        let mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        if ip.1 & mask != 0 {
            return Err(format!(
                "'{t}' has host bits set; the network address is {}",
                Ip(ip.0, ip.1 & !mask)
            ));
        }
        Ok(Cidr {
            network: ip,
            prefix,
        })
    }

    pub fn range(&self) -> IpRange {
        let bits: u32 = if self.network.0 { 128 } else { 32 };
        let host_bits = bits - u32::from(self.prefix);
        let span = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        IpRange {
            first: self.network,
            last: Ip(self.network.0, self.network.1.saturating_add(span)),
        }
    }
}

fn one_or_many<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Vec<String>>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s])),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(serde::de::Error::custom(format!(
                    "expected an IP or range string, found {other}"
                ))),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string or a list of strings, found {other}"
        ))),
    }
}

// ---- BOSH cloud config ---------------------------------------------------------------------

/// A BOSH cloud config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CloudConfig {
    #[serde(default)]
    pub azs: Vec<Az>,
    #[serde(default)]
    pub networks: Vec<Network>,
    #[serde(default)]
    pub vm_types: Vec<VmType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vm_extensions: Vec<VmExtension>,
    #[serde(default)]
    pub disk_types: Vec<DiskType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compilation: Option<Compilation>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Az {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpi: Option<String>,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    /// `manual` (the default), `dynamic` or `vip`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<Subnet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_properties: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Network {
    /// The network type, `manual` when unset.
    pub fn kind(&self) -> &str {
        self.network_type.as_deref().unwrap_or("manual")
    }

    pub fn is_manual(&self) -> bool {
        self.kind() == "manual"
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Subnet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_or_many"
    )]
    pub reserved: Option<Vec<String>>,
    #[serde(
        rename = "static",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "one_or_many"
    )]
    pub static_ips: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azs: Option<Vec<String>>,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Subnet {
    /// The subnet's AZs, from `az` or `azs`.
    pub fn az_names(&self) -> Vec<&str> {
        self.az
            .iter()
            .chain(self.azs.iter().flatten())
            .map(String::as_str)
            .collect()
    }

    /// Whether `ip` is in one of the subnet's `static` ranges (unparsable entries are ignored
    /// here; `validate` reports them).
    pub fn static_contains(&self, ip: Ip) -> bool {
        self.static_ips
            .iter()
            .flatten()
            .filter_map(|s| IpRange::parse(s).ok())
            .any(|r| r.contains(ip))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmType {
    pub name: String,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmExtension {
    pub name: String,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DiskType {
    pub name: String,
    /// MB.
    pub disk_size: i64,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Compilation {
    pub workers: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_type: Option<String>,
    pub network: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reuse_compilation_vms: Option<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn duplicates(names: &[&str], what: &str, canonical: bool, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for &n in names {
        let key = if canonical {
            canonical_name(n)
        } else {
            n.to_string()
        };
        if !seen.insert(key) {
            out.push(Finding::error(
                format!("{what}[{n}]"),
                format!("duplicate {what} name '{n}'"),
            ));
        }
    }
}

impl CloudConfig {
    pub fn from_value(value: &Value) -> Result<CloudConfig> {
        crate::manifest::from_value(value, "cloud_config")
    }

    pub fn to_value(&self) -> Result<Value> {
        crate::manifest::to_value(self, "cloud_config")
    }

    /// The Director's cloud-config rules (bosh-cfcr-pks-odb §1.11 item 9).
    pub fn validate(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let known = Names {
            azs: self.azs.iter().map(|a| a.name.as_str()).collect(),
            networks: self.networks.iter().map(|n| n.name.as_str()).collect(),
            vm_types: self.vm_types.iter().map(|v| v.name.as_str()).collect(),
        };
        let vm_extensions: Vec<&str> = self.vm_extensions.iter().map(|e| e.name.as_str()).collect();
        let disk_types: Vec<&str> = self.disk_types.iter().map(|d| d.name.as_str()).collect();
        // Network names clash when they differ only in case or punctuation.
        for (what, names, canonical) in [
            ("azs", &known.azs, false),
            ("networks", &known.networks, true),
            ("vm_types", &known.vm_types, false),
            ("vm_extensions", &vm_extensions, false),
            ("disk_types", &disk_types, false),
        ] {
            duplicates(names, what, canonical, &mut out);
        }
        for d in &self.disk_types {
            if d.disk_size <= 0 {
                out.push(Finding::error(
                    format!("disk_types[{}].disk_size", d.name),
                    format!("disk type '{}' must have a positive disk_size", d.name),
                ));
            }
        }
        for n in &self.networks {
            let at = format!("networks[{}]", n.name);
            if !matches!(n.kind(), "manual" | "dynamic" | "vip") {
                out.push(Finding::error(
                    format!("{at}.type"),
                    format!("unknown network type '{}'", n.kind()),
                ));
            }
            let with_az = n
                .subnets
                .iter()
                .filter(|s| !s.az_names().is_empty())
                .count();
            if with_az != 0 && with_az != n.subnets.len() {
                out.push(Finding::error(
                    format!("{at}.subnets"),
                    "either all subnets of a network have availability zones or none do",
                ));
            }
            let mut manual = ManualSubnets::new(&at);
            for (i, s) in n.subnets.iter().enumerate() {
                let sat = format!("{at}.subnets[{i}]");
                if s.az.is_some() && s.azs.is_some() {
                    out.push(Finding::error(
                        format!("{sat}.azs"),
                        "'az' and 'azs' cannot both be set",
                    ));
                }
                if s.azs.as_ref().is_some_and(Vec::is_empty) {
                    out.push(Finding::error(format!("{sat}.azs"), "'azs' is empty"));
                }
                check_subnet_azs(&sat, s.az_names(), &known, Wording::CloudConfig, &mut out);
                if n.is_manual() {
                    let (own, overlap) = manual.check(i, s, &sat);
                    out.extend(own);
                    out.extend(overlap);
                }
            }
        }
        if let Some(c) = &self.compilation {
            let refs = CompilationRefs {
                workers: c.workers,
                network: Some(&c.network),
                az: c.az.as_deref(),
                vm_type: c.vm_type.as_deref(),
            };
            check_compilation(&refs, &known, Wording::CloudConfig, &mut out);
        }
        out
    }
}

/// Checks one manual subnet; returns its range when it parses.
fn check_manual_subnet(s: &Subnet, at: &str, out: &mut Vec<Finding>) -> Option<IpRange> {
    let Some(range_text) = &s.range else {
        out.push(Finding::error(
            format!("{at}.range"),
            "a manual network subnet needs a range",
        ));
        return None;
    };
    let cidr = match Cidr::parse(range_text) {
        Ok(c) => c,
        Err(e) => {
            out.push(Finding::error(format!("{at}.range"), e));
            return None;
        }
    };
    let range = cidr.range();
    if range.len() < 2 {
        out.push(Finding::error(
            format!("{at}.range"),
            format!("'{range_text}' holds fewer than 2 addresses"),
        ));
    }
    match &s.gateway {
        None => out.push(Finding::error(
            format!("{at}.gateway"),
            "a manual network subnet needs a gateway",
        )),
        Some(g) => match Ip::parse(g) {
            Err(e) => out.push(Finding::error(format!("{at}.gateway"), e)),
            Ok(ip) if !range.contains(ip) => out.push(Finding::error(
                format!("{at}.gateway"),
                format!("gateway {ip} is outside the range {range_text}"),
            )),
            Ok(ip) if ip == range.first => out.push(Finding::error(
                format!("{at}.gateway"),
                format!("gateway {ip} is the network address of {range_text}"),
            )),
            Ok(ip) if ip == range.last && !ip.0 && range.len() > 2 => out.push(Finding::error(
                format!("{at}.gateway"),
                format!("gateway {ip} is the broadcast address of {range_text}"),
            )),
            Ok(_) => {}
        },
    }
    for (k, d) in s.dns.iter().flatten().enumerate() {
        if let Err(e) = Ip::parse(d) {
            out.push(Finding::error(format!("{at}.dns[{k}]"), e));
        }
    }
    let mut parse_all = |list: &Option<Vec<String>>, field: &str| -> Vec<(usize, IpRange)> {
        let mut parsed = Vec::new();
        for (k, text) in list.iter().flatten().enumerate() {
            match IpRange::parse(text) {
                Ok(r) if range.contains_range(&r) => parsed.push((k, r)),
                Ok(_) => out.push(Finding::error(
                    format!("{at}.{field}[{k}]"),
                    format!("'{text}' is outside the range {range_text}"),
                )),
                Err(e) => out.push(Finding::error(format!("{at}.{field}[{k}]"), e)),
            }
        }
        parsed
    };
    let reserved = parse_all(&s.reserved, "reserved");
    let statics = parse_all(&s.static_ips, "static");
    for (k, st) in &statics {
        if let Some((j, _)) = reserved.iter().find(|(_, r)| r.overlaps(st)) {
            out.push(Finding::error(
                format!("{at}.static[{k}]"),
                format!("static range overlaps reserved[{j}]"),
            ));
        }
    }
    Some(range)
}

// ---- the checks both validators share ------------------------------------------------------
//
// The operator's Director configuration becomes a cloud config, so both obey the same network
// and compilation rules; they are written once, here. The two validators differ only in how
// they point at things (the cloud config by name, the operator's config by position, where its
// forms show them) and in their words, which [`Wording`] keeps in one place.

/// Whose words a finding is in: [`CloudConfig::validate`] speaks like the Director,
/// [`DirectorConfig::validate`] like the operator's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wording {
    CloudConfig,
    Operator,
}

/// A name the compilation block gives, which must be defined elsewhere in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reference {
    Network,
    Az,
    VmType,
}

impl Wording {
    /// The finding for a subnet naming an AZ the config does not define (`k`: where in the
    /// subnet's AZ list).
    fn unknown_subnet_az(self, sat: &str, k: usize, az: &str) -> Finding {
        match self {
            Wording::CloudConfig => Finding::error(
                format!("{sat}.azs"),
                format!("subnet references unknown availability zone '{az}'"),
            ),
            Wording::Operator => Finding::error(
                format!("{sat}.azs[{k}]"),
                format!("unknown availability zone '{az}'"),
            ),
        }
    }

    /// The compilation references in the order they are checked (so findings come in the order
    /// each model has always reported them).
    fn compilation_order(self) -> [Reference; 3] {
        match self {
            Wording::CloudConfig => [Reference::Network, Reference::Az, Reference::VmType],
            Wording::Operator => [Reference::VmType, Reference::Az, Reference::Network],
        }
    }

    /// The message for a compilation block naming `name`, which is not defined.
    fn unknown_compilation_reference(self, what: Reference, name: &str) -> String {
        match (self, what) {
            (Wording::CloudConfig, Reference::Network) => {
                format!("compilation references an unknown network '{name}'")
            }
            (Wording::CloudConfig, Reference::Az) => {
                format!("compilation references unknown availability zone '{name}'")
            }
            (Wording::CloudConfig, Reference::VmType) => {
                format!("compilation references an unknown vm type '{name}'")
            }
            (Wording::Operator, Reference::Network) => format!("unknown network '{name}'"),
            (Wording::Operator, Reference::Az) => format!("unknown availability zone '{name}'"),
            (Wording::Operator, Reference::VmType) => format!("unknown VM type '{name}'"),
        }
    }
}

/// The names a config defines, which its subnets and compilation block may refer to.
struct Names<'a> {
    azs: Vec<&'a str>,
    networks: Vec<&'a str>,
    vm_types: Vec<&'a str>,
}

/// Every AZ a subnet (at `sat`) names must be defined.
fn check_subnet_azs<'a>(
    sat: &str,
    azs: impl IntoIterator<Item = &'a str>,
    known: &Names,
    wording: Wording,
    out: &mut Vec<Finding>,
) {
    for (k, az) in azs.into_iter().enumerate() {
        if !known.azs.contains(&az) {
            out.push(wording.unknown_subnet_az(sat, k, az));
        }
    }
}

/// The manual subnets of one network (at `at`), checked one after another: each on its own
/// ([`check_manual_subnet`]) and against the earlier ones, whose ranges it must not overlap.
struct ManualSubnets<'a> {
    at: &'a str,
    ranges: Vec<(usize, IpRange)>,
}

impl<'a> ManualSubnets<'a> {
    fn new(at: &'a str) -> Self {
        ManualSubnets {
            at,
            ranges: Vec::new(),
        }
    }

    /// Checks subnet `i` (at `sat`): its own findings, and the finding (at `{sat}.range`) when
    /// its range overlaps an earlier subnet's. Apart, so each validator orders them as it
    /// always has.
    fn check(&mut self, i: usize, s: &Subnet, sat: &str) -> (Vec<Finding>, Option<Finding>) {
        let mut own = Vec::new();
        let Some(range) = check_manual_subnet(s, sat, &mut own) else {
            return (own, None);
        };
        let overlap = self
            .ranges
            .iter()
            .find(|(_, other)| other.overlaps(&range))
            .map(|(j, _)| {
                Finding::error(
                    format!("{sat}.range"),
                    format!("overlaps {}.subnets[{j}]", self.at),
                )
            });
        self.ranges.push((i, range));
        (own, overlap)
    }
}

/// A compilation block as both models have it: its workers and the names it gives.
struct CompilationRefs<'a> {
    workers: i64,
    network: Option<&'a str>,
    az: Option<&'a str>,
    vm_type: Option<&'a str>,
}

/// At least one worker, and every name the compilation block gives must be defined.
fn check_compilation(c: &CompilationRefs, known: &Names, wording: Wording, out: &mut Vec<Finding>) {
    if c.workers < 1 {
        out.push(Finding::error("compilation.workers", "must be at least 1"));
    }
    for what in wording.compilation_order() {
        let (field, name, defined) = match what {
            Reference::Network => ("compilation.network", c.network, &known.networks),
            Reference::Az => ("compilation.az", c.az, &known.azs),
            Reference::VmType => ("compilation.vm_type", c.vm_type, &known.vm_types),
        };
        if let Some(name) = name.filter(|n| !defined.contains(n)) {
            out.push(Finding::error(
                field,
                wording.unknown_compilation_reference(what, name),
            ));
        }
    }
}

// ---- the operator's Director configuration -------------------------------------------------

/// The IaaS the Director deploys to; decides how VM types are expressed to the CPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Iaas {
    #[default]
    Vsphere,
    Aws,
    Gcp,
    Azure,
    Openstack,
}

/// The operator-facing Director configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DirectorConfig {
    #[serde(default)]
    pub iaas: Iaas,
    #[serde(default)]
    pub azs: Vec<AzConfig>,
    #[serde(default)]
    pub networks: Vec<NetworkConfig>,
    /// Empty means the default catalogue ([`default_vm_types`]).
    #[serde(default)]
    pub vm_types: Vec<VmTypeConfig>,
    #[serde(default)]
    pub vm_extensions: Vec<VmExtension>,
    /// Empty means the default catalogue ([`default_disk_types`]).
    #[serde(default)]
    pub disk_types: Vec<DiskTypeConfig>,
    #[serde(default)]
    pub compilation: CompilationConfig,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AzConfig {
    pub name: String,
    /// IaaS placement, passed through (vSphere `datacenters/clusters`, AWS `availability_zone`…).
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkConfig {
    pub name: String,
    #[serde(default)]
    pub subnets: Vec<SubnetConfig>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SubnetConfig {
    /// CIDR, e.g. `10.0.0.0/24`.
    pub cidr: String,
    pub gateway: String,
    #[serde(default)]
    pub dns: Vec<String>,
    /// IPs and ranges the Director must never hand out.
    #[serde(default)]
    pub reserved: Vec<String>,
    /// IPs and ranges usable as `static_ips`.
    #[serde(rename = "static", default)]
    pub static_ips: Vec<String>,
    #[serde(default)]
    pub azs: Vec<String>,
    /// IaaS network identity (vSphere `name`, AWS `subnet`, GCP `network_name`…), passed through.
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
}

/// A VM type: CPUs, RAM (MB) and ephemeral disk (MB). `cloud_properties`, when given, replace
/// the ones derived for the IaaS.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VmTypeConfig {
    pub name: String,
    pub cpu: u32,
    pub ram: u32,
    pub ephemeral_disk: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_properties: Option<Map<String, Value>>,
}

/// A disk type of `disk_size` MB; named by its size unless `name` is given.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DiskTypeConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub disk_size: u32,
    #[serde(default)]
    pub cloud_properties: Map<String, Value>,
}

impl DiskTypeConfig {
    pub fn name(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| self.disk_size.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompilationConfig {
    #[serde(default = "default_workers")]
    pub workers: u32,
    #[serde(default = "default_compilation_vm_type")]
    pub vm_type: String,
    /// Defaults to the first AZ.
    #[serde(default)]
    pub az: Option<String>,
    /// Defaults to the first network.
    #[serde(default)]
    pub network: Option<String>,
    #[serde(default = "default_true")]
    pub reuse_compilation_vms: bool,
}

fn default_workers() -> u32 {
    4
}

fn default_compilation_vm_type() -> String {
    "large.disk".into()
}

fn default_true() -> bool {
    true
}

impl Default for CompilationConfig {
    fn default() -> Self {
        CompilationConfig {
            workers: default_workers(),
            vm_type: default_compilation_vm_type(),
            az: None,
            network: None,
            reuse_compilation_vms: true,
        }
    }
}

/// The default VM type catalogue, modelled on Ops Manager's: (name, cpu, ram MB, disk MB).
const VM_CATALOGUE: &[(&str, u32, u32, u32)] = &[
    ("nano", 1, 512, 1024),
    ("micro", 1, 1024, 8192),
    ("micro.ram", 1, 2048, 8192),
    ("small", 1, 2048, 8192),
    ("small.disk", 1, 2048, 16384),
    ("medium", 1, 4096, 8192),
    ("medium.mem", 1, 6144, 8192),
    ("medium.disk", 1, 4096, 32768),
    ("large", 2, 8192, 16384),
    ("large.mem", 2, 12288, 16384),
    ("large.disk", 2, 8192, 65536),
    ("large.cpu", 4, 4096, 16384),
    ("xlarge", 4, 16384, 32768),
    ("xlarge.mem", 4, 24576, 32768),
    ("xlarge.disk", 4, 16384, 131072),
    ("xlarge.cpu", 8, 8192, 32768),
    ("2xlarge", 8, 32768, 65536),
    ("2xlarge.mem", 8, 49152, 65536),
    ("2xlarge.disk", 8, 32768, 262144),
    ("2xlarge.cpu", 16, 16384, 65536),
];

/// Default persistent disk sizes (MB), as Ops Manager offers them.
const DISK_CATALOGUE: &[u32] = &[
    1024, 2048, 5120, 10240, 20480, 30720, 51200, 76800, 102400, 153600, 204800, 307200, 512000,
    768000, 1048576, 2097152, 5242880, 10485760, 16777216,
];

pub fn default_vm_types() -> Vec<VmTypeConfig> {
    VM_CATALOGUE
        .iter()
        .map(|&(name, cpu, ram, ephemeral_disk)| VmTypeConfig {
            name: name.to_string(),
            cpu,
            ram,
            ephemeral_disk,
            cloud_properties: None,
        })
        .collect()
}

pub fn default_disk_types() -> Vec<DiskTypeConfig> {
    DISK_CATALOGUE
        .iter()
        .map(|&disk_size| DiskTypeConfig {
            name: None,
            disk_size,
            cloud_properties: Map::new(),
        })
        .collect()
}

/// Instance types per IaaS, smallest first: (name, cpu, ram MB). A VM type without explicit
/// cloud properties gets the smallest one that has at least its CPUs and RAM.
const AWS_TYPES: &[(&str, u32, u32)] = &[
    ("t3.nano", 2, 512),
    ("t3.micro", 2, 1024),
    ("t3.small", 2, 2048),
    ("t3.medium", 2, 4096),
    ("m5.large", 2, 8192),
    ("r5.large", 2, 16384),
    ("m5.xlarge", 4, 16384),
    ("r5.xlarge", 4, 32768),
    ("m5.2xlarge", 8, 32768),
    ("r5.2xlarge", 8, 65536),
    ("m5.4xlarge", 16, 65536),
    ("r5.4xlarge", 16, 131072),
    ("m5.8xlarge", 32, 131072),
    ("m5.12xlarge", 48, 196608),
    ("m5.16xlarge", 64, 262144),
    ("m5.24xlarge", 96, 393216),
];

const AZURE_TYPES: &[(&str, u32, u32)] = &[
    ("Standard_B1ls", 1, 512),
    ("Standard_B1s", 1, 1024),
    ("Standard_B1ms", 1, 2048),
    ("Standard_B2s", 2, 4096),
    ("Standard_D2s_v3", 2, 8192),
    ("Standard_E2s_v3", 2, 16384),
    ("Standard_D4s_v3", 4, 16384),
    ("Standard_E4s_v3", 4, 32768),
    ("Standard_D8s_v3", 8, 32768),
    ("Standard_E8s_v3", 8, 65536),
    ("Standard_D16s_v3", 16, 65536),
    ("Standard_E16s_v3", 16, 131072),
    ("Standard_D32s_v3", 32, 131072),
    ("Standard_D64s_v3", 64, 262144),
];

const OPENSTACK_TYPES: &[(&str, u32, u32)] = &[
    ("m1.tiny", 1, 512),
    ("m1.small", 1, 2048),
    ("m1.medium", 2, 4096),
    ("m1.large", 4, 8192),
    ("m1.xlarge", 8, 16384),
];

fn instance_type(iaas: Iaas, cpu: u32, ram: u32) -> Option<&'static str> {
    let table = match iaas {
        Iaas::Aws => AWS_TYPES,
        Iaas::Azure => AZURE_TYPES,
        Iaas::Openstack => OPENSTACK_TYPES,
        Iaas::Vsphere | Iaas::Gcp => return None,
    };
    table
        .iter()
        .find(|(_, c, r)| *c >= cpu && *r >= ram)
        .map(|(n, _, _)| *n)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

impl VmTypeConfig {
    /// The CPI cloud properties for this VM type on `iaas` (`None` when no instance type fits).
    pub fn cloud_properties_for(&self, iaas: Iaas) -> Option<Map<String, Value>> {
        if let Some(p) = &self.cloud_properties {
            return Some(p.clone());
        }
        let disk = self.ephemeral_disk;
        Some(match iaas {
            Iaas::Vsphere => {
                obj(serde_json::json!({"cpu": self.cpu, "ram": self.ram, "disk": disk}))
            }
            Iaas::Gcp => obj(serde_json::json!({
                "cpu": self.cpu, "ram": self.ram, "root_disk_size_gb": disk.div_ceil(1024)
            })),
            Iaas::Aws => obj(serde_json::json!({
                "instance_type": instance_type(iaas, self.cpu, self.ram)?,
                "ephemeral_disk": {"size": disk, "type": "gp3"}
            })),
            Iaas::Azure => obj(serde_json::json!({
                "instance_type": instance_type(iaas, self.cpu, self.ram)?,
                "ephemeral_disk": {"size": disk}
            })),
            Iaas::Openstack => obj(serde_json::json!({
                "instance_type": instance_type(iaas, self.cpu, self.ram)?,
                "root_disk": {"size": disk.div_ceil(1024)}
            })),
        })
    }
}

impl DirectorConfig {
    pub fn from_value(value: &Value) -> Result<DirectorConfig> {
        crate::manifest::from_value(value, "director")
    }

    /// The VM types in effect (the catalogue when none are configured).
    pub fn effective_vm_types(&self) -> Vec<VmTypeConfig> {
        if self.vm_types.is_empty() {
            default_vm_types()
        } else {
            self.vm_types.clone()
        }
    }

    /// The disk types in effect (the catalogue when none are configured).
    pub fn effective_disk_types(&self) -> Vec<DiskTypeConfig> {
        if self.disk_types.is_empty() {
            default_disk_types()
        } else {
            self.disk_types.clone()
        }
    }

    /// Field-by-field validation; an empty list means [`cloud_config`](Self::cloud_config)
    /// will succeed and produce a cloud config the Director accepts.
    pub fn validate(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let vm_types = self.effective_vm_types();
        let known = Names {
            azs: self.azs.iter().map(|a| a.name.as_str()).collect(),
            networks: self.networks.iter().map(|n| n.name.as_str()).collect(),
            vm_types: vm_types.iter().map(|v| v.name.as_str()).collect(),
        };
        if self.azs.is_empty() {
            out.push(Finding::error(
                "azs",
                "at least one availability zone is required",
            ));
        }
        let mut seen = HashSet::new();
        for (i, az) in self.azs.iter().enumerate() {
            let (name, field) = (&az.name, format!("azs[{i}].name"));
            let what = "availability zone";
            check_operator_name(what, name, name.clone(), &mut seen, &field, &mut out);
        }
        if self.networks.is_empty() {
            out.push(Finding::error(
                "networks",
                "at least one network is required",
            ));
        }
        let mut seen = HashSet::new();
        for (i, n) in self.networks.iter().enumerate() {
            let at = format!("networks[{i}]");
            // Network names clash when they differ only in case or punctuation.
            let key = canonical_name(&n.name);
            let field = format!("{at}.name");
            check_operator_name("network", &n.name, key, &mut seen, &field, &mut out);
            if n.subnets.is_empty() {
                out.push(Finding::error(
                    format!("{at}.subnets"),
                    "a network needs at least one subnet",
                ));
            }
            let mut manual = ManualSubnets::new(&at);
            for (j, s) in n.subnets.iter().enumerate() {
                let sat = format!("{at}.subnets[{j}]");
                if s.azs.is_empty() {
                    out.push(Finding::error(
                        format!("{sat}.azs"),
                        "choose at least one availability zone for the subnet",
                    ));
                }
                let azs = s.azs.iter().map(String::as_str);
                check_subnet_azs(&sat, azs, &known, Wording::Operator, &mut out);
                let (own, overlap) = manual.check(j, &self.subnet(s), &sat);
                // The operator's model calls the range `cidr`, and reports an overlap first.
                out.extend(
                    overlap
                        .into_iter()
                        .chain(own)
                        .map(|f| range_as_cidr(f, &sat)),
                );
            }
        }
        let mut seen = HashSet::new();
        for (i, v) in vm_types.iter().enumerate() {
            let at = format!("vm_types[{i}]");
            if !seen.insert(v.name.as_str()) {
                out.push(Finding::error(
                    format!("{at}.name"),
                    format!("duplicate VM type '{}'", v.name),
                ));
            }
            for (field, val) in [
                ("cpu", v.cpu),
                ("ram", v.ram),
                ("ephemeral_disk", v.ephemeral_disk),
            ] {
                if val == 0 {
                    out.push(Finding::error(
                        format!("{at}.{field}"),
                        "must be greater than 0",
                    ));
                }
            }
            if v.cloud_properties_for(self.iaas).is_none() {
                out.push(Finding::error(
                    format!("{at}.cloud_properties"),
                    format!(
                        "no {:?} instance type has {} CPUs and {} MB RAM; set cloud_properties",
                        self.iaas, v.cpu, v.ram
                    ),
                ));
            }
        }
        let mut seen = HashSet::new();
        for (i, d) in self.effective_disk_types().iter().enumerate() {
            if d.disk_size == 0 {
                out.push(Finding::error(
                    format!("disk_types[{i}].disk_size"),
                    "must be greater than 0",
                ));
            }
            if !seen.insert(d.name()) {
                out.push(Finding::error(
                    format!("disk_types[{i}].name"),
                    format!("duplicate disk type '{}'", d.name()),
                ));
            }
        }
        let c = &self.compilation;
        let refs = CompilationRefs {
            workers: i64::from(c.workers),
            network: c.network.as_deref(),
            az: c.az.as_deref(),
            vm_type: Some(&c.vm_type),
        };
        check_compilation(&refs, &known, Wording::Operator, &mut out);
        out
    }

    /// The cloud-config subnet for `s`.
    fn subnet(&self, s: &SubnetConfig) -> Subnet {
        let list = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        Subnet {
            range: Some(s.cidr.clone()),
            gateway: Some(s.gateway.clone()),
            dns: list(&s.dns),
            reserved: list(&s.reserved),
            static_ips: list(&s.static_ips),
            az: None,
            azs: list(&s.azs),
            cloud_properties: s.cloud_properties.clone(),
            extra: Map::new(),
        }
    }

    /// The BOSH cloud config. Fails with [`Error::Invalid`] naming the first problem when
    /// [`validate`](Self::validate) finds any.
    pub fn cloud_config(&self) -> Result<CloudConfig> {
        if let Some(f) = self.validate().into_iter().next() {
            return Err(Error::Invalid {
                field: f.field,
                message: f.message,
            });
        }
        let vm_types = self
            .effective_vm_types()
            .iter()
            .map(|v| VmType {
                name: v.name.clone(),
                cloud_properties: v.cloud_properties_for(self.iaas).unwrap_or_default(),
                extra: Map::new(),
            })
            .collect();
        let disk_types = self
            .effective_disk_types()
            .iter()
            .map(|d| DiskType {
                name: d.name(),
                disk_size: i64::from(d.disk_size),
                cloud_properties: d.cloud_properties.clone(),
                extra: Map::new(),
            })
            .collect();
        let first_network = self
            .networks
            .first()
            .map(|n| n.name.clone())
            .unwrap_or_default();
        Ok(CloudConfig {
            azs: self
                .azs
                .iter()
                .map(|a| Az {
                    name: a.name.clone(),
                    cpi: None,
                    cloud_properties: a.cloud_properties.clone(),
                    extra: Map::new(),
                })
                .collect(),
            networks: self
                .networks
                .iter()
                .map(|n| Network {
                    name: n.name.clone(),
                    network_type: Some("manual".into()),
                    subnets: n.subnets.iter().map(|s| self.subnet(s)).collect(),
                    cloud_properties: None,
                    extra: Map::new(),
                })
                .collect(),
            vm_types,
            vm_extensions: self.vm_extensions.clone(),
            disk_types,
            compilation: Some(Compilation {
                workers: i64::from(self.compilation.workers),
                az: self
                    .compilation
                    .az
                    .clone()
                    .or_else(|| self.azs.first().map(|a| a.name.clone())),
                vm_type: Some(self.compilation.vm_type.clone()),
                network: self.compilation.network.clone().unwrap_or(first_network),
                reuse_compilation_vms: Some(self.compilation.reuse_compilation_vms),
                extra: Map::new(),
            }),
            extra: Map::new(),
        })
    }
}

/// An operator-given name of a `what` (at `field`) must not be blank nor repeat an earlier one;
/// `key` is what makes two names the same.
fn check_operator_name(
    what: &str,
    name: &str,
    key: String,
    seen: &mut HashSet<String>,
    field: &str,
    out: &mut Vec<Finding>,
) {
    if name.trim().is_empty() {
        out.push(Finding::error(field, format!("{what} name is empty")));
    } else if !seen.insert(key) {
        out.push(Finding::error(field, format!("duplicate {what} '{name}'")));
    }
}

/// A finding about a subnet's `range` (at `sat`), pointed at the operator's name for it, `cidr`.
fn range_as_cidr(mut f: Finding, sat: &str) -> Finding {
    if let Some(rest) = f.field.strip_prefix(&format!("{sat}.range")) {
        f.field = format!("{sat}.cidr{rest}");
    }
    f
}

/// The static ranges of `network`, per availability zone; for UIs that suggest static IPs.
pub fn static_ranges_by_az(cloud: &CloudConfig, network: &str) -> HashMap<String, Vec<IpRange>> {
    let mut out: HashMap<String, Vec<IpRange>> = HashMap::new();
    for n in cloud.networks.iter().filter(|n| n.name == network) {
        for s in &n.subnets {
            let ranges: Vec<IpRange> = s
                .static_ips
                .iter()
                .flatten()
                .filter_map(|t| IpRange::parse(t).ok())
                .collect();
            for az in s.az_names() {
                out.entry(az.to_string())
                    .or_default()
                    .extend(ranges.iter().copied());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn director() -> DirectorConfig {
        DirectorConfig::from_value(&json!({
            "iaas": "vsphere",
            "azs": [
                {"name": "z1", "cloud_properties": {"datacenters": [{"name": "dc", "clusters": [{"c1": {}}]}]}},
                {"name": "z2"}
            ],
            "networks": [{
                "name": "default",
                "subnets": [
                    {"cidr": "10.0.0.0/24", "gateway": "10.0.0.1", "dns": ["8.8.8.8"],
                     "reserved": ["10.0.0.1-10.0.0.9"], "static": ["10.0.0.10-10.0.0.30"],
                     "azs": ["z1"], "cloud_properties": {"name": "VM Network"}},
                    {"cidr": "10.0.1.0/24", "gateway": "10.0.1.1", "reserved": ["10.0.1.1 - 10.0.1.9"],
                     "static": ["10.0.1.10-10.0.1.30"], "azs": ["z2"]}
                ]
            }]
        }))
        .unwrap()
    }

    fn fields(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.field.as_str()).collect()
    }

    #[test]
    fn ip_ranges_and_cidrs() {
        let r = IpRange::parse("10.0.0.5 - 10.0.0.9").unwrap();
        assert_eq!(r.len(), 5);
        assert!(r.contains(Ip::parse("10.0.0.7").unwrap()));
        assert!(!r.contains(Ip::parse("10.0.0.10").unwrap()));
        assert_eq!(IpRange::parse("10.0.0.0/30").unwrap().len(), 4);
        assert!(IpRange::parse("10.0.0.9-10.0.0.5").is_err());
        assert!(IpRange::parse("10.0.0.1-fd00::1").is_err());
        assert!(IpRange::parse("banana").is_err());
        let c = Cidr::parse("fd00::/120").unwrap();
        assert_eq!(c.range().len(), 256);
        assert!(Cidr::parse("10.0.0.1/24").unwrap_err().contains("10.0.0.0"));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("10.0.0.0").is_err());
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().range().len(), 1 << 32);
        assert_eq!(Ip::parse("10.1.2.3").unwrap().to_string(), "10.1.2.3");
        assert_eq!(Ip::parse("fd00::1").unwrap().to_string(), "fd00::1");
    }

    #[test]
    fn generates_a_cloud_config() {
        let d = director();
        assert_eq!(d.validate(), vec![]);
        let cc = d.cloud_config().unwrap();
        assert_eq!(cc.azs.len(), 2);
        assert_eq!(cc.azs[0].cloud_properties["datacenters"][0]["name"], "dc");
        let net = &cc.networks[0];
        assert_eq!(net.network_type.as_deref(), Some("manual"));
        assert_eq!(net.subnets[0].range.as_deref(), Some("10.0.0.0/24"));
        assert_eq!(net.subnets[0].azs, Some(vec!["z1".to_string()]));
        assert_eq!(net.subnets[0].cloud_properties["name"], "VM Network");
        let micro = cc.vm_types.iter().find(|v| v.name == "micro").unwrap();
        assert_eq!(
            micro.cloud_properties,
            obj(json!({"cpu": 1, "ram": 1024, "disk": 8192}))
        );
        assert!(cc.vm_types.iter().any(|v| v.name == "xlarge"));
        assert!(cc
            .disk_types
            .iter()
            .any(|d| d.name == "10240" && d.disk_size == 10240));
        let comp = cc.compilation.as_ref().unwrap();
        assert_eq!(comp.network, "default");
        assert_eq!(comp.az.as_deref(), Some("z1"));
        assert_eq!(comp.workers, 4);
        // The generated cloud config passes the Director's own rules and round-trips.
        assert_eq!(cc.validate(), vec![]);
        let v = cc.to_value().unwrap();
        assert_eq!(CloudConfig::from_value(&v).unwrap(), cc);
        assert_eq!(
            v["networks"][0]["subnets"][0]["static"],
            json!(["10.0.0.10-10.0.0.30"])
        );
    }

    #[test]
    fn vm_types_follow_the_iaas() {
        let mut d = director();
        d.iaas = Iaas::Aws;
        let cc = d.cloud_config().unwrap();
        let large = cc.vm_types.iter().find(|v| v.name == "large").unwrap();
        assert_eq!(large.cloud_properties["instance_type"], "m5.large");
        d.iaas = Iaas::Gcp;
        let cc = d.cloud_config().unwrap();
        let small = cc.vm_types.iter().find(|v| v.name == "small.disk").unwrap();
        assert_eq!(small.cloud_properties["root_disk_size_gb"], 16);
        d.iaas = Iaas::Openstack;
        let f = d.validate();
        assert!(
            f.iter()
                .any(|f| f.message.contains("no Openstack instance type")),
            "{f:?}"
        );
        d.iaas = Iaas::Azure;
        d.vm_types = vec![VmTypeConfig {
            name: "custom".into(),
            cpu: 2,
            ram: 4096,
            ephemeral_disk: 10240,
            cloud_properties: None,
        }];
        d.compilation.vm_type = "custom".into();
        let cc = d.cloud_config().unwrap();
        assert_eq!(cc.vm_types.len(), 1);
        assert_eq!(
            cc.vm_types[0].cloud_properties["instance_type"],
            "Standard_B2s"
        );
    }

    #[test]
    fn director_config_validation_names_fields() {
        let mut d = director();
        let s = &mut d.networks[0].subnets[0];
        s.gateway = "10.0.5.1".into();
        s.reserved = vec!["10.0.9.1".into()];
        s.static_ips = vec!["10.0.0.5-10.0.0.12".into(), "x".into()];
        s.azs = vec!["z9".into()];
        d.networks[0].subnets[1].cidr = "10.0.0.128/25".into();
        d.compilation.network = Some("nope".into());
        d.compilation.vm_type = "huge".into();
        d.azs.push(AzConfig {
            name: "z1".into(),
            cloud_properties: Map::new(),
        });
        let f = d.validate();
        let got = fields(&f);
        for want in [
            "azs[2].name",
            "networks[0].subnets[0].azs[0]",
            "networks[0].subnets[0].gateway",
            "networks[0].subnets[0].reserved[0]",
            "networks[0].subnets[0].static[1]",
            "networks[0].subnets[1].cidr",
            "compilation.vm_type",
            "compilation.network",
        ] {
            assert!(got.contains(&want), "missing {want} in {f:#?}");
        }
        assert!(d.cloud_config().is_err());
        // Static overlapping reserved.
        let mut d = director();
        d.networks[0].subnets[0].static_ips = vec!["10.0.0.5-10.0.0.12".into()];
        let f = d.validate();
        assert_eq!(
            fields(&f),
            vec!["networks[0].subnets[0].static[0]"],
            "{f:?}"
        );
        assert!(f[0].message.contains("reserved"));
        // Gateway on the network or broadcast address; bad CIDR.
        let mut d = director();
        d.networks[0].subnets[0].gateway = "10.0.0.255".into();
        d.networks[0].subnets[1].cidr = "10.0.1.0/99".into();
        let f = d.validate();
        assert_eq!(
            fields(&f),
            vec![
                "networks[0].subnets[0].gateway",
                "networks[0].subnets[1].cidr"
            ],
            "{f:?}"
        );
        assert!(f[0].message.contains("broadcast"));
        // Nothing configured at all.
        let f = DirectorConfig::default().validate();
        assert_eq!(fields(&f), vec!["azs", "networks"]);
    }

    #[test]
    fn cloud_config_rules() {
        let cc = CloudConfig::from_value(&json!({
            "azs": [{"name": "z1"}, {"name": "z1"}],
            "networks": [
                {"name": "a", "subnets": [
                    {"range": "10.0.0.0/24", "gateway": "10.0.0.1", "az": "z1", "azs": ["z1"]},
                    {"range": "10.0.0.0/25", "gateway": "10.0.0.1"}
                ]},
                {"name": "A"},
                {"name": "d", "type": "dynamic", "subnets": [{"az": "zz"}]},
                {"name": "v", "type": "weird"}
            ],
            "vm_types": [{"name": "small"}],
            "disk_types": [{"name": "0", "disk_size": 0}],
            "compilation": {"workers": 0, "network": "missing", "az": "z3", "vm_type": "large"}
        }))
        .unwrap();
        let f = cc.validate();
        let got = fields(&f);
        for want in [
            "azs[z1]",
            "networks[A]",
            "disk_types[0].disk_size",
            "networks[a].subnets",
            "networks[a].subnets[0].azs",
            "networks[a].subnets[1].range",
            "networks[d].subnets[0].azs",
            "networks[v].type",
            "compilation.workers",
            "compilation.network",
            "compilation.az",
            "compilation.vm_type",
        ] {
            assert!(got.contains(&want), "missing {want} in {f:#?}");
        }
    }

    /// The checks both validators share report in each model's own words, paths and order.
    #[test]
    fn shared_checks_keep_each_models_words_and_order() {
        let said = |f: &[Finding]| -> Vec<(String, String)> {
            f.iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect()
        };
        // An overlapping subnet that is also wrong on its own: the operator's model names the
        // overlap first and calls the range `cidr`; the cloud config names it last.
        let mut d = director();
        d.networks[0].subnets[1].cidr = "10.0.0.128/25".into();
        d.compilation = CompilationConfig {
            workers: 0,
            vm_type: "huge".into(),
            az: Some("z9".into()),
            network: Some("nope".into()),
            reuse_compilation_vms: true,
        };
        let s1 = "networks[0].subnets[1]";
        let overlap = (
            format!("{s1}.cidr"),
            "overlaps networks[0].subnets[0]".into(),
        );
        let gateway = (
            format!("{s1}.gateway"),
            "gateway 10.0.1.1 is outside the range 10.0.0.128/25".into(),
        );
        let got = said(&d.validate());
        let at = |x: &(String, String)| got.iter().position(|g| g == x).unwrap();
        assert!(at(&overlap) < at(&gateway), "{got:#?}");
        let compilation: Vec<_> = got
            .iter()
            .filter(|(f, _)| f.starts_with("compilation"))
            .cloned()
            .collect();
        let pair = |f: &str, m: &str| (f.to_string(), m.to_string());
        assert_eq!(
            compilation,
            vec![
                pair("compilation.workers", "must be at least 1"),
                pair("compilation.vm_type", "unknown VM type 'huge'"),
                pair("compilation.az", "unknown availability zone 'z9'"),
                pair("compilation.network", "unknown network 'nope'"),
            ]
        );
        let cc = CloudConfig::from_value(&json!({
            "azs": [{"name": "z1"}],
            "networks": [{"name": "n", "subnets": [
                {"range": "10.0.0.0/24", "gateway": "10.0.0.1", "azs": ["z1"]},
                {"range": "10.0.0.128/25", "gateway": "10.0.1.1", "azs": ["z1", "z9"]}
            ]}],
            "compilation": {"workers": 0, "network": "nope", "az": "z9", "vm_type": "huge"}
        }))
        .unwrap();
        let s1 = "networks[n].subnets[1]";
        assert_eq!(
            said(&cc.validate()),
            vec![
                pair(
                    &format!("{s1}.azs"),
                    "subnet references unknown availability zone 'z9'"
                ),
                pair(
                    &format!("{s1}.gateway"),
                    "gateway 10.0.1.1 is outside the range 10.0.0.128/25"
                ),
                pair(&format!("{s1}.range"), "overlaps networks[n].subnets[0]"),
                pair("compilation.workers", "must be at least 1"),
                pair(
                    "compilation.network",
                    "compilation references an unknown network 'nope'"
                ),
                pair(
                    "compilation.az",
                    "compilation references unknown availability zone 'z9'"
                ),
                pair(
                    "compilation.vm_type",
                    "compilation references an unknown vm type 'huge'"
                ),
            ]
        );
    }

    #[test]
    fn operator_names_must_be_given_and_distinct() {
        let mut d = director();
        d.azs.push(AzConfig {
            name: " ".into(),
            cloud_properties: Map::new(),
        });
        d.azs.push(AzConfig {
            name: "z2".into(),
            cloud_properties: Map::new(),
        });
        let mut twin = d.networks[0].clone();
        twin.name = "DEFAULT".into();
        twin.subnets.clear();
        d.networks.push(twin);
        let f = d.validate();
        let said: Vec<(&str, &str)> = f
            .iter()
            .map(|f| (f.field.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            said,
            vec![
                ("azs[2].name", "availability zone name is empty"),
                ("azs[3].name", "duplicate availability zone 'z2'"),
                ("networks[1].name", "duplicate network 'DEFAULT'"),
                ("networks[1].subnets", "a network needs at least one subnet"),
            ]
        );
    }

    #[test]
    fn reserved_may_be_a_single_string() {
        let cc = CloudConfig::from_value(&json!({
            "azs": [{"name": "z1"}],
            "networks": [{"name": "n", "subnets": [{"range": "10.0.0.0/24", "gateway": "10.0.0.1", "reserved": "10.0.0.2-10.0.0.9", "static": "10.0.0.10", "az": "z1"}]}]
        }))
        .unwrap();
        assert_eq!(
            cc.networks[0].subnets[0].reserved,
            Some(vec!["10.0.0.2-10.0.0.9".to_string()])
        );
        assert!(cc.networks[0].subnets[0].static_contains(Ip::parse("10.0.0.10").unwrap()));
        assert_eq!(cc.validate(), vec![]);
        assert_eq!(static_ranges_by_az(&cc, "n")["z1"].len(), 1);
    }
}
