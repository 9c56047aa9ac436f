//! How each job of a product is sized and placed before anything is rendered: instance count,
//! AZs, VM type, persistent disk, `max_in_flight`, and the IP addresses the job accessors
//! (`ips`, `first_ip`) hand out.
//!
//! "Automatic" resolves the way Ops Manager's Resource Config page does: the instance count is
//! the `instance_definition` default (0 when a `zero_if` rule holds), the VM type is the first
//! type of the catalogue with at least the job's `cpu`, `ram` and `ephemeral_disk` resource
//! defaults, and the persistent disk is the smallest disk type of at least the
//! `persistent_disk` default (none when that default is 0).
//!
//! IP addresses are allocated deterministically, job after job in metadata order: a job with a
//! `static_ips` property (type `ip_ranges`) gets those; the others take, round-robin over their
//! AZs, the next free address of the assigned network's subnets in that AZ — first from the
//! subnets' `static` ranges, then from the rest of the range outside `reserved`, the gateway and
//! the network and broadcast addresses. Addresses other products on the same network hold are
//! not free: every operator-given `static_ips` of any of them, and what the products staged
//! before this one were given (in staging order, then name, each computed the same way), so a
//! product staged later never moves an earlier one's addresses and every product's render
//! agrees on who holds what. Only addresses that all lie in `static` ranges become the
//! instance group's `static_ips` (and only when a manifest reads them); others are what a
//! dynamic placement would most likely give, which is all pre-2.1 tiles can expect.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::cloud_config::{Cidr, Ip, IpRange, Subnet};
use crate::metadata::{JobType, MaxInFlight, ProductTemplate};
use crate::properties::defaults::{effective_value, selected_option};
use crate::properties::formats::split_comma_list;
use crate::properties::staged::Sized;
use crate::properties::StagedValues;
use crate::{Error, Result};

use super::context::{NetworkAssignment, OtherProduct, RenderContext};

/// One job's placement and sizing.
#[derive(Debug, Clone, PartialEq)]
pub struct JobPlan {
    pub name: String,
    pub instances: i64,
    pub azs: Vec<String>,
    pub vm_type: Option<String>,
    pub cpu: Option<i64>,
    pub ram: Option<i64>,
    pub ephemeral_disk: Option<i64>,
    /// Cloud-config disk type name and its size in MB.
    pub disk_type: Option<String>,
    pub persistent_disk_mb: i64,
    /// Per-group `max_in_flight` override (operator's, else the job type's).
    pub max_in_flight: Option<Value>,
    pub canaries: Option<i64>,
    pub network: String,
    /// One address per instance (may be shorter when the network runs out).
    pub ips: Vec<String>,
    /// True when every address in `ips` may be declared as `static_ips`.
    pub ips_are_static: bool,
    /// True when the operator set the job's `static_ips` property.
    pub operator_static_ips: bool,
}

fn render_err(field: String, message: String) -> Error {
    Error::Invalid { field, message }
}

/// The text a `zero_if` reference currently has (a selector's `select_value`).
fn zero_if_text(
    template: &ProductTemplate,
    staged: &StagedValues,
    present: &[String],
    reference: &str,
) -> Option<String> {
    let pref = template.property(reference)?;
    let value = effective_value(&pref.reference, pref.blueprint, staged, present)?;
    if let Some(o) = selected_option(pref.blueprint, &value) {
        return Some(o.select_value.clone());
    }
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The instance count of a job.
pub fn instances(
    template: &ProductTemplate,
    job: &JobType,
    staged: &StagedValues,
    present: &[String],
) -> Result<i64> {
    let def = job.instance_definition.as_ref();
    if let Some(z) = def.and_then(|d| d.zero_if.as_ref()) {
        if zero_if_text(template, staged, present, &z.property_reference)
            .is_some_and(|t| z.property_values.contains(&t))
        {
            return Ok(0);
        }
    }
    let staged_count = staged.resource(&job.name).map(|r| r.instances());
    match staged_count {
        Some(Err(text)) => Err(render_err(
            format!("resource-config.{}.instances", job.name),
            format!("'{text}' is not a number of instances"),
        )),
        Some(Ok(Sized::Value(n))) if n >= 0 => Ok(n),
        Some(Ok(Sized::Value(n))) => Err(render_err(
            format!("resource-config.{}.instances", job.name),
            format!("{n} is not a number of instances"),
        )),
        _ => Ok(def.and_then(|d| d.default).unwrap_or(1).max(0)),
    }
}

fn resource_default(job: &JobType, name: &str) -> i64 {
    job.resource_definition(name)
        .and_then(|r| r.default)
        .unwrap_or(0)
}

/// Plans every job of `template` (metadata order) in `network`: `template` is the product being
/// rendered or one of `ctx.products`.
pub fn plan_jobs(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &RenderContext,
    network: &NetworkAssignment,
) -> Result<Vec<JobPlan>> {
    let taken = held_by_other_products(template, staged, ctx, &network.network)?;
    plan_jobs_around(template, staged, ctx, network, taken)
}

/// The addresses on `network_name` that products other than `template`'s hold (see the module
/// comment): every product's operator-given static IPs, and the allocations of the products
/// staged before it.
fn held_by_other_products(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &RenderContext,
    network_name: &str,
) -> Result<BTreeSet<String>> {
    let present = ctx.present_products();
    let order = |name: &str| -> (String, String) {
        let at = ctx
            .products
            .get(name)
            .map_or(&ctx.staged_at, |o| &o.staged_at);
        (at.clone(), name.to_owned())
    };
    let mine = order(&template.name);
    let mut others: Vec<(&OtherProduct, &NetworkAssignment)> = ctx
        .products
        .iter()
        .filter(|(name, _)| **name != template.name)
        .map(|(_, o)| (o, o.network.as_ref().unwrap_or(&ctx.network)))
        .filter(|(_, net)| net.network == network_name)
        .collect();
    others.sort_by_key(|(o, _)| order(&o.template.name));
    // Operator-given addresses of every product on the network, this one's included (as the
    // earlier products' allocations, computed below, must avoid them too).
    let mut taken = BTreeSet::new();
    let everyone = others
        .iter()
        .map(|(o, _)| (&o.template, &o.staged))
        .chain(std::iter::once((template, staged)));
    for (t, s) in everyone {
        for job in &t.job_types {
            // A bad list is the owning product's error, reported by its own render.
            if let Ok(Some(ips)) = static_ips_property(job, s, &present) {
                taken.extend(ips);
            }
        }
    }
    for (other, net) in others {
        if order(&other.template.name) >= mine {
            break;
        }
        let plans = plan_jobs_around(&other.template, &other.staged, ctx, net, taken.clone())?;
        taken.extend(
            plans
                .into_iter()
                .filter(|p| !p.operator_static_ips)
                .flat_map(|p| p.ips),
        );
    }
    Ok(taken)
}

/// [`plan_jobs`] with `taken` already held by others.
fn plan_jobs_around(
    template: &ProductTemplate,
    staged: &StagedValues,
    ctx: &RenderContext,
    network: &NetworkAssignment,
    taken: BTreeSet<String>,
) -> Result<Vec<JobPlan>> {
    let present = ctx.present_products();
    let vm_types = ctx.director.config.effective_vm_types();
    let mut disk_types: Vec<(String, i64)> = ctx
        .director
        .cloud_config
        .disk_types
        .iter()
        .map(|d| (d.name.clone(), d.disk_size))
        .collect();
    disk_types.sort_by_key(|(_, size)| *size);
    let mut plans = Vec::with_capacity(template.job_types.len());
    for job in &template.job_types {
        let rc = staged.resource(&job.name);
        let count = instances(template, job, staged, &present)?;
        let vm = match rc.and_then(|r| r.vm_type()) {
            Some(name) => vm_types.iter().find(|v| v.name == name).map_or(
                (Some(name.to_string()), None, None, None),
                |v| {
                    (
                        Some(v.name.clone()),
                        Some(i64::from(v.cpu)),
                        Some(i64::from(v.ram)),
                        Some(i64::from(v.ephemeral_disk)),
                    )
                },
            ),
            None => {
                let (cpu, ram, disk) = (
                    resource_default(job, "cpu"),
                    resource_default(job, "ram"),
                    resource_default(job, "ephemeral_disk"),
                );
                let fit = vm_types.iter().find(|v| {
                    i64::from(v.cpu) >= cpu
                        && i64::from(v.ram) >= ram
                        && i64::from(v.ephemeral_disk) >= disk
                });
                match fit {
                    Some(v) => (
                        Some(v.name.clone()),
                        Some(i64::from(v.cpu)),
                        Some(i64::from(v.ram)),
                        Some(i64::from(v.ephemeral_disk)),
                    ),
                    None if count == 0 => (None, None, None, None),
                    None => {
                        return Err(render_err(
                            format!("resource-config.{}.instance_type", job.name),
                            format!(
                                "no VM type has {cpu} CPUs, {ram} MB RAM and {disk} MB disk; choose one"
                            ),
                        ))
                    }
                }
            }
        };
        let disk_default = resource_default(job, "persistent_disk");
        let disk_configurable = job
            .resource_definition("persistent_disk")
            .is_some_and(|d| d.configurable);
        let wanted = if disk_default <= 0 && !disk_configurable {
            Sized::Value(0)
        } else {
            let staged_disk = rc.map(|r| r.persistent_disk_mb());
            match staged_disk {
                Some(Err(text)) => {
                    return Err(render_err(
                        format!("resource-config.{}.persistent_disk", job.name),
                        format!("'{text}' is not a disk size in MB"),
                    ))
                }
                Some(Ok(s)) => s,
                None => Sized::Automatic,
            }
        };
        let min_disk = match wanted {
            Sized::Value(mb) => mb,
            Sized::Automatic => disk_default,
        };
        let (disk_type, disk_mb) = if min_disk <= 0 {
            (None, 0)
        } else {
            match disk_types.iter().find(|(_, size)| *size >= min_disk) {
                Some((name, size)) => (Some(name.clone()), *size),
                None => {
                    return Err(render_err(
                        format!("resource-config.{}.persistent_disk", job.name),
                        format!("no disk type holds {min_disk} MB"),
                    ))
                }
            }
        };
        let max_in_flight = match rc.and_then(|r| r.max_in_flight.clone()) {
            Some(Value::String(s)) if s.eq_ignore_ascii_case("default") => None,
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        }
        .or_else(|| {
            job.max_in_flight.as_ref().map(|m| match m {
                MaxInFlight::Count(n) => Value::from(*n),
                MaxInFlight::Percent(p) => Value::String(format!("{p}%")),
                MaxInFlight::Other(t) => Value::String(t.clone()),
            })
        });
        let operator_ips = static_ips_property(job, staged, &present)?;
        plans.push(JobPlan {
            name: job.name.clone(),
            instances: count,
            azs: network.azs_for(job.single_az_only),
            vm_type: vm.0,
            cpu: vm.1,
            ram: vm.2,
            ephemeral_disk: vm.3,
            disk_type,
            persistent_disk_mb: disk_mb,
            max_in_flight,
            canaries: job.canaries,
            network: network.network.clone(),
            operator_static_ips: operator_ips.is_some(),
            ips: operator_ips.unwrap_or_default(),
            ips_are_static: true,
        });
    }
    allocate_ips(&mut plans, ctx, taken);
    Ok(plans)
}

/// The addresses of a job's `static_ips` property (type `ip_ranges`), expanded.
fn static_ips_property(
    job: &JobType,
    staged: &StagedValues,
    present: &[String],
) -> Result<Option<Vec<String>>> {
    let Some(bp) = job.property_blueprint("static_ips") else {
        return Ok(None);
    };
    let reference = format!(".{}.static_ips", job.name);
    let Some(Value::String(text)) = effective_value(&reference, bp, staged, present) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in split_comma_list(&text) {
        let r = IpRange::parse(item).map_err(|m| render_err(reference.clone(), m))?;
        if r.len() > 4096 {
            return Err(render_err(
                reference,
                format!("'{item}' holds more than 4096 addresses"),
            ));
        }
        out.extend(r.iter().map(|ip| ip.to_string()));
    }
    Ok((!out.is_empty()).then_some(out))
}

/// Free addresses of one subnet, static ranges first: `(ip, is_static)`.
fn subnet_pool(subnet: &Subnet) -> Vec<(Ip, bool)> {
    let Some(range) = subnet.range.as_deref().and_then(|r| Cidr::parse(r).ok()) else {
        return Vec::new();
    };
    let whole = range.range();
    let parse = |list: &Option<Vec<String>>| -> Vec<IpRange> {
        list.iter()
            .flatten()
            .filter_map(|s| IpRange::parse(s).ok())
            .collect()
    };
    let reserved = parse(&subnet.reserved);
    let statics = parse(&subnet.static_ips);
    let gateway = subnet.gateway.as_deref().and_then(|g| Ip::parse(g).ok());
    let usable = |ip: Ip| {
        ip != whole.first
            && ip != whole.last
            && Some(ip) != gateway
            && !reserved.iter().any(|r| r.contains(ip))
            && whole.contains(ip)
    };
    let mut out: Vec<(Ip, bool)> = Vec::new();
    let mut budget: usize = 65_536;
    for r in &statics {
        for ip in r.iter() {
            if budget == 0 {
                return out;
            }
            budget -= 1;
            if usable(ip) {
                out.push((ip, true));
            }
        }
    }
    for ip in whole.iter() {
        if budget == 0 {
            break;
        }
        budget -= 1;
        if usable(ip) && !statics.iter().any(|r| r.contains(ip)) {
            out.push((ip, false));
        }
    }
    out
}

fn allocate_ips(plans: &mut [JobPlan], ctx: &RenderContext, mut taken: BTreeSet<String>) {
    taken.extend(
        plans
            .iter()
            .filter(|p| p.operator_static_ips)
            .flat_map(|p| p.ips.iter().cloned()),
    );
    for plan in plans.iter_mut().filter(|p| !p.operator_static_ips) {
        let Some(net) = ctx
            .director
            .cloud_config
            .networks
            .iter()
            .find(|n| n.name == plan.network)
        else {
            continue;
        };
        let pools: Vec<Vec<(Ip, bool)>> = plan
            .azs
            .iter()
            .map(|az| {
                net.subnets
                    .iter()
                    .filter(|s| s.az_names().is_empty() || s.az_names().contains(&az.as_str()))
                    .flat_map(subnet_pool)
                    .collect()
            })
            .collect();
        let mut cursors = vec![0usize; pools.len()];
        let wanted = usize::try_from(plan.instances).unwrap_or(0).min(4096);
        let mut all_static = true;
        let mut i = 0usize;
        let mut stalled = 0usize;
        while plan.ips.len() < wanted && !pools.is_empty() && stalled < pools.len() {
            let z = i % pools.len();
            i += 1;
            let pool = &pools[z];
            let mut found = false;
            while cursors[z] < pool.len() {
                let (ip, is_static) = pool[cursors[z]];
                cursors[z] += 1;
                let text = ip.to_string();
                if taken.insert(text.clone()) {
                    all_static &= is_static;
                    plan.ips.push(text);
                    found = true;
                    break;
                }
            }
            stalled = if found { 0 } else { stalled + 1 };
        }
        plan.ips_are_static = all_static && plan.ips.len() == wanted;
    }
}
