//! `tileworks tile preview` as a real process: its own HTTP behaviour (the redirect to the
//! staged tile's settings page, the poll's status and script on every page, the reload after
//! an edit with the typed values kept, the metadata's errors with their YAML path and line in
//! place of the forms, a foreign `Host` refused), the refusal of a non-loopback `--listen`, and
//! the temporary data removed when it stops. The browser side: end2end/tests/preview.spec.ts.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{binary, browser, location};
use serde_json::{json, Value};

/// The tests' own small tile (end2end/fixtures/preview-tile), copied so the test can edit it.
fn tile_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("metadata")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/fixtures/preview-tile/metadata/preview-demo.yml"),
        metadata_of(dir.path()),
    )
    .unwrap();
    dir
}

fn metadata_of(tile: &Path) -> PathBuf {
    tile.join("metadata/preview-demo.yml")
}

/// Replaces `from` (which must be there) with `to` in the tile's metadata.
fn edit(tile: &Path, from: &str, to: &str) {
    let path = metadata_of(tile);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} is not in the metadata");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

struct Preview {
    child: Child,
    url: String,
    /// TMPDIR of the preview: where its data dir goes.
    tmp: tempfile::TempDir,
}

impl Preview {
    fn start(tile: &Path) -> Preview {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = Command::new(binary())
            .args(["tile", "preview"])
            .arg(tile)
            .args(["--listen", "127.0.0.1:0"])
            .env("TMPDIR", tmp.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the preview");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = String::new();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) if Instant::now() < deadline => {
                    seen.push_str(&line);
                    seen.push('\n');
                    if let Some(url) = line.split("listening on ").nth(1) {
                        break url.trim().to_owned();
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!("the preview did not start:\n{seen}");
                }
            }
        };
        assert!(
            seen.contains("/preview"),
            "the URL to open is printed:\n{seen}"
        );
        std::thread::spawn(move || for _ in lines {});
        Preview { child, url, tmp }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    async fn status(&self) -> Value {
        let response = browser()
            .get(self.at("/preview/status"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Waits until the preview has taken in an edit: the generation moved past `seen`.
    async fn changed_since(&self, seen: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let status = self.status().await;
            if status["generation"].as_u64().unwrap() > seen {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "no reload after an edit: {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn page(&self, path: &str) -> String {
        let response = browser().get(self.at(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().await.unwrap()
    }

    /// SIGTERM, as Ctrl-C would; the exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the preview did not stop");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A failed test must not leave its preview running.
impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test]
async fn preview_serves_the_tile_reloads_on_edits_and_shows_metadata_errors() {
    let tile = tile_folder();
    let preview = Preview::start(tile.path());
    let data = entries(preview.tmp.path());
    assert!(
        data.len() == 1 && data[0].starts_with("tileworks-preview-"),
        "the preview's data lives in one temporary folder: {data:?}"
    );

    // The preview's page leads to the staged tile's settings page, the operators' page.
    let client = browser();
    let response = client.get(preview.at("/preview")).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let settings = location(&response);
    assert!(
        settings.starts_with("/products/preview-demo-") && settings.ends_with("/settings"),
        "{settings}"
    );
    let guid = settings
        .trim_start_matches("/products/")
        .trim_end_matches("/settings")
        .to_owned();
    let status = preview.status().await;
    assert_eq!(status["errors"], json!([]), "{status}");
    assert_eq!(status["product"]["guid"], json!(guid));
    assert_eq!(status["product"]["label"], json!("Preview Demo"));
    let generation = status["generation"].as_u64().unwrap();
    let page = preview.page(&settings).await;
    assert!(page.contains("Greetings") && page.contains("Worker count"));
    // Every page carries the generation it shows and the poll that reloads it.
    assert!(page.contains(&format!(
        "<meta name=\"tileworks-preview\" content=\"{generation}\">"
    )));
    assert!(page.contains("<script src=\"/preview/reload.js\" defer></script>"));
    let script = client
        .get(preview.at("/preview/reload.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(script.text().await.unwrap().contains("location.reload()"));

    // Without a login the preview's principal configures the tile, with the same validation
    // as ever, and through the same CSRF checks: a foreign page's write is refused.
    let properties = preview.at(&format!("/api/v0/staged/products/{guid}/properties"));
    let refused = client
        .put(&properties)
        .json(&json!({"properties": {".properties.greeting": {"value": "Hello World"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("Use lower-case letters a to z only."));
    let saved = client
        .put(&properties)
        .json(&json!({"properties": {".properties.greeting": {"value": "hello"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    let foreign = reqwest::Client::new()
        .put(&properties)
        .header("sec-fetch-site", "cross-site")
        .json(&json!({"properties": {".properties.greeting": {"value": "evil"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);

    // An edit: a label renamed, a property added. The page's generation moves (so the open
    // page reloads), the page shows the change, the typed value stays.
    edit(
        tile.path(),
        "    label: Greeting\n",
        "    label: Salutation\n",
    );
    edit(
        tile.path(),
        "  - reference: .properties.worker_count\n",
        "  - reference: .properties.motto\n    label: Motto\n  - reference: .properties.worker_count\n",
    );
    edit(
        tile.path(),
        "- name: worker_count\n",
        "- name: motto\n  type: string\n  configurable: true\n  default: keep going\n- name: worker_count\n",
    );
    let status = preview.changed_since(generation).await;
    assert_eq!(status["errors"], json!([]), "{status}");
    assert_eq!(
        status["product"]["guid"],
        json!(guid),
        "the same staged product"
    );
    let generation = status["generation"].as_u64().unwrap();
    let page = preview.page(&settings).await;
    assert!(
        page.contains("Salutation") && page.contains("Motto"),
        "{page}"
    );
    assert!(page.contains(&format!("content=\"{generation}\"")));
    let stored: Value = client
        .get(&properties)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stored["properties"][".properties.greeting"]["value"],
        json!("hello"),
        "{stored}"
    );
    assert_eq!(
        stored["properties"][".properties.motto"]["value"],
        json!("keep going")
    );

    // A lint error: every page shows it with its YAML path and line instead of the forms.
    edit(
        tile.path(),
        "  - reference: .properties.motto\n",
        "  - reference: .properties.mottoo\n",
    );
    let status = preview.changed_since(generation).await;
    let generation = status["generation"].as_u64().unwrap();
    let error = &status["errors"][0];
    assert_eq!(
        error["path"],
        json!("form_types[0].property_inputs[1].reference"),
        "{status}"
    );
    assert_eq!(error["line"], json!(25), "{status}");
    let page = preview.page(&settings).await;
    assert!(
        !page.contains("Worker count"),
        "no forms while the metadata has errors"
    );
    assert!(
        page.contains("metadata/preview-demo.yml, line 25, column 5")
            && page.contains("form_types[0].property_inputs[1].reference")
            && page.contains(".properties.mottoo"),
        "{page}"
    );
    assert!(page.contains(&format!("content=\"{generation}\"")));
    assert_eq!(preview.page("/preview").await, page);

    // Unreadable YAML: its line.
    edit(
        tile.path(),
        "  - reference: .properties.mottoo\n",
        "  - reference: [.properties.motto\n",
    );
    let status = preview.changed_since(generation).await;
    let generation = status["generation"].as_u64().unwrap();
    let error = &status["errors"][0];
    assert_eq!(error["rule"], json!("yaml-readable"), "{status}");
    assert!(error["line"].as_u64().unwrap() >= 25, "{status}");
    let page = preview.page(&settings).await;
    assert!(page.contains("metadata/preview-demo.yml, line "), "{page}");

    // Fixed: the forms are back, values kept.
    edit(
        tile.path(),
        "  - reference: [.properties.motto\n",
        "  - reference: .properties.motto\n",
    );
    let status = preview.changed_since(generation).await;
    assert_eq!(status["errors"], json!([]), "{status}");
    let page = preview.page(&settings).await;
    assert!(page.contains("Salutation") && page.contains("Worker count"));

    // A page asked for under another name (a site rebinding its name to 127.0.0.1) is refused.
    let rebound = client
        .get(preview.at("/preview"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);

    // Ctrl-C (here SIGTERM) stops it and removes its data.
    let mut preview = preview;
    let exit = preview.stop();
    assert!(exit.success(), "{exit}");
    assert_eq!(entries(preview.tmp.path()), Vec::<String>::new());
}

#[test]
fn a_listen_address_other_than_loopback_is_refused() {
    let tile = tile_folder();
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["tile", "preview"])
        .arg(tile.path())
        .args(["--listen", "0.0.0.0:0"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("0.0.0.0:0 is not a loopback address")
            && stderr.contains("the preview has no login"),
        "{stderr}"
    );
    assert_eq!(entries(tmp.path()), Vec::<String>::new());
}

#[test]
fn a_tile_that_cannot_be_read_is_refused_before_serving() {
    let tmp = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["tile", "preview"])
        .arg(tmp.path().join("no-such-tile"))
        .args(["--listen", "127.0.0.1:0"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-tile"));
}
