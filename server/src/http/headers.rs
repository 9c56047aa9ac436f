//! Security headers on every response.
//!
//! Pages get a Content Security Policy that allows only Tileworks's own scripts: the hydration
//! script Leptos writes inline carries a fresh nonce per response (the middleware makes it and
//! puts it in the request as [`CspNonce`]; [`provide_nonce`] hands it to Leptos), and the
//! wasm module needs `'wasm-unsafe-eval'`. Inline `style` attributes (progress bars) are
//! allowed; scripts from anywhere else, plugins, `<base>` and framing are not. Every response
//! also says `nosniff`, keeps the path out of other sites' `Referer`, and may not be framed;
//! under TLS, browsers are told to come back only over HTTPS.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The nonce of a page's inline scripts, per request.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// For HTML: own scripts and the nonce'd inline ones; own connections only.
fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// For everything else (JSON, downloads, assets): nothing may run or frame it.
const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

pub async fn security_headers(secure: bool, mut request: Request, next: Next) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let headers = response.headers_mut();
    let policy = if is_html {
        page_policy(&nonce)
    } else {
        OTHER_POLICY.to_owned()
    };
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if secure {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// 128 random bits, URL-safe base64.
fn new_nonce() -> String {
    use base64::Engine as _;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Inside the Leptos context of a page: use the request's nonce for the inline scripts, so
/// they match the response's policy.
pub fn provide_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_fresh_and_fit_a_policy() {
        let a = new_nonce();
        assert_ne!(a, new_nonce());
        assert_eq!(a.len(), 22);
        assert!(page_policy(&a).contains(&format!("'nonce-{a}'")));
    }
}
