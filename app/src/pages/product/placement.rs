//! The product pages after the forms: Assign AZs and Networks, Resource Config and Errands.
//! Each is one form with one Save, all or nothing, carrying the configuration version so that a
//! concurrent change is refused rather than overwritten.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde_json::Value;

use crate::backend::products::ProductPlacement;
use crate::backend::products::{load_product_placement, save_product_placement};
use crate::backend::{FieldChange, SaveOutcome};
use crate::components::conflict::{shown_value, Conflict, ConflictPanel};
use crate::components::messages::server_message;
use crate::page_data;

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
    let placement = page_data::resource(move || load_guid.clone(), load_product_placement);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {
                let guid = guid.clone();
                move || {
                    let guid = guid.clone();
                    Suspend::new(async move {
                        // Reload (after a refused save) discards the typed choices.
                        let reload = Callback::new(move |_: ()| placement.refetch());
                        match placement.await {
                            Ok(p) => view! { <PlacementForm guid placement=p section reload/> }.into_any(),
                            Err(err) => view! { <p class="form-error" role="alert">{server_message(&err)}</p> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
    }
}

#[component]
fn PlacementForm(
    guid: String,
    placement: ProductPlacement,
    section: Section,
    reload: Callback<()>,
) -> impl IntoView {
    // Labels of the page's fields, for what another operator changed.
    let labels = StoredValue::new(placement_labels(&placement));
    let edited = RwSignal::new(placement);
    let conflict = RwSignal::<Conflict>::new(None);
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
        conflict.set(None);
        match result {
            Ok(SaveOutcome::Saved { config_version }) => {
                edited.update(|p| p.config_version = config_version);
                errors.set(BTreeMap::new());
                notice.set(Some((true, "Settings saved.".into())));
            }
            Ok(SaveOutcome::Invalid { errors: found }) => {
                errors.set(found);
                notice.set(Some((
                    false,
                    "Nothing was saved: fix the fields marked below.".into(),
                )));
            }
            Ok(SaveOutcome::Conflict {
                current_version,
                mut changes,
                ..
            }) => {
                // Where the operator chose what the other operator saved there is nothing to decide.
                edited
                    .with_untracked(|p| changes.retain(|c| c.credential || !already_chosen(p, c)));
                if changes.is_empty() {
                    // Saves in between changed nothing on this page: saving again is safe.
                    edited.update(|p| p.config_version = current_version);
                    notice.set(Some((false, "Nothing was saved: another operator saved other settings of this product since you opened this page (nothing on it). Save again to store your choices.".into())));
                } else {
                    conflict.set(Some((current_version, changes)));
                    notice.set(Some((false, "Nothing was saved: another operator changed this page since you opened it. Your choices are still here; decide for each change below, or reload.".into())));
                }
            }
            Err(err) => notice.set(Some((false, server_message(&err)))),
        }
    });
    let body = match section {
        Section::Azs => azs_view(edited, errors).into_any(),
        Section::Resources => resources_view(edited, errors).into_any(),
        Section::Errands => errands_view(edited).into_any(),
    };
    let may_configure = crate::session::may_configure();
    view! {
        <form class="settings-form placement" data-hydrated=move || hydrated.get().then_some("true") on:submit=move |ev| {
            ev.prevent_default();
            notice.set(None);
            save.dispatch(edited.get_untracked());
        }>
            <h2>{section.label()}</h2>
            {body}
            <div class="form-actions">
                <button type="submit" class="primary" disabled=move || save.pending().get() || !may_configure
                    title=(!may_configure).then_some(crate::session::READ_ONLY_TITLE)>
                    {move || if save.pending().get() { "Saving…" } else { "Save" }}
                </button>
                {move || notice.get().map(|(ok, text)| view! {
                    <p class=if ok { "notice ok" } else { "notice error" } role="status">{text}</p>
                })}
            </div>
            <ConflictPanel conflict
                label=move |reference: String| labels.with_value(|l| label_of(l, &reference))
                use_theirs=move |(change, apply): (FieldChange, bool)| {
                    let mut copy = edited.get_untracked();
                    let direct = use_theirs(&mut copy, &change);
                    if direct && apply {
                        edited.set(copy);
                    }
                    direct
                }
                decided=move |version: i64| {
                    edited.update(|p| p.config_version = version);
                    notice.set(Some((false, "Every change is decided: Save to store the page as it is now.".into())));
                }
                reload
                describe=move |(reference, value): (String, Value)| describe(&reference, &value)
                what="page"/>
        </form>
    }
}

/// The page's words for the fields of a placement, by the products service's reference.
fn placement_labels(p: &ProductPlacement) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, label) in [
        ("singleton_availability_zone", "Place singleton jobs in"),
        ("other_availability_zones", "Balance other jobs in"),
        ("network", "Network"),
        ("service_network", "Service Network"),
    ] {
        out.insert(format!("networks_and_azs.{key}"), label.to_string());
    }
    for job in &p.jobs {
        let base = format!("resource-config.{}", job.job);
        for (key, what) in [
            ("instances", "instances"),
            ("instance_type", "VM type"),
            ("persistent_disk", "persistent disk"),
            ("max_in_flight", "max in flight"),
        ] {
            out.insert(format!("{base}.{key}"), format!("{} {what}", job.label));
        }
        out.insert(base, format!("{} resources", job.label));
    }
    for e in &p.errands {
        let phase = if e.phase == "post_deploy" {
            "post-deploy"
        } else {
            "pre-delete"
        };
        out.insert(
            format!("errands.{}.{}", e.name, e.phase),
            format!("{} ({phase})", e.label),
        );
        out.insert(format!("errands.{}", e.name), e.label.clone());
    }
    out
}

/// A value in the page's words: errand rules as the Errands page names them, `automatic` as
/// the Resource Config page shows it.
fn describe(reference: &str, value: &Value) -> String {
    if reference.starts_with("errands.") {
        let word = match errand_rule(value) {
            Some("on") => "On",
            Some("off") => "Off",
            Some("when-changed") => "When Changed",
            Some(_) => "Default",
            None => return shown_value(value),
        };
        return word.to_string();
    }
    match value.as_str() {
        Some("automatic") => "Automatic".into(),
        Some("default") => "Default".into(),
        _ => shown_value(value),
    }
}

/// A label for a reference: the page's, or for a job or errand the page does not list (an
/// errand job's resources…) the reference itself.
fn label_of(labels: &BTreeMap<String, String>, reference: &str) -> String {
    labels
        .get(reference)
        .cloned()
        .unwrap_or_else(|| reference.to_string())
}

/// Where the page edits a field: the job row and the part of it a reference names.
fn job_field<'p>(
    p: &'p mut ProductPlacement,
    reference: &str,
) -> Option<(&'p mut crate::backend::products::JobResources, String)> {
    let rest = reference.strip_prefix("resource-config.")?;
    let (job, field) = rest.rsplit_once('.')?;
    let row = p.jobs.iter_mut().find(|j| j.job == job)?;
    Some((row, field.to_string()))
}

/// The rule word of the Errands page for an errand value of the products service.
fn errand_rule(value: &Value) -> Option<&'static str> {
    match value {
        Value::Bool(true) => Some("on"),
        Value::Bool(false) => Some("off"),
        Value::String(s) if s == "when-changed" => Some("when-changed"),
        Value::String(s) if s == "default" => Some("default"),
        _ => None,
    }
}

/// Puts their value into the page where the page edits that field directly; `false` where it
/// does not (then the operator keeps theirs by reloading).
fn use_theirs(p: &mut ProductPlacement, change: &FieldChange) -> bool {
    let name = |v: &Value| v.as_str().map(str::to_string);
    let automatic = |v: &Value| v.is_null() || v.as_str() == Some("automatic");
    let value = &change.value;
    match change.reference.as_str() {
        "networks_and_azs.singleton_availability_zone" => {
            p.singleton_availability_zone = name(value)
        }
        "networks_and_azs.network" => p.network = name(value),
        "networks_and_azs.service_network" => p.service_network = name(value),
        "networks_and_azs.other_availability_zones" => {
            p.other_availability_zones = value
                .as_array()
                .map(|list| list.iter().filter_map(name).collect())
                .unwrap_or_default()
        }
        reference if reference.starts_with("resource-config.") => {
            let Some((row, field)) = job_field(p, reference) else {
                return false;
            };
            match field.as_str() {
                "instances" => row.instances = (!automatic(value)).then(|| value.clone()),
                "instance_type" => row.vm_type = if automatic(value) { None } else { name(value) },
                "persistent_disk" if row.has_persistent_disk => {
                    row.persistent_disk = (!automatic(value)).then(|| {
                        value
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| value.to_string())
                    })
                }
                _ => return false,
            }
        }
        reference if reference.starts_with("errands.") => {
            let Some((errand, phase)) = reference["errands.".len()..].rsplit_once('.') else {
                return false;
            };
            let (Some(row), Some(rule)) = (
                p.errands
                    .iter_mut()
                    .find(|e| e.name == errand && e.phase == phase),
                errand_rule(value),
            ) else {
                return false;
            };
            row.rule = rule.to_string();
        }
        _ => return false,
    }
    true
}

/// Whether the page already holds their value for a field (nothing to decide then).
fn already_chosen(p: &ProductPlacement, change: &FieldChange) -> bool {
    let mut theirs = p.clone();
    use_theirs(&mut theirs, change) && theirs == *p
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
            <div class="multi-select" id="other_azs" role="group" aria-label="Balance other jobs in">
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::products::{ErrandSetting, JobResources};
    use serde_json::json;

    fn placement() -> ProductPlacement {
        ProductPlacement {
            config_version: 3,
            availability_zones: vec!["az1".into(), "az2".into()],
            networks: vec!["infra".into()],
            vm_types: vec!["small".into(), "large".into()],
            disk_types: vec![],
            singleton_availability_zone: Some("az1".into()),
            other_availability_zones: vec!["az1".into()],
            network: Some("infra".into()),
            service_network: None,
            uses_service_network: false,
            jobs: vec![JobResources {
                job: "web".into(),
                guid: "web-1".into(),
                label: "Web server".into(),
                instances: None,
                instances_default: Some(1),
                vm_type: Some("small".into()),
                vm_type_default: None,
                persistent_disk: None,
                persistent_disk_default: None,
                has_persistent_disk: false,
            }],
            errands: vec![ErrandSetting {
                name: "smoke".into(),
                label: "Smoke tests".into(),
                phase: "post_deploy".into(),
                rule: "default".into(),
                default_on: true,
            }],
        }
    }

    fn change(reference: &str, value: Value) -> FieldChange {
        FieldChange {
            reference: reference.into(),
            changed_by: Some("bob".into()),
            value,
            credential: false,
            previous: None,
            started_from: None,
        }
    }

    #[test]
    fn their_values_land_in_the_fields_the_page_edits() {
        let mut p = placement();
        assert!(use_theirs(
            &mut p,
            &change("resource-config.web.instances", json!(3))
        ));
        assert_eq!(p.jobs[0].instances, Some(json!(3)));
        assert!(use_theirs(
            &mut p,
            &change("resource-config.web.instance_type", json!("automatic"))
        ));
        assert_eq!(p.jobs[0].vm_type, None);
        assert!(use_theirs(
            &mut p,
            &change("errands.smoke.post_deploy", json!(false))
        ));
        assert_eq!(p.errands[0].rule, "off");
        assert!(use_theirs(
            &mut p,
            &change(
                "networks_and_azs.other_availability_zones",
                json!(["az1", "az2"])
            )
        ));
        assert_eq!(
            p.other_availability_zones,
            vec!["az1".to_string(), "az2".to_string()]
        );
        // Not edited on the page: only Keep mine or Reload.
        assert!(!use_theirs(
            &mut p,
            &change("resource-config.web.max_in_flight", json!(2))
        ));
        assert!(!use_theirs(
            &mut p,
            &change("resource-config.web.persistent_disk", json!(1024))
        ));
        assert!(!use_theirs(
            &mut p,
            &change("errands.nope.post_deploy", json!(true))
        ));
    }

    #[test]
    fn a_value_already_chosen_needs_no_decision_and_labels_use_the_page_words() {
        let p = placement();
        assert!(already_chosen(
            &p,
            &change("resource-config.web.instance_type", json!("small"))
        ));
        assert!(!already_chosen(
            &p,
            &change("resource-config.web.instances", json!(2))
        ));
        let labels = placement_labels(&p);
        assert_eq!(
            label_of(&labels, "resource-config.web.instances"),
            "Web server instances"
        );
        assert_eq!(
            label_of(&labels, "errands.smoke.post_deploy"),
            "Smoke tests (post-deploy)"
        );
        assert_eq!(label_of(&labels, "networks_and_azs.network"), "Network");
        assert_eq!(
            describe("errands.smoke.post_deploy", &json!("when-changed")),
            "When Changed"
        );
        assert_eq!(describe("errands.smoke.post_deploy", &json!(true)), "On");
        assert_eq!(
            describe("resource-config.web.instances", &json!("automatic")),
            "Automatic"
        );
        assert_eq!(describe("resource-config.web.instances", &json!(3)), "3");
        assert_eq!(
            label_of(&labels, "resource-config.other.instances"),
            "resource-config.other.instances"
        );
    }
}
