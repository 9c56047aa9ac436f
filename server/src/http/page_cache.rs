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

use std::collections::HashMap;
use std::sync::Mutex;

use app::session::CurrentUser;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::headers::CspNonce;
use crate::store::Store;

/// The routes whose GET is cached: pages whose every value comes from the database.
pub const ROUTES: [&str; 1] = [super::settings_form::ROUTE];

/// What all kept pages may take together; past it the cache starts again empty.
const MAX_BYTES: usize = 32 * 1024 * 1024;

/// A page bigger than this is served but not kept.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// Whether a request goes through the cache.
pub fn cacheable(method: &Method, route: Option<&str>) -> bool {
    method == Method::GET && route.is_some_and(|route| ROUTES.contains(&route))
}

#[derive(Default)]
pub struct PageCache {
    kept: Mutex<Kept>,
}

/// The pages of one data generation of one database.
#[derive(Default)]
struct Kept {
    generation: Option<(u64, i64)>,
    pages: HashMap<Key, std::sync::Arc<Page>>,
    bytes: usize,
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
    /// Answers `request` (already through the gate, for `user`) from the cache, or renders it
    /// through `next` and keeps the answer when it is a whole page.
    pub async fn serve(
        &self,
        store: &Store,
        user: &CurrentUser,
        request: Request,
        next: Next,
    ) -> Response {
        let generation = match store.generation().current().await {
            Ok(Some(n)) => (store.opening(), n),
            Ok(None) => return rendered(next.run(request).await),
            Err(err) => return err.into_response(),
        };
        let Some(CspNonce(nonce)) = request.extensions().get::<CspNonce>().cloned() else {
            return rendered(next.run(request).await);
        };
        let key = Key {
            username: user.username.clone(),
            role: user.role.clone(),
            uri: request.uri().to_string(),
        };
        if let Some(page) = self.find(generation, &key) {
            return page.answer(&nonce);
        }
        let response = next.run(request).await;
        let is_html = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if response.status() != StatusCode::OK || !is_html {
            return response;
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
        if bytes.len() <= MAX_PAGE_BYTES {
            if let Ok(body) = std::str::from_utf8(&bytes) {
                self.keep(
                    generation,
                    key,
                    Page {
                        headers: kept_headers(&parts.headers),
                        body: body.to_owned(),
                        nonce,
                    },
                );
            }
        }
        Response::from_parts(parts, Body::from(bytes))
    }

    fn find(&self, generation: (u64, i64), key: &Key) -> Option<std::sync::Arc<Page>> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.generation != Some(generation) {
            return None;
        }
        kept.pages.get(key).cloned()
    }

    /// Keeps `page` as rendered under `generation` (read before any of its data was): a page
    /// of an older generation than the one kept is dropped, a newer one starts the cache again.
    fn keep(&self, generation: (u64, i64), key: Key, page: Page) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let newer = match kept.generation {
            Some((opening, n)) => opening != generation.0 || generation.1 > n,
            None => true,
        };
        if newer {
            *kept = Kept {
                generation: Some(generation),
                ..Kept::default()
            };
        } else if kept.generation != Some(generation) {
            return;
        }
        let size = page.body.len();
        if kept.bytes + size > MAX_BYTES {
            kept.pages.clear();
            kept.bytes = 0;
        }
        kept.bytes += size;
        if let Some(old) = kept.pages.insert(key, std::sync::Arc::new(page)) {
            kept.bytes -= old.body.len();
        }
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

    fn page(body: &str, nonce: &str) -> Page {
        Page {
            headers: HeaderMap::new(),
            body: body.into(),
            nonce: nonce.into(),
        }
    }

    fn key(uri: &str) -> Key {
        Key {
            username: "admin".into(),
            role: "admin".into(),
            uri: uri.into(),
        }
    }

    #[tokio::test]
    async fn a_page_is_served_with_each_responses_own_nonce() {
        let cache = PageCache::default();
        cache.keep(
            (1, 5),
            key("/p"),
            page(
                r#"<script nonce="aaa">x</script><script nonce="aaa">"#,
                "aaa",
            ),
        );
        let page = cache.find((1, 5), &key("/p")).expect("kept");
        let answer = page.answer("bbb");
        assert_eq!(answer.headers()["server-timing"], "page;desc=\"cached\"");
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"<script nonce="bbb">x</script><script nonce="bbb">"#
        );
    }

    #[test]
    fn pages_of_another_generation_or_database_are_not_served() {
        let cache = PageCache::default();
        cache.keep((1, 5), key("/p"), page("five", "n"));
        assert!(cache.find((1, 5), &key("/q")).is_none());
        assert!(cache.find((1, 6), &key("/p")).is_none());
        assert!(cache.find((2, 5), &key("/p")).is_none());
        // A page rendered under an older generation than the kept one is dropped.
        cache.keep((1, 6), key("/p"), page("six", "n"));
        cache.keep((1, 5), key("/q"), page("late five", "n"));
        assert!(cache.find((1, 5), &key("/q")).is_none());
        assert!(cache.find((1, 6), &key("/q")).is_none());
        assert_eq!(cache.find((1, 6), &key("/p")).unwrap().body, "six");
        // Another database (an import) starts again, whatever its generation.
        cache.keep((2, 1), key("/p"), page("other", "n"));
        assert!(cache.find((1, 6), &key("/p")).is_none());
        assert_eq!(cache.find((2, 1), &key("/p")).unwrap().body, "other");
    }

    #[test]
    fn the_cache_stays_within_its_bytes() {
        let cache = PageCache::default();
        let big = "x".repeat(MAX_PAGE_BYTES);
        for i in 0..20 {
            cache.keep((1, 1), key(&format!("/p{i}")), page(&big, "n"));
            assert!(cache.kept.lock().unwrap().bytes <= MAX_BYTES);
        }
    }
}
