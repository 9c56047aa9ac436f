//! A deployed product's Status tab, `/products/:guid/status`: one row per VM (instance group,
//! index, AZ, IPs, state, VM CID, processes, and the agent's vitals), read from the Director.
//! The server renders the first look; in the browser the page asks again every two seconds, so
//! a VM that stops answering shows as unresponsive and then, once the resurrector has
//! recreated it, as running again.
//!
//! Each row has two Logs links, as Ops Manager (3.0.3+) has them: this instance, and its whole
//! instance group. A click queues a log fetch (see [`crate::backend::logs`]); a spinner shows
//! while the Director gathers the logs, then a download link. That state lives in the page, not
//! in the refreshed instance list, so a spinner survives the refreshes.

use std::collections::HashMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::backend::installations::{
    load_product_status, percent_of, InstanceStatus, ProductStatusPage,
};
use crate::backend::logs::{start_log_fetch, LogFetch, LogTarget};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// How often the browser asks the Director again.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const REFRESH: Duration = Duration::from_secs(2);

#[component]
pub fn ProductStatusTab() -> impl IntoView {
    let params = use_params_map();
    let guid = move || params.with(|p| p.get("guid").unwrap_or_default());
    let user = page_data::resource(|| (), |_| get_current_user());
    let status = page_data::resource(guid, load_product_status);
    // How many refreshes have come back, for browser tests (and curious operators).
    let refreshed = RwSignal::new(0u32);
    // The log fetches started on this page, by what they fetch: outside the refreshed list.
    let fetches = RwSignal::new(HashMap::<LogTarget, FetchState>::new());
    Effect::new(move |_| poll(status, refreshed));
    Effect::new(move |_| poll_fetches(fetches));
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let current = user.await.ok();
                let logs = current
                    .as_ref()
                    .is_some_and(|u| u.permissions.see_credentials)
                    .then_some(fetches);
                let header = current.map(|user| view! { <Header user/> });
                let body = match status.await {
                    Ok(page) => view! { <StatusBody page refreshed logs/> }.into_any(),
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
fn poll(
    status: page_data::Data<Result<ProductStatusPage, ServerFnError>>,
    refreshed: RwSignal<u32>,
) {
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
fn poll(
    _status: page_data::Data<Result<ProductStatusPage, ServerFnError>>,
    _refreshed: RwSignal<u32>,
) {
}

#[component]
fn StatusBody(
    page: ProductStatusPage,
    refreshed: RwSignal<u32>,
    /// The page's log fetches; `None` when the role may not have logs (no Logs column).
    logs: Option<RwSignal<HashMap<LogTarget, FetchState>>>,
) -> AnyView {
    let guid = page.guid.clone();
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
                        {logs.is_some().then(|| view! { <th>"Logs"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {page
                        .instances
                        .into_iter()
                        .map(|i| instance_row(i, &guid, logs))
                        .collect_view()}
                </tbody>
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
                <a href=format!("/products/{}/credentials", page.guid)>"Credentials"</a>
            </nav>
            {content}
        </main>
    }
    .into_any()
}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

fn instance_row(
    i: InstanceStatus,
    guid: &str,
    logs: Option<RwSignal<HashMap<LogTarget, FetchState>>>,
) -> AnyView {
    let logs_cell = logs.map(|fetches| {
        let instance = LogTarget {
            instance_group: i.job_name.clone(),
            index: i.index,
        };
        let group = LogTarget {
            instance_group: i.job_name.clone(),
            index: None,
        };
        view! {
            <td class="logs">
                {i.index.map(|_| view! {
                    <LogLink guid=guid.to_owned() target=instance fetches label="Instance" kind="instance"/>
                })}
                <LogLink guid=guid.to_owned() target=group fetches label="Group" kind="group"/>
            </td>
        }
    });
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
            {logs_cell}
        </tr>
    }
    .into_any()
}

/// Where one Logs link stands.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchState {
    /// Asked the server to start it; no answer yet.
    Starting,
    Running(LogFetch),
    Ready(LogFetch),
    Failed(String),
}

/// One Logs link: a button, then a spinner while the logs are gathered, then a download link
/// (or why it failed, with a retry).
#[component]
fn LogLink(
    guid: String,
    target: LogTarget,
    fetches: RwSignal<HashMap<LogTarget, FetchState>>,
    label: &'static str,
    kind: &'static str,
) -> impl IntoView {
    let title = format!("Download the logs of {}", target.describe());
    let key = target.clone();
    let start = move |_| {
        let (guid, target) = (guid.clone(), target.clone());
        fetches.update(|m| {
            m.insert(target.clone(), FetchState::Starting);
        });
        leptos::task::spawn_local(async move {
            let next = match start_log_fetch(guid, target.clone()).await {
                Ok(fetch) => state_of(fetch),
                Err(e) => FetchState::Failed(server_message(&e)),
            };
            fetches.try_update(|m| m.insert(target, next));
        });
    };
    move || {
        let state = fetches.with(|m| m.get(&key).cloned());
        match state {
            None => view! {
                <button type="button" class="link log-link" data-logs=kind title=title.clone() on:click=start.clone()>
                    {label}
                </button>
            }
            .into_any(),
            Some(FetchState::Starting | FetchState::Running(_)) => view! {
                <span class="log-fetching" data-logs=kind role="status" title="Fetching logs from the Director…">
                    <span class="spinner" aria-hidden="true"></span>
                    {label}
                </span>
            }
            .into_any(),
            Some(FetchState::Ready(fetch)) => view! {
                <a class="log-download" data-logs=kind href=fetch.download_url.clone().unwrap_or_default()
                    download=fetch.file_name.clone() title=format!("Download {}", fetch.file_name)>
                    {format!("{label} ⬇")}
                </a>
            }
            .into_any(),
            Some(FetchState::Failed(why)) => view! {
                <button type="button" class="link log-failed" data-logs=kind title=why on:click=start.clone()>
                    {format!("{label}: failed, retry")}
                </button>
            }
            .into_any(),
        }
    }
}

fn state_of(fetch: LogFetch) -> FetchState {
    match fetch.status.as_str() {
        "running" => FetchState::Running(fetch),
        "ready" => FetchState::Ready(fetch),
        _ => FetchState::Failed(
            fetch
                .error
                .unwrap_or_else(|| "the log fetch failed".to_owned()),
        ),
    }
}

/// Asks about running log fetches every second (in the browser only).
#[cfg(feature = "hydrate")]
fn poll_fetches(fetches: RwSignal<HashMap<LogTarget, FetchState>>) {
    let handle = set_interval_with_handle(
        move || {
            let running: Vec<(LogTarget, LogFetch)> = fetches
                .try_with_untracked(|m| {
                    m.iter()
                        .filter_map(|(t, s)| match s {
                            FetchState::Running(f) => Some((t.clone(), f.clone())),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            for (target, fetch) in running {
                leptos::task::spawn_local(async move {
                    let next = match crate::backend::logs::log_fetch_status(
                        fetch.guid.clone(),
                        fetch.id.clone(),
                    )
                    .await
                    {
                        Ok(now) => state_of(now),
                        Err(e) => FetchState::Failed(server_message(&e)),
                    };
                    if !matches!(next, FetchState::Running(_)) {
                        fetches.try_update(|m| m.insert(target, next));
                    }
                });
            }
        },
        Duration::from_secs(1),
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }
}

#[cfg(not(feature = "hydrate"))]
fn poll_fetches(_fetches: RwSignal<HashMap<LogTarget, FetchState>>) {}
