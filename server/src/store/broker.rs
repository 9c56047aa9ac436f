//! The on-demand broker's tables: service instances, their operations and their bindings
//! (migrations/0008_broker.sql). JSON columns are written and read by `crate::broker`, the only
//! caller, which seals the binding credentials itself.
//!
//! The cluster manifests and the plans they were rendered from (`manifest`, `manifest_plan`
//! of instances and operations) are sealed here, under the data key, on every write and opened
//! on every read: they carry the PKS tile's credentials (the cloud provider's password in the
//! Kubernetes cloud config), and no path should be able to forget. A sealed column holds
//! [`SEALED_TEXT`] and the sealed bytes in base64; a value without that prefix was written
//! before sealing and is read as it is.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sqlx::AnyPool;

use super::sealing::Sealer;
use crate::{Error, Result};

/// How a sealed text column's value starts (neither a YAML manifest nor a JSON plan does).
pub const SEALED_TEXT: &str = "sealed:";

/// One service instance (a Kubernetes cluster).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InstanceRow {
    pub id: String,
    pub service_id: String,
    pub plan_id: String,
    pub request: String,
    pub parameters: String,
    pub manifest: Option<String>,
    pub manifest_plan: Option<String>,
    pub binding_secrets: Option<Vec<u8>>,
    pub created_at: String,
    pub updated_at: String,
    /// The cluster's name in the PKS API (unique), `None` for an OSB-only instance.
    pub cluster_name: Option<String>,
    /// Who created the cluster through the PKS API (a user or client name).
    pub created_by: Option<String>,
    /// The catalog `maintenance_info.version` its deployed manifest was rendered under.
    pub maintenance_version: Option<String>,
}

/// One operation on an instance.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OperationRow {
    pub id: i64,
    pub instance_id: String,
    pub kind: String,
    pub state: String,
    pub plan_id: String,
    pub parameters: String,
    pub manifest: Option<String>,
    pub manifest_plan: Option<String>,
    pub steps: String,
    pub step: i64,
    pub task_id: Option<i64>,
    pub error: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    /// The catalog `maintenance_info.version` the manifest was rendered under (a recreate:
    /// the instance's).
    pub maintenance_version: Option<String>,
}

/// One binding.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BindingRow {
    pub instance_id: String,
    pub binding_id: String,
    pub request: String,
    pub credentials: Vec<u8>,
    pub created_at: String,
}

/// Instance limits a new instance must fit in (`None`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub global: Option<i64>,
    pub plan: Option<i64>,
}

const INSTANCE_COLUMNS: &str = "id, service_id, plan_id, request, parameters, manifest, \
     manifest_plan, binding_secrets, created_at, updated_at, cluster_name, created_by, \
     maintenance_version";
const OPERATION_COLUMNS: &str = "id, instance_id, kind, state, plan_id, parameters, manifest, \
     manifest_plan, steps, step, task_id, error, started_at, finished_at, maintenance_version";

pub struct Broker<'a> {
    pool: &'a AnyPool,
    /// `None` until the data key is open (nothing reads or writes manifests before).
    sealer: Option<&'a Sealer>,
}

impl<'a> Broker<'a> {
    pub(super) fn new(pool: &'a AnyPool, sealer: Option<&'a Sealer>) -> Self {
        Broker { pool, sealer }
    }

    fn sealer(&self) -> Result<&'a Sealer> {
        self.sealer.ok_or_else(|| {
            Error::Internal(
                "cluster manifests are sealed under the data key, which is not open".into(),
            )
        })
    }

    /// A manifest or plan as its column keeps it: sealed.
    fn sealed(&self, text: Option<&str>) -> Result<Option<String>> {
        let Some(text) = text else { return Ok(None) };
        let sealed = self.sealer()?.seal(text.as_bytes())?;
        Ok(Some(format!("{SEALED_TEXT}{}", STANDARD.encode(sealed))))
    }

    /// A manifest or plan column's value opened (one written before sealing as it is).
    fn opened(&self, stored: Option<String>) -> Result<Option<String>> {
        let Some(stored) = stored else {
            return Ok(None);
        };
        let Some(encoded) = stored.strip_prefix(SEALED_TEXT) else {
            return Ok(Some(stored));
        };
        let sealed = STANDARD.decode(encoded).map_err(|e| {
            Error::Internal(format!("a sealed cluster manifest is not base64: {e}"))
        })?;
        let plain = self.sealer()?.open_sealed(&sealed)?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|e| Error::Internal(format!("a sealed cluster manifest is not UTF-8: {e}")))
    }

    fn opened_instance(&self, mut row: InstanceRow) -> Result<InstanceRow> {
        row.manifest = self.opened(row.manifest.take())?;
        row.manifest_plan = self.opened(row.manifest_plan.take())?;
        Ok(row)
    }

    fn opened_operation(&self, mut row: OperationRow) -> Result<OperationRow> {
        row.manifest = self.opened(row.manifest.take())?;
        row.manifest_plan = self.opened(row.manifest_plan.take())?;
        Ok(row)
    }

    pub async fn instance(&self, id: &str) -> Result<Option<InstanceRow>> {
        sqlx::query_as::<_, InstanceRow>(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM broker_instances WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?
        .map(|row| self.opened_instance(row))
        .transpose()
    }

    /// The instance named `name` in the PKS API.
    pub async fn instance_by_cluster_name(&self, name: &str) -> Result<Option<InstanceRow>> {
        sqlx::query_as::<_, InstanceRow>(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM broker_instances WHERE cluster_name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool)
        .await?
        .map(|row| self.opened_instance(row))
        .transpose()
    }

    /// Every instance, oldest first (the management API's list).
    pub async fn all_instances(&self) -> Result<Vec<InstanceRow>> {
        sqlx::query_as::<_, InstanceRow>(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM broker_instances ORDER BY created_at, id"
        ))
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(|row| self.opened_instance(row))
        .collect()
    }

    /// Every instance with a PKS cluster name, by name.
    pub async fn named_instances(&self) -> Result<Vec<InstanceRow>> {
        sqlx::query_as::<_, InstanceRow>(&format!(
            "SELECT {INSTANCE_COLUMNS} FROM broker_instances WHERE cluster_name IS NOT NULL
             ORDER BY cluster_name"
        ))
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(|row| self.opened_instance(row))
        .collect()
    }

    /// Inserts an instance if it fits in `limits`, in one statement (so instances provisioned
    /// at once cannot all slip under a limit). `false` when a limit is reached; a cluster name
    /// another instance has is a `Conflict` naming the cluster.
    pub async fn insert_instance_within(&self, row: &InstanceRow, limits: Limits) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO broker_instances (id, service_id, plan_id, request, parameters, manifest,
                 manifest_plan, binding_secrets, created_at, updated_at, cluster_name, created_by,
                 maintenance_version)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
             WHERE ($14 IS NULL OR (SELECT COUNT(*) FROM broker_instances) < $15)
               AND ($16 IS NULL OR (SELECT COUNT(*) FROM broker_instances WHERE plan_id = $17) < $18)",
        )
        .bind(&row.id)
        .bind(&row.service_id)
        .bind(&row.plan_id)
        .bind(&row.request)
        .bind(&row.parameters)
        .bind(self.sealed(row.manifest.as_deref())?)
        .bind(self.sealed(row.manifest_plan.as_deref())?)
        .bind(&row.binding_secrets)
        .bind(&row.created_at)
        .bind(&row.updated_at)
        .bind(&row.cluster_name)
        .bind(&row.created_by)
        .bind(&row.maintenance_version)
        .bind(limits.global)
        .bind(limits.global)
        .bind(limits.plan)
        .bind(&row.plan_id)
        .bind(limits.plan)
        .execute(self.pool)
        .await;
        match done {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(crate::Error::Conflict(match &row.cluster_name {
                    Some(name) => format!("cluster '{name}'"),
                    None => format!("instance {}", row.id),
                }))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// How many instances there are, all plans and of `plan_id`.
    pub async fn counts(&self, plan_id: &str) -> Result<(i64, i64)> {
        let all = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM broker_instances")
            .fetch_one(self.pool)
            .await?;
        let plan = sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM broker_instances WHERE plan_id = $1",
        )
        .bind(plan_id)
        .fetch_one(self.pool)
        .await?;
        Ok((all, plan))
    }

    /// Removes an instance and its bindings (its operations stay, for `last_operation`).
    pub async fn delete_instance(&self, id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM broker_bindings WHERE instance_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM broker_instances WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Seals the manifests and plans that rows written before sealing still hold as they are;
    /// how many values it sealed. Run at start (a no-op once done). The old text may linger in
    /// the database file's free pages until SQLite reuses them (or a `VACUUM`).
    pub async fn seal_plaintext(&self) -> Result<u64> {
        let mut sealed = 0;
        for (table, key) in [
            ("broker_instances", "id"),
            ("broker_operations", "CAST(id AS TEXT)"),
        ] {
            let rows: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(&format!(
                "SELECT {key}, manifest, manifest_plan FROM {table}
                 WHERE (manifest IS NOT NULL AND manifest NOT LIKE 'sealed:%')
                    OR (manifest_plan IS NOT NULL AND manifest_plan NOT LIKE 'sealed:%')"
            ))
            .fetch_all(self.pool)
            .await?;
            for (id, manifest, plan) in rows {
                let reseal = |text: Option<String>| -> Result<Option<String>> {
                    match text {
                        Some(t) if !t.starts_with(SEALED_TEXT) => self.sealed(Some(&t)),
                        other => Ok(other),
                    }
                };
                sqlx::query(&format!(
                    "UPDATE {table} SET manifest = $1, manifest_plan = $2 WHERE {key} = $3"
                ))
                .bind(reseal(manifest)?)
                .bind(reseal(plan)?)
                .bind(id)
                .execute(self.pool)
                .await?;
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    /// Records what a successful deploy put in place.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_deployed(
        &self,
        id: &str,
        plan_id: &str,
        parameters: &str,
        manifest: &str,
        manifest_plan: &str,
        maintenance_version: Option<&str>,
        now: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE broker_instances SET plan_id = $1, parameters = $2, manifest = $3,
                 manifest_plan = $4, maintenance_version = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(plan_id)
        .bind(parameters)
        .bind(self.sealed(Some(manifest))?)
        .bind(self.sealed(Some(manifest_plan))?)
        .bind(maintenance_version)
        .bind(now)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Stores the binding secrets of an instance unless it has some already; the stored ones.
    pub async fn binding_secrets(&self, id: &str, sealed: &[u8]) -> Result<Option<Vec<u8>>> {
        sqlx::query(
            "UPDATE broker_instances SET binding_secrets = $1
             WHERE id = $2 AND binding_secrets IS NULL",
        )
        .bind(sealed)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(sqlx::query_scalar::<_, Option<Vec<u8>>>(
            "SELECT binding_secrets FROM broker_instances WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool)
        .await?
        .flatten())
    }

    /// Starts an operation: `None` when the instance has one in progress already (the unique
    /// index on in-progress operations decides, whatever the callers race).
    pub async fn start_operation(&self, row: &OperationRow) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO broker_operations (instance_id, kind, state, plan_id, parameters,
                 manifest, manifest_plan, steps, step, task_id, error, started_at, finished_at,
                 maintenance_version)
             VALUES ($1, $2, 'in progress', $3, $4, $5, $6, $7, $8, $9, NULL, $10, NULL, $11)
             ON CONFLICT DO NOTHING
             RETURNING id",
        )
        .bind(&row.instance_id)
        .bind(&row.kind)
        .bind(&row.plan_id)
        .bind(&row.parameters)
        .bind(self.sealed(row.manifest.as_deref())?)
        .bind(self.sealed(row.manifest_plan.as_deref())?)
        .bind(&row.steps)
        .bind(row.step)
        .bind(row.task_id)
        .bind(&row.started_at)
        .bind(&row.maintenance_version)
        .fetch_optional(self.pool)
        .await?)
    }

    pub async fn operation(&self, id: i64) -> Result<Option<OperationRow>> {
        sqlx::query_as::<_, OperationRow>(&format!(
            "SELECT {OPERATION_COLUMNS} FROM broker_operations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?
        .map(|row| self.opened_operation(row))
        .transpose()
    }

    /// The instance's most recent operation.
    pub async fn latest_operation(&self, instance_id: &str) -> Result<Option<OperationRow>> {
        sqlx::query_as::<_, OperationRow>(&format!(
            "SELECT {OPERATION_COLUMNS} FROM broker_operations WHERE instance_id = $1
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(instance_id)
        .fetch_optional(self.pool)
        .await?
        .map(|row| self.opened_operation(row))
        .transpose()
    }

    /// The instance's operations, newest first (a cluster's history).
    pub async fn operations_of(&self, instance_id: &str) -> Result<Vec<OperationRow>> {
        sqlx::query_as::<_, OperationRow>(&format!(
            "SELECT {OPERATION_COLUMNS} FROM broker_operations WHERE instance_id = $1
             ORDER BY id DESC"
        ))
        .bind(instance_id)
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(|row| self.opened_operation(row))
        .collect()
    }

    /// Every operation still in progress (to follow again after a restart).
    pub async fn operations_in_progress(&self) -> Result<Vec<OperationRow>> {
        sqlx::query_as::<_, OperationRow>(&format!(
            "SELECT {OPERATION_COLUMNS} FROM broker_operations WHERE state = 'in progress'
             ORDER BY id"
        ))
        .fetch_all(self.pool)
        .await?
        .into_iter()
        .map(|row| self.opened_operation(row))
        .collect()
    }

    /// The operation reached `step` and started its Director task `task_id` (`None` before the
    /// task started).
    pub async fn set_operation_step(&self, id: i64, step: i64, task_id: Option<i64>) -> Result<()> {
        sqlx::query("UPDATE broker_operations SET step = $1, task_id = $2 WHERE id = $3")
            .bind(step)
            .bind(task_id)
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Ends an in-progress operation `succeeded` or `failed` (with why).
    pub async fn finish_operation(
        &self,
        id: i64,
        state: &str,
        error: Option<&str>,
        now: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE broker_operations SET state = $1, error = $2, finished_at = $3
             WHERE id = $4 AND state = 'in progress'",
        )
        .bind(state)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn binding(&self, instance_id: &str, binding_id: &str) -> Result<Option<BindingRow>> {
        Ok(sqlx::query_as::<_, BindingRow>(
            "SELECT instance_id, binding_id, request, credentials, created_at
             FROM broker_bindings WHERE instance_id = $1 AND binding_id = $2",
        )
        .bind(instance_id)
        .bind(binding_id)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Inserts a binding; `false` when one with that id exists.
    pub async fn insert_binding(&self, row: &BindingRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO broker_bindings (instance_id, binding_id, request, credentials, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(&row.instance_id)
        .bind(&row.binding_id)
        .bind(&row.request)
        .bind(&row.credentials)
        .bind(&row.created_at)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Deletes a binding; `false` when there was none.
    pub async fn delete_binding(&self, instance_id: &str, binding_id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM broker_bindings WHERE instance_id = $1 AND binding_id = $2")
                .bind(instance_id)
                .bind(binding_id)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sealing::Key32;
    use crate::store::Store;

    fn instance(id: &str, manifest: &str) -> InstanceRow {
        InstanceRow {
            id: id.into(),
            service_id: "s".into(),
            plan_id: "p".into(),
            request: "{}".into(),
            parameters: "{}".into(),
            manifest: Some(manifest.into()),
            manifest_plan: Some(r#"{"password":"plan-secret-value"}"#.into()),
            binding_secrets: None,
            created_at: "2026-12-06T00:00:00Z".into(),
            updated_at: "2026-12-06T00:00:00Z".into(),
            cluster_name: None,
            created_by: None,
            maintenance_version: None,
        }
    }

    /// What the columns hold, as a copy of the database would show them.
    async fn stored(store: &Store, id: &str) -> (String, String) {
        sqlx::query_as("SELECT manifest, manifest_plan FROM broker_instances WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn manifests_are_sealed_at_rest_and_old_plaintext_rows_are_sealed_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let manifest = "name: service-instance_a\npassword: manifest-secret-value\n";

        // Before the data key is open nothing is written in plaintext: the write is refused.
        assert!(store
            .broker()
            .insert_instance_within(&instance("a", manifest), Limits::default())
            .await
            .is_err());

        store.seal_at_rest_with(Sealer::new(&Key32::generate()));
        let broker = store.broker();
        assert!(broker
            .insert_instance_within(&instance("a", manifest), Limits::default())
            .await
            .unwrap());
        let (m, p) = stored(&store, "a").await;
        assert!(m.starts_with(SEALED_TEXT) && p.starts_with(SEALED_TEXT));
        assert!(!m.contains("manifest-secret-value") && !p.contains("plan-secret-value"));
        let read = broker.instance("a").await.unwrap().unwrap();
        assert_eq!(read.manifest.as_deref(), Some(manifest));
        assert_eq!(read, instance("a", manifest));

        // A row an older Tileworks wrote in plaintext is read as it is, and sealed at start.
        sqlx::query("UPDATE broker_instances SET manifest = $1, manifest_plan = $2 WHERE id = $3")
            .bind(manifest)
            .bind(r#"{"password":"plan-secret-value"}"#)
            .bind("a")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(
            broker.instance("a").await.unwrap().unwrap(),
            instance("a", manifest)
        );
        assert_eq!(broker.seal_plaintext().await.unwrap(), 1);
        assert_eq!(broker.seal_plaintext().await.unwrap(), 0, "done once");
        let (m, p) = stored(&store, "a").await;
        assert!(m.starts_with(SEALED_TEXT) && p.starts_with(SEALED_TEXT));
        assert_eq!(
            broker.instance("a").await.unwrap().unwrap(),
            instance("a", manifest)
        );

        // Under another key, a sealed manifest does not open.
        let other = Store::open(dir.path()).await.unwrap();
        other.seal_at_rest_with(Sealer::new(&Key32::generate()));
        assert!(other.broker().instance("a").await.is_err());
    }
}
