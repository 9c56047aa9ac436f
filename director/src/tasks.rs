//! Tasks: the Director's unit of long work. A request creates a task row (`queued`), answers
//! `302 /tasks/:id`, and a worker runs it when one of the `--workers` slots is free. Each task
//! writes its outputs to files under `data/tasks/<id>/` (`event` JSON lines, `result`, `debug`,
//! `cpi`), which only grow, so clients can read them by byte offset with `Range`.
//!
//! Cancelling (`DELETE /task/:id`) works as on a real Director: a queued task ends at once in
//! `cancelled`; a processing one moves to `cancelling` and its work stops at the next
//! [`TaskCtx::checkpoint`] (between instance updates), ending in `cancelled`.

use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::locks::Locks;
use crate::store::unix_now;
use crate::Shared;

/// The output streams of a task.
pub const OUTPUT_TYPES: &[&str] = &["event", "result", "debug", "cpi"];

/// The directory holding a task's output files.
pub fn task_dir(data_dir: &Path, id: i64) -> PathBuf {
    data_dir.join("tasks").join(id.to_string())
}

/// Reads one output stream of a task (empty when nothing was written yet).
pub fn read_output(data_dir: &Path, id: i64, kind: &str) -> Result<Vec<u8>> {
    if !OUTPUT_TYPES.contains(&kind) {
        return Err(Error::Invalid(format!(
            "unknown task output type '{kind}'; use one of {}",
            OUTPUT_TYPES.join(", ")
        )));
    }
    match std::fs::read(task_dir(data_dir, id).join(kind)) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(format!("reading output of task {id}"), e)),
    }
}

/// What a running task writes to. Writes are whole lines under one lock, so a reader never sees
/// half an event.
#[derive(Debug)]
pub struct TaskCtx {
    pub id: i64,
    pub user: String,
    dir: PathBuf,
    write_lock: Mutex<()>,
    cancel_requested: AtomicBool,
}

impl TaskCtx {
    pub fn new(data_dir: &Path, id: i64, user: &str) -> Result<TaskCtx> {
        let dir = task_dir(data_dir, id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        Ok(TaskCtx {
            id,
            user: user.to_string(),
            dir,
            write_lock: Mutex::new(()),
            cancel_requested: AtomicBool::new(false),
        })
    }

    /// Asks the task to stop at its next checkpoint.
    pub fn request_cancel(&self) {
        self.cancel_requested.store(true, Ordering::SeqCst);
    }

    /// A safe place to stop: `Err(Error::Cancelled)` once a cancel was requested. Work between
    /// two checkpoints (one instance update, one VM) always completes, so no instance is left
    /// half-updated.
    pub fn checkpoint(&self) -> Result<()> {
        if self.cancel_requested.load(Ordering::SeqCst) {
            self.debug("Cancel requested: stopping at a checkpoint");
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    fn append(&self, kind: &str, text: &str) {
        let _guard = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.dir.join(kind);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = written {
            tracing::warn!(task = self.id, error = %e, "writing task output");
        }
    }

    /// One event line; `time` is added.
    pub fn event(&self, mut event: Value) {
        if let Value::Object(map) = &mut event {
            map.insert("time".into(), json!(unix_now()));
        }
        self.append("event", &format!("{event}\n"));
    }

    /// The final `{"error": {"code", "message"}}` line of a failed task.
    pub fn error_event(&self, code: u32, message: &str) {
        self.event(json!({"error": {"code": code, "message": message}}));
    }

    pub fn warning(&self, message: &str) {
        self.event(json!({"type": "warning", "message": message}));
    }

    pub fn debug(&self, message: &str) {
        self.append(
            "debug",
            &format!(
                "D, [{} #{}] [task:{}] DEBUG -- DirectorJobRunner: {message}\n",
                crate::store::iso_time(unix_now()),
                std::process::id(),
                self.id
            ),
        );
    }

    pub fn cpi_log(&self, request: &Value) {
        self.append("cpi", &format!("{request}\n"));
    }

    /// One JSON object of a task's result stream (instances, errand runs).
    pub fn result_line(&self, value: &Value) {
        self.append("result", &format!("{value}\n"));
    }

    pub fn stage(self: &Arc<Self>, name: &str, tags: Vec<String>, total: usize) -> Stage {
        Stage {
            ctx: self.clone(),
            name: name.to_string(),
            tags,
            total,
            next: AtomicUsize::new(0),
        }
    }
}

/// One stage of a task's event log ("Updating instance", tags `[web]`): numbered steps that
/// start and finish (or fail), matched by stage + tags + task text.
#[derive(Debug)]
pub struct Stage {
    ctx: Arc<TaskCtx>,
    name: String,
    tags: Vec<String>,
    total: usize,
    next: AtomicUsize,
}

impl Stage {
    fn emit(&self, task: &str, index: usize, state: &str, progress: u32, data: Option<Value>) {
        let mut event = json!({
            "stage": self.name,
            "tags": self.tags,
            "total": self.total,
            "task": task,
            "index": index,
            "state": state,
            "progress": progress,
        });
        if let (Some(data), Value::Object(map)) = (data, &mut event) {
            map.insert("data".into(), data);
        }
        self.ctx.event(event);
    }

    /// Starts a step; returns its 1-based index within the stage.
    pub fn start(&self, task: &str) -> usize {
        let index = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        self.emit(task, index, "started", 0, None);
        index
    }

    pub fn finish(&self, task: &str, index: usize) {
        self.emit(task, index, "finished", 100, None);
    }

    pub fn fail(&self, task: &str, index: usize, error: &str) {
        self.emit(task, index, "failed", 100, Some(json!({"error": error})));
    }

    /// Runs one step around `work`, recording its failure in the event log.
    pub async fn step<T, F>(&self, task: &str, work: F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let index = self.start(task);
        match work.await {
            Ok(v) => {
                self.finish(task, index);
                Ok(v)
            }
            Err(e) => {
                self.fail(task, index, &e.to_string());
                Err(e)
            }
        }
    }
}

/// The Director's task type for a task description (what `bosh cancel-tasks --type` and the
/// `verbose` filter of `GET /tasks` go by).
pub fn task_type(description: &str) -> &'static str {
    let d = description;
    if d == "create deployment"
        || d.starts_with("start instance")
        || d.starts_with("stop ")
        || d.starts_with("restart instance")
        || d.starts_with("recreate instance")
    {
        "update_deployment"
    } else if d.starts_with("delete deployment") {
        "delete_deployment"
    } else if d == "retrieve vm-stats" {
        "vms"
    } else if d.starts_with("fetch logs") {
        "fetch_logs"
    } else if d == "scan cloud" {
        "cck_scan"
    } else if d == "apply resolutions" {
        "cck_apply"
    } else if d == "scan and fix" {
        "cck_scan_and_fix"
    } else if d == "create release" {
        "update_release"
    } else if d == "delete release" {
        "delete_release"
    } else if d == "create stemcell" {
        "update_stemcell"
    } else if d == "delete stemcell" {
        "delete_stemcell"
    } else if d.starts_with("run errand") {
        "run_errand"
    } else {
        "other"
    }
}

/// Tasks `GET /tasks?verbose=1` leaves out, as a Director does: VM and log retrieval.
pub fn is_housekeeping(description: &str) -> bool {
    matches!(task_type(description), "vms" | "fetch_logs")
}

/// The contexts of tasks not yet finished (queued or processing), so a cancel request reaches
/// the running work.
#[derive(Debug, Default)]
pub struct Running {
    tasks: Mutex<HashMap<i64, Arc<TaskCtx>>>,
}

impl Running {
    fn insert(&self, ctx: Arc<TaskCtx>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.insert(ctx.id, ctx);
    }

    fn remove(&self, id: i64) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.remove(&id);
    }

    /// Flags a task for cancellation; false when it is not queued or running here.
    pub fn request_cancel(&self, id: i64) -> bool {
        let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        match tasks.get(&id) {
            Some(ctx) => {
                ctx.request_cancel();
                true
            }
            None => false,
        }
    }
}

/// How a new task is described and which deployment it locks.
#[derive(Debug, Clone, Default)]
pub struct TaskSpec {
    pub description: String,
    pub deployment: Option<String>,
    pub user: String,
    pub context_id: String,
    /// Take the deployment lock (every task that changes a deployment does).
    pub lock: bool,
}

/// Creates a task and runs `job` on a worker. Returns the task id at once; a lock conflict
/// makes the task fail immediately, naming the holder.
pub async fn enqueue<F, Fut>(director: &Shared, spec: TaskSpec, job: F) -> Result<i64>
where
    F: FnOnce(Shared, Arc<TaskCtx>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<String>> + Send + 'static,
{
    let store = &director.store;
    let id = store
        .create_task(
            &spec.description,
            spec.deployment.as_deref(),
            &spec.user,
            &spec.context_id,
        )
        .await?;
    let ctx = Arc::new(TaskCtx::new(&director.settings.data_dir, id, &spec.user)?);
    let lock = match (&spec.deployment, spec.lock) {
        (Some(deployment), true) => {
            if let Err(holder) = director.locks.acquire(deployment, id, &spec.description) {
                let message = Locks::conflict_message(deployment, &holder);
                ctx.error_event(100100, &message);
                ctx.debug(&message);
                store.finish_task(id, "error", &message).await?;
                return Ok(id);
            }
            Some(deployment.clone())
        }
        _ => None,
    };
    let director = director.clone();
    director.running.insert(ctx.clone());
    tokio::spawn(async move {
        let permit = director.workers.clone().acquire_owned().await;
        match director.store.start_task(id).await {
            Ok(true) => {}
            Ok(false) => {
                // Cancelled while queued.
                ctx.debug("Task cancelled before it started");
                if let Some(deployment) = &lock {
                    director.locks.release(deployment, id);
                }
                director.running.remove(id);
                return;
            }
            Err(e) => tracing::error!(task = id, error = %e, "starting task"),
        }
        ctx.debug(&format!("Starting task: {}", spec.description));
        let outcome = tokio::spawn(job(director.clone(), ctx.clone())).await;
        let (state, result) = match outcome {
            Ok(Ok(result)) => ("done", result),
            Ok(Err(Error::Cancelled)) => ("cancelled", Error::Cancelled.to_string()),
            Ok(Err(e)) => {
                let message = e.to_string();
                ctx.error_event(e.code(), &message);
                ("error", message)
            }
            Err(join) => {
                let message = format!("task crashed: {join}");
                ctx.error_event(100, &message);
                ("error", message)
            }
        };
        ctx.debug(&format!("Task {id} ended: {state}: {result}"));
        // The lock goes before the task is seen to end, as on a Director (the job's lock block
        // closes before the runner records the result): a client that saw the task end never
        // finds its lock still held.
        if let Some(deployment) = lock {
            director.locks.release(&deployment, id);
        }
        if let Err(e) = director.store.finish_task(id, state, &result).await {
            tracing::error!(task = id, error = %e, "finishing task");
        }
        director.running.remove(id);
        drop(permit);
    });
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_events_are_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Arc::new(TaskCtx::new(dir.path(), 7, "admin").unwrap());
        let stage = ctx.stage("Updating instance", vec!["web".into()], 2);
        let i = stage.start("web/abc (0) (canary)");
        stage.finish("web/abc (0) (canary)", i);
        let j = stage.start("web/def (1)");
        stage.fail("web/def (1)", j, "boom");
        let text = String::from_utf8(read_output(dir.path(), 7, "event").unwrap()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["state"], "started");
        assert_eq!(lines[1]["progress"], 100);
        assert_eq!(lines[3]["index"], 2);
        assert_eq!(lines[3]["data"]["error"], "boom");
        assert!(read_output(dir.path(), 7, "result").unwrap().is_empty());
        assert!(read_output(dir.path(), 7, "bogus").is_err());
    }
}
