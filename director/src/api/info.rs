//! `GET /info`: who the Director is and how to authenticate. Public; shows the user when the
//! request carries valid credentials (the CLI's `bosh env` calls it both ways).

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::Shared;

pub fn routes() -> Router<Shared> {
    Router::new().route("/info", get(info))
}

async fn info(State(d): State<Shared>, uri: Uri, headers: HeaderMap) -> Json<Value> {
    let user = super::authenticated_user(&d, &headers);
    // A real Director names its CredHub here; the stand-in's config server API is on its own
    // listener (`super::credhub`), at the address the client reached (HTTP/2 carries it in
    // the URI, HTTP/1.1 in `Host`).
    let config_server_urls: Vec<String> = uri
        .authority()
        .map(|a| a.as_str())
        .or_else(|| {
            headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
        })
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '@']))
        .map(|host| format!("https://{host}/api/"))
        .into_iter()
        .collect();
    let authentication = match &d.settings.uaa_url {
        Some(url) => json!({"type": "uaa", "options": {"url": url, "urls": [url]}}),
        None => json!({"type": "basic", "options": {}}),
    };
    Json(json!({
        "name": d.settings.name,
        "uuid": d.settings.uuid,
        "version": crate::DIRECTOR_VERSION,
        "user": user,
        // TILEWORKS_DIRECTOR_CPI_NAME lets the stand-in present a real CPI's name, so a client's
        // real-IaaS paths can be tested against it.
        "cpi": std::env::var("TILEWORKS_DIRECTOR_CPI_NAME")
            .unwrap_or_else(|_| crate::SIMULATED_CPI.to_owned()),
        "stemcell_os": "ubuntu-jammy",
        "stemcell_version": "1.0",
        "user_authentication": authentication,
        "features": {
            "local_dns": {"status": true, "extras": {"domain_name": "bosh"}},
            "power_dns": {"status": false, "extras": {"domain_name": "bosh"}},
            "snapshots": {"status": false},
            "config_server": {"status": true, "extras": {"urls": config_server_urls}},
        },
    }))
}
