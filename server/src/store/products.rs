//! Imported tiles (available products), staged products with their versioned configuration, the
//! change log that explains refused stale saves, and the installation's root CA.
//!
//! Rows carry configuration as JSON text and credential values as sealed bytes; sealing and the
//! meaning of the JSON belong to the products service (`crate::products`), which is the only
//! caller.

use sqlx::AnyPool;

use crate::Result;

/// An imported (or bundled) tile.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AvailableRow {
    pub id: i64,
    pub name: String,
    pub version: String,
    pub label: String,
    pub metadata: String,
    pub file_path: Option<String>,
    pub sha256: String,
    pub size: i64,
    #[sqlx(try_from = "crate::store::Flag")]
    pub bundled: bool,
    pub imported_at: String,
    /// What the import read of the tile's job specs (JSON, `crate::products::job_specs`);
    /// `None` for bundled tiles and tiles imported before it was kept.
    pub job_specs: Option<String>,
    /// The lint warnings the import found (JSON array of lines, `crate::products::import`);
    /// `None` for bundled tiles and tiles imported before they were kept.
    pub lint_warnings: Option<String>,
}

/// What an import adds.
#[derive(Debug, Clone)]
pub struct NewAvailable<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub label: &'a str,
    pub metadata: &'a str,
    pub file_path: Option<&'a str>,
    pub sha256: &'a str,
    pub size: i64,
    pub bundled: bool,
    pub job_specs: Option<&'a str>,
    pub lint_warnings: Option<&'a str>,
}

/// A staged product.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StagedRow {
    pub guid: String,
    pub name: String,
    pub version: String,
    pub config: String,
    pub secrets: Option<Vec<u8>>,
    pub config_version: i64,
    pub staged_at: String,
}

/// The outcome of a versioned update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioned {
    /// Saved; the new version.
    Saved(i64),
    /// Not saved: the stored version differs from the expected one.
    Stale { current: i64 },
    /// No such row.
    Missing,
}

/// One save of the change log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// The configuration version the save produced.
    pub version: i64,
    /// The references (or sections) it changed.
    pub changed: Vec<String>,
    pub changed_by: String,
    /// Per changed reference, the value before the save (never a credential's; empty for saves
    /// logged before this was kept).
    pub previous: serde_json::Map<String, serde_json::Value>,
}

pub struct Products<'a> {
    pool: &'a AnyPool,
}

const AVAILABLE_COLUMNS: &str =
    "id, name, version, label, metadata, file_path, sha256, size, bundled, imported_at, job_specs, \
     lint_warnings";
const STAGED_COLUMNS: &str = "guid, name, version, config, secrets, config_version, staged_at";

impl<'a> Products<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Products { pool }
    }

    pub async fn available(&self) -> Result<Vec<AvailableRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {AVAILABLE_COLUMNS} FROM available_products ORDER BY name, id"
        ))
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn available_one(&self, name: &str, version: &str) -> Result<Option<AvailableRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {AVAILABLE_COLUMNS} FROM available_products WHERE name = $1 AND version = $2"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(self.pool)
        .await?)
    }

    /// The label and content digest of an available product, without its large columns: what
    /// a page needs to find everything derived from the row in the server's cache
    /// (`crate::products::Products::available_derived`).
    pub async fn available_head(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT label, sha256 FROM available_products WHERE name = $1 AND version = $2",
        )
        .bind(name)
        .bind(version)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Adds a tile; `false` (and nothing written) when name and version are already there.
    pub async fn add_available(&self, new: &NewAvailable<'_>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO available_products
                 (name, version, label, metadata, file_path, sha256, size, bundled, job_specs,
                  lint_warnings)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(new.name)
        .bind(new.version)
        .bind(new.label)
        .bind(new.metadata)
        .bind(new.file_path)
        .bind(new.sha256)
        .bind(new.size)
        .bind(i64::from(new.bundled))
        .bind(new.job_specs)
        .bind(new.lint_warnings)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the label and metadata of an available product in place, keeping its name and
    /// version: `tileworks tile preview` (`crate::preview`), where each save of the author's
    /// metadata replaces the tile the preview staged. `false` when the row is gone.
    pub async fn replace_metadata(
        &self,
        id: i64,
        label: &str,
        metadata: &str,
        sha256: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE available_products SET label = $1, metadata = $2, sha256 = $3, size = $4
              WHERE id = $5",
        )
        .bind(label)
        .bind(metadata)
        .bind(sha256)
        .bind(metadata.len() as i64)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_available(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM available_products WHERE id = $1")
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn staged(&self) -> Result<Vec<StagedRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STAGED_COLUMNS} FROM staged_products ORDER BY staged_at, name"
        ))
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn staged_one(&self, guid: &str) -> Result<Option<StagedRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STAGED_COLUMNS} FROM staged_products WHERE guid = $1"
        ))
        .bind(guid)
        .fetch_optional(self.pool)
        .await?)
    }

    pub async fn staged_by_name(&self, name: &str) -> Result<Option<StagedRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STAGED_COLUMNS} FROM staged_products WHERE name = $1"
        ))
        .bind(name)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Stages a product; `false` when one of that name is already staged.
    pub async fn add_staged(
        &self,
        guid: &str,
        name: &str,
        version: &str,
        config: &str,
        secrets: Option<&[u8]>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO staged_products (guid, name, version, config, secrets)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(guid)
        .bind(name)
        .bind(version)
        .bind(config)
        .bind(secrets)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the configuration (and the product version, on upgrade) if the stored version is
    /// still `expected`, and records what changed. One transaction: all or nothing.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_staged(
        &self,
        guid: &str,
        expected: i64,
        version: &str,
        config: &str,
        secrets: Option<&[u8]>,
        changed: &[String],
        previous: &serde_json::Map<String, serde_json::Value>,
        changed_by: &str,
    ) -> Result<Versioned> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE staged_products
                SET version = $1, config = $2, secrets = $3, config_version = config_version + 1
              WHERE guid = $4 AND config_version = $5",
        )
        .bind(version)
        .bind(config)
        .bind(secrets)
        .bind(guid)
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT config_version FROM staged_products WHERE guid = $1")
                    .bind(guid)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(match current {
                Some(current) => Versioned::Stale { current },
                None => Versioned::Missing,
            });
        }
        record_change(&mut tx, guid, expected + 1, changed, previous, changed_by).await?;
        tx.commit().await?;
        Ok(Versioned::Saved(expected + 1))
    }

    pub async fn delete_staged(&self, guid: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM staged_products WHERE guid = $1")
            .bind(guid)
            .execute(&mut *tx)
            .await?;
        // The product's verifier switches go with it (migration 0015), so a product imported
        // again under the same guid starts with every verifier on.
        for sql in [
            "DELETE FROM config_changes WHERE subject = $1",
            "DELETE FROM verifier_settings WHERE owner_guid = $1",
        ] {
            sqlx::query(sql).bind(guid).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Everything changed by the saves after `version` of `subject`, first change first, without
    /// repeats.
    pub async fn changes_since(&self, subject: &str, version: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT changed FROM config_changes WHERE subject = $1 AND version > $2 ORDER BY version",
        )
        .bind(subject)
        .bind(version)
        .fetch_all(self.pool)
        .await?;
        let mut out: Vec<String> = Vec::new();
        for (json,) in rows {
            let list: Vec<String> = serde_json::from_str(&json).unwrap_or_default();
            for item in list {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
        Ok(out)
    }

    /// The saves after `version` of `subject`, oldest first: the version each produced, what
    /// it changed, the values before, and who saved it (what a refused stale save tells its
    /// operator).
    pub async fn change_records_since(
        &self,
        subject: &str,
        version: i64,
    ) -> Result<Vec<ChangeRecord>> {
        let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT version, changed, changed_by, previous FROM config_changes
              WHERE subject = $1 AND version > $2 ORDER BY version",
        )
        .bind(subject)
        .bind(version)
        .fetch_all(self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(version, json, changed_by, previous)| ChangeRecord {
                version,
                changed: serde_json::from_str(&json).unwrap_or_default(),
                changed_by,
                previous: previous
                    .and_then(|p| serde_json::from_str(&p).ok())
                    .unwrap_or_default(),
            })
            .collect())
    }
}

/// Notes what a save changed and the values before (the caller leaves credentials out). Only the last 200 entries per subject are kept: enough to explain
/// any realistic stale save.
pub(super) async fn record_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    subject: &str,
    version: i64,
    changed: &[String],
    previous: &serde_json::Map<String, serde_json::Value>,
    changed_by: &str,
) -> Result<()> {
    let json = serde_json::to_string(changed).unwrap_or_else(|_| "[]".into());
    let previous = serde_json::to_string(previous).unwrap_or_else(|_| "{}".into());
    sqlx::query(
        "INSERT INTO config_changes (subject, version, changed, changed_by, previous)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (subject, version) DO UPDATE SET changed = excluded.changed,
             changed_by = excluded.changed_by, previous = excluded.previous,
             changed_at = excluded.changed_at",
    )
    .bind(subject)
    .bind(version)
    .bind(json)
    .bind(changed_by)
    .bind(previous)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM config_changes WHERE subject = $1 AND version <= $2")
        .bind(subject)
        .bind(version - 200)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
