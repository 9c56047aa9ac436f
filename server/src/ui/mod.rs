//! The server's side of the UI: each file implements one of the app's backend traits
//! (`app::backend::*`) over the services, in the plain types the browser receives. Nothing
//! here decides who may do what: every server function passed the gate (`crate::http::gate`)
//! before it reached a backend. The Leptos context that hands the backends to the pages is
//! built in [`contexts`].

pub mod audit;
pub mod certificate_authorities;
pub mod clusters;
pub mod credentials;
pub mod director;
pub mod installations;
pub mod logs;
pub mod problems;
pub mod products;
pub mod review;
pub mod settings;
pub mod settings_menu;
pub mod stemcells;
pub mod tls_certificate;
pub mod users;
pub mod vm_extensions;

use std::sync::Arc;

use app::backend::BackendError;

use crate::http::AppState;
use crate::Error;

/// The closure that provides every backend to a request's pages and server functions.
pub fn contexts(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let ui = Arc::new(products::UiBackend::new(state.products.clone()));
    let products: Arc<dyn app::backend::products::ProductsBackend> = ui.clone();
    let placement: Arc<dyn app::backend::products::PlacementBackend> = ui.clone();
    let director: Arc<dyn app::backend::director::DirectorBackend> = ui;
    let settings: Arc<dyn app::backend::settings::SettingsBackend> =
        Arc::new(settings::UiSettings::new(state.products.clone()));
    let installs = installations::backend(state.installations.clone());
    let review = review::UiReview::context(state);
    let logs = logs::context(&state.logs);
    let credentials = credentials::context(&state.installations);
    let users = users::context(&state.store);
    let clusters = clusters::context(&state.broker);
    let audit = audit::context(&state.store, state.audit_retention_days);
    let stemcells = stemcells::context(&state.stemcells);
    let settings_menu = settings_menu::context();
    let certificate_authorities = certificate_authorities::context(&state.products);
    let tls_certificate = tls_certificate::context(&state.tls_certificate);
    let vm_extensions = vm_extensions::context(&state.products);
    move || {
        use leptos::prelude::provide_context;
        provide_context(products.clone());
        provide_context(director.clone());
        provide_context(placement.clone());
        provide_context(settings.clone());
        provide_context(installs.clone());
        provide_context(review.clone());
        provide_context(logs.clone());
        provide_context(credentials.clone());
        provide_context(users.clone());
        provide_context(clusters.clone());
        provide_context(audit.clone());
        provide_context(stemcells.clone());
        provide_context(settings_menu.clone());
        provide_context(certificate_authorities.clone());
        provide_context(tls_certificate.clone());
        provide_context(vm_extensions.clone());
    }
}

/// What the operator reads when a UI request fails, with the request's HTTP status set to
/// the error's (403, 404, 409, 422…, as the API answers it): a refusal is not a server failure.
///
/// Only a server function call gets the status: a page streams its HTML while its data loads,
/// so a status set by a failure there would land or not depending on timing; the page says what
/// failed in its text instead.
pub(crate) fn shown(err: Error) -> BackendError {
    let is_call = leptos::prelude::use_context::<axum::http::request::Parts>()
        .is_some_and(|parts| parts.uri.path().starts_with("/_app/"));
    if is_call {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(err.status());
        }
    }
    described(err)
}

/// What the operator reads about a failure, without touching the response (for a failure a
/// page only notes); internal details stay in the log.
pub(crate) fn described(err: Error) -> BackendError {
    match err {
        Error::Invalid { field, message } => BackendError(format!("{field}: {message}")),
        Error::Rejected(errors) => BackendError(
            errors
                .iter()
                .flat_map(|(k, v)| v.iter().map(move |m| format!("{k}: {m}")))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::ApplyRefused(refusal) => BackendError(refusal.to_string()),
        Error::NotFound(what) => BackendError(format!("{what} not found")),
        Error::Conflict(what) => BackendError(format!("{what} already exists")),
        Error::Refused(rule) => BackendError(rule),
        Error::Forbidden(what) => BackendError(format!("not allowed: {what}")),
        stale @ Error::Stale { .. } => BackendError(stale.to_string()),
        // The Director's message names the deployment or task; it holds no secrets.
        director @ Error::Director { .. } => BackendError(director.to_string()),
        // The object store's names the store and the object; credentials never enter it.
        store @ Error::ObjectStore { .. } => BackendError(store.to_string()),
        running @ Error::InstallationRunning(_) => BackendError(format!(
            "{running}: changes are refused until Apply Changes finishes"
        )),
        other => {
            tracing::error!(error = %other, "UI request failed");
            BackendError("Internal error; see the server log.".into())
        }
    }
}
