//! The login page: a plain HTML form that posts to the server's `/login` handler, so logging in
//! works before (or without) the wasm bundle.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Login() -> impl IntoView {
    let query = use_query_map();
    // The server redirects back here with `?error=...` after a failed attempt. The message is
    // deliberately the same for an unknown user and a wrong password.
    let error = move || {
        query.with(|q| match q.get("error").as_deref() {
            Some("invalid") => Some("Invalid username or password.".to_string()),
            Some("expired") => Some("Your session has expired. Please log in again.".to_string()),
            _ => None,
        })
    };
    view! {
        <main class="login">
            <form class="login-card" method="post" action="/login">
                <h1>"Tileworks"</h1>
                <p class="subtitle">"Sign in to manage your BOSH-deployed products."</p>
                <Show when=move || error().is_some()>
                    <p class="form-error" role="alert">{error}</p>
                </Show>
                <label for="username">"Username"</label>
                <input id="username" name="username" type="text" autocomplete="username" required autofocus/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
        </main>
    }
}
