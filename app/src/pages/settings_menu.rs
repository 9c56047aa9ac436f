//! The Settings menu page, `/settings` (administrators only: the gate refuses it to every other
//! role, and the header links it only for them): links to Tileworks's own settings pages, each
//! with what it is for; an entry whose page is not there yet says so rather than linking.

use leptos::prelude::*;

use crate::backend::settings_menu::{load_settings_menu, SettingsEntry};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

#[component]
pub fn SettingsMenuPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let entries = page_data::resource(|| (), |_| load_settings_menu());
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let header = user.await.ok().map(|user| view! { <Header user/> });
                let body = match entries.await {
                    Ok(entries) => {
                        let items = entries.into_iter().map(entry).collect_view();
                        view! { <ul class="settings-menu">{items}</ul> }.into_any()
                    }
                    Err(err) => view! {
                        <p class="form-error" role="alert">{server_message(&err)}</p>
                    }
                    .into_any(),
                };
                view! {
                    {header}
                    <main class="page narrow settings">
                        <h1>"Settings"</h1>
                        {body}
                    </main>
                }
            })}
        </Transition>
    }
}

fn entry(e: SettingsEntry) -> impl IntoView {
    let title = if e.available {
        view! { <a href=e.href.clone()>{e.title}</a> }.into_any()
    } else {
        view! {
            <span class="title">{e.title}</span>
            " "
            <span class="muted not-available">"(not available in this version)"</span>
        }
        .into_any()
    };
    view! {
        <li data-href=e.href>
            {title}
            <p class="muted">{e.description}</p>
        </li>
    }
}
