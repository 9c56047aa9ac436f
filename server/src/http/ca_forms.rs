//! The Certificate Authorities page's forms (`/settings/certificate-authorities/…`), posted by
//! the browser itself so the page works without the wasm: generate, import (`cert_pem`,
//! `private_key_pem`), activate and delete. Each calls the service the API's routes call
//! (`http/api/certificate_authorities.rs`, the same checks). Done, it answers `303` back to the
//! page with `done=` (what happened); refused, it renders the page again with the refusal in its
//! context (`app::backend::certificate_authorities::CaRefusal`: the form, the field and the
//! rule) and the refusal's status (`422` for a rule, `404` for an unknown CA, `409` for one that
//! may not go), as `settings_form.rs` does for the product forms. The gate has already checked
//! the session, the role (Configure, as the API) and the request's origin.

use app::backend::certificate_authorities::CaRefusal;
use app::session::CurrentUser;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use leptos::config::LeptosOptions;

use crate::http::AppState;
use crate::Error;

/// The page, and the prefix of its forms' routes.
pub const PAGE: &str = "/settings/certificate-authorities";

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
    let r = renderer.clone();
    let generate =
        move |state: State<AppState>, request: Request| generate(state, r.clone(), request);
    let r = renderer.clone();
    let import = move |state: State<AppState>, request: Request| import(state, r.clone(), request);
    let r = renderer.clone();
    let activate = move |state: State<AppState>, guid: Path<String>, request: Request| {
        activate(state, r.clone(), guid, request)
    };
    let r = renderer;
    let delete = move |state: State<AppState>, guid: Path<String>, request: Request| {
        delete(state, r.clone(), guid, request)
    };
    Router::new()
        .route("/settings/certificate-authorities/generate", post(generate))
        .route("/settings/certificate-authorities/import", post(import))
        .route(
            "/settings/certificate-authorities/{guid}/activate",
            post(activate),
        )
        .route(
            "/settings/certificate-authorities/{guid}/delete",
            post(delete),
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
    parts.uri = axum::http::Uri::from_static(PAGE);
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

async fn generate(State(state): State<AppState>, renderer: Renderer, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let outcome = state
        .products
        .generate_certificate_authority()
        .await
        .map(|_| "generated");
    let sent = Sent {
        form: "generate",
        guid: String::new(),
        cert_pem: String::new(),
    };
    answer(renderer, parts, sent, outcome).await
}

async fn import(State(state): State<AppState>, renderer: Renderer, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut sent = Sent {
        form: "import",
        guid: String::new(),
        cert_pem: String::new(),
    };
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Error::TooLarge(format!("an imported CA is at most {BODY_LIMIT} bytes"))
                .into_response()
        }
    };
    let posted: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(pairs) => pairs,
        Err(err) => {
            let outcome = Err(Error::invalid(
                "body",
                format!("the import form is URL-encoded fields ({err})"),
            ));
            return answer(renderer, parts, sent, outcome).await;
        }
    };
    let value = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    };
    sent.cert_pem = value("cert_pem");
    let field = |name: &str| {
        Some(value(name))
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid(name, tiles::validate::BLANK))
    };
    let outcome = async {
        let cert = field("cert_pem")?;
        let key = field("private_key_pem")?;
        state
            .products
            .import_certificate_authority(&cert, &key)
            .await
            .map(|_| "imported")
    }
    .await;
    answer(renderer, parts, sent, outcome).await
}

async fn activate(
    State(state): State<AppState>,
    renderer: Renderer,
    Path(guid): Path<String>,
    request: Request,
) -> Response {
    let actor = actor(&request);
    let (parts, _) = request.into_parts();
    let outcome = state
        .products
        .activate_certificate_authority(&guid, &actor)
        .await
        .map(|_| "activated");
    let sent = Sent {
        form: "activate",
        guid,
        cert_pem: String::new(),
    };
    answer(renderer, parts, sent, outcome).await
}

async fn delete(
    State(state): State<AppState>,
    renderer: Renderer,
    Path(guid): Path<String>,
    request: Request,
) -> Response {
    let (parts, _) = request.into_parts();
    let outcome = state
        .products
        .delete_certificate_authority(&guid)
        .await
        .map(|_| "deleted");
    let sent = Sent {
        form: "delete",
        guid,
        cert_pem: String::new(),
    };
    answer(renderer, parts, sent, outcome).await
}
