//! `tileworks serve`: opens the store, sets up or unlocks the data key (`crate::passphrase`),
//! opens the services, connects the Director, and serves the router over HTTP or HTTPS until a
//! signal stops it. The listener serves from the start; until unlocked, only the unlock routes.

use std::net::SocketAddr;
use std::sync::Arc;

use leptos::config::LeptosOptions;

use super::unlock::{Lock, Phase};
use super::{router, AppState};
use crate::auth::throttle::{Policy, Throttle};
use crate::config::ServeConfig;
use crate::store::sealing::{Key32, Sealer};
use crate::store::sessions::DatabaseSessionStore;
use crate::store::Store;
use crate::{Error, Result};

/// `tileworks serve`: open the store, set up or unlock the data key, create the first admin if
/// needed, and serve until stopped. Locked (see [`super::unlock`]) until the decryption
/// passphrase is given when the environment does not give it.
pub async fn serve(config: ServeConfig) -> Result<()> {
    init_tracing();
    refuse_embedded_director_on_shared_database(&config)?;
    // An object store that does not answer stops the start here, naming it, rather than the
    // first import.
    let files =
        crate::files::Files::open(&config.data.path, config.object_store_url.as_deref()).await?;
    let store = Store::open_data(&config.data).await?;
    let given = config
        .decryption_passphrase
        .clone()
        .filter(|p| !p.is_empty());
    // `--setup=api` on a data dir with neither a passphrase nor a user: fresh, set up later
    // through the API (`crate::setup`) or by an import.
    let fresh =
        config.setup == crate::setup::SetupMode::Api && crate::setup::is_fresh(&store).await?;
    let data_key = match crate::passphrase::state(&store).await? {
        _ if fresh => None,
        crate::passphrase::State::Unset => Some(set_up_passphrase(&store, &config, given).await?),
        crate::passphrase::State::Set => match given {
            Some(passphrase) => Some(
                crate::passphrase::unlock(&store, &passphrase)
                    .await
                    .map_err(|err| match err {
                        Error::Forbidden(_) => Error::Config(format!(
                            "{}: the decryption passphrase is incorrect",
                            crate::passphrase::ENV
                        )),
                        other => other,
                    })?,
            ),
            None => None,
        },
    };
    if !fresh {
        crate::bootstrap::ensure_first_admin(&store, &config).await?;
    }

    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| Error::io(format!("listening on {}", config.listen), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listen address", e))?;

    let phase = if fresh { Phase::Fresh } else { Phase::Locked };
    let lock = Lock::new(store.clone(), config.data.path.clone(), phase);
    let tls = config.tls();
    // The HTTPS listener's configuration, kept so a certificate set through the API
    // (`crate::tls_certificate`) replaces the command line's in place.
    let live_tls = match &tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            Some(
                axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                    .await
                    .map_err(|e| {
                        Error::Config(format!(
                            "TLS certificate {} / key {}: {e}",
                            cert.display(),
                            key.display()
                        ))
                    })?,
            )
        }
        None => None,
    };
    // Known key: everything opens before the address is printed, so whoever reads it can use
    // every route at once.
    let mut embedded_director = None;
    if let Some(key) = &data_key {
        embedded_director =
            open_app(&config, &files, &store, key, &lock, addr, live_tls.clone()).await?;
    }
    let entry = super::unlock::locked_router(lock.clone(), &config.site_root, tls.is_some())
        .into_make_service_with_connect_info::<SocketAddr>();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let mut server = Box::pin(wait_server(tokio::spawn(serve_on(
        listener,
        entry,
        live_tls.clone(),
    ))));
    if fresh {
        println!(
            "Tileworks is not set up yet: open {scheme}://{addr}/setup, or POST /api/v0/setup \
             (om configure-authentication), or import an installation (om import-installation)."
        );
    } else if data_key.is_none() {
        println!(
            "Tileworks is locked: open {scheme}://{addr}/unlock and enter the decryption passphrase \
             (or PUT /api/v0/unlock, or start with {} set).",
            crate::passphrase::ENV
        );
    }
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("Tileworks listening on {scheme}://{addr}");
    tracing::info!(%addr, scheme, locked = data_key.is_none(), "serving");
    if data_key.is_none() {
        let key = tokio::select! {
            key = lock.unlocked() => key,
            served = &mut server => return served,
        };
        // An import replaced the database the lock held.
        let store = lock.store();
        embedded_director =
            open_app(&config, &files, &store, &key, &lock, addr, live_tls.clone()).await?;
        println!("Tileworks unlocked.");
    }

    let served = server.await;
    if let Some(director) = embedded_director {
        director.shutdown.shutdown().await;
    }
    served
}

/// `tileworks tile preview`: the same services and router as `serve`, on `data_dir` (a fresh
/// temporary folder the caller removes), with the tile at `source` staged and watched
/// (`crate::preview`), no user and no login (every request is the preview's principal), and
/// a passphrase made up and forgotten: the data lives only as long as the preview. Serves on
/// `listen` (the caller refused anything but loopback) until a signal stops it.
pub async fn serve_preview(
    source: std::path::PathBuf,
    listen: SocketAddr,
    site_root: std::path::PathBuf,
    data_dir: std::path::PathBuf,
) -> Result<()> {
    init_tracing_or("warn");
    let config = ServeConfig {
        listen,
        data: crate::config::DataDir {
            path: data_dir,
            database_url: None,
        },
        site_root,
        tls_cert: None,
        tls_key: None,
        admin_user: String::new(),
        admin_password: None,
        decryption_passphrase: None,
        setup: crate::setup::SetupMode::Auto,
        director: crate::config::DirectorFlags {
            url: None,
            ca_cert: None,
            client: None,
            client_secret: None,
            vm_create_ms: 0,
            workers: 5,
        },
        apply_parallelism: crate::installations::DEFAULT_APPLY_PARALLELISM,
        replica_id: None,
        apply_lease_secs: crate::installations::lease::DEFAULT_APPLY_LEASE_SECS,
        single_replica: false,
        object_store_url: None,
        sessions: crate::auth::sessions::SessionPolicy::default(),
        audit_retention_days: crate::audit::retention::DEFAULT_DAYS,
    };
    let store = Store::open_data(&config.data).await?;
    let (key, _) =
        crate::passphrase::set_up(&store, &config.data.path, &crate::passphrase::generate())
            .await?;
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| Error::io(format!("listening on {}", config.listen), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listen address", e))?;
    let lock = Lock::new(store.clone(), config.data.path.clone(), Phase::Locked);
    let files = crate::files::Files::local(&config.data.path);
    let (mut state, embedded_director) = open_services(
        &config,
        &files,
        store.clone(),
        &key,
        lock.clone(),
        addr,
        None,
    )
    .await?;
    let preview = crate::preview::Preview::new(source);
    // The first load before the address is printed: the first page shows the tile.
    if let Some(shown) = preview.refresh(&state.products).await {
        crate::preview::report(&shown);
    }
    preview.watch(state.products.clone());
    state.preview = Some(preview.clone());
    lock.open(router(state, false));
    let entry = super::unlock::locked_router(lock, &config.site_root, false)
        .into_make_service_with_connect_info::<SocketAddr>();
    println!(
        "Previewing {} at http://{addr}{} (it reloads as the tile changes; Ctrl-C stops it)",
        preview.source().display(),
        super::preview::PAGE
    );
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("Tileworks preview listening on http://{addr}");
    let served = serve_on(listener, entry, None).await;
    if let Some(director) = embedded_director {
        director.shutdown.shutdown().await;
    }
    store.pool().close().await;
    served
}

/// Opens the services with the data key and hands the full router to the lock.
async fn open_app(
    config: &ServeConfig,
    files: &crate::files::Files,
    store: &Store,
    key: &Key32,
    lock: &Arc<Lock>,
    addr: SocketAddr,
    live_tls: Option<axum_server::tls_rustls::RustlsConfig>,
) -> Result<Option<director::RunningDirector>> {
    let tls = live_tls.is_some();
    let (state, embedded_director) = open_services(
        config,
        files,
        store.clone(),
        key,
        lock.clone(),
        addr,
        live_tls,
    )
    .await?;
    spawn_session_sweeper(DatabaseSessionStore::new(state.store.pool().clone()));
    lock.open(router(state, tls));
    tracing::info!("unlocked: every service is up");
    Ok(embedded_director)
}

/// First start: the passphrase from the environment, or a generated one printed once (with the
/// admin password, on the console only). An install from before the scheme keeps its data.
async fn set_up_passphrase(
    store: &Store,
    config: &ServeConfig,
    given: Option<String>,
) -> Result<Key32> {
    let generated = given.is_none();
    let passphrase = given.unwrap_or_else(crate::passphrase::generate);
    let (key, setup) = crate::passphrase::set_up(store, &config.data.path, &passphrase)
        .await
        .map_err(|err| match err {
            Error::Invalid { message, .. } => {
                Error::Config(format!("{}: {message}", crate::passphrase::ENV))
            }
            other => other,
        })?;
    if setup == crate::passphrase::Setup::MigratedKeyFile {
        println!(
            "Moved the sealing key into the database, sealed under the decryption passphrase; \
             {} is removed.",
            crate::store::sealing::LEGACY_KEY_FILE
        );
    }
    if generated {
        // Printed straight to the console (never the log), this once: it is stored nowhere.
        println!(
            "Set the decryption passphrase: {passphrase}\n\
             Keep it safe: every later start needs it (the /unlock page, PUT /api/v0/unlock or \
             {}), and it cannot be recovered.",
            crate::passphrase::ENV
        );
    } else {
        println!(
            "Set the decryption passphrase from {}.",
            crate::passphrase::ENV
        );
    }
    Ok(key)
}

/// Everything that needs the data key: the services, the Director, the shared state.
async fn open_services(
    config: &ServeConfig,
    files: &crate::files::Files,
    store: Store,
    data_key: &Key32,
    lock: Arc<Lock>,
    addr: SocketAddr,
    live_tls: Option<axum_server::tls_rustls::RustlsConfig>,
) -> Result<(AppState, Option<director::RunningDirector>)> {
    let leptos_options = LeptosOptions::builder()
        // `tileworks.<hash>` for a release site with hashed names (assets.rs).
        .output_name(super::assets::output_name(&config.site_root))
        .site_root(config.site_root.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let sealer = Sealer::new(data_key);
    store.seal_at_rest_with(sealer.clone());
    let resealed = store.broker().seal_plaintext().await?;
    if resealed > 0 {
        tracing::info!(
            rows = resealed,
            "sealed cluster manifests kept in plaintext before"
        );
    }
    let embedded_director = config.director.url.is_none();
    let products = crate::products::Products::open_with(
        store.clone(),
        files.clone(),
        sealer.clone(),
        crate::products::ImportLimits::default(),
        embedded_director,
    )
    .await?;
    if products.seal_director_plaintext().await? {
        tracing::info!("sealed Director Config secrets kept in plaintext before");
    }
    let stemcells =
        crate::stemcells::StemcellLibrary::open(store.clone(), products.clone()).await?;
    // A data dir moving to an object store (or an installation just imported) brings its files.
    let uploaded = crate::files::sync::upload_missing(files, &store).await?;
    if uploaded > 0 {
        tracing::info!(
            files = uploaded,
            "uploaded this data dir's files to the object store"
        );
    }
    // The Director: a real one (--director-url) or the stand-in, started here and stopped last.
    let (director_link, embedded_director) = crate::installations::director::connect(
        &config.director,
        &config.data.path,
        &store,
        &sealer,
    )
    .await?;
    let installations =
        crate::installations::Installations::new(store.clone(), products.clone(), director_link);
    // A Director reached at start whose CPI is the stand-in's simulated one has no real IaaS
    // for the verifiers to reach (one unreachable now is treated as real).
    if let Ok(info) = installations.director().client.info().await {
        products.set_simulated_iaas(info.cpi.as_deref() == Some(director::SIMULATED_CPI));
    }
    installations.set_apply_parallelism(usize::from(config.apply_parallelism));
    installations.set_replica(crate::installations::lease::Replica::new(
        config.replica_id.clone(),
        config.apply_lease_secs,
    ));
    let broker = crate::broker::Broker::new(store.clone(), installations.clone());
    // The PKS tile's fleet errands are the broker's, from the first apply on.
    installations.set_errand_runner(Arc::new(broker.clone()));
    installations.recover().await?;
    installations.watch_leases();
    broker.recover().await?;
    broker.recover_fleet_runs().await?;
    broker.watch_claims();
    let tls_certificate = crate::tls_certificate::TlsCertificate::open(
        store.clone(),
        sealer.clone(),
        live_tls,
        config.tls(),
    )
    .await?;
    crate::audit::retention::spawn(store.clone(), config.audit_retention_days);
    let logs = crate::deployed::instance_logs::InstanceLogs::open(
        installations.clone(),
        products.files().clone(),
    )
    .await?;
    let state = AppState {
        store: store.clone(),
        audit_retention_days: config.audit_retention_days,
        products,
        stemcells,
        logs,
        installations,
        broker,
        throttle: Arc::new(Throttle::new(store.clone(), Policy::default())),
        sessions: config.sessions,
        lock,
        leptos_options,
        tls_certificate,
        exporter: crate::installation_archive::Exporter::new(
            &config.data.path,
            data_key.clone(),
            match &config.director.url {
                None => crate::installation_archive::DirectorReference::Embedded,
                Some(url) => crate::installation_archive::DirectorReference::External {
                    url: url.to_string(),
                },
            },
        )
        .with_tls_files(config.tls())
        .with_files(files.clone()),
        preview: None,
        page_cache: Default::default(),
    };
    Ok((state, embedded_director))
}

/// With PostgreSQL, several replicas may share the database; each would start a Director
/// stand-in of its own and deploy to it, so their deployments would disagree. Refused unless the
/// Director is external (`--director-url`) or the operator says this is the only replica.
fn refuse_embedded_director_on_shared_database(config: &ServeConfig) -> Result<()> {
    let backend = crate::store::backend_of_url(config.data.database_url.as_deref())?;
    if backend == crate::store::Backend::Postgres
        && config.director.url.is_none()
        && !config.single_replica
    {
        return Err(Error::Config(
            "--director-url is required with a PostgreSQL database (--database-url): replicas \
             sharing the database must deploy to one Director, and the in-process Director \
             stand-in is this process's alone. Start one Director (`tileworks director \
             --data-dir DIR --listen ADDR`, or a real BOSH Director) and give every replica \
             --director-url, --director-ca-cert, --director-client and \
             --director-client-secret; or pass --single-replica if no other replica uses this \
             database."
                .into(),
        ));
    }
    Ok(())
}

async fn wait_server(server: tokio::task::JoinHandle<Result<()>>) -> Result<()> {
    server
        .await
        .map_err(|e| Error::Internal(format!("the HTTP server stopped: {e}")))?
}

type EntryService =
    axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>;

async fn serve_on(
    listener: std::net::TcpListener,
    app: EntryService,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
) -> Result<()> {
    match tls {
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
        Some(tls_config) => {
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
    }
}

fn init_tracing() {
    init_tracing_or("info,sqlx=warn,tower_http=info");
}

/// Logging to stderr, filtered by `RUST_LOG` or else by `default`.
fn init_tracing_or(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only for a terminal: a log file or a collector gets plain text.
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn spawn_session_sweeper(store: DatabaseSessionStore) {
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
