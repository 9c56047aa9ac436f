//! The Clusters page, `/clusters`: what `pks clusters` shows — every Kubernetes cluster the
//! viewer may see, with its plan, worker count, master host and IPs, last action, its state
//! and description, and when — plus the create form (name, plan, worker count, external
//! hostname; checked against the plan's limits as the operator types, and by the server
//! again) and each cluster's resize, upgrade and delete ([`actions`]). The cluster page is
//! [`detail`].
//!
//! Viewers who may manage every cluster also get "Upgrade all clusters" (the PKS tile's
//! upgrade-all errand as a fleet run) and the latest fleet run's progress.
//!
//! The server renders the list with its data. In the browser the page asks again every two
//! seconds while an operation or a fleet run runs, so a cluster's provisioning, resize,
//! upgrade or deletion shows its progress and its end without a reload.

pub mod actions;
pub mod detail;

use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnError;

use crate::backend::clusters::{
    create_cluster, create_problems, load_clusters_page, upgrade_all_clusters, ClusterSummary,
    ClustersPage, FleetRunSummary, PlanSummary,
};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// How often the browser asks again while an operation runs.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const REFRESH: Duration = Duration::from_secs(2);

/// What the page's actions share: the data to reload, where to say what happened, and
/// whether the page has hydrated (until then the buttons are disabled).
#[derive(Clone, Copy)]
pub struct Ctx {
    pub page: page_data::Data<Result<ClustersPage, ServerFnError>>,
    pub notice: RwSignal<Option<Result<String, String>>>,
    pub hydrated: RwSignal<bool>,
}

impl Ctx {
    /// Runs a call; on success says `done` and reloads the list, else shows the refusal.
    pub fn run<T: 'static>(
        self,
        done: String,
        call: impl std::future::Future<Output = Result<T, ServerFnError>> + 'static,
    ) {
        leptos::task::spawn_local(async move {
            match call.await {
                Ok(_) => {
                    self.notice.set(Some(Ok(done)));
                    self.page.refetch();
                }
                Err(err) => self.notice.set(Some(Err(server_message(&err)))),
            }
        });
    }

    pub fn busy(self) -> impl Fn() -> bool + Copy {
        move || !self.hydrated.get()
    }
}

#[component]
pub fn ClustersListPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(|| (), |_| load_clusters_page());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let ctx = Ctx {
        page,
        notice: RwSignal::new(None),
        hydrated,
    };
    Effect::new(move |_| poll(page));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match page.await {
                    Ok(data) => clusters_body(data, ctx).into_any(),
                    Err(err) => view! {
                        <main class="page narrow">
                            <h1>"Clusters"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                        </main>
                    }
                    .into_any(),
                };
                view! { {header} {body} }
            })}
        </Transition>
    }
}

/// Refetches the list every [`REFRESH`] while a cluster has an operation in progress (in the
/// browser only).
#[cfg(feature = "hydrate")]
fn poll(page: page_data::Data<Result<ClustersPage, ServerFnError>>) {
    let handle = set_interval_with_handle(
        move || {
            let busy = page.get_untracked().and_then(Result::ok).is_some_and(|p| {
                p.clusters.iter().any(ClusterSummary::busy)
                    || p.fleet_run.as_ref().is_some_and(FleetRunSummary::running)
            });
            if busy {
                page.refetch();
            }
        },
        REFRESH,
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }
}

#[cfg(not(feature = "hydrate"))]
fn poll(_page: page_data::Data<Result<ClustersPage, ServerFnError>>) {}

fn clusters_body(data: ClustersPage, ctx: Ctx) -> AnyView {
    let notice = move || {
        ctx.notice.get().map(|n| match n {
            Ok(text) => view! { <p class="notice ok" role="status">{text}</p> }.into_any(),
            Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
        })
    };
    let content = if !data.pks_deployed {
        view! {
            <p class="empty-state not-deployed">
                "The PKS tile is not deployed. Deploy it with Apply Changes; its plans then \
                 show here and clusters can be created."
            </p>
        }
        .into_any()
    } else {
        let fleet = fleet_section(&data, ctx);
        let list = if data.clusters.is_empty() {
            view! { <p class="muted no-clusters">"No clusters yet."</p> }.into_any()
        } else {
            let any_actions = data.clusters.iter().any(|c| c.may_manage);
            let plans = data.plans.clone();
            view! {
                <table class="data clusters-table">
                    <thead>
                        <tr>
                            <th>"Name"</th><th>"Plan"</th><th>"Workers"</th><th>"Master host"</th>
                            <th>"Master IPs"</th><th>"Last action"</th><th>"State"</th>
                            <th>"Description"</th><th>"When"</th>
                            {any_actions.then(|| view! { <th>"Actions"</th> })}
                        </tr>
                    </thead>
                    <tbody>
                        {data
                            .clusters
                            .into_iter()
                            .map(|c| cluster_row(c, &plans, any_actions, ctx))
                            .collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        };
        let form = (data.may_create && !data.plans.is_empty())
            .then(|| create_form(data.plans.clone(), ctx));
        view! { {list} {fleet} {form} }.into_any()
    };
    view! {
        <main class="page clusters" data-hydrated=move || ctx.hydrated.get().then_some("true")>
            <h1>"Clusters"</h1>
            <p class="muted">
                "Kubernetes clusters made by the PKS tile's on-demand broker, as the PKS API \
                 (pks clusters) lists them."
            </p>
            {notice}
            {content}
        </main>
    }
    .into_any()
}

/// When the cluster's last action happened: the relative time the server worked out, the
/// absolute one in the title (and for machines in `datetime`).
pub(crate) fn when(c: &ClusterSummary) -> AnyView {
    match (c.last_action_at.clone(), c.last_action_ago.clone()) {
        (Some(at), ago) => {
            let text = ago.unwrap_or_else(|| at.clone());
            view! { <time datetime=at.clone() title=at>{text}</time> }.into_any()
        }
        (None, _) => "—".into_any(),
    }
}

fn dash(v: Option<String>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or_else(|| "—".into())
}

fn cluster_row(
    c: ClusterSummary,
    plans: &[PlanSummary],
    actions_column: bool,
    ctx: Ctx,
) -> AnyView {
    let href = format!("/clusters/{}", c.name);
    let state_class = format!("state {}", c.last_action_state.replace(' ', "-"));
    let max = plans
        .iter()
        .find(|p| p.name == c.plan_name)
        .map(|p| p.max_worker_instances);
    let actions = actions_column.then(|| {
        let cell = c
            .may_manage
            .then(|| actions::ClusterActions(c.clone(), max, ctx));
        view! { <td class="actions">{cell}</td> }
    });
    let when = when(&c);
    let upgrade = c.upgrade_available.then(|| {
        let why = format!(
            "Upgrade available: {}. Upgrade deploys the plan as the PKS tile has it now.",
            c.upgrade_reason
                .clone()
                .unwrap_or_else(|| "the PKS tile changed".into())
        );
        view! {
            " "
            <span class="badge upgrade-available" title=why>"Upgrade available"</span>
        }
    });
    let ips = if c.master_ips.is_empty() {
        "—".to_owned()
    } else {
        c.master_ips.join(", ")
    };
    view! {
        <tr
            data-cluster=c.name.clone()
            data-state=c.last_action_state.clone()
            data-upgrade-available=c.upgrade_available.then_some("true")
        >
            <td><a href=href>{c.name.clone()}</a></td>
            <td>{c.plan_name.clone()}</td>
            <td class="workers">{c.worker_instances.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td>{dash(c.master_host.clone())}</td>
            <td class="master-ips">{ips}</td>
            <td>{c.last_action.clone()}</td>
            <td class=state_class>{c.last_action_state.clone()}</td>
            <td class="description">{c.last_action_description.clone()}{upgrade}</td>
            <td class="when">{when}</td>
            {actions}
        </tr>
    }
    .into_any()
}

/// "Upgrade all clusters" (for viewers who may manage every cluster) and the latest fleet
/// run: what it does, who started it, how far it got, and which clusters failed.
fn fleet_section(data: &ClustersPage, ctx: Ctx) -> Option<AnyView> {
    let run = data.fleet_run.clone();
    let offer = data.may_upgrade_all && !data.clusters.is_empty();
    if run.is_none() && !offer {
        return None;
    }
    let behind = data.clusters.iter().filter(|c| c.upgrade_available).count();
    let running = run.as_ref().is_some_and(FleetRunSummary::running);
    let button = offer.then(|| {
        let label = match behind {
            0 => "Upgrade all clusters".to_owned(),
            1 => "Upgrade all clusters (1 has an upgrade available)".to_owned(),
            n => format!("Upgrade all clusters ({n} have an upgrade available)"),
        };
        let start = move |_| {
            ctx.run(
                "Upgrading every cluster, one at a time.".to_owned(),
                upgrade_all_clusters(),
            )
        };
        view! {
            <button
                type="button"
                class="upgrade-all"
                disabled=move || ctx.busy()() || running
                on:click=start
            >
                {label}
            </button>
        }
    });
    let progress = run.map(|r| {
        let what = match r.kind.as_str() {
            "upgrade" => "Upgrade all clusters",
            "recreate" => "Recreate all clusters",
            "delete" => "Delete all clusters",
            other => other,
        };
        let state = r.state.replace('_', " ");
        let failed = (!r.failed.is_empty()).then(|| format!(" Failed: {}.", r.failed.join(", ")));
        view! {
            <p class="fleet-run" data-state=r.state.clone() data-run=r.id.to_string()>
                {format!(
                    "{what} (run {}, started by {} at {}): {state}, {} of {} clusters done.",
                    r.id, r.started_by, r.started_at, r.done, r.total
                )}
                {failed}
            </p>
        }
    });
    Some(
        view! {
            <section class="fleet">
                {button}
                {progress}
            </section>
        }
        .into_any(),
    )
}

fn create_form(plans: Vec<PlanSummary>, ctx: Ctx) -> AnyView {
    let first = plans.first().cloned();
    let name = RwSignal::new(String::new());
    let plan = RwSignal::new(first.as_ref().map(|p| p.name.clone()).unwrap_or_default());
    let workers = RwSignal::new(
        first
            .as_ref()
            .and_then(|p| p.worker_instances)
            .unwrap_or(1)
            .to_string(),
    );
    let host = RwSignal::new(String::new());
    // Whether each field has been touched: an empty form shows no complaints yet.
    let touched = RwSignal::new(false);
    let plans = StoredValue::new(plans);
    let problems = move || {
        plans.with_value(|plans| {
            create_problems(plans, &name.get(), &plan.get(), &workers.get(), &host.get())
        })
    };
    let problem = move |field: &'static str| {
        move || {
            touched
                .get()
                .then(|| {
                    problems()
                        .into_iter()
                        .find(|(f, _)| *f == field)
                        .map(|(_, m)| view! { <span class="field-error" role="alert">{m}</span> })
                })
                .flatten()
        }
    };
    let limit = move || {
        plans.with_value(|plans| {
            plans
                .iter()
                .find(|p| p.name == plan.get())
                .map(|p| format!("1 to {}", p.max_worker_instances))
                .unwrap_or_default()
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        touched.set(true);
        if !problems().is_empty() {
            return;
        }
        let (n, p, w, h) = (
            name.get_untracked(),
            plan.get_untracked(),
            workers.get_untracked(),
            host.get_untracked(),
        );
        let done = format!("Creating {n}: provisioning in progress.");
        name.set(String::new());
        host.set(String::new());
        touched.set(false);
        ctx.run(done, create_cluster(n, p, w, h));
    };
    let options = plans.with_value(|plans| {
        plans
            .iter()
            .map(|p| {
                let label = if p.description.is_empty() {
                    p.name.clone()
                } else {
                    format!("{} — {}", p.name, p.description)
                };
                view! { <option value=p.name.clone()>{label}</option> }
            })
            .collect_view()
    });
    let touch = move || touched.set(true);
    view! {
        <section class="create-cluster">
            <h2>"Create a cluster"</h2>
            <form class="cluster-form" on:submit=submit>
                <label>
                    "Name"
                    <input
                        name="name"
                        required
                        prop:value=move || name.get()
                        on:input=move |ev| { name.set(event_target_value(&ev)); touch(); }
                    />
                    {problem("name")}
                </label>
                <label>
                    "Plan"
                    <select name="plan_name" on:change=move |ev| { plan.set(event_target_value(&ev)); touch(); }>
                        {options}
                    </select>
                    {problem("plan_name")}
                </label>
                <label>
                    "Worker nodes"
                    <input
                        name="worker_instances"
                        type="number"
                        min="1"
                        prop:value=move || workers.get()
                        on:input=move |ev| { workers.set(event_target_value(&ev)); touch(); }
                    />
                    <span class="hint">{limit}</span>
                    {problem("worker_instances")}
                </label>
                <label>
                    "External hostname"
                    <input
                        name="external_hostname"
                        placeholder="k8s.example.com"
                        prop:value=move || host.get()
                        on:input=move |ev| { host.set(event_target_value(&ev)); touch(); }
                    />
                    {problem("external_hostname")}
                </label>
                <button
                    type="submit"
                    class="primary"
                    disabled=move || !ctx.hydrated.get() || (touched.get() && !problems().is_empty())
                >
                    "Create cluster"
                </button>
            </form>
        </section>
    }
    .into_any()
}
