//! The Open Service Broker API under `/broker/v2/`, as the On-Demand Broker serves it
//! (bosh-cfcr-pks-odb.md §4.9; pivotal-cf/brokerapi `api.go` for routes and status codes):
//! request bodies and query strings in, the broker service's answers out in OSB's shapes.
//!
//! The gate (`Access::Broker`) has already decided everything every broker request needs: the
//! PKS tile is deployed (404 otherwise), the caller gave the broker's basic-auth credentials
//! (401), and `X-Broker-API-Version: 2.x` is there (412). Handlers only read the request,
//! naming the field of anything they cannot use (400 unreadable, 422 refused), never a 500.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::AppState;
use crate::broker::bindings::{Bind, Bound};
use crate::broker::refusals;
use crate::broker::{Deprovision, Provision, Provisioned, Update};
use crate::Result;

/// Where the broker's routes live; a platform registers `https://<tileworks>/broker`.
pub const PREFIX: &str = "/broker";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/broker/v2/catalog", get(catalog))
        .route(
            "/broker/v2/service_instances/{instance_id}",
            get(fetch_instance)
                .put(provision)
                .patch(update)
                .delete(deprovision),
        )
        .route(
            "/broker/v2/service_instances/{instance_id}/last_operation",
            get(last_operation),
        )
        .route(
            "/broker/v2/service_instances/{instance_id}/service_bindings/{binding_id}",
            get(fetch_binding).put(bind).delete(unbind),
        )
        .route("/broker/mgmt/service_instances", get(managed_instances))
        .route("/broker/mgmt/orphan_deployments", get(orphan_deployments))
}

/// `GET /broker/mgmt/service_instances` (ODB's management API): every instance the broker
/// knows, `[{"service_instance_id", "plan_id"}]`.
async fn managed_instances(State(state): State<AppState>) -> Result<Json<Value>> {
    let list = state.broker.service_instances().await?;
    Ok(Json(serde_json::to_value(list).unwrap_or_default()))
}

/// `GET /broker/mgmt/orphan_deployments`: `service-instance_*` deployments on the Director that
/// the broker does not know, `[{"deployment_name"}]`; listed, never deleted.
async fn orphan_deployments(State(state): State<AppState>) -> Result<Json<Value>> {
    let list = state.broker.orphan_deployments().await?;
    Ok(Json(serde_json::to_value(list).unwrap_or_default()))
}

type Params = Query<HashMap<String, String>>;

fn flag(query: &HashMap<String, String>, name: &str) -> bool {
    query.get(name).is_some_and(|v| v == "true")
}

/// A request body as a JSON object; an empty body is an empty object.
fn body_object(bytes: &Bytes) -> Result<Map<String, Value>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(refusals::bad_request(
            "body",
            format!("must be a JSON object, not {}", kind(&other)),
        )),
        Err(e) => Err(refusals::bad_request("body", format!("is not JSON: {e}"))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The fields of an OSB body, read one by one so that a refusal names the field.
struct Fields(Map<String, Value>);

impl Fields {
    fn string(&self, name: &str) -> Result<Option<String>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(refusals::bad_request(
                name,
                format!("must be a string, not {}", kind(other)),
            )),
        }
    }

    fn required(&self, name: &str) -> Result<String> {
        self.string(name)?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| refusals::bad_request(name, "is required"))
    }

    fn object(&self, name: &str) -> Result<Option<Map<String, Value>>> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(other) => Err(refusals::invalid(
                name,
                format!("must be a JSON object, not {}", kind(other)),
            )),
        }
    }

    fn value(&self, name: &str) -> Option<Value> {
        self.0.get(name).filter(|v| !v.is_null()).cloned()
    }

    /// `maintenance_info.version`, when the request names one.
    fn maintenance_version(&self) -> Result<Option<String>> {
        match self.object("maintenance_info")? {
            None => Ok(None),
            Some(m) => match m.get("version") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(refusals::bad_request(
                    "maintenance_info.version",
                    format!("must be a string, not {}", kind(other)),
                )),
            },
        }
    }
}

async fn catalog(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(state.broker.catalog().await?))
}

async fn provision(
    State(state): State<AppState>,
    Path(instance_id): Path<String>,
    Query(query): Params,
    body: Bytes,
) -> Result<Response> {
    let accepts_incomplete = flag(&query, "accepts_incomplete");
    if !accepts_incomplete {
        // ODB refuses before reading anything else.
        return Err(refusals::async_required());
    }
    let f = Fields(body_object(&body)?);
    let command = Provision {
        instance_id,
        accepts_incomplete,
        service_id: f.required("service_id")?,
        plan_id: f.required("plan_id")?,
        organization_guid: f.string("organization_guid")?,
        space_guid: f.string("space_guid")?,
        context: f.value("context"),
        parameters: f.object("parameters")?.unwrap_or_default(),
        maintenance_info_version: f.maintenance_version()?,
        cluster: None,
    };
    Ok(match state.broker.provision(command).await? {
        Provisioned::Started {
            operation,
            dashboard_url,
        }
        | Provisioned::InProgress {
            operation,
            dashboard_url,
        } => {
            let mut body = json!({ "operation": operation });
            if let Some(url) = dashboard_url {
                body["dashboard_url"] = Value::from(url);
            }
            (StatusCode::ACCEPTED, Json(body)).into_response()
        }
        Provisioned::Exists { dashboard_url } => {
            let body = match dashboard_url {
                Some(url) => json!({ "dashboard_url": url }),
                None => json!({}),
            };
            (StatusCode::OK, Json(body)).into_response()
        }
    })
}

async fn update(
    State(state): State<AppState>,
    Path(instance_id): Path<String>,
    Query(query): Params,
    body: Bytes,
) -> Result<Response> {
    let accepts_incomplete = flag(&query, "accepts_incomplete");
    if !accepts_incomplete {
        return Err(refusals::async_required());
    }
    let f = Fields(body_object(&body)?);
    let previous = f.object("previous_values")?.map(Fields);
    let command = Update {
        instance_id,
        accepts_incomplete,
        service_id: f.required("service_id")?,
        plan_id: f.string("plan_id")?,
        parameters: f.object("parameters")?.unwrap_or_default(),
        previous_plan_id: match &previous {
            Some(p) => p.string("plan_id").map_err(|_| {
                refusals::bad_request("previous_values.plan_id", "must be a string")
            })?,
            None => None,
        },
        maintenance_info_version: f.maintenance_version()?,
    };
    let token = state.broker.update(command).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "operation": token.encode() })),
    )
        .into_response())
}

async fn deprovision(
    State(state): State<AppState>,
    Path(instance_id): Path<String>,
    Query(query): Params,
) -> Result<Response> {
    let command = Deprovision {
        instance_id,
        accepts_incomplete: flag(&query, "accepts_incomplete"),
        service_id: query.get("service_id").cloned(),
        plan_id: query.get("plan_id").cloned(),
    };
    let token = state.broker.deprovision(command).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "operation": token.encode() })),
    )
        .into_response())
}

async fn last_operation(
    State(state): State<AppState>,
    Path(instance_id): Path<String>,
    Query(query): Params,
) -> Result<Json<Value>> {
    let last = state
        .broker
        .last_operation(&instance_id, query.get("operation").map(String::as_str))
        .await?;
    Ok(Json(json!({
        "state": last.state.as_str(),
        "description": last.description,
    })))
}

async fn fetch_instance(
    State(state): State<AppState>,
    Path(instance_id): Path<String>,
) -> Result<Json<Value>> {
    let view = state.broker.instance(&instance_id).await?;
    let mut body = json!({
        "service_id": view.service_id,
        "plan_id": view.plan_id,
        "parameters": view.parameters,
    });
    if let Some(url) = view.dashboard_url {
        body["dashboard_url"] = Value::from(url);
    }
    Ok(Json(body))
}

async fn bind(
    State(state): State<AppState>,
    Path((instance_id, binding_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let f = Fields(body_object(&body)?);
    let command = Bind {
        instance_id,
        binding_id,
        service_id: f.required("service_id")?,
        plan_id: f.required("plan_id")?,
        app_guid: f.string("app_guid")?,
        bind_resource: f.value("bind_resource"),
        parameters: f.object("parameters")?.unwrap_or_default(),
    };
    Ok(match state.broker.bind(command).await? {
        Bound::Created(credentials) => (StatusCode::CREATED, Json(credentials)).into_response(),
        Bound::Exists(credentials) => (StatusCode::OK, Json(credentials)).into_response(),
    })
}

async fn unbind(
    State(state): State<AppState>,
    Path((instance_id, binding_id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    state.broker.unbind(&instance_id, &binding_id).await?;
    Ok(Json(json!({})))
}

async fn fetch_binding(
    State(state): State<AppState>,
    Path((instance_id, binding_id)): Path<(String, String)>,
) -> Result<Json<Value>> {
    Ok(Json(state.broker.binding(&instance_id, &binding_id).await?))
}
