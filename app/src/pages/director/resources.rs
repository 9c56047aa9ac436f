//! The Director tile's Resource Config section: the Director VM's type and persistent disk,
//! and the compilation workers' count and VM type; each says what Automatic means (the VM
//! type's CPU, RAM and disk, sizes in GB). A plain form ([`plain_form`](super::plain_form)).

use leptos::prelude::*;

use crate::backend::director::{DirectorJobResources, DirectorPage};
use crate::pages::director::form::Section;
use crate::pages::director::plain_form::{action, save_row, PlainForm};

/// A size in MB as the page shows it: GB when whole enough.
pub fn size_text(mb: u64) -> String {
    if mb >= 1024 {
        let gb = mb as f64 / 1024.0;
        if gb.fract() == 0.0 {
            format!("{gb:.0} GB")
        } else {
            format!("{gb:.1} GB")
        }
    } else {
        format!("{mb} MB")
    }
}

#[component]
pub fn ResourceConfigSection(page: DirectorPage, form: PlainForm) -> impl IntoView {
    let rows = page
        .resources
        .iter()
        .map(|job| resource_row(&page, &form, job))
        .collect_view();
    view! {
        <form class="director-section resource-config" method="post" action=action(Section::ResourceConfig)>
            <h2>"Resource Config"</h2>
            {form.notice()}
            <table class="resource-table">
                <thead><tr><th>"Job"</th><th>"Instances"</th><th>"VM type"</th><th>"Persistent disk"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {save_row(&form)}
        </form>
    }
}

fn resource_row(page: &DirectorPage, form: &PlainForm, job: &DirectorJobResources) -> AnyView {
    let name = job.job.clone();
    let key = |field: &str| format!("resource-config.{name}.{field}");
    let field_name = |field: &str| format!("{name}.{field}");
    let label = if name == "director" {
        "BOSH Director"
    } else {
        "Master Compilation Job"
    };

    let instances = if name == "director" {
        view! { <span class="fixed">"1"</span> }.into_any()
    } else {
        let id = format!("director-resources-{name}-instances");
        let value = form.text(&field_name("instances"), job.instances.clone());
        let placeholder = format!("Automatic: {}", job.automatic_instances);
        let label_for = id.clone();
        view! {
            <label class="visually-hidden" for=label_for>{format!("{label} instances")}</label>
            <input type="text" id=id name=field_name("instances") value=value placeholder=placeholder size="10"/>
            {form.errors_view(&key("instances"))}
        }
        .into_any()
    };

    let chosen = form.text(&field_name("instance_type"), job.instance_type.clone());
    let vm_id = format!("director-resources-{name}-instance_type");
    let vm_options = page
        .vm_types
        .iter()
        .map(|v| {
            let text = format!(
                "{} ({} CPU, {} RAM, {} disk)",
                v.name,
                v.cpu,
                size_text(u64::from(v.ram)),
                size_text(u64::from(v.ephemeral_disk))
            );
            let value = v.name.clone();
            let selected = chosen == value;
            view! { <option value=value selected=selected>{text}</option> }
        })
        .collect_view();
    let automatic_vm = format!("Automatic: {}", job.automatic_vm);
    let vm_label_for = vm_id.clone();
    let vm_select = view! {
        <label class="visually-hidden" for=vm_label_for>{format!("{label} VM type")}</label>
        <select id=vm_id name=field_name("instance_type")>
            <option value="automatic" selected=chosen == "automatic" || chosen.is_empty()>{automatic_vm}</option>
            {vm_options}
        </select>
        {form.errors_view(&key("instance_type"))}
    }
    .into_any();

    let disk = match &job.persistent_disk_mb {
        None => view! { <span class="muted">"none"</span> }.into_any(),
        Some(saved) => {
            let chosen = form.text(&field_name("persistent_disk"), saved.clone());
            let id = format!("director-resources-{name}-persistent_disk");
            let mut sizes: Vec<u64> = page
                .disk_types
                .iter()
                .map(|d| u64::from(d.disk_size))
                .collect();
            // A saved size the catalogue lacks stays choosable.
            if let Ok(mb) = chosen.parse::<u64>() {
                if !sizes.contains(&mb) {
                    sizes.push(mb);
                    sizes.sort_unstable();
                }
            }
            let automatic = format!("Automatic: {}", job.automatic_disk);
            let label_for = id.clone();
            view! {
                <label class="visually-hidden" for=label_for>{format!("{label} persistent disk")}</label>
                <select id=id name=field_name("persistent_disk")>
                    <option value="automatic" selected=chosen == "automatic" || chosen.is_empty()>{automatic}</option>
                    {sizes.into_iter().map(|mb| {
                        let value = mb.to_string();
                        let selected = chosen == value;
                        view! { <option value=value selected=selected>{size_text(mb)}</option> }
                    }).collect_view()}
                </select>
                {form.errors_view(&key("persistent_disk"))}
            }
            .into_any()
        }
    };
    view! {
        <tr data-job=name.clone()>
            <th scope="row">{label}</th>
            <td>{instances}</td>
            <td>{vm_select}</td>
            <td>{disk}</td>
        </tr>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_gb() {
        assert_eq!(size_text(65536), "64 GB");
        assert_eq!(size_text(1536), "1.5 GB");
        assert_eq!(size_text(512), "512 MB");
    }
}
