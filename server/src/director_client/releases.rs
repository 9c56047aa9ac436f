//! `/releases`: list and upload (a task; the body is an [`Upload`] as for stemcells).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{DirectorClient, Upload, UploadOptions};
use crate::error::Result;

/// One release of `GET /releases` with all its versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub name: String,
    #[serde(default)]
    pub release_versions: Vec<ReleaseVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseVersion {
    pub version: String,
    #[serde(default)]
    pub currently_deployed: bool,
    #[serde(default)]
    pub commit_hash: Option<String>,
    #[serde(default)]
    pub uncommitted_changes: bool,
}

impl Release {
    pub fn has_version(&self, version: &str) -> bool {
        self.release_versions.iter().any(|v| v.version == version)
    }
}

impl DirectorClient {
    /// `GET /releases`.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        let request = self.request(Method::GET, &["releases"]);
        self.send_json("GET /releases", request).await
    }

    /// Whether the Director has this release version (skip the upload then, as bosh does).
    pub async fn has_release(&self, name: &str, version: &str) -> Result<bool> {
        Ok(self
            .releases()
            .await?
            .iter()
            .any(|r| r.name == name && r.has_version(version)))
    }

    /// `POST /releases[?rebase=true&fix=true]`. Returns the task id.
    pub async fn upload_release(&self, upload: &Upload, options: UploadOptions) -> Result<u64> {
        let call = "POST /releases";
        let mut request = self.untimed_request(Method::POST, &["releases"]);
        if options.fix {
            request = request.query(&[("fix", "true")]);
        }
        if options.rebase {
            request = request.query(&[("rebase", "true")]);
        }
        let request = upload.attach(call, request).await?;
        self.send_for_task(call, request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_list_parses_and_finds_versions() {
        let list: Vec<Release> = serde_json::from_str(
            r#"[{"name":"kubo","release_versions":[{"version":"0.44.0","commit_hash":"abc","uncommitted_changes":false,"currently_deployed":true,"job_names":["kubelet"]}]}]"#,
        )
        .unwrap();
        assert!(list[0].has_version("0.44.0"));
        assert!(!list[0].has_version("0.45.0"));
        assert!(list[0].release_versions[0].currently_deployed);
    }
}
