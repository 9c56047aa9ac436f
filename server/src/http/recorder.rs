//! The gate's recorder: what of a request goes into the audit trail (`crate::audit`), read
//! where every request passes, so no entry point can escape it.
//!
//! Before the gate decides, [`prepare`] classifies the request ([`kind_of`]: a write, a
//! credential reveal, a sign-in or sign-out, or nothing worth recording) and, for the ones
//! recorded with a body, reads the body once and hands the handler the same bytes (uploads
//! and bodies over the API limit are not read: the entry keeps their size). After the answer,
//! [`entry`] makes the entry (the gate records it) with the principal the gate found ([`Who`], left on the
//! response), marking what the gate refused ([`Refused`]) or any `403` as a refusal.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::audit::{self, Entry, Kind};
use crate::auth::roles::Action;
use crate::http::gate::{self, Access, API_BODY_LIMIT, UPLOADS};
use crate::Error;

/// Who the gate found the request to come from; the gate leaves it on the response.
#[derive(Clone, Debug)]
pub struct Who {
    pub principal: String,
    pub role: Option<String>,
}

/// On a response: the gate refused the request (cross-site, role, broker credentials, no rule).
#[derive(Clone, Copy, Debug)]
pub struct Refused;

/// Entry points that hand out credentials although the gate's table does not ask
/// `SeeCredentials` of them (their own checks decide per object).
const REVEALS: &[(&str, &str)] = &[
    ("POST", "/_app/generate_form_certificate"),
    // The whole installation, sealed under its data key (administrators).
    ("GET", "/api/v0/installation_asset_collection"),
    ("POST", "/pks/v1/clusters/{name}/binds"),
    (
        "PUT",
        "/broker/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
    ),
    (
        "GET",
        "/broker/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
    ),
];

/// Entry points that need `SeeCredentials` but hand out nothing: the progress of a log fetch,
/// polled every second or so while the bundle is made (its download is recorded).
const NOT_REVEALS: &[(&str, &str)] = &[
    ("POST", "/_app/log_fetch_status"),
    ("GET", "/api/v0/deployed/products/{guid}/logs/{id}"),
];

/// What a request to `route` (the matched pattern, if any) is, for the trail; `None` for
/// reads that reveal nothing.
pub fn kind_of(method: &Method, route: Option<&str>, query: Option<&str>) -> Option<Kind> {
    let Some(route) = route else {
        return (!is_safe(method)).then_some(Kind::Write);
    };
    let listed = |list: &[(&str, &str)]| {
        list.iter()
            .any(|(m, r)| *m == method.as_str() && *r == route)
    };
    if *method == Method::POST {
        match route {
            "/login" | "/uaa/oauth/token" => return Some(Kind::SignIn),
            "/logout" => return Some(Kind::SignOut),
            _ => {}
        }
    }
    if listed(NOT_REVEALS) {
        return None;
    }
    let access = gate::access(method, route);
    if gate::asks_for_credentials(query)
        || listed(REVEALS)
        || access == Some(Access::Signed(Action::SeeCredentials))
    {
        return Some(Kind::Reveal);
    }
    if route.starts_with("/_app/") {
        // Every server function is a POST; the reads among them are not recorded.
        return match access {
            Some(Access::Signed(Action::View)) => None,
            _ if route == "/_app/current_user" => None,
            _ => Some(Kind::Write),
        };
    }
    (!is_safe(method)).then_some(Kind::Write)
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// What the recorder knows of a request before it is answered.
pub struct Plan {
    kind: Option<Kind>,
    method: Method,
    route: String,
    target: String,
    address: Option<String>,
    body: Option<Value>,
    /// The user or client a sign-in names (from the body or basic auth).
    signing_in: Option<String>,
}

/// Classifies the request and, when its entry keeps a body, reads it (the handler gets the
/// same bytes). A body that cannot be read within the API's limit is answered `413` here.
pub async fn prepare(request: Request, route: Option<&str>) -> Result<(Request, Plan), Response> {
    let method = request.method().clone();
    let kind = kind_of(&method, route, request.uri().query());
    // The query is filtered like a body: a token or password can be sent in a URL.
    let target = match request.uri().query() {
        Some(query) => format!("{}?{}", request.uri().path(), audit::filter::query(query)),
        None => request.uri().path().to_owned(),
    };
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string());
    let mut plan = Plan {
        kind,
        method: method.clone(),
        route: route.unwrap_or(request.uri().path()).to_owned(),
        target,
        address,
        body: None,
        signing_in: None,
    };
    if kind.is_none() || is_safe(&method) {
        return Ok((request, plan));
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let upload = content_type.to_ascii_lowercase().starts_with("multipart/")
        || UPLOADS
            .iter()
            .any(|(m, r)| *m == method.as_str() && Some(*r) == route);
    if upload {
        plan.body = Some(audit::left_out("an upload", declared, &content_type));
        return Ok((request, plan));
    }
    if declared.is_some_and(|length| length > API_BODY_LIMIT as u64) {
        // The gate refuses it from its declared length, before anything is read.
        plan.body = Some(audit::left_out("over the limit", declared, &content_type));
        return Ok((request, plan));
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, API_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Err(Error::TooLarge(format!(
                "the request body is over the limit of {API_BODY_LIMIT} bytes"
            ))
            .into_response())
        }
    };
    plan.body = audit::body_of(&content_type, &bytes);
    if kind == Some(Kind::SignIn) {
        plan.signing_in = signing_in(&parts.headers, plan.body.as_ref());
    }
    Ok((Request::from_parts(parts, Body::from(bytes)), plan))
}

/// The name a sign-in gives: the form's user name or client id, else basic auth's user.
fn signing_in(headers: &axum::http::HeaderMap, body: Option<&Value>) -> Option<String> {
    let field = |name: &str| {
        body.and_then(|b| b.get(name))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    // A name is kept to a sensible length: anyone may type anything here.
    field("username")
        .or_else(|| field("client_id"))
        .or_else(|| gate::basic_credentials(headers).map(|(user, _)| user))
        .map(|name| name.chars().take(MAX_NAME).collect())
}

/// The longest sign-in name an entry keeps.
const MAX_NAME: usize = 256;

/// The request's entry, if it has one: its kind, or a refusal when the gate refused it or the
/// answer is `403`.
pub fn entry(plan: Plan, response: &Response) -> Option<Entry> {
    let status = response.status();
    let refused = response.extensions().get::<Refused>().is_some() || status == 403;
    let kind = if refused { Kind::Refusal } else { plan.kind? };
    let who = response.extensions().get::<Who>().cloned();
    let result = match kind {
        Kind::SignIn => sign_in_result(&plan, response),
        _ => audit::result_of(status.as_u16()),
    };
    let principal = who
        .as_ref()
        .map(|w| w.principal.clone())
        .or(plan.signing_in);
    Some(Entry {
        kind,
        principal,
        role: who.and_then(|w| w.role),
        address: plan.address,
        method: plan.method.to_string(),
        route: plan.route,
        target: plan.target,
        status: status.as_u16(),
        result,
        body: plan.body,
    })
}

/// A sign-in succeeded when the login form sends the browser home (a failure sends it back to
/// the form) or the token endpoint hands out a token.
fn sign_in_result(plan: &Plan, response: &Response) -> &'static str {
    let status = response.status();
    let success = if plan.route == "/login" {
        status.is_redirection()
            && response
                .headers()
                .get(header::LOCATION)
                .is_some_and(|l| l.as_bytes() == b"/")
    } else {
        status == StatusCode::OK
    };
    if success {
        "success"
    } else {
        "failure"
    }
}

/// The gate's refusal, marked for the trail with who asked (when known).
pub fn refusal(mut response: Response, who: Option<Who>) -> Response {
    response.extensions_mut().insert(Refused);
    if let Some(who) = who {
        response.extensions_mut().insert(who);
    }
    response
}

/// An answer given to `who`.
pub fn answered(mut response: Response, who: Who) -> Response {
    response.extensions_mut().insert(who);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(method: Method, route: &str, query: Option<&str>) -> Option<Kind> {
        kind_of(&method, Some(route), query)
    }

    #[test]
    fn reveals_writes_and_reads() {
        use Kind::*;
        let cases = [
            (
                Method::GET,
                "/api/v0/staged/products/{guid}/properties",
                Some("redact=false"),
                Some(Reveal),
            ),
            (
                Method::GET,
                "/api/v0/staged/products/{guid}/properties",
                None,
                None,
            ),
            (
                Method::GET,
                "/api/v0/staged/director/properties",
                Some("redact=false"),
                Some(Reveal),
            ),
            (
                Method::GET,
                "/api/v0/deployed/director/credentials/bosh_commandline_credentials",
                None,
                Some(Reveal),
            ),
            (
                Method::GET,
                "/api/v0/deployed/products/{guid}/credentials/{reference}",
                None,
                Some(Reveal),
            ),
            (
                Method::GET,
                "/api/v0/deployed/products/{guid}/credentials",
                None,
                None,
            ),
            (
                Method::POST,
                "/api/v0/certificates/generate",
                None,
                Some(Reveal),
            ),
            (
                Method::POST,
                "/_app/generate_form_certificate",
                None,
                Some(Reveal),
            ),
            (Method::POST, "/_app/reveal_credential", None, Some(Reveal)),
            (
                Method::GET,
                "/api/v0/deployed/products/{guid}/logs/{id}/download",
                None,
                Some(Reveal),
            ),
            (
                Method::GET,
                "/api/v0/deployed/products/{guid}/logs/{id}",
                None,
                None,
            ),
            (Method::POST, "/_app/log_fetch_status", None, None),
            (
                Method::POST,
                "/pks/v1/clusters/{name}/binds",
                None,
                Some(Reveal),
            ),
            (
                Method::PUT,
                "/api/v0/staged/products/{guid}/properties",
                None,
                Some(Write),
            ),
            (Method::POST, "/_app/save_settings_form", None, Some(Write)),
            (Method::POST, "/_app/change_own_password", None, Some(Write)),
            (Method::POST, "/_app/dashboard", None, None),
            (Method::POST, "/_app/current_user", None, None),
            (
                Method::DELETE,
                "/broker/v2/service_instances/{instance_id}",
                None,
                Some(Write),
            ),
            (Method::POST, "/login", None, Some(SignIn)),
            (Method::POST, "/uaa/oauth/token", None, Some(SignIn)),
            (Method::POST, "/logout", None, Some(SignOut)),
            (Method::GET, "/", None, None),
        ];
        for (method, route, query, expected) in cases {
            assert_eq!(
                kind(method.clone(), route, query),
                expected,
                "{method} {route} {query:?}"
            );
        }
        assert_eq!(kind_of(&Method::POST, None, None), Some(Write));
        assert_eq!(kind_of(&Method::GET, None, None), None);
    }
}
