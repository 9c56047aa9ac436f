//! Rendered pages kept for as long as nothing they show has changed.
//!
//! A product's settings page is the page operators load most (one per form, again after each
//! save) and the dearest to render: the form's template cut from the tile, every form validated
//! for the navigation's marks, the product's completeness, the service adapter's warnings
//! (BENCHMARKS.md, "Pages under load"). All of it is a function of the database and of who asks,
//! so the rendered page is kept under the database's data generation (`crate::store::
//! generation`, moved by every change a page can show, whoever makes it) and served again while
//! the generation stands, for the same user, role and URL.
//!
//! What differs per response is put back: the CSP nonce of the inline scripts (each response
//! has its own, `super::headers`), cookies, and `Server-Timing`, which says `page;desc="cached"`
//! or `"rendered"`. The gate runs before this (authentication, the role table), so a cached page
//! is only ever handed to whom the page itself would be.
//!
//! Off where there is no generation (PostgreSQL, several replicas: `migrations/postgres/
//! 0027_data_generation.sql` says why) and in the tile preview (its tile's errors live in
//! memory, not in the database).

use std::sync::Arc;

use app::session::CurrentUser;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::headers::CspNonce;
use crate::store::generation::Memo;
use crate::store::Store;

/// The routes whose GET is cached: pages whose every value comes from the database.
pub const ROUTES: [&str; 1] = [super::settings_form::ROUTE];

/// What all kept pages may take together, in bytes; past it the cache starts again empty. A
/// page bigger than a quarter of it is served but not kept.
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// Whether a request goes through the cache.
pub fn cacheable(method: &Method, route: Option<&str>) -> bool {
    method == Method::GET && route.is_some_and(|route| ROUTES.contains(&route))
}

pub struct PageCache {
    pages: Memo<Key, Arc<Page>>,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache {
            pages: Memo::new(MAX_BYTES),
        }
    }
}

#[derive(Hash, PartialEq, Eq)]
struct Key {
    username: String,
    role: String,
    /// Path and query: the form shown, `saved=1`.
    uri: String,
}

struct Page {
    headers: HeaderMap,
    body: String,
    /// The nonce the page was rendered with, replaced by each response's own.
    nonce: String,
}

impl PageCache {
    /// Answers `request` (already through the gate, which left its [`CurrentUser`] in it) from
    /// the cache, or renders it through `next` and keeps the answer when it is a whole page.
    pub async fn serve(&self, store: &Store, request: Request, next: Next) -> Response {
        let stamp = match store.generation().current().await {
            Ok(Some(stamp)) => stamp,
            Ok(None) => return rendered(next.run(request).await),
            Err(err) => return err.into_response(),
        };
        let (Some(CspNonce(nonce)), Some(user)) = (
            request.extensions().get::<CspNonce>().cloned(),
            request.extensions().get::<CurrentUser>(),
        ) else {
            return rendered(next.run(request).await);
        };
        let key = Key {
            username: user.username.clone(),
            role: user.role.clone(),
            uri: request.uri().to_string(),
        };
        if let Some(page) = self.pages.find(stamp, &key) {
            return page.answer(&nonce);
        }
        let response = next.run(request).await;
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if response.status() != StatusCode::OK || !is_html {
            return rendered(response);
        }
        let (mut parts, body) = response.into_parts();
        let bytes = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => bytes,
            Err(err) => {
                return crate::Error::Internal(format!("rendering the page failed: {err}"))
                    .into_response()
            }
        };
        mark(&mut parts.headers, false);
        if bytes.len() <= MAX_BYTES / 4 {
            if let Ok(body) = std::str::from_utf8(&bytes) {
                let page = Page {
                    headers: kept_headers(&parts.headers),
                    body: body.to_owned(),
                    nonce,
                };
                self.pages.keep(stamp, key, Arc::new(page), bytes.len());
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }
}

impl Page {
    fn answer(&self, nonce: &str) -> Response {
        let body = self.body.replace(&self.nonce, nonce);
        let mut response = (StatusCode::OK, Bytes::from(body)).into_response();
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        mark(headers, true);
        response
    }
}

/// The rendered answer's headers worth repeating: not its length (recomputed), cookies, date or
/// timing, which belong to one response.
fn kept_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = headers.clone();
    for name in [
        header::CONTENT_LENGTH,
        header::SET_COOKIE,
        header::DATE,
        header::HeaderName::from_static("server-timing"),
    ] {
        kept.remove(name);
    }
    kept
}

/// A page rendered for this request and not kept.
fn rendered(mut response: Response) -> Response {
    mark(response.headers_mut(), false);
    response
}

/// Says in `Server-Timing` whether the page came from the cache.
fn mark(headers: &mut HeaderMap, cached: bool) {
    let value = if cached {
        HeaderValue::from_static("page;desc=\"cached\"")
    } else {
        HeaderValue::from_static("page;desc=\"rendered\"")
    };
    headers.insert("server-timing", value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_page_is_served_with_each_responses_own_nonce() {
        let page = Page {
            headers: HeaderMap::new(),
            body: r#"<script nonce="aaa">x</script><link crossorigin="aaa">"#.into(),
            nonce: "aaa".into(),
        };
        let answer = page.answer("bbb");
        assert_eq!(answer.headers()["server-timing"], "page;desc=\"cached\"");
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"<script nonce="bbb">x</script><link crossorigin="bbb">"#
        );
    }
}
