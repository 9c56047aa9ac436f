//! The page header: product name, navigation, and the user menu with Log out.

use leptos::prelude::*;

use crate::session::CurrentUser;

/// The header shown on every page after login.
///
/// The user menu opens on click. That toggle is client-side state, so it only works once the wasm
/// bundle has hydrated the page — the browser tests use it as their proof of hydration.
#[component]
pub fn Header(user: CurrentUser) -> impl IntoView {
    let (menu_open, set_menu_open) = signal(false);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Tileworks"</a>
            <nav class="topnav">
                <a href="/">"Installation Dashboard"</a>
                <a href="/review">"Review Pending Changes"</a>
                <a href="/installations">"Change Log"</a>
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
