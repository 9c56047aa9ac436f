//! The service adapter's warnings for a cluster: plan settings its manifest cannot carry
//! (admission plugins, drain settings, CIDRs kubo 0.18.0 fixes, `cloud_config` keys its
//! cloud-provider job does not know), where an operator looks for them.
//!
//! The adapter gives them with every manifest it generates, so each provision, update and
//! upgrade of every cluster of a plan repeats the same ones: logged per operation, 100
//! clusters upgraded meant 100 identical log lines, and nothing on any page. Here they are
//!
//! - worked out again from the plan a cluster's manifest was rendered from (its
//!   `manifest_plan`: the warnings depend on the plan's properties only), for the cluster page
//!   ([`of_plan`]);
//! - logged once per plan and distinct warning by this process ([`WarningLog`]), with how many
//!   clusters' operations had it when it is said again after [`REPEAT_EVERY`] more.

use std::collections::HashMap;
use std::sync::Mutex;

use tiles::odb;

/// After the first line, a warning is logged again every this many operations that had it,
/// with the count, so a long-running process still shows it is in force.
pub const REPEAT_EVERY: u64 = 100;

/// The adapter's warnings for the plan a manifest was rendered from (a `manifest_plan` column:
/// `tiles::odb::Plan` as JSON), each once, in the adapter's order. A plan that no longer reads
/// (an older shape) or that the adapter refuses has none to show.
pub fn of_plan(manifest_plan: &str) -> Vec<String> {
    let Ok(plan) = serde_json::from_str::<odb::Plan>(manifest_plan) else {
        return Vec::new();
    };
    let Ok(settings) = odb::k8s_context(&plan.properties) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for w in settings.warnings {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// Which warnings this process has logged, per plan, and how often they came since.
#[derive(Default)]
pub struct WarningLog {
    seen: Mutex<HashMap<(String, String), u64>>,
}

impl WarningLog {
    /// Notes the warnings of one generated manifest (`plan_id`'s, for `instance_id`) and
    /// returns the lines to log: a warning's first time, and every [`REPEAT_EVERY`]th time
    /// after it with the count.
    pub fn note(&self, plan_id: &str, instance_id: &str, warnings: &[String]) -> Vec<String> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut lines = Vec::new();
        for w in warnings {
            let count = seen.entry((plan_id.to_owned(), w.clone())).or_insert(0);
            *count += 1;
            if *count == 1 {
                lines.push(format!(
                    "service adapter (plan {plan_id}, first for instance {instance_id}; \
                     said once, each cluster page lists it): {w}"
                ));
            } else if *count % REPEAT_EVERY == 1 {
                lines.push(format!(
                    "service adapter (plan {plan_id}, {count} cluster operations so far, \
                     latest instance {instance_id}): {w}"
                ));
            }
        }
        lines
    }

    /// Logs what [`WarningLog::note`] says to log.
    pub fn log(&self, plan_id: &str, instance_id: &str, warnings: &[String]) {
        for line in self.note(plan_id, instance_id, warnings) {
            tracing::warn!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLOUD: &str = "cloud_provider.cloud_config.Global.multizone is not applied: kubo \
                         0.18.0's cloud-provider job has no gce setting `multizone`";

    #[test]
    fn a_hundred_clusters_of_a_plan_log_a_warning_once() {
        let log = WarningLog::default();
        let warnings = vec![CLOUD.to_owned()];
        let mut lines = Vec::new();
        for n in 0..REPEAT_EVERY {
            lines.extend(log.note("plan-1", &format!("i-{n}"), &warnings));
        }
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(lines[0].contains("i-0"), "{}", lines[0]);
        assert!(lines[0].ends_with(CLOUD), "{}", lines[0]);
        // The next one after a hundred says it again, counted.
        let again = log.note("plan-1", "i-100", &warnings);
        assert_eq!(again.len(), 1);
        assert!(again[0].contains("101 cluster operations"), "{}", again[0]);
        // Another plan, or another warning, is said on its own.
        assert_eq!(log.note("plan-2", "i-x", &warnings).len(), 1);
        assert_eq!(log.note("plan-1", "i-y", &["other".into()]).len(), 1);
        assert!(log.note("plan-1", "i-z", &[]).is_empty());
    }

    #[test]
    fn a_clusters_warnings_come_from_the_plan_it_was_rendered_from() {
        let plan = json!({
            "instance_groups": [],
            "properties": {
                "allow_privileged_containers": false,
                "admission_plugins": [],
                "cloud_provider": {"type": "gce", "cloud_config": {
                    "Global": {"project-id": "p", "multizone": true}}},
            },
        });
        let warnings = of_plan(&plan.to_string());
        assert!(warnings.iter().any(|w| w == CLOUD), "{warnings:#?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("SecurityContextDeny is on")),
            "{warnings:#?}"
        );
        assert!(
            !warnings.iter().any(|w| w.contains("project-id")),
            "a known key"
        );
        assert!(of_plan("not json").is_empty());
        assert!(of_plan("{}").iter().all(|w| !w.contains("cloud_config")));
    }
}
