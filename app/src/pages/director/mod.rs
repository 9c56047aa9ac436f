//! The BOSH Director tile's settings (`/director?section=…`): a left navigation marking each
//! section complete or not, and one section at a time. Each section saves all or nothing with
//! the configuration version it started from; after a save the page reloads the settings, so
//! the marks, the other sections' choices (new AZs, networks) and the cloud config are current.

pub mod catalogue;
pub mod form;
pub mod iaas;
pub mod network;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::director::load_director;
use crate::backend::director::DirectorPage;
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::pages::director::catalogue::{CloudConfigSection, DiskTypesSection, VmTypesSection};
use crate::pages::director::form::Section;
use crate::pages::director::iaas::{DirectorConfigSection, IaasSection};
use crate::pages::director::network::{AssignSection, AzsSection, NetworksSection};
use crate::session::get_current_user;

#[component]
pub fn DirectorSettingsPage() -> impl IntoView {
    let query = use_query_map();
    let section = Memo::new(move |_| {
        query
            .with(|q| q.get("section"))
            .and_then(|s| Section::from_slug(&s))
            .unwrap_or(Section::Iaas)
    });
    let reload = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<(bool, String)>);
    // A new section starts without the previous one's notice (a save's reload keeps it).
    Effect::new(move |_| {
        section.track();
        notice.set(None);
    });
    // Set once the wasm bundle has taken over the page; tests wait for it before typing.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let user = Resource::new(|| (), |_| get_current_user());
    let page = Resource::new(move || (section.get(), reload.get()), |_| load_director());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                user.await.ok().map(|user| view! { <Header user/> })
            })}
        </Suspense>
        <main class="page settings director" data-hydrated=move || hydrated.get().to_string()>
            <p class="breadcrumb"><a href="/">"Installation Dashboard"</a> " › BOSH Director"</p>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let permissions = user.await.ok().map(|u| u.permissions);
                    match page.await {
                        Ok(page) => view! { <DirectorBody page section=section.get_untracked() notice reload permissions/> }.into_any(),
                        Err(err) => view! {
                            <h1>"BOSH Director"</h1>
                            <p class="form-error" role="alert">{server_message(&err)}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn DirectorBody(
    page: DirectorPage,
    section: Section,
    notice: RwSignal<Option<(bool, String)>>,
    reload: RwSignal<u32>,
    /// What the role may do: the sections' Save buttons read it.
    permissions: Option<crate::session::Permissions>,
) -> impl IntoView {
    if let Some(permissions) = permissions {
        provide_context(permissions);
    }
    let nav = Section::ALL
        .into_iter()
        .map(|s| {
            let complete = !page
                .problems
                .keys()
                .any(|k| Section::of_key(k) == Some(s));
            let active = s == section;
            let mark = if s == Section::CloudConfig {
                view! { <span class="mark"></span> }.into_any()
            } else {
                view! {
                    <span class=if complete { "mark complete" } else { "mark incomplete" }
                        title=if complete { "complete" } else { "needs configuration" }>
                        {if complete { "✓" } else { "•" }}
                    </span>
                }
                .into_any()
            };
            view! {
                <li class:active=active data-section=s.slug()>
                    <a href=format!("/director?section={}", s.slug()) aria-current=active.then_some("page")>
                        {mark}
                        {s.label()}
                    </a>
                </li>
            }
        })
        .collect_view();
    let (version, credentials) = (
        page.version.clone(),
        format!("/products/{}/credentials", page.guid),
    );
    let body = match section {
        Section::Iaas => view! { <IaasSection page notice reload/> }.into_any(),
        Section::Director => view! { <DirectorConfigSection page notice reload/> }.into_any(),
        Section::Azs => view! { <AzsSection page notice reload/> }.into_any(),
        Section::Networks => view! { <NetworksSection page notice reload/> }.into_any(),
        Section::Assign => view! { <AssignSection page notice reload/> }.into_any(),
        Section::VmTypes => view! { <VmTypesSection page notice reload/> }.into_any(),
        Section::DiskTypes => view! { <DiskTypesSection page notice reload/> }.into_any(),
        Section::CloudConfig => view! { <CloudConfigSection page/> }.into_any(),
    };
    view! {
        <h1>"BOSH Director " <span class="version">{version}</span></h1>
        <div class="settings-layout">
            <nav class="settings-nav" aria-label="Director settings">
                <ul>{nav}<li><a href=credentials><span class="mark-spacer"></span>"Credentials"</a></li></ul>
            </nav>
            {body}
        </div>
    }
}
