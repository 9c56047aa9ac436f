//! The product pages after the forms: Assign AZs and Networks, Resource Config and Errands.
//! Each is one form with one Save, all or nothing, carrying the configuration version so that a
//! concurrent change is refused rather than overwritten.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::Value;

use crate::api::{load_product_placement, save_product_placement};
use crate::backend::{ProductPlacement, SaveOutcome};
use crate::pages::product_settings::server_message;

/// Which placement page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Azs,
    Resources,
    Errands,
}

impl Section {
    pub fn parse(text: &str) -> Option<Section> {
        match text {
            "azs" => Some(Section::Azs),
            "resources" => Some(Section::Resources),
            "errands" => Some(Section::Errands),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Section::Azs => "azs",
            Section::Resources => "resources",
            Section::Errands => "errands",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Section::Azs => "Assign AZs and Networks",
            Section::Resources => "Resource Config",
            Section::Errands => "Errands",
        }
    }

    pub const ALL: [Section; 3] = [Section::Azs, Section::Resources, Section::Errands];
}

#[component]
pub fn PlacementSection(guid: String, section: Section) -> impl IntoView {
    let load_guid = guid.clone();
    let placement = Resource::new(move || load_guid.clone(), load_product_placement);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let guid = guid.clone();
                move || {
                    let guid = guid.clone();
                    Suspend::new(async move {
                        match placement.await {
                            Ok(p) => view! { <PlacementForm guid placement=p section/> }.into_any(),
                            Err(err) => view! { <p class="form-error" role="alert">{server_message(&err)}</p> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
    }
}

#[component]
fn PlacementForm(guid: String, placement: ProductPlacement, section: Section) -> impl IntoView {
    let edited = RwSignal::new(placement);
    // Set once the browser has taken over the page (tests wait for it before clicking).
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let errors = RwSignal::new(BTreeMap::<String, Vec<String>>::new());
    let notice = RwSignal::new(None::<(bool, String)>);
    let save = Action::new(move |p: &ProductPlacement| {
        let json = serde_json::to_string(p).unwrap_or_default();
        save_product_placement(guid.clone(), section.key().to_string(), json)
    });
    Effect::new(move |_| {
        let Some(result) = save.value().get() else {
            return;
        };
        match result {
            Ok(SaveOutcome::Saved { config_version }) => {
                edited.update(|p| p.config_version = config_version);
                errors.set(BTreeMap::new());
                notice.set(Some((true, "Settings saved.".into())));
            }
            Ok(SaveOutcome::Invalid { errors: found }) => {
                errors.set(found);
                notice.set(Some((false, "Nothing was saved: fix the fields marked below.".into())));
            }
            Ok(SaveOutcome::Conflict { message, .. }) => notice.set(Some((
                false,
                format!("Nothing was saved: {message} Reload the page to see the current settings (your choices are still here)."),
            ))),
            Err(err) => notice.set(Some((false, server_message(&err)))),
        }
    });
    let body = match section {
        Section::Azs => azs_view(edited, errors).into_any(),
        Section::Resources => resources_view(edited, errors).into_any(),
        Section::Errands => errands_view(edited).into_any(),
    };
    view! {
        <form class="settings-form placement" data-hydrated=move || hydrated.get().then_some("true") on:submit=move |ev| {
            ev.prevent_default();
            notice.set(None);
            save.dispatch(edited.get_untracked());
        }>
            <h2>{section.label()}</h2>
            {body}
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                {move || notice.get().map(|(ok, text)| view! {
                    <p class=if ok { "notice ok" } else { "notice error" } role="status">{text}</p>
                })}
            </div>
        </form>
    }
}

fn field_errors(errors: RwSignal<BTreeMap<String, Vec<String>>>, key: String) -> impl IntoView {
    move || {
        let list = errors.with(|e| e.get(&key).cloned().unwrap_or_default());
        (!list.is_empty()).then(|| view! {
            <ul class="field-errors" role="alert">{list.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
        })
    }
}

/// A `<select>` of names with a "Select…" entry meaning none.
fn name_select(
    id: &'static str,
    names: Vec<String>,
    current: impl Fn() -> Option<String> + Send + Sync + Clone + 'static,
    on_pick: impl Fn(Option<String>) + 'static,
) -> impl IntoView {
    let none_selected = current.clone();
    view! {
        <select id=id on:change=move |ev| {
            let v = event_target_value(&ev);
            on_pick(if v.is_empty() { None } else { Some(v) })
        }>
            <option value="" selected=move || none_selected().is_none()>"Select…"</option>
            {names.into_iter().map(|n| {
                let current = current.clone();
                let (name, value) = (n.clone(), n.clone());
                view! { <option value=value selected=move || current().as_deref() == Some(name.as_str())>{n}</option> }
            }).collect_view()}
        </select>
    }
}

fn azs_view(
    edited: RwSignal<ProductPlacement>,
    errors: RwSignal<BTreeMap<String, Vec<String>>>,
) -> impl IntoView {
    let p = edited.get_untracked();
    let no_director_setup = p.availability_zones.is_empty() || p.networks.is_empty();
    let azs = p.availability_zones.clone();
    view! {
        {no_director_setup.then(|| view! {
            <p class="notice error">"Create availability zones and networks on the BOSH Director tile first."</p>
        })}
        <div class="field">
            <label for="singleton_az">"Place singleton jobs in"</label>
            {name_select("singleton_az", p.availability_zones.clone(),
                move || edited.with(|p| p.singleton_availability_zone.clone()),
                move |v| edited.update(|p| p.singleton_availability_zone = v))}
            {field_errors(errors, "networks_and_azs.singleton_availability_zone".into())}
        </div>
        <div class="field">
            <span class="label">"Balance other jobs in"</span>
            <div class="multi-select" role="group" aria-label="Balance other jobs in">
                {azs.into_iter().map(|az| {
                    let id = format!("balance_{az}");
                    let label_for = id.clone();
                    let (checked, toggled) = (az.clone(), az.clone());
                    view! {
                        <label class="choice" for=label_for>
                            <input type="checkbox" id=id
                                prop:checked=move || edited.with(|p| p.other_availability_zones.contains(&checked))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    edited.update(|p| {
                                        p.other_availability_zones.retain(|a| a != &toggled);
                                        if on { p.other_availability_zones.push(toggled.clone()); }
                                    })
                                }/>
                            {az.clone()}
                        </label>
                    }
                }).collect_view()}
            </div>
            {field_errors(errors, "networks_and_azs.other_availability_zones".into())}
        </div>
        <div class="field">
            <label for="network">"Network"</label>
            {name_select("network", p.networks.clone(),
                move || edited.with(|p| p.network.clone()),
                move |v| edited.update(|p| p.network = v))}
            {field_errors(errors, "networks_and_azs.network".into())}
        </div>
        {p.uses_service_network.then(|| view! {
            <div class="field">
                <label for="service_network">"Service Network"</label>
                <p class="field-description">"Where the on-demand service instances (for PKS: the Kubernetes clusters) are placed."</p>
                {name_select("service_network", p.networks.clone(),
                    move || edited.with(|p| p.service_network.clone()),
                    move |v| edited.update(|p| p.service_network = v))}
                {field_errors(errors, "networks_and_azs.service_network".into())}
            </div>
        })}
    }
}

fn resources_view(
    edited: RwSignal<ProductPlacement>,
    errors: RwSignal<BTreeMap<String, Vec<String>>>,
) -> impl IntoView {
    let p = edited.get_untracked();
    let rows = p.jobs.iter().enumerate().map(|(i, job)| {
        let base = format!("resource-config.{}", job.job);
        let instances_default = job.instances_default.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
        let vm_default = job.vm_type_default.clone().unwrap_or_else(|| "-".into());
        let disk_default = job.persistent_disk_default.clone().unwrap_or_else(|| "-".into());
        let vm_types = p.vm_types.clone();
        let disk_types = p.disk_types.clone();
        let has_disk = job.has_persistent_disk;
        view! {
            <tr data-job=job.job.clone()>
                <th scope="row">{job.label.clone()}</th>
                <td>
                    <input type="text" inputmode="numeric" aria-label=format!("{} instances", job.label)
                        placeholder=format!("Automatic: {instances_default}")
                        prop:value=move || edited.with(|p| match &p.jobs[i].instances {
                            Some(Value::String(s)) => s.clone(),
                            Some(v) => v.to_string(),
                            None => String::new(),
                        })
                        on:input=move |ev| {
                            let typed = event_target_value(&ev);
                            edited.update(|p| p.jobs[i].instances = match typed.trim() {
                                "" => None,
                                t => Some(t.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(t.to_string()))),
                            })
                        }/>
                    {field_errors(errors, format!("{base}.instances"))}
                </td>
                <td>
                    <select aria-label=format!("{} VM type", job.label) on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edited.update(|p| p.jobs[i].vm_type = if v.is_empty() { None } else { Some(v) })
                    }>
                        <option value="" selected=move || edited.with(|p| p.jobs[i].vm_type.is_none())>{format!("Automatic: {vm_default}")}</option>
                        {vm_types.into_iter().map(|n| {
                            let (name, value) = (n.clone(), n.clone());
                            view! { <option value=value selected=move || edited.with(|p| p.jobs[i].vm_type.as_deref() == Some(name.as_str()))>{n}</option> }
                        }).collect_view()}
                    </select>
                    {field_errors(errors, format!("{base}.instance_type"))}
                </td>
                <td>
                    {if has_disk {
                        view! {
                            <select aria-label=format!("{} persistent disk", job.label) on:change=move |ev| {
                                let v = event_target_value(&ev);
                                edited.update(|p| p.jobs[i].persistent_disk = if v.is_empty() { None } else { Some(v) })
                            }>
                                <option value="" selected=move || edited.with(|p| p.jobs[i].persistent_disk.is_none())>{format!("Automatic: {disk_default}")}</option>
                                {disk_types.into_iter().map(|n| {
                                    let (name, value) = (n.clone(), n.clone());
                                    view! { <option value=value selected=move || edited.with(|p| p.jobs[i].persistent_disk.as_deref() == Some(name.as_str()))>{n}</option> }
                                }).collect_view()}
                            </select>
                        }.into_any()
                    } else {
                        view! { <span class="muted">"None"</span> }.into_any()
                    }}
                    {field_errors(errors, format!("{base}.persistent_disk"))}
                </td>
            </tr>
        }
    }).collect_view();
    view! {
        <table class="resources">
            <thead><tr><th>"Job"</th><th>"Instances"</th><th>"VM Type"</th><th>"Persistent Disk Type"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn errands_view(edited: RwSignal<ProductPlacement>) -> impl IntoView {
    let p = edited.get_untracked();
    let section = |phase: &'static str, title: &'static str| {
        let rows = p.errands.iter().enumerate().filter(|(_, e)| e.phase == phase).map(|(i, e)| {
            let default_label = if e.default_on { "Default (On)" } else { "Default (Off)" };
            let mut choices = vec![("default", default_label), ("on", "On"), ("off", "Off")];
            if phase == "post_deploy" {
                choices.push(("when-changed", "When Changed"));
            }
            let id = format!("errand_{}_{}", phase, e.name);
            view! {
                <div class="field errand" data-errand=e.name.clone()>
                    <label for=id.clone()>{e.label.clone()}</label>
                    <select id=id on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edited.update(|p| p.errands[i].rule = v)
                    }>
                        {choices.into_iter().map(|(value, label)| view! {
                            <option value=value selected=move || edited.with(|p| p.errands[i].rule == value)>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
            }
        }).collect_view();
        view! { <h3>{title}</h3> {rows} }
    };
    let empty = p.errands.is_empty();
    view! {
        {empty.then(|| view! { <p class="muted">"This product has no errands."</p> })}
        {section("post_deploy", "Post-Deploy Errands")}
        {section("pre_delete", "Pre-Delete Errands")}
    }
}
