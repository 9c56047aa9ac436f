//! Operations on an instance, as ODB keeps them (bosh-cfcr-pks-odb.md §4.8): their kinds, the
//! steps each runs (a deploy, lifecycle errands, a deletion — each one Director task), the OSB
//! `operation` token and the `last_operation` descriptions PKS shows verbatim.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Create,
    Update,
    /// Re-rendered with the current catalog and deployed (ODB's `upgrade`: the management
    /// API's upgrade and the upgrade-all errand).
    Upgrade,
    /// The deployed manifest deployed again with every VM recreated (ODB's `recreate`).
    Recreate,
    Delete,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Create => "create",
            OperationKind::Update => "update",
            OperationKind::Upgrade => "upgrade",
            OperationKind::Recreate => "recreate",
            OperationKind::Delete => "delete",
        }
    }

    pub fn parse(text: &str) -> Result<OperationKind> {
        match text {
            "create" => Ok(OperationKind::Create),
            "update" => Ok(OperationKind::Update),
            "upgrade" => Ok(OperationKind::Upgrade),
            "recreate" => Ok(OperationKind::Recreate),
            "delete" => Ok(OperationKind::Delete),
            other => Err(Error::Internal(format!("unknown operation kind {other:?}"))),
        }
    }

    /// ODB's description of an operation of this kind in `state` (`broker/last_operation.go`).
    pub fn description(self, state: OperationState) -> &'static str {
        use OperationState::*;
        match (self, state) {
            (OperationKind::Create, InProgress) => "Instance provisioning in progress",
            (OperationKind::Create, Succeeded) => "Instance provisioning completed",
            (OperationKind::Create, Failed) => "Instance provisioning failed",
            (OperationKind::Update, InProgress) => "Instance update in progress",
            (OperationKind::Update, Succeeded) => "Instance update completed",
            (OperationKind::Update, Failed) => "Instance update failed",
            (OperationKind::Upgrade, InProgress) => "Instance upgrade in progress",
            (OperationKind::Upgrade, Succeeded) => "Instance upgrade completed",
            (OperationKind::Upgrade, Failed) => "Instance upgrade failed",
            (OperationKind::Recreate, InProgress) => "Instance recreate in progress",
            (OperationKind::Recreate, Succeeded) => "Instance recreate completed",
            (OperationKind::Recreate, Failed) => "Instance recreate failed",
            (OperationKind::Delete, InProgress) => "Instance deletion in progress",
            (OperationKind::Delete, Succeeded) => "Instance deletion completed",
            (OperationKind::Delete, Failed) => "Instance deletion failed",
        }
    }
}

/// The OSB states of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    InProgress,
    Succeeded,
    Failed,
}

impl OperationState {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationState::InProgress => "in progress",
            OperationState::Succeeded => "succeeded",
            OperationState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Result<OperationState> {
        match text {
            "in progress" => Ok(OperationState::InProgress),
            "succeeded" => Ok(OperationState::Succeeded),
            "failed" => Ok(OperationState::Failed),
            other => Err(Error::Internal(format!(
                "unknown operation state {other:?}"
            ))),
        }
    }
}

/// One step of an operation: one Director task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Deploy the operation's manifest.
    Deploy,
    /// Run a lifecycle errand (`instances`: `group/index` or `group/id`; empty: where it lives).
    Errand {
        name: String,
        #[serde(default)]
        instances: Vec<String>,
    },
    /// Delete the deployment (a missing deployment is no error).
    Delete,
}

/// The OSB `operation` token, ODB's JSON shape (`BoshTaskID`, `BoshContextID`,
/// `OperationType`, `PlanID`) plus the broker's own operation id, which `last_operation`
/// reads the state from (so it answers after a restart and when a step has no task yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationToken {
    #[serde(rename = "BoshTaskID", default)]
    pub bosh_task_id: u64,
    #[serde(rename = "BoshContextID", default)]
    pub bosh_context_id: String,
    #[serde(rename = "OperationType")]
    pub operation_type: String,
    #[serde(rename = "PlanID", default)]
    pub plan_id: String,
    #[serde(rename = "OperationID")]
    pub operation_id: i64,
}

impl OperationToken {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a token the broker handed out; a refusal names the `operation` parameter.
    pub fn decode(text: &str) -> Result<OperationToken> {
        serde_json::from_str(text).map_err(|e| Error::Osb {
            status: 400,
            error: None,
            description: format!("operation: not an operation this broker handed out ({e})"),
        })
    }
}

/// The Director context id of an operation's tasks.
pub fn context_id(operation_id: i64) -> String {
    format!("tileworks-broker-operation-{operation_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_in_odbs_field_names() {
        let t = OperationToken {
            bosh_task_id: 12,
            bosh_context_id: context_id(3),
            operation_type: "create".into(),
            plan_id: "p".into(),
            operation_id: 3,
        };
        let text = t.encode();
        assert!(text.contains("\"BoshTaskID\":12"), "{text}");
        assert!(text.contains("\"OperationType\":\"create\""), "{text}");
        assert_eq!(OperationToken::decode(&text).unwrap(), t);
        assert!(matches!(
            OperationToken::decode("nope"),
            Err(Error::Osb { status: 400, .. })
        ));
    }

    #[test]
    fn descriptions_are_odbs() {
        assert_eq!(
            OperationKind::Create.description(OperationState::InProgress),
            "Instance provisioning in progress"
        );
        assert_eq!(
            OperationKind::Delete.description(OperationState::Succeeded),
            "Instance deletion completed"
        );
    }

    #[test]
    fn steps_are_stored_as_tagged_json() {
        let steps = vec![
            Step::Deploy,
            Step::Errand {
                name: "apply-addons".into(),
                instances: vec![],
            },
        ];
        let text = serde_json::to_string(&steps).unwrap();
        assert_eq!(
            text,
            r#"[{"step":"deploy"},{"step":"errand","name":"apply-addons","instances":[]}]"#
        );
        assert_eq!(serde_json::from_str::<Vec<Step>>(&text).unwrap(), steps);
    }
}
