//! `/settings/certificate-authorities`: the CAs with which one is active and their expiry, and
//! plain forms to generate a CA, import one (certificate and key PEM), activate an inactive one
//! and delete an inactive one. The forms post to the server's handlers
//! (`server/src/http/ca_forms.rs`), which answer `303` back here with `done=` when done, and
//! render this page again with a 4xx when refused (the refusal, naming the field and the rule,
//! beside the form that was sent), so the page works the same with and without the wasm.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::certificate_authorities::{load_certificate_authorities, CaEntry, CaRefusal};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// The page's address, where its forms post (a hidden `form` field names which).
pub const BASE: &str = "/settings/certificate-authorities";

/// What a finished form says, by its `done=` value.
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "generated" => Some("Certificate authority generated. Activate it to sign with it."),
        "imported" => Some("Certificate authority imported. Activate it to sign with it."),
        "activated" => Some(
            "Certificate authority activated; generated certificates were regenerated with it.",
        ),
        "deleted" => Some("Certificate authority deleted."),
        _ => None,
    }
}

#[component]
pub fn CertificateAuthoritiesPage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let cas = page_data::resource(|| (), |_| load_certificate_authorities());
    let query = use_query_map();
    let done = move || query.with(|q| q.get("done").and_then(|d| done_message(&d)));
    // A refused form, rendered again by the server: read through a resource so that hydration
    // sees it too.
    let refused = use_context::<CaRefusal>();
    let refusal = page_data::once(async move { refused });
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = user.await.ok();
                let refusal = refusal.await;
                let may_configure = user.as_ref().is_some_and(|u| u.permissions.configure);
                let header = user.map(|user| view! { <Header user/> });
                let body = match cas.await {
                    Ok(cas) => ca_table(cas, may_configure, refusal.as_ref()).into_any(),
                    Err(err) => view! {
                        <p class="form-error" role="alert">{server_message(&err)}</p>
                    }
                    .into_any(),
                };
                view! {
                    {header}
                    <main class="page narrow settings certificate-authorities">
                        <p><a href="/settings">"Settings"</a></p>
                        <h1>"Certificate authorities"</h1>
                        <p class="muted">"The active CA signs every certificate Tileworks generates for products. Generate or import a new one, activate it (its certificates are regenerated), then delete the old one."</p>
                        {done().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
                        {body}
                        {may_configure.then(|| forms(refusal.as_ref()))}
                    </main>
                }
            })}
        </Transition>
    }
}

/// The refusal of `form` (for `guid`, when the form names a CA), as the page shows it.
fn refusal_of(refusal: Option<&CaRefusal>, form: &str, guid: &str) -> Option<AnyView> {
    let r = refusal.filter(|r| r.form == form && r.guid == guid)?;
    let text = format!("{}: {}", r.field, r.message);
    Some(
        view! { <p class="form-error" role="alert" data-form=r.form.clone() data-field=r.field.clone()>{text}</p> }
            .into_any(),
    )
}

fn ca_table(cas: Vec<CaEntry>, may_configure: bool, refusal: Option<&CaRefusal>) -> impl IntoView {
    // A refusal about a CA the table no longer lists (or never did) shows above it.
    let listed = |r: &&CaRefusal| cas.iter().any(|c| c.guid == r.guid);
    let unlisted = refusal
        .filter(|r| matches!(r.form.as_str(), "activate" | "delete"))
        .filter(|r| !listed(r))
        .and_then(|r| refusal_of(Some(r), &r.form, &r.guid));
    view! {
        {unlisted}
        <table class="ca-table">
            <thead><tr><th>"Issuer"</th><th>"Created"</th><th>"Expires"</th><th>"State"</th><th></th></tr></thead>
            <tbody>
                {cas.into_iter().map(|ca| {
                    let refused = refusal_of(refusal, "activate", &ca.guid)
                        .or_else(|| refusal_of(refusal, "delete", &ca.guid));
                    let actions = (may_configure && !ca.active).then(|| {
                        let (activate_guid, delete_guid) = (ca.guid.clone(), ca.guid.clone());
                        view! {
                            <form method="post" action=BASE class="inline">
                                <input type="hidden" name="form" value="activate"/>
                                <input type="hidden" name="guid" value=activate_guid/>
                                <button type="submit">"Activate"</button>
                            </form>
                            <form method="post" action=BASE class="inline">
                                <input type="hidden" name="form" value="delete"/>
                                <input type="hidden" name="guid" value=delete_guid/>
                                <button type="submit" class="link danger">"Delete"</button>
                            </form>
                        }
                    });
                    view! {
                        <tr data-guid=ca.guid.clone() class:active=ca.active>
                            <td>{ca.issuer}</td>
                            <td>{ca.created_on}</td>
                            <td class="expires">{ca.expires_on}</td>
                            <td class="state">{if ca.active { "Active" } else { "Inactive" }}</td>
                            <td>{actions}{refused}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn forms(refusal: Option<&CaRefusal>) -> impl IntoView {
    let cert = refusal
        .filter(|r| r.form == "import")
        .map(|r| r.cert_pem.clone())
        .unwrap_or_default();
    view! {
        <form method="post" action=BASE class="ca-generate">
            <input type="hidden" name="form" value="generate"/>
            <button type="submit">"Generate CA"</button>
            {refusal_of(refusal, "generate", "")}
        </form>
        <form method="post" action=BASE class="ca-import">
            <input type="hidden" name="form" value="import"/>
            <h2>"Import a CA"</h2>
            {refusal_of(refusal, "import", "")}
            <label>"Certificate (PEM)"<textarea name="cert_pem" rows="6" required>{cert}</textarea></label>
            <label>"Private key (PEM)"<textarea name="private_key_pem" rows="6" required></textarea></label>
            <button type="submit">"Import CA"</button>
        </form>
    }
}
