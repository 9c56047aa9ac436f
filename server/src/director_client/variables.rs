//! `GET /deployments/<d>/variables`: the config-server variables a deployment uses, with the id
//! of the version it was deployed with (names only: values stay in the config server).

use reqwest::Method;
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
    /// `PUT /config_server/variables` with `{"name", "type", "value"}`: sets an absolute
    /// variable in the embedded stand-in's config server (what `credhub set` does for a real
    /// Director; real Directors have no such route). Strings are `value`, objects `json`.
    pub async fn set_config_server_variable(&self, name: &str, value: &Value) -> Result<()> {
        let call = format!("PUT /config_server/variables ({name})");
        let kind = if value.is_string() { "value" } else { "json" };
        let request = self
            .request(Method::PUT, &["config_server", "variables"])
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

#[cfg(test)]
mod tests {
    use super::*;

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
