//! The gate: every request passes here before any handler, page or server function runs.
//!
//! It knows every entry point ([`ENTRY_POINTS`]: each API route, server function and page by
//! method and route pattern) and what each does as an [`Action`]; it finds who is asking
//! ([`crate::auth::principal`]), refuses cross-site requests that ride on a session cookie
//! ([`super::csrf`]) and asks the role table ([`crate::auth::roles`]) whether the principal
//! may do that action. Handlers never decide who may call them. An entry point missing from
//! the table is refused to everyone (and logged), so a new route cannot be open by accident;
//! `server/tests/gate.rs` proves every entry point answers every role as the table says.
//!
//! It also applies what every request of a kind needs: API bodies declared as what they are
//! (`415` otherwise, so a cross-site `text/plain` form can never pass for JSON), a size limit
//! on server-function calls, server-function refusals of malformed arguments as `400` rather
//! than the framework's `500`, and `Cache-Control: no-store` on everything a signed-in
//! principal reads.
//!
//! Around all of it, the recorder ([`super::recorder`]) writes the audit trail: every write,
//! credential reveal, sign-in and refusal, with the principal the gate found and the request
//! body filtered of credentials.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::auth::principal::{authenticate, Credential};
use crate::auth::roles::{refusal, role_allows, Action};
use crate::http::recorder::{self, Who};
use crate::http::{csrf, page_cache, server_timing, AppState};
use crate::Error;

/// Who may reach an entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in principal whose role allows the action.
    Signed(Action),
    /// The on-demand broker's OSB API: the deployed PKS tile's broker credentials by HTTP
    /// basic auth, never a session or a token (404 while PKS is not deployed). No CSRF check:
    /// a browser sends basic auth on its own only after someone typed it for these routes.
    Broker,
}

use Access::{Broker, Public, Signed};
use Action::{
    Administer, Apply, Configure, ExportInstallation, ManageAllClusters, ManageClusters,
    ManageTlsCertificate, ManageUsers, ReadAudit, SeeCredentials, SignedIn, View, ViewAllClusters,
};

/// Largest body a server function accepts (its arguments are a form or a little JSON).
pub const SERVER_FN_BODY_LIMIT: usize = 1024 * 1024;

/// Largest body an API route accepts, uploads aside (axum's default body limit, which the
/// handlers' extractors also apply to bodies sent without a length).
pub const API_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The API routes that take file uploads (streamed, with their own limits).
pub(crate) const UPLOADS: &[(&str, &str)] = &[
    ("POST", "/api/v0/available_products"),
    ("POST", "/api/v0/stemcells"),
    ("POST", "/api/v0/installation_asset_collection"),
];

/// Every entry point: method, route pattern (as the router matched it), access.
pub const ENTRY_POINTS: &[(&str, &str, Access)] = &[
    // Sign-in and the public few.
    ("GET", "/login", Public),
    ("POST", "/login", Public),
    ("POST", "/uaa/oauth/token", Public),
    ("GET", "/api/v0/info", Public),
    // Unlocking after a restart (answered by `unlock.rs` before and after; om's calls).
    ("GET", "/unlock", Public),
    ("POST", "/unlock", Public),
    ("PUT", "/api/v0/unlock", Public),
    ("GET", "/login/ensure_availability", Public),
    ("GET", "/auth/cloudfoundry", Public),
    // Setting up a fresh instance (`http/setup.rs`; once set up, every call is refused, 409).
    ("GET", "/setup", Public),
    ("POST", "/setup", Public),
    ("POST", "/api/v0/setup", Public),
    // Importing an exported installation into a fresh instance (om import-installation;
    // answered while fresh by `unlock.rs`'s router, 409 once set up).
    ("POST", "/api/v0/installation_asset_collection", Public),
    // The browser assets (hydration script, wasm, stylesheet): the login page needs them.
    ("GET", "/pkg/{file}", Public),
    ("POST", "/logout", Signed(SignedIn)),
    // Pages.
    ("GET", "/", Signed(View)),
    ("GET", "/director", Signed(View)),
    ("GET", "/director/changes", Signed(View)),
    ("GET", "/installations", Signed(View)),
    ("GET", "/installations/{id}", Signed(View)),
    ("GET", "/review", Signed(View)),
    ("GET", "/products/{guid}/settings", Signed(View)),
    // The settings form posted without the wasm (http/settings_form.rs).
    ("POST", "/products/{guid}/settings", Signed(Configure)),
    ("GET", "/products/{guid}/status", Signed(View)),
    ("GET", "/products/{guid}/credentials", Signed(View)),
    ("GET", "/products/{guid}/changes", Signed(View)),
    ("GET", "/users", Signed(ManageUsers)),
    ("GET", "/audit", Signed(ReadAudit)),
    ("GET", "/account", Signed(SignedIn)),
    ("GET", "/clusters", Signed(View)),
    ("GET", "/clusters/{name}", Signed(View)),
    // The cluster page's kubeconfig download (an admin token: never for the view roles).
    ("GET", "/clusters/{name}/kubeconfig", Signed(ManageClusters)),
    ("GET", "/stemcells", Signed(View)),
    ("GET", "/settings", Signed(Administer)),
    // The tile preview (`tileworks tile preview`, http/preview.rs): 404 outside a preview.
    ("GET", "/preview", Signed(View)),
    ("GET", "/preview/status", Signed(View)),
    ("GET", "/preview/reload.js", Signed(View)),
    // Server functions (the pages' calls).
    ("POST", "/_app/current_user", Signed(SignedIn)),
    ("POST", "/_app/dashboard", Signed(View)),
    ("POST", "/_app/stage_product", Signed(Configure)),
    ("POST", "/_app/unstage_product", Signed(Configure)),
    ("POST", "/_app/delete_available_product", Signed(Configure)),
    ("POST", "/_app/product_settings", Signed(View)),
    ("POST", "/_app/form_extras", Signed(View)),
    ("POST", "/_app/save_settings_form", Signed(Configure)),
    ("POST", "/_app/generate_form_certificate", Signed(Configure)),
    ("POST", "/_app/product_placement", Signed(View)),
    ("POST", "/_app/save_product_placement", Signed(Configure)),
    ("POST", "/_app/director", Signed(View)),
    ("POST", "/_app/save_director_properties", Signed(Configure)),
    ("POST", "/_app/save_director_azs", Signed(Configure)),
    ("POST", "/_app/save_director_networks", Signed(Configure)),
    (
        "POST",
        "/_app/save_director_network_and_az",
        Signed(Configure),
    ),
    ("POST", "/_app/save_director_vm_types", Signed(Configure)),
    ("POST", "/_app/save_director_disk_types", Signed(Configure)),
    ("POST", "/_app/review_page", Signed(View)),
    ("POST", "/_app/changes_page", Signed(View)),
    ("POST", "/_app/apply_changes", Signed(Apply)),
    ("POST", "/_app/installation", Signed(View)),
    ("POST", "/_app/change_log", Signed(View)),
    ("POST", "/_app/product_status", Signed(View)),
    ("POST", "/_app/start_log_fetch", Signed(SeeCredentials)),
    ("POST", "/_app/log_fetch_status", Signed(SeeCredentials)),
    ("POST", "/_app/product_credentials", Signed(View)),
    ("POST", "/_app/reveal_credential", Signed(SeeCredentials)),
    ("POST", "/_app/users_page", Signed(ManageUsers)),
    ("POST", "/_app/audit_page", Signed(ReadAudit)),
    ("POST", "/_app/stemcell_library", Signed(View)),
    ("POST", "/_app/assign_stemcell", Signed(Configure)),
    ("POST", "/_app/settings_menu", Signed(Administer)),
    // The Certificate Authorities settings page and its plain forms (http/ca_forms.rs), with the
    // actions of the API's routes.
    ("GET", "/settings/certificate-authorities", Signed(View)),
    ("POST", "/_app/certificate_authorities", Signed(View)),
    (
        "POST",
        "/settings/certificate-authorities",
        Signed(Configure),
    ),
    // The TLS certificate, VM extensions and decryption passphrase settings pages and their
    // plain forms (http/settings_forms.rs), with the actions of their API routes; changing the
    // passphrase is Tileworks's own setting, for administrators.
    (
        "GET",
        "/settings/ssl-certificate",
        Signed(ManageTlsCertificate),
    ),
    (
        "POST",
        "/_app/tls_certificate",
        Signed(ManageTlsCertificate),
    ),
    (
        "POST",
        "/settings/ssl-certificate",
        Signed(ManageTlsCertificate),
    ),
    ("GET", "/settings/vm-extensions", Signed(View)),
    ("POST", "/_app/vm_extensions", Signed(View)),
    ("POST", "/settings/vm-extensions", Signed(Configure)),
    ("GET", "/settings/decryption-passphrase", Signed(Administer)),
    (
        "POST",
        "/settings/decryption-passphrase",
        Signed(Administer),
    ),
    // The Director page's Security, Syslog and Resource Config sections posted as plain forms
    // (http/director_forms.rs).
    ("POST", "/director", Signed(Configure)),
    ("POST", "/_app/create_user", Signed(ManageUsers)),
    ("POST", "/_app/set_user_role", Signed(ManageUsers)),
    ("POST", "/_app/set_user_enabled", Signed(ManageUsers)),
    ("POST", "/_app/delete_user", Signed(ManageUsers)),
    ("POST", "/_app/reset_user_password", Signed(ManageUsers)),
    ("POST", "/_app/revoke_api_client", Signed(ManageUsers)),
    ("POST", "/_app/change_own_password", Signed(SignedIn)),
    // Clusters (which cluster a principal may see or change: `Broker::visible_cluster` and
    // `manageable_cluster`, on its creator).
    ("POST", "/_app/clusters_page", Signed(View)),
    ("POST", "/_app/cluster_page", Signed(View)),
    ("POST", "/_app/create_cluster", Signed(ManageClusters)),
    ("POST", "/_app/resize_cluster", Signed(ManageClusters)),
    ("POST", "/_app/upgrade_cluster", Signed(ManageClusters)),
    ("POST", "/_app/delete_cluster", Signed(ManageClusters)),
    // Upgrade-all from the Clusters page: a fleet run over every principal's clusters.
    (
        "POST",
        "/_app/upgrade_all_clusters",
        Signed(ManageAllClusters),
    ),
    // The Ops Manager API: products.
    ("GET", "/api/v0/available_products", Signed(View)),
    ("POST", "/api/v0/available_products", Signed(Configure)),
    ("DELETE", "/api/v0/available_products", Signed(Configure)),
    ("GET", "/api/v0/staged/products", Signed(View)),
    ("POST", "/api/v0/staged/products", Signed(Configure)),
    ("PUT", "/api/v0/staged/products/{guid}", Signed(Configure)),
    (
        "DELETE",
        "/api/v0/staged/products/{guid}",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/properties",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/products/{guid}/properties",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/syslog_configuration",
        Signed(View),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/networks_and_azs",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/products/{guid}/networks_and_azs",
        Signed(Configure),
    ),
    ("GET", "/api/v0/staged/products/{guid}/jobs", Signed(View)),
    (
        "GET",
        "/api/v0/staged/products/{guid}/jobs/{job_guid}/resource_config",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/products/{guid}/jobs/{job_guid}/resource_config",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/max_in_flight",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/products/{guid}/max_in_flight",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/errands",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/products/{guid}/errands",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/manifest",
        Signed(View),
    ),
    ("GET", "/api/v0/staged/pending_changes", Signed(View)),
    ("DELETE", "/api/v0/staged", Signed(Configure)),
    ("GET", "/api/v0/products/{guid}/diff", Signed(View)),
    ("GET", "/api/v0/diagnostic_report", Signed(View)),
    (
        "POST",
        "/api/v0/certificates/generate",
        Signed(SeeCredentials),
    ),
    // Certificate authorities and their rotation (private keys are taken, never shown).
    ("GET", "/api/v0/certificate_authorities", Signed(View)),
    ("POST", "/api/v0/certificate_authorities", Signed(Configure)),
    (
        "POST",
        "/api/v0/certificate_authorities/generate",
        Signed(Configure),
    ),
    (
        "POST",
        "/api/v0/certificate_authorities/active/regenerate",
        Signed(Configure),
    ),
    (
        "POST",
        "/api/v0/certificate_authorities/{guid}/activate",
        Signed(Configure),
    ),
    (
        "DELETE",
        "/api/v0/certificate_authorities/{guid}",
        Signed(Configure),
    ),
    ("GET", "/api/v0/security/root_ca_certificate", Signed(View)),
    ("GET", "/api/v0/deployed/certificates", Signed(View)),
    // The Director tile.
    ("GET", "/api/v0/staged/director/properties", Signed(View)),
    ("GET", "/api/v0/staged/director/manifest", Signed(View)),
    (
        "PUT",
        "/api/v0/staged/director/properties",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/director/iaas_configurations",
        Signed(View),
    ),
    (
        "POST",
        "/api/v0/staged/director/iaas_configurations",
        Signed(Configure),
    ),
    (
        "PUT",
        "/api/v0/staged/director/iaas_configurations/{iaas_guid}",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/director/availability_zones",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/director/availability_zones",
        Signed(Configure),
    ),
    (
        "POST",
        "/api/v0/staged/director/availability_zones",
        Signed(Configure),
    ),
    (
        "PUT",
        "/api/v0/staged/director/availability_zones/{az_guid}",
        Signed(Configure),
    ),
    ("GET", "/api/v0/staged/director/networks", Signed(View)),
    ("PUT", "/api/v0/staged/director/networks", Signed(Configure)),
    (
        "GET",
        "/api/v0/staged/director/network_and_az",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/director/network_and_az",
        Signed(Configure),
    ),
    ("GET", "/api/v0/staged/cloud_config", Signed(View)),
    ("GET", "/api/v0/staged/vm_extensions", Signed(View)),
    ("GET", "/api/v0/staged/vm_extensions/{name}", Signed(View)),
    (
        "PUT",
        "/api/v0/staged/vm_extensions/{name}",
        Signed(Configure),
    ),
    (
        "DELETE",
        "/api/v0/staged/vm_extensions/{name}",
        Signed(Configure),
    ),
    ("GET", "/api/v0/vm_types", Signed(View)),
    ("PUT", "/api/v0/vm_types", Signed(Configure)),
    ("DELETE", "/api/v0/vm_types", Signed(Configure)),
    ("GET", "/api/v0/disk_types", Signed(View)),
    ("PUT", "/api/v0/disk_types", Signed(Configure)),
    ("GET", "/api/v0/director/diff", Signed(View)),
    // Users and API clients (Tileworks's own; Ops Manager keeps them in UAA).
    ("GET", "/api/v0/users", Signed(ManageUsers)),
    ("POST", "/api/v0/users", Signed(ManageUsers)),
    ("PATCH", "/api/v0/users/{name}", Signed(ManageUsers)),
    ("DELETE", "/api/v0/users/{name}", Signed(ManageUsers)),
    ("GET", "/api/v0/api_clients", Signed(ManageUsers)),
    ("DELETE", "/api/v0/api_clients/{name}", Signed(ManageUsers)),
    ("PUT", "/api/v0/me/password", Signed(SignedIn)),
    ("PUT", "/api/v0/decryption_passphrase", Signed(ManageUsers)),
    // The audit trail (administrators).
    ("GET", "/api/v0/audit_events", Signed(ReadAudit)),
    ("GET", "/api/v0/audit_events/export", Signed(ReadAudit)),
    // Stemcells.
    ("GET", "/api/v0/stemcells", Signed(View)),
    ("POST", "/api/v0/stemcells", Signed(Configure)),
    ("DELETE", "/api/v0/stemcells/{id}", Signed(Configure)),
    ("GET", "/api/v0/stemcell_assignments", Signed(View)),
    ("PATCH", "/api/v0/stemcell_assignments", Signed(Configure)),
    ("GET", "/api/v0/stemcell_associations", Signed(View)),
    ("PATCH", "/api/v0/stemcell_associations", Signed(Configure)),
    // Apply Changes and what it deployed.
    ("GET", "/api/v0/installations", Signed(View)),
    ("POST", "/api/v0/installations", Signed(Apply)),
    ("GET", "/api/v0/installations/{id}", Signed(View)),
    ("GET", "/api/v0/installations/{id}/logs", Signed(View)),
    ("GET", "/api/v0/installations/{id}/events", Signed(View)),
    ("GET", "/api/v0/deployed/products", Signed(View)),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/manifest",
        Signed(View),
    ),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/status",
        Signed(View),
    ),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/credentials",
        Signed(View),
    ),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/credentials/{reference}",
        Signed(SeeCredentials),
    ),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/variables",
        Signed(View),
    ),
    (
        "POST",
        "/api/v0/deployed/products/{guid}/logs",
        Signed(SeeCredentials),
    ),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/logs/{id}",
        Signed(SeeCredentials),
    ),
    (
        "GET",
        "/api/v0/deployed/products/{guid}/logs/{id}/download",
        Signed(SeeCredentials),
    ),
    ("GET", "/api/v0/deployed/director/credentials", Signed(View)),
    (
        "GET",
        "/api/v0/deployed/director/credentials/{name}",
        Signed(SeeCredentials),
    ),
    (
        "GET",
        "/api/v0/deployed/director/credentials/bosh_commandline_credentials",
        Signed(SeeCredentials),
    ),
    // The PKS API (Tileworks tokens and sessions; which clusters a principal may see or change
    // is `roles::may_see_cluster`/`may_manage_cluster` on the cluster's creator).
    ("GET", "/pks/v1/plans", Signed(View)),
    ("GET", "/pks/v1/clusters", Signed(View)),
    ("POST", "/pks/v1/clusters", Signed(ManageClusters)),
    ("GET", "/pks/v1/clusters/{name}", Signed(View)),
    ("PATCH", "/pks/v1/clusters/{name}", Signed(ManageClusters)),
    ("DELETE", "/pks/v1/clusters/{name}", Signed(ManageClusters)),
    (
        "POST",
        "/pks/v1/clusters/{name}/binds",
        Signed(ManageClusters),
    ),
    // Fleet operations (`http/fleet.rs`): every principal's clusters at once.
    (
        "POST",
        "/pks/v1/upgrade-clusters",
        Signed(ManageAllClusters),
    ),
    (
        "POST",
        "/pks/v1/recreate-clusters",
        Signed(ManageAllClusters),
    ),
    (
        "POST",
        "/pks/v1/delete-all-clusters",
        Signed(ManageAllClusters),
    ),
    ("GET", "/pks/v1/fleet-runs", Signed(ViewAllClusters)),
    ("GET", "/pks/v1/fleet-runs/{id}", Signed(ViewAllClusters)),
    // The on-demand broker (Open Service Broker API).
    ("GET", "/broker/v2/catalog", Broker),
    // ODB's management API (the broker's credentials; no OSB version header).
    ("GET", "/broker/mgmt/service_instances", Broker),
    ("GET", "/broker/mgmt/orphan_deployments", Broker),
    (
        "PATCH",
        "/broker/mgmt/service_instances/{instance_id}",
        Broker,
    ),
    ("PUT", "/broker/v2/service_instances/{instance_id}", Broker),
    (
        "PATCH",
        "/broker/v2/service_instances/{instance_id}",
        Broker,
    ),
    (
        "DELETE",
        "/broker/v2/service_instances/{instance_id}",
        Broker,
    ),
    ("GET", "/broker/v2/service_instances/{instance_id}", Broker),
    (
        "GET",
        "/broker/v2/service_instances/{instance_id}/last_operation",
        Broker,
    ),
    (
        "PUT",
        "/broker/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
        Broker,
    ),
    (
        "DELETE",
        "/broker/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
        Broker,
    ),
    (
        "GET",
        "/broker/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
        Broker,
    ),
    // Pre-deploy checks and install-time verifiers (http/api/pre_deploy_check.rs, verifiers.rs).
    (
        "GET",
        "/api/v0/staged/director/pre_deploy_check",
        Signed(View),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/pre_deploy_check",
        Signed(View),
    ),
    (
        "GET",
        "/api/v0/staged/director/verifiers/install_time",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/director/verifiers/install_time/{verifier_type}",
        Signed(Configure),
    ),
    (
        "GET",
        "/api/v0/staged/products/{guid}/verifiers/install_time",
        Signed(View),
    ),
    (
        "PUT",
        "/api/v0/staged/products/{guid}/verifiers/install_time/{verifier_type}",
        Signed(Configure),
    ),
    // Tileworks's own TLS certificate (http/api/ssl_certificate.rs).
    (
        "GET",
        "/api/v0/settings/ssl_certificate",
        Signed(ManageTlsCertificate),
    ),
    (
        "PUT",
        "/api/v0/settings/ssl_certificate",
        Signed(ManageTlsCertificate),
    ),
    (
        "DELETE",
        "/api/v0/settings/ssl_certificate",
        Signed(ManageTlsCertificate),
    ),
    // Export of the whole installation (http/api/installation_asset_collection.rs; recorded as
    // a reveal).
    (
        "GET",
        "/api/v0/installation_asset_collection",
        Signed(ExportInstallation),
    ),
];

/// The catch-all that answers unknown API paths with a JSON 404 (any method).
pub const API_FALLBACK: &str = "/api/{*rest}";

/// What a request to `route` (the matched pattern) with `method` needs; `None` when the
/// table has no such entry point.
pub fn access(method: &Method, route: &str) -> Option<Access> {
    if route == API_FALLBACK {
        return Some(Signed(View));
    }
    // HEAD is answered by the GET route.
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ENTRY_POINTS
        .iter()
        .find(|(m, r, _)| *m == method && *r == route)
        .map(|(_, _, access)| *access)
}

/// Requests that matched no route: static assets are public; anything else (the not-found
/// page) needs a signed-in principal.
fn unrouted_access(path: &str) -> Access {
    if path.starts_with("/pkg/") || matches!(path, "/favicon.svg" | "/favicon.ico") {
        Public
    } else {
        Signed(View)
    }
}

/// Paths answered with JSON (or a server function's encoding), so a refusal is a status and a
/// body rather than a redirect to the login page.
fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
        || is_server_fn(path)
        || path.starts_with("/uaa/")
        || path.starts_with("/broker/")
        || path.starts_with("/pks/")
}

/// JSON APIs whose writes must declare their bodies and keep to [`API_BODY_LIMIT`].
fn is_json_api(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/pks/")
}

fn is_server_fn(path: &str) -> bool {
    path.starts_with("/_app/")
}

/// `redact=false` asks for credential values, whatever the route otherwise reads.
pub(crate) fn asks_for_credentials(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.eq_ignore_ascii_case("redact=false"))
    })
}

pub async fn gate(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    // The audit trail's part: what the request is and, for writes, its body (read once, handed
    // on); the entry is recorded with the answer, whatever decided it.
    let (request, plan) = match recorder::prepare(request, route.as_deref()).await {
        Ok(prepared) => prepared,
        Err(response) => return response,
    };
    let response = decide(&state, session, request, next, route).await;
    // The entry is made before the await: a response is not `Sync`, so the future must not
    // hold a reference to it across one.
    if let Some(entry) = recorder::entry(plan, &response) {
        let hands_out = entry.kind == crate::audit::Kind::Reveal && response.status().is_success();
        if crate::audit::record(&state.store, entry).await.is_err() && hands_out {
            // Fail closed: a credential whose reveal leaves no trace is not handed out (the
            // answer, a stream or a body, is dropped unsent).
            return crate::Error::AuditUnavailable(
                "the audit trail could not record this credential reveal, so nothing was \
                 handed out; retry when the database accepts writes"
                    .into(),
            )
            .into_response();
        }
    }
    response
}

/// Everything the gate decides, in order (see the module's comment).
async fn decide(
    state: &AppState,
    session: Session,
    mut request: Request,
    next: Next,
    route: Option<String>,
) -> Response {
    let path = request.uri().path().to_owned();
    // A method the table does not list for a known route is answered 405 without reaching a
    // handler (so a handler the table forgot is unreachable, never open); an unknown route is
    // refused. Both only after the caller is known: an anonymous request learns nothing.
    let (access, unlisted) = match &route {
        Some(route) => match access(request.method(), route) {
            Some(access) => (access, None),
            None if ENTRY_POINTS.iter().any(|(_, r, _)| r == route) => {
                (Signed(SignedIn), Some(StatusCode::METHOD_NOT_ALLOWED))
            }
            None => {
                tracing::error!(
                    method = %request.method(),
                    route = route.as_str(),
                    "an entry point without an access rule was refused; add it to the gate"
                );
                (Signed(SignedIn), Some(StatusCode::FORBIDDEN))
            }
        },
        None => (unrouted_access(&path), None),
    };
    let action = match access {
        Public => {
            // The login form sets a session: a foreign page must not log a browser in.
            if request.method() == Method::POST && path == "/login" {
                if let Err(err) =
                    csrf::check_login(request.headers(), own_host(&request).as_deref())
                {
                    return recorder::refusal(refused(&path, err), None);
                }
            }
            return next.run(request).await;
        }
        Broker if unlisted.is_none() => {
            return server_timing::broker(broker_gate(state, request, next)).await
        }
        // A broker route with a method the table does not list.
        Broker => SignedIn,
        Signed(action) => action,
    };
    // `redact=false` asks for credential values on top of what the route does: both are
    // needed (never one traded for the other).
    let needed: &[Action] = if asks_for_credentials(request.uri().query()) {
        &[action, SeeCredentials]
    } else {
        std::slice::from_ref(&action)
    };

    // Only the header is taken along: a `Request` is not `Sync`, so holding a reference to it
    // across the awaits below would make this future non-`Send`.
    let authorization = request.headers().get(header::AUTHORIZATION).cloned();
    let (user, credential) =
        match authenticate(&state.store, &session, authorization, &state.sessions).await {
            Ok(Some(found)) => found,
            // The tile preview has no login: whoever reaches its loopback listener is its
            // principal (`crate::preview`), with a session's CSRF checks on writes.
            Ok(None) if state.preview.is_some() => {
                (crate::preview::principal(), Credential::Session)
            }
            Ok(None) if is_api(&path) => {
                return Error::Unauthorized(
                    "Full authentication is required to access this resource".into(),
                )
                .into_response()
            }
            Ok(None) => return Redirect::to("/login").into_response(),
            Err(err) => return err.into_response(),
        };
    let who = Who {
        principal: user.username.clone(),
        role: Some(user.role.clone()),
    };
    match unlisted {
        Some(StatusCode::METHOD_NOT_ALLOWED) => {
            return recorder::refusal(
                refused(
                    &path,
                    Error::MethodNotAllowed(format!("{} {path}", request.method())),
                ),
                Some(who),
            )
        }
        Some(_) => {
            return recorder::refusal(
                refused(
                    &path,
                    Error::Forbidden("no access rule for this entry point".into()),
                ),
                Some(who),
            )
        }
        None => {}
    }
    if credential == Credential::Session && !is_safe(request.method()) {
        if let Err(err) =
            csrf::check_session_write(request.headers(), own_host(&request).as_deref())
        {
            tracing::warn!(
                target: "audit",
                user = %user.username,
                method = %request.method(),
                path = %path,
                "cross-site request refused"
            );
            return recorder::refusal(refused(&path, err), Some(who));
        }
    }
    if let Some(&action) = needed.iter().find(|a| !role_allows(&user.role, **a)) {
        tracing::info!(
            target: "audit",
            user = %user.username,
            role = %user.role,
            method = %request.method(),
            path = %path,
            action = ?action,
            "refused by the role table"
        );
        return recorder::refusal(refused(&path, refusal(&user.role, action)), Some(who));
    }
    if is_json_api(&path) && !is_safe(request.method()) {
        if let Err(err) = declared_body(request.headers()) {
            return err.into_response();
        }
        let upload = route.as_deref().is_some_and(|route| {
            UPLOADS
                .iter()
                .any(|(m, r)| *m == request.method().as_str() && *r == route)
        });
        if !upload {
            if let Some(length) = declared_length(request.headers()) {
                if length > API_BODY_LIMIT as u64 {
                    return Error::TooLarge(format!(
                        "the request body is {length} bytes; the limit is {API_BODY_LIMIT}"
                    ))
                    .into_response();
                }
            }
        }
    }
    if is_server_fn(&path) {
        if let Some(too_big) = oversized(request.headers(), SERVER_FN_BODY_LIMIT) {
            return too_big;
        }
    }
    let cached =
        page_cache::cacheable(request.method(), route.as_deref()) && state.preview.is_none();
    request.extensions_mut().insert(user);
    request.extensions_mut().insert(credential);
    let mut response = if cached {
        state.page_cache.serve(&state.store, request, next).await
    } else {
        next.run(request).await
    };
    if is_server_fn(&path) {
        response = server_fn_status(response).await;
    }
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    recorder::answered(response, who)
}

/// The broker's part of the gate: PKS deployed (404), the broker's basic-auth credentials
/// (401), `X-Broker-API-Version: 2.x` (412), a JSON body on writes (415); the answer is never
/// cached and echoes `X-Broker-API-Request-Identity`.
async fn broker_gate(state: &AppState, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let credentials = basic_credentials(request.headers());
    let verdict = match &credentials {
        Some((user, password)) => state.broker.authenticate(user, password).await,
        None => state.broker.config().await.map(|c| c.map(|_| false)),
    };
    match verdict {
        Err(err) => return err.into_response(),
        Ok(None) => {
            return broker_refusal(StatusCode::NOT_FOUND, "the PKS tile is not deployed");
        }
        Ok(Some(false)) => {
            tracing::info!(
                target: "audit",
                method = %request.method(),
                path = %path,
                user = credentials.as_ref().map(|(u, _)| u.as_str()).unwrap_or("-"),
                "broker request without the broker's credentials refused"
            );
            let who = credentials.as_ref().map(|(user, _)| Who {
                principal: user.clone(),
                role: Some("broker".into()),
            });
            let mut response = broker_refusal(
                StatusCode::UNAUTHORIZED,
                "the broker's basic-auth credentials are required",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tileworks-broker\""),
            );
            return recorder::refusal(response, who);
        }
        Ok(Some(true)) => {}
    }
    let version = request
        .headers()
        .get("x-broker-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or("");
    // The management API is ODB's own, not the OSB API: it takes no OSB version.
    if !version.starts_with("2.") && !path.starts_with("/broker/mgmt/") {
        return broker_refusal(
            StatusCode::PRECONDITION_FAILED,
            &if version.is_empty() {
                "X-Broker-API-Version header not sent; this broker speaks 2.x".to_owned()
            } else {
                format!("X-Broker-API-Version {version} is not supported; this broker speaks 2.x")
            },
        );
    }
    if !is_safe(request.method()) {
        if let Err(err) = declared_body(request.headers()) {
            return broker_refusal(err.status(), &err.to_string());
        }
    }
    let identity = request
        .headers()
        .get("x-broker-api-request-identity")
        .cloned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if let Some(identity) = identity {
        headers.insert("x-broker-api-request-identity", identity);
    }
    match credentials {
        Some((user, _)) => recorder::answered(
            response,
            Who {
                principal: user,
                role: Some("broker".into()),
            },
        ),
        None => response,
    }
}

/// An OSB-shaped refusal: `{"description": "…"}`.
fn broker_refusal(status: StatusCode, description: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "description": description })),
    )
        .into_response()
}

/// `Authorization: Basic base64(user:password)`.
pub(crate) fn basic_credentials(headers: &axum::http::HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// This server's `host[:port]` as the request names it.
fn own_host(request: &Request) -> Option<String> {
    request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A refusal in the form the caller reads: a server function's error encoding for the UI's
/// calls (so the page shows the message), the API's JSON otherwise.
fn refused(path: &str, err: Error) -> Response {
    if is_server_fn(path) {
        let status = err.status();
        let message = match &err {
            Error::Forbidden(m) => format!("not allowed: {m}"),
            other => other.to_string(),
        };
        return server_fn_error(status, &message);
    }
    err.into_response()
}

/// A response the UI's server-function client decodes as `ServerFnError::ServerError`.
pub fn server_fn_error(status: StatusCode, message: &str) -> Response {
    let mut response = (status, format!("ServerError|{message}")).into_response();
    response.headers_mut().insert(
        leptos::server_fn::error::SERVER_FN_ERROR_HEADER,
        HeaderValue::from_static("true"),
    );
    response
}

/// API writes carry JSON (om sends `application/json` on every request) or a multipart upload;
/// an empty body needs no type.
fn declared_body(headers: &axum::http::HeaderMap) -> crate::Result<()> {
    let empty = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
        || (headers.get(header::CONTENT_LENGTH).is_none()
            && headers.get(header::TRANSFER_ENCODING).is_none());
    if empty {
        return Ok(());
    }
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if kind == "application/json" || kind.ends_with("+json") || kind == "multipart/form-data" {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "Content-Type: a request body here is JSON ('application/json') or a multipart \
             upload ('multipart/form-data'), not '{}'",
            if kind.is_empty() { "none" } else { &kind }
        )))
    }
}

/// The body length a request declares.
fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
}

/// `413` before reading a body whose declared length is over `limit`.
fn oversized(headers: &axum::http::HeaderMap, limit: usize) -> Option<Response> {
    let length = declared_length(headers)?;
    (length > limit as u64).then(|| {
        server_fn_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("the request body is {length} bytes; the limit is {limit}"),
        )
    })
}

/// The server-function framework answers arguments it cannot decode with `500`; they are the
/// caller's mistake, so they become `400` (and a body over the limit `413`). Errors the
/// backends raise already carry their own status.
async fn server_fn_status(response: Response) -> Response {
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response
            .headers()
            .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, SERVER_FN_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => Bytes::new(),
    };
    let text = String::from_utf8_lossy(&bytes);
    let kind = text.split('|').next().unwrap_or_default();
    if text.contains("length limit exceeded") {
        parts.status = StatusCode::PAYLOAD_TOO_LARGE;
    } else if matches!(kind, "Args" | "MissingArg" | "Deserialization") {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_are_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (method, route, _) in ENTRY_POINTS {
            assert!(seen.insert((method, route)), "{method} {route} twice");
        }
    }

    #[test]
    fn every_server_function_has_an_access_rule() {
        let mut count = 0;
        for (path, method) in leptos::server_fn::axum::server_fn_paths() {
            count += 1;
            assert!(
                access(&method, path).is_some(),
                "server function {method} {path} is missing from ENTRY_POINTS"
            );
        }
        assert!(count > 20, "the server functions are registered ({count})");
    }

    #[test]
    fn every_page_has_an_access_rule() {
        let routes = leptos_axum::generate_route_list(app::App);
        assert!(!routes.is_empty());
        for route in routes {
            let path = route.path();
            assert!(
                access(&Method::GET, path).is_some(),
                "page {path} is missing from ENTRY_POINTS"
            );
        }
    }

    #[test]
    fn credentials_raise_a_read() {
        assert!(asks_for_credentials(Some("redact=false")));
        assert!(asks_for_credentials(Some("a=1&redact=false")));
        assert!(!asks_for_credentials(Some("redact=true")));
        assert!(!asks_for_credentials(None));
    }

    #[test]
    fn broker_routes_are_the_brokers_and_read_basic_auth() {
        assert_eq!(access(&Method::GET, "/broker/v2/catalog"), Some(Broker));
        assert_eq!(
            access(&Method::PATCH, "/broker/v2/service_instances/{instance_id}"),
            Some(Broker)
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YnJva2VyOnMzY3I6ZXQ="),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("broker".into(), "s3cr:et".into()))
        );
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&headers), None);
    }

    #[test]
    fn only_assets_are_public_without_a_route() {
        assert_eq!(unrouted_access("/pkg/tileworks.js"), Public);
        assert_eq!(unrouted_access("/favicon.svg"), Public);
        assert_eq!(unrouted_access("/nowhere"), Signed(View));
        assert_eq!(access(&Method::GET, "/login"), Some(Public));
        assert_eq!(access(&Method::POST, "/logout"), Some(Signed(SignedIn)));
        assert_eq!(access(&Method::DELETE, "/login"), None);
    }
}
