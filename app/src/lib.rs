//! The Tileworks UI. Every page is rendered on the server (feature `ssr`) and hydrated in the
//! browser (feature `hydrate`) from this one crate, so markup and behaviour cannot drift apart.

pub mod backend;
pub mod components;
pub mod page_data;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    Lazy, LazyRoute, ParamSegment, SsrMode, StaticSegment,
};

/// The HTML document around the app; only the server renders it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(manifest) = split_manifest(&options) {
        provide_context(manifest);
    }
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

/// The lazy pages' modules, from `pkg/split-manifest.json` (written by `scripts/build-site.sh`),
/// read once: the pkg path, the loader script's name as served, and per split (wasm-split's name,
/// `<group>_<hash>`) the modules it loads. Provided as a context by `shell`, read by
/// `preload_group` when a lazy page renders. No manifest (a site built before splitting, or a
/// test site): no preload links, the modules still load when needed.
#[cfg(feature = "ssr")]
#[derive(Clone, Copy)]
struct SplitManifest(&'static SplitFiles);

#[cfg(feature = "ssr")]
#[derive(serde::Deserialize)]
struct SplitFiles {
    #[serde(skip)]
    pkg: String,
    loader: String,
    preloads: std::collections::HashMap<String, Vec<String>>,
}

#[cfg(feature = "ssr")]
fn split_manifest(options: &LeptosOptions) -> Option<SplitManifest> {
    use std::sync::OnceLock;

    static MANIFEST: OnceLock<Option<SplitFiles>> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let path = std::path::Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.as_ref())
                .join("split-manifest.json");
            let text = std::fs::read_to_string(&path).ok()?;
            match serde_json::from_str::<SplitFiles>(&text) {
                Ok(files) => Some(SplitFiles {
                    pkg: format!("/{}", options.site_pkg_dir),
                    ..files
                }),
                Err(error) => {
                    leptos::logging::error!("{}: {error}", path.display());
                    None
                }
            }
        })
        .as_ref()
        .map(SplitManifest)
}

/// Server side of a lazy page's render: `<link rel="preload">`s in the head for the modules of
/// the page's group (its shared chunks and its own module) and a `modulepreload` for the loader
/// script, so the browser fetches them alongside the main module instead of after hydration
/// reaches the page. leptos_meta's `Link` rendered with `to_html` only registers the link with
/// the head (the pages are rendered whole before they are sent, `SsrMode::Async`), and nothing
/// of it is part of the page's own HTML, so hydration is not affected.
///
/// Not Leptos's own mechanism (a `WasmSplitManifest` context, which leptos_integration_utils
/// reads after the render together with the lazy functions the render recorded): with it the
/// responses had no preload links at all. That code reads the context outside the response's
/// reactive owner, which is the likely reason (not investigated further).
#[cfg(feature = "ssr")]
fn preload_group(group: &str) {
    use leptos_meta::Link;

    let Some(SplitManifest(files)) = use_context::<SplitManifest>() else {
        return;
    };
    // wasm-split names a split `<function name>_<hash of the macro's call site>`.
    let modules = files.preloads.iter().find_map(|(split, modules)| {
        let hash = split.strip_prefix(group)?.strip_prefix('_')?;
        hash.bytes().all(|b| b.is_ascii_digit()).then_some(modules)
    });
    let Some(modules) = modules else {
        return;
    };
    // `crossorigin="anonymous"`: the loader fetches the modules with `fetch`'s defaults (CORS
    // mode, same-origin credentials), which a preload must match to be used. (Leptos's own
    // hydration links put the CSP nonce in that attribute, which browsers read as `anonymous`.)
    for module in modules {
        _ = view! {
            <Link
                rel="preload"
                href=format!("{}/{module}.wasm", files.pkg)
                as_="fetch"
                type_="application/wasm"
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
    _ = view! {
        <Link rel="modulepreload" href=format!("{}/{}", files.pkg, files.loader) crossorigin="anonymous"/>
    }
    .to_html();
}

/// Declares a group of pages whose browser code is split out of the main wasm (issue 12): one
/// `#[lazy]` function renders any page of the group, so in the browser the group's code (and
/// whatever only it uses) is a module of its own, fetched when one of its pages is first shown,
/// and the dashboard does not download the form engine. `scripts/build-site.sh` runs
/// `wasm-split-cli` between the Rust build and wasm-bindgen. Each page is a lazy route whose
/// view awaits the group's function. On the server the function runs directly, and the view
/// adds preload links for the group's modules to the response's head (`preload_group`).
///
/// Groups rather than one module per page: code that several split modules share goes into a
/// chunk per set of modules that need it, and 17 page modules made ~300 chunks (up to 166 for
/// one page, each a request); a handful of groups keeps a page to a few files.
///
/// `$preload` must be `__preload_$group`, the function `#[leptos::lazy]` generates beside the
/// group's function in the browser build: it fetches and instantiates the group's modules. Each
/// route's `LazyRoute::preload` awaits it (what `#[leptos_router::lazy_route]` generates for a
/// single route). The router awaits `preload` before it hydrates or renders the route, so
/// `view`'s await is already resolved when hydration polls it once: without the preload, a
/// direct load of a lazy page found its group's code not yet loaded, hydrated the route's
/// `Suspend` as empty against the server's HTML and panicked (hydration mismatch).
macro_rules! lazy_pages {
    ($group:ident, $preload:ident, $pages:ident { $($route:ident => $page:path),* $(,)? }) => {
        // The variants share their names with the route types (`…Route`), one per route.
        #[allow(clippy::enum_variant_names)]
        #[derive(Clone, Copy)]
        enum $pages {
            $($route),*
        }

        #[leptos::lazy]
        fn $group(page: $pages) -> AnyView {
            match page {
                $($pages::$route => $page().into_any()),*
            }
        }

        $(
            struct $route;

            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                async fn view(_: Self) -> AnyView {
                    #[cfg(feature = "ssr")]
                    preload_group(stringify!($group));
                    $group($pages::$route).await
                }

                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )*
    };
}

// The form engine: a tile's settings forms and the Director's (tiles validation, widgets).
lazy_pages!(form_pages, __preload_form_pages, FormPage {
    ProductSettingsRoute => pages::product::settings::ProductSettingsPage,
    DirectorRoute => pages::director::DirectorSettingsPage,
});
// A product's other tabs and the pending-changes pages.
lazy_pages!(product_pages, __preload_product_pages, ProductPage {
    ProductStatusRoute => pages::product::status::ProductStatusTab,
    ProductCredentialsRoute => pages::product::credentials::ProductCredentialsTab,
    ProductChangesRoute => pages::changes::ProductChangesPage,
    DirectorChangesRoute => pages::changes::DirectorChangesPage,
});
// Applying changes: Review, the Change Log and one installation's log.
lazy_pages!(installation_pages, __preload_installation_pages, InstallationPage {
    ReviewRoute => pages::review::ReviewPage,
    ChangeLogRoute => pages::change_log::ChangeLogPage,
    InstallationRoute => pages::installation::InstallationPage,
});
// The on-demand broker's clusters.
lazy_pages!(cluster_pages, __preload_cluster_pages, ClusterPage {
    ClustersRoute => pages::clusters::ClustersListPage,
    ClusterDetailRoute => pages::clusters::detail::ClusterDetailPage,
});
// Administration: users, audit trail, account, settings, certificate authorities, stemcells.
lazy_pages!(admin_pages, __preload_admin_pages, AdminPage {
    UsersRoute => pages::users::ManageUsersPage,
    AuditRoute => pages::audit::AuditTrailPage,
    AccountRoute => pages::account::AccountPage,
    SettingsMenuRoute => pages::settings_menu::SettingsMenuPage,
    CertificateAuthoritiesRoute => pages::certificate_authorities::CertificateAuthoritiesPage,
    StemcellsRoute => pages::stemcells::StemcellLibraryPage,
    SslCertificateRoute => pages::ssl_certificate::SslCertificatePage,
    VmExtensionsRoute => pages::vm_extensions::VmExtensionsPage,
    DecryptionPassphraseRoute => pages::decryption_passphrase::DecryptionPassphrasePage,
});

/// Every page is rendered whole before it is sent (`SsrMode::Async`): its data is awaited on the
/// server, so the HTML is correct and usable without the wasm (no "Loading…" placeholders for
/// a script to fill in). The pages are small and their data local, so waiting costs little.
///
/// The dashboard, the login page and the not-found page are in the main wasm (the first page
/// after login must not wait for a second download); every other page is a lazy route
/// (`lazy_pages!`), which the browser hydrates once its group's modules have arrived
/// (`leptos::mount::hydrate_lazy` in the frontend crate).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="Tileworks"/>
        <Router>
            <Routes fallback=pages::not_found::NotFound>
                <Route path=StaticSegment("") view=pages::dashboard::Dashboard ssr=SsrMode::Async/>
                <Route path=StaticSegment("login") view=pages::login::Login ssr=SsrMode::Async/>
                <Route path=StaticSegment("director") view={Lazy::<DirectorRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("installations") view={Lazy::<ChangeLogRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("installations"), ParamSegment("id")) view={Lazy::<InstallationRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("status")) view={Lazy::<ProductStatusRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("credentials")) view={Lazy::<ProductCredentialsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("review") view={Lazy::<ReviewRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("account") view={Lazy::<AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("clusters") view={Lazy::<ClustersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("clusters"), ParamSegment("name")) view={Lazy::<ClusterDetailRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("director"), StaticSegment("changes")) view={Lazy::<DirectorChangesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("changes")) view={Lazy::<ProductChangesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("stemcells") view={Lazy::<StemcellsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=StaticSegment("settings") view={Lazy::<SettingsMenuRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("settings"), StaticSegment("certificate-authorities")) view={Lazy::<CertificateAuthoritiesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("settings"), StaticSegment("ssl-certificate")) view={Lazy::<SslCertificateRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("settings"), StaticSegment("vm-extensions")) view={Lazy::<VmExtensionsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=(StaticSegment("settings"), StaticSegment("decryption-passphrase")) view={Lazy::<DecryptionPassphraseRoute>::new()} ssr=SsrMode::Async/>
                <Route
                    path=(StaticSegment("products"), ParamSegment("guid"), StaticSegment("settings"))
                    view={Lazy::<ProductSettingsRoute>::new()}
                    ssr=SsrMode::Async
                />
            </Routes>
        </Router>
    }
}
