//! The Director tile's Create Availability Zones, Create Networks and Assign AZ and Network
//! sections. Lists are edited in place and saved whole: the service replaces the list (keeping
//! GUIDs by name) or refuses all of it.

use leptos::prelude::*;
use serde_json::Map;
use tiles::cloud_config::{AzConfig, DirectorConfig, NetworkConfig, SubnetConfig};
use tiles::manifest_check::Severity;

use crate::backend::director::{
    save_director_azs, save_director_network_and_az, save_director_networks,
};
use crate::backend::director::{
    AzCluster, DirectorAz, DirectorNetwork, DirectorPage, DirectorSubnet,
};
use crate::components::widgets::field_id;
use crate::pages::director::form::{
    field, still_needed, take_their_entry, text_field, ui_key, FieldErrors, Section, SectionState,
};

/// A text binding into a list held in a signal: `get` reads from the list, `set` writes into it
/// (both do nothing when the record has gone).
fn bind<T, G, S>(list: RwSignal<Vec<T>>, get: G, set: S) -> (Signal<String>, Callback<String>)
where
    T: Send + Sync + 'static,
    G: Fn(&Vec<T>) -> Option<String> + Send + Sync + 'static,
    S: Fn(&mut Vec<T>, String) + Send + Sync + 'static,
{
    (
        Signal::derive(move || list.with(|l| get(l)).unwrap_or_default()),
        Callback::new(move |text: String| list.update(|l| set(l, text))),
    )
}

fn az_identifier_label(iaas: &str) -> Option<(&'static str, &'static str)> {
    match iaas {
        "aws" => Some(("AWS availability zone", "For example us-east-1a.")),
        "gcp" => Some(("GCP zone", "For example us-central1-a.")),
        "azure" => Some((
            "Azure availability zone",
            "1, 2 or 3; leave empty for a region without zones.",
        )),
        "openstack" => Some(("OpenStack availability zone", "For example nova.")),
        _ => None,
    }
}

#[component]
pub fn AzsSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let patterns = [
        "availability_zones",
        "availability_zones[].name",
        "availability_zones[].iaas_identifier",
        "availability_zones[].clusters",
        "availability_zones[].clusters[].cluster",
        "availability_zones[].clusters[].resource_pool",
    ]
    .map(String::from)
    .to_vec();
    let vsphere = page.iaas == "vsphere";
    let identifier = az_identifier_label(&page.iaas);
    let azs = RwSignal::new(page.azs.clone());
    let count = Memo::new(move |_| azs.with(Vec::len));
    // Another operator's AZ, by name: replaced, added or removed here.
    let theirs = |name: &str, value: &serde_json::Value| match value {
        serde_json::Value::Null => Some(None),
        serde_json::Value::Object(fields) => Some(Some(az_from(name, fields))),
        _ => None,
    };
    let state = SectionState::new(page.config_version, notice, reload, patterns)
        .with_their_entries("availability_zones.", azs, theirs, |a| a.name.clone());
    let save = state.saving(
        "Availability zones saved.",
        |config_version, list: &Vec<DirectorAz>| {
            let azs_json = serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
            save_director_azs(config_version, azs_json)
        },
    );

    let rows = move || {
        (0..count.get())
            .map(|i| {
                let at = format!("availability_zones[{i}]");
                let (name, set_name) = bind(
                    azs,
                    move |l| l.get(i).map(|a| a.name.clone()),
                    move |l, t| {
                        if let Some(a) = l.get_mut(i) {
                            a.name = t
                        }
                    },
                );
                let placement = if vsphere {
                    clusters_editor(state, azs, i, at.clone())
                } else if let Some((label, hint)) = identifier {
                    let (value, set) = bind(
                        azs,
                        move |l| l.get(i).map(|a| a.iaas_identifier.clone()),
                        move |l, t| {
                            if let Some(a) = l.get_mut(i) {
                                a.iaas_identifier = t
                            }
                        },
                    );
                    text_field(
                        state,
                        format!("{at}.iaas_identifier"),
                        label,
                        false,
                        Some(hint),
                        value,
                        set,
                    )
                } else {
                    ().into_any()
                };
                view! {
                    <div class="record" data-index=i>
                        <div class="record-tools">
                            <span class="record-title">"Availability zone " {i + 1}</span>
                            <button type="button" class="danger"
                                on:click=move |_| {
                                    azs.update(|l| if i < l.len() { l.remove(i); });
                                }>
                                "Remove"
                            </button>
                        </div>
                        {text_field(state, format!("{at}.name"), "Name", true, None, name, set_name)}
                        {placement}
                    </div>
                }
            })
            .collect_view()
    };

    let submit = save.on_submit(move || azs.get_untracked());
    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"Create Availability Zones"</h2>
            <p class="form-description">
                {if vsphere {
                    "Each availability zone places VMs on one or more vSphere clusters (and resource pools)."
                } else {
                    "Each availability zone maps to one of the IaaS's zones."
                }}
            </p>
            {still_needed(&page.problems, Section::Azs)}
            <div class="collection">
                {rows}
                <button type="button" class="add-record"
                    on:click=move |_| azs.update(|l| l.push(DirectorAz {
                        clusters: if vsphere { vec![AzCluster::default()] } else { Vec::new() },
                        ..DirectorAz::default()
                    }))>
                    "Add availability zone"
                </button>
            </div>
            <FieldErrors state key="availability_zones"/>
            {save.bar(None)}
        </form>
    }
}

/// The vSphere clusters of AZ `i`.
fn clusters_editor(
    state: SectionState,
    azs: RwSignal<Vec<DirectorAz>>,
    i: usize,
    at: String,
) -> AnyView {
    let count = Memo::new(move |_| azs.with(|l| l.get(i).map(|a| a.clusters.len()).unwrap_or(0)));
    let errors_key = format!("{at}.clusters");
    let rows = move || {
        (0..count.get())
            .map(|j| {
                let cat = format!("{at}.clusters[{j}]");
                let (cluster, set_cluster) = bind(
                    azs,
                    move |l| l.get(i)?.clusters.get(j).map(|c| c.cluster.clone()),
                    move |l, t| {
                        if let Some(c) = l.get_mut(i).and_then(|a| a.clusters.get_mut(j)) {
                            c.cluster = t
                        }
                    },
                );
                let (pool, set_pool) = bind(
                    azs,
                    move |l| l.get(i)?.clusters.get(j).map(|c| c.resource_pool.clone()),
                    move |l, t| {
                        if let Some(c) = l.get_mut(i).and_then(|a| a.clusters.get_mut(j)) {
                            c.resource_pool = t
                        }
                    },
                );
                view! {
                    <div class="cluster-row" data-index=j>
                        {text_field(state, format!("{cat}.cluster"), "Cluster", true, None, cluster, set_cluster)}
                        {text_field(state, format!("{cat}.resource_pool"), "Resource pool", false, None, pool, set_pool)}
                        <button type="button" class="link danger"
                            on:click=move |_| azs.update(|l| {
                                if let Some(a) = l.get_mut(i) {
                                    if j < a.clusters.len() { a.clusters.remove(j); }
                                }
                            })>
                            "Remove cluster"
                        </button>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <div class="clusters">
            {rows}
            <button type="button" class="link"
                on:click=move |_| azs.update(|l| {
                    if let Some(a) = l.get_mut(i) { a.clusters.push(AzCluster::default()); }
                })>
                "Add cluster"
            </button>
            <FieldErrors state key=errors_key/>
        </div>
    }
    .into_any()
}

fn subnet_identifier_label(iaas: &str) -> (&'static str, &'static str) {
    match iaas {
        "aws" => ("VPC subnet ID", "For example subnet-0123abcd."),
        "gcp" => (
            "Google network name",
            "network/subnetwork/region, for example pcf/pcf-infra/us-central1.",
        ),
        "azure" => ("Azure network name", "virtual network/subnet."),
        "openstack" => ("Neutron network ID", ""),
        "embedded" => (
            "Network name",
            "Optional: the embedded Director simulates its VMs on no real network.",
        ),
        _ => (
            "vSphere network name",
            "The port group, for example VM Network.",
        ),
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The networks as the engine checks them, so the browser finds what the service would.
fn checked_networks(
    az_names: &[String],
    networks: &[DirectorNetwork],
) -> std::collections::BTreeMap<String, Vec<String>> {
    let config = DirectorConfig {
        azs: az_names
            .iter()
            .map(|name| AzConfig {
                name: name.clone(),
                cloud_properties: Map::new(),
            })
            .collect(),
        networks: networks
            .iter()
            .map(|n| NetworkConfig {
                name: n.name.trim().to_string(),
                subnets: n
                    .subnets
                    .iter()
                    .map(|s| SubnetConfig {
                        cidr: s.cidr.trim().to_string(),
                        gateway: s.gateway.trim().to_string(),
                        dns: split_list(&s.dns),
                        reserved: split_list(&s.reserved_ip_ranges),
                        static_ips: split_list(&s.static_ip_ranges),
                        azs: s.availability_zone_names.clone(),
                        cloud_properties: Map::new(),
                    })
                    .collect(),
            })
            .collect(),
        ..DirectorConfig::default()
    };
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for f in config.validate() {
        if f.severity == Severity::Error && f.field.starts_with("networks") {
            let entry = out.entry(ui_key(&f.field)).or_default();
            if !entry.contains(&f.message) {
                entry.push(f.message);
            }
        }
    }
    out
}

const SUBNET_FIELDS: [&str; 7] = [
    "iaas_identifier",
    "cidr",
    "reserved_ip_ranges",
    "static_ip_ranges",
    "dns",
    "gateway",
    "availability_zone_names",
];

#[component]
pub fn NetworksSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let mut patterns: Vec<String> = [
        "networks",
        "networks[].name",
        "networks[].subnets",
        "icmp_checks_enabled",
    ]
    .map(String::from)
    .to_vec();
    patterns.extend(
        SUBNET_FIELDS
            .iter()
            .map(|f| format!("networks[].subnets[].{f}")),
    );
    let state = SectionState::new(page.config_version, notice, reload, patterns);
    let networks = RwSignal::new(page.networks.clone());
    let icmp = RwSignal::new(page.icmp_checks_enabled);
    // Another operator's network, by name (replaced, added or removed), or ICMP checks.
    state.with_theirs(move |change, apply| {
        if change.reference == "icmp_checks_enabled" {
            if let (true, Some(on)) = (apply, change.value.as_bool()) {
                icmp.set(on);
            }
            return true;
        }
        let theirs = |name: &str, value: &serde_json::Value| match value.get("subnets") {
            _ if value.is_null() => Some(None),
            Some(subnets) => Some(Some(DirectorNetwork {
                name: name.to_string(),
                subnets: serde_json::from_value::<Vec<DirectorSubnet>>(subnets.clone())
                    .unwrap_or_default(),
            })),
            None => None,
        };
        take_their_entry(change, apply, "networks.", networks, theirs, |n| {
            n.name.clone()
        })
    });
    let az_names: Vec<String> = page.azs.iter().map(|a| a.name.clone()).collect();
    let az_names = StoredValue::new(az_names);
    let iaas = page.iaas.clone();
    let count = Memo::new(move |_| networks.with(Vec::len));

    // Check in the browser as the operator types (effects do not run on the server).
    Effect::new(move |_| {
        let found = networks.with(|n| az_names.with_value(|azs| checked_networks(azs, n)));
        state.local_errors.set(found);
    });

    let save = state.saving(
        "Networks saved.",
        |config_version, (list, icmp): &(Vec<DirectorNetwork>, bool)| {
            let networks_json = serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
            save_director_networks(config_version, networks_json, *icmp)
        },
    );

    let rows = move || {
        (0..count.get())
            .map(|i| {
                let at = format!("networks[{i}]");
                let (name, set_name) = bind(
                    networks,
                    move |l| l.get(i).map(|n| n.name.clone()),
                    move |l, t| {
                        if let Some(n) = l.get_mut(i) {
                            n.name = t
                        }
                    },
                );
                let subnets = subnets_editor(state, networks, i, at.clone(), az_names, &iaas);
                view! {
                    <div class="record network" data-index=i>
                        <div class="record-tools">
                            <span class="record-title">"Network " {i + 1}</span>
                            <button type="button" class="danger"
                                on:click=move |_| networks.update(|l| if i < l.len() { l.remove(i); })>
                                "Remove network"
                            </button>
                        </div>
                        {text_field(state, format!("{at}.name"), "Name", true, None, name, set_name)}
                        {subnets}
                    </div>
                }
            })
            .collect_view()
    };

    let submit = save.on_submit(move || (networks.get_untracked(), icmp.get_untracked()));
    let no_azs = page.azs.is_empty();
    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"Create Networks"</h2>
            {still_needed(&page.problems, Section::Networks)}
            {no_azs.then(|| view! {
                <p class="notice error">"Create availability zones first: every subnet names the zones it serves."</p>
            })}
            <div class="field" data-field="icmp_checks_enabled">
                <label class="choice" for="icmp_checks_enabled">
                    <input type="checkbox" id="icmp_checks_enabled"
                        prop:checked=move || icmp.get()
                        on:change=move |ev| icmp.set(event_target_checked(&ev))/>
                    "Enable ICMP checks"
                </label>
            </div>
            <div class="collection">
                {rows}
                <button type="button" class="add-record"
                    on:click=move |_| networks.update(|l| l.push(DirectorNetwork {
                        name: String::new(),
                        subnets: vec![DirectorSubnet::default()],
                    }))>
                    "Add network"
                </button>
            </div>
            <FieldErrors state key="networks"/>
            {save.bar(None)}
        </form>
    }
}

fn subnets_editor(
    state: SectionState,
    networks: RwSignal<Vec<DirectorNetwork>>,
    i: usize,
    at: String,
    az_names: StoredValue<Vec<String>>,
    iaas: &str,
) -> AnyView {
    let (id_label, id_hint) = subnet_identifier_label(iaas);
    let id_required = iaas != "embedded";
    let count =
        Memo::new(move |_| networks.with(|l| l.get(i).map(|n| n.subnets.len()).unwrap_or(0)));
    let errors_key = format!("{at}.subnets");
    let rows = move || {
        (0..count.get())
            .map(|j| {
                let sat = format!("{at}.subnets[{j}]");
                let text = |label: &'static str,
                            name: &'static str,
                            required: bool,
                            hint: Option<&'static str>,
                            get: fn(&DirectorSubnet) -> &String,
                            put: fn(&mut DirectorSubnet) -> &mut String| {
                    let (value, set) = bind(
                        networks,
                        move |l| l.get(i)?.subnets.get(j).map(|s| get(s).clone()),
                        move |l, t| {
                            if let Some(s) = l.get_mut(i).and_then(|n| n.subnets.get_mut(j)) {
                                *put(s) = t
                            }
                        },
                    );
                    text_field(state, format!("{sat}.{name}"), label, required, hint, value, set)
                };
                let hint = (!id_hint.is_empty()).then_some(id_hint);
                let identifier = text(id_label, "iaas_identifier", id_required, hint,
                    |s| &s.iaas_identifier, |s| &mut s.iaas_identifier);
                let cidr = text("CIDR", "cidr", true, Some("For example 10.0.0.0/24."),
                    |s| &s.cidr, |s| &mut s.cidr);
                let reserved = text("Reserved IP ranges", "reserved_ip_ranges", false,
                    Some("IPs and ranges the Director never hands out, comma-separated: 10.0.0.1-10.0.0.10,10.0.0.50."),
                    |s| &s.reserved_ip_ranges, |s| &mut s.reserved_ip_ranges);
                let statics = text("Static IP ranges", "static_ip_ranges", false,
                    Some("IPs and ranges products may pin, comma-separated."),
                    |s| &s.static_ip_ranges, |s| &mut s.static_ip_ranges);
                let dns = text("DNS", "dns", false, Some("Comma-separated IP addresses."),
                    |s| &s.dns, |s| &mut s.dns);
                let gateway = text("Gateway", "gateway", true, None, |s| &s.gateway, |s| &mut s.gateway);
                let azs_key = format!("{sat}.availability_zone_names");
                let azs = az_checkboxes(state, networks, i, j, azs_key, az_names);
                view! {
                    <fieldset class="subnet" data-index=j>
                        <legend>"Subnet " {j + 1}</legend>
                        {identifier}
                        {cidr}
                        {reserved}
                        {statics}
                        {dns}
                        {gateway}
                        {azs}
                        <button type="button" class="link danger"
                            on:click=move |_| networks.update(|l| {
                                if let Some(n) = l.get_mut(i) {
                                    if j < n.subnets.len() { n.subnets.remove(j); }
                                }
                            })>
                            "Remove subnet"
                        </button>
                    </fieldset>
                }
            })
            .collect_view()
    };
    view! {
        <div class="subnets">
            {rows}
            <button type="button" class="link"
                on:click=move |_| networks.update(|l| {
                    if let Some(n) = l.get_mut(i) { n.subnets.push(DirectorSubnet::default()); }
                })>
                "Add subnet"
            </button>
            <FieldErrors state key=errors_key/>
        </div>
    }
    .into_any()
}

/// The AZs a subnet serves: one checkbox per availability zone of the Director.
fn az_checkboxes(
    state: SectionState,
    networks: RwSignal<Vec<DirectorNetwork>>,
    i: usize,
    j: usize,
    key: String,
    az_names: StoredValue<Vec<String>>,
) -> AnyView {
    let k = key.clone();
    field(state, key, "Availability zones", true, None, move |id| {
        let boxes = az_names
            .get_value()
            .into_iter()
            .map(|az| {
                let box_id = field_id(&format!("{id}-{az}"));
                let (checked_az, toggled_az) = (az.clone(), az.clone());
                let k = k.clone();
                let label_for = box_id.clone();
                view! {
                    <label class="choice" for=label_for>
                        <input type="checkbox" id=box_id
                            prop:checked=move || networks.with(|l| {
                                l.get(i)
                                    .and_then(|n| n.subnets.get(j))
                                    .is_some_and(|s| s.availability_zone_names.contains(&checked_az))
                            })
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                networks.update(|l| {
                                    if let Some(s) = l.get_mut(i).and_then(|n| n.subnets.get_mut(j)) {
                                        s.availability_zone_names.retain(|a| a != &toggled_az);
                                        if on {
                                            s.availability_zone_names.push(toggled_az.clone());
                                        }
                                    }
                                });
                                state.edited(&k);
                            }/>
                        {az}
                    </label>
                }
            })
            .collect_view();
        view! { <div class="multi-select" role="group" id=id>{boxes}</div> }.into_any()
    })
}

#[component]
pub fn AssignSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let patterns = [
        "network_and_az",
        "network_and_az.network",
        "network_and_az.singleton_availability_zone",
    ]
    .map(String::from)
    .to_vec();
    let az = RwSignal::new(page.singleton_az.clone());
    let network = RwSignal::new(page.network.clone());
    let state = SectionState::new(page.config_version, notice, reload, patterns)
        .with_labels([
            ("network_and_az.network".to_string(), "Network".to_string()),
            (
                "network_and_az.singleton_availability_zone".to_string(),
                "Singleton availability zone".to_string(),
            ),
        ])
        .with_theirs(move |change, apply| {
            let target = match change.reference.as_str() {
                "network_and_az.network" => network,
                "network_and_az.singleton_availability_zone" => az,
                _ => return false,
            };
            if apply {
                target.set(change.value.as_str().unwrap_or_default().to_string());
            }
            true
        });
    let save = state.saving(
        "The Director's AZ and network saved.",
        |config_version, (network, az): &(String, String)| {
            save_director_network_and_az(config_version, network.clone(), az.clone())
        },
    );

    let select = |key: &str, label: &str, value: RwSignal<String>, choices: Vec<String>| {
        let k = key.to_string();
        field(state, key.to_string(), label, true, None, move |id| {
            view! {
                <select id=id on:change=move |ev| {
                    value.set(event_target_value(&ev));
                    state.edited(&k);
                }>
                    <option value="" selected=move || value.get().is_empty()>"Select…"</option>
                    {choices.into_iter().map(|name| {
                        let current = name.clone();
                        view! {
                            <option value=name.clone() selected=move || value.get() == current>{name.clone()}</option>
                        }
                    }).collect_view()}
                </select>
            }
            .into_any()
        })
    };
    let az_select = select(
        "network_and_az.singleton_availability_zone",
        "Singleton availability zone",
        az,
        page.azs.iter().map(|a| a.name.clone()).collect(),
    );
    let network_select = select(
        "network_and_az.network",
        "Network",
        network,
        page.networks.iter().map(|n| n.name.clone()).collect(),
    );
    let submit = save.on_submit(move || (network.get_untracked(), az.get_untracked()));
    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"Assign AZ and Network"</h2>
            <p class="form-description">"Where the Director VM itself runs."</p>
            {still_needed(&page.problems, Section::Assign)}
            {az_select}
            {network_select}
            <FieldErrors state key="network_and_az"/>
            {save.bar(None)}
        </form>
    }
}

/// An AZ as the page edits it, from the products service's view of it (fields by name).
fn az_from(name: &str, fields: &Map<String, serde_json::Value>) -> DirectorAz {
    let text = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    DirectorAz {
        name: name.to_string(),
        iaas_identifier: text(fields.get("iaas_identifier")),
        clusters: fields
            .get("clusters")
            .and_then(serde_json::Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|c| AzCluster {
                        cluster: text(c.get("cluster")),
                        resource_pool: text(c.get("resource_pool")),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        other: fields
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "iaas_identifier" | "clusters" | "guid"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_finds_what_the_service_finds() {
        let azs = vec!["az1".to_string(), "az2".to_string()];
        let good = DirectorNetwork {
            name: "infra".into(),
            subnets: vec![DirectorSubnet {
                iaas_identifier: "VM Network".into(),
                cidr: "10.0.0.0/24".into(),
                dns: "8.8.8.8".into(),
                gateway: "10.0.0.1".into(),
                reserved_ip_ranges: "10.0.0.1-10.0.0.10".into(),
                static_ip_ranges: String::new(),
                availability_zone_names: azs.clone(),
            }],
        };
        assert!(checked_networks(&azs, std::slice::from_ref(&good)).is_empty());
        let mut bad = good.clone();
        bad.subnets[0].cidr = "10.0.0.0/99".into();
        bad.subnets[0].reserved_ip_ranges = "10.0.0.1-10.0.0.10,nonsense".into();
        let found = checked_networks(&azs, &[bad]);
        assert!(
            found.contains_key("networks[0].subnets[0].cidr"),
            "{found:?}"
        );
        let mut unknown_az = good;
        unknown_az.subnets[0].availability_zone_names = vec!["elsewhere".into()];
        let found = checked_networks(&azs, &[unknown_az]);
        assert!(
            found.contains_key("networks[0].subnets[0].availability_zone_names"),
            "{found:?}"
        );
    }
}
