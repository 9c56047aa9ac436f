//! `StaticIpsVerifier`, Ops Manager's check of the static IPs an operator gives a product's
//! jobs (a job's `static_ips` property, type `ip_ranges`), named by a tile in
//! `install_time_verifiers` (it takes no properties). Tileworks renders those addresses as
//! the instance group's `static_ips` as they are, so a wrong one would otherwise surface only
//! as a failed deploy: the Director refuses a static IP outside its subnet's `static` ranges,
//! inside `reserved`, or given to two instances.
//!
//! Each address must parse, lie in a subnet of the network the product is placed on (its
//! range, not the network or broadcast address, not the gateway, not reserved) and inside one
//! of that subnet's `static` ranges; no address may be given to two jobs, of this product or
//! of another on the same network (`VerifyContext::taken_ips`, which the server fills from the
//! other staged products). A job given static IPs gets exactly as many as it has instances:
//! the Director takes one per instance, and a manifest with a different number is refused, so
//! Tileworks renders them only when the numbers match, and otherwise this says why they are
//! not used. Without the Director's networks or the product's network only the shapes and the
//! duplicates are checked.

use std::collections::BTreeMap;

use super::{Finding, Labels, VerifyContext};
use crate::cloud_config::{Cidr, Ip, IpRange, SubnetConfig};
use crate::metadata::JobType;
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
        let Some(text) = job_static_ips(template, staged, job) else {
            continue;
        };
        // Addresses counted for the instance check; not when an item could not be read.
        let mut count: Option<u128> = Some(0);
        for item in split_comma_list(&text) {
            let range = match IpRange::parse(item) {
                Ok(range) => range,
                Err(why) => {
                    finding(&reference, why);
                    count = None;
                    continue;
                }
            };
            if range.len() > MAX_CHECKED {
                finding(
                    &reference,
                    format!("'{item}' holds more than {MAX_CHECKED} addresses"),
                );
                count = None;
                continue;
            }
            count = count.map(|c| c + range.len());
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
                if let Some(other) = ctx.taken_ips.and_then(|taken| taken.get(&ip)) {
                    finding(&reference, format!("{ip} is also given to {other}"));
                    continue;
                }
                if let (Some(subnets), Some(network)) = (subnets, ctx.network) {
                    if let Err(why) = usable(ip, subnets, network) {
                        finding(&reference, why);
                    }
                }
            }
        }
        let present = ctx.present_products.unwrap_or_default();
        let instances = crate::render::plan::instances(template, job, staged, present).ok();
        if let (Some(count), Some(instances)) = (count, instances) {
            if count > 0 && instances > 0 && count != instances as u128 {
                let addresses = if count == 1 {
                    "1 address".to_owned()
                } else {
                    format!("{count} addresses")
                };
                let of_instances = if instances == 1 {
                    "1 instance".to_owned()
                } else {
                    format!("{instances} instances")
                };
                finding(
                    &reference,
                    format!(
                        "{addresses} for {of_instances}: the Director takes exactly one static IP per instance, so \
                         none of these is used until the numbers match"
                    ),
                );
            }
        }
    }
    found
}

/// The text of `job`'s `static_ips` property (type `ip_ranges`), when set.
fn job_static_ips(
    template: &ProductTemplate,
    staged: &StagedValues,
    job: &JobType,
) -> Option<String> {
    let reference = format!(".{}.static_ips", job.name);
    super::value_of(template, staged, &reference).and_then(|v| v.as_str().map(str::to_owned))
}

/// The addresses `template`'s jobs are given as static IPs in `staged`, with the job's name,
/// in job order; items that do not parse, and ranges over [`MAX_CHECKED`] addresses, are left
/// out (the product's own verification names them). What the server hands the other
/// products' verification as [`VerifyContext::taken_ips`].
pub fn addresses(template: &ProductTemplate, staged: &StagedValues) -> Vec<(String, Ip)> {
    let mut out = Vec::new();
    for job in &template.job_types {
        let Some(text) = job_static_ips(template, staged, job) else {
            continue;
        };
        for item in split_comma_list(&text) {
            let Ok(range) = IpRange::parse(item) else {
                continue;
            };
            if range.len() <= MAX_CHECKED {
                out.extend(range.iter().map(|ip| (job.name.clone(), ip)));
            }
        }
    }
    out
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
