//! The HTTP server: routes, shared state, and start-up.

pub mod api;
pub mod info;
pub mod installations;
pub mod login;
pub mod uaa;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{any, get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::middleware::{api_not_found, require_auth};
use crate::auth::throttle::{Policy, Throttle};
use crate::config::ServeConfig;
use crate::store::sessions::SqliteSessionStore;
use crate::store::Store;
use crate::{Error, Result};

/// Largest body accepted by the login form and the token endpoint. Both carry a few short
/// fields; anything bigger is refused with 413 before it is read.
pub const SMALL_FORM_LIMIT: usize = 16 * 1024;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tileworks_session";

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The products service (tiles, staging, configuration) shared by the UI and the API.
    pub products: crate::products::Products,
    /// The Stemcell Library.
    pub stemcells: crate::stemcells::StemcellLibrary,
    /// Apply Changes: installations, their logs, deployed snapshots, the Director link.
    pub installations: crate::installations::Installations,
    /// Instance log downloads (the Status tab's Logs links).
    pub logs: crate::instance_logs::InstanceLogs,
    pub throttle: Arc<Throttle>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// All routes, guarded by the session and authentication layers.
pub fn router(state: AppState, secure_cookies: bool) -> Router {
    let sessions = SessionManagerLayer::new(SqliteSessionStore::new(state.store.pool().clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(12)));

    let routes = generate_route_list(app::App);
    let options = state.leptos_options.clone();
    // The UI's server functions reach the products service through this context.
    let ui = std::sync::Arc::new(crate::ui_backend::UiBackend::new(state.products.clone()));
    let backend: std::sync::Arc<dyn app::backend::Backend> = ui.clone();
    let placement: std::sync::Arc<dyn app::backend::PlacementBackend> = ui;
    let settings: std::sync::Arc<dyn app::settings_backend::SettingsBackend> =
        std::sync::Arc::new(crate::ui_settings::UiSettings::new(state.products.clone()));
    let installs = crate::ui_installations::backend(state.installations.clone());
    let review = crate::ui_review::UiReview::context(&state);
    let logs = state.logs.clone();
    let credentials = crate::ui_credentials::context(&state.installations);
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
        .merge(installations::routes())
        .merge(api::routes())
        .route("/api/{*rest}", any(api_not_found))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                leptos::prelude::provide_context(backend.clone());
                leptos::prelude::provide_context(placement.clone());
                leptos::prelude::provide_context(settings.clone());
                leptos::prelude::provide_context(installs.clone());
                leptos::prelude::provide_context(review.clone());
                leptos::prelude::provide_context(crate::ui_logs::context(&logs));
                leptos::prelude::provide_context(credentials.clone());
            },
            move || app::shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_auth,
        ))
        .layer(sessions)
        .layer(compression())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// gzip for clients that accept it: a settings page is ~200 KB of HTML (it carries the tile
/// metadata for in-browser validation) and shrinks about tenfold. tower-http's default
/// predicate already leaves alone what must not or need not be compressed (server-sent events,
/// which must stream; images; tiny bodies); the wasm bundle is left alone too, because
/// compressing megabytes on every first load costs more server CPU than it saves on the LAN
/// an operator works from. Log bundles (`application/gzip`) are compressed already.
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

/// `tileworks serve`: open the store, create the first admin if needed, and serve until stopped.
pub async fn serve(config: ServeConfig) -> Result<()> {
    init_tracing();
    let store = Store::open(&config.data.path).await?;
    crate::bootstrap::ensure_first_admin(&store, &config).await?;

    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| Error::io(format!("listening on {}", config.listen), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listen address", e))?;

    let leptos_options = LeptosOptions::builder()
        .output_name("tileworks")
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let products = crate::products::Products::open(store.clone(), &config.data.path).await?;
    let stemcells =
        crate::stemcells::StemcellLibrary::open(store.clone(), products.clone(), &config.data.path)
            .await?;
    // The Director: a real one (--director-url) or the stand-in, started here and stopped last.
    let (director_link, embedded_director) =
        crate::installations::director::connect(&config.director, &config.data.path).await?;
    let installations =
        crate::installations::Installations::new(store.clone(), products.clone(), director_link);
    installations.set_apply_parallelism(usize::from(config.apply_parallelism));
    installations.recover().await?;
    let state = AppState {
        store: store.clone(),
        products,
        stemcells,
        logs: crate::instance_logs::InstanceLogs::open(installations.clone(), &config.data.path)?,
        installations,
        throttle: Arc::new(Throttle::new(Policy::default())),
        leptos_options,
    };
    spawn_session_sweeper(SqliteSessionStore::new(store.pool().clone()));

    let tls = config.tls();
    let app = router(state, tls.is_some()).into_make_service_with_connect_info::<SocketAddr>();
    let scheme = if tls.is_some() { "https" } else { "http" };
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("Tileworks listening on {scheme}://{addr}");
    tracing::info!(%addr, scheme, "serving");

    let served = match tls {
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::io("adopting the listener", e))?;
            // Small responses (assets, API JSON) on keep-alive connections otherwise wait ~40 ms
            // for the client's delayed ACK (Nagle); see BENCHMARKS.md "Pages under load".
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .map_err(|e| Error::io("serving HTTP", e))
        }
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls_config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| {
                    Error::Config(format!(
                        "TLS certificate {} / key {}: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?;
            let handle = axum_server::Handle::new();
            let shutdown = handle.clone();
            tokio::spawn(async move {
                shutdown_signal().await;
                shutdown.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            // TCP_NODELAY as on the plain-HTTP listener: small responses must not wait for a
            // delayed ACK.
            axum_server::from_tcp(listener)
                .acceptor(
                    axum_server::tls_rustls::RustlsAcceptor::new(tls_config)
                        .acceptor(axum_server::accept::NoDelayAcceptor::new()),
                )
                .handle(handle)
                .serve(app)
                .await
                .map_err(|e| Error::io("serving HTTPS", e))
        }
    };
    if let Some(director) = embedded_director {
        director.shutdown.shutdown().await;
    }
    served
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn spawn_session_sweeper(store: SqliteSessionStore) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(err) = store.delete_expired().await {
                tracing::warn!(error = %err, "sweeping expired sessions");
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
