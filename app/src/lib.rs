//! The Tileworks UI. Every page is rendered on the server (feature `ssr`) and hydrated in the
//! browser (feature `hydrate`) from this one crate, so markup and behaviour cannot drift apart.

pub mod backend;
pub mod components;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, StaticSegment,
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
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="tileworks-css" href="/pkg/tileworks.css"/>
        <Title text="Tileworks"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=StaticSegment("") view=pages::dashboard::Dashboard/>
                <Route path=StaticSegment("login") view=pages::login::Login/>
                <Route path=StaticSegment("director") view=pages::director::DirectorSettingsPage/>
                <Route path=StaticSegment("installations") view=pages::change_log::ChangeLogPage/>
                <Route path=(StaticSegment("installations"), ParamSegment("id")) view=pages::installation::InstallationPage/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("status")) view=pages::product::status::ProductStatusTab/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("credentials")) view=pages::product::credentials::ProductCredentialsTab/>
                <Route path=StaticSegment("review") view=pages::review::ReviewPage/>
                <Route path=StaticSegment("users") view=pages::users::ManageUsersPage/>
                <Route path=StaticSegment("audit") view=pages::audit::AuditTrailPage/>
                <Route path=StaticSegment("account") view=pages::account::AccountPage/>
                <Route path=StaticSegment("clusters") view=pages::clusters::ClustersListPage/>
                <Route path=(StaticSegment("clusters"), ParamSegment("name")) view=pages::clusters::detail::ClusterDetailPage/>
                <Route path=(StaticSegment("director"), StaticSegment("changes")) view=pages::changes::DirectorChangesPage/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("changes")) view=pages::changes::ProductChangesPage/>
                <Route
                    path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("settings"))
                    view=pages::product::settings::ProductSettingsPage
                />
            </Routes>
        </Router>
    }
}
