//! `generate-plan-schemas`: the JSON Schemas (draft-04) of the parameters a plan accepts, which
//! the broker publishes in its catalog so clients can check a request before sending it.
//!
//! The schema is derived from the same tables [`super::params`] validates with, so the two
//! cannot drift apart.

use serde_json::{json, Map, Value};

use super::model::Plan;
use super::params::{accepted_names, max_workers};
use crate::Result;

const DRAFT_04: &str = "http://json-schema.org/draft-04/schema#";
/// Hostname (RFC 1123 labels) or dotted IPv4; [`super::check_host`] is the exact rule.
const HOST_PATTERN: &str = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$";

/// The plan's schemas in the SDK's output shape:
/// `{service_instance: {create: {parameters}, update: {parameters}}, service_binding: {create: {parameters}}}`.
pub fn plan_schemas(plan: &Plan) -> Result<Value> {
    let max = max_workers(plan)?;
    let mut properties = Map::new();
    for name in accepted_names() {
        let schema = match name {
            "kubernetes_worker_instances" | "worker_instances" => json!({
                "type": "integer", "minimum": 1, "maximum": max,
                "description": format!("Number of worker nodes (1–{max} on this plan)"),
            }),
            "kubernetes_master_host" | "external_hostname" => json!({
                "type": "string", "maxLength": 253, "pattern": HOST_PATTERN,
                "description": "Hostname or IPv4 address clients use to reach the Kubernetes API",
            }),
            "kubernetes_master_port" => json!({
                "type": "integer", "enum": [8443],
                "description": "Port of the Kubernetes API (kubo 0.18.0 listens on 8443 only)",
            }),
            "authorization_mode" => json!({
                "type": "string", "enum": ["rbac"],
                "description": "Kubernetes API authorization mode (kubo 0.18.0 runs RBAC only)",
            }),
            // A name accepted by params but unknown here still gets a permissive entry, so the
            // schema never rejects what the adapter accepts.
            _ => json!({}),
        };
        properties.insert(name.to_owned(), schema);
    }
    let instance = json!({
        "$schema": DRAFT_04,
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
    });
    Ok(json!({
        "service_instance": {
            "create": {"parameters": instance},
            "update": {"parameters": instance},
        },
        "service_binding": {
            "create": {"parameters": {
                "$schema": DRAFT_04,
                "type": "object",
                "additionalProperties": false,
                "properties": {},
            }},
        },
    }))
}
