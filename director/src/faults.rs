//! Deploy faults for tests and demos: `PUT /chaos/deployments/:name/deploy` makes the next
//! deploys of one deployment fail (all of them, or the next `times`), the way a broken
//! release or an IaaS refusing a VM makes a real deploy fail; `…/delete` does the same to its
//! deletion (a VM the IaaS will not delete); `DELETE` on either restores success.
//! Fleet operations (upgrade-all) are tested against it: a named cluster fails, the others do
//! not, and a fault that clears after one failure shows the retries.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;

/// What a failing deploy says, and how many more deploys fail (`None`: until cleared).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DeployFault {
    #[serde(default = "default_message")]
    pub message: String,
    #[serde(default)]
    pub times: Option<u32>,
}

fn default_message() -> String {
    "injected deploy failure".into()
}

/// Which task of a deployment a fault fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Faulted {
    Deploy,
    Delete,
}

type Key = (String, Faulted);

/// Deploy faults by deployment name and task.
#[derive(Debug, Default)]
pub struct DeployFaults {
    map: Mutex<HashMap<Key, DeployFault>>,
}

impl DeployFaults {
    pub fn set(&self, deployment: &str, task: Faulted, fault: DeployFault) {
        self.lock().insert((deployment.to_owned(), task), fault);
    }

    pub fn clear(&self, deployment: &str, task: Faulted) {
        self.lock().remove(&(deployment.to_owned(), task));
    }

    /// Whether this `task` of `deployment` fails, and why; counts the failure against `times`.
    pub fn take(&self, deployment: &str, task: Faulted) -> Option<String> {
        let mut map = self.lock();
        let deployment = (deployment.to_owned(), task);
        let fault = map.get_mut(&deployment)?;
        let message = fault.message.clone();
        match &mut fault.times {
            Some(0) => {
                map.remove(&deployment);
                return None;
            }
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    map.remove(&deployment);
                }
            }
            None => {}
        }
        Some(message)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, DeployFault>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fails_its_deployment_only_and_counts_down() {
        let faults = DeployFaults::default();
        let d = Faulted::Deploy;
        faults.set(
            "a",
            d,
            DeployFault {
                message: "boom".into(),
                times: Some(2),
            },
        );
        assert_eq!(faults.take("b", d), None);
        assert_eq!(faults.take("a", Faulted::Delete), None);
        assert_eq!(faults.take("a", d).as_deref(), Some("boom"));
        assert_eq!(faults.take("a", d).as_deref(), Some("boom"));
        assert_eq!(faults.take("a", d), None);

        faults.set(
            "a",
            Faulted::Delete,
            DeployFault {
                message: "always".into(),
                times: None,
            },
        );
        for _ in 0..3 {
            assert_eq!(faults.take("a", Faulted::Delete).as_deref(), Some("always"));
        }
        faults.clear("a", Faulted::Delete);
        assert_eq!(faults.take("a", Faulted::Delete), None);
    }
}
