//! The browser assets under `/pkg/`: the hydration script, the wasm module and the stylesheet.
//!
//! `scripts/build-site.sh release` names them after a hash of their content
//! (`tileworks.<hash>.js`, `tileworks.<hash>_bg.wasm`, `tileworks.<hash>.css`, the hash written
//! to `pkg/asset-hash`; with them the lazy pages' modules and their loader,
//! `tileworks.<hash>.split_<page>.wasm`, `tileworks.<hash>.chunk_<n>.wasm` and
//! `tileworks.<hash>.split.js`) and puts brotli (`.br`) and gzip (`.gz`) copies beside them. This
//! handler picks the smallest copy the client accepts (so nothing is compressed per request and
//! the compression layer leaves these alone), marks hashed names immutable for a year (a new
//! build has new names), and answers conditional requests with `304` from an `ETag` and
//! `Last-Modified` taken from the file's metadata. A debug build has unhashed names: those
//! are `no-cache` (revalidated every time, so a rebuilt site is picked up at once).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::http::AppState;

/// The route of the assets (a Public entry point in the gate).
pub const ROUTE: &str = "/pkg/{file}";

/// The file naming the release build's content hash, beside the assets.
pub const HASH_FILE: &str = "asset-hash";

/// The name the hydration script, wasm and stylesheet share: `tileworks.<hash>` when the site
/// was built for release with hashed names, else `tileworks`. Read once at start.
pub fn output_name(site_root: &Path) -> String {
    match std::fs::read_to_string(site_root.join("pkg").join(HASH_FILE)) {
        Ok(hash) if is_hash(hash.trim()) => format!("tileworks.{}", hash.trim()),
        _ => "tileworks".to_owned(),
    }
}

/// A content hash as build-site.sh writes it: hex, at least 8 digits.
fn is_hash(text: &str) -> bool {
    text.len() >= 8 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether a file name carries a content hash (`tileworks.<hash>.js`, `…<hash>_bg.wasm`,
/// `tileworks.<hash>.chunk_2.wasm`), so its content never changes under that name.
fn is_hashed(file: &str) -> bool {
    file.split('.')
        .nth(1)
        .map(|part| part.strip_suffix("_bg").unwrap_or(part))
        .is_some_and(is_hash)
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// The encodings the client accepts (a `q=0` refuses one), as far as we have copies for.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
        })
}

/// `GET /pkg/{file}`.
pub async fn serve(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    // One plain file name: no separators, no hidden files, no precompressed copy asked for
    // by name.
    if file.is_empty()
        || file.starts_with('.')
        || file.contains(['/', '\\'])
        || file.ends_with(".br")
        || file.ends_with(".gz")
    {
        return not_found();
    }
    let dir = PathBuf::from(state.leptos_options.site_root.as_ref()).join("pkg");
    let plain = dir.join(&file);
    // The copy to send: brotli, else gzip, else the file itself.
    let mut chosen = None;
    for (coding, suffix) in [("br", "br"), ("gzip", "gz")] {
        if accepts(&headers, coding) {
            let path = dir.join(format!("{file}.{suffix}"));
            if let Ok(meta) = tokio::fs::metadata(&path).await {
                if meta.is_file() {
                    chosen = Some((path, meta, Some(coding)));
                    break;
                }
            }
        }
    }
    let (path, meta, coding) = match chosen {
        Some(found) => found,
        None => match tokio::fs::metadata(&plain).await {
            Ok(meta) if meta.is_file() => (plain, meta, None),
            _ => return not_found(),
        },
    };
    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    let stamp = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // One tag per representation: the brotli and gzip copies are different bytes.
    let etag = format!("\"{:x}-{:x}{}\"", meta.len(), stamp, coding.unwrap_or(""));
    let last_modified = httpdate(modified);

    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&file)),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if is_hashed(&file) {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&last_modified) {
        out.insert(header::LAST_MODIFIED, v);
    }
    if not_modified(&headers, &etag, modified) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    if let Some(coding) = coding {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
    match tokio::fs::File::open(&path).await {
        Ok(handle) => (
            StatusCode::OK,
            out,
            Body::from_stream(tokio_util::io::ReaderStream::new(handle)),
        )
            .into_response(),
        Err(_) => not_found(),
    }
}

/// RFC 9110: `If-None-Match` decides when present; otherwise `If-Modified-Since` (to the
/// second, as HTTP dates go).
fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(tags) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return tags
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag || t == "*");
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_httpdate)
        .is_some_and(|since| unix_seconds(modified) <= since)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such asset").into_response()
}

fn unix_seconds(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(t: SystemTime) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(unix_seconds(t))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).unwrap_or_default()
}

fn parse_httpdate(text: &str) -> Option<i64> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("tileworks.0123abcd4567ef89.js"));
        assert!(is_hashed("tileworks.0123abcd4567ef89_bg.wasm"));
        assert!(!is_hashed("tileworks.js"));
        assert!(!is_hashed("tileworks_bg.wasm"));
        assert!(!is_hashed("tileworks.css"));
        // The split build's modules and loader (scripts/build-site.sh).
        assert!(is_hashed("tileworks.0123abcd4567ef89.split.js"));
        assert!(is_hashed("tileworks.0123abcd4567ef89.chunk_12.wasm"));
        assert!(is_hashed(
            "tileworks.0123abcd4567ef89.split___users_route__view_1234.wasm"
        ));
        assert!(!is_hashed("chunk_12.wasm"));
        assert!(!is_hashed("__wasm_split.js"));
    }

    #[test]
    fn accept_encoding_is_read_with_q_values() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br".parse().unwrap(),
        );
        assert!(accepts(&h, "br") && accepts(&h, "gzip"));
        h.insert(header::ACCEPT_ENCODING, "gzip;q=1, br;q=0".parse().unwrap());
        assert!(!accepts(&h, "br") && accepts(&h, "gzip"));
        h.insert(header::ACCEPT_ENCODING, "identity".parse().unwrap());
        assert!(!accepts(&h, "br") && !accepts(&h, "gzip"));
    }

    #[test]
    fn http_dates_round_trip() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        assert_eq!(httpdate(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_httpdate(&httpdate(t)), Some(784_111_777));
    }
}
