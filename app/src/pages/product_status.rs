//! A deployed product's Status tab, `/products/:guid/status`: one row per VM (instance group,
//! index, AZ, IPs, state, VM CID, processes, and the agent's vitals), read from the Director.
//! The server renders the first look; in the browser the page asks again every two seconds, so
//! a VM that stops answering shows as unresponsive and then, once the resurrector has
//! recreated it, as running again.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::header::Header;
use crate::installations_backend::{
    load_product_status, percent_of, InstanceStatus, ProductStatusPage,
};
use crate::pages::product_settings::server_message;
use crate::session::get_current_user;

/// How often the browser asks the Director again.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const REFRESH: Duration = Duration::from_secs(2);

#[component]
pub fn ProductStatusTab() -> impl IntoView {
    let params = use_params_map();
    let guid = move || params.with(|p| p.get("guid").unwrap_or_default());
    let user = Resource::new(|| (), |_| get_current_user());
    let status = Resource::new(guid, load_product_status);
    // How many refreshes have come back, for browser tests (and curious operators).
    let refreshed = RwSignal::new(0u32);
    Effect::new(move |_| poll(status, refreshed));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match status.await {
                    Ok(page) => view! { <StatusBody page refreshed/> }.into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Status not available"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                            <p><a href="/">"Back to the Installation Dashboard"</a></p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

/// Refetches the status every [`REFRESH`] in the browser (never on the server).
#[cfg(feature = "hydrate")]
fn poll(status: Resource<Result<ProductStatusPage, ServerFnError>>, refreshed: RwSignal<u32>) {
    let handle = set_interval_with_handle(
        move || {
            status.refetch();
            refreshed.try_update(|n| *n += 1);
        },
        REFRESH,
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }
}

#[cfg(not(feature = "hydrate"))]
fn poll(_status: Resource<Result<ProductStatusPage, ServerFnError>>, _refreshed: RwSignal<u32>) {}

#[component]
fn StatusBody(page: ProductStatusPage, refreshed: RwSignal<u32>) -> AnyView {
    let settings = format!("/products/{}/settings", page.guid);
    let content = if !page.deployed {
        view! { <p class="empty-state not-deployed">"Not deployed yet. Apply Changes to deploy this product, then its VMs show here."</p> }.into_any()
    } else if page.instances.is_empty() {
        view! { <p class="muted">"The deployment has no VMs."</p> }.into_any()
    } else {
        view! {
            <table class="data status-table">
                <thead>
                    <tr>
                        <th>"Job"</th><th>"Index"</th><th>"AZ"</th><th>"IPs"</th><th>"State"</th>
                        <th>"VM CID"</th><th>"Processes"</th><th>"Load avg (1/5/15)"</th><th>"CPU"</th>
                        <th>"Memory"</th><th>"Swap"</th><th>"System disk"</th><th>"Ephemeral disk"</th>
                        <th>"Persistent disk"</th>
                    </tr>
                </thead>
                <tbody>{page.instances.into_iter().map(instance_row).collect_view()}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <main class="page product-status" data-refreshed=move || refreshed.get().to_string()>
            <p class="breadcrumb"><a href="/">"Installation Dashboard"</a> " › "
                <a href=settings.clone()>{page.label.clone()}</a> " › Status"</p>
            <h1>{page.label.clone()} " — Status"</h1>
            <nav class="tabs" aria-label="Product">
                <a href=settings>"Settings"</a>
                <a class="active" aria-current="page" href=format!("/products/{}/status", page.guid)>"Status"</a>
            </nav>
            {content}
        </main>
    }
    .into_any()
}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

fn instance_row(i: InstanceStatus) -> AnyView {
    let state_class = format!(
        "vm-state state-{}",
        i.job_state.replace(' ', "-").to_lowercase()
    );
    let processes = i
        .processes
        .iter()
        .map(
            |p| view! { <li data-state=p.state.clone()>{format!("{} ({})", p.name, p.state)}</li> },
        )
        .collect_view();
    view! {
        <tr data-instance=i.name() data-state=i.job_state.clone()>
            <td>{i.job_name.clone()}</td>
            <td>{i.index.map(|n| n.to_string()).unwrap_or_else(|| i.id.clone())}</td>
            <td>{dash(i.az_name.clone())}</td>
            <td>{dash(Some(i.ips.join(", ")))}</td>
            <td class=state_class>{i.job_state.clone()}</td>
            <td class="cid">{dash(i.cid.clone())}</td>
            <td><ul class="processes">{processes}</ul></td>
            <td>{dash(Some(i.load_avg.join(" / ")))}</td>
            <td>{dash(i.cpu_percent().map(|c| format!("{c}%")))}</td>
            <td>{dash(percent_of(&i.memory))}</td>
            <td>{dash(percent_of(&i.swap))}</td>
            <td>{dash(percent_of(&i.system_disk))}</td>
            <td>{dash(percent_of(&i.ephemeral_disk))}</td>
            <td>{dash(percent_of(&i.persistent_disk))}</td>
        </tr>
    }
    .into_any()
}
