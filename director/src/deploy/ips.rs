//! IP addresses for instances: the one place the deploy decides them, network by network of an
//! instance group, as the Director does.
//!
//! * Static IPs listed in the manifest: an instance keeps its current one while the manifest
//!   still offers it in a subnet of its AZ; the others get the first offered address not taken
//!   yet ([`static_ips`]).
//! * Otherwise, on a subnet with a range (a manual network): the instance's current address
//!   while it is still usable, else the first free one of its AZ's subnet, skipping the network
//!   and broadcast addresses, the gateway, reserved and static ranges and addresses in use
//!   ([`manual_ip`]).
//! * Otherwise (dynamic and vip networks, where the IaaS picks): a stable made-up address
//!   ([`made_up_ip`]).

use std::collections::HashSet;

use tiles::cloud_config::{CloudConfig, Ip, IpRange, Network, Subnet};
use tiles::manifest::InstanceGroup;

use crate::error::{Error, Result};
use crate::store::Instance;

/// Assigns IPs to instances of one group, network by network. `instances` are in index order
/// and carry their current IPs (the network order of the group); `used` holds every address
/// taken by other instances and grows with each assignment.
pub fn assign_ips(
    group: &InstanceGroup,
    cloud: &CloudConfig,
    instances: &mut [Instance],
    used: &mut HashSet<String>,
) -> Result<()> {
    let old: Vec<Vec<String>> = instances.iter().map(|i| i.ip_list()).collect();
    // The group's own current addresses are free for it to keep.
    for ip in old.iter().flatten() {
        used.remove(ip);
    }
    let mut new_ips: Vec<Vec<String>> = vec![Vec::new(); instances.len()];
    for net in &group.networks {
        let network = cloud
            .networks
            .iter()
            .find(|n| n.name == net.name)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "Instance group '{}' references an unknown network '{}'",
                    group.name, net.name
                ))
            })?;
        let chosen: Vec<String> = match &net.static_ips {
            Some(offered) if !offered.is_empty() => static_ips(network, offered, instances, &old)?,
            _ => instances
                .iter()
                .zip(&old)
                .map(|(inst, current)| subnet_ip(network, inst, current, used))
                .collect::<Result<_>>()?,
        };
        for (pos, ip) in chosen.into_iter().enumerate() {
            used.insert(ip.clone());
            new_ips[pos].push(ip);
        }
    }
    for (inst, ips) in instances.iter_mut().zip(new_ips) {
        inst.ips = serde_json::to_string(&ips).unwrap_or_else(|_| "[]".into());
    }
    Ok(())
}

/// Whether subnet `s` serves an instance in `az`: a subnet without AZs serves every instance.
fn serves(s: &Subnet, az: Option<&str>) -> bool {
    let names = s.az_names();
    names.is_empty() || az.is_some_and(|a| names.contains(&a))
}

/// The static IPs of `instances` (one each, in order) on `network`, from the manifest's
/// `offered` list (`a-b` entries expanded). An instance keeps its current address (of `old`)
/// when it is still offered in a subnet serving its AZ; the others get the first offered one
/// not taken yet that a subnet serving their AZ holds as static (any address on a vip network,
/// whose subnets do not list statics; the list in order when it has no subnets at all).
fn static_ips(
    network: &Network,
    offered: &[String],
    instances: &[Instance],
    old: &[Vec<String>],
) -> Result<Vec<String>> {
    let all: Vec<Ip> = offered
        .iter()
        .filter_map(|s| IpRange::parse(s).ok())
        .flat_map(|r| r.iter().collect::<Vec<_>>())
        .collect();
    let mut taken: HashSet<Ip> = HashSet::new();
    let mut chosen: Vec<Option<Ip>> = vec![None; instances.len()];
    // First keep each instance's current static IP when it is still offered.
    for ((inst, current), slot) in instances.iter().zip(old).zip(&mut chosen) {
        let az = inst.az.as_deref();
        *slot = current.iter().filter_map(|s| Ip::parse(s).ok()).find(|ip| {
            let fits = network
                .subnets
                .iter()
                .any(|s| s.static_contains(*ip) && serves(s, az));
            all.contains(ip) && fits && taken.insert(*ip)
        });
    }
    let is_vip = network.kind() == "vip";
    for (inst, slot) in instances.iter().zip(&mut chosen) {
        if slot.is_some() {
            continue;
        }
        let az = inst.az.as_deref();
        let fits = |ip: Ip| {
            network
                .subnets
                .iter()
                .any(|s| (s.static_contains(ip) || is_vip) && serves(s, az))
        };
        let free = |ip: &Ip| !taken.contains(ip);
        // vip networks without subnets take the list in order.
        let candidate = match all.iter().copied().find(|ip| free(ip) && fits(*ip)) {
            None if network.subnets.is_empty() => all.iter().copied().find(free),
            found => found,
        };
        let Some(ip) = candidate else {
            return Err(Error::Invalid(format!(
                "Failed to reserve IP for '{}' on network '{}': no static IP left for AZ '{}'",
                inst.label(),
                network.name,
                az.unwrap_or("(none)")
            )));
        };
        taken.insert(ip);
        *slot = Some(ip);
    }
    Ok(chosen
        .into_iter()
        .flatten()
        .map(|ip| ip.to_string())
        .collect())
}

/// The first subnet serving an instance in `az` (any subnet when it has no AZ).
fn subnet_in_az<'a>(subnets: &'a [Subnet], az: Option<&str>) -> Option<&'a Subnet> {
    subnets.iter().find(|s| {
        let names = s.az_names();
        match az {
            Some(az) => names.is_empty() || names.contains(&az),
            None => true,
        }
    })
}

/// The address of `inst` (currently holding `current`) on `network` without static IPs: from
/// its AZ's subnet when that has a range, else made up. Marks it used.
fn subnet_ip(
    network: &Network,
    inst: &Instance,
    current: &[String],
    used: &mut HashSet<String>,
) -> Result<String> {
    let subnet = subnet_in_az(&network.subnets, inst.az.as_deref());
    let range = subnet
        .and_then(|s| s.range.as_deref())
        .and_then(|r| IpRange::parse(r).ok());
    let ip = match (subnet, range) {
        (Some(subnet), Some(range)) => manual_ip(subnet, range, current, used)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "Failed to reserve IP for '{}' for manual network '{}': no more available",
                    inst.label(),
                    network.name
                ))
            })?
            .to_string(),
        _ => made_up_ip(current, used),
    };
    used.insert(ip.clone());
    Ok(ip)
}

fn ranges(list: Option<&Vec<String>>) -> Vec<IpRange> {
    list.into_iter()
        .flatten()
        .filter_map(|r| IpRange::parse(r).ok())
        .collect()
}

/// An address of `subnet` (whose range is `range`) for an instance currently holding
/// `current`: the first of those still usable and not `used`, else the first usable address
/// not `used`. Usable: not the network or broadcast address, nor the gateway, nor in a
/// reserved or static range. `None` when the subnet is full.
fn manual_ip(
    subnet: &Subnet,
    range: IpRange,
    current: &[String],
    used: &HashSet<String>,
) -> Option<Ip> {
    let excluded: Vec<IpRange> = ranges(subnet.reserved.as_ref())
        .into_iter()
        .chain(ranges(subnet.static_ips.as_ref()))
        .collect();
    let gateway = subnet.gateway.as_deref().and_then(|g| Ip::parse(g).ok());
    let usable = |ip: Ip| {
        ip != range.first
            && ip != range.last
            && Some(ip) != gateway
            && !excluded.iter().any(|r| r.contains(ip))
    };
    let kept = current.iter().find_map(|s| {
        Ip::parse(s)
            .ok()
            .filter(|ip| range.contains(*ip) && usable(*ip) && !used.contains(s))
    });
    kept.or_else(|| {
        range
            .iter()
            .find(|ip| usable(*ip) && !used.contains(&ip.to_string()))
    })
}

/// An address on a network where the IaaS picks (dynamic, vip): the instance's first current
/// one while nobody else uses it, else a made-up free one, so it stays stable across deploys.
fn made_up_ip(current: &[String], used: &HashSet<String>) -> String {
    current
        .first()
        .cloned()
        .filter(|ip| !used.contains(ip))
        .unwrap_or_else(|| {
            (2..65_000u32)
                .map(|n| format!("192.168.{}.{}", n / 250, n % 250 + 2))
                .find(|ip| !used.contains(ip))
                .unwrap_or_else(|| "192.168.255.254".into())
        })
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    /// A manual network `net` of 10.0.0.0/29 in z1: .0 is the network address, .1 the gateway,
    /// .2 reserved, .3–.4 static, .7 the broadcast address; .5 and .6 are left for dynamic IPs.
    /// `vip` is a vip network without subnets, `dyn` a dynamic one.
    fn cloud() -> CloudConfig {
        CloudConfig::from_value(&json!({
            "azs": [{"name": "z1"}, {"name": "z2"}],
            "networks": [
                {"name": "net", "subnets": [{
                    "range": "10.0.0.0/29", "gateway": "10.0.0.1", "reserved": ["10.0.0.2"],
                    "static": ["10.0.0.3 - 10.0.0.4"], "az": "z1"
                }]},
                {"name": "vip", "type": "vip"},
                {"name": "dyn", "type": "dynamic", "subnets": [{"az": "z1"}]}
            ]
        }))
        .unwrap()
    }

    fn group(network: Value) -> InstanceGroup {
        serde_json::from_value(json!({
            "name": "web", "instances": 2, "azs": ["z1"], "jobs": [],
            "vm_type": "small", "stemcell": "default", "networks": [network]
        }))
        .unwrap()
    }

    /// Instances in z1 holding `current` IPs (one list per instance, in index order).
    fn instances(current: &[&[&str]]) -> Vec<Instance> {
        current
            .iter()
            .enumerate()
            .map(|(idx, ips)| Instance {
                ips: serde_json::to_string(ips).unwrap(),
                ..Instance::new("d", "web", idx as i64, Some("z1".into()))
            })
            .collect()
    }

    /// Runs [`assign_ips`]: each instance's IPs, or the error.
    fn assign(
        network: Value,
        current: &[&[&str]],
        used: &[&str],
    ) -> std::result::Result<Vec<Vec<String>>, String> {
        let mut insts = instances(current);
        let mut used: HashSet<String> = used.iter().map(|s| s.to_string()).collect();
        assign_ips(&group(network), &cloud(), &mut insts, &mut used).map_err(|e| e.to_string())?;
        for ip in insts.iter().flat_map(Instance::ip_list) {
            assert!(used.contains(&ip), "{ip} is not marked used");
        }
        Ok(insts.iter().map(Instance::ip_list).collect())
    }

    #[test]
    fn dynamic_ips_skip_network_gateway_reserved_static_and_used_addresses() {
        let net = json!({"name": "net"});
        assert_eq!(
            assign(net.clone(), &[&[], &[]], &[]).unwrap(),
            vec![vec!["10.0.0.5"], vec!["10.0.0.6"]]
        );
        // Another deployment holds .5: the first instance gets .6 and the subnet is full.
        let err = assign(net, &[&[], &[]], &["10.0.0.5"]).unwrap_err();
        assert!(
            err.contains("Failed to reserve IP for 'web/")
                && err.contains("for manual network 'net': no more available"),
            "{err}"
        );
    }

    #[test]
    fn an_instance_keeps_its_dynamic_ip_unless_another_holds_it() {
        let net = json!({"name": "net"});
        assert_eq!(
            assign(net.clone(), &[&["10.0.0.6"], &[]], &[]).unwrap(),
            vec![vec!["10.0.0.6"], vec!["10.0.0.5"]]
        );
        // The group's own addresses are free for it, even when listed as used.
        let own = ["10.0.0.5", "10.0.0.6"];
        assert_eq!(
            assign(net.clone(), &[&["10.0.0.6"], &["10.0.0.5"]], &own).unwrap(),
            vec![vec!["10.0.0.6"], vec!["10.0.0.5"]]
        );
        // Two instances holding the same address: the first keeps it, the second moves.
        assert_eq!(
            assign(net.clone(), &[&["10.0.0.6"], &["10.0.0.6"]], &[]).unwrap(),
            vec![vec!["10.0.0.6"], vec!["10.0.0.5"]]
        );
        // An address that is no longer usable (now static) is given up.
        assert_eq!(
            assign(net, &[&["10.0.0.3"], &[]], &[]).unwrap(),
            vec![vec!["10.0.0.5"], vec!["10.0.0.6"]]
        );
    }

    #[test]
    fn static_ips_are_kept_then_handed_out_in_order() {
        let net = json!({"name": "net", "static_ips": ["10.0.0.3-10.0.0.4"]});
        assert_eq!(
            assign(net.clone(), &[&[], &[]], &[]).unwrap(),
            vec![vec!["10.0.0.3"], vec!["10.0.0.4"]]
        );
        // The second instance keeps .3; the first takes what is left.
        assert_eq!(
            assign(net.clone(), &[&[], &["10.0.0.3"]], &[]).unwrap(),
            vec![vec!["10.0.0.4"], vec!["10.0.0.3"]]
        );
        // One static IP offered for two instances.
        let one = json!({"name": "net", "static_ips": ["10.0.0.4"]});
        let err = assign(one, &[&[], &[]], &[]).unwrap_err();
        assert!(
            err.contains("on network 'net': no static IP left for AZ 'z1'"),
            "{err}"
        );
        // A static IP must be in a static range of a subnet serving the instance's AZ.
        let mut insts = instances(&[&[]]);
        insts[0].az = Some("z2".into());
        let err = assign_ips(&group(net), &cloud(), &mut insts, &mut HashSet::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no static IP left for AZ 'z2'"), "{err}");
    }

    #[test]
    fn vip_and_dynamic_networks() {
        // A vip network without subnets takes the manifest's list in order.
        let vip = json!({"name": "vip", "static_ips": ["1.2.3.4", "1.2.3.5"]});
        assert_eq!(
            assign(vip, &[&[], &[]], &[]).unwrap(),
            vec![vec!["1.2.3.4"], vec!["1.2.3.5"]]
        );
        // Where the IaaS picks, a made-up address that stays the instance's own.
        let dynamic = json!({"name": "dyn"});
        assert_eq!(
            assign(dynamic.clone(), &[&["192.168.0.9"], &[]], &["192.168.0.4"]).unwrap(),
            vec![vec!["192.168.0.9"], vec!["192.168.0.5"]]
        );
    }

    #[test]
    fn an_unknown_network_is_refused() {
        let err = assign(json!({"name": "nope"}), &[&[]], &[]).unwrap_err();
        assert!(
            err.contains("Instance group 'web' references an unknown network 'nope'"),
            "{err}"
        );
    }
}
