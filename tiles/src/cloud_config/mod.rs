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
//! The parts, one concept each:
//! * `ips` — IP arithmetic (addresses, `a-b` ranges and CIDRs, IPv4 and IPv6), here because
//!   subnets and static IPs are where it is needed;
//! * `model` — the BOSH cloud config, typed, keeping keys it does not know;
//! * `validate` — the Director's cloud-config rules, and the network and compilation checks the
//!   operator's configuration shares with them (it becomes a cloud config, so the rules are the
//!   same; only the words and paths of the findings differ);
//! * `director` — the operator's Director configuration: its model, its own checks, and the
//!   cloud config generated from it;
//! * `catalogue` — the default VM and disk types, and how a VM type becomes an IaaS instance
//!   type.
//!
//! Everything public is re-exported here: callers name `tiles::cloud_config::…` only.

mod catalogue;
mod director;
mod ips;
mod model;
mod validate;

pub use catalogue::{default_disk_types, default_vm_types};
pub use director::{
    AzConfig, CompilationConfig, DirectorConfig, DiskTypeConfig, Iaas, NetworkConfig, SubnetConfig,
    VmTypeConfig,
};
pub use ips::{format_ip, Cidr, Ip, IpRange};
pub use model::{
    static_ranges_by_az, Az, CloudConfig, Compilation, DiskType, Network, Subnet, VmExtension,
    VmType,
};

#[cfg(test)]
mod tests;
