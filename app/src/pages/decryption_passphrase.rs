//! `/settings/decryption-passphrase`: changing the decryption passphrase (the one Tileworks asks
//! for after every restart), as `tileworks admin change-decryption-passphrase` and `PUT
//! /api/v0/decryption_passphrase` do: the current one, the new one twice. It re-seals the data
//! key only; nothing else changes and no one is signed out. The form posts to the server's
//! handler (`server/src/http/settings_forms.rs`): done, `303` back here with `done=changed`;
//! refused, this page again with a 4xx and the refusal naming the field. A passphrase is never
//! written back into the page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::page_forms::{refusal_notice, refusal_resource};
use crate::components::header::Header;
use crate::page_data;
use crate::session::get_current_user;

/// The page's address, where its form posts.
pub const BASE: &str = "/settings/decryption-passphrase";

/// The shortest new passphrase accepted (the server's rule, `server/src/passphrase.rs`).
pub const MIN_LEN: usize = 12;

#[component]
pub fn DecryptionPassphrasePage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let query = use_query_map();
    let changed = move || query.with(|q| q.get("done").is_some_and(|d| d == "changed"));
    let refusal = refusal_resource();
    let min = MIN_LEN.to_string();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let min = min.clone();
                Suspend::new(async move {
                let user = user.await.ok();
                let refusal = refusal.await;
                let header = user.map(|user| view! { <Header user/> });
                let rule = format!("At least {MIN_LEN} characters.");
                view! {
                    {header}
                    <main class="page narrow settings decryption-passphrase">
                        <p><a href="/settings">"Settings"</a></p>
                        <h1>"Decryption passphrase"</h1>
                        <p class="muted">"Every secret Tileworks keeps is sealed under a data key, and the data key under this passphrase. Changing it re-seals the data key only: Tileworks keeps running, no one is signed out, and from the next restart on only the new passphrase unlocks it (TILEWORKS_DECRYPTION_PASSPHRASE or the unlock page). Keep it safe: without it the data cannot be opened."</p>
                        {changed().then(|| view! { <p class="notice ok" role="status">"Decryption passphrase changed. The next start needs the new one."</p> })}
                        <form method="post" action=BASE class="passphrase-change">
                            <input type="hidden" name="form" value="change"/>
                            {refusal_notice(refusal.as_ref(), "change")}
                            <label>"Current passphrase"<input type="password" name="current_passphrase" autocomplete="current-password" required/></label>
                            <label>"New passphrase"<input type="password" name="new_passphrase" autocomplete="new-password" minlength=min.clone() required/></label>
                            <p class="muted">{rule}</p>
                            <label>"New passphrase again"<input type="password" name="new_passphrase_confirmation" autocomplete="new-password" minlength=min required/></label>
                            <button type="submit">"Change passphrase"</button>
                        </form>
                    </main>
                }
            })
            }}
        </Transition>
    }
}
