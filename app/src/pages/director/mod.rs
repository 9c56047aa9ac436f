//! The BOSH Director tile's settings (`/director?section=…`): a left navigation marking each
//! section complete or not, and one section at a time. Each section saves all or nothing with
//! the configuration version it started from; after a save the page reloads the settings, so
//! the marks, the other sections' choices (new AZs, networks) and the cloud config are current.

pub mod catalogue;
pub mod form;
pub mod iaas;
pub mod network;
pub mod plain_form;
pub mod resources;
pub mod security;
pub mod syslog;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::director::load_director;
use crate::backend::director::{DirectorPage, DirectorPosted};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::pages::director::catalogue::{CloudConfigSection, DiskTypesSection, VmTypesSection};
use crate::pages::director::form::Section;
use crate::pages::director::iaas::{DirectorConfigSection, IaasSection};
use crate::pages::director::network::{AssignSection, AzsSection, NetworksSection};
use crate::pages::director::plain_form::PlainForm;
use crate::pages::director::resources::ResourceConfigSection;
use crate::pages::director::security::SecuritySection;
use crate::pages::director::syslog::SyslogSection;
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

    // A Security, Syslog or Resource Config form posted without the wasm and refused: the
    // server renders the page again with it (http/director_forms.rs). Read through a resource
    // so that hydration sees it too.
    let refused = use_context::<DirectorPosted>();
    let posted = page_data::once(async move { refused });
    let saved = query.with_untracked(|q| q.get("saved").is_some());

    let user = page_data::resource(|| (), |_| get_current_user());
    let page = page_data::resource(move || (section.get(), reload.get()), |_| load_director());
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
                    let posted = posted.await;
                    match page.await {
                        Ok(page) => view! { <DirectorBody page section=section.get_untracked() notice reload permissions posted saved/> }.into_any(),
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
    /// A refused plain-form post of this page, shown again.
    posted: Option<DirectorPosted>,
    /// `saved=1`: a plain-form section's post was saved.
    saved: bool,
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
    let plain = |s: Section| PlainForm::new(s, posted.clone(), page.config_version, saved);
    let body = match section {
        Section::Security => {
            let form = plain(section);
            view! { <SecuritySection page form/> }.into_any()
        }
        Section::Syslog => {
            let form = plain(section);
            view! { <SyslogSection page form/> }.into_any()
        }
        Section::ResourceConfig => {
            let form = plain(section);
            view! { <ResourceConfigSection page form/> }.into_any()
        }
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
