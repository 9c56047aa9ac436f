//! Setting up a fresh instance (`crate::setup`), answered by the locked router while fresh and
//! by the full router afterwards (where every call is refused, `409`, naming why):
//!
//! - `POST /api/v0/setup {"setup": {admin_user_name, admin_password, decryption_passphrase,
//!   eula_accepted, …}}`: om `configure-authentication` (`api/setup_service.go`): `200 {}`,
//!   `422` naming each field that breaks a rule;
//! - `GET /setup`: the same as a server-rendered form (no script needed), posted to
//!   `POST /setup`. While fresh, `GET /login/ensure_availability` redirects here (`302 →
//!   /setup`), which om reads as "unstarted".

use std::sync::Arc;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::Deserialize;

use super::unlock::{html_escape, starting_page, stylesheet, Lock, Phase};
use crate::setup::SetupInput;
use crate::Error;

#[derive(Debug, Deserialize)]
pub struct SetupRequest {
    setup: Option<SetupInput>,
}

/// `POST /api/v0/setup`, unauthenticated as om sends it.
pub async fn api(
    State(lock): State<Arc<Lock>>,
    body: Result<Json<SetupRequest>, JsonRejection>,
) -> Response {
    if lock.phase() != Phase::Fresh {
        return crate::setup::already_set_up().into_response();
    }
    let input = match body {
        Ok(Json(SetupRequest { setup: Some(input) })) => input,
        Ok(Json(SetupRequest { setup: None })) => {
            return Error::invalid(
                "setup",
                "is required: {\"setup\": {\"admin_user_name\": …}}",
            )
            .into_response()
        }
        Err(rejection) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({"errors": {"setup": [format!(
                    "expected a JSON body {{\"setup\": {{…}}}} ({})",
                    rejection.body_text()
                )]}})),
            )
                .into_response()
        }
    };
    let result = match input.validate() {
        Ok(setup) => lock.set_up(&setup).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Json(serde_json::json!({})).into_response(),
        Err(err) => err.into_response(),
    }
}

/// `GET /setup`: the form while fresh; the "starting" page while the services start; the
/// login page once set up.
pub async fn page(State(lock): State<Arc<Lock>>) -> Response {
    match lock.phase() {
        Phase::Fresh => setup_page(StatusCode::OK, None, ""),
        Phase::Starting => starting_page(),
        Phase::Locked | Phase::Open => Redirect::to("/login").into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetupForm {
    admin_user_name: String,
    admin_password: String,
    admin_password_confirmation: String,
    decryption_passphrase: String,
    decryption_passphrase_confirmation: String,
    #[serde(default)]
    eula_accepted: Option<String>,
}

/// `POST /setup` (the form): on success to `/setup` (which waits for the start, then goes to
/// login); a refusal shows the form again with the reasons.
pub async fn form(
    State(lock): State<Arc<Lock>>,
    headers: HeaderMap,
    form: Result<Form<SetupForm>, FormRejection>,
) -> Response {
    if lock.phase() != Phase::Fresh {
        return Redirect::to("/login").into_response();
    }
    // Like the login form: only this page may post it.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    if let Err(err) = super::csrf::check_login(&headers, host.as_deref()) {
        return setup_page(StatusCode::FORBIDDEN, Some(&err.to_string()), "");
    }
    let Form(form) = match form {
        Ok(form) => form,
        Err(rejection) => {
            return setup_page(
                rejection.status(),
                Some("The form needs every field below."),
                "",
            )
        }
    };
    let user = form.admin_user_name.clone();
    let input = SetupInput {
        identity_provider: None,
        admin_user_name: Some(form.admin_user_name),
        admin_password: Some(form.admin_password),
        admin_password_confirmation: Some(form.admin_password_confirmation),
        decryption_passphrase: Some(form.decryption_passphrase),
        decryption_passphrase_confirmation: Some(form.decryption_passphrase_confirmation),
        eula_accepted: form.eula_accepted.map(|_| serde_json::json!(true)),
    };
    let result = match input.validate() {
        Ok(setup) => lock.set_up(&setup).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => Redirect::to("/setup").into_response(),
        Err(Error::Rejected(errors)) => {
            let message = errors
                .iter()
                .flat_map(|(field, messages)| {
                    messages
                        .iter()
                        .map(move |m| format!("{}: {m}", label(field)))
                })
                .collect::<Vec<_>>()
                .join(" · ");
            setup_page(StatusCode::UNPROCESSABLE_ENTITY, Some(&message), &user)
        }
        Err(err @ Error::Refused(_)) => setup_page(err.status(), Some(&err.to_string()), &user),
        Err(err) => {
            tracing::error!(error = %err, "setting up");
            setup_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some("Setting up failed; the server log says why."),
                &user,
            )
        }
    }
}

/// The form's label for a field the API names.
fn label(field: &str) -> &str {
    match field {
        "admin_user_name" => "Username",
        "admin_password" => "Password",
        "admin_password_confirmation" => "Password confirmation",
        "decryption_passphrase" => "Decryption passphrase",
        "decryption_passphrase_confirmation" => "Decryption passphrase confirmation",
        "eula_accepted" => "License agreement",
        other => other,
    }
}

fn setup_page(status: StatusCode, error: Option<&str>, user: &str) -> Response {
    let error = error
        .map(|e| {
            format!(
                "<p class=\"form-error\" role=\"alert\">{}</p>",
                html_escape(e)
            )
        })
        .unwrap_or_default();
    let field = |id: &str, text: &str, kind: &str, value: &str| {
        format!(
            "<label for=\"{id}\">{text}</label>\
             <input id=\"{id}\" name=\"{id}\" type=\"{kind}\" value=\"{}\" autocomplete=\"off\" required>",
            html_escape(value)
        )
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Set up Tileworks</title><link rel=\"stylesheet\" href=\"{css}\"></head>\
         <body><main class=\"login\"><div class=\"login-card\"><h1>Tileworks</h1>\
         <p>This Tileworks is not set up yet. Choose the first administrator and the decryption \
         passphrase (every later start needs it, and it cannot be recovered). To move an \
         existing Tileworks here instead, import its export (<code>om import-installation</code>).</p>\
         {error}<form method=\"post\" action=\"/setup\">{user}{password}{password2}{pass}{pass2}\
         <label><input name=\"eula_accepted\" type=\"checkbox\" value=\"true\" required> \
         I accept the license agreement</label>\
         <button type=\"submit\">Set up</button></form></div></main></body></html>",
        css = stylesheet(),
        user = field("admin_user_name", "Username", "text", user),
        password = field("admin_password", "Password", "password", ""),
        password2 = field(
            "admin_password_confirmation",
            "Password confirmation",
            "password",
            ""
        ),
        pass = field(
            "decryption_passphrase",
            "Decryption passphrase",
            "password",
            ""
        ),
        pass2 = field(
            "decryption_passphrase_confirmation",
            "Decryption passphrase confirmation",
            "password",
            ""
        ),
    );
    (status, Html(body)).into_response()
}
