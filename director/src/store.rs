//! The store: every database access of the Director goes through here. One SQLite file in the
//! data dir (WAL), runtime queries only, migrations in `director/migrations`. Rows are plain
//! structs; JSON-valued columns (IPs, job lists, contexts) are kept as text.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Row;

use crate::error::{Error, Result};

/// The database file's name inside the data dir.
pub const DATABASE_FILE: &str = "director.db";

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub id: i64,
    pub state: String,
    pub description: String,
    pub deployment: Option<String>,
    pub user: String,
    pub context_id: String,
    pub result: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl TaskRow {
    /// The task as `GET /tasks/:id` shows it.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "state": self.state,
            "description": self.description,
            "timestamp": self.finished_at.unwrap_or(self.created_at),
            "started_at": self.started_at.unwrap_or(0),
            "result": self.result.clone().unwrap_or_default(),
            "user": self.user,
            "deployment": self.deployment.clone().unwrap_or_default(),
            "context_id": self.context_id,
        })
    }

    pub fn is_finished(&self) -> bool {
        matches!(
            self.state.as_str(),
            "done" | "error" | "cancelled" | "timeout"
        )
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeploymentRow {
    pub name: String,
    pub manifest: String,
    pub releases: String,
    pub stemcells: String,
    pub cloud_config_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One instance of an instance group and the simulated VM and disk behind it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Instance {
    pub id: String,
    pub deployment: String,
    pub instance_group: String,
    pub idx: i64,
    pub az: Option<String>,
    /// JSON list of IP strings.
    pub ips: String,
    pub vm_cid: Option<String>,
    pub agent_id: Option<String>,
    pub vm_created_at: Option<i64>,
    pub disk_cid: Option<String>,
    pub disk_size: i64,
    /// `started`, `stopped` or `detached` (the desired job state).
    pub state: String,
    pub spec_hash: String,
    pub vm_hash: String,
    pub vm_type: Option<String>,
    pub stemcell: Option<String>,
    pub cloud_properties: String,
    pub lifecycle: String,
    pub bootstrap: bool,
    /// JSON list of job names.
    pub jobs: String,
    /// False once the chaos endpoint killed the VM: its agent stops sending heartbeats.
    pub agent_alive: bool,
    /// Set by the health monitor when heartbeats stopped.
    pub unresponsive: bool,
    pub ignore_instance: bool,
    pub resurrection_paused: bool,
}

impl Instance {
    /// A new instance (with a fresh id) of `group` in `deployment`, before it has a VM, disk or
    /// IPs: started, alive, a service instance, nothing else set yet.
    pub fn new(deployment: &str, group: &str, idx: i64, az: Option<String>) -> Instance {
        Instance {
            id: uuid::Uuid::new_v4().to_string(),
            deployment: deployment.to_string(),
            instance_group: group.to_string(),
            idx,
            az,
            ips: "[]".into(),
            vm_cid: None,
            agent_id: None,
            vm_created_at: None,
            disk_cid: None,
            disk_size: 0,
            state: "started".into(),
            spec_hash: String::new(),
            vm_hash: String::new(),
            vm_type: None,
            stemcell: None,
            cloud_properties: "{}".into(),
            lifecycle: "service".into(),
            bootstrap: false,
            jobs: "[]".into(),
            agent_alive: true,
            unresponsive: false,
            ignore_instance: false,
            resurrection_paused: false,
        }
    }

    pub fn ip_list(&self) -> Vec<String> {
        serde_json::from_str(&self.ips).unwrap_or_default()
    }

    pub fn job_list(&self) -> Vec<String> {
        serde_json::from_str(&self.jobs).unwrap_or_default()
    }

    /// `group/id (index)`, the way the Director names an instance in task output.
    pub fn label(&self) -> String {
        format!("{}/{} ({})", self.instance_group, self.id, self.idx)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StemcellRow {
    pub name: String,
    pub version: String,
    pub operating_system: String,
    pub cid: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReleaseRow {
    pub name: String,
    pub version: String,
    pub commit_hash: String,
    pub uncommitted_changes: bool,
    pub jobs: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConfigRow {
    pub id: i64,
    #[sqlx(rename = "type")]
    pub config_type: String,
    pub name: String,
    pub content: String,
    pub deleted: bool,
    pub created_at: i64,
}

impl ConfigRow {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id.to_string(),
            "type": self.config_type,
            "name": self.name,
            "content": self.content,
            "created_at": iso_time(self.created_at),
            "team": null,
            "current": !self.deleted,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VariableRow {
    pub id: i64,
    pub deployment: String,
    pub name: String,
    pub var_type: String,
    pub nonce: Vec<u8>,
    pub sealed: Vec<u8>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub timestamp: i64,
    pub user: String,
    pub action: String,
    pub object_type: String,
    pub object_name: Option<String>,
    pub task: Option<String>,
    pub deployment: Option<String>,
    pub instance: Option<String>,
    pub context: String,
    pub error: Option<String>,
}

impl EventRow {
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id.to_string(),
            "timestamp": self.timestamp,
            "user": self.user,
            "action": self.action,
            "object_type": self.object_type,
            "object_name": self.object_name,
            "task": self.task,
            "deployment": self.deployment,
            "instance": self.instance,
            "context": serde_json::from_str::<Value>(&self.context).unwrap_or(Value::Null),
            "error": self.error,
        })
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProblemRow {
    pub id: i64,
    pub deployment: String,
    #[sqlx(rename = "type")]
    pub problem_type: String,
    pub description: String,
    pub instance_group: String,
    pub instance_id: String,
    pub data: String,
    pub resolved: bool,
    pub created_at: i64,
}

/// RFC 3339 UTC time (`2024-01-02T03:04:05Z`), what the Director sends for `vm_created_at`
/// and what the Go CLI parses.
pub fn rfc3339(unix: i64) -> String {
    let text = iso_time(unix);
    format!("{}Z", text.trim_end_matches(" UTC").replacen(' ', "T", 1))
}

/// Reads an RFC 3339 time (`2024-01-02T03:04:05Z`, `...+01:00`, fractions ignored), what the CLI
/// sends for `recreate_vms_created_before`, as Unix seconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_suffix(" UTC").unwrap_or(text);
    let (date, rest) = text.split_once(['T', 't', ' '])?;
    let mut d = date.splitn(3, '-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let time_len = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, zone) = rest.split_at(time_len);
    let time = time.split('.').next()?.trim();
    let zone = zone.trim();
    let mut t = time.splitn(3, ':');
    let hh: i64 = t.next()?.parse().ok()?;
    let mm: i64 = t.next()?.parse().ok()?;
    let ss: i64 = t.next().unwrap_or("0").parse().ok()?;
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let offset = match zone {
        "" | "Z" | "z" => 0,
        z => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let (oh, om) = z
                .get(1..)?
                .split_once(':')
                .unwrap_or((z.get(1..3)?, z.get(3..)?));
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
    };
    // Days since 1970-01-01 from a civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// Ruby's `Time#to_s` in UTC (`2024-01-02 03:04:05 UTC`), the Director's `created_at` of configs.
pub fn iso_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and applies pending migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        let url = format!("sqlite://{}", data_dir.join(DATABASE_FILE).display());
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| Error::Config(format!("database path {url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- settings ------------------------------------------------------------------------

    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- tasks ---------------------------------------------------------------------------

    pub async fn create_task(
        &self,
        description: &str,
        deployment: Option<&str>,
        user: &str,
        context_id: &str,
    ) -> Result<i64> {
        let id = sqlx::query(
            "INSERT INTO tasks (state, description, deployment, user, context_id, created_at) \
             VALUES ('queued', ?, ?, ?, ?, ?)",
        )
        .bind(description)
        .bind(deployment)
        .bind(user)
        .bind(context_id)
        .bind(unix_now())
        .execute(&self.pool)
        .await?
        .last_insert_rowid();
        Ok(id)
    }

    /// Moves a queued task to `processing`; false when it was cancelled meanwhile.
    pub async fn start_task(&self, id: i64) -> Result<bool> {
        let changed = sqlx::query(
            "UPDATE tasks SET state = 'processing', started_at = ? WHERE id = ? AND state = 'queued'",
        )
        .bind(unix_now())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// `bosh cancel-task`: a queued task ends at once (`cancelled`), a processing one moves to
    /// `cancelling`. Returns the new state, or `None` when the task is neither.
    pub async fn cancel_task(&self, id: i64) -> Result<Option<&'static str>> {
        let now = unix_now();
        let queued = sqlx::query(
            "UPDATE tasks SET state = 'cancelled', result = 'task cancelled', finished_at = ?, \
             started_at = ? WHERE id = ? AND state = 'queued'",
        )
        .bind(now)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if queued > 0 {
            return Ok(Some("cancelled"));
        }
        let processing = sqlx::query(
            "UPDATE tasks SET state = 'cancelling' WHERE id = ? AND state = 'processing'",
        )
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok((processing > 0).then_some("cancelling"))
    }

    pub async fn finish_task(&self, id: i64, state: &str, result: &str) -> Result<()> {
        sqlx::query(
            "UPDATE tasks SET state = ?, result = ?, finished_at = ?, \
             started_at = COALESCE(started_at, ?) WHERE id = ?",
        )
        .bind(state)
        .bind(result)
        .bind(unix_now())
        .bind(unix_now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn task(&self, id: i64) -> Result<Option<TaskRow>> {
        Ok(
            sqlx::query_as::<_, TaskRow>("SELECT * FROM tasks WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Tasks newest first, optionally only those in `states` and of one deployment.
    pub async fn tasks(
        &self,
        states: &[String],
        deployment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<TaskRow>> {
        let rows = sqlx::query_as::<_, TaskRow>(
            "SELECT * FROM tasks WHERE (? IS NULL OR deployment = ?) ORDER BY id DESC",
        )
        .bind(deployment)
        .bind(deployment)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|t| states.is_empty() || states.contains(&t.state))
            .take(limit.max(0) as usize)
            .collect())
    }

    /// Tasks that were queued or running when the Director stopped cannot resume: they end in
    /// `error` so clients polling them see a final state.
    pub async fn fail_interrupted_tasks(&self) -> Result<Vec<i64>> {
        let ids = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM tasks WHERE state IN ('queued', 'processing', 'cancelling')",
        )
        .fetch_all(&self.pool)
        .await?;
        for id in &ids {
            self.finish_task(
                *id,
                "error",
                "Director restarted while the task was running",
            )
            .await?;
        }
        Ok(ids)
    }

    // ---- deployments ---------------------------------------------------------------------

    pub async fn deployment(&self, name: &str) -> Result<Option<DeploymentRow>> {
        Ok(
            sqlx::query_as::<_, DeploymentRow>("SELECT * FROM deployments WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn deployments(&self) -> Result<Vec<DeploymentRow>> {
        Ok(
            sqlx::query_as::<_, DeploymentRow>("SELECT * FROM deployments ORDER BY name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn save_deployment(
        &self,
        name: &str,
        manifest: &str,
        releases: &Value,
        stemcells: &Value,
        cloud_config_id: Option<i64>,
    ) -> Result<()> {
        let now = unix_now();
        sqlx::query(
            "INSERT INTO deployments (name, manifest, releases, stemcells, cloud_config_id, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET manifest = excluded.manifest, \
             releases = excluded.releases, stemcells = excluded.stemcells, \
             cloud_config_id = excluded.cloud_config_id, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(manifest)
        .bind(releases.to_string())
        .bind(stemcells.to_string())
        .bind(cloud_config_id)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Creates the deployment row on a first deploy so the deployment is visible while its
    /// first task runs; an existing row is left alone.
    pub async fn ensure_deployment(&self, name: &str, manifest: &str) -> Result<()> {
        let now = unix_now();
        sqlx::query(
            "INSERT INTO deployments (name, manifest, created_at, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(manifest)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_deployment(&self, name: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM deployments WHERE name = ?",
            "DELETE FROM instances WHERE deployment = ?",
            "DELETE FROM variables WHERE deployment = ?",
            "DELETE FROM problems WHERE deployment = ?",
        ] {
            sqlx::query(sql).bind(name).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // ---- instances -----------------------------------------------------------------------

    pub async fn instances(&self, deployment: &str) -> Result<Vec<Instance>> {
        Ok(sqlx::query_as::<_, Instance>(
            "SELECT * FROM instances WHERE deployment = ? ORDER BY instance_group, idx",
        )
        .bind(deployment)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn all_instances(&self) -> Result<Vec<Instance>> {
        Ok(sqlx::query_as::<_, Instance>(
            "SELECT * FROM instances ORDER BY deployment, instance_group, idx",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn instance(&self, id: &str) -> Result<Option<Instance>> {
        Ok(
            sqlx::query_as::<_, Instance>("SELECT * FROM instances WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn save_instance(&self, i: &Instance) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO instances (id, deployment, instance_group, idx, az, ips, vm_cid, \
             agent_id, vm_created_at, disk_cid, disk_size, state, spec_hash, vm_hash, vm_type, stemcell, \
             cloud_properties, lifecycle, bootstrap, jobs, agent_alive, unresponsive, ignore_instance, \
             resurrection_paused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&i.id)
        .bind(&i.deployment)
        .bind(&i.instance_group)
        .bind(i.idx)
        .bind(&i.az)
        .bind(&i.ips)
        .bind(&i.vm_cid)
        .bind(&i.agent_id)
        .bind(i.vm_created_at)
        .bind(&i.disk_cid)
        .bind(i.disk_size)
        .bind(&i.state)
        .bind(&i.spec_hash)
        .bind(&i.vm_hash)
        .bind(&i.vm_type)
        .bind(&i.stemcell)
        .bind(&i.cloud_properties)
        .bind(&i.lifecycle)
        .bind(i.bootstrap)
        .bind(&i.jobs)
        .bind(i.agent_alive)
        .bind(i.unresponsive)
        .bind(i.ignore_instance)
        .bind(i.resurrection_paused)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn delete_instance(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM instances WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_agent_alive(&self, id: &str, alive: bool) -> Result<()> {
        sqlx::query("UPDATE instances SET agent_alive = ? WHERE id = ?")
            .bind(alive)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_unresponsive(&self, id: &str, unresponsive: bool) -> Result<()> {
        sqlx::query("UPDATE instances SET unresponsive = ? WHERE id = ?")
            .bind(unresponsive)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- stemcells and releases ----------------------------------------------------------

    pub async fn add_stemcell(&self, name: &str, version: &str, os: &str, cid: &str) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO stemcells (name, version, operating_system, cid, created_at) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(version)
        .bind(os)
        .bind(cid)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn stemcells(&self) -> Result<Vec<StemcellRow>> {
        Ok(
            sqlx::query_as::<_, StemcellRow>("SELECT * FROM stemcells ORDER BY name, created_at")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn delete_stemcell(&self, name: &str, version: &str) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM stemcells WHERE name = ? AND version = ?")
                .bind(name)
                .bind(version)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    pub async fn add_release(
        &self,
        name: &str,
        version: &str,
        commit_hash: &str,
        jobs: Option<&[String]>,
    ) -> Result<()> {
        let jobs = jobs.map(|j| serde_json::to_string(j).unwrap_or_else(|_| "[]".into()));
        sqlx::query(
            "INSERT OR REPLACE INTO releases (name, version, commit_hash, uncommitted_changes, jobs, created_at) \
             VALUES (?, ?, ?, 0, ?, ?)",
        )
        .bind(name)
        .bind(version)
        .bind(commit_hash)
        .bind(jobs)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn releases(&self) -> Result<Vec<ReleaseRow>> {
        Ok(
            sqlx::query_as::<_, ReleaseRow>("SELECT * FROM releases ORDER BY name, created_at")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn delete_release(&self, name: &str, version: Option<&str>) -> Result<bool> {
        Ok(
            sqlx::query("DELETE FROM releases WHERE name = ? AND (? IS NULL OR version = ?)")
                .bind(name)
                .bind(version)
                .bind(version)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    // ---- configs -------------------------------------------------------------------------

    pub async fn add_config(&self, config_type: &str, name: &str, content: &str) -> Result<i64> {
        Ok(
            sqlx::query(
                "INSERT INTO configs (type, name, content, created_at) VALUES (?, ?, ?, ?)",
            )
            .bind(config_type)
            .bind(name)
            .bind(content)
            .bind(unix_now())
            .execute(&self.pool)
            .await?
            .last_insert_rowid(),
        )
    }

    /// Configs newest first. With `latest`, only the newest undeleted config per (type, name).
    pub async fn configs(
        &self,
        config_type: Option<&str>,
        name: Option<&str>,
        latest: bool,
    ) -> Result<Vec<ConfigRow>> {
        let rows = sqlx::query_as::<_, ConfigRow>(
            "SELECT * FROM configs WHERE (? IS NULL OR type = ?) AND (? IS NULL OR name = ?) \
             ORDER BY id DESC",
        )
        .bind(config_type)
        .bind(config_type)
        .bind(name)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        if !latest {
            return Ok(rows);
        }
        let mut seen = std::collections::HashSet::new();
        Ok(rows
            .into_iter()
            .filter(|r| seen.insert((r.config_type.clone(), r.name.clone())))
            .filter(|r| !r.deleted)
            .collect())
    }

    pub async fn config(&self, id: i64) -> Result<Option<ConfigRow>> {
        Ok(
            sqlx::query_as::<_, ConfigRow>("SELECT * FROM configs WHERE id = ?")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Marks one config deleted; false when it already was.
    pub async fn delete_config_id(&self, id: i64) -> Result<bool> {
        Ok(
            sqlx::query("UPDATE configs SET deleted = 1 WHERE id = ? AND deleted = 0")
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    pub async fn delete_configs(&self, config_type: &str, name: &str) -> Result<bool> {
        let latest = self.configs(Some(config_type), Some(name), true).await?;
        let Some(current) = latest.first() else {
            return Ok(false);
        };
        sqlx::query("UPDATE configs SET deleted = 1 WHERE id = ?")
            .bind(current.id)
            .execute(&self.pool)
            .await?;
        Ok(true)
    }

    // ---- variables -----------------------------------------------------------------------

    pub async fn variable(&self, deployment: &str, name: &str) -> Result<Option<VariableRow>> {
        Ok(sqlx::query_as::<_, VariableRow>(
            "SELECT * FROM variables WHERE deployment = ? AND name = ?",
        )
        .bind(deployment)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn variables(&self, deployment: &str) -> Result<Vec<VariableRow>> {
        Ok(sqlx::query_as::<_, VariableRow>(
            "SELECT * FROM variables WHERE deployment = ? ORDER BY id",
        )
        .bind(deployment)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn add_variable(
        &self,
        deployment: &str,
        name: &str,
        var_type: &str,
        nonce: &[u8],
        sealed: &[u8],
    ) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO variables (deployment, name, var_type, nonce, sealed, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(deployment)
        .bind(name)
        .bind(var_type)
        .bind(nonce)
        .bind(sealed)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- events --------------------------------------------------------------------------

    pub async fn add_event(&self, e: &EventRow) -> Result<i64> {
        Ok(sqlx::query(
            "INSERT INTO events (timestamp, user, action, object_type, object_name, task, deployment, \
             instance, context, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(unix_now())
        .bind(&e.user)
        .bind(&e.action)
        .bind(&e.object_type)
        .bind(&e.object_name)
        .bind(&e.task)
        .bind(&e.deployment)
        .bind(&e.instance)
        .bind(&e.context)
        .bind(&e.error)
        .execute(&self.pool)
        .await?
        .last_insert_rowid())
    }

    pub async fn events(&self, deployment: Option<&str>, limit: i64) -> Result<Vec<EventRow>> {
        Ok(sqlx::query_as::<_, EventRow>(
            "SELECT * FROM events WHERE (? IS NULL OR deployment = ?) ORDER BY id DESC LIMIT ?",
        )
        .bind(deployment)
        .bind(deployment)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    // ---- problems ------------------------------------------------------------------------

    /// Replaces the open problems of a deployment with a fresh scan's findings.
    pub async fn replace_problems(
        &self,
        deployment: &str,
        problems: &[(String, String, String, String, Value)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM problems WHERE deployment = ? AND resolved = 0")
            .bind(deployment)
            .execute(&mut *tx)
            .await?;
        for (kind, description, group, instance_id, data) in problems {
            sqlx::query(
                "INSERT INTO problems (deployment, type, description, instance_group, instance_id, data, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(deployment)
            .bind(kind)
            .bind(description)
            .bind(group)
            .bind(instance_id)
            .bind(data.to_string())
            .bind(unix_now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn open_problems(&self, deployment: &str) -> Result<Vec<ProblemRow>> {
        Ok(sqlx::query_as::<_, ProblemRow>(
            "SELECT * FROM problems WHERE deployment = ? AND resolved = 0 ORDER BY id",
        )
        .bind(deployment)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn resolve_problem(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE problems SET resolved = 1 WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Count of rows in a table, for diagnostics in tests.
    pub async fn count(&self, table: &str) -> Result<i64> {
        let allowed = ["tasks", "deployments", "instances", "variables", "events"];
        if !allowed.contains(&table) {
            return Err(Error::Invalid(format!("unknown table {table}")));
        }
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_time_formats_utc() {
        assert_eq!(iso_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(iso_time(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20+01:00"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.5Z"), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("2023-11-14 22:13:20 UTC"),
            Some(1_700_000_000)
        );
        assert_eq!(
            parse_rfc3339("2023-11-14 22:13:20 +0000"),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2023-13-01T00:00:00Z"), None);
    }
}
