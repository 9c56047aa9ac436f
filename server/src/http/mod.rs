//! The HTTP server: routes, shared state, and start-up.

pub mod api;
pub mod assets;
pub mod broker;
pub mod ca_forms;
pub mod csrf;
pub mod director_forms;
pub mod fleet;
pub mod gate;
pub mod headers;
pub mod info;
pub mod login;
pub mod page_cache;
pub mod page_forms;
pub mod pks;
pub mod preview;
pub mod recorder;
pub mod serve;
pub mod server_timing;
pub mod settings_form;
pub mod settings_forms;
pub mod setup;
pub mod state;
pub mod uaa;
pub mod unlock;

pub use serve::serve;
pub use state::AppState;

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{any, get, post, put};
use axum::Router;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::SessionManagerLayer;

use crate::store::sessions::DatabaseSessionStore;

/// Largest body accepted by the login form and the token endpoint. Both carry a few short
/// fields; anything bigger is refused with 413 before it is read.
pub const SMALL_FORM_LIMIT: usize = 16 * 1024;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tileworks_session";

/// All routes, guarded by the session and authentication layers.
pub fn router(state: AppState, secure_cookies: bool) -> Router {
    let sessions = SessionManagerLayer::new(DatabaseSessionStore::new(state.store.pool().clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(state.sessions.expiry());

    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    let ui = crate::ui::contexts(&state);
    let contexts = move || {
        headers::provide_nonce();
        ui();
    };
    Router::new()
        .route(
            "/login",
            post(login::submit).layer(DefaultBodyLimit::max(SMALL_FORM_LIMIT)),
        )
        .route("/logout", post(login::logout))
        .route(
            "/uaa/oauth/token",
            post(uaa::token).layer(DefaultBodyLimit::max(SMALL_FORM_LIMIT)),
        )
        .route("/api/v0/info", get(info::info))
        .route("/unlock", get(unlock::page).post(unlock::form))
        .route("/api/v0/unlock", put(unlock::api))
        .route(
            "/login/ensure_availability",
            get(unlock::ensure_availability),
        )
        .route("/auth/cloudfoundry", get(unlock::auth_cloudfoundry))
        .route("/setup", get(setup::page).post(setup::form))
        .route("/api/v0/setup", post(setup::api))
        .route(assets::ROUTE, get(assets::serve))
        .route(settings_form::ROUTE, {
            let (contexts, options) = (contexts.clone(), state.leptos_options.clone());
            post(
                move |State(state): State<AppState>,
                      guid: axum::extract::Path<String>,
                      request: axum::extract::Request| {
                    settings_form::submit(state, contexts.clone(), options.clone(), guid, request)
                },
            )
        })
        .merge(api::routes())
        .merge(broker::routes())
        .merge(pks::routes())
        .merge(fleet::routes())
        .merge(preview::routes())
        .merge(ca_forms::routes(
            contexts.clone(),
            state.leptos_options.clone(),
        ))
        .merge(director_forms::routes(
            contexts.clone(),
            state.leptos_options.clone(),
        ))
        .merge(settings_forms::routes(
            contexts.clone(),
            state.leptos_options.clone(),
        ))
        .route(gate::API_FALLBACK, any(api_not_found))
        .leptos_routes_with_context(&state, routes, contexts.clone(), move || {
            app::shell(options.clone())
        })
        // The not-found page renders with the same contexts, so its scripts carry the nonce.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(contexts, app::shell))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ))
        // Outside the gate, so a preview refuses a foreign `Host` first; inside compression,
        // so it reads the pages as written (`http/preview.rs`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            preview::layer,
        ))
        .layer(sessions)
        .layer(axum::middleware::from_fn(move |request, next| {
            headers::security_headers(secure_cookies, request, next)
        }))
        .layer(compression())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// gzip for clients that accept it: the pages' HTML (a settings page carries its form's part of
/// the tile metadata for in-browser validation) shrinks several times. tower-http's default
/// predicate already leaves alone what must not or need not be compressed (server-sent events,
/// which must stream; images; tiny bodies), and it never touches a response that already has a
/// `Content-Encoding`: the assets under `/pkg/` are sent precompressed (`assets.rs`). An
/// uncompressed wasm (a debug site, built without copies) is left alone, because compressing
/// megabytes per load costs more server CPU than it saves. Log bundles (`application/gzip`)
/// are compressed already.
fn compression() -> tower_http::compression::CompressionLayer<
    tower_http::compression::predicate::And<
        tower_http::compression::predicate::And<
            tower_http::compression::DefaultPredicate,
            tower_http::compression::predicate::NotForContentType,
        >,
        tower_http::compression::predicate::NotForContentType,
    >,
> {
    use tower_http::compression::predicate::{NotForContentType, Predicate};
    use tower_http::compression::{CompressionLayer, DefaultPredicate};
    CompressionLayer::new().gzip(true).compress_when(
        DefaultPredicate::new()
            .and(NotForContentType::const_new("application/wasm"))
            .and(NotForContentType::const_new("application/gzip")),
    )
}

/// 404 for anything that reaches the fallback under `/api/`: JSON, like the rest of the API.
pub async fn api_not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        axum::http::StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"errors": {"base": ["no such API endpoint"]}})),
    )
        .into_response()
}
