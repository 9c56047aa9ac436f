//! The Tileworks UI. Every page is rendered on the server (feature `ssr`) and hydrated in the
//! browser (feature `hydrate`) from this one crate, so markup and behaviour cannot drift apart.

pub mod backend;
pub mod components;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};

/// The HTML document around the app; only the server renders it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                // The stylesheet shares the hydration script's name (`tileworks.<hash>` in a
                // release site), so it is linked here, where the server knows it.
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Every page is rendered whole before it is sent (`SsrMode::Async`): its data is awaited on the
/// server, so the HTML is correct and usable without the wasm (no "Loading…" placeholders for
/// a script to fill in). The pages are small and their data local, so waiting costs little.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Tileworks"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=StaticSegment("") view=pages::dashboard::Dashboard ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view=pages::login::Login ssr=SsrMode::Async/>
                <Route path=StaticSegment("director") view=pages::director::DirectorSettingsPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("installations") view=pages::change_log::ChangeLogPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("installations"), ParamSegment("id")) view=pages::installation::InstallationPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("status")) view=pages::product::status::ProductStatusTab ssr=SsrMode::Async/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("credentials")) view=pages::product::credentials::ProductCredentialsTab ssr=SsrMode::Async/>
                <Route path=StaticSegment("review") view=pages::review::ReviewPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("users") view=pages::users::ManageUsersPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("audit") view=pages::audit::AuditTrailPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("account") view=pages::account::AccountPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("clusters") view=pages::clusters::ClustersListPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("clusters"), ParamSegment("name")) view=pages::clusters::detail::ClusterDetailPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("director"), StaticSegment("changes")) view=pages::changes::DirectorChangesPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("changes")) view=pages::changes::ProductChangesPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("stemcells") view=pages::stemcells::StemcellLibraryPage ssr=SsrMode::Async/>
                <Route path=StaticSegment("settings") view=pages::settings_menu::SettingsMenuPage ssr=SsrMode::Async/>
                <Route path=(StaticSegment("settings"), StaticSegment("certificate-authorities")) view=pages::certificate_authorities::CertificateAuthoritiesPage ssr=SsrMode::Async/>
                <Route
                    path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("settings"))
                    view=pages::product::settings::ProductSettingsPage
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}
