//! The plain forms of three settings pages, each posted by the browser itself to its page's own
//! address (`page_forms.rs`: reading, answering `303` with `done=`, or the page again with the
//! refusal), each handled by the service its API calls:
//!
//! - `POST /settings/ssl-certificate` (`app::pages::ssl_certificate`): `set` with `certificate`
//!   and `private_key` (`crate::tls_certificate`, as `PUT /api/v0/settings/ssl_certificate`),
//!   `generate` with `domains` (comma-separated: a new key and a certificate signed by the root
//!   CA, as `POST /api/v0/certificates/generate`, then set), `reset` back to the command line's
//!   (as its `DELETE`). Administrators only (the gate).
//! - `POST /settings/vm-extensions` (`app::pages::vm_extensions`): `save` with `name` and
//!   `cloud_properties` (a JSON object), `delete` with `name` (`products::vm_extensions`, as
//!   `PUT`/`DELETE /api/v0/staged/vm_extensions/:name`: a Director change Review lists; deleting
//!   one a staged job names is `409`). Configure (the gate).
//! - `POST /settings/decryption-passphrase` (`app::pages::decryption_passphrase`): `change` with
//!   `current_passphrase`, `new_passphrase` and `new_passphrase_confirmation`
//!   (`unlock::change_passphrase`, as `PUT /api/v0/decryption_passphrase`: the data key re-sealed,
//!   nothing else; a wrong current passphrase `403` and counted as a wrong unlock is).
//!   Administrators only (the gate). A passphrase is never given back into the page.
//!
//! A refusal names the form, the field and the rule (`app::backend::page_forms::FormRefusal`),
//! with the refusal's status: `422` for a rule, `404` for an unknown extension, `409` for one a
//! job still names or a certificate on plain HTTP, `403` for a wrong passphrase, `429` after too
//! many.

use std::net::SocketAddr;

use app::backend::page_forms::FormRefusal;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use leptos::config::LeptosOptions;
use serde_json::Value;

use crate::http::page_forms::{actor, done, refusal_of, Posted, Renderer};
use crate::http::AppState;
use crate::products::vm_extensions::{check_name, VmExtensionEntry};
use crate::Error;

pub const TLS_PAGE: &str = app::pages::ssl_certificate::BASE;
pub const VM_EXTENSIONS_PAGE: &str = app::pages::vm_extensions::BASE;
pub const PASSPHRASE_PAGE: &str = app::pages::decryption_passphrase::BASE;

pub fn routes(
    contexts: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> Router<AppState> {
    let renderer = Renderer::new(contexts, options);
    let (tls, extensions, passphrase) = (renderer.clone(), renderer.clone(), renderer);
    Router::new()
        .route(
            TLS_PAGE,
            post(move |state: State<AppState>, request: Request| {
                tls_certificate(state, tls.clone(), request)
            }),
        )
        .route(
            VM_EXTENSIONS_PAGE,
            post(move |state: State<AppState>, request: Request| {
                vm_extensions(state, extensions.clone(), request)
            }),
        )
        .route(
            PASSPHRASE_PAGE,
            post(
                move |state: State<AppState>, client: ConnectInfo<SocketAddr>, request: Request| {
                    decryption_passphrase(state, passphrase.clone(), client, request)
                },
            ),
        )
}

/// What a form was, for the page rendered again: which form and what may be given back.
struct Sent {
    form: &'static str,
    kept: Vec<(String, String)>,
}

/// Back to `page` saying what happened, or the page again with the refusal (`subject`: the
/// field that named the object, for refusals about it).
async fn answer(
    renderer: Renderer,
    parts: Parts,
    page: &str,
    subject: &str,
    sent: Sent,
    outcome: crate::Result<&str>,
) -> Response {
    let err = match outcome {
        Ok(what) => return done(page, what),
        Err(err) => err,
    };
    let (status, field, message) = match err {
        // The only 403 a handler here raises: a wrong current passphrase (the gate answers role
        // refusals before any handler runs).
        Error::Forbidden(message) => (StatusCode::FORBIDDEN, subject.to_owned(), message),
        other => refusal_of(other, subject),
    };
    let refusal = FormRefusal {
        form: sent.form.to_owned(),
        field,
        message,
        kept: sent.kept,
    };
    renderer.refused(parts, status, refusal).await
}

async fn tls_certificate(
    State(state): State<AppState>,
    renderer: Renderer,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let posted = match Posted::read(body, "a TLS certificate form").await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let form = match posted.form(&["set", "generate", "reset"]) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let service = &state.tls_certificate;
    let (sent, outcome) = if form == "set" {
        let certificate = posted.value("certificate");
        let outcome = service
            .set(&certificate, &posted.value("private_key"))
            .await
            .map(|_| "set");
        // The certificate is public; the key is never written into a page.
        let kept = vec![("certificate".to_owned(), certificate)];
        (Sent { form, kept }, outcome)
    } else if form == "generate" {
        // Ops Manager's "Generate RSA Certificate": a new key and a certificate for the names
        // given, signed by the active root CA (as `POST /api/v0/certificates/generate`), served
        // at once like one pasted in.
        let domains = posted.value("domains");
        let outcome = async {
            let generated = state
                .products
                .generate_certificate(std::slice::from_ref(&domains))
                .await?;
            service
                .set(&generated.cert_pem, &generated.private_key_pem)
                .await
        }
        .await
        .map(|_| "generated");
        let kept = vec![("domains".to_owned(), domains)];
        (Sent { form, kept }, outcome)
    } else {
        let outcome = service.reset().await.map(|_| "reset");
        (Sent { form, kept: vec![] }, outcome)
    };
    answer(renderer, parts, TLS_PAGE, "certificate", sent, outcome).await
}

/// A VM extension's cloud properties as the form's textarea holds them: a JSON object.
fn cloud_properties(text: &str) -> crate::Result<serde_json::Map<String, Value>> {
    const FIELD: &str = "cloud_properties";
    if text.trim().is_empty() {
        return Err(Error::invalid(FIELD, tiles::validate::BLANK));
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Error::invalid(
            FIELD,
            "must be a JSON object (such as {\"associate_public_ip_address\": true})",
        )),
        Err(e) => Err(Error::invalid(FIELD, format!("is not JSON: {e}"))),
    }
}

async fn vm_extensions(
    State(state): State<AppState>,
    renderer: Renderer,
    request: Request,
) -> Response {
    let actor = actor(&request);
    let (parts, body) = request.into_parts();
    let posted = match Posted::read(body, "a VM extension form").await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let form = match posted.form(&["save", "delete"]) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let name = posted.value("name").trim().to_owned();
    let products = &state.products;
    let (sent, outcome) = if form == "save" {
        let text = posted.value("cloud_properties");
        let outcome = async {
            check_name(&name)?;
            let entry = VmExtensionEntry {
                name: name.clone(),
                cloud_properties: cloud_properties(&text)?,
            };
            products
                .put_vm_extension(entry, None, &actor)
                .await
                .map(|_| "saved")
        }
        .await;
        let kept = vec![
            ("name".to_owned(), name.clone()),
            ("cloud_properties".to_owned(), text),
        ];
        (Sent { form, kept }, outcome)
    } else {
        let outcome = async {
            check_name(&name)?;
            products
                .delete_vm_extension(&name, None, &actor)
                .await
                .map(|_| "deleted")
        }
        .await;
        let kept = vec![("name".to_owned(), name.clone())];
        (Sent { form, kept }, outcome)
    };
    answer(renderer, parts, VM_EXTENSIONS_PAGE, "name", sent, outcome).await
}

async fn decryption_passphrase(
    State(state): State<AppState>,
    renderer: Renderer,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let actor = actor(&request);
    let (parts, body) = request.into_parts();
    let posted = match Posted::read(body, "the passphrase form").await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let form = match posted.form(&["change"]) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let outcome = async {
        let current = posted.required("current_passphrase")?;
        let new = posted.required("new_passphrase")?;
        crate::passphrase::check_new(&new).map_err(|e| match e {
            Error::Invalid { message, .. } => Error::invalid("new_passphrase", message),
            other => other,
        })?;
        if posted.value("new_passphrase_confirmation") != new {
            return Err(Error::invalid(
                "new_passphrase_confirmation",
                "does not match the new passphrase",
            ));
        }
        crate::http::unlock::change_passphrase(&state.store, client.ip(), &current, &new).await?;
        tracing::info!(target: "audit", user = %actor, "changed the decryption passphrase");
        Ok("changed")
    }
    .await;
    // Nothing typed is given back: every field is a passphrase.
    let sent = Sent { form, kept: vec![] };
    answer(
        renderer,
        parts,
        PASSPHRASE_PAGE,
        "current_passphrase",
        sent,
        outcome,
    )
    .await
}
