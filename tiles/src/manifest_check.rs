//! Checks a BOSH manifest against a cloud config with the Director's own rules
//! (bosh-cfcr-pks-odb §1.11), so problems show up on Review Pending Changes and in `tile render`
//! instead of minutes into a deploy. Findings are data; each names the instance group and field.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::cloud_config::{CloudConfig, IpRange};
use crate::manifest::{Count, CountValue, InstanceGroup, Manifest, Update};

/// How serious a finding is: errors make the Director refuse the deploy; warnings are allowed
/// but probably not what the author meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located by a field path (`instance_groups[master].networks[0].static_ips[2]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub field: String,
    pub message: String,
    pub severity: Severity,
}

impl Finding {
    pub fn error(field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            field: field.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(field: impl Into<String>, message: impl Into<String>) -> Finding {
        Finding {
            field: field.into(),
            message: message.into(),
            severity: Severity::Warning,
        }
    }
}

/// True when any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// The Director's canonical form of a name: lowercase, `_` → `-`, other characters outside
/// `[a-z0-9-]` dropped, no leading or trailing `-`.
pub fn canonical_name(name: &str) -> String {
    let s: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c == '_' { '-' } else { c })
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect();
    s.trim_matches('-').to_string()
}

/// Sections that belong in a cloud config, refused in a v2 manifest.
const CLOUD_ONLY: &[&str] = &[
    "networks",
    "vm_types",
    "azs",
    "disk_types",
    "compilation",
    "resource_pools",
    "disk_pools",
    "jobs",
];

/// Checks a manifest given as a value tree. A tree that does not fit the manifest model at all
/// gives a single finding naming the field that does not fit.
pub fn check_value(manifest: &Value, cloud: &CloudConfig) -> Vec<Finding> {
    match Manifest::from_value(manifest) {
        Ok(m) => check(&m, cloud),
        Err(crate::Error::Shape { path, message }) => vec![Finding::error(path, message)],
        Err(e) => vec![Finding::error("manifest", e.to_string())],
    }
}

/// Checks a typed manifest against a cloud config.
pub fn check(m: &Manifest, cloud: &CloudConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    for key in CLOUD_ONLY {
        if m.extra.contains_key(*key) {
            out.push(Finding::error(
                *key,
                format!("deployment manifest contains '{key}' section, but this can only be set in a cloud-config"),
            ));
        }
    }
    if m.name.trim().is_empty() {
        out.push(Finding::error("name", "deployment name is empty"));
    }
    check_releases_stemcells_variables(m, &mut out);
    match &m.update {
        Some(u) => check_update(u, "update", true, &mut out),
        None => out.push(Finding::error("update", "the 'update' block is required")),
    }
    for (a, addon) in m.addons.iter().flatten().enumerate() {
        for (j, job) in addon.jobs.iter().enumerate() {
            if !m.releases.iter().any(|r| r.name == job.release) {
                out.push(Finding::error(
                    format!("addons[{a}].jobs[{j}].release"),
                    format!(
                        "addon '{}' job '{}' references an unknown release '{}'",
                        addon.name, job.name, job.release
                    ),
                ));
            }
        }
    }
    let mut canonical: HashMap<String, &str> = HashMap::new();
    let mut used_ips: HashMap<(String, u128), String> = HashMap::new();
    for g in &m.instance_groups {
        let at = format!("instance_groups[{}]", g.name);
        let c = canonical_name(&g.name);
        if c.is_empty() {
            out.push(Finding::error(
                format!("{at}.name"),
                format!("invalid instance group name '{}'", g.name),
            ));
        } else if let Some(other) = canonical.insert(c.clone(), &g.name) {
            out.push(Finding::error(
                format!("{at}.name"),
                format!(
                    "invalid instance group name '{}', canonical name '{c}' already taken by '{other}'",
                    g.name
                ),
            ));
        }
        check_group(m, g, cloud, &at, &mut used_ips, &mut out);
    }
    out
}

fn check_releases_stemcells_variables(m: &Manifest, out: &mut Vec<Finding>) {
    let mut seen = HashSet::new();
    for r in &m.releases {
        if !seen.insert(r.name.as_str()) {
            out.push(Finding::error(
                format!("releases[{}]", r.name),
                format!("duplicate release name '{}'", r.name),
            ));
        }
        if r.version.as_str().trim().is_empty() {
            out.push(Finding::error(
                format!("releases[{}].version", r.name),
                "release version is empty",
            ));
        }
    }
    if m.stemcells.is_empty() {
        out.push(Finding::error(
            "stemcells",
            "'stemcells' needs to be specified",
        ));
    }
    let mut seen = HashSet::new();
    for s in &m.stemcells {
        if !seen.insert(s.alias.as_str()) {
            out.push(Finding::error(
                format!("stemcells[{}]", s.alias),
                format!("duplicate stemcell alias '{}'", s.alias),
            ));
        }
        if s.os.is_none() && s.name.is_none() {
            out.push(Finding::error(
                format!("stemcells[{}]", s.alias),
                "a stemcell needs 'os' or 'name'",
            ));
        }
    }
    let mut seen = HashSet::new();
    for (i, v) in m.variables.iter().flatten().enumerate() {
        if v.name.trim().is_empty() {
            out.push(Finding::error(
                format!("variables[{i}].name"),
                "variable name is empty",
            ));
        } else if !seen.insert(v.name.as_str()) {
            out.push(Finding::error(
                format!("variables[{}]", v.name),
                format!("duplicate variable name '{}'", v.name),
            ));
        }
        if v.var_type.trim().is_empty() {
            out.push(Finding::error(
                format!("variables[{}].type", v.name),
                "variable type is empty",
            ));
        }
    }
}

fn check_count(c: &Count, field: &str, min_one: bool, out: &mut Vec<Finding>) {
    match c.parse() {
        Err(e) => out.push(Finding::error(field, e)),
        Ok(CountValue::Absolute(0)) | Ok(CountValue::Percent(0)) if min_one => {
            out.push(Finding::error(
                field,
                format!("{c}: must be at least 1 (or a percentage 1%–100%)"),
            ))
        }
        Ok(_) => {}
    }
}

/// `required`: the deployment-level block must have all four settings; a group's override may
/// set any subset.
fn check_update(u: &Update, at: &str, required: bool, out: &mut Vec<Finding>) {
    match &u.canaries {
        Some(c) => check_count(c, &format!("{at}.canaries"), false, out),
        None if required => out.push(Finding::error(format!("{at}.canaries"), "is required")),
        None => {}
    }
    match &u.max_in_flight {
        Some(c) => check_count(c, &format!("{at}.max_in_flight"), true, out),
        None if required => out.push(Finding::error(format!("{at}.max_in_flight"), "is required")),
        None => {}
    }
    for (name, w) in [
        ("canary_watch_time", &u.canary_watch_time),
        ("update_watch_time", &u.update_watch_time),
    ] {
        match w {
            Some(w) => {
                if let Err(e) = w.parse() {
                    out.push(Finding::error(format!("{at}.{name}"), e));
                }
            }
            None if required => out.push(Finding::error(format!("{at}.{name}"), "is required")),
            None => {}
        }
    }
    if let Some(s) = &u.vm_strategy {
        if s != "delete-create" && s != "create-swap-delete" {
            out.push(Finding::error(
                format!("{at}.vm_strategy"),
                format!("invalid vm_strategy '{s}' (delete-create or create-swap-delete)"),
            ));
        }
    }
    if let Some(s) = &u.initial_deploy_az_update_strategy {
        if s != "serial" && s != "parallel" {
            out.push(Finding::error(
                format!("{at}.initial_deploy_az_update_strategy"),
                format!("invalid value '{s}' (serial or parallel)"),
            ));
        }
    }
}

fn check_group(
    m: &Manifest,
    g: &InstanceGroup,
    cloud: &CloudConfig,
    at: &str,
    used_ips: &mut HashMap<(String, u128), String>,
    out: &mut Vec<Finding>,
) {
    let err = |out: &mut Vec<Finding>, field: &str, msg: String| {
        out.push(Finding::error(format!("{at}.{field}"), msg))
    };
    let name = &g.name;
    if g.instances < 0 {
        err(
            out,
            "instances",
            format!("instance group '{name}' has a negative instance count"),
        );
    }
    let instances = u64::try_from(g.instances).unwrap_or(0);

    // Lifecycle and errands.
    match g.lifecycle.as_deref() {
        None | Some("service") | Some("errand") => {}
        Some(other) => err(
            out,
            "lifecycle",
            format!("invalid lifecycle '{other}' for instance group '{name}' (service or errand)"),
        ),
    }
    if g.is_errand() && g.jobs.is_empty() {
        err(
            out,
            "jobs",
            format!("errand instance group '{name}' has no jobs to run"),
        );
    }
    if g.is_errand() && g.persistent_disk.unwrap_or(0) > 0 {
        out.push(Finding::warning(
            format!("{at}.persistent_disk"),
            format!("errand instance group '{name}' has a persistent disk; errand VMs are deleted after each run"),
        ));
    }

    // VM sizing.
    match (&g.vm_type, &g.vm_resources) {
        (Some(_), Some(_)) => err(
            out,
            "vm_type",
            format!(
                "instance group '{name}' specifies both 'vm_type' and 'vm_resources'. Choose one."
            ),
        ),
        (None, None) => err(
            out,
            "vm_type",
            format!("instance group '{name}' must specify 'vm_type' or 'vm_resources'"),
        ),
        (Some(t), None) => {
            if !cloud.vm_types.iter().any(|v| &v.name == t) {
                err(
                    out,
                    "vm_type",
                    format!("instance group '{name}' references an unknown vm type '{t}'"),
                );
            }
        }
        (None, Some(_)) => {}
    }
    for (i, e) in g.vm_extensions.iter().flatten().enumerate() {
        if !cloud.vm_extensions.iter().any(|v| &v.name == e) {
            err(
                out,
                &format!("vm_extensions[{i}]"),
                format!("instance group '{name}' references an unknown vm extension '{e}'"),
            );
        }
    }

    // Stemcell.
    match &g.stemcell {
        None => err(
            out,
            "stemcell",
            format!("instance group '{name}' must specify a stemcell alias"),
        ),
        Some(s) if !m.stemcells.iter().any(|x| &x.alias == s) => err(
            out,
            "stemcell",
            format!("instance group '{name}' references an unknown stemcell '{s}'"),
        ),
        Some(_) => {}
    }

    // Jobs.
    let mut jobs = HashSet::new();
    for (i, j) in g.jobs.iter().enumerate() {
        if !m.releases.iter().any(|r| r.name == j.release) {
            err(
                out,
                &format!("jobs[{i}].release"),
                format!(
                    "job '{}' references an unknown release '{}'",
                    j.name, j.release
                ),
            );
        }
        if !jobs.insert(j.name.as_str()) {
            err(
                out,
                &format!("jobs[{i}].name"),
                format!(
                    "colocated job '{}' is already added to instance group '{name}'",
                    j.name
                ),
            );
        }
    }

    // Persistent disks.
    let disk_kinds = [
        g.persistent_disk.is_some(),
        g.persistent_disk_type.is_some(),
        g.persistent_disks.is_some(),
    ];
    if disk_kinds.iter().filter(|x| **x).count() > 1 {
        err(
            out,
            "persistent_disk",
            format!("instance group '{name}' specifies more than one of 'persistent_disk', 'persistent_disk_type', 'persistent_disks'. Choose one."),
        );
    }
    if let Some(d) = g.persistent_disk {
        if d < 0 {
            err(
                out,
                "persistent_disk",
                format!("instance group '{name}' has a negative disk size {d}"),
            );
        }
    }
    let known_disk = |t: &str| cloud.disk_types.iter().any(|d| d.name == t);
    if let Some(t) = &g.persistent_disk_type {
        if !known_disk(t) {
            err(
                out,
                "persistent_disk_type",
                format!("instance group '{name}' references an unknown disk type '{t}'"),
            );
        }
    }
    for (i, d) in g.persistent_disks.iter().flatten().enumerate() {
        if !known_disk(&d.disk_type) {
            err(
                out,
                &format!("persistent_disks[{i}].type"),
                format!(
                    "instance group '{name}' references an unknown disk type '{}'",
                    d.disk_type
                ),
            );
        }
    }

    // AZs.
    let azs: Vec<&str> = g.azs.iter().flatten().map(String::as_str).collect();
    if g.azs.as_ref().is_some_and(Vec::is_empty) {
        err(
            out,
            "azs",
            format!("instance group '{name}' has empty availability zones"),
        );
    }
    for (i, az) in azs.iter().enumerate() {
        if az.trim().is_empty() {
            err(
                out,
                &format!("azs[{i}]"),
                format!("instance group '{name}' has an empty availability zone name"),
            );
        } else if !cloud.azs.iter().any(|a| a.name == *az) {
            err(
                out,
                &format!("azs[{i}]"),
                format!("instance group '{name}' references unknown availability zone '{az}'"),
            );
        }
    }

    // Networks.
    if g.networks.is_empty() {
        err(
            out,
            "networks",
            format!("instance group '{name}' must specify at least one network"),
        );
    }
    if g.networks.len() > 1 {
        for prop in ["dns", "gateway"] {
            let n = g
                .networks
                .iter()
                .filter(|n| n.default.iter().flatten().any(|d| d == prop))
                .count();
            if n != 1 {
                err(
                    out,
                    "networks",
                    format!("instance group '{name}' has {} networks; exactly one must be the default for '{prop}' (found {n})", g.networks.len()),
                );
            }
        }
    }
    for (ni, nref) in g.networks.iter().enumerate() {
        let nat = format!("networks[{ni}]");
        let Some(net) = cloud.networks.iter().find(|n| n.name == nref.name) else {
            err(
                out,
                &format!("{nat}.name"),
                format!(
                    "instance group '{name}' references an unknown network '{}'",
                    nref.name
                ),
            );
            continue;
        };
        let net_azs: Vec<&str> = net.subnets.iter().flat_map(|s| s.az_names()).collect();
        if !net_azs.is_empty() && azs.is_empty() && g.azs.is_none() {
            err(
                out,
                "azs",
                format!("instance group '{name}' must specify availability zones because network '{}' has subnets in availability zones", net.name),
            );
        }
        if net.is_manual() || net.kind() == "dynamic" {
            for az in &azs {
                if !net_azs.contains(az) {
                    err(
                        out,
                        &format!("{nat}.name"),
                        format!("instance group '{name}' must specify availability zone that matches availability zones of network '{}': no subnet in '{az}'", net.name),
                    );
                }
            }
        }
        let Some(ips) = &nref.static_ips else {
            continue;
        };
        if net.kind() == "dynamic" {
            err(
                out,
                &format!("{nat}.static_ips"),
                format!(
                    "instance group '{name}' asks for static IPs on dynamic network '{}'",
                    net.name
                ),
            );
            continue;
        }
        // Expand ranges ("10.0.0.1-10.0.0.3") the way the Director does.
        let mut addresses = Vec::new();
        for (k, text) in ips.iter().enumerate() {
            match IpRange::parse(text) {
                Ok(r) if r.len() <= 65_536 => addresses.extend(r.iter().map(|ip| (k, ip))),
                Ok(_) => err(
                    out,
                    &format!("{nat}.static_ips[{k}]"),
                    format!("range '{text}' is too large"),
                ),
                Err(e) => err(out, &format!("{nat}.static_ips[{k}]"), e),
            }
        }
        if addresses.len() as u64 != instances {
            err(
                out,
                &format!("{nat}.static_ips"),
                format!(
                    "instance group '{name}' has {instances} instances but was allocated {} static IPs in network '{}'",
                    addresses.len(),
                    net.name
                ),
            );
        }
        let mut per_az: HashMap<&str, usize> = HashMap::new();
        for (k, ip) in addresses {
            let field = format!("{nat}.static_ips[{k}]");
            let shown = crate::cloud_config::format_ip(ip);
            let subnet = net.subnets.iter().find(|s| s.static_contains(ip));
            match subnet {
                None if net.is_manual() => err(
                    out,
                    &field,
                    format!("instance group '{name}' declares static ip '{shown}' which belongs to no subnet's static range of network '{}'", net.name),
                ),
                Some(s) => {
                    let s_azs = s.az_names();
                    if !s_azs.is_empty() && !azs.is_empty() && !s_azs.iter().any(|a| azs.contains(a)) {
                        err(
                            out,
                            &field,
                            format!("static ip '{shown}' is in a subnet of availability zones {s_azs:?}, none of which instance group '{name}' uses"),
                        );
                    }
                    if let [only] = s_azs.as_slice() {
                        *per_az.entry(only).or_default() += 1;
                    }
                }
                None => {}
            }
            let key = (net.name.clone(), ip.1);
            if let Some(other) = used_ips.insert(key, name.clone()) {
                err(
                    out,
                    &field,
                    format!("static ip '{shown}' of network '{}' is also used by instance group '{other}'", net.name),
                );
            }
        }
        // Each AZ gets its share (differing by at most one), else the Director cannot place them.
        if azs.len() > 1 && !per_az.is_empty() {
            let counts: Vec<usize> = azs
                .iter()
                .map(|a| per_az.get(a).copied().unwrap_or(0))
                .collect();
            let (lo, hi) = (
                counts.iter().min().copied().unwrap_or(0),
                counts.iter().max().copied().unwrap_or(0),
            );
            if hi > lo + 1 {
                err(
                    out,
                    &format!("{nat}.static_ips"),
                    format!("failed to evenly distribute static IPs of instance group '{name}' between zones {azs:?} (per zone: {counts:?})"),
                );
            }
        }
    }

    // Update override.
    if let Some(u) = &g.update {
        check_update(u, &format!("{at}.update"), false, out);
    }
    let canaries = g
        .update
        .as_ref()
        .and_then(|u| u.canaries.as_ref())
        .or(m.update.as_ref().and_then(|u| u.canaries.as_ref()));
    if let Some(Ok(CountValue::Absolute(c))) = canaries.map(Count::parse) {
        if c > instances && instances > 0 {
            out.push(Finding::warning(
                format!("{at}.update.canaries"),
                format!("{c} canaries for {instances} instances; the Director uses {instances}"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cloud() -> CloudConfig {
        CloudConfig::from_value(&json!({
            "azs": [{"name": "z1"}, {"name": "z2"}, {"name": "z3"}],
            "networks": [
                {"name": "default", "type": "manual", "subnets": [
                    {"range": "10.0.1.0/24", "gateway": "10.0.1.1", "static": ["10.0.1.10-10.0.1.30"], "az": "z1"},
                    {"range": "10.0.2.0/24", "gateway": "10.0.2.1", "static": ["10.0.2.10-10.0.2.30"], "az": "z2"},
                    {"range": "10.0.3.0/24", "gateway": "10.0.3.1", "static": ["10.0.3.10-10.0.3.30"], "az": "z3"}
                ]},
                {"name": "z1-only", "subnets": [{"range": "10.1.0.0/24", "gateway": "10.1.0.1", "az": "z1"}]},
                {"name": "dyn", "type": "dynamic", "subnets": [{"azs": ["z1", "z2", "z3"]}]}
            ],
            "vm_types": [{"name": "minimal"}, {"name": "small"}, {"name": "small-highmem"}],
            "vm_extensions": [{"name": "lb"}],
            "disk_types": [{"name": "10240", "disk_size": 10240}],
            "compilation": {"workers": 2, "network": "default", "az": "z1", "vm_type": "small"}
        }))
        .unwrap()
    }

    fn cfcr() -> Value {
        crate::manifest::tests::cfcr()
    }

    /// Findings for the CFCR manifest after `edit`.
    fn check_edited(edit: impl FnOnce(&mut Value)) -> Vec<Finding> {
        let mut v = cfcr();
        edit(&mut v);
        check_value(&v, &cloud())
    }

    fn only(findings: &[Finding], field: &str, words: &str) {
        assert!(
            findings
                .iter()
                .any(|f| f.field == field && f.message.contains(words)),
            "no finding at {field} mentioning {words:?}: {findings:#?}"
        );
    }

    #[test]
    fn the_cfcr_manifest_is_clean() {
        assert_eq!(check_value(&cfcr(), &cloud()), vec![]);
        assert_eq!(cloud().validate(), vec![]);
    }

    #[test]
    fn cloud_only_sections_are_refused() {
        let f = check_edited(|v| v["vm_types"] = json!([]));
        only(&f, "vm_types", "cloud-config");
    }

    #[test]
    fn stemcells_releases_variables() {
        let f = check_edited(|v| v["stemcells"] = json!([]));
        only(&f, "stemcells", "needs to be specified");
        only(
            &f,
            "instance_groups[master].stemcell",
            "unknown stemcell 'default'",
        );
        let f = check_edited(|v| {
            v["stemcells"] = json!([
                {"alias": "default", "os": "ubuntu-xenial", "version": "1"},
                {"alias": "default", "name": "bosh-vsphere", "version": "1"},
                {"alias": "bare", "version": "1"}
            ]);
            v["releases"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "kubo", "version": ""}));
            v["variables"]
                .as_array_mut()
                .unwrap()
                .push(json!({"name": "kubo_ca", "type": ""}));
        });
        only(&f, "stemcells[default]", "duplicate stemcell alias");
        only(&f, "stemcells[bare]", "'os' or 'name'");
        only(&f, "releases[kubo]", "duplicate release name");
        only(&f, "releases[kubo].version", "empty");
        only(&f, "variables[kubo_ca]", "duplicate variable name");
        only(&f, "variables[kubo_ca].type", "empty");
    }

    #[test]
    fn update_block_forms() {
        for (canaries, mif, ok) in [
            (json!(1), json!("20%"), true),
            (json!(0), json!(1), true),
            (json!("100%"), json!("100%"), true),
            (json!(1), json!(0), false),
            (json!(1), json!("0%"), false),
            (json!(1), json!("150%"), false),
            (json!("some"), json!(1), false),
            (json!(-1), json!(1), false),
        ] {
            let f = check_edited(|v| {
                v["update"]["canaries"] = canaries.clone();
                v["update"]["max_in_flight"] = mif.clone();
            });
            assert_eq!(f.is_empty(), ok, "{canaries} {mif}: {f:#?}");
        }
        let f = check_edited(|v| {
            v["update"]["canary_watch_time"] = json!("30000-1000");
            v["update"]["update_watch_time"] = json!("soon");
            v["update"]["vm_strategy"] = json!("yolo");
        });
        only(&f, "update.canary_watch_time", "greater");
        only(&f, "update.update_watch_time", "range of two integers");
        only(&f, "update.vm_strategy", "invalid vm_strategy");
        let f = check_edited(|v| {
            v.as_object_mut().unwrap().remove("update");
        });
        only(&f, "update", "required");
        let f = check_edited(|v| v["update"] = json!({"canaries": 1}));
        only(&f, "update.max_in_flight", "required");
        only(&f, "update.update_watch_time", "required");
        // Group-level override: partial is fine, bad values are not.
        let f =
            check_edited(|v| v["instance_groups"][1]["update"] = json!({"max_in_flight": "1%"}));
        assert_eq!(f, vec![]);
        let f = check_edited(|v| v["instance_groups"][1]["update"] = json!({"max_in_flight": "x"}));
        only(
            &f,
            "instance_groups[master].update.max_in_flight",
            "neither",
        );
        // More canaries than instances: allowed, with a warning.
        let f = check_edited(|v| v["update"]["canaries"] = json!(5));
        assert!(!has_errors(&f));
        only(
            &f,
            "instance_groups[master].update.canaries",
            "the Director uses 3",
        );
    }

    #[test]
    fn instance_group_names_are_unique_canonically() {
        let f = check_edited(|v| v["instance_groups"][2]["name"] = json!("Master"));
        only(
            &f,
            "instance_groups[Master].name",
            "canonical name 'master' already taken",
        );
        let f = check_edited(|v| v["instance_groups"][2]["name"] = json!("apply_addons"));
        only(
            &f,
            "instance_groups[apply_addons].name",
            "already taken by 'apply-addons'",
        );
        let f = check_edited(|v| v["instance_groups"][2]["name"] = json!("__"));
        only(
            &f,
            "instance_groups[__].name",
            "invalid instance group name",
        );
        assert_eq!(canonical_name("My_Group-1!"), "my-group-1");
    }

    #[test]
    fn lifecycle_and_errands() {
        let f = check_edited(|v| v["instance_groups"][1]["lifecycle"] = json!("daemon"));
        only(&f, "instance_groups[master].lifecycle", "invalid lifecycle");
        let f = check_edited(|v| v["instance_groups"][0]["jobs"] = json!([]));
        only(&f, "instance_groups[apply-addons].jobs", "no jobs");
        let f = check_edited(|v| v["instance_groups"][0]["persistent_disk"] = json!(1024));
        assert!(!has_errors(&f));
        only(
            &f,
            "instance_groups[apply-addons].persistent_disk",
            "errand VMs",
        );
    }

    #[test]
    fn vm_types_extensions_and_disks() {
        let f = check_edited(|v| {
            v["instance_groups"][1]["vm_type"] = json!("huge");
            v["instance_groups"][1]["vm_extensions"] = json!(["lb", "nope"]);
        });
        only(
            &f,
            "instance_groups[master].vm_type",
            "unknown vm type 'huge'",
        );
        only(
            &f,
            "instance_groups[master].vm_extensions[1]",
            "unknown vm extension 'nope'",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["vm_resources"] =
                json!({"cpu": 2, "ram": 4096, "ephemeral_disk_size": 10240});
        });
        only(&f, "instance_groups[master].vm_type", "both");
        let f = check_edited(|v| {
            v["instance_groups"][2]
                .as_object_mut()
                .unwrap()
                .remove("vm_type");
        });
        only(&f, "instance_groups[worker].vm_type", "must specify");
        let f = check_edited(|v| {
            v["instance_groups"][2]
                .as_object_mut()
                .unwrap()
                .remove("vm_type");
            v["instance_groups"][2]["vm_resources"] =
                json!({"cpu": 2, "ram": 4096, "ephemeral_disk_size": 10240});
        });
        assert_eq!(f, vec![]);
        let f = check_edited(|v| v["instance_groups"][1]["persistent_disk_type"] = json!("10240"));
        only(
            &f,
            "instance_groups[master].persistent_disk",
            "more than one",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]
                .as_object_mut()
                .unwrap()
                .remove("persistent_disk");
            v["instance_groups"][1]["persistent_disk_type"] = json!("99");
            v["instance_groups"][2]["persistent_disks"] =
                json!([{"name": "a", "type": "10240"}, {"name": "b", "type": "7"}]);
        });
        only(
            &f,
            "instance_groups[master].persistent_disk_type",
            "unknown disk type '99'",
        );
        only(
            &f,
            "instance_groups[worker].persistent_disks[1].type",
            "unknown disk type '7'",
        );
        assert_eq!(f.len(), 2, "{f:#?}");
        let f = check_edited(|v| v["instance_groups"][1]["persistent_disk"] = json!(-5));
        only(&f, "instance_groups[master].persistent_disk", "negative");
    }

    #[test]
    fn jobs_need_declared_releases_and_no_duplicates() {
        let f = check_edited(|v| {
            v["instance_groups"][2]["jobs"][1]["release"] = json!("moby");
            v["instance_groups"][2]["jobs"][2]["name"] = json!("flanneld");
        });
        only(
            &f,
            "instance_groups[worker].jobs[1].release",
            "unknown release 'moby'",
        );
        only(
            &f,
            "instance_groups[worker].jobs[2].name",
            "colocated job 'flanneld'",
        );
    }

    #[test]
    fn azs_exist_and_are_covered_by_networks() {
        let f = check_edited(|v| v["instance_groups"][1]["azs"] = json!(["z1", "z9"]));
        only(
            &f,
            "instance_groups[master].azs[1]",
            "unknown availability zone 'z9'",
        );
        let f = check_edited(|v| v["instance_groups"][1]["azs"] = json!([]));
        only(
            &f,
            "instance_groups[master].azs",
            "empty availability zones",
        );
        let f =
            check_edited(|v| v["instance_groups"][1]["networks"] = json!([{"name": "z1-only"}]));
        only(
            &f,
            "instance_groups[master].networks[0].name",
            "no subnet in 'z2'",
        );
        assert!(!f.iter().any(|f| f.message.contains("'z1'")), "{f:#?}");
        let f = check_edited(|v| {
            v["instance_groups"][0]
                .as_object_mut()
                .unwrap()
                .remove("azs");
        });
        only(
            &f,
            "instance_groups[apply-addons].azs",
            "must specify availability zones",
        );
        let f = check_edited(|v| v["instance_groups"][1]["networks"] = json!([{"name": "dyn"}]));
        assert_eq!(f, vec![]);
    }

    #[test]
    fn networks_exist_and_defaults_are_unambiguous() {
        let f =
            check_edited(|v| v["instance_groups"][1]["networks"] = json!([{"name": "nowhere"}]));
        only(
            &f,
            "instance_groups[master].networks[0].name",
            "unknown network 'nowhere'",
        );
        let f = check_edited(|v| v["instance_groups"][1]["networks"] = json!([]));
        only(
            &f,
            "instance_groups[master].networks",
            "at least one network",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] = json!([{"name": "default"}, {"name": "dyn"}])
        });
        only(&f, "instance_groups[master].networks", "default for 'dns'");
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "default", "default": ["dns", "gateway"]}, {"name": "dyn"}])
        });
        assert_eq!(f, vec![]);
    }

    #[test]
    fn static_ips() {
        let good =
            json!([{"name": "default", "static_ips": ["10.0.1.10", "10.0.2.10", "10.0.3.10"]}]);
        let f = check_edited(|v| v["instance_groups"][1]["networks"] = good.clone());
        assert_eq!(f, vec![]);
        // Ranges count per address.
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "default", "static_ips": ["10.0.1.10-10.0.1.11", "10.0.2.10"]}]);
            v["instance_groups"][1]["azs"] = json!(["z1", "z2"]);
        });
        assert_eq!(f, vec![]);
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "default", "static_ips": ["10.0.1.10", "10.0.2.10"]}])
        });
        only(
            &f,
            "instance_groups[master].networks[0].static_ips",
            "3 instances but was allocated 2 static IPs",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "default", "static_ips": ["10.0.1.10", "10.0.2.200", "10.9.9.9"]}])
        });
        only(
            &f,
            "instance_groups[master].networks[0].static_ips[1]",
            "belongs to no subnet",
        );
        only(
            &f,
            "instance_groups[master].networks[0].static_ips[2]",
            "belongs to no subnet",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] = good.clone();
            v["instance_groups"][1]["azs"] = json!(["z1", "z2"]);
            v["instance_groups"][1]["instances"] = json!(3);
        });
        only(
            &f,
            "instance_groups[master].networks[0].static_ips[2]",
            "none of which",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "default", "static_ips": ["10.0.1.10", "10.0.1.11", "10.0.1.12"]}])
        });
        only(
            &f,
            "instance_groups[master].networks[0].static_ips",
            "evenly distribute",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] = good.clone();
            v["instance_groups"][2]["networks"] = good.clone();
        });
        only(
            &f,
            "instance_groups[worker].networks[0].static_ips[0]",
            "also used by instance group 'master'",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "dyn", "static_ips": ["10.0.1.10"]}])
        });
        only(
            &f,
            "instance_groups[master].networks[0].static_ips",
            "dynamic network",
        );
        let f = check_edited(|v| {
            v["instance_groups"][1]["networks"] =
                json!([{"name": "default", "static_ips": ["10.0.1.x", "10.0.2.10", "10.0.3.10"]}])
        });
        only(
            &f,
            "instance_groups[master].networks[0].static_ips[0]",
            "not an IP address",
        );
    }

    #[test]
    fn shape_errors_become_one_finding() {
        let f = check_edited(|v| v["instance_groups"][1]["instances"] = json!("three"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].field, "manifest.instance_groups[1].instances");
        let f = check_edited(|v| v["instance_groups"][1]["instances"] = json!(-1));
        only(&f, "instance_groups[master].instances", "negative");
    }

    #[test]
    fn typed_manifests_check_the_same() {
        let m = Manifest::from_value(&cfcr()).unwrap();
        assert_eq!(check(&m, &cloud()), vec![]);
        let f = Finding::error("x", "y");
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            json!({"field": "x", "message": "y", "severity": "error"})
        );
    }
}
