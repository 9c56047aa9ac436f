//! Service instances: provision, update, deprovision, fetch and `last_operation`, with ODB's
//! rules (bosh-cfcr-pks-odb.md §4.9): every operation is asynchronous (`AsyncRequired`
//! otherwise), one operation at a time per instance (`ConcurrencyError`), an identical repeated
//! provision is answered as the first, a different one with the same id is a conflict.
//!
//! Provision and update check the request against the catalog, ask the service adapter for the
//! manifest (`tiles::odb::generate_manifest`: the plan, the request's parameters and, on update,
//! the previous manifest and plan), record the operation and start its deploy task before
//! answering, so the `operation` token carries the Director task id as ODB's does; the rest (the
//! task's end, the plan's lifecycle errands) is followed by [`super::runner`].

use serde_json::{json, Map, Value};
use tiles::odb;

use super::catalog::{BrokerConfig, CatalogPlan, INSTANCE_PREFIX};
use super::operations::{context_id, OperationKind, OperationState, OperationToken, Step};
use super::{now, quotas, refusals, runner, Broker};
use crate::store::broker::{InstanceRow, OperationRow};
use crate::Result;

/// `PUT /v2/service_instances/:id`.
#[derive(Debug, Clone, Default)]
pub struct Provision {
    pub instance_id: String,
    pub accepts_incomplete: bool,
    pub service_id: String,
    pub plan_id: String,
    pub organization_guid: Option<String>,
    pub space_guid: Option<String>,
    pub context: Option<Value>,
    pub parameters: Map<String, Value>,
    pub maintenance_info_version: Option<String>,
    /// The cluster's name and creator when the PKS API provisions (`/pks/v1/clusters`).
    pub cluster: Option<ClusterName>,
}

/// A PKS cluster's name (unique among instances) and who created it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterName {
    pub name: String,
    pub created_by: String,
}

/// What a provision request started (or found).
#[derive(Debug, Clone, PartialEq)]
pub enum Provisioned {
    /// A new instance: `202` with the operation.
    Started {
        operation: String,
        dashboard_url: Option<String>,
    },
    /// The same request again while its provisioning runs: `202` with the same operation.
    InProgress {
        operation: String,
        dashboard_url: Option<String>,
    },
    /// The same request again after it succeeded: `200`.
    Exists { dashboard_url: Option<String> },
}

/// `PATCH /v2/service_instances/:id`.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub instance_id: String,
    pub accepts_incomplete: bool,
    pub service_id: String,
    pub plan_id: Option<String>,
    pub parameters: Map<String, Value>,
    pub previous_plan_id: Option<String>,
    pub maintenance_info_version: Option<String>,
}

/// `DELETE /v2/service_instances/:id`.
#[derive(Debug, Clone, Default)]
pub struct Deprovision {
    pub instance_id: String,
    pub accepts_incomplete: bool,
    pub service_id: Option<String>,
    pub plan_id: Option<String>,
}

/// `GET …/last_operation`.
#[derive(Debug, Clone, PartialEq)]
pub struct LastOperation {
    pub state: OperationState,
    pub description: String,
}

/// `GET /v2/service_instances/:id`.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    pub service_id: String,
    pub plan_id: String,
    pub dashboard_url: Option<String>,
    pub parameters: Value,
}

impl Broker {
    pub async fn catalog(&self) -> Result<Value> {
        self.deployed().await?.osb_catalog()
    }

    pub async fn provision(&self, p: Provision) -> Result<Provisioned> {
        let config = self.deployed().await?;
        if !p.accepts_incomplete {
            return Err(refusals::async_required());
        }
        check_service(&config, &p.service_id)?;
        let plan = known_plan(&config, &p.plan_id)?;
        check_maintenance_info(&config, plan, p.maintenance_info_version.as_deref())?;
        let request = json!({
            "service_id": p.service_id,
            "plan_id": p.plan_id,
            "organization_guid": p.organization_guid,
            "space_guid": p.space_guid,
            "parameters": p.parameters,
        });

        let _turn = self.inner.locks.lock(&p.instance_id).await;
        let store = self.store().broker();
        if let Some(existing) = store.instance(&p.instance_id).await? {
            let same = serde_json::from_str::<Value>(&existing.request).ok() == Some(request);
            if !same {
                return Err(refusals::conflict(format!(
                    "instance {} exists with other attributes",
                    p.instance_id
                )));
            }
            let dashboard_url = dashboard(existing.manifest.as_deref());
            return match store.latest_operation(&p.instance_id).await? {
                Some(op) if op.kind == "create" && op.state == "in progress" => {
                    Ok(Provisioned::InProgress {
                        operation: token(&op).encode(),
                        dashboard_url,
                    })
                }
                Some(op) if op.state == "in progress" => Err(refusals::concurrency()),
                _ => Ok(Provisioned::Exists { dashboard_url }),
            };
        }

        let adapter_plan = config.catalog.adapter_plan(plan);
        let generated = odb::generate_manifest(&odb::GenerateManifestInput {
            service_deployment: config.service_deployment(&p.instance_id),
            plan: adapter_plan.clone(),
            request_parameters: json!({
                "service_id": p.service_id,
                "plan_id": p.plan_id,
                "organization_guid": p.organization_guid,
                "space_guid": p.space_guid,
                "context": p.context,
                "parameters": p.parameters,
            }),
            previous_manifest: None,
            previous_plan: None,
        })
        .map_err(refusals::from_adapter)?;
        self.inner
            .warnings
            .log(&p.plan_id, &p.instance_id, &generated.warnings);

        let stamp = now();
        let row = InstanceRow {
            id: p.instance_id.clone(),
            service_id: p.service_id.clone(),
            plan_id: p.plan_id.clone(),
            request: request.to_string(),
            parameters: Value::Object(p.parameters.clone()).to_string(),
            manifest: None,
            manifest_plan: None,
            binding_secrets: None,
            created_at: stamp.clone(),
            updated_at: stamp,
            cluster_name: p.cluster.as_ref().map(|c| c.name.clone()),
            created_by: p.cluster.as_ref().map(|c| c.created_by.clone()),
            maintenance_version: None,
        };
        let limits = quotas::limits(&config.catalog, plan);
        if !store.insert_instance_within(&row, limits).await? {
            return Err(quotas::refusal(self.store(), plan, limits).await?);
        }
        let started = self
            .start_deploy(
                &config,
                &p.instance_id,
                OperationKind::Create,
                plan,
                &plan_text(&adapter_plan),
                &row.parameters,
                &generated.manifest,
                catalog_version(&config, plan),
            )
            .await;
        match started {
            Ok(op) => Ok(Provisioned::Started {
                operation: token(&op).encode(),
                dashboard_url: dashboard(Some(&generated.manifest)),
            }),
            Err(e) => {
                // Nothing reached the Director: the instance never existed.
                store.delete_instance(&p.instance_id).await?;
                Err(e)
            }
        }
    }

    pub async fn update(&self, u: Update) -> Result<OperationToken> {
        let config = self.deployed().await?;
        if !u.accepts_incomplete {
            return Err(refusals::async_required());
        }
        check_service(&config, &u.service_id)?;
        let _turn = self.inner.locks.lock(&u.instance_id).await;
        let store = self.store().broker();
        let instance = store.instance(&u.instance_id).await?.ok_or_else(|| {
            refusals::not_found(format!("instance {} does not exist", u.instance_id))
        })?;
        if busy(self, &u.instance_id).await? {
            return Err(refusals::concurrency());
        }
        let plan_id = u
            .plan_id
            .clone()
            .unwrap_or_else(|| instance.plan_id.clone());
        let plan = known_plan(&config, &plan_id)?;
        if plan_id != instance.plan_id {
            if !config.catalog.plan_updatable(plan) {
                return Err(refusals::plan_change_not_supported(
                    &instance.plan_id,
                    &plan_id,
                ));
            }
            quotas::check_plan_change(self.store(), plan).await?;
        }
        check_maintenance_info(&config, plan, u.maintenance_info_version.as_deref())?;

        let mut parameters: Map<String, Value> =
            serde_json::from_str(&instance.parameters).unwrap_or_default();
        parameters.extend(u.parameters.clone());
        let previous_plan: Option<odb::Plan> = instance
            .manifest_plan
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok());
        let adapter_plan = config.catalog.adapter_plan(plan);
        let generated = odb::generate_manifest(&odb::GenerateManifestInput {
            service_deployment: config.service_deployment(&u.instance_id),
            plan: adapter_plan.clone(),
            request_parameters: json!({
                "service_id": u.service_id,
                "plan_id": plan_id,
                "parameters": u.parameters,
                "previous_values": {"plan_id": instance.plan_id},
            }),
            previous_manifest: instance.manifest.clone(),
            previous_plan,
        })
        .map_err(refusals::from_adapter)?;
        self.inner
            .warnings
            .log(&plan_id, &u.instance_id, &generated.warnings);
        // An update that only names the catalog's `maintenance_info` is the platform asking
        // for an upgrade (OSB's "upgrade through maintenance_info"): it is recorded as one.
        let kind = if u.maintenance_info_version.is_some()
            && u.parameters.is_empty()
            && plan_id == instance.plan_id
        {
            OperationKind::Upgrade
        } else {
            OperationKind::Update
        };
        let op = self
            .start_deploy(
                &config,
                &u.instance_id,
                kind,
                plan,
                &plan_text(&adapter_plan),
                &Value::Object(parameters).to_string(),
                &generated.manifest,
                catalog_version(&config, plan),
            )
            .await?;
        Ok(token(&op))
    }

    pub async fn deprovision(&self, d: Deprovision) -> Result<OperationToken> {
        let config = self.deployed().await?;
        if !d.accepts_incomplete {
            return Err(refusals::async_required());
        }
        let service_id = d
            .service_id
            .as_deref()
            .ok_or_else(|| refusals::bad_request("service_id", "is required"))?;
        let plan_id = d
            .plan_id
            .as_deref()
            .ok_or_else(|| refusals::bad_request("plan_id", "is required"))?;
        check_service(&config, service_id)?;
        let _turn = self.inner.locks.lock(&d.instance_id).await;
        let store = self.store().broker();
        let instance = store
            .instance(&d.instance_id)
            .await?
            .ok_or_else(refusals::gone)?;
        if busy(self, &d.instance_id).await? {
            return Err(refusals::concurrency());
        }
        let _ = plan_id; // ODB takes the plan from the instance, whatever the request says.
        let mut steps: Vec<Step> = config
            .catalog
            .plan(&instance.plan_id)
            .and_then(|p| p.lifecycle_errands.as_ref())
            .map(|e| {
                e.pre_delete
                    .iter()
                    .map(|errand| Step::Errand {
                        name: errand.name.clone(),
                        instances: errand.instances.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        steps.push(Step::Delete);
        let row = OperationRow {
            id: 0,
            instance_id: d.instance_id.clone(),
            kind: OperationKind::Delete.as_str().into(),
            state: OperationState::InProgress.as_str().into(),
            plan_id: instance.plan_id.clone(),
            parameters: instance.parameters.clone(),
            manifest: None,
            manifest_plan: None,
            steps: serde_json::to_string(&steps).unwrap_or_else(|_| "[]".into()),
            step: 0,
            task_id: None,
            error: None,
            started_at: now(),
            finished_at: None,
            maintenance_version: instance.maintenance_version.clone(),
        };
        let id = store
            .start_operation(&row)
            .await?
            .ok_or_else(refusals::concurrency)?;
        runner::claim(self, id).await?;
        // With no pre-delete errand the deletion task starts before the answer, so the token
        // carries its id as ODB's does; otherwise the runner starts each step.
        let mut op = OperationRow { id, ..row };
        if steps.first() == Some(&Step::Delete) {
            let deployment = format!("{INSTANCE_PREFIX}{}", d.instance_id);
            if self.director().deployment_exists(&deployment).await? {
                match self.director().delete_deployment(&deployment, false).await {
                    Ok(task) => {
                        let task = i64::try_from(task).unwrap_or(0);
                        store.set_operation_step(id, 0, Some(task)).await?;
                        op.task_id = Some(task);
                    }
                    Err(e) => {
                        store
                            .finish_operation(id, "failed", Some(&e.to_string()), &now())
                            .await?;
                        return Err(e);
                    }
                }
            }
        }
        runner::spawn(self, id);
        Ok(token(&op))
    }

    /// `GET /v2/service_instances/:id/last_operation`: the state of the operation the token
    /// names (ODB refuses a request without one).
    pub async fn last_operation(
        &self,
        instance_id: &str,
        operation: Option<&str>,
    ) -> Result<LastOperation> {
        self.deployed().await?;
        let operation = operation
            .filter(|o| !o.trim().is_empty())
            .ok_or_else(|| refusals::bad_request("operation", "Request missing operation data"))?;
        let token = OperationToken::decode(operation)?;
        let op = self
            .store()
            .broker()
            .operation(token.operation_id)
            .await?
            .filter(|op| op.instance_id == instance_id)
            .ok_or_else(|| {
                refusals::not_found(format!("instance {instance_id} has no such operation"))
            })?;
        let kind = OperationKind::parse(&op.kind)?;
        let state = OperationState::parse(&op.state)?;
        let mut description = kind.description(state).to_owned();
        if state == OperationState::Failed {
            let config = self.deployed().await?;
            description = format!(
                "{description}: There was a problem completing your request. Please contact your \
                 operations team providing the following information: service: {}, \
                 service-instance-guid: {instance_id}, task-id: {}, operation: {}",
                config.catalog.service_name,
                op.task_id.unwrap_or(0),
                op.kind
            );
        }
        Ok(LastOperation { state, description })
    }

    /// `GET /v2/service_instances/:id`: 404 while it is being provisioned or is unknown, 422
    /// `ConcurrencyError` while it is being updated (OSB).
    pub async fn instance(&self, instance_id: &str) -> Result<InstanceView> {
        self.deployed().await?;
        let store = self.store().broker();
        let instance = store
            .instance(instance_id)
            .await?
            .ok_or_else(|| refusals::not_found(format!("instance {instance_id} does not exist")))?;
        if let Some(op) = store.latest_operation(instance_id).await? {
            if op.state == "in progress" {
                return Err(match op.kind.as_str() {
                    "create" => {
                        refusals::not_found(format!("instance {instance_id} is being provisioned"))
                    }
                    _ => refusals::concurrency(),
                });
            }
        }
        Ok(InstanceView {
            service_id: instance.service_id,
            plan_id: instance.plan_id,
            dashboard_url: dashboard(instance.manifest.as_deref()),
            parameters: serde_json::from_str(&instance.parameters).unwrap_or(json!({})),
        })
    }

    /// ODB's upgrade of one instance (the management API's `operation_type=upgrade`, and each
    /// cluster of upgrade-all): its manifest generated again from `config`'s catalog — its
    /// plan as the catalog has it now, its parameters, its previous manifest and plan — and
    /// deployed, then the plan's post-deploy errands. `config` is passed in because the
    /// upgrade-all errand runs before Apply Changes records the new PKS deployment.
    pub async fn upgrade_instance(
        &self,
        config: &BrokerConfig,
        instance_id: &str,
    ) -> Result<OperationToken> {
        let _turn = self.inner.locks.lock(instance_id).await;
        let instance = self.idle_instance(instance_id).await?;
        let plan = current_plan(config, &instance.plan_id)?;
        let parameters: Map<String, Value> =
            serde_json::from_str(&instance.parameters).unwrap_or_default();
        let previous_plan: Option<odb::Plan> = instance
            .manifest_plan
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok());
        let adapter_plan = config.catalog.adapter_plan(plan);
        let generated = odb::generate_manifest(&odb::GenerateManifestInput {
            service_deployment: config.service_deployment(instance_id),
            plan: adapter_plan.clone(),
            request_parameters: json!({
                "service_id": instance.service_id,
                "plan_id": instance.plan_id,
                "parameters": parameters,
                "previous_values": {"plan_id": instance.plan_id},
            }),
            previous_manifest: instance.manifest.clone(),
            previous_plan,
        })
        .map_err(refusals::from_adapter)?;
        self.inner
            .warnings
            .log(&instance.plan_id, instance_id, &generated.warnings);
        let op = self
            .start_deploy(
                config,
                instance_id,
                OperationKind::Upgrade,
                plan,
                &plan_text(&adapter_plan),
                &instance.parameters,
                &generated.manifest,
                catalog_version(config, plan),
            )
            .await?;
        Ok(token(&op))
    }

    /// ODB's recreate of one instance: the manifest it last deployed, deployed again with
    /// every VM recreated (`bosh deploy --recreate`), then the plan's post-deploy errands.
    pub async fn recreate_instance(
        &self,
        config: &BrokerConfig,
        instance_id: &str,
    ) -> Result<OperationToken> {
        let _turn = self.inner.locks.lock(instance_id).await;
        let instance = self.idle_instance(instance_id).await?;
        let manifest = instance.manifest.clone().ok_or_else(|| {
            refusals::invalid(
                "instance_id",
                format!("instance {instance_id} was never deployed; there is nothing to recreate"),
            )
        })?;
        let plan = current_plan(config, &instance.plan_id)?;
        let op = self
            .start_deploy(
                config,
                instance_id,
                OperationKind::Recreate,
                plan,
                instance.manifest_plan.as_deref().unwrap_or("{}"),
                &instance.parameters,
                &manifest,
                // The same manifest again: what it runs does not change.
                instance.maintenance_version.clone(),
            )
            .await?;
        Ok(token(&op))
    }

    /// The instance, refused as unknown (404) or busy (`ConcurrencyError`).
    async fn idle_instance(&self, instance_id: &str) -> Result<InstanceRow> {
        let instance = self
            .store()
            .broker()
            .instance(instance_id)
            .await?
            .ok_or_else(|| refusals::not_found(format!("instance {instance_id} does not exist")))?;
        if busy(self, instance_id).await? {
            return Err(refusals::concurrency());
        }
        Ok(instance)
    }

    /// Records a deploy operation (the plan's post-deploy errands after it), starts its deploy
    /// task and hands the rest to the runner. The releases and stemcell are made sure of first.
    #[allow(clippy::too_many_arguments)]
    async fn start_deploy(
        &self,
        config: &BrokerConfig,
        instance_id: &str,
        kind: OperationKind,
        plan: &CatalogPlan,
        manifest_plan: &str,
        parameters: &str,
        manifest: &str,
        maintenance_version: Option<String>,
    ) -> Result<OperationRow> {
        let mut steps = vec![Step::Deploy];
        if let Some(errands) = &plan.lifecycle_errands {
            steps.extend(errands.post_deploy.iter().map(|e| Step::Errand {
                name: e.name.clone(),
                instances: e.instances.clone(),
            }));
        }
        let row = OperationRow {
            id: 0,
            instance_id: instance_id.to_owned(),
            kind: kind.as_str().into(),
            state: OperationState::InProgress.as_str().into(),
            plan_id: plan.plan_id.clone(),
            parameters: parameters.to_owned(),
            manifest: Some(manifest.to_owned()),
            manifest_plan: Some(manifest_plan.to_owned()),
            steps: serde_json::to_string(&steps).unwrap_or_else(|_| "[]".into()),
            step: 0,
            task_id: None,
            error: None,
            started_at: now(),
            finished_at: None,
            maintenance_version,
        };
        runner::ensure_uploads(self, config).await?;
        let store = self.store().broker();
        let id = store
            .start_operation(&row)
            .await?
            .ok_or_else(refusals::concurrency)?;
        runner::claim(self, id).await?;
        match runner::deploy(self, id, manifest, kind == OperationKind::Recreate).await {
            Ok(task) => {
                let task = i64::try_from(task).unwrap_or(0);
                store.set_operation_step(id, 0, Some(task)).await?;
                runner::spawn(self, id);
                Ok(OperationRow {
                    id,
                    task_id: Some(task),
                    ..row
                })
            }
            Err(e) => {
                store
                    .finish_operation(id, "failed", Some(&e.to_string()), &now())
                    .await?;
                Err(e)
            }
        }
    }
}

/// The `maintenance_info.version` the catalog offers for `plan` now: what a manifest rendered
/// now runs.
fn catalog_version(config: &BrokerConfig, plan: &CatalogPlan) -> Option<String> {
    config
        .catalog
        .maintenance_info(plan)
        .and_then(|m| m.version)
}

/// A plan as the `manifest_plan` columns keep it.
fn plan_text(plan: &odb::Plan) -> String {
    serde_json::to_string(plan).unwrap_or_default()
}

/// Whether the instance has an operation in progress.
async fn busy(broker: &Broker, instance_id: &str) -> Result<bool> {
    Ok(broker
        .store()
        .broker()
        .latest_operation(instance_id)
        .await?
        .is_some_and(|op| op.state == "in progress"))
}

fn check_service(config: &BrokerConfig, service_id: &str) -> Result<()> {
    if service_id != config.catalog.id {
        return Err(refusals::bad_request(
            "service_id",
            format!("{service_id:?} is not a service of this broker"),
        ));
    }
    Ok(())
}

fn known_plan<'a>(config: &'a BrokerConfig, plan_id: &str) -> Result<&'a CatalogPlan> {
    config.catalog.plan(plan_id).ok_or_else(|| {
        refusals::bad_request(
            "plan_id",
            format!("{plan_id:?} is not a plan of this service"),
        )
    })
}

/// An instance's plan in `config`'s catalog; a plan the catalog no longer has is refused
/// naming it (the tile's plan was deactivated: the cluster cannot be re-rendered).
fn current_plan<'a>(config: &'a BrokerConfig, plan_id: &str) -> Result<&'a CatalogPlan> {
    config.catalog.plan(plan_id).ok_or_else(|| {
        refusals::invalid(
            "plan_id",
            format!("plan {plan_id} is no longer in the catalog; the cluster cannot be upgraded"),
        )
    })
}

/// A request naming a `maintenance_info.version` must name the plan's.
fn check_maintenance_info(
    config: &BrokerConfig,
    plan: &CatalogPlan,
    asked: Option<&str>,
) -> Result<()> {
    let Some(asked) = asked else {
        return Ok(());
    };
    let offered = config
        .catalog
        .maintenance_info(plan)
        .and_then(|m| m.version)
        .unwrap_or_default();
    if asked != offered {
        return Err(refusals::maintenance_info_conflict(asked, &offered));
    }
    Ok(())
}

fn dashboard(manifest: Option<&str>) -> Option<String> {
    manifest.and_then(|m| odb::dashboard_url(m).ok().flatten())
}

/// The OSB token of an operation.
fn token(op: &OperationRow) -> OperationToken {
    OperationToken {
        bosh_task_id: op.task_id.and_then(|t| u64::try_from(t).ok()).unwrap_or(0),
        bosh_context_id: context_id(op.id),
        operation_type: op.kind.clone(),
        plan_id: op.plan_id.clone(),
        operation_id: op.id,
    }
}
