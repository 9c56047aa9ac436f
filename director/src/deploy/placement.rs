//! Where instances go: balanced over the instance group's AZs, keeping existing instances (and
//! their indexes, disks and IPs) where they are, and IP addresses from the cloud config's
//! subnets (static IPs from the manifest, otherwise the first free address of the AZ's subnet).

use std::collections::HashSet;

use tiles::cloud_config::{CloudConfig, Ip, IpRange, Subnet};
use tiles::manifest::InstanceGroup;

use crate::error::{Error, Result};
use crate::store::Instance;

/// The result of placing one instance group.
#[derive(Debug, Default)]
pub struct Placement {
    /// Existing instances that stay (possibly in a new group after `migrated_from`).
    pub kept: Vec<Instance>,
    /// New instances: index and AZ.
    pub new: Vec<(i64, Option<String>)>,
    /// Existing instances to delete (excess, or in an AZ the group no longer uses).
    pub deleted: Vec<Instance>,
}

/// Places `n` instances over `azs` (an empty list means "no AZ"), keeping `existing` ones.
/// Excess instances leave the fullest AZ first (highest index); new ones go to the emptiest AZ
/// (earliest in the list on a tie) with the lowest free index.
pub fn place(existing: Vec<Instance>, n: usize, azs: &[String]) -> Placement {
    let zones: Vec<Option<String>> = if azs.is_empty() {
        vec![None]
    } else {
        azs.iter().cloned().map(Some).collect()
    };
    let mut out = Placement::default();
    let mut existing = existing;
    existing.sort_by_key(|i| i.idx);
    for inst in existing {
        if zones.contains(&inst.az) {
            out.kept.push(inst);
        } else {
            out.deleted.push(inst);
        }
    }
    let count = |kept: &[Instance], new: &[(i64, Option<String>)], z: &Option<String>| {
        kept.iter().filter(|i| &i.az == z).count() + new.iter().filter(|(_, a)| a == z).count()
    };
    while out.kept.len() > n {
        // The fullest zone; on a tie the later one in the list gives up an instance.
        let Some(zone) = zones
            .iter()
            .enumerate()
            .max_by_key(|(pos, z)| (count(&out.kept, &[], z), *pos))
            .map(|(_, z)| z.clone())
        else {
            break;
        };
        let Some(pos) = out
            .kept
            .iter()
            .enumerate()
            .filter(|(_, i)| i.az == zone)
            .max_by_key(|(_, i)| i.idx)
            .map(|(p, _)| p)
        else {
            break;
        };
        out.deleted.push(out.kept.remove(pos));
    }
    while out.kept.len() + out.new.len() < n {
        let Some(zone) = zones
            .iter()
            .enumerate()
            .min_by_key(|(pos, z)| (count(&out.kept, &out.new, z), *pos))
            .map(|(_, z)| z.clone())
        else {
            break;
        };
        let used: HashSet<i64> = out
            .kept
            .iter()
            .map(|i| i.idx)
            .chain(out.new.iter().map(|(i, _)| *i))
            .collect();
        let idx = (0..).find(|i| !used.contains(i)).unwrap_or(0);
        out.new.push((idx, zone));
    }
    out
}

fn subnet_in_az<'a>(subnets: &'a [Subnet], az: Option<&str>) -> Option<&'a Subnet> {
    subnets.iter().find(|s| {
        let names = s.az_names();
        match az {
            Some(az) => names.is_empty() || names.contains(&az),
            None => true,
        }
    })
}

fn ranges(list: Option<&Vec<String>>) -> Vec<IpRange> {
    list.into_iter()
        .flatten()
        .filter_map(|r| IpRange::parse(r).ok())
        .collect()
}

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
        let chosen: Vec<Option<String>> = match &net.static_ips {
            Some(static_ips) if !static_ips.is_empty() => {
                // Expand `a-b` entries, then hand each AZ the static IPs of its subnets.
                let all: Vec<Ip> = static_ips
                    .iter()
                    .filter_map(|s| IpRange::parse(s).ok())
                    .flat_map(|r| r.iter().collect::<Vec<_>>())
                    .collect();
                let mut taken: HashSet<Ip> = HashSet::new();
                let mut chosen = vec![None; instances.len()];
                // First keep each instance's current static IP when it is still offered.
                for (pos, inst) in instances.iter().enumerate() {
                    for ip in old.get(pos).into_iter().flatten() {
                        if let Ok(ip) = Ip::parse(ip) {
                            let fits = network.subnets.iter().any(|s| {
                                s.static_contains(ip)
                                    && (s.az_names().is_empty()
                                        || inst
                                            .az
                                            .as_deref()
                                            .is_some_and(|a| s.az_names().contains(&a)))
                            });
                            if all.contains(&ip) && fits && taken.insert(ip) {
                                chosen[pos] = Some(ip.to_string());
                                break;
                            }
                        }
                    }
                }
                for (pos, inst) in instances.iter().enumerate() {
                    if chosen[pos].is_some() {
                        continue;
                    }
                    let candidate = all.iter().copied().find(|ip| {
                        !taken.contains(ip)
                            && network.subnets.iter().any(|s| {
                                (s.static_contains(*ip) || network.kind() == "vip")
                                    && (s.az_names().is_empty()
                                        || inst
                                            .az
                                            .as_deref()
                                            .is_some_and(|a| s.az_names().contains(&a)))
                            })
                    });
                    let candidate = candidate.or_else(|| {
                        // vip networks without subnets take the list in order.
                        if network.subnets.is_empty() {
                            all.iter().copied().find(|ip| !taken.contains(ip))
                        } else {
                            None
                        }
                    });
                    match candidate {
                        Some(ip) => {
                            taken.insert(ip);
                            chosen[pos] = Some(ip.to_string());
                        }
                        None => {
                            return Err(Error::Invalid(format!(
                                "Failed to reserve IP for '{}' on network '{}': no static IP left for AZ '{}'",
                                inst.label(),
                                net.name,
                                inst.az.as_deref().unwrap_or("(none)")
                            )))
                        }
                    }
                }
                chosen
            }
            _ => {
                let mut chosen = vec![None; instances.len()];
                for (pos, inst) in instances.iter().enumerate() {
                    let subnet = subnet_in_az(&network.subnets, inst.az.as_deref());
                    let Some(range) = subnet
                        .and_then(|s| s.range.as_deref())
                        .and_then(|r| IpRange::parse(r).ok())
                    else {
                        // Dynamic and vip networks: the IaaS picks; make a stable fake one.
                        let ip = old
                            .get(pos)
                            .and_then(|o| o.first().cloned())
                            .filter(|ip| !used.contains(ip))
                            .unwrap_or_else(|| {
                                (2..65_000u32)
                                    .map(|n| format!("192.168.{}.{}", n / 250, n % 250 + 2))
                                    .find(|ip| !used.contains(ip))
                                    .unwrap_or_else(|| "192.168.255.254".into())
                            });
                        used.insert(ip.clone());
                        chosen[pos] = Some(ip);
                        continue;
                    };
                    let subnet = subnet.cloned().unwrap_or_default();
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
                    let current = old.get(pos).into_iter().flatten().find_map(|s| {
                        Ip::parse(s)
                            .ok()
                            .filter(|ip| range.contains(*ip) && usable(*ip) && !used.contains(s))
                    });
                    let ip = match current {
                        Some(ip) => Some(ip),
                        None => range
                            .iter()
                            .find(|ip| usable(*ip) && !used.contains(&ip.to_string())),
                    };
                    let Some(ip) = ip else {
                        return Err(Error::Invalid(format!(
                            "Failed to reserve IP for '{}' for manual network '{}': no more available",
                            inst.label(),
                            net.name
                        )));
                    };
                    used.insert(ip.to_string());
                    chosen[pos] = Some(ip.to_string());
                }
                chosen
            }
        };
        for (pos, ip) in chosen.into_iter().enumerate() {
            if let Some(ip) = ip {
                used.insert(ip.clone());
                new_ips[pos].push(ip);
            }
        }
    }
    for (inst, ips) in instances.iter_mut().zip(new_ips) {
        inst.ips = serde_json::to_string(&ips).unwrap_or_else(|_| "[]".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(idx: i64, az: &str) -> Instance {
        Instance {
            id: format!("id{idx}"),
            ..Instance::new("d", "web", idx, Some(az.into()))
        }
    }

    fn azs() -> Vec<String> {
        vec!["z1".into(), "z2".into(), "z3".into()]
    }

    #[test]
    fn new_instances_balance_over_azs() {
        let p = place(Vec::new(), 5, &azs());
        let zones: Vec<_> = p.new.iter().map(|(_, z)| z.clone().unwrap()).collect();
        assert_eq!(zones, vec!["z1", "z2", "z3", "z1", "z2"]);
        let idx: Vec<_> = p.new.iter().map(|(i, _)| *i).collect();
        assert_eq!(idx, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn scaling_keeps_existing_and_fills_the_emptiest_zone() {
        let p = place(vec![inst(0, "z1"), inst(1, "z2")], 3, &azs());
        assert_eq!(p.kept.len(), 2);
        assert_eq!(p.new, vec![(2, Some("z3".into()))]);
        let p = place(
            vec![inst(0, "z1"), inst(1, "z2"), inst(2, "z3"), inst(3, "z1")],
            2,
            &azs(),
        );
        let gone: Vec<_> = p.deleted.iter().map(|i| i.idx).collect();
        assert_eq!(gone, vec![3, 2]);
    }

    #[test]
    fn instances_in_removed_zones_are_deleted() {
        let p = place(vec![inst(0, "z9")], 1, &azs());
        assert_eq!(p.deleted.len(), 1);
        assert_eq!(p.new, vec![(0, Some("z1".into()))]);
    }
}
