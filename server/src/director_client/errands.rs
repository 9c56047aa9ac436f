//! Errands: list a deployment's errands and run one (a task whose result holds each instance's
//! exit code, stdout and stderr).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::tasks::{Event, OutputType};
use super::{director_error, parse_json_stream, DirectorClient};
use crate::error::Result;

/// One entry of `GET /deployments/<d>/errands`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Errand {
    pub name: String,
}

/// An instance an errand runs on (or ran on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrandInstance {
    pub group: String,
    #[serde(default)]
    pub id: String,
}

/// Options of `POST /deployments/<d>/errands/<e>/runs`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ErrandRunOptions {
    /// Keep the errand's VM afterwards.
    #[serde(rename = "keep-alive")]
    pub keep_alive: bool,
    /// Run only if the deployment changed since the last successful run.
    #[serde(rename = "when-changed")]
    pub when_changed: bool,
    /// Limit to these instances; empty means wherever the errand lives.
    pub instances: Vec<ErrandInstance>,
}

/// One instance's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrandResult {
    #[serde(default)]
    pub instance: Option<ErrandInstance>,
    pub exit_code: i64,
    #[serde(default)]
    pub stdout: String,
    #[serde(default)]
    pub stderr: String,
    /// `{"blobstore_id", "sha1"}` of the fetched logs, when there are any.
    #[serde(default)]
    pub logs: Option<serde_json::Value>,
}

impl ErrandResult {
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0
    }
}

impl DirectorClient {
    /// `GET /deployments/<d>/errands`.
    pub async fn errands(&self, deployment: &str) -> Result<Vec<Errand>> {
        let call = format!("GET /deployments/{deployment}/errands");
        let request = self.request(Method::GET, &["deployments", deployment, "errands"]);
        self.send_json(&call, request).await
    }

    /// Starts an errand run. Returns the task id.
    pub async fn run_errand(
        &self,
        deployment: &str,
        errand: &str,
        options: &ErrandRunOptions,
    ) -> Result<u64> {
        let call = format!("POST /deployments/{deployment}/errands/{errand}/runs");
        let request = self
            .request(
                Method::POST,
                &["deployments", deployment, "errands", errand, "runs"],
            )
            .json(options);
        self.send_for_task(&call, request).await
    }

    /// The results of a finished errand task (one per instance).
    pub async fn errand_results(&self, task_id: u64) -> Result<Vec<ErrandResult>> {
        let text = self.task_output_text(task_id, OutputType::Result).await?;
        parse_json_stream(&text).map_err(|e| {
            director_error(
                &format!("GET /tasks/{task_id}/output?type=result"),
                None,
                format!("the errand result is not readable: {e}"),
            )
        })
    }

    /// Runs an errand to the end: the task must finish `done`; the results say whether the
    /// errand itself succeeded on each instance ([`ErrandResult::succeeded`]).
    pub async fn run_errand_and_wait(
        &self,
        deployment: &str,
        errand: &str,
        options: &ErrandRunOptions,
        on_event: impl FnMut(&Event),
    ) -> Result<Vec<ErrandResult>> {
        let task = self.run_errand(deployment, errand, options).await?;
        self.wait_for_task(task, on_event).await?;
        self.errand_results(task).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_options_use_the_directors_field_names() {
        let options = ErrandRunOptions {
            keep_alive: true,
            when_changed: false,
            instances: vec![ErrandInstance {
                group: "master".into(),
                id: "abc".into(),
            }],
        };
        assert_eq!(
            serde_json::to_value(&options).unwrap(),
            serde_json::json!({"keep-alive": true, "when-changed": false,
                "instances": [{"group": "master", "id": "abc"}]})
        );
    }

    #[test]
    fn errand_results_parse_from_the_result_stream() {
        let results: Vec<ErrandResult> = parse_json_stream(
            "{\"instance\":{\"group\":\"master\",\"id\":\"a\"},\"exit_code\":0,\"stdout\":\"ok\\n\",\"stderr\":\"\",\"logs\":{\"blobstore_id\":\"b\",\"sha1\":\"s\"}}\n{\"instance\":{\"group\":\"master\",\"id\":\"b\"},\"exit_code\":1,\"stdout\":\"\",\"stderr\":\"bad\"}\n",
        )
        .unwrap();
        assert!(results[0].succeeded());
        assert!(!results[1].succeeded());
        assert_eq!(results[1].stderr, "bad");
    }
}
