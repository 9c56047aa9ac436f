//! What every handler shares: the services, the store and the Leptos options.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::throttle::Throttle;
use crate::store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// How many days audit entries are kept (`crate::audit::retention`).
    pub audit_retention_days: u32,
    /// The products service (tiles, staging, configuration) shared by the UI and the API.
    pub products: crate::products::Products,
    /// The Stemcell Library.
    pub stemcells: crate::stemcells::StemcellLibrary,
    /// Apply Changes: installations, their logs, deployed snapshots, the Director link.
    pub installations: crate::installations::Installations,
    /// The on-demand broker (the OSB API, served while PKS is deployed).
    pub broker: crate::broker::Broker,
    /// Instance log downloads (the Status tab's Logs links).
    pub logs: crate::deployed::instance_logs::InstanceLogs,
    pub throttle: Arc<Throttle>,
    /// How long browser sessions last.
    pub sessions: crate::auth::sessions::SessionPolicy,
    /// The unlock routes' state (answered as the gate's public entry points once open).
    pub lock: Arc<crate::http::unlock::Lock>,
    pub leptos_options: LeptosOptions,
    /// Tileworks's own TLS certificate (`/api/v0/settings/ssl_certificate`).
    pub tls_certificate: crate::tls_certificate::TlsCertificate,
    /// Exports of the installation (`GET /api/v0/installation_asset_collection`).
    pub exporter: crate::installation_archive::Exporter,
    /// The tile `tileworks tile preview` serves; `None` in `tileworks serve`.
    pub preview: Option<crate::preview::Preview>,
    /// Rendered settings pages, while nothing they show changes (`super::page_cache`).
    pub page_cache: Arc<super::page_cache::PageCache>,
}

impl FromRef<AppState> for Arc<crate::http::unlock::Lock> {
    fn from_ref(state: &AppState) -> Self {
        state.lock.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
