//! The Certificate Authorities page's forms, posted by the browser itself to the page's own
//! address (`POST /settings/certificate-authorities`, the form named by the `form` field:
//! `generate`, `import` with `cert_pem` and `private_key_pem`, `activate` and `delete` with
//! `guid`), so the page works without the wasm and a refusal rendered in answer hydrates as the
//! page (`page_forms.rs`: reading, answering, rendering again). Each calls the service the
//! API's routes call (`http/api/certificate_authorities.rs`, the same checks). Refused, the
//! page is rendered again with the refusal in its context
//! (`app::backend::certificate_authorities::CaRefusal`: the form, the field and the rule) and
//! the refusal's status (`422` for a rule, `404` for an unknown CA, `409` for one that may not
//! go). The gate has already checked the session, the role (Configure, as the API) and the
//! request's origin.

use app::backend::certificate_authorities::CaRefusal;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use leptos::config::LeptosOptions;

use crate::http::page_forms::{actor, done, refusal_of, Posted, Renderer};
use crate::http::AppState;

/// The page, where its forms post.
pub const PAGE: &str = "/settings/certificate-authorities";

/// The forms, by the `form` field's value.
pub const FORMS: [&str; 4] = ["generate", "import", "activate", "delete"];

pub fn routes(
    contexts: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> Router<AppState> {
    let renderer = Renderer::new(contexts, options);
    Router::new().route(
        PAGE,
        post(move |state: State<AppState>, request: Request| {
            submit(state, renderer.clone(), request)
        }),
    )
}

/// What a refused form was: which form, for which CA, and the certificate it held.
struct Sent {
    form: &'static str,
    guid: String,
    cert_pem: String,
}

/// Back to the page saying what happened, or the page again with the refusal.
async fn answer(
    renderer: Renderer,
    parts: Parts,
    sent: Sent,
    outcome: crate::Result<&str>,
) -> Response {
    let err = match outcome {
        Ok(what) => return done(PAGE, what),
        Err(err) => err,
    };
    let (status, field, message) = refusal_of(err, "guid");
    let refusal = CaRefusal {
        form: sent.form.to_owned(),
        field,
        message,
        guid: sent.guid,
        cert_pem: sent.cert_pem,
    };
    renderer.refused(parts, status, refusal).await
}

async fn submit(State(state): State<AppState>, renderer: Renderer, request: Request) -> Response {
    let actor = actor(&request);
    let (parts, body) = request.into_parts();
    let posted = match Posted::read(body, "a CA form").await {
        Ok(posted) => posted,
        Err(refused) => return refused,
    };
    let form = match posted.form(&FORMS) {
        Ok(form) => form,
        Err(refused) => return refused.into_response(),
    };
    let sent = Sent {
        form,
        guid: posted.value("guid"),
        cert_pem: if form == "import" {
            posted.value("cert_pem")
        } else {
            String::new()
        },
    };
    let products = &state.products;
    let outcome = match form {
        "generate" => products
            .generate_certificate_authority()
            .await
            .map(|_| "generated"),
        "import" => {
            async {
                let cert = posted.required("cert_pem")?;
                let key = posted.required("private_key_pem")?;
                products
                    .import_certificate_authority(&cert, &key)
                    .await
                    .map(|_| "imported")
            }
            .await
        }
        "activate" => {
            async {
                let guid = posted.required("guid")?;
                products
                    .activate_certificate_authority(&guid, &actor)
                    .await
                    .map(|_| "activated")
            }
            .await
        }
        _ => {
            async {
                let guid = posted.required("guid")?;
                products
                    .delete_certificate_authority(&guid)
                    .await
                    .map(|_| "deleted")
            }
            .await
        }
    };
    answer(renderer, parts, sent, outcome).await
}
