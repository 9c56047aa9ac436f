//! The BOSH Director API client: the one way Tileworks talks to a Director, the embedded
//! stand-in and a real one alike (the boundary is HTTP; nothing reaches into the stand-in).
//!
//! It speaks the API the `bosh` CLI uses (see shared/reference/opsman-and-director-api.md §5):
//! - TLS with rustls, trusting only the Director's CA when one is given (a Director normally has
//!   a self-signed CA; there is deliberately no "skip verification").
//! - `GET /info` unauthenticated tells how to authenticate: HTTP Basic with the client and secret,
//!   or a UAA `client_credentials` token, cached and refreshed before it expires or on a 401.
//! - Long operations answer `302 Location: /tasks/<id>`. Redirects are never followed: the
//!   Location is the task id, which [`tasks`] then polls and whose output it reads by byte range.
//!
//! One file per resource, as the API is organised: [`auth`] (`/info`, Basic/UAA), [`tasks`],
//! [`deployments`], [`configs`], [`stemcells`], [`releases`], [`errands`], [`instances`],
//! [`locks`], [`variables`], [`events`]; [`waiting`] counts how long a request waited for them.
//! Every failure is [`Error::Director`] naming the call (method and path) and the Director's own
//! message, so an operator reading an installation log knows which request failed and why.

pub mod auth;
pub mod configs;
pub mod deployments;
pub mod errands;
pub mod events;
pub mod instances;
pub mod locks;
pub mod logs;
pub mod releases;
pub mod stemcells;
pub mod tasks;
pub mod variables;
pub mod waiting;

use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE, LOCATION};
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

pub use auth::{AuthMode, Info, UserAuthentication};
pub use configs::{Config, ConfigDiff};
pub use deployments::{
    DeployOptions, Deployment, DeploymentDiff, JobState, JobStateOptions, JobTarget, NameVersion,
};
pub use errands::{Errand, ErrandInstance, ErrandResult, ErrandRunOptions};
pub use instances::{Instance, Vm};
pub use locks::Lock;
pub use logs::LogsRequest;
pub use releases::{Release, ReleaseVersion};
pub use stemcells::{Stemcell, Upload, UploadOptions};
pub use tasks::{Event, OutputCursor, OutputType, Task, TaskFilter, TaskState};
pub use variables::Variable;

/// The Director's default port, used when the URL names none (as the bosh CLI does).
pub const DEFAULT_PORT: u16 = 25555;

/// How long to wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The limit for one ordinary call. Uploads and task output have none: a stemcell can be
/// gigabytes and the Director answers as fast as its disk lets it.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// How many times a GET is tried when the connection fails (not when the Director answers).
const GET_ATTEMPTS: u32 = 3;

/// Where and as whom to reach a Director.
#[derive(Clone)]
pub struct DirectorTarget {
    /// `https://host:port`; a bare `host[:port]` means https on port 25555.
    pub url: String,
    /// The CA that signed the Director's (and its UAA's) certificate, PEM. When unset the
    /// operating system's CA bundle is trusted.
    pub ca_cert_pem: Option<String>,
    /// The client name (Basic user or UAA client id).
    pub client: String,
    /// Its secret.
    pub client_secret: String,
}

impl std::fmt::Debug for DirectorTarget {
    // The secret never reaches a log through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectorTarget")
            .field("url", &self.url)
            .field("ca_cert_pem", &self.ca_cert_pem.as_ref().map(|_| "<pem>"))
            .field("client", &self.client)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// A client for one Director. Cheap to clone: clones share the connection pool and the token.
#[derive(Clone, Debug)]
pub struct DirectorClient {
    base: Url,
    http: reqwest::Client,
    target: DirectorTarget,
    auth: std::sync::Arc<auth::AuthState>,
    /// The config server `/info` names (`variables.rs`), once asked.
    config_server: std::sync::Arc<std::sync::OnceLock<Option<Url>>>,
    poll_interval: Duration,
}

impl DirectorClient {
    /// Builds the client: parses the URL and loads the CA. Nothing is sent until the first call.
    pub fn new(target: DirectorTarget) -> Result<DirectorClient> {
        let base = parse_director_url(&target.url)?;
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .connect_timeout(CONNECT_TIMEOUT)
            // The Location of a 302 is the task id; following it would lose it.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("tileworks/", env!("CARGO_PKG_VERSION")));
        let roots = match &target.ca_cert_pem {
            Some(pem) => parse_ca_bundle(pem, "the Director CA certificate")?,
            None => system_ca_bundle()?,
        };
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
        let http = builder.build().map_err(|e| Error::Director {
            call: "client setup".into(),
            status: None,
            message: error_chain(&e),
        })?;
        Ok(DirectorClient {
            base,
            http,
            target,
            auth: Default::default(),
            config_server: Default::default(),
            poll_interval: Duration::from_secs(1),
        })
    }

    /// How often [`DirectorClient::follow_task`] polls a running task (default 1 s).
    pub fn with_poll_interval(mut self, interval: Duration) -> DirectorClient {
        self.poll_interval = interval;
        self
    }

    /// The Director's base URL, normalised (`https://host:port/`).
    pub fn url(&self) -> &Url {
        &self.base
    }

    /// The URL of `segments` joined under the base, each segment percent-encoded (deployment
    /// and errand names are operator data).
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        url
    }

    /// A request to `segments` with the given method, not yet authenticated, with the ordinary
    /// per-call time limit.
    fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.http
            .request(method, self.endpoint(segments))
            .timeout(CALL_TIMEOUT)
    }

    /// The same without a time limit: uploads and task output take as long as they take.
    fn untimed_request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        self.http.request(method, self.endpoint(segments))
    }

    /// Sends an authenticated request and returns the response whatever its status. A GET whose
    /// connection fails is tried again; with UAA a 401 refreshes the token and retries once
    /// (when the body can be replayed).
    async fn send(&self, call: &str, request: RequestBuilder) -> Result<Response> {
        let started = std::time::Instant::now();
        let answer = self.send_uncounted(call, request).await;
        waiting::add(started.elapsed());
        answer
    }

    async fn send_uncounted(&self, call: &str, request: RequestBuilder) -> Result<Response> {
        let replay = request.try_clone();
        let is_get = request
            .try_clone()
            .and_then(|r| r.build().ok())
            .is_some_and(|r| r.method() == Method::GET);
        let attempts = if is_get { GET_ATTEMPTS } else { 1 };
        let mut pending = Some(request);
        let mut attempt = 0;
        let response = loop {
            attempt += 1;
            let Some(current) = pending.take() else {
                return Err(director_error(
                    call,
                    None,
                    "the request could not be repeated",
                ));
            };
            let next = current.try_clone();
            let authorized = self.authorize(call, current, false).await?;
            match authorized.send().await {
                Ok(response) => break response,
                Err(e) if attempt < attempts && next.is_some() && !is_certificate_error(&e) => {
                    tracing::warn!(call, attempt, error = %error_chain(&e), "Director call failed; retrying");
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                    pending = next;
                }
                Err(e) => return Err(transport_error(call, &self.base, &e)),
            }
        };
        if response.status() == StatusCode::UNAUTHORIZED && self.auth.is_uaa() {
            if let Some(again) = replay {
                self.auth.forget_token();
                let authorized = self.authorize(call, again, true).await?;
                return authorized
                    .send()
                    .await
                    .map_err(|e| transport_error(call, &self.base, &e));
            }
        }
        Ok(response)
    }

    /// Sends and requires a 2xx, returning the response.
    async fn send_ok(&self, call: &str, request: RequestBuilder) -> Result<Response> {
        let response = self.send(call, request).await?;
        check_status(call, response, &self.target.client).await
    }

    /// Sends and decodes a 2xx JSON answer.
    async fn send_json<T: DeserializeOwned>(
        &self,
        call: &str,
        request: RequestBuilder,
    ) -> Result<T> {
        let response = self.send_ok(call, request).await?;
        read_json(call, response).await
    }

    /// Sends a request that starts a task: the Director answers `302 Location: /tasks/<id>`.
    async fn send_for_task(&self, call: &str, request: RequestBuilder) -> Result<u64> {
        let response = self.send(call, request).await?;
        task_from_response(call, response, &self.target.client).await
    }
}

/// Reads a 302's task id, or fails with the Director's message.
async fn task_from_response(call: &str, response: Response, client: &str) -> Result<u64> {
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        return task_id_from_location(&location).ok_or_else(|| {
            director_error(
                call,
                Some(status.as_u16()),
                format!("expected a redirect to /tasks/<id>, got Location {location:?}"),
            )
        });
    }
    let response = check_status(call, response, client).await?;
    // Not what a Director does, but a task object answered directly is unambiguous.
    let body: serde_json::Value = read_json(call, response).await?;
    body.get("id")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            director_error(
                call,
                Some(status.as_u16()),
                "expected a redirect to a task, got an answer without a task id",
            )
        })
}

/// The task id in a `Location` header: `/tasks/42`, or an absolute URL ending so.
pub fn task_id_from_location(location: &str) -> Option<u64> {
    let path = match Url::parse(location) {
        Ok(url) => url.path().to_string(),
        Err(_) => location
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let mut segments = path.trim_end_matches('/').rsplit('/');
    let id = segments.next()?;
    if segments.next()? != "tasks" {
        return None;
    }
    id.parse().ok()
}

/// Requires a 2xx (or 302/206 where the caller handles them before); otherwise an error with the
/// Director's message. A 401 says plainly that the credentials were refused.
async fn check_status(call: &str, response: Response, client: &str) -> Result<Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let detail = director_message(&body);
    let message = match status {
        StatusCode::UNAUTHORIZED => format!(
            "the Director refused the credentials of client {client:?} (401){}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ),
        _ if detail.is_empty() => format!("HTTP {}", status.as_u16()),
        _ => format!("HTTP {}: {detail}", status.as_u16()),
    };
    Err(director_error(call, Some(status.as_u16()), message))
}

/// The Director's error text: `{"code":…, "description":"…"}` as it answers errors, a UAA
/// `error_description`, or the (trimmed, bounded) body.
pub fn director_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        for key in ["description", "error_description", "message", "error"] {
            if let Some(text) = value.get(key).and_then(serde_json::Value::as_str) {
                return text.to_string();
            }
        }
    }
    let text = body.trim();
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

async fn read_json<T: DeserializeOwned>(call: &str, response: Response) -> Result<T> {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.map_err(|e| {
        director_error(
            call,
            Some(status),
            format!("reading the answer: {}", error_chain(&e)),
        )
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        director_error(
            call,
            Some(status),
            format!(
                "unexpected answer ({e}): {}",
                director_message(&String::from_utf8_lossy(&bytes))
            ),
        )
    })
}

fn director_error(call: &str, status: Option<u16>, message: impl Into<String>) -> Error {
    Error::Director {
        call: call.to_string(),
        status,
        message: message.into(),
    }
}

/// A failure below HTTP: refused connection, timeout, TLS. Certificate problems say so, since
/// the usual cause is a wrong or missing Director CA.
fn transport_error(call: &str, base: &Url, e: &reqwest::Error) -> Error {
    let chain = error_chain(e);
    let message = if is_certificate_error(e) {
        format!(
            "TLS handshake with {base} failed, the Director's certificate is not trusted \
             (check the Director CA certificate): {chain}"
        )
    } else if e.is_timeout() {
        format!("no answer from {base} in time: {chain}")
    } else if e.is_connect() {
        format!("cannot connect to {base}: {chain}")
    } else {
        chain
    };
    director_error(call, None, message)
}

/// Every message in an error's source chain, so the root cause (e.g. rustls's
/// `invalid peer certificate: UnknownIssuer`) is not hidden behind "error sending request".
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    parts.join(": ")
}

fn is_certificate_error(e: &reqwest::Error) -> bool {
    let chain = error_chain(e).to_ascii_lowercase();
    chain.contains("certificate") || chain.contains("unknownissuer")
}

/// Parses the Director URL: https only in spirit; a bare host gets `https://` and port 25555.
/// `http://` is accepted as given (a Director behind a local TLS-terminating proxy, tests).
pub fn parse_director_url(raw: &str) -> Result<Url> {
    let trimmed = raw.trim();
    let invalid = |why: String| Error::invalid("director.url", why);
    if trimmed.is_empty() {
        return Err(invalid("the Director URL is empty".into()));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| invalid(format!("{raw:?}: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid(format!(
            "{raw:?}: the Director is reached over https"
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("{raw:?} names no host")));
    }
    if url.port().is_none() && !trimmed.contains("://") {
        let _ = url.set_port(Some(DEFAULT_PORT));
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn parse_ca_bundle(pem: &str, what: &str) -> Result<Vec<reqwest::Certificate>> {
    let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
        .map_err(|e| Error::invalid("director.ca_cert", format!("{what} is not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(Error::invalid(
            "director.ca_cert",
            format!("{what} holds no certificate"),
        ));
    }
    Ok(certs)
}

/// The OS CA bundle, for a Director whose certificate a public or corporate CA signed.
/// `SSL_CERT_FILE` wins, as with OpenSSL.
fn system_ca_bundle() -> Result<Vec<reqwest::Certificate>> {
    let mut candidates: Vec<std::path::PathBuf> = Vec::new();
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        candidates.push(file.into());
    }
    for path in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ] {
        candidates.push(path.into());
    }
    for path in candidates {
        if let Ok(pem) = std::fs::read_to_string(&path) {
            return parse_ca_bundle(&pem, &format!("the CA bundle {}", path.display()));
        }
    }
    // No bundle: every TLS connection will fail, and say that the certificate is not trusted.
    Ok(Vec::new())
}

/// Ids and timestamps are strings on current Directors and numbers on some older ones.
fn string_or_number<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<String, D::Error> {
    use serde::Deserialize;
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// A JSON array, or a stream of JSON objects (one per line, as task results are).
fn parse_json_stream<T: DeserializeOwned>(text: &str) -> std::result::Result<Vec<T>, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed).map_err(|e| e.to_string());
    }
    serde_json::Deserializer::from_str(trimmed)
        .into_iter::<T>()
        .collect::<std::result::Result<Vec<T>, _>>()
        .map_err(|e| e.to_string())
}

/// Sets `Content-Type` on a request.
fn with_content_type(request: RequestBuilder, content_type: &'static str) -> RequestBuilder {
    request.header(CONTENT_TYPE, HeaderValue::from_static(content_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_come_from_relative_and_absolute_locations() {
        assert_eq!(task_id_from_location("/tasks/42"), Some(42));
        assert_eq!(task_id_from_location("/tasks/7/"), Some(7));
        assert_eq!(
            task_id_from_location("https://10.0.0.6:25555/tasks/1234"),
            Some(1234)
        );
        assert_eq!(task_id_from_location("/tasks/9?x=1"), Some(9));
        assert_eq!(task_id_from_location("/tasks/"), None);
        assert_eq!(task_id_from_location("/tasks/abc"), None);
        assert_eq!(task_id_from_location("/deployments/42"), None);
        assert_eq!(task_id_from_location(""), None);
        assert_eq!(task_id_from_location("42"), None);
    }

    #[test]
    fn json_streams_and_arrays_parse() {
        let lines: Vec<serde_json::Value> = parse_json_stream("{\"a\":1}\n{\"a\":2}\n").unwrap();
        assert_eq!(lines.len(), 2);
        let glued: Vec<serde_json::Value> = parse_json_stream("{\"a\":1}{\"a\":2}").unwrap();
        assert_eq!(glued.len(), 2);
        let array: Vec<serde_json::Value> = parse_json_stream(" [{\"a\":1}] ").unwrap();
        assert_eq!(array.len(), 1);
        let empty: Vec<serde_json::Value> = parse_json_stream("").unwrap();
        assert!(empty.is_empty());
        assert!(parse_json_stream::<serde_json::Value>("{\"a\":").is_err());
    }

    #[test]
    fn director_urls_default_to_https_and_port_25555() {
        let url = parse_director_url("10.0.0.6").unwrap();
        assert_eq!(url.as_str(), "https://10.0.0.6:25555/");
        let url = parse_director_url("director.example.com:8443").unwrap();
        assert_eq!(url.as_str(), "https://director.example.com:8443/");
        let url = parse_director_url("https://127.0.0.1:4443/").unwrap();
        assert_eq!(url.as_str(), "https://127.0.0.1:4443/");
        // An explicit scheme keeps its default port, as a browser would.
        let url = parse_director_url("https://bosh.example.com").unwrap();
        assert_eq!(url.port_or_known_default(), Some(443));
        assert!(parse_director_url("").is_err());
        assert!(parse_director_url("ftp://x").is_err());
        assert!(parse_director_url("https://").is_err());
    }

    #[test]
    fn endpoints_percent_encode_names() {
        let client = DirectorClient::new(DirectorTarget {
            url: "https://127.0.0.1:25555".into(),
            ca_cert_pem: None,
            client: "admin".into(),
            client_secret: "secret".into(),
        })
        .unwrap();
        let url = client.endpoint(&["deployments", "a b/c", "errands"]);
        assert_eq!(
            url.as_str(),
            "https://127.0.0.1:25555/deployments/a%20b%2Fc/errands"
        );
    }

    #[test]
    fn director_messages_are_read_from_error_bodies() {
        assert_eq!(
            director_message(r#"{"code":70000,"description":"Deployment 'x' doesn't exist"}"#),
            "Deployment 'x' doesn't exist"
        );
        assert_eq!(
            director_message(r#"{"error":"unauthorized","error_description":"Bad credentials"}"#),
            "Bad credentials"
        );
        assert_eq!(director_message("  Not Found \n"), "Not Found");
        let long = "x".repeat(2000);
        assert!(director_message(&long).chars().count() <= 501);
    }

    #[test]
    fn a_ca_that_is_not_pem_is_a_clear_error() {
        let err = DirectorClient::new(DirectorTarget {
            url: "https://127.0.0.1:25555".into(),
            ca_cert_pem: Some("not a certificate".into()),
            client: "admin".into(),
            client_secret: "secret".into(),
        })
        .unwrap_err();
        assert!(err.to_string().contains("Director CA certificate"), "{err}");
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let target = DirectorTarget {
            url: "https://127.0.0.1:25555".into(),
            ca_cert_pem: None,
            client: "admin".into(),
            client_secret: "hunter2".into(),
        };
        assert!(!format!("{target:?}").contains("hunter2"));
    }
}
