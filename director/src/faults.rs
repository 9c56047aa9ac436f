//! Deploy faults for tests and demos: `PUT /chaos/deployments/:name/deploy` makes the next
//! deploys of one deployment fail (all of them, or the next `times`), the way a broken
//! release or an IaaS refusing a VM makes a real deploy fail; `DELETE` restores success.
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

/// Deploy faults by deployment name.
#[derive(Debug, Default)]
pub struct DeployFaults {
    map: Mutex<HashMap<String, DeployFault>>,
}

impl DeployFaults {
    pub fn set(&self, deployment: &str, fault: DeployFault) {
        self.lock().insert(deployment.to_owned(), fault);
    }

    pub fn clear(&self, deployment: &str) {
        self.lock().remove(deployment);
    }

    /// Whether this deploy of `deployment` fails, and why; counts the failure against `times`.
    pub fn take(&self, deployment: &str) -> Option<String> {
        let mut map = self.lock();
        let fault = map.get_mut(deployment)?;
        let message = fault.message.clone();
        match &mut fault.times {
            Some(0) => {
                map.remove(deployment);
                return None;
            }
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    map.remove(deployment);
                }
            }
            None => {}
        }
        Some(message)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, DeployFault>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fails_its_deployment_only_and_counts_down() {
        let faults = DeployFaults::default();
        faults.set(
            "a",
            DeployFault {
                message: "boom".into(),
                times: Some(2),
            },
        );
        assert_eq!(faults.take("b"), None);
        assert_eq!(faults.take("a").as_deref(), Some("boom"));
        assert_eq!(faults.take("a").as_deref(), Some("boom"));
        assert_eq!(faults.take("a"), None);

        faults.set(
            "a",
            DeployFault {
                message: "always".into(),
                times: None,
            },
        );
        for _ in 0..3 {
            assert_eq!(faults.take("a").as_deref(), Some("always"));
        }
        faults.clear("a");
        assert_eq!(faults.take("a"), None);
    }
}
