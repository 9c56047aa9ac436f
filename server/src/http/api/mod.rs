//! The Ops Manager v0 API for products and the Director tile, one file per resource, as om
//! (pivotal-cf/om) uses it: shapes, GUID forms and status codes follow
//! `opsman-and-director-api.md`, so existing om automation works unchanged.
//!
//! Every route here sits behind the authentication middleware (bearer token or session).
//!
//! **Concurrent edits.** Configuration writes may say which configuration version they were
//! based on, with an `If-Match: "<version>"` header or a top-level `config_version` field in
//! the JSON body. If the product changed since, the write is refused with `409` and a body that
//! says what changed (`{"errors": {"base": […]}, "config_version": N, "changed": […],
//! "changes": [{"reference", "changed_by", "version", "value", "credential", "previous"}]}`:
//! per field the write touches, who changed it, its value now and before; credentials only as
//! changed, with `***`). om sends
//! no version; such writes apply to the current configuration. Reads of a staged product's
//! configuration answer with an `ETag: "<version>"` header, and successful writes return
//! `{"config_version": N}` with the new `ETag`.
//!
//! Invalid values are `422 {"errors": {"<reference>": ["message", …]}}`; nothing is stored.

pub mod audit;
pub mod available_products;
pub mod bosh_credentials;
pub mod certificate_authorities;
pub mod certificates;
pub mod credentials;
pub mod decryption_passphrase;
pub mod deployed_products;
pub mod diagnostic_report;
pub mod diff;
pub mod director;
pub mod errands;
pub mod installation_asset_collection;
pub mod installations;
pub mod jobs;
pub mod logs;
pub mod max_in_flight;
pub mod networks_and_azs;
pub mod om_json;
pub mod pending_changes;
pub mod pre_deploy_check;
pub mod properties;
pub mod ssl_certificate;
pub mod staged;
pub mod staged_manifest;
pub mod staged_products;
pub mod stemcells;
pub mod users;
pub mod verifiers;
pub mod vm_types;

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use app::session::CurrentUser;

use super::AppState;
use crate::auth::roles::{self, Action};
use crate::products::field_changes::Target;
use crate::products::Saved;
use crate::{Error, Result};

/// The API routes, merged into the main router.
pub fn routes() -> Router<AppState> {
    let product = "/api/v0/staged/products/{guid}";
    Router::new()
        .route(
            "/api/v0/available_products",
            post(available_products::upload)
                .layer(DefaultBodyLimit::disable())
                .get(available_products::list)
                .delete(available_products::delete),
        )
        .route(
            "/api/v0/staged/products",
            get(staged_products::list).post(staged_products::stage),
        )
        .route(
            product,
            put(staged_products::upgrade).delete(staged_products::unstage),
        )
        .route("/api/v0/deployed/products", get(deployed_products::list))
        .route(
            "/api/v0/certificates/generate",
            post(certificates::generate),
        )
        .route("/api/v0/diagnostic_report", get(diagnostic_report::show))
        .route(
            &format!("{product}/properties"),
            get(properties::show).put(properties::update),
        )
        .route(
            &format!("{product}/syslog_configuration"),
            get(properties::syslog),
        )
        .route(
            &format!("{product}/networks_and_azs"),
            get(networks_and_azs::show).put(networks_and_azs::update),
        )
        .route(&format!("{product}/jobs"), get(jobs::list))
        .route(
            &format!("{product}/jobs/{{job_guid}}/resource_config"),
            get(jobs::resource_config).put(jobs::update_resource_config),
        )
        .route(
            &format!("{product}/max_in_flight"),
            get(max_in_flight::show).put(max_in_flight::update),
        )
        .route(
            &format!("{product}/errands"),
            get(errands::show).put(errands::update),
        )
        .route(
            "/api/v0/staged/director/properties",
            get(director::properties).put(director::update_properties),
        )
        .route(
            "/api/v0/staged/director/iaas_configurations",
            get(director::iaas_configurations).post(director::add_iaas_configuration),
        )
        .route(
            "/api/v0/staged/director/iaas_configurations/{iaas_guid}",
            put(director::update_iaas_configuration),
        )
        .route(
            "/api/v0/staged/director/availability_zones",
            get(director::availability_zones)
                .put(director::replace_availability_zones)
                .post(director::add_availability_zone),
        )
        .route(
            "/api/v0/staged/director/availability_zones/{az_guid}",
            put(director::update_availability_zone),
        )
        .route(
            "/api/v0/staged/director/networks",
            get(director::networks).put(director::update_networks),
        )
        .route(
            "/api/v0/staged/director/network_and_az",
            get(director::network_and_az).put(director::update_network_and_az),
        )
        .route("/api/v0/staged/cloud_config", get(director::cloud_config))
        .route("/api/v0/staged/director/manifest", get(director::manifest))
        .route("/api/v0/staged/vm_extensions", get(director::vm_extensions))
        .route(
            "/api/v0/staged/vm_extensions/{name}",
            get(director::vm_extension)
                .put(director::put_vm_extension)
                .delete(director::delete_vm_extension),
        )
        .route(
            "/api/v0/vm_types",
            get(vm_types::list)
                .put(vm_types::replace)
                .delete(vm_types::reset),
        )
        .route(
            "/api/v0/disk_types",
            get(vm_types::disk_types).put(vm_types::replace_disk_types),
        )
        .route("/api/v0/products/{guid}/diff", get(diff::product))
        .route("/api/v0/director/diff", get(diff::director))
        .route("/api/v0/staged/pending_changes", get(pending_changes::list))
        .route("/api/v0/staged", axum::routing::delete(staged::revert))
        .route(
            "/api/v0/stemcells",
            post(stemcells::upload)
                .layer(DefaultBodyLimit::disable())
                .get(stemcells::list),
        )
        .route(
            "/api/v0/stemcells/{id}",
            axum::routing::delete(stemcells::delete),
        )
        .route(
            "/api/v0/stemcell_assignments",
            get(stemcells::assignments).patch(stemcells::assign),
        )
        .route(
            "/api/v0/stemcell_associations",
            get(stemcells::associations).patch(stemcells::associate),
        )
        .merge(certificate_authority_routes())
        .merge(installations::routes())
        .merge(logs::routes())
        .merge(credentials::routes())
        .merge(users::routes())
        .merge(decryption_passphrase::routes())
        .merge(audit::routes())
        .route(
            "/api/v0/staged/director/pre_deploy_check",
            get(pre_deploy_check::director),
        )
        .route(
            &format!("{product}/pre_deploy_check"),
            get(pre_deploy_check::product),
        )
        .route(
            "/api/v0/staged/director/verifiers/install_time",
            get(verifiers::director_list),
        )
        .route(
            "/api/v0/staged/director/verifiers/install_time/{verifier_type}",
            put(verifiers::director_set),
        )
        .route(
            &format!("{product}/verifiers/install_time"),
            get(verifiers::product_list),
        )
        .route(
            &format!("{product}/verifiers/install_time/{{verifier_type}}"),
            put(verifiers::product_set),
        )
        .route(
            "/api/v0/settings/ssl_certificate",
            get(ssl_certificate::show)
                .put(ssl_certificate::update)
                .delete(ssl_certificate::reset),
        )
        .route(
            "/api/v0/installation_asset_collection",
            get(installation_asset_collection::export).post(installation_asset_collection::import),
        )
}

/// Certificate authorities, the root CA and the deployed certificates.
fn certificate_authority_routes() -> Router<AppState> {
    use certificate_authorities as ca;
    let base = "/api/v0/certificate_authorities";
    Router::new()
        .route(base, get(ca::list).post(ca::import))
        .route(&format!("{base}/generate"), post(ca::generate))
        .route(&format!("{base}/active/regenerate"), post(ca::regenerate))
        .route(&format!("{base}/{{guid}}/activate"), post(ca::activate))
        .route(
            &format!("{base}/{{guid}}"),
            axum::routing::delete(ca::delete),
        )
        .route(
            "/api/v0/security/root_ca_certificate",
            get(ca::root_ca_certificate),
        )
        .route(
            "/api/v0/deployed/certificates",
            get(ca::deployed_certificates),
        )
}

/// Who is calling (the auth middleware put it there).
pub type Caller = Extension<CurrentUser>;

/// A configuration write, extracted once for every write handler: the caller (the gate has
/// already refused roles that may not write, before the body was read), the JSON body, and the
/// version the write was based on (`If-Match` or the body's `config_version`).
pub struct ConfigWrite {
    pub caller: CurrentUser,
    pub body: Value,
    pub expected: Option<i64>,
}

impl axum::extract::FromRequest<AppState> for ConfigWrite {
    type Rejection = Error;

    async fn from_request(
        request: axum::extract::Request,
        state: &AppState,
    ) -> Result<ConfigWrite> {
        let caller = request
            .extensions()
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| Error::Unauthorized("log in first".into()))?;
        let headers = request.headers().clone();
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            // Over the body limit is 413 here as on every route that reads a body.
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge(e.body_text())
            } else {
                Error::invalid("base", e.body_text())
            }
        })?;
        let body = json_body(&bytes)?;
        let expected = expected_version(&headers, &body)?;
        Ok(ConfigWrite {
            caller,
            body,
            expected,
        })
    }
}

impl ConfigWrite {
    /// Who writes (for the change log).
    pub fn actor(&self) -> &str {
        &self.caller.username
    }

    /// The body's `key` (422 `<key>: can't be blank` without it).
    pub fn part(&self, key: &str) -> Result<&Value> {
        self.body
            .get(key)
            .ok_or_else(|| Error::invalid(key, "can't be blank"))
    }

    /// The body's `key` read as `T` (422 naming it when it is missing or does not fit).
    pub fn read<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<T> {
        T::deserialize(self.part(key)?).map_err(|e| Error::invalid(key, e.to_string()))
    }
}

/// `redact=false` only for roles that may see credentials; anything else redacts.
pub fn redaction(caller: &CurrentUser, redact: Option<&str>) -> Result<bool> {
    match redact {
        // The gate already refused `redact=false` to roles that may not see credentials;
        // asking the table again keeps this answer right wherever it is called from.
        Some("false") => roles::require(caller, Action::SeeCredentials).map(|()| false),
        _ => Ok(true),
    }
}

/// A JSON request body; an empty body is `null`. Bad JSON is a 422.
pub fn json_body(bytes: &Bytes) -> Result<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| Error::invalid("base", format!("invalid JSON: {e}")))
}

/// The version a write is based on: `If-Match` wins, else the body's `config_version`.
pub fn expected_version(headers: &HeaderMap, body: &Value) -> Result<Option<i64>> {
    if let Some(value) = headers.get(header::IF_MATCH) {
        let text = value.to_str().unwrap_or_default().trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        return text
            .parse::<i64>()
            .map(Some)
            .map_err(|_| Error::invalid("If-Match", "expected a configuration version number"));
    }
    match body.get("config_version") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .map(Some)
            .ok_or_else(|| Error::invalid("config_version", "expected a number")),
    }
}

/// A JSON response carrying the configuration version as `ETag`.
pub fn with_version(body: Value, version: i64) -> Response {
    let mut response = Json(body).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, tag);
    }
    response
}

/// The answer to a successful write.
pub fn saved(saved: Saved) -> Response {
    with_version(
        json!({"config_version": saved.config_version}),
        saved.config_version,
    )
}

/// The answer to a write: saved, or refused as stale with what the saves in between changed
/// within `scope` (the sections or references the write sets: `availability_zones`,
/// `resource-config.master`…), per field ([`Error::with_changes`]).
pub async fn answer(
    state: &AppState,
    result: Result<Saved>,
    target: Target<'_>,
    scope: &[String],
) -> Result<Response> {
    match result {
        Ok(done) => Ok(saved(done)),
        Err(stale @ Error::Stale { .. }) => {
            let Error::Stale { expected, .. } = &stale else {
                return Err(stale);
            };
            let changes = state
                .products
                .stale_changes(target, *expected, scope)
                .await?;
            Ok(stale.with_changes(&changes))
        }
        Err(other) => Err(other),
    }
}

/// The answer to a write of the Director tile's `sections` (a stale one names what the saves in
/// between changed there).
pub async fn director_answer(
    state: &AppState,
    result: Result<Saved>,
    sections: &[&str],
) -> Result<Response> {
    answer(state, result, Target::Director, &scope(sections)).await
}

/// Scope names from string literals.
pub fn scope(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The configuration version of a staged product or the Director tile.
pub async fn version_of(state: &AppState, guid: &str) -> Result<i64> {
    if state.products.is_director(guid).await? {
        Ok(state.products.director().await?.config_version)
    } else {
        Ok(state.products.staged_product(guid).await?.config_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_if_match_or_the_body() {
        let mut headers = HeaderMap::new();
        assert_eq!(expected_version(&headers, &json!({})).unwrap(), None);
        assert_eq!(
            expected_version(&headers, &json!({"config_version": 3})).unwrap(),
            Some(3)
        );
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"7\""));
        assert_eq!(
            expected_version(&headers, &json!({"config_version": 3})).unwrap(),
            Some(7)
        );
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"x\""));
        assert!(expected_version(&headers, &json!({})).is_err());
        assert_eq!(json_body(&Bytes::from_static(b"  ")).unwrap(), Value::Null);
        assert!(json_body(&Bytes::from_static(b"{")).is_err());
    }
}
