//! The Stemcell Library (imported stemcells, full and light), the stemcells pinned to staged
//! products, the stemcells recorded with each deployed product and the deletions staged for Apply Changes.
//!
//! Only the stemcell library service (`crate::stemcells`) and the products service
//! (`crate::products`) call this; the meaning of the JSON columns belongs to them.

use sqlx::AnyPool;

use crate::Result;

/// An imported stemcell.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StemcellRow {
    pub id: i64,
    pub name: String,
    pub os: String,
    pub version: String,
    pub infrastructure: String,
    pub hypervisor: String,
    pub filename: String,
    pub manifest: String,
    pub file_path: Option<String>,
    pub sha256: Option<String>,
    pub size: i64,
    #[sqlx(try_from = "crate::store::Flag")]
    pub light: bool,
    pub imported_by: String,
    pub imported_at: String,
}

/// What an import adds.
#[derive(Debug, Clone)]
pub struct NewStemcell<'a> {
    pub name: &'a str,
    pub os: &'a str,
    pub version: &'a str,
    pub infrastructure: &'a str,
    pub hypervisor: &'a str,
    pub filename: &'a str,
    pub manifest: &'a str,
    pub file_path: Option<&'a str>,
    pub sha256: Option<&'a str>,
    pub size: i64,
    pub light: bool,
    pub imported_by: &'a str,
}

/// A stemcell pinned to a staged product for one OS.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AssignmentRow {
    pub product_guid: String,
    pub os: String,
    pub version: String,
    pub assigned_by: String,
    pub assigned_at: String,
}

/// A deletion staged for Apply Changes.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DeletionRow {
    pub guid: String,
    pub staged_by: String,
    pub staged_at: String,
}

pub struct Stemcells<'a> {
    pool: &'a AnyPool,
}

const STEMCELL_COLUMNS: &str = "id, name, os, version, infrastructure, hypervisor, filename, \
     manifest, file_path, sha256, size, light, imported_by, imported_at";

impl<'a> Stemcells<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Stemcells { pool }
    }

    pub async fn all(&self) -> Result<Vec<StemcellRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STEMCELL_COLUMNS} FROM stemcells ORDER BY os, id"
        ))
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn one(&self, id: i64) -> Result<Option<StemcellRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STEMCELL_COLUMNS} FROM stemcells WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?)
    }

    pub async fn by_name_version(&self, name: &str, version: &str) -> Result<Option<StemcellRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {STEMCELL_COLUMNS} FROM stemcells WHERE name = $1 AND version = $2"
        ))
        .bind(name)
        .bind(version)
        .fetch_optional(self.pool)
        .await?)
    }

    /// Adds a stemcell; `false` (nothing written) when name and version are already there.
    pub async fn add(&self, new: &NewStemcell<'_>) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO stemcells (name, os, version, infrastructure, hypervisor, filename,
                 manifest, file_path, sha256, size, light, imported_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (name, version) DO NOTHING",
        )
        .bind(new.name)
        .bind(new.os)
        .bind(new.version)
        .bind(new.infrastructure)
        .bind(new.hypervisor)
        .bind(new.filename)
        .bind(new.manifest)
        .bind(new.file_path)
        .bind(new.sha256)
        .bind(new.size)
        .bind(i64::from(new.light))
        .bind(new.imported_by)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a light stemcell its tarball (a full import of the same name and version);
    /// `false` when the row is not light (any more).
    pub async fn make_full(&self, id: i64, new: &NewStemcell<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE stemcells SET infrastructure = $1, hypervisor = $2, filename = $3, manifest = $4,
                 file_path = $5, sha256 = $6, size = $7, light = 0, imported_by = $8,
                 imported_at = CURRENT_TIMESTAMP
              WHERE id = $9 AND light = 1",
        )
        .bind(new.infrastructure)
        .bind(new.hypervisor)
        .bind(new.filename)
        .bind(new.manifest)
        .bind(new.file_path)
        .bind(new.sha256)
        .bind(new.size)
        .bind(new.imported_by)
        .bind(id)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete(&self, id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM stemcells WHERE id = $1")
            .bind(id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether the first start already imported the light stemcells.
    pub async fn seeded(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stemcell_library_seeded")
            .fetch_one(self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Notes that the light stemcells were imported; `false` when already noted.
    pub async fn mark_seeded(&self) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO stemcell_library_seeded (id) VALUES (1) ON CONFLICT (id) DO NOTHING",
        )
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn assignments(&self) -> Result<Vec<AssignmentRow>> {
        Ok(sqlx::query_as(
            "SELECT product_guid, os, version, assigned_by, assigned_at
               FROM stemcell_assignments ORDER BY product_guid, os",
        )
        .fetch_all(self.pool)
        .await?)
    }

    pub async fn assignments_of(&self, product_guid: &str) -> Result<Vec<AssignmentRow>> {
        Ok(sqlx::query_as(
            "SELECT product_guid, os, version, assigned_by, assigned_at
               FROM stemcell_assignments WHERE product_guid = $1 ORDER BY os",
        )
        .bind(product_guid)
        .fetch_all(self.pool)
        .await?)
    }

    /// Pins `version` of `os` to a product (replacing any pin for that OS).
    pub async fn assign(
        &self,
        product_guid: &str,
        os: &str,
        version: &str,
        by: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO stemcell_assignments (product_guid, os, version, assigned_by)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (product_guid, os) DO UPDATE
                SET version = excluded.version, assigned_by = excluded.assigned_by,
                    assigned_at = CURRENT_TIMESTAMP",
        )
        .bind(product_guid)
        .bind(os)
        .bind(version)
        .bind(by)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Removes a product's pin for one OS (it floats again for that OS).
    pub async fn unassign(&self, product_guid: &str, os: &str) -> Result<()> {
        sqlx::query("DELETE FROM stemcell_assignments WHERE product_guid = $1 AND os = $2")
            .bind(product_guid)
            .bind(os)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Removes every pin of a product (it floats again).
    pub async fn unassign_product(&self, product_guid: &str) -> Result<()> {
        sqlx::query("DELETE FROM stemcell_assignments WHERE product_guid = $1")
            .bind(product_guid)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// The stemcells (JSON `[{"os","version"}]`) recorded with a product's deployed row in
    /// the installations' `deployed_products` table; `None` when the product is not deployed.
    pub async fn deployed_stemcells(&self, guid: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT stemcells FROM deployed_products WHERE guid = $1")
                .bind(guid)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Records the stemcells a product's deploy used, on its `deployed_products` row.
    pub async fn set_deployed_stemcells(&self, guid: &str, stemcells: &str) -> Result<()> {
        sqlx::query("UPDATE deployed_products SET stemcells = $1 WHERE guid = $2")
            .bind(stemcells)
            .bind(guid)
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn deletions(&self) -> Result<Vec<DeletionRow>> {
        Ok(sqlx::query_as(
            "SELECT guid, staged_by, staged_at FROM staged_deletions ORDER BY staged_at, guid",
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Stages a deletion; `false` when it was already staged.
    pub async fn stage_deletion(&self, guid: &str, by: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO staged_deletions (guid, staged_by) VALUES ($1, $2)
             ON CONFLICT (guid) DO NOTHING",
        )
        .bind(guid)
        .bind(by)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Cancels a staged deletion; `false` when none was staged.
    pub async fn cancel_deletion(&self, guid: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM staged_deletions WHERE guid = $1")
            .bind(guid)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets everything about a product that is gone (deleted by Apply Changes, or unstaged
    /// before it was ever deployed): its deployed row, staged deletion, pins, verifier switches and
    /// staged row, in one transaction.
    pub async fn forget_product(&self, guid: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM deployed_products WHERE guid = $1",
            "DELETE FROM staged_deletions WHERE guid = $1",
            "DELETE FROM stemcell_assignments WHERE product_guid = $1",
            "DELETE FROM config_changes WHERE subject = $1",
            "DELETE FROM verifier_settings WHERE owner_guid = $1",
        ] {
            sqlx::query(sql).bind(guid).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM staged_products WHERE guid = $1")
            .bind(guid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }
}
