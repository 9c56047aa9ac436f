//! The tile preview's own entry points (`tileworks tile preview`, `crate::preview`): `/preview`
//! (the tile's settings page, or its metadata's errors), `/preview/status` (what is shown now,
//! polled by the open page) and `/preview/reload.js` (the poll). They pass the gate like every
//! route (`View`); outside a preview they answer 404.
//!
//! [`layer`] does the rest for every page of a preview: it refuses a `Host` that is not a
//! loopback name (the preview has no login, so a page on another site must not reach it by
//! rebinding a name to 127.0.0.1), adds the poll to every page, and while the metadata has
//! errors answers every page with them instead of forms made from metadata the author is
//! changing.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::unlock::{html_escape, stylesheet};
use super::AppState;
use crate::preview::Shown;

pub const PAGE: &str = "/preview";
pub const STATUS: &str = "/preview/status";
pub const SCRIPT: &str = "/preview/reload.js";

/// The largest page the layer reads to add the poll (settings pages carry their form's part
/// of the metadata; the largest real tiles stay far below).
const PAGE_LIMIT: usize = 64 * 1024 * 1024;

/// The poll: asks for the status every half second; when the generation differs from the one
/// the page was made at, the tile changed, and the page loads again (at `/preview` when the
/// product it shows is no longer the previewed one).
const RELOAD_JS: &str = r#"// Tileworks tile preview: reload this page when the tile changes.
(function () {
  var meta = document.querySelector('meta[name="tileworks-preview"]');
  if (!meta) return;
  var shown = meta.getAttribute('content');
  function poll() {
    fetch('/preview/status', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && String(s.generation) !== shown) {
          var here = location.pathname;
          var same = !s.product || here.indexOf('/products/') !== 0 ||
            here.indexOf('/products/' + s.product.guid + '/') === 0;
          if (same) location.reload(); else location.assign('/preview');
          return;
        }
        setTimeout(poll, 500);
      }, function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 500);
})();
"#;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PAGE, get(page))
        .route(STATUS, get(status))
        .route(SCRIPT, get(script))
}

fn not_previewing() -> Response {
    crate::Error::NotFound("no tile is previewed here".into()).into_response()
}

/// `GET /preview`: the previewed product's settings page, or the metadata's errors.
async fn page(State(state): State<AppState>) -> Response {
    let Some(preview) = state.preview.as_ref() else {
        return not_previewing();
    };
    let shown = preview.shown();
    match &shown.product {
        Some(product) if shown.errors.is_empty() => {
            Redirect::to(&product.settings_url).into_response()
        }
        _ => Html(errors_page(&shown)).into_response(),
    }
}

/// `GET /preview/status`: what the pages show now (the page compares the generation).
async fn status(State(state): State<AppState>) -> Response {
    match state.preview.as_ref() {
        Some(preview) => Json(preview.shown()).into_response(),
        None => not_previewing(),
    }
}

async fn script(State(state): State<AppState>) -> Response {
    if state.preview.is_none() {
        return not_previewing();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        )],
        RELOAD_JS,
    )
        .into_response()
}

/// Whether a `Host` header names this machine's loopback: `localhost`, `127.x.x.x`, `[::1]`,
/// with or without a port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Around the gate in a preview (see the module's comment); nothing otherwise.
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(preview) = state.preview.clone() else {
        return next.run(request).await;
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !is_loopback_host(host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "the tile preview answers only to a loopback address (127.0.0.1, localhost, [::1])",
        )
            .into_response();
    }
    let response = next.run(request).await;
    let is_page = response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if !is_page {
        return response;
    }
    let shown = preview.shown();
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let html = if shown.errors.is_empty() {
        let bytes = match axum::body::to_bytes(body, PAGE_LIMIT).await {
            Ok(bytes) => bytes,
            Err(e) => {
                return crate::Error::Internal(format!("reading a page: {e}")).into_response()
            }
        };
        with_poll(&String::from_utf8_lossy(&bytes), shown.generation)
    } else {
        errors_page(&shown)
    };
    Response::from_parts(parts, Body::from(html))
}

/// The page's `<head>` gets the generation it was made at and the poll (an own-origin
/// script, which the pages' CSP allows; the body is left alone, so hydration is too).
fn with_poll(html: &str, generation: u64) -> String {
    // The preview's own pages carry it already.
    if html.contains("name=\"tileworks-preview\"") {
        return html.to_owned();
    }
    let tags = poll_tags(generation);
    match html.find("</head>") {
        Some(at) => format!("{}{tags}{}", &html[..at], &html[at..]),
        None => format!("{tags}{html}"),
    }
}

fn poll_tags(generation: u64) -> String {
    format!(
        "<meta name=\"tileworks-preview\" content=\"{generation}\">\
         <script src=\"{SCRIPT}\" defer></script>"
    )
}

/// The metadata's errors (and warnings), each with its YAML path and its line, in place of
/// the forms until the author fixes them.
pub fn errors_page(shown: &Shown) -> String {
    let file = html_escape(&shown.metadata_path);
    let list = |problems: &[crate::preview::Problem], class: &str| -> String {
        problems
            .iter()
            .map(|p| {
                let place = match (p.line, p.column) {
                    (Some(line), Some(column)) => format!("{file}, line {line}, column {column}"),
                    (Some(line), None) => format!("{file}, line {line}"),
                    _ => file.clone(),
                };
                let path = if p.path.is_empty() {
                    String::new()
                } else {
                    format!(
                        " <code class=\"preview-path\">{}</code>",
                        html_escape(&p.path)
                    )
                };
                let hint = p
                    .hint
                    .as_deref()
                    .map(|h| format!("<p class=\"hint\">{}</p>", html_escape(h)))
                    .unwrap_or_default();
                format!(
                    "<li class=\"{class}\"><p><span class=\"preview-place\">{place}</span>{path}: \
                     {message} <small>[{rule}]</small></p>{hint}</li>",
                    message = html_escape(&p.message),
                    rule = html_escape(&p.rule),
                )
            })
            .collect()
    };
    let (title, intro) = if shown.errors.is_empty() {
        (
            "No product to preview yet".to_owned(),
            "The tile has not loaded yet.".to_owned(),
        )
    } else {
        (
            format!("{} error(s) in the tile's metadata", shown.errors.len()),
            "Fix them and save: this page reloads by itself and shows the forms again.".to_owned(),
        )
    };
    let warnings = if shown.warnings.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>Warnings</h2><ul class=\"preview-warnings\">{}</ul>",
            list(&shown.warnings, "preview-warning")
        )
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Tile preview: {title}</title><link rel=\"stylesheet\" href=\"{css}\">{poll}</head>\
         <body><main class=\"preview-errors-page\"><h1>{title}</h1><p>{intro}</p>\
         <ul class=\"preview-errors\" role=\"alert\">{errors}</ul>{warnings}</main></body></html>",
        css = stylesheet(),
        poll = poll_tags(shown.generation),
        errors = list(&shown.errors, "preview-error"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::Problem;

    #[test]
    fn only_loopback_hosts_pass() {
        for host in [
            "127.0.0.1:8080",
            "127.0.0.1",
            "localhost:3000",
            "LOCALHOST",
            "[::1]:8080",
            "[::1]",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "example.com",
            "evil.example:8080",
            "10.0.0.1:80",
            "",
            "[::2]:1",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn the_poll_goes_in_the_head() {
        let page = with_poll(
            "<html><head><title>x</title></head><body>b</body></html>",
            7,
        );
        assert!(page.contains(
            "<title>x</title><meta name=\"tileworks-preview\" content=\"7\"><script src=\"/preview/reload.js\" defer></script></head><body>b</body>"
        ));
    }

    #[test]
    fn errors_show_path_line_and_are_escaped() {
        let shown = Shown {
            generation: 3,
            metadata_path: "metadata/t.yml".into(),
            metadata_sha256: String::new(),
            product: None,
            errors: vec![Problem {
                path: "form_types[0].label".into(),
                line: Some(12),
                column: Some(5),
                rule: "label-and-rank".into(),
                message: "<b>bad</b>".into(),
                hint: Some("fix it".into()),
            }],
            warnings: vec![],
            dropped: vec![],
        };
        let page = errors_page(&shown);
        assert!(page.contains("metadata/t.yml, line 12, column 5"), "{page}");
        assert!(page.contains("<code class=\"preview-path\">form_types[0].label</code>"));
        assert!(page.contains("&lt;b&gt;bad&lt;/b&gt;"));
        assert!(page.contains("content=\"3\""));
    }
}
