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
}

impl ServeConfig {
    pub fn tls(&self) -> Option<(PathBuf, PathBuf)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            _ => None,
        }
    }
}

/// Where Tileworks keeps its state: the SQLite database and generated files.
#[derive(Debug, Clone, Args)]
pub struct DataDir {
    #[arg(long = "data-dir", env = "TILEWORKS_DATA_DIR", default_value = "data")]
    pub path: PathBuf,
}
