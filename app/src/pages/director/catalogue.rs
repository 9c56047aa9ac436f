//! The Director tile's VM Types, Disk Types and Cloud Config sections.
//!
//! The default catalogues are listed as they are in effect; saving an edited list makes it the
//! Director's own, and Reset to defaults goes back to the catalogue.

use leptos::prelude::*;
use serde_json::{Map, Value};
use tiles::cloud_config::{DiskTypeConfig, VmTypeConfig};

use crate::backend::director::DirectorPage;
use crate::backend::director::{save_director_disk_types, save_director_vm_types};
use crate::pages::director::form::{still_needed, text_input, FieldErrors, Section, SectionState};

/// A VM type as typed: sizes stay text so a wrong entry stays on screen with its message.
#[derive(Clone, Debug, Default, PartialEq)]
struct VmRow {
    name: String,
    cpu: String,
    ram: String,
    ephemeral_disk: String,
    cloud_properties: Option<Map<String, Value>>,
}

/// A size as typed; what does not read as a whole number goes as 0, which the service refuses
/// with its own message under the field.
fn size(text: &str) -> u32 {
    text.trim().replace('_', "").parse().unwrap_or(0)
}

fn cell(
    state: SectionState,
    key: String,
    label: &'static str,
    value: Signal<String>,
    set: Callback<String>,
) -> AnyView {
    let id = crate::components::widgets::field_id(&key);
    let k = key.clone();
    let data_field = key.clone();
    let label_for = id.clone();
    view! {
        <td data-field=data_field>
            <label class="visually-hidden" for=label_for>{label}</label>
            {text_input(state, k, id, value, set, "")}
            <FieldErrors state key/>
        </td>
    }
    .into_any()
}

fn row_binding<T: Send + Sync + 'static>(
    rows: RwSignal<Vec<T>>,
    i: usize,
    get: fn(&T) -> &String,
    put: fn(&mut T) -> &mut String,
) -> (Signal<String>, Callback<String>) {
    (
        Signal::derive(move || {
            rows.with(|r| r.get(i).map(|x| get(x).clone()))
                .unwrap_or_default()
        }),
        Callback::new(move |text: String| {
            rows.update(|r| {
                if let Some(x) = r.get_mut(i) {
                    *put(x) = text
                }
            })
        }),
    )
}

#[component]
pub fn VmTypesSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let patterns = [
        "vm_types",
        "vm_types[].name",
        "vm_types[].cpu",
        "vm_types[].ram",
        "vm_types[].ephemeral_disk",
    ]
    .map(String::from)
    .to_vec();
    let rows = RwSignal::new(
        page.vm_types
            .iter()
            .map(|v| VmRow {
                name: v.name.clone(),
                cpu: v.cpu.to_string(),
                ram: v.ram.to_string(),
                ephemeral_disk: v.ephemeral_disk.to_string(),
                cloud_properties: v.cloud_properties.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let count = Memo::new(move |_| rows.with(Vec::len));
    // Another operator's VM type, by name: replaced, added or removed here (cloud properties
    // the page holds for that name stay).
    let theirs = move |name: &str, value: &Value| {
        let size = |k: &str| value.get(k).map(|v| v.to_string()).unwrap_or_default();
        Some((!value.is_null()).then(|| VmRow {
            name: name.to_string(),
            cpu: size("cpu"),
            ram: size("ram"),
            ephemeral_disk: size("ephemeral_disk"),
            cloud_properties: rows.with_untracked(|r| {
                r.iter()
                    .find(|x| x.name == name)
                    .and_then(|x| x.cloud_properties.clone())
            }),
        }))
    };
    let state = SectionState::new(page.config_version, notice, reload, patterns)
        .with_their_entries("vm_types.", rows, theirs, |r| r.name.clone());
    let save = state.saving(
        "VM types saved.",
        |config_version, list: &Option<Vec<VmTypeConfig>>| {
            let json = serde_json::to_string(list).unwrap_or_else(|_| "null".into());
            save_director_vm_types(config_version, json)
        },
    );

    let body = move || {
        (0..count.get())
            .map(|i| {
                let at = format!("vm_types[{i}]");
                let (name, set_name) = row_binding(rows, i, |r| &r.name, |r| &mut r.name);
                let (cpu, set_cpu) = row_binding(rows, i, |r| &r.cpu, |r| &mut r.cpu);
                let (ram, set_ram) = row_binding(rows, i, |r| &r.ram, |r| &mut r.ram);
                let (disk, set_disk) =
                    row_binding(rows, i, |r| &r.ephemeral_disk, |r| &mut r.ephemeral_disk);
                view! {
                    <tr data-index=i>
                        {cell(state, format!("{at}.name"), "Name", name, set_name)}
                        {cell(state, format!("{at}.cpu"), "CPU", cpu, set_cpu)}
                        {cell(state, format!("{at}.ram"), "RAM (MB)", ram, set_ram)}
                        {cell(state, format!("{at}.ephemeral_disk"), "Ephemeral disk (MB)", disk, set_disk)}
                        <td>
                            <button type="button" class="link danger"
                                on:click=move |_| rows.update(|r| if i < r.len() { r.remove(i); })>
                                "Remove"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };

    let submit = save.on_submit(move || {
        let list = rows.with_untracked(|r| {
            r.iter()
                .map(|v| VmTypeConfig {
                    name: v.name.trim().to_string(),
                    cpu: size(&v.cpu),
                    ram: size(&v.ram),
                    ephemeral_disk: size(&v.ephemeral_disk),
                    cloud_properties: v.cloud_properties.clone(),
                })
                .collect()
        });
        Some(list)
    });
    let reset = move |_| save.dispatch(None);
    let builtin = page.vm_types_builtin;
    let reset_button = view! {
        <button type="button" class="secondary" disabled=builtin on:click=reset>"Reset to defaults"</button>
    }
    .into_any();
    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"VM Types"</h2>
            <p class="form-description">
                {if builtin {
                    "These are the default VM types. Edit, add or remove types and save to make the list your own."
                } else {
                    "Custom VM types. Reset to defaults restores the default catalogue."
                }}
            </p>
            {still_needed(&page.problems, Section::VmTypes)}
            <table class="catalogue">
                <thead><tr><th>"Name"</th><th>"CPU"</th><th>"RAM (MB)"</th><th>"Ephemeral disk (MB)"</th><th></th></tr></thead>
                <tbody>{body}</tbody>
            </table>
            <button type="button" class="add-record"
                on:click=move |_| rows.update(|r| r.push(VmRow::default()))>
                "Add VM type"
            </button>
            <FieldErrors state key="vm_types"/>
            {save.bar(Some(reset_button))}
        </form>
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct DiskRow {
    name: String,
    disk_size: String,
    cloud_properties: Map<String, Value>,
}

/// A disk type's name: its own, else (the default catalogue's) its size.
fn disk_key(r: &DiskRow) -> String {
    if r.name.is_empty() {
        r.disk_size.clone()
    } else {
        r.name.clone()
    }
}

#[component]
pub fn DiskTypesSection(
    page: DirectorPage,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
) -> impl IntoView {
    let patterns = ["disk_types", "disk_types[].name", "disk_types[].disk_size"]
        .map(String::from)
        .to_vec();
    let rows = RwSignal::new(
        page.disk_types
            .iter()
            .map(|d| DiskRow {
                name: d.name.clone().unwrap_or_default(),
                disk_size: d.disk_size.to_string(),
                cloud_properties: d.cloud_properties.clone(),
            })
            .collect::<Vec<_>>(),
    );
    let count = Memo::new(move |_| rows.with(Vec::len));
    // Another operator's disk type, by its name (an unnamed one by its size): replaced, added
    // or removed here.
    let theirs = move |name: &str, value: &Value| match value.as_u64() {
        _ if value.is_null() => Some(None),
        Some(size) => Some(Some(DiskRow {
            // The default catalogue's types have no name: their size is their name.
            name: if size.to_string() == name {
                String::new()
            } else {
                name.to_string()
            },
            disk_size: size.to_string(),
            cloud_properties: rows.with_untracked(|r| {
                r.iter()
                    .find(|x| disk_key(x) == name)
                    .map(|x| x.cloud_properties.clone())
                    .unwrap_or_default()
            }),
        })),
        None => None,
    };
    let state = SectionState::new(page.config_version, notice, reload, patterns)
        .with_their_entries("disk_types.", rows, theirs, disk_key);
    let save = state.saving(
        "Disk types saved.",
        |config_version, list: &Vec<DiskTypeConfig>| {
            let json = serde_json::to_string(list).unwrap_or_else(|_| "[]".into());
            save_director_disk_types(config_version, json)
        },
    );

    let body = move || {
        (0..count.get())
            .map(|i| {
                let at = format!("disk_types[{i}]");
                let (name, set_name) = row_binding(rows, i, |r| &r.name, |r| &mut r.name);
                let (disk, set_disk) = row_binding(rows, i, |r| &r.disk_size, |r| &mut r.disk_size);
                view! {
                    <tr data-index=i>
                        {cell(state, format!("{at}.name"), "Name (optional)", name, set_name)}
                        {cell(state, format!("{at}.disk_size"), "Size (MB)", disk, set_disk)}
                        <td>
                            <button type="button" class="link danger"
                                on:click=move |_| rows.update(|r| if i < r.len() { r.remove(i); })>
                                "Remove"
                            </button>
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    let submit = save.on_submit(move || {
        rows.with_untracked(|r| {
            r.iter()
                .map(|d| DiskTypeConfig {
                    name: Some(d.name.trim().to_string()).filter(|n| !n.is_empty()),
                    disk_size: size(&d.disk_size),
                    cloud_properties: d.cloud_properties.clone(),
                })
                .collect()
        })
    });
    let reset = move |_| save.dispatch(Vec::new());
    let builtin = page.disk_types_builtin;
    let reset_button = view! {
        <button type="button" class="secondary" disabled=builtin on:click=reset>"Reset to defaults"</button>
    }
    .into_any();
    view! {
        <form class="settings-form" on:submit=submit>
            <h2>"Disk Types"</h2>
            <p class="form-description">
                {if builtin {
                    "These are the default persistent disk sizes. A type without a name is named by its size."
                } else {
                    "Custom disk types. Reset to defaults restores the default catalogue."
                }}
            </p>
            {still_needed(&page.problems, Section::DiskTypes)}
            <table class="catalogue">
                <thead><tr><th>"Name (optional)"</th><th>"Size (MB)"</th><th></th></tr></thead>
                <tbody>{body}</tbody>
            </table>
            <button type="button" class="add-record"
                on:click=move |_| rows.update(|r| r.push(DiskRow::default()))>
                "Add disk type"
            </button>
            <FieldErrors state key="disk_types"/>
            {save.bar(Some(reset_button))}
        </form>
    }
}

/// The cloud config the Director would receive, or what prevents it.
#[component]
pub fn CloudConfigSection(page: DirectorPage) -> impl IntoView {
    let body = match page.cloud_config {
        Ok(yaml) => view! {
            <p class="form-description">"What the Director receives as its cloud config when changes are applied. Read-only: edit the sections on the left."</p>
            <pre class="yaml" aria-label="Cloud config YAML">{yaml}</pre>
        }
        .into_any(),
        Err(findings) => view! {
            <p class="notice error" role="status">"The cloud config cannot be produced yet:"</p>
            <ul class="field-errors">
                {findings
                    .into_iter()
                    .flat_map(|(k, msgs)| msgs.into_iter().map(move |m| format!("{k}: {m}")))
                    .map(|line| view! { <li>{line}</li> })
                    .collect_view()}
            </ul>
        }
        .into_any(),
    };
    view! {
        <section class="settings-form">
            <h2>"Cloud Config"</h2>
            {body}
        </section>
    }
}
