//! What the pages' plain forms share: a form posted by the browser itself to its page's own
//! address (so the page works without the wasm), read here, handled by the service the API
//! calls, and answered either `303` back to the page with `done=` (what happened) or with the
//! page rendered again, a 4xx, and the refusal in its context (the form, the field and the
//! rule) so it sits beside the form that was sent. `ca_forms.rs` (certificate authorities) and
//! `settings_forms.rs` (TLS certificate, VM extensions, decryption passphrase) are built on it.
//! The gate has already checked the session, the role and the request's origin.

use std::sync::Arc;

use app::session::CurrentUser;
use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::config::LeptosOptions;

use crate::Error;

/// Largest posted form: a certificate chain and a key in PEM, or a VM extension's cloud
/// properties, stay far below.
pub const BODY_LIMIT: usize = 256 * 1024;

/// What rendering a page again needs: the UI's contexts and the Leptos options.
#[derive(Clone)]
pub struct Renderer {
    contexts: Arc<dyn Fn() + Send + Sync>,
    options: LeptosOptions,
}

impl Renderer {
    pub fn new(
        contexts: impl Fn() + Clone + Send + Sync + 'static,
        options: LeptosOptions,
    ) -> Self {
        Renderer {
            contexts: Arc::new(contexts),
            options,
        }
    }

    /// The page at the request's address, rendered as a GET of it renders, with `refusal` in
    /// its context and `status` (a status that is not a client error becomes `422`: the page
    /// is answering a form).
    pub async fn refused<T: Clone + Send + Sync + 'static>(
        &self,
        mut parts: Parts,
        status: StatusCode,
        refusal: T,
    ) -> Response {
        parts.method = Method::GET;
        let (contexts, options) = (self.contexts.clone(), self.options.clone());
        let render = leptos_axum::render_app_async_with_context(
            move || {
                contexts();
                leptos::prelude::provide_context(refusal.clone());
            },
            move || app::shell(options.clone()),
        );
        let mut response = render(Request::from_parts(parts, Body::empty())).await;
        *response.status_mut() = if status.is_client_error() {
            status
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        response.into_response()
    }
}

/// `303` back to `page` saying what happened.
pub fn done(page: &str, done: &str) -> Response {
    Redirect::to(&format!("{page}?done={done}")).into_response()
}

/// The signed-in user's name, for the change log (the gate put the user on the request).
pub fn actor(request: &Request) -> String {
    request
        .extensions()
        .get::<CurrentUser>()
        .map(|u| u.username.clone())
        .unwrap_or_default()
}

/// A posted form's fields, in order.
pub struct Posted {
    pairs: Vec<(String, String)>,
}

impl Posted {
    /// Reads a URL-encoded body of at most [`BODY_LIMIT`] bytes; `what` names the page's forms
    /// in a refusal.
    pub async fn read(body: Body, what: &str) -> Result<Posted, Response> {
        let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
            Error::TooLarge(format!("{what} is at most {BODY_LIMIT} bytes")).into_response()
        })?;
        let pairs = serde_urlencoded::from_bytes(&bytes).map_err(|err| {
            Error::invalid("body", format!("{what} is URL-encoded fields ({err})")).into_response()
        })?;
        Ok(Posted { pairs })
    }

    /// The field's value (empty when absent), with a browser's CRLF line ends as LF.
    pub fn value(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    }

    /// The field's value, or `422` naming it when blank.
    pub fn required(&self, name: &str) -> crate::Result<String> {
        Some(self.value(name))
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| Error::invalid(name, tiles::validate::BLANK))
    }

    /// Which of `forms` the hidden `form` field names, or `422` listing them.
    pub fn form(&self, forms: &[&'static str]) -> crate::Result<&'static str> {
        let sent = self.value("form");
        forms.iter().copied().find(|f| *f == sent).ok_or_else(|| {
            Error::invalid("form", format!("the page's forms are {}", forms.join(", ")))
        })
    }
}

/// What a refusal says: its status, the field it is about and the rule. Errors that name no
/// field (an unknown or busy object, a rule about the current state) are about `subject`, the
/// field that named the object.
pub fn refusal_of(err: Error, subject: &str) -> (StatusCode, String, String) {
    let status = err.status();
    let (field, message) = match err {
        Error::Invalid { field, message } => (field, message),
        Error::Rejected(errors) => errors
            .into_iter()
            .next()
            .map(|(field, messages)| (field, messages.join("; ")))
            .unwrap_or_default(),
        Error::NotFound(what) => (subject.to_owned(), format!("{what} not found")),
        Error::Refused(rule) => (subject.to_owned(), rule),
        Error::Throttled { retry_after_secs } => (
            subject.to_owned(),
            format!("too many failed attempts; try again in {retry_after_secs} seconds"),
        ),
        other => (String::new(), crate::ui::described(other).0),
    };
    (status, field, message)
}
