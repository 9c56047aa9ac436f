//! See changes (operator-ux-security.md §1.10): for one product, or the Director, the line diff
//! of what the next Apply Changes would deploy against what is deployed — Manifest, Cloud
//! config (the Director), Runtime configs, and the errand rules — green `+` and red `-` lines,
//! "No changes" where nothing differs. Credentials arrive from the server as `((placeholders))`.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::backend::review::{load_changes, ChangesPage, DiffSection, ErrandRuleChange};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// `/products/:guid/changes`.
#[component]
pub fn ProductChangesPage() -> impl IntoView {
    let params = use_params_map();
    let guid = move || params.with(|p| p.get("guid").unwrap_or_default());
    view! { <Changes guid=Signal::derive(guid)/> }
}

/// `/director/changes`.
#[component]
pub fn DirectorChangesPage() -> impl IntoView {
    view! { <Changes guid=Signal::derive(String::new)/> }
}

#[component]
fn Changes(guid: Signal<String>) -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(move || guid.get(), load_changes);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(user) = user.await else {
                    return crate::components::header::not_logged_in();
                };
                let body = match page.await {
                    Ok(p) => changes_view(p).into_any(),
                    Err(err) => view! {
                        <h1>"See changes"</h1>
                        <p class="form-error" role="alert">{server_message(&err)}</p>
                    }
                    .into_any(),
                };
                view! {
                    <Header user/>
                    <main class="page changes">
                        <p class="breadcrumb"><a href="/review">"Review Pending Changes"</a></p>
                        {body}
                    </main>
                }
                .into_any()
            })}
        </Suspense>
    }
}

fn changes_view(p: ChangesPage) -> impl IntoView {
    let problem = p.problem.clone();
    view! {
        <h1>{format!("Changes: {} v{}", p.label, p.version)}</h1>
        {problem.map(|m| view! {
            <div class="still-needed" role="alert">
                <p>"The staged configuration cannot be rendered yet, so there is nothing to compare:"</p>
                <ul><li>{m}</li></ul>
            </div>
        })}
        {p.manifest.map(|m| view! { <Section title="Manifest".to_owned() section=m/> })}
        {p.cloud_config.map(|c| view! { <Section title="Cloud config".to_owned() section=c/> })}
        {(p.problem.is_none()).then(|| {
            let configs = p.runtime_configs;
            view! {
                <section class="diff-section" aria-label="Runtime configs">
                    <h2>"Runtime configs"</h2>
                    {if configs.is_empty() {
                        view! { <p class="no-changes">"No changes"</p> }.into_any()
                    } else {
                        configs.into_iter().map(|c| {
                            let title = c.name.clone();
                            view! { <Section title section=c level=3/> }
                        }).collect_view().into_any()
                    }}
                </section>
            }
        })}
        {p.errands_status.map(|status| errands_view(status, p.errands))}
    }
    .into_any()
}

fn status_text(status: &str) -> &'static str {
    match status {
        "same" => "No changes",
        "different" => "Changed",
        "to_be_installed" => "To be installed",
        "to_be_deleted" => "To be deleted",
        _ => "Unknown",
    }
}

/// One diff: a heading with its status, then the lines coloured by their prefix.
#[component]
fn Section(title: String, section: DiffSection, #[prop(default = 2)] level: u8) -> impl IntoView {
    let heading = if level == 3 {
        view! { <h3>{title.clone()}</h3> }.into_any()
    } else {
        view! { <h2>{title.clone()}</h2> }.into_any()
    };
    let same = section.status == "same";
    view! {
        <section class="diff-section" aria-label=title.clone() data-status=section.status.clone()>
            {heading}
            {if same {
                view! { <p class="no-changes">"No changes"</p> }.into_any()
            } else {
                view! {
                    <p class=format!("diff-status status-{}", section.status)>{status_text(&section.status)}</p>
                    <pre class="diff">
                        {section.diff.lines().map(|line| {
                            let class = if line.starts_with("+ ") || line == "+" {
                                "diff-line added"
                            } else if line.starts_with("- ") || line == "-" {
                                "diff-line removed"
                            } else if line.starts_with("@@") {
                                "diff-line hunk"
                            } else {
                                "diff-line context"
                            };
                            view! { <span class=class>{line.to_owned()}"\n"</span> }.into_any()
                        }).collect_view()}
                    </pre>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

fn errands_view(status: String, errands: Vec<ErrandRuleChange>) -> impl IntoView {
    let rule = |r: &Option<String>| r.clone().unwrap_or_else(|| "—".into());
    let same = status == "same";
    view! {
        <section class="diff-section" aria-label="Errands" data-status=status.clone()>
            <h2>"Errands"</h2>
            {if same || errands.is_empty() {
                view! { <p class="no-changes">"No changes"</p> }.into_any()
            } else {
                view! {
                    <table class="resources errand-changes">
                        <thead>
                            <tr>
                                <th>"Errand"</th>
                                <th>"Post-deploy (deployed → staged)"</th>
                                <th>"Pre-delete (deployed → staged)"</th>
                                <th>"Status"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {errands.into_iter().map(|e| {
                                let changed = e.status != "same";
                                view! {
                                    <tr class:changed=changed data-errand=e.name.clone()>
                                        <td>{e.label.clone()}</td>
                                        <td>{format!("{} → {}", rule(&e.post_deploy.1), rule(&e.post_deploy.0))}</td>
                                        <td>{format!("{} → {}", rule(&e.pre_delete.1), rule(&e.pre_delete.0))}</td>
                                        <td>{status_text(&e.status)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}
