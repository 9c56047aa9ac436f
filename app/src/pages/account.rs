//! The Account page, `/account`, for every signed-in user: who they are, their role, and
//! **Change password** (the current password and the new one, twice). A changed password ends
//! every session and token of the user, this one included: the page then says to log in again.

use leptos::prelude::*;

use crate::backend::users::{change_own_password, role_label, MIN_PASSWORD_LEN};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

#[component]
pub fn AccountPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let Ok(user) = user.await else {
                    return crate::components::header::not_logged_in();
                };
                let (name, role) = (user.username.clone(), role_label(&user.role));
                view! {
                    <Header user/>
                    <main class="page narrow account" data-hydrated=move || hydrated.get().then_some("true")>
                        <h1>"Your account"</h1>
                        <p>"Signed in as " <strong>{name}</strong> " with the role " <strong>{role}</strong> "."</p>
                        <ChangePassword hydrated/>
                    </main>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn ChangePassword(hydrated: RwSignal<bool>) -> impl IntoView {
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (c, n, a) = (
            current.get_untracked(),
            new.get_untracked(),
            again.get_untracked(),
        );
        if n != a {
            outcome.set(Some(Err("The new passwords do not match.".into())));
            return;
        }
        if n.chars().count() < MIN_PASSWORD_LEN {
            outcome.set(Some(Err(format!(
                "new_password: must be at least {MIN_PASSWORD_LEN} characters long"
            ))));
            return;
        }
        leptos::task::spawn_local(async move {
            let result = change_own_password(c, n).await;
            current.set(String::new());
            new.set(String::new());
            again.set(String::new());
            outcome.set(Some(result.map_err(|e| server_message(&e))));
        });
    };
    let field =
        |id: &'static str, label: &'static str, value: RwSignal<String>, auto: &'static str| {
            view! {
                <label for=id>{label}</label>
                <input
                    id=id
                    type="password"
                    autocomplete=auto
                    required
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            }
        };
    view! {
        <section class="change-password">
            <h2>"Change password"</h2>
            {move || match outcome.get() {
                Some(Ok(())) => view! {
                    <p class="notice ok" role="status">
                        "Your password is changed and your sessions have ended. "
                        <a href="/login">"Log in again"</a> " with the new password."
                    </p>
                }
                .into_any(),
                Some(Err(why)) => view! { <p class="notice error" role="alert">{why}</p> }.into_any(),
                None => ().into_any(),
            }}
            // POST, and a submit button disabled until hydration: the passwords are only ever
            // sent by the page itself, in a request body.
            <form method="post" class="user-form" on:submit=submit>
                {field("current-password", "Current password", current, "current-password")}
                {field("new-password", "New password", new, "new-password")}
                {field("new-password-again", "New password again", again, "new-password")}
                <p class="muted">{format!("At least {MIN_PASSWORD_LEN} characters.")}</p>
                <button type="submit" class="primary" disabled=move || !hydrated.get()>
                    "Change password"
                </button>
            </form>
        </section>
    }
}
