//! The Installation Dashboard: the Director tile, the staged products (orange while their
//! configuration is incomplete, green when deployable), the products available to stage, and
//! Import Product.

pub mod import;

use leptos::prelude::*;

use crate::backend::products::{
    delete_available_product, load_dashboard, stage_product, unstage_product,
};
use crate::backend::products::{AvailableProduct, TileSummary};
use crate::backend::Problem;
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::components::problems::ProblemItem;
use crate::page_data;
use crate::pages::dashboard::import::{ImportProduct, ImportStatus};
use crate::session::get_current_user;

#[component]
pub fn Dashboard() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let refresh = RwSignal::new(0u32);
    let dashboard = page_data::resource(move || refresh.get(), |_| load_dashboard());
    let reload = Callback::new(move |_: ()| refresh.update(|n| *n += 1));
    let action_error = RwSignal::new(None::<String>);
    let import_status = RwSignal::new(ImportStatus::Idle);

    let stage = Action::new(move |(name, version): &(String, String)| {
        stage_product(name.clone(), version.clone())
    });
    let unstage = Action::new(move |guid: &String| unstage_product(guid.clone()));
    let delete = Action::new(move |(name, version): &(String, String)| {
        delete_available_product(name.clone(), version.clone())
    });
    Effect::new(move |_| {
        let outcomes = [
            stage.value().get().map(|r| r.map(|_| ())),
            unstage.value().get(),
            delete.value().get(),
        ];
        for outcome in outcomes.into_iter().flatten() {
            match outcome {
                Ok(()) => reload.run(()),
                Err(err) => action_error.set(Some(server_message(&err))),
            }
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(user) = user.await else {
                    return crate::components::header::not_logged_in();
                };
                // Offer only what the role may do (the server refuses the rest regardless).
                let may_configure = user.permissions.configure;
                view! {
                    <Header user/>
                    <main class="page dashboard">
                        <div class="page-title">
                            <h1>"Installation Dashboard"</h1>
                            <a class="primary-link" href="/review">"Review Pending Changes"</a>
                        </div>
                        {move || action_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                        <Transition fallback=|| view! { <p class="loading">"Loading products…"</p> }>
                            {move || Suspend::new(async move {
                                match dashboard.await {
                                    Ok(d) => {
                                        let empty = d.staged.is_empty();
                                        // Set once the browser has hydrated these controls
                                        // (effects never run on the server, and this one runs
                                        // after the view below is hydrated): clicks before that
                                        // do nothing. Browser tests wait for it.
                                        let hydrated = RwSignal::new(false);
                                        Effect::new(move |_| hydrated.set(true));
                                        view! {
                                            <div class="dashboard-layout" data-hydrated=move || hydrated.get().then_some("true")>
                                                <aside class="available" aria-label="Available products">
                                                    <h2>"Available products"</h2>
                                                    {d.available.is_empty().then(|| view! { <p class="muted">"No products imported yet."</p> })}
                                                    <ul>
                                                        {d.available.into_iter().map(|p| available_row(p, may_configure, stage, delete)).collect_view()}
                                                    </ul>
                                                    {may_configure.then(|| view! { <ImportProduct on_imported=reload status=import_status/> })}
                                                </aside>
                                                <section class="tiles" aria-label="Products">
                                                    <div class="tile-wrap"><Tile tile=d.director href="/director".to_string()/></div>
                                                    {d.staged.into_iter().map(|t| {
                                                        let href = format!("/products/{}/settings", t.guid);
                                                        let guid = t.guid.clone();
                                                        // A deployed product is deleted by Apply
                                                        // Changes (the same call stages it); a
                                                        // never-deployed one is only unstaged.
                                                        let deleting = t.action == "delete";
                                                        let remove = if t.is_deployed() { "Delete" } else { "Unstage" };
                                                        let label = format!("{remove} {}", t.label);
                                                        view! {
                                                            <div class="tile-wrap">
                                                                <Tile tile=t href/>
                                                                {(may_configure && !deleting).then(|| view! {
                                                                    <button type="button" class="link danger" aria-label=label
                                                                        on:click=move |_| { unstage.dispatch(guid.clone()); }>
                                                                        {remove}
                                                                    </button>
                                                                })}
                                                            </div>
                                                        }
                                                    }).collect_view()}
                                                </section>
                                            </div>
                                            {empty.then(|| view! {
                                                <section class="empty-state" aria-label="Staged products">
                                                    <h2>"No products staged yet"</h2>
                                                    <p>"Stage an available product with its + button to configure it here, or import a .pivotal file."</p>
                                                </section>
                                            })}
                                        }
                                        .into_any()
                                    }
                                    Err(err) => view! { <p class="form-error" role="alert">{server_message(&err)}</p> }.into_any(),
                                }
                            })}
                        </Transition>
                    </main>
                }
                .into_any()
            })}
        </Suspense>
    }
}

fn available_row(
    p: AvailableProduct,
    may_configure: bool,
    stage: Action<(String, String), Result<String, ServerFnError>>,
    delete: Action<(String, String), Result<(), ServerFnError>>,
) -> impl IntoView {
    let key = (p.name.clone(), p.version.clone());
    let delete_key = key.clone();
    let label = format!("{} {}", p.label, p.version);
    view! {
        <li class="available-product" data-product=p.name.clone()>
            <span class="name">{p.label.clone()}</span>
            <span class="version">{p.version.clone()}</span>
            {if p.staged {
                view! { <span class="staged-badge">"staged"</span> }.into_any()
            } else if !may_configure {
                ().into_any()
            } else {
                view! {
                    <button type="button" class="stage" title=format!("Stage {label}") aria-label=format!("Stage {label}")
                        on:click=move |_| { stage.dispatch(key.clone()); }>"+"</button>
                    <button type="button" class="link danger" aria-label=format!("Delete {label}")
                        on:click=move |_| { delete.dispatch(delete_key.clone()); }>"Delete"</button>
                }
                .into_any()
            }}
        </li>
    }
}

/// Where a product stands against its last deploy, for a deployed one: its class and words.
fn deploy_state(action: &str) -> Option<(&'static str, &'static str)> {
    match action {
        "unchanged" => Some(("deployed", "Deployed")),
        "update" => Some(("pending", "Pending changes")),
        "delete" => Some(("deleting", "Deletion staged: Apply Changes deletes it")),
        _ => None,
    }
}

/// A product tile: green when deployable, orange while not, with the first reasons below it,
/// each linking to the field that needs attention (links cannot sit inside the tile's own).
#[component]
fn Tile(tile: TileSummary, href: String) -> impl IntoView {
    let complete = tile.is_complete();
    // A tile has room for a few reasons; the settings pages show them all.
    const SHOWN: usize = 3;
    let more = tile.incomplete_reasons.len().saturating_sub(SHOWN);
    let reasons: Vec<Problem> = tile
        .incomplete_reasons
        .iter()
        .take(SHOWN)
        .cloned()
        .collect();
    let guid = tile.guid.clone();
    view! {
        <a class="tile" class:tile-incomplete=!complete class:tile-complete=complete
            href=href data-product=tile.name.clone() data-guid=tile.guid.clone()>
            <h3>{tile.label.clone()}</h3>
            <p class="tile-version">{tile.version.clone()}</p>
            {deploy_state(&tile.action).map(|(class, text)| view! { <p class=format!("tile-deployed {class}")>{text}</p> })}
            {if complete && tile.is_deployed() {
                ().into_any()
            } else if complete {
                view! { <p class="tile-state">"Ready to deploy"</p> }.into_any()
            } else {
                view! { <p class="tile-state">"Configuration required"</p> }.into_any()
            }}
        </a>
        {(!complete).then(|| view! {
            <ul class="tile-reasons" data-guid=guid>
                {reasons.into_iter().map(|problem| view! { <ProblemItem problem/> }).collect_view()}
                {(more > 0).then(|| view! { <li class="more">{format!("and {more} more")}</li> })}
            </ul>
        })}
    }
}
