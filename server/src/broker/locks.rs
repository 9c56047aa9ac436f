//! One lock per service instance, never one for the whole broker: a request holds its
//! instance's lock while it checks and starts an operation, so two requests for one instance
//! take turns while requests for different instances run side by side. (The database's unique
//! index on in-progress operations backs this up; the lock keeps the answers orderly.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
pub struct InstanceLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl InstanceLocks {
    /// Waits for the instance's turn. Locks nobody holds are dropped from the map as they are
    /// passed over, so it does not grow with every instance ever seen.
    pub async fn lock(&self, instance_id: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, l| Arc::strong_count(l) > 1 || l.try_lock().is_err());
            map.entry(instance_id.to_owned()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_instance_waits_others_do_not() {
        let locks = InstanceLocks::default();
        let a = locks.lock("a").await;
        // Another instance is not held up.
        let b = tokio::time::timeout(std::time::Duration::from_secs(1), locks.lock("b")).await;
        assert!(b.is_ok());
        // The same instance is.
        let again =
            tokio::time::timeout(std::time::Duration::from_millis(50), locks.lock("a")).await;
        assert!(again.is_err());
        drop(a);
        assert!(
            tokio::time::timeout(std::time::Duration::from_secs(1), locks.lock("a"))
                .await
                .is_ok()
        );
    }
}
