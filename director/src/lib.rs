//! The BOSH Director stand-in: a real HTTPS server speaking the Director API (the part the
//! `bosh` CLI and Tileworks use) over simulated VMs.
//!
//! It never depends on `server`; Tileworks reaches it only over HTTP. [`start`] runs it inside
//! another program (tests, `tileworks serve` embedding it); [`run`] is `tileworks director`.
//!
//! Concepts, one module each: [`api`] (one file per resource), [`tasks`] (queue, workers,
//! output files), [`locks`], [`cpi`] (simulated VMs and disks), [`deploy`] (planning and the
//! update order), [`health`] (heartbeats, resurrector, cloud check), [`errands`],
//! [`config_server`] (variables, sealed), [`store`] (SQLite), [`tls`] (CA and certificates).

pub mod api;
pub mod blobs;
pub mod config_server;
pub mod cpi;
pub mod deploy;
pub mod errands;
pub mod error;
pub mod faults;
pub mod health;
pub mod locks;
pub mod store;
pub mod tasks;
pub mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};

pub use error::{Error, Result};

/// The Director version `/info` reports (a recent bosh-director).
pub const DIRECTOR_VERSION: &str = "282.0.0 (00000000)";

/// `tileworks director` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DirectorArgs {
    /// Address to listen on (HTTPS). Port 0 picks a free port.
    #[arg(
        long,
        env = "TILEWORKS_DIRECTOR_LISTEN",
        default_value = "127.0.0.1:25555"
    )]
    pub listen: SocketAddr,
    /// Directory for the Director's database, CA, keys and task outputs.
    #[arg(
        long,
        env = "TILEWORKS_DIRECTOR_DATA_DIR",
        default_value = "data/director"
    )]
    pub data_dir: PathBuf,
    /// Simulated latency of every CPI call (create/delete VM or disk), in milliseconds.
    #[arg(long, env = "TILEWORKS_DIRECTOR_VM_CREATE_MS", default_value_t = 0)]
    pub vm_create_ms: u64,
    /// How many tasks run at once (different deployments proceed in parallel).
    #[arg(long, env = "TILEWORKS_DIRECTOR_WORKERS", default_value_t = 5)]
    pub workers: usize,
    /// Basic-auth client name (default `admin`).
    #[arg(long, env = "TILEWORKS_DIRECTOR_CLIENT")]
    pub client: Option<String>,
    /// Basic-auth secret; generated and written to `<data-dir>/client-secret` when unset.
    #[arg(long, env = "TILEWORKS_DIRECTOR_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// The config server's sealing key: 32 bytes as 64 hex digits. Unset: generated and kept in
    /// `<data-dir>/config-server.key`. Tileworks gives it when it runs the stand-in (sealed
    /// under its data key), so nothing in the data dir opens the variables.
    #[arg(long, env = "TILEWORKS_DIRECTOR_SEALING_KEY", hide_env_values = true, value_parser = parse_sealing_key)]
    pub sealing_key: Option<SealingKey>,
    /// Agent heartbeat interval in milliseconds (an agent is unresponsive after three).
    #[arg(long, env = "TILEWORKS_DIRECTOR_HEARTBEAT_MS", default_value_t = 1000)]
    pub heartbeat_ms: u64,
    /// Advertise UAA-style client credentials in `/info` (token endpoint `/uaa/oauth/token`)
    /// instead of basic auth. Both are accepted either way.
    #[arg(long, env = "TILEWORKS_DIRECTOR_UAA")]
    pub uaa: bool,
}

/// How to run a Director.
#[derive(Debug, Clone)]
pub struct DirectorConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub vm_create_ms: u64,
    pub workers: usize,
    pub client: Option<String>,
    pub client_secret: Option<String>,
    /// The config server's sealing key; `None`: `<data-dir>/config-server.key`.
    pub sealing_key: Option<SealingKey>,
    pub heartbeat_ms: u64,
    /// Advertise UAA-style client credentials instead of basic auth in `/info`.
    pub uaa: bool,
    /// The Director's name (`/info` and config-server paths).
    pub name: String,
}

impl DirectorConfig {
    /// Defaults for a data dir: loopback on a free port, no latency, 5 workers.
    pub fn new(data_dir: impl Into<PathBuf>) -> DirectorConfig {
        DirectorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            vm_create_ms: 0,
            workers: 5,
            client: None,
            client_secret: None,
            sealing_key: None,
            heartbeat_ms: 1000,
            uaa: false,
            name: "tileworks-director".into(),
        }
    }
}

impl From<DirectorArgs> for DirectorConfig {
    fn from(a: DirectorArgs) -> Self {
        DirectorConfig {
            listen: a.listen,
            data_dir: a.data_dir,
            vm_create_ms: a.vm_create_ms,
            workers: a.workers,
            client: a.client,
            client_secret: a.client_secret,
            sealing_key: a.sealing_key,
            heartbeat_ms: a.heartbeat_ms,
            uaa: a.uaa,
            name: "tileworks-director".into(),
        }
    }
}

/// The config server's 32-byte sealing key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SealingKey(pub [u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

/// The CPI name `/info` gives: clients can tell the stand-in's simulated IaaS from a real one.
pub const SIMULATED_CPI: &str = "tileworks_simulated_cpi";

/// `--sealing-key`: 64 hex digits.
pub fn parse_sealing_key(text: &str) -> std::result::Result<SealingKey, String> {
    let bytes = hex::decode(text.trim()).map_err(|_| "expected 64 hex digits".to_owned())?;
    bytes
        .try_into()
        .map(SealingKey)
        .map_err(|_| "expected 64 hex digits (32 bytes)".to_owned())
}

/// Fixed facts of a running Director.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub uuid: String,
    pub data_dir: PathBuf,
    pub client: String,
    pub client_secret: String,
    /// `https://host:port/uaa` when UAA-style auth is advertised.
    pub uaa_url: Option<String>,
}

/// The shared state every request and task sees.
#[derive(Debug)]
pub struct Director {
    pub store: store::Store,
    pub settings: Settings,
    pub locks: locks::Locks,
    pub workers: Arc<Semaphore>,
    pub cpi: cpi::Cpi,
    pub health: health::Health,
    pub errands: errands::Overrides,
    /// Deploys made to fail (`PUT /chaos/deployments/:name/deploy`).
    pub deploy_faults: faults::DeployFaults,
    pub config_server: config_server::ConfigServer,
    /// IP address → deployment, for addresses planned by deploys (see `deploy::plan`).
    pub ip_reservations: tokio::sync::Mutex<std::collections::HashMap<String, String>>,
    pub tokens: api::uaa::Tokens,
    /// Queued and running tasks, for cancellation.
    pub running: tasks::Running,
    /// The config server API refuses writes as CredHub refuses a client without write access
    /// (`PUT /chaos/config_server`).
    pub refuse_config_server_writes: std::sync::atomic::AtomicBool,
    /// Log fetches wait while this is set, as when agents are slow to bundle their logs
    /// (`PUT /chaos/logs`).
    pub logs_paused: tokio::sync::watch::Sender<bool>,
}

pub type Shared = Arc<Director>;

/// Stops a running Director: graceful HTTP shutdown, background loops, database.
#[derive(Debug)]
pub struct Shutdown {
    handle: axum_server::Handle,
    stop_loops: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    director: Shared,
}

impl Shutdown {
    pub async fn shutdown(self) {
        let _ = self.stop_loops.send(true);
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        let _ = self.server.await;
        self.director.store.close().await;
    }
}

/// A Director running in this process.
#[derive(Debug)]
pub struct RunningDirector {
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    pub addr: SocketAddr,
    /// The CA clients must trust (PEM).
    pub ca_cert_pem: String,
    pub client: String,
    pub client_secret: String,
    pub director: Shared,
    pub shutdown: Shutdown,
}

fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|e| Error::io(format!("creating data dir {}", path.display()), e))
}

/// The client secret: given, or kept in `<data-dir>/client-secret` (created on first start).
fn client_secret(data_dir: &Path, given: Option<String>) -> Result<String> {
    if let Some(secret) = given.filter(|s| !s.is_empty()) {
        return Ok(secret);
    }
    let path = data_dir.join("client-secret");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_string();
        if !secret.is_empty() {
            return Ok(secret);
        }
    }
    let secret = tiles::credentials::random_password(&mut rand::rngs::OsRng, 24);
    std::fs::write(&path, format!("{secret}\n"))
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io(format!("protecting {}", path.display()), e))?;
    }
    Ok(secret)
}

/// Starts a Director in the background and returns once it accepts connections.
pub async fn start(config: DirectorConfig) -> Result<RunningDirector> {
    create_private_dir(&config.data_dir)?;
    let listener = std::net::TcpListener::bind(config.listen)
        .map_err(|e| Error::io(format!("listening on {}", config.listen), e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("configuring the listener", e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the listen address", e))?;
    let config_server = config_server::ConfigServer::load_or_create(
        &config.data_dir,
        &config.name,
        config.sealing_key.as_ref(),
    )?;
    // Given its key (as Tileworks runs it), the stand-in seals its TLS CA's key with it too.
    let certs = tls::load_or_create(
        &config.data_dir.join("tls"),
        addr,
        config.sealing_key.as_ref().map(|_| &config_server),
    )?;
    let client = config.client.clone().unwrap_or_else(|| "admin".into());
    let secret = client_secret(&config.data_dir, config.client_secret.clone())?;

    let store = store::Store::open(&config.data_dir).await?;
    let interrupted = store.fail_interrupted_tasks().await?;
    if !interrupted.is_empty() {
        tracing::warn!(tasks = ?interrupted, "tasks interrupted by the previous shutdown");
    }
    let uuid = match store.setting("uuid").await? {
        Some(uuid) => uuid,
        None => {
            let uuid = uuid::Uuid::new_v4().to_string();
            store.set_setting("uuid", &uuid).await?;
            uuid
        }
    };
    let resurrection = store.setting("resurrection_paused").await?.as_deref() != Some("true");
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else if addr.is_ipv6() {
        format!("[{}]", addr.ip())
    } else {
        addr.ip().to_string()
    };
    let url = format!("https://{host}:{}", addr.port());
    let director = Arc::new(Director {
        config_server,
        store,
        settings: Settings {
            name: config.name.clone(),
            uuid,
            data_dir: config.data_dir.clone(),
            client: client.clone(),
            client_secret: secret.clone(),
            uaa_url: config.uaa.then(|| format!("{url}/uaa")),
        },
        locks: locks::Locks::default(),
        workers: Arc::new(Semaphore::new(config.workers.max(1))),
        cpi: cpi::Cpi::new(config.vm_create_ms),
        health: health::Health::new(
            Duration::from_millis(config.heartbeat_ms.max(10)),
            resurrection,
        ),
        errands: errands::Overrides::default(),
        deploy_faults: faults::DeployFaults::default(),
        ip_reservations: Default::default(),
        tokens: Default::default(),
        running: Default::default(),
        refuse_config_server_writes: Default::default(),
        logs_paused: tokio::sync::watch::channel(false).0,
    });

    let (stop_loops, loops_rx) = watch::channel(false);
    health::spawn(director.clone(), loops_rx);

    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls_config = axum_server::tls_rustls::RustlsConfig::from_pem(
        certs.server.cert_pem.clone().into_bytes(),
        certs.server.key_pem.clone().into_bytes(),
    )
    .await
    .map_err(|e| Error::Config(format!("TLS configuration: {e}")))?;
    let handle = axum_server::Handle::new();
    let app = api::router(director.clone());
    let server = {
        let handle = handle.clone();
        tokio::spawn(async move {
            // TCP_NODELAY as on the plain-HTTP listener: small responses must not wait for a
            // delayed ACK.
            let served = axum_server::from_tcp(listener)
                .acceptor(
                    axum_server::tls_rustls::RustlsAcceptor::new(tls_config)
                        .acceptor(axum_server::accept::NoDelayAcceptor::new()),
                )
                .handle(handle)
                .serve(app.into_make_service())
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "director server stopped");
            }
        })
    };
    handle.listening().await;
    Ok(RunningDirector {
        url,
        addr,
        ca_cert_pem: certs.ca.cert_pem,
        client,
        client_secret: secret,
        director: director.clone(),
        shutdown: Shutdown {
            handle,
            stop_loops,
            server,
            director,
        },
    })
}

/// Runs a Director until Ctrl-C or SIGTERM (`tileworks director`).
pub async fn run(config: DirectorConfig) -> Result<()> {
    let data_dir = config.data_dir.clone();
    let running = start(config).await?;
    // Scripts read this line to learn the URL when listening on port 0.
    println!("BOSH Director stand-in listening on {}", running.url);
    println!(
        "  CA certificate: {}",
        data_dir.join("tls").join("ca.crt").display()
    );
    println!(
        "  client: {} (secret in {} unless given)",
        running.client,
        data_dir.join("client-secret").display()
    );
    shutdown_signal().await;
    running.shutdown.shutdown().await;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        director: DirectorArgs,
    }

    #[test]
    fn flags_have_the_documented_defaults() {
        let cli = Cli::try_parse_from(["tileworks-director"]).unwrap();
        let config = DirectorConfig::from(cli.director);
        assert_eq!(config.listen, "127.0.0.1:25555".parse().unwrap());
        assert_eq!(config.workers, 5);
        assert_eq!(config.vm_create_ms, 0);
        assert!(config.client_secret.is_none());
        assert!(!config.uaa);
        let cli = Cli::try_parse_from([
            "x",
            "--listen",
            "0.0.0.0:0",
            "--vm-create-ms",
            "250",
            "--workers",
            "2",
            "--client",
            "ops",
            "--client-secret",
            "s3cret",
            "--uaa",
        ])
        .unwrap();
        let config = DirectorConfig::from(cli.director);
        assert_eq!(config.vm_create_ms, 250);
        assert_eq!(config.workers, 2);
        assert_eq!(config.client.as_deref(), Some("ops"));
        assert_eq!(config.client_secret.as_deref(), Some("s3cret"));
        assert!(config.uaa);
    }
}
