//! `POST /products/{guid}/settings`: a settings form posted by the browser itself, when the
//! page has no wasm (JavaScript off, or Save clicked before it hydrated).
//!
//! The posted fields are read back into typed values by the page's own rules
//! (`app::pages::product::form_post`) and saved by the same backend call the `save_settings_form`
//! server function makes (`SettingsBackend::save_form_from`: the same validation, version check
//! and change record). A save answers `303` back to the form with `saved=1` (the page says
//! "Settings saved."); a refusal answers the page rendered again with what was posted, the
//! findings and the message (`422`, or `409` when another save came first).

use std::collections::BTreeMap;

use app::backend::settings::SettingsBackend;
use app::backend::SaveOutcome;
use app::pages::product::form_post::{
    changed_values, PostedForm, FORM_FIELD, LOADED_FIELD, VERSION_FIELD,
};
use app::session::CurrentUser;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use leptos::config::LeptosOptions;
use tiles::forms::FormTree;

use crate::http::AppState;
use crate::Error;

/// The route (its GET is the page).
pub const ROUTE: &str = "/products/{guid}/settings";

/// Largest posted form (a settings form with long certificates stays far below).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub async fn submit(
    state: AppState,
    contexts: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
    Path(guid): Path<String>,
    request: Request,
) -> Response {
    let Some(user) = request.extensions().get::<CurrentUser>().cloned() else {
        return Error::Unauthorized("not signed in".into()).into_response();
    };
    let (mut parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Error::TooLarge(format!("a settings form is at most {BODY_LIMIT} bytes"))
                .into_response()
        }
    };
    let posted: Vec<(String, String)> = match serde_urlencoded::from_bytes(&bytes) {
        Ok(pairs) => pairs,
        Err(err) => {
            return Error::Invalid {
                field: "body".into(),
                message: format!("a settings form is URL-encoded fields ({err})"),
            }
            .into_response()
        }
    };
    let field = |name: &str| {
        posted
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(form) = field(FORM_FIELD) else {
        return invalid(FORM_FIELD, "the form's name is missing");
    };
    let Some(version) = field(VERSION_FIELD).and_then(|v| v.trim().parse::<i64>().ok()) else {
        return invalid(
            VERSION_FIELD,
            "the configuration version must be an integer",
        );
    };

    // The form's inputs and what the page showed for them (credentials masked, as the page
    // has them): only what the operator changed is saved.
    let ui = crate::ui::products::UiBackend::new(state.products.clone());
    let page = match app::backend::products::ProductsBackend::product_settings(
        &ui,
        &guid,
        Some(&form),
        false,
    )
    .await
    {
        Ok(page) => page,
        Err(err) => return Error::NotFound(err.0).into_response(),
    };
    let tree = FormTree::build(&page.template);
    let Some(current) = tree.form(&form) else {
        return invalid(FORM_FIELD, &format!("the product has no form '{form}'"));
    };
    // What the page showed when it was loaded (its `_loaded` field); a page without it (an
    // older page, a hand-made post) is compared with what is stored now.
    let mut shown = page.values.clone();
    if let Some(text) = field(LOADED_FIELD) {
        match serde_json::from_str::<BTreeMap<String, serde_json::Value>>(&text) {
            Ok(loaded) => shown.extend(loaded),
            Err(err) => {
                return invalid(
                    LOADED_FIELD,
                    &format!("the loaded values must be a JSON object ({err})"),
                )
            }
        }
    }
    let values = changed_values(&current.inputs, &posted, &shown);
    let loaded: BTreeMap<_, _> = values
        .keys()
        .filter_map(|r| shown.get(r).map(|v| (r.clone(), v.clone())))
        .collect();

    let settings = crate::ui::settings::UiSettings::new(state.products.clone());
    let saved = settings
        .save_form_from(
            &user.username,
            &guid,
            &form,
            version,
            values.clone(),
            loaded,
        )
        .await;
    let (status, refusal) = match saved {
        // A stale save's changes come beside the outcome (`FormSaved::changes`).
        Ok(saved) => match saved.outcome {
            SaveOutcome::Saved { .. } => {
                return Redirect::to(&format!(
                    "/products/{guid}/settings?form={}&saved=1",
                    form_urlencode(&form)
                ))
                .into_response()
            }
            SaveOutcome::Invalid { errors } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                PostedForm {
                    form,
                    values,
                    errors,
                    message: "Nothing was saved: fix the fields marked below.".into(),
                    config_version: None,
                    changes: Vec::new(),
                },
            ),
            SaveOutcome::Conflict {
                current_version, ..
            } => (
                StatusCode::CONFLICT,
                PostedForm {
                    form,
                    values,
                    errors: BTreeMap::new(),
                    message: "Nothing was saved: another operator saved this product's settings \
                              since you opened this form; what they changed is listed below. \
                              Your values are still here: Save again to store yours over theirs."
                        .into(),
                    config_version: Some(current_version),
                    changes: saved.changes,
                },
            ),
        },
        Err(err) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            PostedForm {
                form,
                values,
                errors: BTreeMap::new(),
                message: err.0,
                config_version: None,
                changes: Vec::new(),
            },
        ),
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

fn invalid(field: &str, message: &str) -> Response {
    Error::Invalid {
        field: field.into(),
        message: message.into(),
    }
    .into_response()
}

/// A form name in a query string (names are identifiers; anything else is escaped).
fn form_urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}
