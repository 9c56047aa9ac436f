//! `POST /director?section=security|syslog|resource-config`: the Director page's Security,
//! Syslog and Resource Config sections, posted by the browser itself
//! (`app/src/pages/director/plain_form.rs`), so they save with or without the wasm. The form
//! posts to the page's own address, so a refusal rendered in answer is the page the browser's
//! address names, and the wasm hydrates it as it would the GET.
//!
//! The posted fields become the same typed writes the API's routes make (`security_configuration`
//! and `syslog_configuration` through `set_director_properties`, the Director's jobs through
//! `set_director_resources`), with the same checks and change record. A save answers `303` back
//! to the section with `saved=1`; a refusal renders the page again with what was posted and the
//! errors by field (`app::backend::director::DirectorPosted`): `422`, or `409` when another
//! save came first. The gate has already checked the session, the role (Configure) and the
//! request's origin.

use std::collections::BTreeMap;

use app::backend::director::DirectorPosted;
use app::session::CurrentUser;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use leptos::config::LeptosOptions;
use serde_json::{Map, Value};

use crate::http::AppState;
use crate::products::commands::{
    DirectorPropertiesUpdate, Findings, Instances, PersistentDisk, ResourceConfig,
};
use crate::Error;

/// The route (its GET is the page).
pub const ROUTE: &str = "/director";

/// The sections posted as plain forms, by the page's `section=` slug.
pub const SECTIONS: [&str; 3] = ["security", "syslog", "resource-config"];

/// Largest posted form (certificates in PEM stay far below).
const BODY_LIMIT: usize = 256 * 1024;

/// The form's version field.
const VERSION_FIELD: &str = "config_version";

/// The fields each properties section keeps, and which of them are flags (checkboxes and
/// yes/no choices post `true`; an unticked box posts nothing).
const SECURITY_TEXT: [&str; 1] = ["trusted_certificates"];
const SECURITY_FLAGS: [&str; 3] = [
    "generate_vm_passwords",
    "opsmanager_root_ca_trusted_certs",
    "clear_default_trusted_certificates_store",
];
const SYSLOG_TEXT: [&str; 6] = [
    "address",
    "port",
    "transport_protocol",
    "permitted_peer",
    "ssl_ca_certificate",
    "custom_rsyslog_configuration",
];
const SYSLOG_FLAGS: [&str; 3] = ["enabled", "tls_enabled", "forward_debug_logs"];

pub fn routes(
    contexts: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> Router<AppState> {
    Router::new().route(
        ROUTE,
        post(move |State(state): State<AppState>, request: Request| {
            submit(state, contexts.clone(), options.clone(), request)
        }),
    )
}

async fn submit(
    state: AppState,
    contexts: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
    request: Request,
) -> Response {
    let Some(user) = request.extensions().get::<CurrentUser>().cloned() else {
        return Error::Unauthorized("not signed in".into()).into_response();
    };
    let section = request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "section"))
        .and_then(|(_, v)| SECTIONS.into_iter().find(|s| *s == v));
    let Some(section) = section else {
        return Error::invalid(
            "section",
            format!(
                "the Director page saves these sections as plain forms: {}",
                SECTIONS.join(", ")
            ),
        )
        .into_response();
    };
    let (mut parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Error::TooLarge(format!("a Director form is at most {BODY_LIMIT} bytes"))
                .into_response()
        }
    };
    let posted: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(pairs) => pairs,
        Err(err) => {
            return Error::invalid(
                "body",
                format!("a Director form is URL-encoded fields ({err})"),
            )
            .into_response()
        }
    };
    // Text areas post CRLF line ends; what is stored reads as the API's would.
    let values: BTreeMap<String, String> = posted
        .into_iter()
        .map(|(k, v)| (k, v.replace("\r\n", "\n")))
        .collect();
    let Some(version) = values
        .get(VERSION_FIELD)
        .and_then(|v| v.trim().parse::<i64>().ok())
    else {
        return Error::invalid(
            VERSION_FIELD,
            "the configuration version must be an integer",
        )
        .into_response();
    };

    let saved = match section {
        "security" => {
            save_properties(&state, &user, "security_configuration", &values, version).await
        }
        "syslog" => save_properties(&state, &user, "syslog_configuration", &values, version).await,
        _ => save_resources(&state, &user, &values, version).await,
    };
    let (status, errors, message, next_version) = match saved {
        Ok(_) => {
            return Redirect::to(&format!("/director?section={section}&saved=1")).into_response()
        }
        Err(Error::Rejected(errors)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            "Nothing was saved: fix the fields marked below.".to_owned(),
            version,
        ),
        Err(Error::Invalid { field, message }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            BTreeMap::from([(field, vec![message])]),
            "Nothing was saved: fix the fields marked below.".to_owned(),
            version,
        ),
        Err(Error::Stale { current, .. }) => (
            StatusCode::CONFLICT,
            BTreeMap::new(),
            "Nothing was saved: another operator saved the Director's settings since you \
             opened this section. Your values are still here: check them against the saved \
             ones (open the section again to see those) and Save again to store yours."
                .to_owned(),
            current,
        ),
        Err(other) => return other.into_response(),
    };
    let refusal = DirectorPosted {
        section: section.to_owned(),
        values: values
            .into_iter()
            .filter(|(k, _)| k != VERSION_FIELD)
            .collect(),
        errors,
        message,
        config_version: next_version,
    };

    // The page again, as a GET of the same address renders it, with the refused post in its
    // context (the page reads it through a resource, so hydration sees the same).
    parts.method = Method::GET;
    let render = leptos_axum::render_app_async_with_context(
        move || {
            contexts();
            leptos::prelude::provide_context(refusal.clone());
        },
        move || app::shell(options.clone()),
    );
    let mut response = render(Request::from_parts(parts, Body::empty())).await;
    *response.status_mut() = status;
    response.into_response()
}

/// Security or Syslog: the section's fields as the API takes them (flags as booleans, the
/// syslog port as given), replacing the stored section.
async fn save_properties(
    state: &AppState,
    user: &CurrentUser,
    api_section: &str,
    values: &BTreeMap<String, String>,
    version: i64,
) -> crate::Result<crate::products::Saved> {
    let (texts, flags): (&[&str], &[&str]) = if api_section == "security_configuration" {
        (&SECURITY_TEXT, &SECURITY_FLAGS)
    } else {
        (&SYSLOG_TEXT, &SYSLOG_FLAGS)
    };
    let mut fields = Map::new();
    for name in texts {
        let text = values.get(*name).map(|v| v.trim()).unwrap_or_default();
        if !text.is_empty() {
            fields.insert((*name).to_owned(), Value::String(text.to_owned()));
        }
    }
    for name in flags {
        let on = values.get(*name).is_some_and(|v| v == "true");
        fields.insert((*name).to_owned(), Value::Bool(on));
    }
    let update = DirectorPropertiesUpdate {
        iaas: None,
        director: None,
        other: vec![(api_section.to_owned(), fields)],
    };
    state
        .products
        .set_director_properties(&update, &Findings::new(), Some(version), &user.username)
        .await
}

/// Resource Config: each Director job's posted `<job>.instances`, `<job>.instance_type` and
/// `<job>.persistent_disk` (`automatic` or a value), saved together; the keys the form does not
/// show (`internet_connected`, VM extensions…) stay as stored.
async fn save_resources(
    state: &AppState,
    user: &CurrentUser,
    values: &BTreeMap<String, String>,
    version: i64,
) -> crate::Result<crate::products::Saved> {
    let director = state.products.director().await?;
    let mut refused = Findings::new();
    let mut configs = Vec::new();
    for job in crate::products::director::DIRECTOR_JOBS {
        let Some(job_guid) = director.settings.job_guids.get(job) else {
            continue;
        };
        let field = format!("resource-config.{job}");
        let posted = |name: &str| {
            values
                .get(&format!("{job}.{name}"))
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let stored = director.settings.resources.get(job);
        let instances = match (job, posted("instances")) {
            // The Director runs one instance; its form shows no count: it stays as stored.
            ("director", None) => stored
                .and_then(|rc| rc.instances.as_ref())
                .and_then(|v| Instances::read(v).ok())
                .unwrap_or_default(),
            (_, None) => Instances::Automatic,
            (_, Some(text)) => match Instances::read(&Value::String(text)) {
                Ok(Instances::Count { count, .. }) => Instances::Count {
                    count,
                    as_text: false,
                },
                Ok(automatic) => automatic,
                Err(message) => {
                    refused
                        .entry(format!("{field}.instances"))
                        .or_default()
                        .push(message);
                    Instances::Automatic
                }
            },
        };
        let instance_type =
            posted("instance_type").filter(|t| !t.eq_ignore_ascii_case("automatic"));
        let persistent_disk = match posted("persistent_disk") {
            None => PersistentDisk::Automatic,
            Some(t) if t.eq_ignore_ascii_case("automatic") => PersistentDisk::Automatic,
            Some(t) => match t.parse::<i64>() {
                Ok(mb) => PersistentDisk::Mb(mb),
                Err(_) => {
                    refused
                        .entry(format!("{field}.persistent_disk"))
                        .or_default()
                        .push(format!("'{t}' is not Automatic or a disk size in MB"));
                    PersistentDisk::Automatic
                }
            },
        };
        let other = stored.map(|rc| rc.extra.clone()).unwrap_or_default();
        configs.push((
            job_guid.clone(),
            ResourceConfig {
                instances,
                instance_type,
                persistent_disk,
                other,
            },
        ));
    }
    state
        .products
        .set_director_resources(&configs, &refused, Some(version), &user.username)
        .await
}
