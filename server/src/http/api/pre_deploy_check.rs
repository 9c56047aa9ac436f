//! `GET /api/v0/staged/director/pre_deploy_check` and `GET
//! /api/v0/staged/products/:guid/pre_deploy_check` in om's shape (`api/pre_deploy_check_service.go`):
//! `{"pre_deploy_check": {"identifier", "complete", "network": {"assigned"},
//! "availability_zone": {"assigned"}, "stemcells": [{"assigned", "required_stemcell_version",
//! "required_stemcell_os"}], "properties": [{"name", "type", "errors", "records"}],
//! "resources": {"jobs": [{"identifier", "guid", "error"}]}, "verifiers": [{"type", "errors",
//! "ignorable"}]}}`. `identifier` is the GUID (as om's own fixtures have it). Built by
//! `products::pre_deploy` from the checks Review and Apply Changes use. A product's check also
//! carries Tileworks's `job_spec_warnings` (`installations::job_spec_check`: properties and
//! jobs its rendered manifest uses that the releases' job specs lack; om ignores the key, and
//! they never make `complete` false).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use crate::http::AppState;
use crate::products::pre_deploy::PreDeployCheck;
use crate::Result;

fn om_shape(check: PreDeployCheck) -> Json<Value> {
    Json(json!({"pre_deploy_check": {
        "identifier": check.guid,
        "complete": check.complete,
        "network": {"assigned": check.network_assigned},
        "availability_zone": {"assigned": check.availability_zone_assigned},
        "stemcells": check.missing_stemcells.iter().map(|(os, version)| json!({
            "assigned": false,
            "required_stemcell_version": version,
            "required_stemcell_os": os,
        })).collect::<Vec<_>>(),
        "properties": check.properties.iter().map(|p| json!({
            "name": p.reference,
            "type": p.property_type,
            "errors": p.errors,
            "records": [],
        })).collect::<Vec<_>>(),
        "resources": {"jobs": check.jobs.iter().map(|j| json!({
            "identifier": j.name,
            "guid": j.guid,
            "error": j.errors,
        })).collect::<Vec<_>>()},
        "verifiers": check.verifiers.iter().map(|v| json!({
            "type": v.kind,
            "errors": v.messages(),
            "ignorable": v.ignorable,
        })).collect::<Vec<_>>(),
    }}))
}

pub async fn director(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(om_shape(state.products.director_pre_deploy_check().await?))
}

pub async fn product(
    State(state): State<AppState>,
    Path(guid): Path<String>,
) -> Result<Json<Value>> {
    let Json(mut shape) = om_shape(state.products.product_pre_deploy_check(&guid).await?);
    let findings = state
        .installations
        .job_spec_check(&guid)
        .await?
        .map(|report| report.findings)
        .unwrap_or_default();
    shape["pre_deploy_check"]["job_spec_warnings"] = json!(findings);
    Ok(Json(shape))
}
