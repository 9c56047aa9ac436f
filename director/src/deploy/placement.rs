//! Where instances go: balanced over the instance group's AZs, keeping existing instances (and
//! their indexes, disks and IPs) where they are. Their IP addresses are decided in `ips`.

use std::collections::HashSet;

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
