//! `/stemcells`: list and upload. An upload is a task; what is uploaded is an [`Upload`]
//! (shared with releases): a tarball streamed from disk or memory, a URL the Director fetches
//! itself, or only the tarball's manifest.

use std::path::PathBuf;

use reqwest::header::CONTENT_LENGTH;
use reqwest::{Method, RequestBuilder};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{director_error, with_content_type, DirectorClient};
use crate::error::{Error, Result};

/// One stemcell of `GET /stemcells`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stemcell {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub operating_system: String,
    #[serde(default)]
    pub cid: Option<String>,
    #[serde(default)]
    pub cpi: Option<String>,
    /// The deployments using it (`[{"name": …}]`); empty means unused.
    #[serde(default)]
    pub deployments: Vec<serde_json::Value>,
}

/// What to upload (a stemcell or a release).
#[derive(Debug, Clone)]
pub enum Upload {
    /// A `.tgz` on disk, streamed (`application/x-compressed`).
    File(PathBuf),
    /// A `.tgz` in memory.
    Bytes(Vec<u8>),
    /// A URL the Director downloads, with the sha1 it must have (`{"location", "sha1"}`).
    Url { url: String, sha1: Option<String> },
    /// Only the tarball's manifest (`stemcell.MF` / `release.MF`) as YAML. The embedded
    /// stand-in registers a stemcell or release from it without the bits, which is all a
    /// simulated CPI needs; a real Director refuses it.
    Manifest(String),
}

/// Upload options.
#[derive(Debug, Clone, Copy, Default)]
pub struct UploadOptions {
    /// Upload again even if the Director has this version (repairs a broken upload).
    pub fix: bool,
    /// Releases only: rebase a dev release onto the Director's versions.
    pub rebase: bool,
}

#[derive(Deserialize)]
struct Needed {
    #[serde(default = "yes")]
    needed: bool,
}

fn yes() -> bool {
    true
}

impl Upload {
    /// Adds the body and its content type to an upload request.
    pub(super) async fn attach(
        &self,
        call: &str,
        request: RequestBuilder,
    ) -> Result<RequestBuilder> {
        Ok(match self {
            Upload::File(path) => {
                let file = tokio::fs::File::open(path).await.map_err(|e| {
                    director_error(call, None, format!("cannot read {}: {e}", path.display()))
                })?;
                let length = file
                    .metadata()
                    .await
                    .map_err(|e| Error::io(format!("reading {}", path.display()), e))?
                    .len();
                with_content_type(request, "application/x-compressed")
                    .header(CONTENT_LENGTH, length)
                    .body(reqwest::Body::from(file))
            }
            Upload::Bytes(bytes) => {
                with_content_type(request, "application/x-compressed").body(bytes.clone())
            }
            Upload::Url { url, sha1 } => {
                let mut body = json!({"location": url});
                if let Some(sha1) = sha1 {
                    body["sha1"] = json!(sha1);
                }
                request.json(&body)
            }
            Upload::Manifest(yaml) => with_content_type(request, "text/yaml").body(yaml.clone()),
        })
    }
}

impl DirectorClient {
    /// `GET /stemcells`.
    pub async fn stemcells(&self) -> Result<Vec<Stemcell>> {
        let request = self.request(Method::GET, &["stemcells"]);
        self.send_json("GET /stemcells", request).await
    }

    /// `POST /stemcell_uploads`: whether the Director still needs this stemcell.
    pub async fn stemcell_needed(&self, name: &str, version: &str) -> Result<bool> {
        let request = self
            .request(Method::POST, &["stemcell_uploads"])
            .json(&json!({"stemcell": {"name": name, "version": version}}));
        let answer: Needed = self.send_json("POST /stemcell_uploads", request).await?;
        Ok(answer.needed)
    }

    /// `POST /stemcells[?fix=true]`. Returns the task id.
    pub async fn upload_stemcell(&self, upload: &Upload, options: UploadOptions) -> Result<u64> {
        let call = "POST /stemcells";
        let mut request = self.untimed_request(Method::POST, &["stemcells"]);
        if options.fix {
            request = request.query(&[("fix", "true")]);
        }
        let request = upload.attach(call, request).await?;
        self.send_for_task(call, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stemcell_list_parses() {
        let list: Vec<Stemcell> = serde_json::from_str(
            r#"[{"name":"bosh-vsphere-esxi-ubuntu-xenial-go_agent","version":"621.76","operating_system":"ubuntu-xenial","cid":"sc-1","cpi":"","deployments":[{"name":"pks"}]}]"#,
        )
        .unwrap();
        assert_eq!(list[0].operating_system, "ubuntu-xenial");
        assert_eq!(list[0].deployments.len(), 1);
    }

    #[tokio::test]
    async fn a_missing_tarball_names_the_file() {
        let client = reqwest::Client::new();
        let err = Upload::File("/nonexistent/stemcell.tgz".into())
            .attach(
                "POST /stemcells",
                client.post("https://127.0.0.1:1/stemcells"),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("POST /stemcells"), "{err}");
        assert!(err.contains("/nonexistent/stemcell.tgz"), "{err}");
    }
}
