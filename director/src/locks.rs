//! Deployment locks: one task at a time per deployment, like the Director's `lock:deployment:X`.
//! A task takes the lock when it is queued and gives it back when it ends; a second task for
//! the same deployment fails at once with a message naming the holder.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{json, Value};

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub task_id: i64,
    pub description: String,
    pub uid: String,
    pub acquired_at: i64,
}

#[derive(Debug, Default)]
pub struct Locks {
    held: Mutex<BTreeMap<String, Holder>>,
}

/// How long a lock is advertised as valid in `GET /locks` (the Director renews it while the
/// task runs; here it lasts until the task ends).
const ADVERTISED_TIMEOUT_SECS: i64 = 60;

impl Locks {
    /// Takes the lock on `deployment` for `task_id`, or returns the current holder.
    pub fn acquire(&self, deployment: &str, task_id: i64, description: &str) -> Result<(), Holder> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(holder) = held.get(deployment) {
            return Err(holder.clone());
        }
        held.insert(
            deployment.to_string(),
            Holder {
                task_id,
                description: description.to_string(),
                uid: uuid::Uuid::new_v4().to_string(),
                acquired_at: crate::store::unix_now(),
            },
        );
        Ok(())
    }

    /// Releases the lock if `task_id` holds it.
    pub fn release(&self, deployment: &str, task_id: i64) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.get(deployment).map(|h| h.task_id) == Some(task_id) {
            held.remove(deployment);
        }
    }

    pub fn holder(&self, deployment: &str) -> Option<Holder> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.get(deployment).cloned()
    }

    /// The Director's failure message for a lock held by someone else.
    pub fn conflict_message(deployment: &str, holder: &Holder) -> String {
        format!(
            "Failed to acquire lock for lock:deployment:{deployment} uid: {}. Locking task id is {}, description: '{}'",
            holder.uid, holder.task_id, holder.description
        )
    }

    /// `GET /locks`.
    pub fn to_json(&self) -> Value {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        Value::Array(
            held.iter()
                .map(|(deployment, h)| {
                    json!({
                        "type": "deployment",
                        "resource": [deployment],
                        "timeout": (h.acquired_at + ADVERTISED_TIMEOUT_SECS).to_string(),
                        "task_id": h.task_id.to_string(),
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_per_deployment() {
        let locks = Locks::default();
        locks.acquire("a", 1, "create deployment").unwrap();
        let holder = locks.acquire("a", 2, "delete deployment a").unwrap_err();
        assert_eq!(holder.task_id, 1);
        assert!(Locks::conflict_message("a", &holder).contains("Locking task id is 1"));
        locks.acquire("b", 3, "create deployment").unwrap();
        locks.release("a", 2);
        assert!(locks.holder("a").is_some(), "only the holder releases");
        locks.release("a", 1);
        assert!(locks.holder("a").is_none());
        assert_eq!(locks.to_json().as_array().map(Vec::len), Some(1));
    }
}
