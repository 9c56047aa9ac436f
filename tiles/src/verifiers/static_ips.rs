//! `StaticIpsVerifier`, Ops Manager's check of the static IPs an operator gives a product's
//! jobs (a job's `static_ips` property, type `ip_ranges`), named by a tile in
//! `install_time_verifiers` (it takes no properties). Tileworks renders those addresses as
//! the instance group's `static_ips` as they are, so a wrong one would otherwise surface only
//! as a failed deploy: the Director refuses a static IP outside its subnet's `static` ranges,
//! inside `reserved`, or given to two instances.
//!
//! Each address must parse, lie in a subnet of the network the product is placed on (its
//! range, not the network or broadcast address, not the gateway, not reserved) and inside one
//! of that subnet's `static` ranges; no address may be given to two jobs.
//! Without the Director's networks or the product's network only the shapes and the
//! duplicates are checked. Other products' addresses are not compared (each product is
//! verified on its own).

use std::collections::BTreeMap;

use super::{Finding, Labels, VerifyContext};
use crate::cloud_config::{Cidr, Ip, IpRange, SubnetConfig};
use crate::metadata::ProductTemplate;
use crate::properties::formats::split_comma_list;
use crate::properties::staged::StagedValues;

pub const STATIC_IPS: &str = "StaticIpsVerifier";

/// More addresses than this in one job's ranges are reported once, not checked one by one.
const MAX_CHECKED: u128 = 4096;

pub fn static_ips(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &VerifyContext<'_>,
) -> Vec<Finding> {
    let mut labels: Option<Labels> = None;
    let mut found = Vec::new();
    let mut finding = |reference: &str, message: String| {
        let labels = labels.get_or_insert_with(|| Labels::of(template));
        found.push(labels.finding(STATIC_IPS, reference, message));
    };
    let subnets: Option<&[SubnetConfig]> = match (ctx.director, ctx.network) {
        (Some(director), Some(network)) => director
            .networks
            .iter()
            .find(|n| n.name == network)
            .map(|n| n.subnets.as_slice()),
        _ => None,
    };
    // Address → the job that has it, to name a duplicate's first owner.
    let mut owners: BTreeMap<Ip, String> = BTreeMap::new();
    for job in &template.job_types {
        let reference = format!(".{}.static_ips", job.name);
        let Some(text) = super::value_of(template, staged, &reference)
            .and_then(|v| v.as_str().map(str::to_owned))
        else {
            continue;
        };
        for item in split_comma_list(&text) {
            let range = match IpRange::parse(item) {
                Ok(range) => range,
                Err(why) => {
                    finding(&reference, why);
                    continue;
                }
            };
            if range.len() > MAX_CHECKED {
                finding(
                    &reference,
                    format!("'{item}' holds more than {MAX_CHECKED} addresses"),
                );
                continue;
            }
            for ip in range.iter() {
                if let Some(owner) = owners.get(&ip) {
                    let whose = if *owner == job.name {
                        "this job".to_owned()
                    } else {
                        format!("job {owner}")
                    };
                    finding(&reference, format!("{ip} is also given to {whose}"));
                    continue;
                }
                owners.insert(ip, job.name.clone());
                if let (Some(subnets), Some(network)) = (subnets, ctx.network) {
                    if let Err(why) = usable(ip, subnets, network) {
                        finding(&reference, why);
                    }
                }
            }
        }
    }
    found
}

/// Whether the Director may give `ip` as a static IP on a network of `subnets`, and why not.
fn usable(ip: Ip, subnets: &[SubnetConfig], network: &str) -> Result<(), String> {
    let Some((subnet, range)) = subnets.iter().find_map(|s| {
        let range = Cidr::parse(&s.cidr).ok()?.range();
        range.contains(ip).then_some((s, range))
    }) else {
        return Err(format!("{ip} is in no subnet of network '{network}'"));
    };
    let cidr = &subnet.cidr;
    if ip == range.first || ip == range.last {
        let what = if ip == range.first {
            "network"
        } else {
            "broadcast"
        };
        return Err(format!("{ip} is the {what} address of subnet {cidr}"));
    }
    if Ip::parse(&subnet.gateway).is_ok_and(|g| g == ip) {
        return Err(format!("{ip} is the gateway of subnet {cidr}"));
    }
    let ranges = |list: &[String]| -> Vec<IpRange> {
        list.iter()
            .flat_map(|entry| split_comma_list(entry))
            .filter_map(|r| IpRange::parse(r).ok())
            .collect()
    };
    if ranges(&subnet.reserved).iter().any(|r| r.contains(ip)) {
        return Err(format!("{ip} is reserved in subnet {cidr}"));
    }
    // The Director takes a static IP only from its subnet's `static` ranges.
    let statics = ranges(&subnet.static_ips);
    if statics.is_empty() {
        return Err(format!(
            "{ip}: subnet {cidr} declares no static IPs (set them in the Director's networks)"
        ));
    }
    if !statics.iter().any(|r| r.contains(ip)) {
        return Err(format!(
            "{ip} is outside the static IPs of subnet {cidr} ({})",
            subnet.static_ips.join(", ")
        ));
    }
    Ok(())
}
