//! The page header: product name, navigation (with the Audit trail for administrators), and
//! the user menu (Account, Users for administrators, Log out).

use leptos::prelude::*;

use crate::session::CurrentUser;

/// The header shown on every page after login.
///
/// The user menu opens on click. That toggle is client-side state, so it only works once the wasm
/// bundle has hydrated the page — the browser tests use it as their proof of hydration.
#[component]
pub fn Header(user: CurrentUser) -> impl IntoView {
    let (menu_open, set_menu_open) = signal(false);
    // Only for the roles the gate lets manage users (the gate checks regardless).
    let manage_users = user.permissions.manage_users;
    let read_audit = user.permissions.read_audit;
    let administer = user.permissions.administer;
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Tileworks"</a>
            <nav class="topnav">
                <a href="/">"Installation Dashboard"</a>
                <a href="/review">"Review Pending Changes"</a>
                <a href="/installations">"Change Log"</a>
                <a href="/clusters">"Clusters"</a>
                <a href="/stemcells">"Stemcell Library"</a>
                // Administrators only (the gate refuses the page to anyone else regardless).
                {read_audit.then(|| view! { <a href="/audit">"Audit"</a> })}
                {administer.then(|| view! { <a href="/settings">"Settings"</a> })}
            </nav>
            <div class="user-menu">
                <button
                    type="button"
                    class="user-menu-button"
                    aria-haspopup="menu"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| set_menu_open.update(|open| *open = !*open)
                >
                    {user.username.clone()}
                    " ▾"
                </button>
                <Show when=move || menu_open.get()>
                    <div class="user-menu-items" role="menu">
                        <span class="user-menu-role">"Role: " {user.role.clone()}</span>
                        <a class="user-menu-link" role="menuitem" href="/account">"Account"</a>
                        {manage_users.then(|| view! {
                            <a class="user-menu-link" role="menuitem" href="/users">"Users"</a>
                        })}
                        <form method="post" action="/logout">
                            <button type="submit" class="user-menu-logout" role="menuitem">
                                "Log out"
                            </button>
                        </form>
                    </div>
                </Show>
            </div>
        </header>
    }
}

/// What a page shows when nobody is signed in (the gate redirects page requests to the login
/// page; this covers a session that ended while the page was open).
pub fn not_logged_in() -> AnyView {
    view! {
        <main class="page narrow">
            <p>"You are not logged in. " <a href="/login">"Log in"</a></p>
        </main>
    }
    .into_any()
}
