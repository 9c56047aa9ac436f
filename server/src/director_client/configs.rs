//! Configs: the cloud config, runtime configs and any other typed config (`cpi`, …).
//!
//! The generic `/configs` API (type + name + YAML content, versioned by the Director) is used
//! first. Directors older than it only have `/cloud_configs`; when `/configs` answers 404 the
//! cloud-config calls fall back to that.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{string_or_number, with_content_type, DirectorClient};
use crate::error::{Error, Result};

/// The name bosh gives the cloud config unless told otherwise.
pub const DEFAULT_NAME: &str = "default";

/// One config version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The YAML document.
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    /// Whether this is the version deployments get (newer Directors say so).
    #[serde(default)]
    pub current: Option<bool>,
}

/// `POST /configs/diff`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigDiff {
    #[serde(default)]
    pub diff: Vec<(String, Option<String>)>,
    #[serde(default)]
    pub from: Option<serde_json::Value>,
    #[serde(default)]
    pub to: Option<serde_json::Value>,
}

/// The legacy `/cloud_configs` entry.
#[derive(Debug, Deserialize)]
struct LegacyCloudConfig {
    #[serde(default)]
    properties: Option<String>,
}

fn is_not_found(error: &Error) -> bool {
    matches!(
        error,
        Error::Director {
            status: Some(404),
            ..
        }
    )
}

impl DirectorClient {
    /// `GET /configs?type=&name=[&latest=true]`.
    pub async fn configs(
        &self,
        kind: Option<&str>,
        name: Option<&str>,
        latest: bool,
    ) -> Result<Vec<Config>> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(kind) = kind {
            query.push(("type", kind));
        }
        if let Some(name) = name {
            query.push(("name", name));
        }
        if latest {
            query.push(("latest", "true"));
        }
        let request = self.request(Method::GET, &["configs"]).query(&query);
        self.send_json("GET /configs", request).await
    }

    /// The latest version of one config, `None` when there is none.
    pub async fn latest_config(&self, kind: &str, name: &str) -> Result<Option<Config>> {
        let configs = self.configs(Some(kind), Some(name), true).await?;
        Ok(configs
            .into_iter()
            .find(|c| c.kind == kind && c.name == name))
    }

    /// `POST /configs` with `{type, name, content}`: a new version (the Director keeps the old
    /// ones; posting identical content is harmless).
    pub async fn update_config(
        &self,
        kind: &str,
        name: &str,
        content_yaml: &str,
    ) -> Result<Config> {
        let call = format!("POST /configs (type {kind}, name {name})");
        let request = self
            .request(Method::POST, &["configs"])
            .json(&json!({"type": kind, "name": name, "content": content_yaml}));
        self.send_json(&call, request).await
    }

    /// `POST /configs/diff`: what `content_yaml` changes against the latest version.
    pub async fn diff_config(
        &self,
        kind: &str,
        name: &str,
        content_yaml: &str,
    ) -> Result<ConfigDiff> {
        let call = format!("POST /configs/diff (type {kind}, name {name})");
        let request = self
            .request(Method::POST, &["configs", "diff"])
            .json(&json!({"type": kind, "name": name, "content": content_yaml}));
        self.send_json(&call, request).await
    }

    /// `DELETE /configs?type=&name=`. `false` when there was nothing to delete.
    pub async fn delete_config(&self, kind: &str, name: &str) -> Result<bool> {
        let call = format!("DELETE /configs (type {kind}, name {name})");
        let request = self
            .request(Method::DELETE, &["configs"])
            .query(&[("type", kind), ("name", name)]);
        match self.send_ok(&call, request).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The current cloud config (YAML), `None` when the Director has none.
    pub async fn cloud_config(&self) -> Result<Option<String>> {
        match self.latest_config("cloud", DEFAULT_NAME).await {
            Ok(config) => Ok(config.map(|c| c.content)),
            Err(e) if is_not_found(&e) => {
                let request = self
                    .request(Method::GET, &["cloud_configs"])
                    .query(&[("limit", "1")]);
                let list: Vec<LegacyCloudConfig> =
                    self.send_json("GET /cloud_configs", request).await?;
                Ok(list.into_iter().next().and_then(|c| c.properties))
            }
            Err(e) => Err(e),
        }
    }

    /// Sets the cloud config (`/configs` type `cloud`, name `default`; `/cloud_configs` on
    /// Directors without `/configs`).
    pub async fn update_cloud_config(&self, content_yaml: &str) -> Result<()> {
        match self
            .update_config("cloud", DEFAULT_NAME, content_yaml)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(&e) => {
                let request =
                    with_content_type(self.request(Method::POST, &["cloud_configs"]), "text/yaml")
                        .body(content_yaml.to_string());
                self.send_ok("POST /cloud_configs", request).await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The latest version of every runtime config.
    pub async fn runtime_configs(&self) -> Result<Vec<Config>> {
        self.configs(Some("runtime"), None, true).await
    }

    /// Sets the runtime config `name`.
    pub async fn update_runtime_config(&self, name: &str, content_yaml: &str) -> Result<Config> {
        self.update_config("runtime", name, content_yaml).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_parse_with_string_or_number_ids() {
        let configs: Vec<Config> = serde_json::from_str(
            r#"[{"id":"3","name":"default","type":"cloud","content":"azs: []\n","created_at":"2025-01-01 00:00:00 UTC","team":null,"current":true},
                {"id":4,"name":"dns","type":"runtime","content":"addons: []\n"}]"#,
        )
        .unwrap();
        assert_eq!(configs[0].id, "3");
        assert_eq!(configs[0].kind, "cloud");
        assert_eq!(configs[1].id, "4");
        assert_eq!(configs[1].current, None);
    }

    #[test]
    fn only_a_404_counts_as_missing() {
        let missing = Error::Director {
            call: "GET /configs".into(),
            status: Some(404),
            message: "HTTP 404".into(),
        };
        assert!(is_not_found(&missing));
        let refused = Error::Director {
            call: "GET /configs".into(),
            status: Some(401),
            message: "no".into(),
        };
        assert!(!is_not_found(&refused));
    }
}
