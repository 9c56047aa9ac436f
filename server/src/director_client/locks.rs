//! `GET /locks`: what the Director holds locked (deployments being changed, release or stemcell
//! uploads), so Tileworks can say why a deploy waits.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{string_or_number, DirectorClient};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lock {
    /// `deployment`, `release`, `stemcells`, `compile`…
    #[serde(rename = "type")]
    pub kind: String,
    /// What is locked, e.g. `["pks"]`.
    #[serde(default)]
    pub resource: Vec<String>,
    /// Unix time (seconds, fractional) when the lock expires unless renewed.
    #[serde(default, deserialize_with = "string_or_number")]
    pub timeout: String,
    #[serde(default, deserialize_with = "string_or_number")]
    pub task_id: String,
}

impl DirectorClient {
    /// `GET /locks`.
    pub async fn locks(&self) -> Result<Vec<Lock>> {
        let request = self.request(Method::GET, &["locks"]);
        self.send_json("GET /locks", request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_parse() {
        let locks: Vec<Lock> = serde_json::from_str(
            r#"[{"type":"deployment","resource":["pks"],"timeout":"1475796055.139438","task_id":"5"},{"type":"release","resource":["kubo"],"timeout":1475796055,"task_id":6}]"#,
        )
        .unwrap();
        assert_eq!(locks[0].resource, vec!["pks"]);
        assert_eq!(locks[1].task_id, "6");
        assert_eq!(locks[1].timeout, "1475796055");
    }
}
