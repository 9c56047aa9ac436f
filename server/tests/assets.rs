//! The browser assets as a release build lays them out (`scripts/build-site.sh release`):
//! content-hashed names linked by the pages, the precompressed copy the client accepts sent
//! as it is (never compressed again), a year's immutable caching for hashed names, `304` for
//! conditional requests, and HTML compressed on the fly. Against the real binary, with a site
//! folder of this test's own.

mod common;

use common::*;
use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, VARY,
};
use reqwest::StatusCode;

const HASH: &str = "0123456789abcdef";

/// A site as the release build writes it; the compressed copies hold bytes that tell them
/// apart (the server sends files, it does not decode them).
fn release_site() -> tempfile::TempDir {
    let site = tempfile::tempdir().unwrap();
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("asset-hash"), format!("{HASH}\n")).unwrap();
    for (name, body) in [
        (
            format!("tileworks.{HASH}.js"),
            "export default function(){}\n",
        ),
        (format!("tileworks.{HASH}_bg.wasm"), "\0asm-not-really"),
        (format!("tileworks.{HASH}.css"), "body{margin:0}\n"),
        // What splitting adds: the loader script and the lazy pages' modules.
        (
            format!("tileworks.{HASH}.split.js"),
            "import { initSync } from \"./tileworks.{HASH}.js\";\n",
        ),
        (
            format!("tileworks.{HASH}.split___users_route__view_42.wasm"),
            "\0asm-split",
        ),
        (format!("tileworks.{HASH}.chunk_3.wasm"), "\0asm-chunk"),
    ] {
        std::fs::write(pkg.join(&name), body).unwrap();
        std::fs::write(pkg.join(format!("{name}.br")), format!("brotli of {name}")).unwrap();
        std::fs::write(pkg.join(format!("{name}.gz")), format!("gzip of {name}")).unwrap();
    }
    // Unhashed files (as a debug build names them).
    std::fs::write(pkg.join("tileworks.js"), "debug build\n").unwrap();
    std::fs::write(pkg.join("chunk_3.wasm"), "\0asm-debug-chunk").unwrap();
    site
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn header(r: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn precompressed_assets_are_chosen_by_accept_encoding_and_never_compressed_twice() {
    let site = release_site();
    let server = TestServer::start_with(
        &["--site-root", site.path().to_str().unwrap()],
        Some(ADMIN_PASSWORD),
    );
    let client = client();
    let wasm = format!("/pkg/tileworks.{HASH}_bg.wasm");
    for (accept, coding, body) in [
        (
            "gzip, deflate, br",
            "br",
            format!("brotli of tileworks.{HASH}_bg.wasm"),
        ),
        (
            "gzip, br;q=0",
            "gzip",
            format!("gzip of tileworks.{HASH}_bg.wasm"),
        ),
        ("identity", "", "\0asm-not-really".to_owned()),
    ] {
        let r = client
            .get(server.at(&wasm))
            .header(ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{accept}");
        assert_eq!(header(&r, CONTENT_ENCODING), coding, "{accept}");
        assert_eq!(header(&r, CONTENT_TYPE), "application/wasm");
        assert_eq!(header(&r, VARY), "Accept-Encoding");
        assert_eq!(r.text().await.unwrap(), body, "{accept}: sent as stored");
    }
    // Each type with its own content type; gzip is not applied again on top.
    let r = client
        .get(server.at(&format!("/pkg/tileworks.{HASH}.css")))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, CONTENT_TYPE), "text/css; charset=utf-8");
    assert_eq!(header(&r, CONTENT_ENCODING), "gzip");
    assert_eq!(
        r.text().await.unwrap(),
        format!("gzip of tileworks.{HASH}.css")
    );
    // Unknown files, copies asked for by name, and paths that leave the folder are 404.
    for path in [
        "/pkg/nothing.js".to_owned(),
        format!("/pkg/tileworks.{HASH}.js.br"),
        "/pkg/..%2Fasset-hash".to_owned(),
        "/pkg/.hidden".to_owned(),
    ] {
        let r = client.get(server.at(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn the_split_modules_and_their_loader_are_served_like_the_main_module() {
    let site = release_site();
    let server = TestServer::start_with(
        &["--site-root", site.path().to_str().unwrap()],
        Some(ADMIN_PASSWORD),
    );
    let client = client();
    for (file, content_type) in [
        (
            format!("tileworks.{HASH}.split___users_route__view_42.wasm"),
            "application/wasm",
        ),
        (format!("tileworks.{HASH}.chunk_3.wasm"), "application/wasm"),
        (
            format!("tileworks.{HASH}.split.js"),
            "text/javascript; charset=utf-8",
        ),
    ] {
        let r = client
            .get(server.at(&format!("/pkg/{file}")))
            .header(ACCEPT_ENCODING, "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{file}");
        assert_eq!(header(&r, CONTENT_TYPE), content_type, "{file}");
        assert_eq!(header(&r, CONTENT_ENCODING), "br", "{file}");
        assert_eq!(
            header(&r, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{file}"
        );
        let etag = header(&r, ETAG);
        assert_eq!(r.text().await.unwrap(), format!("brotli of {file}"));
        let again = client
            .get(server.at(&format!("/pkg/{file}")))
            .header(ACCEPT_ENCODING, "gzip, deflate, br")
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{file}");
    }
    // A debug build's chunk has wasm-split's own name: revalidated every time.
    let debug = client
        .get(server.at("/pkg/chunk_3.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(debug.status(), 200);
    assert_eq!(header(&debug, CONTENT_TYPE), "application/wasm");
    assert_eq!(header(&debug, CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_conditional_requests_get_304() {
    let site = release_site();
    let server = TestServer::start_with(
        &["--site-root", site.path().to_str().unwrap()],
        Some(ADMIN_PASSWORD),
    );
    let client = client();
    let js = server.at(&format!("/pkg/tileworks.{HASH}.js"));
    let first = client
        .get(&js)
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(
        header(&first, CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let etag = header(&first, ETAG);
    let modified = header(&first, LAST_MODIFIED);
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(modified.ends_with(" GMT"), "{modified}");

    // The same representation: 304, no body, the validators again.
    let again = client
        .get(&js)
        .header(ACCEPT_ENCODING, "br")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&again, ETAG), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    let since = client
        .get(&js)
        .header(ACCEPT_ENCODING, "br")
        .header(IF_MODIFIED_SINCE, &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(since.status(), StatusCode::NOT_MODIFIED);

    // Another representation (gzip) has another tag: the brotli tag does not match it.
    let other = client
        .get(&js)
        .header(ACCEPT_ENCODING, "gzip")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_ne!(header(&other, ETAG), etag);
    // A stale tag gets the file.
    let stale = client
        .get(&js)
        .header(ACCEPT_ENCODING, "br")
        .header(IF_NONE_MATCH, "\"something-else\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);

    // An unhashed (debug) name may change under the same name: revalidated every time.
    let debug = client
        .get(server.at("/pkg/tileworks.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(debug.status(), 200);
    assert_eq!(header(&debug, CACHE_CONTROL), "no-cache");
}

#[tokio::test]
async fn pages_link_the_hashed_names_and_html_is_compressed() {
    let site = release_site();
    let server = TestServer::start_with(
        &["--site-root", site.path().to_str().unwrap()],
        Some(ADMIN_PASSWORD),
    );
    let browser = browser();
    log_in(&browser, &server, ADMIN_USER, ADMIN_PASSWORD).await;
    let page = browser.get(server.at("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for name in [
        format!("/pkg/tileworks.{HASH}.js"),
        format!("/pkg/tileworks.{HASH}_bg.wasm"),
        format!("/pkg/tileworks.{HASH}.css"),
    ] {
        assert!(html.contains(&name), "the dashboard links {name}");
    }
    assert!(!html.contains("/pkg/tileworks.css"));

    // HTML is compressed on the fly for clients that accept it (and stays uncached).
    let compressed = browser
        .get(server.at("/"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&compressed, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&compressed, CACHE_CONTROL), "no-store");
    let gzipped = compressed.bytes().await.unwrap();
    let mut plain = String::new();
    use std::io::Read;
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert!(plain.contains("Installation Dashboard"));
    assert!(
        gzipped.len() * 2 < plain.len(),
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
}
