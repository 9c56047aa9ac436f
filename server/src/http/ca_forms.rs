//! The Certificate Authorities page's forms, posted by the browser itself to the page's own
//! address (`POST /settings/certificate-authorities`, the form named by the `form` field:
//! `generate`, `import` with `cert_pem` and `private_key_pem`, `activate` and `delete` with
//! `guid`), so the page works without the wasm and a refusal rendered in answer hydrates as the
//! page. Each calls the service the API's routes call (`http/api/certificate_authorities.rs`,
//! the same checks). Done, it answers `303` back to the page with `done=` (what happened);
//! refused, it renders the page again with the refusal in its context
//! (`app::backend::certificate_authorities::CaRefusal`: the form, the field and the rule) and
//! the refusal's status (`422` for a rule, `404` for an unknown CA, `409` for one that may not
//! go), as `settings_form.rs` does for the product forms. The gate has already checked the
//! session, the role (Configure, as the API) and the request's origin.

use app::backend::certificate_authorities::CaRefusal;
use app::session::CurrentUser;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use leptos::config::LeptosOptions;

use crate::http::AppState;
use crate::Error;

/// The page, where its forms post.
pub const PAGE: &str = "/settings/certificate-authorities";

/// The forms, by the `form` field's value.
pub const FORMS: [&str; 4] = ["generate", "import", "activate", "delete"];

/// Largest posted form: a certificate and a key in PEM stay far below.
const BODY_LIMIT: usize = 256 * 1024;

/// What rendering the page again needs: the UI's contexts and the Leptos options.
#[derive(Clone)]
struct Renderer {
    contexts: std::sync::Arc<dyn Fn() + Send + Sync>,
    options: LeptosOptions,
}

pub fn routes(
    contexts: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> Router<AppState> {
    let renderer = Renderer {
        contexts: std::sync::Arc::new(contexts),
        options,
    };
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
    mut parts: Parts,
    sent: Sent,
    outcome: crate::Result<&str>,
) -> Response {
    let err = match outcome {
        Ok(done) => return Redirect::to(&format!("{PAGE}?done={done}")).into_response(),
        Err(err) => err,
    };
    let status = err.status();
    let (field, message) = match err {
        Error::Invalid { field, message } => (field, message),
        Error::Rejected(errors) => errors
            .into_iter()
            .next()
            .map(|(field, messages)| (field, messages.join("; ")))
            .unwrap_or_default(),
        Error::NotFound(what) => ("guid".to_owned(), format!("{what} not found")),
        Error::Refused(rule) => ("guid".to_owned(), rule),
        other => ("".to_owned(), crate::ui::described(other).0),
    };
    let refusal = CaRefusal {
        form: sent.form.to_owned(),
        field,
        message,
        guid: sent.guid,
        cert_pem: sent.cert_pem,
    };
    // The page as a GET of it renders, with the refusal in its context.
    parts.method = Method::GET;
    let Renderer { contexts, options } = renderer;
    let render = leptos_axum::render_app_async_with_context(
        move || {
            contexts();
            leptos::prelude::provide_context(refusal.clone());
        },
        move || app::shell(options.clone()),
    );
    let mut response = render(Request::from_parts(parts, Body::empty())).await;
    *response.status_mut() = if status.is_client_error() {
        status
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    response.into_response()
}

fn actor(request: &Request) -> String {
    request
        .extensions()
        .get::<CurrentUser>()
        .map(|u| u.username.clone())
        .unwrap_or_default()
}

async fn submit(State(state): State<AppState>, renderer: Renderer, request: Request) -> Response {
    let actor = actor(&request);
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Error::TooLarge(format!("a CA form is at most {BODY_LIMIT} bytes"))
                .into_response()
        }
    };
    let posted: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(pairs) => pairs,
        Err(err) => {
            return Error::invalid("body", format!("a CA form is URL-encoded fields ({err})"))
                .into_response()
        }
    };
    let value = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    };
    let Some(form) = FORMS.into_iter().find(|f| *f == value("form")) else {
        return Error::invalid("form", format!("the page's forms are {}", FORMS.join(", ")))
            .into_response();
    };
    let sent = Sent {
        form,
        guid: value("guid"),
        cert_pem: if form == "import" {
            value("cert_pem")
        } else {
            String::new()
        },
    };
    let field = |name: &str| {
        Some(value(name))
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid(name, tiles::validate::BLANK))
    };
    let products = &state.products;
    let outcome = match form {
        "generate" => products
            .generate_certificate_authority()
            .await
            .map(|_| "generated"),
        "import" => {
            async {
                let cert = field("cert_pem")?;
                let key = field("private_key_pem")?;
                products
                    .import_certificate_authority(&cert, &key)
                    .await
                    .map(|_| "imported")
            }
            .await
        }
        "activate" => {
            async {
                let guid = field("guid")?;
                products
                    .activate_certificate_authority(&guid, &actor)
                    .await
                    .map(|_| "activated")
            }
            .await
        }
        _ => {
            async {
                let guid = field("guid")?;
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
