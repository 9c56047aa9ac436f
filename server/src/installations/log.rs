//! An installation's log and live events.
//!
//! Every line is numbered and stored (the log only ever grows, so om can print the part beyond
//! what it already printed), and every line and progress change is also broadcast to the
//! server-sent-events streams of the UI. Writing a line is synchronous for the caller (Director
//! task events arrive in a synchronous callback); a writer task stores lines in order.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

use crate::store::Store;

/// What the events stream carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InstallEvent {
    /// A log line (also stored).
    Log { seq: i64, line: String },
    /// A step began: `id` is stable (`cloud_config`, `<guid>.deploy`…).
    StepStarted {
        id: String,
        description: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        product: Option<String>,
    },
    /// A step ended: `succeeded` or `failed`.
    StepFinished {
        id: String,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        product: Option<String>,
    },
    /// A product's progress, 0–100.
    Progress { product: String, percent: u8 },
    /// One line of a Director task's event log.
    DirectorEvent {
        product: String,
        task_id: u64,
        event: Value,
    },
    /// The installation ended: `succeeded` or `failed`.
    Finished { status: String },
}

/// The log of one running installation. Cheap to clone.
#[derive(Clone)]
pub struct InstallLog {
    inner: Arc<LogInner>,
}

/// A stream's start: the numbered lines and the step events so far, and a receiver of every
/// event after them.
pub struct Subscription {
    pub lines: Vec<(i64, String)>,
    /// `StepStarted` and `StepFinished` so far, in order: a stream that joins mid-run shows
    /// the step running now (and those done) although their events were sent before it.
    pub steps: Vec<InstallEvent>,
    pub events: broadcast::Receiver<InstallEvent>,
}

/// The most lines the writer stores in one transaction.
const WRITE_BATCH: usize = 256;

/// Stores `lines`, trying again while the database refuses (a busy SQLite file shared by
/// replicas, a PostgreSQL restart): a line is dropped only after the last attempt, and said so.
async fn store_lines(store: &Store, id: i64, lines: &[(i64, String)]) {
    const ATTEMPTS: u32 = 5;
    for attempt in 1..=ATTEMPTS {
        match store.installations().append_logs(id, lines).await {
            Ok(()) => return,
            Err(e) if attempt < ATTEMPTS => {
                tracing::warn!(installation = id, error = %e, attempt, "storing installation log lines; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                    .await;
            }
            Err(e) => {
                tracing::error!(installation = id, error = %e, lines = lines.len(), "installation log lines could not be stored");
            }
        }
    }
}

/// Where numbered lines go to be stored.
type LineQueue = mpsc::UnboundedSender<(i64, String)>;

struct LogInner {
    id: i64,
    state: Mutex<LogState>,
    events: broadcast::Sender<InstallEvent>,
}

struct LogState {
    /// The last sequence number handed out.
    seq: i64,
    /// The queue to the writer (None once closed).
    queue: Option<LineQueue>,
    /// The lines of this run so far, so a stream that subscribes misses none of them (the
    /// writer may not have stored the newest yet).
    lines: Vec<(i64, String)>,
    /// The step events of this run so far (see [`Subscription::steps`]).
    steps: Vec<InstallEvent>,
}

impl InstallLog {
    /// A log continuing after line `last_seq`, with its writer task. `events` is the broadcast
    /// the streams of this installation subscribe to.
    pub fn open(
        store: Store,
        id: i64,
        last_seq: i64,
        events: broadcast::Sender<InstallEvent>,
    ) -> (InstallLog, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<(i64, String)>();
        let writer = tokio::spawn(async move {
            let mut batch = Vec::new();
            // Everything queued since the last store goes in one transaction: a line per
            // commit fell seconds behind on a loaded machine, and a replica killed then took
            // those lines with it although its own log had shown them.
            while rx.recv_many(&mut batch, WRITE_BATCH).await > 0 {
                store_lines(&store, id, &batch).await;
                batch.clear();
            }
        });
        (
            InstallLog {
                inner: Arc::new(LogInner {
                    id,
                    state: Mutex::new(LogState {
                        seq: last_seq,
                        queue: Some(tx),
                        lines: Vec::new(),
                        steps: Vec::new(),
                    }),
                    events,
                }),
            },
            writer,
        )
    }

    pub fn id(&self) -> i64 {
        self.inner.id
    }

    /// The sequence number of the last line handed out.
    pub fn last_seq(&self) -> i64 {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .seq
    }

    /// The lines and steps so far and a receiver of everything after them, taken together so
    /// that no line or step falls between the two.
    pub fn subscribe(&self) -> Subscription {
        let state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Subscription {
            lines: state.lines.clone(),
            steps: state.steps.clone(),
            events: self.inner.events.subscribe(),
        }
    }

    /// Appends a line (prefixed with the UTC time) to the log.
    pub fn line(&self, text: impl AsRef<str>) {
        let stamp = super::now_rfc3339();
        for part in text.as_ref().lines() {
            let line = format!("{stamp} {part}");
            // Numbering, queueing and broadcasting under one lock keeps the order everywhere.
            let mut state = self
                .inner
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.seq += 1;
            let seq = state.seq;
            if let Some(tx) = &state.queue {
                let _ = tx.send((seq, line.clone()));
            }
            state.lines.push((seq, line.clone()));
            let _ = self.inner.events.send(InstallEvent::Log { seq, line });
            drop(state);
            tracing::info!(installation = self.inner.id, "{part}");
        }
    }

    /// Broadcasts an event (no subscriber is fine). Step events are also kept, under the same
    /// lock as [`InstallLog::subscribe`], so each stream gets each of them exactly once.
    pub fn event(&self, event: InstallEvent) {
        if matches!(
            event,
            InstallEvent::StepStarted { .. } | InstallEvent::StepFinished { .. }
        ) {
            let mut state = self
                .inner
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.steps.push(event.clone());
            let _ = self.inner.events.send(event);
            return;
        }
        let _ = self.inner.events.send(event);
    }

    /// Stops accepting lines; the writer task ends once everything queued is stored.
    pub fn close(&self) {
        let mut state = self
            .inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.queue = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn started(id: &str) -> InstallEvent {
        InstallEvent::StepStarted {
            id: id.into(),
            description: format!("Doing {id}"),
            product: None,
        }
    }

    /// A stream that subscribes mid-run gets the steps sent before it from the subscription
    /// and those after it from the channel: each once, in order.
    #[tokio::test]
    async fn a_late_subscriber_gets_every_step_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let (events, _keep) = broadcast::channel(16);
        let (log, _writer) = InstallLog::open(store, 1, 0, events);
        log.event(started("cloud_config"));
        log.event(InstallEvent::StepFinished {
            id: "cloud_config".into(),
            status: "succeeded".into(),
            product: None,
        });
        log.event(InstallEvent::Progress {
            product: "p".into(),
            percent: 10,
        });
        log.line("a line");
        let mut sub = log.subscribe();
        assert_eq!(sub.lines.len(), 1);
        assert_eq!(
            sub.steps
                .iter()
                .map(|e| match e {
                    InstallEvent::StepStarted { id, .. } => format!("started {id}"),
                    InstallEvent::StepFinished { id, status, .. } => format!("{status} {id}"),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>(),
            ["started cloud_config", "succeeded cloud_config"]
        );
        log.event(started("p.deploy"));
        assert_eq!(sub.events.try_recv().unwrap(), started("p.deploy"));
        assert!(sub.events.try_recv().is_err(), "nothing sent twice");
    }
}
