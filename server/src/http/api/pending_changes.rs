//! `GET /api/v0/staged/pending_changes`: per product its action, errands and the
//! `completeness_checks` om's `configure-product` insists on; beyond Ops Manager's shape,
//! `changes` (the high-level items behind the action: `{"kind", "description"}`) and
//! `depends_on` (`requires_product_versions` resolved: `{"name", "requirement", "optional",
//! "state": "satisfied"|"incompatible"|"missing", "colour", "found_version", "guid",
//! "pending", "note"}`) and `verifiers` (the enabled install-time verifiers that found
//! something: `{"type", "ignorable", "errors"}`), as Review Pending Changes shows them.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::Result;

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>> {
    let changes: Vec<Value> = state
        .products
        .pending_changes()
        .await?
        .into_iter()
        .map(|c| {
            let errands: Vec<Value> = c
                .errands
                .iter()
                .map(|e| json!({"name": e["name"], "post_deploy": e["post_deploy"], "pre_delete": e["pre_delete"]}))
                .collect();
            json!({
                "guid": c.guid,
                "action": c.action,
                "errands": errands,
                "completeness_checks": c.completeness.checks(),
                "staged": {"guid": c.guid, "identifier": c.name, "version": c.version},
                "deployed": c.deployed_version.as_ref()
                    .map(|v| json!({"guid": c.guid, "identifier": c.name, "version": v})),
                "missing": c.completeness.missing,
                "invalid": c.completeness.invalid,
                "stemcells": c.completeness.stemcells,
                "changes": c.changes,
                "depends_on": c.depends_on,
                "verifiers": c.verifiers.iter().map(|v| json!({
                    "type": v.kind,
                    "ignorable": v.ignorable,
                    "errors": v.messages(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "product_changes": changes })))
}
