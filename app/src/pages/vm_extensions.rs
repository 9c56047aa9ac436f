//! `/settings/vm-extensions`: the staged VM extensions (name, cloud properties as JSON), a plain
//! form to create one or replace one's cloud properties, and deletion after a confirmation (the
//! Delete link asks again on this page, `?delete=<name>`, so it works without the wasm too).
//! The forms post to the server's handlers (`server/src/http/settings_forms.rs`), which call
//! the service the API calls: a save is a Director change Review lists. Done, `303` back here
//! with `done=`; refused, this page again with a 4xx and the refusal beside the form, what was
//! typed given back.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::page_forms::{refusal_notice, refusal_resource, FormRefusal};
use crate::backend::vm_extensions::{load_vm_extensions, VmExtensionRow};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// The page's address, where its forms post (a hidden `form` field names which).
pub const BASE: &str = "/settings/vm-extensions";

/// What a finished form says, by its `done=` value.
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "saved" => Some("VM extension saved. Apply Changes puts it in the cloud config (Review lists it among the Director's changes)."),
        "deleted" => Some("VM extension deleted. Apply Changes removes it from the cloud config."),
        _ => None,
    }
}

#[component]
pub fn VmExtensionsPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let rows = page_data::resource(|| (), |_| load_vm_extensions());
    let query = use_query_map();
    let done = move || query.with(|q| q.get("done").and_then(|d| done_message(&d)));
    let asked = move |key: &str| query.with(|q| q.get(key)).filter(|v| !v.is_empty());
    let refusal = refusal_resource();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = user.await.ok();
                let refusal = refusal.await;
                let may_configure = user.as_ref().is_some_and(|u| u.permissions.configure);
                let header = user.map(|user| view! { <Header user/> });
                let (edit, delete) = (asked("edit"), asked("delete"));
                let body = match rows.await {
                    Ok(rows) => {
                        let confirm = may_configure
                            .then(|| delete.and_then(|d| rows.iter().find(|r| r.name == d).map(|r| r.name.clone())))
                            .flatten()
                            .map(confirm_delete);
                        let editing = edit.and_then(|e| rows.iter().find(|r| r.name == e).cloned());
                        view! {
                            {refusal_notice(refusal.as_ref(), "delete")}
                            {confirm}
                            {table(rows, may_configure)}
                            {may_configure.then(|| save_form(editing, refusal.as_ref()))}
                        }
                        .into_any()
                    }
                    Err(err) => view! {
                        <p class="form-error" role="alert">{server_message(&err)}</p>
                    }
                    .into_any(),
                };
                view! {
                    {header}
                    <main class="page narrow settings vm-extensions">
                        <p><a href="/settings">"Settings"</a></p>
                        <h1>"VM extensions"</h1>
                        <p class="muted">"Named cloud properties that a job's resource config adds to its VMs (additional_vm_extensions). They are part of the BOSH Director's configuration: a change is staged, listed by Review, and reaches the cloud config with Apply Changes."</p>
                        {done().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
                        {body}
                    </main>
                }
            })}
        </Transition>
    }
}

fn table(rows: Vec<VmExtensionRow>, may_configure: bool) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="muted empty">"No VM extensions yet."</p> }.into_any();
    }
    view! {
        <table class="vm-extensions-table">
            <thead><tr><th>"Name"</th><th>"Cloud properties"</th><th></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let actions = may_configure.then(|| {
                        let edit = format!("{BASE}?edit={}", row.name);
                        let delete = format!("{BASE}?delete={}", row.name);
                        view! {
                            <a href=edit class="edit">"Edit"</a>" "
                            <a href=delete class="delete danger">"Delete"</a>
                        }
                    });
                    view! {
                        <tr data-name=row.name.clone()>
                            <td class="name">{row.name.clone()}</td>
                            <td><pre class="cloud-properties">{row.cloud_properties}</pre></td>
                            <td>{actions}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The confirmation the Delete link leads to.
fn confirm_delete(name: String) -> impl IntoView {
    let text = format!("Delete the VM extension '{name}'? Jobs may no longer name it; Apply Changes removes it from the cloud config.");
    view! {
        <form method="post" action=BASE class="vm-extension-delete notice" role="alertdialog">
            <input type="hidden" name="form" value="delete"/>
            <input type="hidden" name="name" value=name/>
            <p>{text}</p>
            <button type="submit" class="danger">"Delete"</button>" "
            <a href=BASE>"Cancel"</a>
        </form>
    }
}

fn save_form(editing: Option<VmExtensionRow>, refusal: Option<&FormRefusal>) -> impl IntoView {
    let refused = refusal.filter(|r| r.form == "save");
    let (name, properties) = match (refused, editing) {
        (Some(r), _) => (r.kept("name"), r.kept("cloud_properties")),
        (None, Some(row)) => (row.name, row.cloud_properties),
        (None, None) => (String::new(), "{}".to_owned()),
    };
    view! {
        <form method="post" action=BASE class="vm-extension-save">
            <input type="hidden" name="form" value="save"/>
            <h2>"Create or update a VM extension"</h2>
            <p class="muted">"Saving under an existing name replaces its cloud properties."</p>
            {refusal_notice(refusal, "save")}
            <label>"Name"<input type="text" name="name" value=name required pattern="[A-Za-z0-9._\\-]+"/></label>
            <label>"Cloud properties (a JSON object)"<textarea name="cloud_properties" rows="6" required>{properties}</textarea></label>
            <button type="submit">"Save VM extension"</button>
        </form>
    }
}
