//! The Certificate Authorities page's forms (`/settings/certificate-authorities/…`), posted by
//! the browser itself so the page works without the wasm: generate, import (`cert_pem`,
//! `private_key_pem`), activate and delete. Each calls the service the API's routes call
//! (`http/api/certificate_authorities.rs`, the same checks), then answers `303` back to the page
//! with `done=` (what happened) or `error=` (the refusal, naming the field). The gate has
//! already checked the session, the role (Configure, as the API) and the request's origin.

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;

use app::session::CurrentUser;

use crate::http::AppState;
use crate::Error;

/// The page, and the prefix of its forms' routes.
pub const PAGE: &str = "/settings/certificate-authorities";

/// Largest posted form: a certificate and a key in PEM stay far below.
const BODY_LIMIT: usize = 256 * 1024;

pub fn routes() -> Router<AppState> {
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

/// Back to the page, saying what happened or what was refused.
fn back(outcome: crate::Result<&str>) -> Response {
    let query = match outcome {
        Ok(done) => format!("done={done}"),
        Err(err) => {
            let text = crate::ui::described(err).0;
            serde_urlencoded::to_string([("error", text)]).unwrap_or_default()
        }
    };
    Redirect::to(&format!("{PAGE}?{query}")).into_response()
}

fn actor(request: &Request) -> String {
    request
        .extensions()
        .get::<CurrentUser>()
        .map(|u| u.username.clone())
        .unwrap_or_default()
}

async fn generate(State(state): State<AppState>) -> Response {
    back(
        state
            .products
            .generate_certificate_authority()
            .await
            .map(|_| "generated"),
    )
}

async fn import(State(state): State<AppState>, request: Request) -> Response {
    let bytes = match axum::body::to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return back(Err(Error::invalid(
                "body",
                format!("an imported CA is at most {BODY_LIMIT} bytes"),
            )))
        }
    };
    let posted: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let field = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
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
    back(outcome)
}

async fn activate(
    State(state): State<AppState>,
    Path(guid): Path<String>,
    request: Request,
) -> Response {
    let actor = actor(&request);
    back(
        state
            .products
            .activate_certificate_authority(&guid, &actor)
            .await
            .map(|_| "activated"),
    )
}

async fn delete(State(state): State<AppState>, Path(guid): Path<String>) -> Response {
    back(
        state
            .products
            .delete_certificate_authority(&guid)
            .await
            .map(|_| "deleted"),
    )
}
