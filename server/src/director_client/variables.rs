//! `GET /deployments/<d>/variables`: the config-server variables a deployment uses, with the id
//! of the version it was deployed with (names only: values stay in the config server).

use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{string_or_number, DirectorClient};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    #[serde(default, deserialize_with = "string_or_number")]
    pub id: String,
    /// The absolute name, `/<director>/<deployment>/<name>`.
    pub name: String,
}

impl DirectorClient {
    /// The Director's config server API (`/info`'s `features.config_server.extras.urls`, the
    /// CredHub a real Director names, `https://host:8844/api/`), when it has one; asked once
    /// per client.
    pub async fn config_server_url(&self) -> Result<Option<Url>> {
        if let Some(known) = self.config_server.get() {
            return Ok(known.clone());
        }
        let info = self.info().await?;
        let url = config_server_url_of(&info.features);
        Ok(self.config_server.get_or_init(|| url).clone())
    }

    /// `PUT <config server>/v1/data` with `{"name", "type", "value"}`, as `credhub set` sends
    /// it: sets an absolute credential in the Director's config server (strings as `value`,
    /// objects as `json`), with the Director's credentials (a UAA token, which CredHub takes,
    /// or the stand-in's basic auth).
    pub async fn set_config_server_variable(&self, name: &str, value: &Value) -> Result<()> {
        let call = format!("PUT /api/v1/data ({name})");
        let Some(base) = self.config_server_url().await? else {
            return Err(super::director_error(
                &call,
                None,
                "the Director names no config server in /info",
            ));
        };
        let url = base.join("v1/data").map_err(|e| {
            super::director_error(&call, None, format!("the config server URL {base}: {e}"))
        })?;
        let kind = if value.is_string() { "value" } else { "json" };
        let request = self
            .http
            .put(url)
            .timeout(super::CALL_TIMEOUT)
            .json(&json!({"name": name, "type": kind, "value": value}));
        self.send_ok(&call, request).await.map(|_| ())
    }

    /// `GET /deployments/<d>/variables`.
    pub async fn variables(&self, deployment: &str) -> Result<Vec<Variable>> {
        let call = format!("GET /deployments/{deployment}/variables");
        let request = self.request(Method::GET, &["deployments", deployment, "variables"]);
        self.send_json(&call, request).await
    }
}

/// The first `https` URL of `features.config_server` when its status is on, as a directory
/// (ending in `/`, so `v1/data` joins under it).
fn config_server_url_of(features: &Value) -> Option<Url> {
    let server = features.get("config_server")?;
    if server.get("status").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    server["extras"]["urls"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find_map(|text| {
            let with_slash = if text.ends_with('/') {
                text.to_owned()
            } else {
                format!("{text}/")
            };
            Url::parse(&with_slash)
                .ok()
                .filter(|u| u.scheme() == "https" && u.host().is_some())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_server_url_is_the_first_https_one_when_enabled() {
        let of = |v: Value| config_server_url_of(&v).map(|u| u.to_string());
        assert_eq!(
            of(
                json!({"config_server": {"status": true, "extras": {"urls": ["https://10.0.0.6:8844/api"]}}})
            ),
            Some("https://10.0.0.6:8844/api/".into())
        );
        assert_eq!(
            of(
                json!({"config_server": {"status": true, "extras": {"urls": ["http://plain/api/", "https://c:8844/api/"]}}})
            ),
            Some("https://c:8844/api/".into())
        );
        assert_eq!(
            of(json!({"config_server": {"status": false, "extras": {"urls": ["https://c/api/"]}}})),
            None
        );
        assert_eq!(
            of(json!({"config_server": {"status": true, "extras": {"urls": []}}})),
            None
        );
        assert_eq!(of(json!({})), None);
    }

    #[test]
    fn variables_parse() {
        let vars: Vec<Variable> = serde_json::from_str(
            r#"[{"id":"12","name":"/tileworks-director/pks/kubo-admin-password"},{"id":13,"name":"/d/pks/ca"}]"#,
        )
        .unwrap();
        assert_eq!(vars[0].id, "12");
        assert_eq!(vars[1].id, "13");
    }
}
