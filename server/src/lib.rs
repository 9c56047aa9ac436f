//! Tileworks server: the web UI host, the Ops Manager-compatible API, authentication, the store,
//! and the command line.

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod broker;
pub mod claims;
pub mod cli;
pub mod config;
pub mod deployed;
pub mod director_client;
pub mod error;
pub mod files;
pub mod http;
pub mod installation_archive;
pub mod installations;
pub mod passphrase;
pub mod preview;
pub mod products;
pub mod reach;
pub mod release_job_specs;
pub mod release_tarball;
pub mod secrets;
pub mod setup;
pub mod stemcells;
pub mod store;
pub mod tile_archive;
pub mod tile_cli;
pub mod tls_certificate;
pub mod ui;
pub mod uploads;

pub use error::{Error, Result};

/// The Ops Manager API level Tileworks implements. `om` reads `major.minor` of the version that
/// `/api/v0/info` reports to decide which calls it may make.
pub const OPS_MANAGER_API_VERSION: &str = "3.0.0";

/// `/api/v0/info`'s version: the API level, then Tileworks's own version after a dash.
pub fn info_version() -> String {
    format!(
        "{}-tileworks.{}",
        OPS_MANAGER_API_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}
