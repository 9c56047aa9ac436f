//! The Director's cloud-config rules ([`CloudConfig::validate`], bosh-cfcr-pks-odb §1.11 item 9),
//! and the checks the operator's Director configuration shares with them.
//!
//! The operator's configuration becomes a cloud config, so both obey the same network and
//! compilation rules; they are written once, here, and `DirectorConfig::validate` runs them
//! too. The two validators differ only in how they point at things (the cloud config by name,
//! the operator's configuration by position, where its forms show them) and in their words,
//! which [`Wording`] keeps in one place.

use std::collections::HashSet;

use super::ips::{Cidr, Ip, IpRange};
use super::model::{CloudConfig, Subnet};
use crate::manifest_check::{canonical_name, Finding};

/// Names within one section of a cloud config must be unique; with `canonical`, as the Director
/// compares network names (case and punctuation aside).
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

// ---- the checks the operator's Director configuration shares ------------------------------

/// Whose words a finding is in: [`CloudConfig::validate`] speaks like the Director,
/// [`DirectorConfig::validate`](super::DirectorConfig::validate) like the operator's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wording {
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
pub(super) struct Names<'a> {
    pub(super) azs: Vec<&'a str>,
    pub(super) networks: Vec<&'a str>,
    pub(super) vm_types: Vec<&'a str>,
}

/// Every AZ a subnet (at `sat`) names must be defined.
pub(super) fn check_subnet_azs<'a>(
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
pub(super) struct ManualSubnets<'a> {
    at: &'a str,
    ranges: Vec<(usize, IpRange)>,
}

impl<'a> ManualSubnets<'a> {
    pub(super) fn new(at: &'a str) -> Self {
        ManualSubnets {
            at,
            ranges: Vec::new(),
        }
    }

    /// Checks subnet `i` (at `sat`): its own findings, and the finding (at `{sat}.range`) when
    /// its range overlaps an earlier subnet's. Apart, so each validator orders them as it
    /// always has.
    pub(super) fn check(
        &mut self,
        i: usize,
        s: &Subnet,
        sat: &str,
    ) -> (Vec<Finding>, Option<Finding>) {
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
pub(super) struct CompilationRefs<'a> {
    pub(super) workers: i64,
    pub(super) network: Option<&'a str>,
    pub(super) az: Option<&'a str>,
    pub(super) vm_type: Option<&'a str>,
}

/// At least one worker, and every name the compilation block gives must be defined.
pub(super) fn check_compilation(
    c: &CompilationRefs,
    known: &Names,
    wording: Wording,
    out: &mut Vec<Finding>,
) {
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
