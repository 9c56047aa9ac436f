//! Tasks: the Director's long operations (deploy, delete, upload, errand, instances…).
//!
//! A task is polled with `GET /tasks/<id>` until its state is final (`done`, `error`,
//! `cancelled`, `timeout`). Its event log (`GET /tasks/<id>/output?type=event`) is JSON lines
//! that only grow, so it is read incrementally with `Range: bytes=<offset>-`: 206 brings the new
//! bytes, 416 means nothing new yet, and a Director that ignores Range answers 200 with the whole
//! log, of which the bytes already read are skipped. [`OutputCursor`] keeps that bookkeeping,
//! including a line cut in half by a read.

use reqwest::header::{CONTENT_RANGE, RANGE};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::{director_error, DirectorClient};
use crate::error::Result;

/// The first wait while following a task; it doubles up to the client's poll interval.
const FIRST_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// A task's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    Queued,
    Processing,
    Cancelling,
    Done,
    Error,
    Cancelled,
    Timeout,
    /// A state this client does not know; treated as still running.
    #[serde(untagged)]
    Other(String),
}

impl TaskState {
    /// Whether the task has ended (successfully or not).
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            TaskState::Done | TaskState::Error | TaskState::Cancelled | TaskState::Timeout
        )
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Processing => "processing",
            TaskState::Cancelling => "cancelling",
            TaskState::Done => "done",
            TaskState::Error => "error",
            TaskState::Cancelled => "cancelled",
            TaskState::Timeout => "timeout",
            TaskState::Other(other) => other,
        }
    }
}

/// `GET /tasks/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: u64,
    pub state: TaskState,
    #[serde(default)]
    pub description: String,
    /// When it finished (unix seconds), or when it was queued while running.
    #[serde(default)]
    pub timestamp: Option<i64>,
    #[serde(default)]
    pub started_at: Option<i64>,
    /// A short result, or the error message of a failed task.
    #[serde(default)]
    pub result: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub deployment: Option<String>,
    #[serde(default)]
    pub context_id: Option<String>,
}

impl Task {
    /// The task itself when it ended `done`; otherwise an error naming the task, its state and
    /// the Director's message (`result` holds it for a failed task).
    pub fn ensure_done(self) -> Result<Task> {
        if self.state == TaskState::Done {
            return Ok(self);
        }
        let reason = self
            .result
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or("no message");
        Err(director_error(
            &format!("task {} ({})", self.id, self.description),
            None,
            format!("ended in state {}: {reason}", self.state.as_str()),
        ))
    }
}

/// Which output of a task to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    /// JSON lines: stages, progress, warnings, errors.
    Event,
    /// What the task produced (instances, errand results…).
    Result,
    /// The Director's own log of the task.
    Debug,
    /// The CPI calls.
    Cpi,
}

impl OutputType {
    pub fn as_str(self) -> &'static str {
        match self {
            OutputType::Event => "event",
            OutputType::Result => "result",
            OutputType::Debug => "debug",
            OutputType::Cpi => "cpi",
        }
    }
}

/// Which tasks `GET /tasks` lists.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// E.g. `["processing", "cancelling", "queued"]` for the running ones; empty for all.
    pub states: Vec<String>,
    pub deployment: Option<String>,
    /// The most recent N.
    pub limit: Option<u32>,
}

/// One line of a task's event log. Every field is optional: stage events, warnings and errors
/// share the format. A line that is not JSON is kept with `kind` `unparsed` and the line as
/// `message`, so nothing the Director said is lost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub time: Option<i64>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub task: Option<String>,
    #[serde(default)]
    pub index: Option<u64>,
    /// `started`, `in_progress`, `finished`, `failed`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub progress: Option<u64>,
    /// `{"status", "error"}` of a stage event.
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    /// The task's error: `{"code", "message"}`.
    #[serde(default)]
    pub error: Option<EventError>,
    /// `warning`, `deprecation` (or `unparsed`, from this client).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventError {
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub message: String,
}

impl Event {
    /// Whether the line reports a failure (the task's error or a failed step).
    pub fn is_error(&self) -> bool {
        self.error.is_some() || self.state.as_deref() == Some("failed")
    }

    /// One human line for an installation log, in the spirit of `bosh task`:
    /// `Updating instance web: web/abc (0) (canary) (started)`.
    pub fn describe(&self) -> String {
        if let Some(error) = &self.error {
            return match error.code {
                Some(code) => format!("Error {code}: {}", error.message),
                None => format!("Error: {}", error.message),
            };
        }
        if let Some(message) = &self.message {
            return match self.kind.as_deref() {
                Some("warning") => format!("Warning: {message}"),
                Some("deprecation") => format!("Deprecation: {message}"),
                _ => message.clone(),
            };
        }
        let mut line = self.stage.clone().unwrap_or_default();
        if !self.tags.is_empty() {
            line.push_str(&format!(" [{}]", self.tags.join(", ")));
        }
        if let Some(task) = &self.task {
            line.push_str(&format!(": {task}"));
        }
        if let Some(state) = &self.state {
            line.push_str(&format!(" ({state})"));
        }
        if let Some(error) = self
            .data
            .as_ref()
            .and_then(|d| d.get("error"))
            .and_then(serde_json::Value::as_str)
        {
            line.push_str(&format!(": {error}"));
        }
        line
    }
}

/// Parses one event-log line; `None` for a blank line.
pub fn parse_event_line(line: &str) -> Option<Event> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(serde_json::from_str(line).unwrap_or_else(|_| Event {
        kind: Some("unparsed".into()),
        message: Some(line.to_string()),
        ..Event::default()
    }))
}

/// Where the reading of a growing task output stands: the bytes already consumed, and the start
/// of a line whose end has not arrived yet.
#[derive(Debug, Clone, Default)]
pub struct OutputCursor {
    offset: u64,
    partial: Vec<u8>,
}

impl OutputCursor {
    pub fn new() -> OutputCursor {
        OutputCursor::default()
    }

    /// A cursor that resumes at `offset` (saved from [`OutputCursor::offset`], e.g. by an
    /// installation that was interrupted and follows the same task again).
    pub fn from_offset(offset: u64) -> OutputCursor {
        OutputCursor {
            offset,
            partial: Vec::new(),
        }
    }

    /// Bytes of the output consumed so far (complete lines only are handed out; a partial
    /// line's bytes count here too, see [`OutputCursor::resume_offset`]).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Where a new cursor should start to hand out the same lines that this one has not yet:
    /// the offset minus the bytes of the incomplete last line.
    pub fn resume_offset(&self) -> u64 {
        self.offset.saturating_sub(self.partial.len() as u64)
    }

    /// The `Range` header for the next read.
    pub fn range_header(&self) -> String {
        format!("bytes={}-", self.offset)
    }

    /// Takes one answer to a ranged read and returns the lines it completed.
    /// - 416: nothing new.
    /// - 206: the bytes from `Content-Range`'s start (assumed to be the offset asked for when
    ///   absent); bytes before the offset are skipped, so an overlapping answer is harmless.
    /// - 200: the whole output; the first `offset` bytes were read before.
    pub fn accept(&mut self, status: u16, content_range: Option<&str>, body: &[u8]) -> Vec<String> {
        let start = match status {
            416 => return Vec::new(),
            206 => content_range
                .and_then(content_range_start)
                .unwrap_or(self.offset),
            _ => 0,
        };
        let end = start.saturating_add(body.len() as u64);
        if end <= self.offset {
            return Vec::new();
        }
        let skip = usize::try_from(self.offset.saturating_sub(start)).unwrap_or(usize::MAX);
        let fresh = body.get(skip..).unwrap_or_default();
        self.offset = end;
        self.partial.extend_from_slice(fresh);
        let mut lines = Vec::new();
        while let Some(newline) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=newline).collect();
            let text = String::from_utf8_lossy(&line);
            lines.push(text.trim_end_matches(['\n', '\r']).to_string());
        }
        lines
    }

    /// The last line when the output ended without a newline (call once the task is over).
    pub fn finish(&mut self) -> Option<String> {
        if self.partial.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.partial)
            .trim_end_matches('\r')
            .to_string();
        self.partial.clear();
        Some(line)
    }
}

/// `bytes 100-199/200` or `bytes 100-199/*` → 100.
fn content_range_start(value: &str) -> Option<u64> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    let (start, _) = range.split_once('-')?;
    start.trim().parse().ok()
}

impl DirectorClient {
    /// `GET /tasks` (verbose), filtered.
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let mut query: Vec<(&str, String)> = vec![("verbose", "1".into())];
        if !filter.states.is_empty() {
            query.push(("state", filter.states.join(",")));
        }
        if let Some(deployment) = &filter.deployment {
            query.push(("deployment", deployment.clone()));
        }
        if let Some(limit) = filter.limit {
            query.push(("limit", limit.to_string()));
        }
        let request = self.request(Method::GET, &["tasks"]).query(&query);
        self.send_json("GET /tasks", request).await
    }

    /// `GET /tasks/<id>`.
    pub async fn task(&self, id: u64) -> Result<Task> {
        let call = format!("GET /tasks/{id}");
        let request = self.request(Method::GET, &["tasks", &id.to_string()]);
        self.send_json(&call, request).await
    }

    /// `DELETE /task/<id>` (singular, as the Director has it): asks the task to stop.
    pub async fn cancel_task(&self, id: u64) -> Result<()> {
        let call = format!("DELETE /task/{id}");
        let request = self.request(Method::DELETE, &["task", &id.to_string()]);
        self.send_ok(&call, request).await?;
        Ok(())
    }

    /// Reads what a task's output gained since `cursor` and returns the completed lines.
    pub async fn task_output(
        &self,
        id: u64,
        output: OutputType,
        cursor: &mut OutputCursor,
    ) -> Result<Vec<String>> {
        let call = format!("GET /tasks/{id}/output?type={}", output.as_str());
        // Ranged reads bring what was added since the last poll: the ordinary time limit.
        let request = self
            .request(Method::GET, &["tasks", &id.to_string(), "output"])
            .query(&[("type", output.as_str())])
            .header(RANGE, cursor.range_header());
        let response = self.send(&call, request).await?;
        let status = response.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(Vec::new());
        }
        let content_range = response
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let response = super::check_status(&call, response, &self.target.client).await?;
        let body = response
            .bytes()
            .await
            .map_err(|e| director_error(&call, Some(status.as_u16()), super::error_chain(&e)))?;
        Ok(cursor.accept(status.as_u16(), content_range.as_deref(), &body))
    }

    /// A task's whole output of one type, as text (`result` of a finished task, `debug`).
    pub async fn task_output_text(&self, id: u64, output: OutputType) -> Result<String> {
        let call = format!("GET /tasks/{id}/output?type={}", output.as_str());
        let request = self
            .untimed_request(Method::GET, &["tasks", &id.to_string(), "output"])
            .query(&[("type", output.as_str())]);
        let response = self.send_ok(&call, request).await?;
        let status = response.status().as_u16();
        response
            .text()
            .await
            .map_err(|e| director_error(&call, Some(status), super::error_chain(&e)))
    }

    /// Polls a task until it ends, handing each new event-log line to `on_event` as it arrives,
    /// and returns the final task (whatever its state: see [`Task::ensure_done`]).
    pub async fn follow_task(&self, id: u64, on_event: impl FnMut(&Event)) -> Result<Task> {
        self.follow_task_from(id, &mut OutputCursor::new(), on_event)
            .await
    }

    /// [`DirectorClient::follow_task`] from a given place in the event log (to resume without
    /// repeating lines already handled).
    pub async fn follow_task_from(
        &self,
        id: u64,
        cursor: &mut OutputCursor,
        mut on_event: impl FnMut(&Event),
    ) -> Result<Task> {
        // Short tasks (an upload the Director already has, a deploy with nothing to change)
        // end in milliseconds: poll soon, then back off to the configured interval, so a long
        // task is still polled no more often than that.
        let mut wait = FIRST_POLL.min(self.poll_interval);
        loop {
            // State first, then output: output read after a final state is complete.
            let task = self.task(id).await?;
            for line in self.task_output(id, OutputType::Event, cursor).await? {
                if let Some(event) = parse_event_line(&line) {
                    on_event(&event);
                }
            }
            if task.state.is_finished() {
                if let Some(event) = cursor.finish().as_deref().and_then(parse_event_line) {
                    on_event(&event);
                }
                return Ok(task);
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.poll_interval);
        }
    }

    /// Follows a task and requires it to end `done`.
    pub async fn wait_for_task(&self, id: u64, on_event: impl FnMut(&Event)) -> Result<Task> {
        self.follow_task(id, on_event).await?.ensure_done()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_warning_and_error_lines_parse() {
        let event = parse_event_line(
            r#"{"time":1764000000,"stage":"Updating instance","tags":["web"],"total":1,"task":"web/abc (0) (canary)","index":1,"state":"started","progress":0}"#,
        )
        .unwrap();
        assert_eq!(event.stage.as_deref(), Some("Updating instance"));
        assert_eq!(event.tags, vec!["web"]);
        assert_eq!(event.total, Some(1));
        assert_eq!(event.index, Some(1));
        assert_eq!(event.progress, Some(0));
        assert!(!event.is_error());
        assert_eq!(
            event.describe(),
            "Updating instance [web]: web/abc (0) (canary) (started)"
        );

        let failed = parse_event_line(
            r#"{"time":1,"stage":"Updating instance","tags":[],"total":1,"task":"web/0","index":1,"state":"failed","progress":100,"data":{"error":"timed out"}}"#,
        )
        .unwrap();
        assert!(failed.is_error());
        assert!(
            failed.describe().ends_with("(failed): timed out"),
            "{}",
            failed.describe()
        );

        let warning =
            parse_event_line(r#"{"time":1,"type":"warning","message":"careful"}"#).unwrap();
        assert_eq!(warning.describe(), "Warning: careful");

        let error =
            parse_event_line(r#"{"time":1,"error":{"code":100,"message":"boom"}}"#).unwrap();
        assert!(error.is_error());
        assert_eq!(error.describe(), "Error 100: boom");

        let odd = parse_event_line("not json").unwrap();
        assert_eq!(odd.kind.as_deref(), Some("unparsed"));
        assert_eq!(odd.describe(), "not json");
        assert!(parse_event_line("  \r").is_none());
    }

    #[test]
    fn task_states_parse_and_finish() {
        let task: Task = serde_json::from_str(
            r#"{"id":5,"state":"error","description":"create deployment","timestamp":1,"started_at":0,"result":"Release 'x' doesn't exist","user":"admin","deployment":"d","context_id":""}"#,
        )
        .unwrap();
        assert!(task.state.is_finished());
        let err = task.clone().ensure_done().unwrap_err().to_string();
        assert!(err.contains("task 5 (create deployment)"), "{err}");
        assert!(
            err.contains("ended in state error: Release 'x' doesn't exist"),
            "{err}"
        );
        let running: Task =
            serde_json::from_str(r#"{"id":6,"state":"processing","result":null}"#).unwrap();
        assert!(!running.state.is_finished());
        let odd: Task = serde_json::from_str(r#"{"id":7,"state":"paused"}"#).unwrap();
        assert_eq!(odd.state, TaskState::Other("paused".into()));
        assert!(!odd.state.is_finished());
        let done: Task = serde_json::from_str(r#"{"id":8,"state":"done"}"#).unwrap();
        assert!(done.ensure_done().is_ok());
    }

    #[test]
    fn ranged_reads_return_whole_lines_once() {
        let mut cursor = OutputCursor::new();
        assert_eq!(cursor.range_header(), "bytes=0-");
        // Half a line: nothing yet.
        assert!(cursor
            .accept(206, Some("bytes 0-4/*"), b"{\"a\":")
            .is_empty());
        assert_eq!(cursor.offset(), 5);
        assert_eq!(cursor.range_header(), "bytes=5-");
        // The rest of it, plus a whole second line and the start of a third.
        let lines = cursor.accept(206, Some("bytes 5-19/20"), b"1}\n{\"b\":2}\r\n{\"c");
        assert_eq!(lines, vec!["{\"a\":1}", "{\"b\":2}"]);
        assert_eq!(cursor.offset(), 20);
        // Nothing new.
        assert!(cursor.accept(416, None, b"").is_empty());
        assert_eq!(cursor.offset(), 20);
        assert_eq!(cursor.resume_offset(), 17);
        // The task ended without a final newline.
        assert_eq!(cursor.finish().as_deref(), Some("{\"c"));
        assert_eq!(cursor.finish(), None);
    }

    #[test]
    fn a_director_ignoring_range_sends_everything_and_old_bytes_are_skipped() {
        let mut cursor = OutputCursor::new();
        assert_eq!(cursor.accept(200, None, b"one\ntw"), vec!["one"]);
        // 200 again: the whole output; only the new part counts.
        assert_eq!(
            cursor.accept(200, None, b"one\ntwo\nthree\n"),
            vec!["two", "three"]
        );
        assert_eq!(cursor.offset(), 14);
        // A 200 that is not longer than what was read brings nothing.
        assert!(cursor.accept(200, None, b"one\n").is_empty());
        assert_eq!(cursor.offset(), 14);
    }

    #[test]
    fn overlapping_and_unlabelled_partial_answers() {
        let mut cursor = OutputCursor::new();
        assert_eq!(cursor.accept(206, None, b"a\nb\n"), vec!["a", "b"]);
        // The Director sent from byte 2 although 4 were read: "b\n" is not repeated.
        assert_eq!(
            cursor.accept(206, Some("bytes 2-7/8"), b"b\nc\nd\n"),
            vec!["c", "d"]
        );
        assert_eq!(cursor.offset(), 8);
        assert_eq!(content_range_start("bytes 10-20/*"), Some(10));
        assert_eq!(content_range_start("bytes */30"), None);
        assert_eq!(content_range_start("items 1-2"), None);
    }
}
