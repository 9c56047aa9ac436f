//! `tileworks serve`: opens the store and the services, connects the Director, and serves the
//! router over HTTP or HTTPS until a signal stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use leptos::config::LeptosOptions;

use super::{router, AppState};
use crate::auth::throttle::{Policy, Throttle};
use crate::config::ServeConfig;
use crate::store::sessions::SqliteSessionStore;
use crate::store::Store;
use crate::{Error, Result};

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
        // `tileworks.<hash>` for a release site with hashed names (assets.rs).
        .output_name(super::assets::output_name(&config.site_root))
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
    let broker = crate::broker::Broker::new(store.clone(), installations.clone());
    broker.recover().await?;
    let state = AppState {
        store: store.clone(),
        products,
        stemcells,
        logs: crate::deployed::instance_logs::InstanceLogs::open(
            installations.clone(),
            &config.data.path,
        )?,
        installations,
        broker,
        throttle: Arc::new(Throttle::new(Policy::default())),
        sessions: config.sessions,
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
    // Colours only for a terminal: a log file or a collector gets plain text.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
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
