//! `tileworks serve` settings: flags with `TILEWORKS_*` environment fallbacks and defaults that
//! need no flag at all.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on. Port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "TILEWORKS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    #[command(flatten)]
    pub data: DataDir,

    /// Folder with the built browser assets (`pkg/tileworks.js`, `pkg/tileworks_bg.wasm`, CSS).
    #[arg(long, env = "TILEWORKS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// PEM certificate chain; with --tls-key, serve HTTPS (and mark the session cookie Secure).
    #[arg(long, env = "TILEWORKS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for --tls-cert.
    #[arg(long, env = "TILEWORKS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Name of the first administrator, created on the first start only.
    #[arg(long, env = "TILEWORKS_ADMIN_USER", default_value = "admin")]
    pub admin_user: String,

    /// Password of the first administrator. Unset: one is generated, printed once and written to
    /// `<data-dir>/initial-admin-password` (mode 0600).
    #[arg(long, env = "TILEWORKS_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// The decryption passphrase (SECURITY.md): set on the first start (unset: one is generated
    /// and printed once); on later starts it unlocks at once (unset: locked until someone
    /// enters it at `/unlock` or `PUT /api/v0/unlock`). Prefer the environment variable: a
    /// command line is visible to every user of the machine.
    #[arg(
        long = "decryption-passphrase",
        env = "TILEWORKS_DECRYPTION_PASSPHRASE",
        hide_env_values = true
    )]
    pub decryption_passphrase: Option<String>,

    /// How a data dir with neither a passphrase nor a user is set up: `auto` sets both up at
    /// once from the environment (or generates them); `api` starts fresh and waits for
    /// `POST /api/v0/setup` (om configure-authentication), the `/setup` page, or an import
    /// (om import-installation). A data dir already set up ignores it.
    #[arg(long, env = "TILEWORKS_SETUP", value_enum, default_value_t = crate::setup::SetupMode::Auto)]
    pub setup: crate::setup::SetupMode,

    /// Keep tiles and stemcells in an S3-compatible object store, `s3://BUCKET[/PREFIX]`, instead
    /// of the data dir alone: replicas on separate machines share files this way, each
    /// replica's data dir caching the store. Credentials, region and endpoint come from
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL (`http://`
    /// allowed).
    #[arg(long = "object-store-url", env = "TILEWORKS_OBJECT_STORE_URL")]
    pub object_store_url: Option<String>,

    #[command(flatten)]
    pub director: DirectorFlags,

    /// Apply Changes: how many independent products deploy (or are deleted) at once; 1 deploys
    /// them one after the other.
    #[arg(
        long = "apply-parallelism",
        env = "TILEWORKS_APPLY_PARALLELISM",
        default_value_t = crate::installations::DEFAULT_APPLY_PARALLELISM,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub apply_parallelism: u16,

    /// This replica's name in the database: the holder of the Apply Changes lock while it runs
    /// an apply. Give each replica sharing a PostgreSQL database its own name, the same across
    /// its restarts (a restarted replica then fails the apply it was running at once instead
    /// of after the lease). Unset: the host name and process id.
    #[arg(long = "replica-id", env = "TILEWORKS_REPLICA_ID")]
    pub replica_id: Option<String>,

    /// How long (seconds) the Apply Changes lock outlives the last renewal by the replica
    /// running the apply (renewed every third of it): when a replica dies mid-apply, another
    /// marks the apply failed this long after.
    #[arg(
        long = "apply-lease-secs",
        env = "TILEWORKS_APPLY_LEASE_SECS",
        default_value_t = crate::installations::lease::DEFAULT_APPLY_LEASE_SECS,
        value_parser = clap::value_parser!(u64).range(2..=3600)
    )]
    pub apply_lease_secs: u64,

    /// Allows the in-process Director stand-in on a PostgreSQL database: say so only when no
    /// other replica uses that database (each replica would otherwise deploy to a stand-in of
    /// its own). Replicas sharing a database use one Director through --director-url.
    #[arg(long = "single-replica", env = "TILEWORKS_SINGLE_REPLICA")]
    pub single_replica: bool,

    #[command(flatten)]
    pub sessions: crate::auth::sessions::SessionPolicy,

    /// How many days audit entries are kept: older ones are pruned in the background (at start
    /// and hourly), each prune recorded as an entry of its own.
    #[arg(
        long = "audit-retention-days",
        env = "TILEWORKS_AUDIT_RETENTION_DAYS",
        default_value_t = crate::audit::retention::DEFAULT_DAYS,
        value_parser = clap::value_parser!(u32).range(1..=crate::audit::retention::MAX_DAYS as i64)
    )]
    pub audit_retention_days: u32,
}

/// Which BOSH Director Tileworks deploys to. Without `--director-url` it starts the Director
/// stand-in in-process (data in `<data-dir>/director`); either way it talks to it only through
/// the Director API client.
#[derive(Debug, Clone, Args)]
pub struct DirectorFlags {
    /// URL of a real BOSH Director (`https://host:25555`). Unset: run the embedded stand-in.
    #[arg(long = "director-url", env = "TILEWORKS_DIRECTOR_URL")]
    pub url: Option<String>,

    /// The Director's CA certificate: a PEM file path (or the PEM text itself). Unset: the
    /// system's CA bundle is trusted.
    #[arg(long = "director-ca-cert", env = "TILEWORKS_DIRECTOR_CA_CERT")]
    pub ca_cert: Option<String>,

    /// Client name for the Director (Basic user or UAA client). Also the embedded stand-in's
    /// client when no URL is given (default `admin`).
    #[arg(long = "director-client", env = "TILEWORKS_DIRECTOR_CLIENT")]
    pub client: Option<String>,

    /// The client's secret. Required with --director-url; for the embedded stand-in it is
    /// generated and kept in `<data-dir>/director/client-secret` when unset.
    #[arg(
        long = "director-client-secret",
        env = "TILEWORKS_DIRECTOR_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,

    /// The embedded stand-in's simulated latency of each VM/disk operation, in milliseconds.
    #[arg(
        long = "director-vm-create-ms",
        env = "TILEWORKS_DIRECTOR_VM_CREATE_MS",
        default_value_t = 0
    )]
    pub vm_create_ms: u64,

    /// The embedded stand-in's task workers (how many Director tasks run at once; a real
    /// Director's default is 5). Fleet benchmarks raise it to measure `max_in_flight` above 5.
    #[arg(
        long = "director-workers",
        env = "TILEWORKS_DIRECTOR_WORKERS",
        default_value_t = 5,
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    pub workers: u16,
}

impl ServeConfig {
    pub fn tls(&self) -> Option<(PathBuf, PathBuf)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            _ => None,
        }
    }
}

/// Where Tileworks keeps its state: the database (the data dir's SQLite file unless
/// `--database-url` names another) and files.
#[derive(Debug, Clone, Args)]
pub struct DataDir {
    #[arg(long = "data-dir", env = "TILEWORKS_DATA_DIR", default_value = "data")]
    pub path: PathBuf,
    /// The database: `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`. Without it,
    /// the data dir's `tileworks.db` (SQLite).
    #[arg(long = "database-url", env = "TILEWORKS_DATABASE_URL")]
    pub database_url: Option<String>,
}
