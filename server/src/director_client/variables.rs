//! `GET /deployments/<d>/variables`: the config-server variables a deployment uses, with the id
//! of the version it was deployed with (names only: values stay in the config server).

use reqwest::Method;
use serde::{Deserialize, Serialize};

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
