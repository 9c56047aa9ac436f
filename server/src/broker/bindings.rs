//! Bindings: `PUT`/`GET`/`DELETE /v2/service_instances/:id/service_bindings/:binding_id`.
//! A binding is synchronous (ODB answers `201` with the credentials): its credentials are a
//! kubeconfig from the service adapter (`tiles::odb::create_binding`) for the cluster's
//! deployed manifest, its master VMs' addresses (from the Director) and the instance's binding
//! secrets (see the note in [`super`]). Credentials are kept sealed, so fetching a binding and
//! repeating an identical bind give the same ones.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use tiles::odb;

use super::catalog::INSTANCE_PREFIX;
use super::{now, refusals, Broker};
use crate::store::broker::BindingRow;
use crate::{Error, Result};

/// `PUT …/service_bindings/:binding_id`.
#[derive(Debug, Clone, Default)]
pub struct Bind {
    pub instance_id: String,
    pub binding_id: String,
    pub service_id: String,
    pub plan_id: String,
    pub app_guid: Option<String>,
    pub bind_resource: Option<Value>,
    pub parameters: Map<String, Value>,
}

/// What a bind found or made.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// `201`: a new binding and its credentials.
    Created(Value),
    /// `200`: the same binding asked for again.
    Exists(Value),
}

impl Broker {
    pub async fn bind(&self, b: Bind) -> Result<Bound> {
        let config = self.deployed().await?;
        if b.service_id != config.catalog.id {
            return Err(refusals::bad_request(
                "service_id",
                format!("{:?} is not a service of this broker", b.service_id),
            ));
        }
        if config.catalog.plan(&b.plan_id).is_none() {
            return Err(refusals::bad_request(
                "plan_id",
                format!("{:?} is not a plan of this service", b.plan_id),
            ));
        }
        if let Some(name) = b.parameters.keys().next() {
            // The plans' binding schema takes no parameters.
            return Err(refusals::invalid(
                name,
                "bindings of this service take no parameters",
            ));
        }
        let _turn = self.inner.locks.lock(&b.instance_id).await;
        let store = self.store().broker();
        let instance = store.instance(&b.instance_id).await?.ok_or_else(|| {
            refusals::not_found(format!("instance {} does not exist", b.instance_id))
        })?;
        let request = json!({
            "service_id": b.service_id,
            "plan_id": b.plan_id,
            "app_guid": b.app_guid,
            "bind_resource": b.bind_resource,
            "parameters": b.parameters,
        });
        if let Some(existing) = store.binding(&b.instance_id, &b.binding_id).await? {
            if serde_json::from_str::<Value>(&existing.request).ok() != Some(request) {
                return Err(refusals::conflict(format!(
                    "binding {} exists with other attributes",
                    b.binding_id
                )));
            }
            return Ok(Bound::Exists(self.open(&existing.credentials)?));
        }
        if let Some(op) = store.latest_operation(&b.instance_id).await? {
            if op.state == "in progress" {
                return Err(refusals::concurrency());
            }
        }
        let manifest = instance.manifest.clone().ok_or_else(|| {
            refusals::invalid(
                "instance_id",
                format!(
                    "instance {} has no deployed cluster to bind to",
                    b.instance_id
                ),
            )
        })?;
        let deployment = format!("{INSTANCE_PREFIX}{}", b.instance_id);
        let mut bosh_vms: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for i in self.director().instances(&deployment, |_| {}).await? {
            bosh_vms.entry(i.job_name).or_default().extend(i.ips);
        }
        let secrets = self.binding_secrets(&b.instance_id).await?;
        let binding = odb::create_binding(&odb::BindingRequest {
            binding_id: b.binding_id.clone(),
            manifest,
            bosh_vms,
            secrets,
        })
        .map_err(refusals::from_adapter)?;
        let sealed = self
            .inner
            .installations
            .products()
            .sealer()
            .seal_json(&binding)?;
        let inserted = store
            .insert_binding(&BindingRow {
                instance_id: b.instance_id.clone(),
                binding_id: b.binding_id.clone(),
                request: request.to_string(),
                credentials: sealed,
                created_at: now(),
            })
            .await?;
        if !inserted {
            return Err(refusals::conflict(format!(
                "binding {} exists",
                b.binding_id
            )));
        }
        Ok(Bound::Created(binding))
    }

    /// `DELETE …/service_bindings/:binding_id`: 410 when there is no such binding.
    pub async fn unbind(&self, instance_id: &str, binding_id: &str) -> Result<()> {
        self.deployed().await?;
        let _turn = self.inner.locks.lock(instance_id).await;
        if !self
            .store()
            .broker()
            .delete_binding(instance_id, binding_id)
            .await?
        {
            return Err(refusals::gone());
        }
        Ok(())
    }

    /// `GET …/service_bindings/:binding_id`: the binding's credentials, 404 when unknown.
    pub async fn binding(&self, instance_id: &str, binding_id: &str) -> Result<Value> {
        self.deployed().await?;
        let row = self
            .store()
            .broker()
            .binding(instance_id, binding_id)
            .await?
            .ok_or_else(|| refusals::not_found(format!("binding {binding_id} does not exist")))?;
        self.open(&row.credentials)
    }

    fn open(&self, sealed: &[u8]) -> Result<Value> {
        self.inner
            .installations
            .products()
            .sealer()
            .open_json(sealed)
    }

    /// The instance's binding secrets, made on the first bind: an admin token and a CA.
    async fn binding_secrets(&self, instance_id: &str) -> Result<Map<String, Value>> {
        let store = self.store().broker();
        let existing = store
            .instance(instance_id)
            .await?
            .and_then(|i| i.binding_secrets);
        let sealed = match existing {
            Some(s) => s,
            None => {
                let made = tokio::task::spawn_blocking(make_secrets)
                    .await
                    .map_err(|e| Error::Internal(format!("making binding secrets: {e}")))??;
                let sealed = self
                    .inner
                    .installations
                    .products()
                    .sealer()
                    .seal_json(&Value::Object(made))?;
                store
                    .binding_secrets(instance_id, &sealed)
                    .await?
                    .unwrap_or(sealed)
            }
        };
        match self.open(&sealed)? {
            Value::Object(m) => Ok(m),
            _ => Err(Error::Internal(format!(
                "the binding secrets of {instance_id} are not an object"
            ))),
        }
    }
}

fn make_secrets() -> Result<Map<String, Value>> {
    use rand::rngs::OsRng;
    let mut rng = OsRng;
    let ca = tiles::credentials::CertificateAuthority::generate(
        "kubo-ca",
        "Tileworks",
        crate::store::unix_now(),
        &mut rng,
    )
    .map_err(|e| Error::Internal(format!("generating a cluster CA: {e}")))?;
    let token = tiles::credentials::random_password(&mut rng, tiles::credentials::PASSWORD_LENGTH);
    let mut out = Map::new();
    out.insert("kubo-admin-password".into(), Value::from(token));
    out.insert("kubo_ca.certificate".into(), Value::from(ca.cert_pem));
    Ok(out)
}
