//! Cross-site request forgery: a browser attaches the session cookie to a request another
//! site's page makes, so a state-changing request that rides on a session must prove it came
//! from Tileworks's own pages. `SameSite=Lax` is not enough: it lets a *same-site* page (another
//! port or subdomain of the same host) post with the cookie, and it does not cover the login
//! form, which has no session yet.
//!
//! The proof is what browsers send and pages cannot forge: `Sec-Fetch-Site` (every current
//! browser) must be `same-origin`, or, from a browser that sends no fetch metadata, `Origin`
//! (else `Referer`) must name this very host. Bearer-token requests need none of this: a
//! browser never adds an `Authorization` header by itself.

use axum::http::{header, HeaderMap};

use crate::Error;

/// A write riding on a session: refused unless the browser says it came from this origin.
pub fn check_session_write(headers: &HeaderMap, host: Option<&str>) -> crate::Result<()> {
    if let Some(site) = text(headers, "sec-fetch-site") {
        // `none`: the user typed or bookmarked it, which no page can make a browser do.
        return if matches!(site, "same-origin" | "none") {
            Ok(())
        } else {
            Err(refusal(&format!("Sec-Fetch-Site: {site}")))
        };
    }
    match source_host(headers) {
        Some(Source::Host(source)) if same_host(&source, host) => Ok(()),
        Some(Source::Host(source)) => Err(refusal(&format!("from {source}"))),
        Some(Source::Opaque) => Err(refusal("Origin: null")),
        None => Err(refusal("no Origin or Referer")),
    }
}

/// The login form: refused when the browser says a foreign page sent it (a request without
/// any of the headers — a script, `curl` — has no cookie to abuse and may log in).
pub fn check_login(headers: &HeaderMap, host: Option<&str>) -> crate::Result<()> {
    if let Some(site) = text(headers, "sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Err(refusal(&format!("Sec-Fetch-Site: {site}")));
        }
    }
    match source_host(headers) {
        Some(Source::Host(source)) if !same_host(&source, host) => {
            Err(refusal(&format!("from {source}")))
        }
        Some(Source::Opaque) => Err(refusal("Origin: null")),
        _ => Ok(()),
    }
}

fn refusal(why: &str) -> Error {
    Error::Forbidden(format!(
        "cross-site request refused ({why}): Tileworks accepts changes made with a browser \
         session only from its own pages"
    ))
}

enum Source {
    /// `host[:port]` of the page that sent the request.
    Host(String),
    /// `Origin: null` (sandboxed frames, `data:` pages, some redirects).
    Opaque,
}

/// Where the request says it came from: `Origin`, else `Referer`.
fn source_host(headers: &HeaderMap) -> Option<Source> {
    let url = match text(headers, header::ORIGIN.as_str()) {
        Some("null") => return Some(Source::Opaque),
        Some(origin) => origin,
        None => text(headers, header::REFERER.as_str())?,
    };
    let rest = url.split_once("://").map(|(_, rest)| rest)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    Some(Source::Host(host.to_ascii_lowercase()))
}

/// `host` is this server's authority as the request names it (`Host`, or HTTP/2's
/// `:authority`).
fn same_host(source: &str, host: Option<&str>) -> bool {
    host.is_some_and(|host| host.eq_ignore_ascii_case(source))
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const HOST: Option<&str> = Some("127.0.0.1:8080");

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn session_writes_need_proof_of_origin() {
        let ok = [
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("origin", "http://127.0.0.1:8080")]),
            headers(&[(
                "referer",
                "http://127.0.0.1:8080/products/x/settings?form=a",
            )]),
            headers(&[("sec-fetch-site", "none")]),
        ];
        for h in ok {
            assert!(check_session_write(&h, HOST).is_ok(), "{h:?}");
        }
        let refused = [
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://127.0.0.1:8080"),
            ]),
            headers(&[("origin", "http://127.0.0.1:9999")]),
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[("referer", "http://127.0.0.1:9999/attack.html")]),
            headers(&[]),
        ];
        for h in refused {
            assert!(check_session_write(&h, HOST).is_err(), "{h:?}");
        }
    }

    #[test]
    fn the_login_form_refuses_foreign_pages_only() {
        assert!(check_login(&headers(&[]), HOST).is_ok());
        assert!(check_login(&headers(&[("origin", "http://127.0.0.1:8080")]), HOST).is_ok());
        assert!(check_login(&headers(&[("origin", "http://127.0.0.1:9999")]), HOST).is_err());
        assert!(check_login(&headers(&[("sec-fetch-site", "cross-site")]), HOST).is_err());
        assert!(check_login(&headers(&[("origin", "null")]), HOST).is_err());
    }
}
