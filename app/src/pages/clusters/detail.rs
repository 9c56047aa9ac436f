//! The cluster page, `/clusters/{name}`: the cluster's summary; its VMs as the Director
//! reports them (masters spread over the plan's AZs, then workers) with their state and the
//! resurrector's work (a VM the Director recreated after its agent stopped answering says so);
//! the kubeconfig download for viewers who may manage the cluster (the server refuses it to
//! everyone else, the view roles included); the plan settings its manifest could not carry
//! (the service adapter's warnings); its operation history; the Director's events for its
//! deployment; and its manifest, every credential a `((placeholder))`.
//!
//! The server renders it with its data; in the browser it asks again every two seconds, so an
//! operation's progress and a VM's healing show without a reload.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::backend::clusters::{
    load_cluster_page, ClusterEvent, ClusterOperationSummary, ClusterPage, ClusterVm,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const REFRESH: Duration = Duration::from_secs(2);

#[component]
pub fn ClusterDetailPage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.with(|p| p.get("name").unwrap_or_default());
    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(name, load_cluster_page);
    let refreshed = RwSignal::new(0u32);
    Effect::new(move |_| poll(page, refreshed));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match page.await {
                    Ok(data) => cluster_body(data, refreshed).into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Cluster not available"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                            <p><a href="/clusters">"Back to the clusters"</a></p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

#[cfg(feature = "hydrate")]
fn poll(page: page_data::Data<Result<ClusterPage, ServerFnError>>, refreshed: RwSignal<u32>) {
    let handle = set_interval_with_handle(
        move || {
            page.refetch();
            refreshed.try_update(|n| *n += 1);
        },
        REFRESH,
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }
}

#[cfg(not(feature = "hydrate"))]
fn poll(_page: page_data::Data<Result<ClusterPage, ServerFnError>>, _refreshed: RwSignal<u32>) {}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

fn cluster_body(page: ClusterPage, refreshed: RwSignal<u32>) -> AnyView {
    let c = page.cluster;
    let kubeconfig = c.may_manage.then(|| {
        let href = format!("/clusters/{}/kubeconfig", c.name);
        view! {
            <p class="kubeconfig">
                <a class="button" href=href download=format!("{}-kubeconfig.yml", c.name)>
                    "Download kubeconfig"
                </a>
                <span class="muted">" (an admin token for this cluster)"</span>
            </p>
        }
    });
    let azs = {
        let mut azs: Vec<String> = page
            .vms
            .iter()
            .filter(|v| v.group == "master")
            .filter_map(|v| v.az.clone())
            .collect();
        azs.sort();
        azs.dedup();
        azs
    };
    let vms = if page.vms.is_empty() {
        view! { <p class="muted">"No VMs (the cluster is being created, or deleted)."</p> }
            .into_any()
    } else {
        view! {
            <table class="data cluster-vms">
                <thead>
                    <tr>
                        <th>"Instance"</th><th>"AZ"</th><th>"IPs"</th><th>"VM CID"</th>
                        <th>"State"</th><th>"Healing"</th>
                    </tr>
                </thead>
                <tbody>{page.vms.into_iter().map(vm_row).collect_view()}</tbody>
            </table>
        }
        .into_any()
    };
    // Said once here rather than once per operation in the server log.
    let adapter_warnings = (!page.adapter_warnings.is_empty()).then(|| {
        view! {
            <section class="adapter-warnings" id="adapter-warnings">
                <h2>"Plan settings not applied"</h2>
                <p class="muted">
                    "The service adapter could not carry these settings of the cluster's plan \
                     into its manifest (the kubo release it deploys has no place for them):"
                </p>
                <ul class="adapter-warnings">
                    {page.adapter_warnings.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
                </ul>
            </section>
        }
    });
    let manifest = match page.manifest {
        Some(text) => view! { <pre class="manifest">{text}</pre> }.into_any(),
        None => view! { <p class="muted">"No manifest yet."</p> }.into_any(),
    };
    view! {
        <main
            class="page cluster"
            data-cluster=c.name.clone()
            data-state=c.last_action_state.clone()
            data-refreshed=move || refreshed.get().to_string()
        >
            <p class="breadcrumb"><a href="/clusters">"Clusters"</a> " › " {c.name.clone()}</p>
            <h1>{c.name.clone()}</h1>
            <dl class="cluster-summary">
                <dt>"Plan"</dt><dd>{c.plan_name.clone()}</dd>
                <dt>"UUID"</dt><dd class="uuid">{c.uuid.clone()}</dd>
                <dt>"Worker nodes"</dt>
                <dd>{c.worker_instances.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Master host"</dt><dd>{dash(c.master_host.clone())}</dd>
                <dt>"Master IPs"</dt><dd>{if c.master_ips.is_empty() { "—".to_owned() } else { c.master_ips.join(", ") }}</dd>
                <dt>"Master AZs"</dt><dd class="master-azs">{if azs.is_empty() { "—".to_owned() } else { azs.join(", ") }}</dd>
                <dt>"Last action"</dt>
                <dd class="last-action">{c.last_action.clone()} " " {c.last_action_state.clone()} ": " {c.last_action_description.clone()}</dd>
                <dt>"When"</dt><dd class="when">{super::when(&c)}</dd>
                <dt>"Created by"</dt><dd>{dash(c.created_by.clone())}</dd>
                {c.upgrade_available.then(|| view! {
                    <dt>"Upgrade"</dt>
                    <dd class="upgrade-available">
                        "Upgrade available: "
                        {c.upgrade_reason.clone().unwrap_or_else(|| "the PKS tile changed".into())}
                        " (Upgrade on the Clusters page deploys it)"
                    </dd>
                })}
            </dl>
            {kubeconfig}
            {adapter_warnings}
            <h2>"VMs"</h2>
            {vms}
            <h2>"Operations"</h2>
            <table class="data cluster-operations">
                <thead><tr><th>"Action"</th><th>"State"</th><th>"Description"</th><th>"Started"</th><th>"Finished"</th><th>"Director task"</th></tr></thead>
                <tbody>{page.operations.into_iter().map(operation_row).collect_view()}</tbody>
            </table>
            <h2>"Director events"</h2>
            {if page.events.is_empty() {
                view! { <p class="muted">"No events."</p> }.into_any()
            } else {
                view! {
                    <table class="data cluster-events">
                        <thead><tr><th>"Time"</th><th>"User"</th><th>"Action"</th><th>"Object"</th><th>"Instance"</th><th>"Task"</th><th>"Error"</th></tr></thead>
                        <tbody>{page.events.into_iter().map(event_row).collect_view()}</tbody>
                    </table>
                }
                .into_any()
            }}
            <h2>"Manifest"</h2>
            <p class="muted">"Credentials show as ((placeholders)): the Director's config server holds their values."</p>
            {manifest}
        </main>
    }
    .into_any()
}

fn vm_row(v: ClusterVm) -> AnyView {
    let label = match v.index {
        Some(i) => format!("{}/{} ({})", v.group, i, v.id),
        None => format!("{}/{}", v.group, v.id),
    };
    let healing = if v.resurrections == 0 {
        "—".to_owned()
    } else {
        format!(
            "resurrected {}× (last {})",
            v.resurrections,
            dash(v.last_resurrected.clone())
        )
    };
    let az_attr = v.az.clone().unwrap_or_default();
    view! {
        <tr data-group=v.group.clone() data-az=az_attr data-instance=v.id.clone()
            data-resurrected=(v.resurrections > 0).then_some("true")>
            <td>{label}</td>
            <td>{dash(v.az)}</td>
            <td>{v.ips.join(", ")}</td>
            <td class="cid">{dash(v.vm_cid)}</td>
            <td class="job-state">{dash(Some(v.job_state))}</td>
            <td class="healing">{healing}</td>
        </tr>
    }
    .into_any()
}

fn operation_row(o: ClusterOperationSummary) -> AnyView {
    view! {
        <tr>
            <td>{o.action}</td>
            <td>{o.state}</td>
            <td>{o.description}</td>
            <td><time>{o.started_at}</time></td>
            <td><time>{dash(o.finished_at)}</time></td>
            <td>{o.task_id.map(|t| t.to_string()).unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
    .into_any()
}

fn event_row(e: ClusterEvent) -> AnyView {
    let object = match e.object_name {
        Some(n) => format!("{} {n}", e.object_type),
        None => e.object_type,
    };
    let (action_attr, user_attr) = (e.action.clone(), e.user.clone());
    view! {
        <tr class="event" data-action=action_attr data-user=user_attr>
            <td><time>{e.time}</time></td>
            <td>{e.user}</td>
            <td>{e.action}</td>
            <td>{object}</td>
            <td>{dash(e.instance)}</td>
            <td>{dash(e.task)}</td>
            <td>{dash(e.error)}</td>
        </tr>
    }
    .into_any()
}
