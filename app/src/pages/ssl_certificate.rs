//! `/settings/ssl-certificate`: the TLS certificate Tileworks serves (subject, names, issuer,
//! expiry, and whether it is the command line's or one set here or through the API; never the
//! private key), a plain form to replace it with a certificate and key, one to generate a new
//! one signed by the root CA for given domains, and one to go back to the command line's. The forms post to the server's handlers
//! (`server/src/http/settings_forms.rs`): done, `303` back here with `done=`; refused, this page
//! again with a 4xx and the refusal beside the form (the certificate given back, never the key),
//! so the page works the same with and without the wasm.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::backend::page_forms::{refusal_notice, refusal_resource, FormRefusal};
use crate::backend::tls_certificate::{load_tls_certificate, LeafCertificate, TlsCertificateView};
use crate::components::header::Header;
use crate::components::messages::server_message;
use crate::page_data;
use crate::session::get_current_user;

/// The page's address, where its forms post (a hidden `form` field names which).
pub const BASE: &str = "/settings/ssl-certificate";

/// What a finished form says, by its `done=` value.
fn done_message(done: &str) -> Option<&'static str> {
    match done {
        "set" => Some("Certificate saved. New connections are served with it now, and after a restart."),
        "generated" => Some("Certificate generated, signed by Tileworks's root certificate authority, and served to new connections now and after a restart. Clients trust it once they trust that CA (its certificate: /api/v0/security/root_ca_certificate)."),
        "reset" => Some("Back to the certificate given on the command line (--tls-cert), served to new connections now."),
        _ => None,
    }
}

#[component]
pub fn SslCertificatePage() -> impl IntoView {
    let user = page_data::resource(|| (), |_| get_current_user());
    let shown = page_data::resource(|| (), |_| load_tls_certificate());
    let query = use_query_map();
    let done = move || query.with(|q| q.get("done").and_then(|d| done_message(&d)));
    let refusal = refusal_resource();
    view! {
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let user = user.await.ok();
                let refusal = refusal.await;
                let header = user.map(|user| view! { <Header user/> });
                let body = match shown.await {
                    Ok(shown) => certificate(shown, refusal.as_ref()).into_any(),
                    Err(err) => view! {
                        <p class="form-error" role="alert">{server_message(&err)}</p>
                    }
                    .into_any(),
                };
                view! {
                    {header}
                    <main class="page narrow settings ssl-certificate">
                        <p><a href="/settings">"Settings"</a></p>
                        <h1>"Tileworks TLS certificate"</h1>
                        <p class="muted">"The certificate Tileworks serves its pages and API with. A certificate saved here is served to new connections at once (open connections keep the old one until they close) and again after every restart, from as soon as Tileworks is unlocked; until then the command line's (--tls-cert) is served."</p>
                        {done().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
                        {body}
                    </main>
                }
            })}
        </Transition>
    }
}

fn leaf_table(leaf: LeafCertificate, custom: bool) -> impl IntoView {
    let names = if leaf.names.is_empty() {
        "(none)".to_owned()
    } else {
        leaf.names.join(", ")
    };
    view! {
        <table class="tls-certificate">
            <tbody>
                <tr><th>"Subject"</th><td class="subject">{leaf.subject}</td></tr>
                <tr><th>"Names (SANs)"</th><td class="names">{names}</td></tr>
                <tr><th>"Issuer"</th><td class="issuer">{leaf.issuer}</td></tr>
                <tr>
                    <th>"Expires"</th>
                    <td class="expires">{leaf.not_after}{leaf.expired.then_some(" (expired)")}</td>
                </tr>
                <tr>
                    <th>"Source"</th>
                    <td class="source">{if custom {
                        "Set through this page or the API"
                    } else {
                        "The command line's (--tls-cert)"
                    }}</td>
                </tr>
            </tbody>
        </table>
    }
}

fn certificate(shown: TlsCertificateView, refusal: Option<&FormRefusal>) -> impl IntoView {
    if !shown.https {
        // A form posted anyway (from an older page, or by hand) is refused: say why here too.
        return view! {
            <p class="notice" role="status">"Tileworks serves plain HTTP (it was started without --tls-cert and --tls-key): there is no TLS certificate to show or replace. Start it with both to serve HTTPS."</p>
            {refusal_notice(refusal, "set")}
            {refusal_notice(refusal, "generate")}
            {refusal_notice(refusal, "reset")}
        }
        .into_any();
    }
    let custom = shown.custom;
    let leaf = shown.leaf.map(|leaf| leaf_table(leaf, custom));
    let cert = refusal
        .filter(|r| r.form == "set")
        .map(|r| r.kept("certificate"))
        .unwrap_or_default();
    let domains = refusal
        .filter(|r| r.form == "generate")
        .map(|r| r.kept("domains"))
        .unwrap_or_default();
    let reset = custom.then(|| {
        view! {
            <form method="post" action=BASE class="tls-reset">
                <input type="hidden" name="form" value="reset"/>
                {refusal_notice(refusal, "reset")}
                <button type="submit" class="link danger">"Go back to the command line's certificate"</button>
            </form>
        }
    });
    view! {
        {leaf}
        {reset}
        <form method="post" action=BASE class="tls-set">
            <input type="hidden" name="form" value="set"/>
            <h2>"Replace the certificate"</h2>
            <p class="muted">"PEM: the certificate first, then any intermediates; a private key (PKCS#8, PKCS#1 or SEC1) that belongs to it. An expired certificate is refused."</p>
            {refusal_notice(refusal, "set")}
            <label>"Certificate (PEM)"<textarea name="certificate" rows="8" required>{cert}</textarea></label>
            <label>"Private key (PEM)"<textarea name="private_key" rows="8" required></textarea></label>
            <button type="submit">"Save certificate"</button>
        </form>
        <form method="post" action=BASE class="tls-generate">
            <input type="hidden" name="form" value="generate"/>
            <h2>"Generate a certificate"</h2>
            <p class="muted">"A new RSA key and a certificate for the names Tileworks is reached by, signed by Tileworks's root certificate authority (Settings → Certificate authorities). The first name is the common name; wildcards like *.example.com are allowed."</p>
            {refusal_notice(refusal, "generate")}
            <label>"Domains (comma-separated)"<input type="text" name="domains" value=domains required placeholder="opsman.example.com, *.example.com"/></label>
            <button type="submit">"Generate and serve"</button>
        </form>
    }
    .into_any()
}
