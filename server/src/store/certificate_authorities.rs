//! The `certificate_authorities` table: the root CA that signs generated certificates (the
//! active one) and the others kept during a rotation. Private keys arrive and leave sealed.

use sqlx::AnyPool;

use crate::Result;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaRow {
    pub guid: String,
    pub cert_pem: String,
    pub sealed_private_key: Vec<u8>,
    #[sqlx(try_from = "crate::store::Flag")]
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
}

pub struct CertificateAuthorities<'a> {
    pool: &'a AnyPool,
}

impl<'a> CertificateAuthorities<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        CertificateAuthorities { pool }
    }

    /// Every CA, oldest first.
    pub async fn list(&self) -> Result<Vec<CaRow>> {
        Ok(sqlx::query_as(
            "SELECT guid, cert_pem, sealed_private_key, active, created_at
               FROM certificate_authorities ORDER BY created_at, rowid",
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// The active CA, if there is one yet.
    pub async fn active(&self) -> Result<Option<CaRow>> {
        Ok(sqlx::query_as(
            "SELECT guid, cert_pem, sealed_private_key, active, created_at
               FROM certificate_authorities WHERE active = 1",
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// Stores a CA; `active` only when no CA is active yet (the first one), else `false` is
    /// returned and nothing is stored.
    pub async fn insert(&self, row: &CaRow) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO certificate_authorities (guid, cert_pem, sealed_private_key, active, created_at)
             SELECT $1, $2, $3, $4, $5
              WHERE $6 = 0 OR NOT EXISTS (SELECT 1 FROM certificate_authorities WHERE active = 1)",
        )
        .bind(&row.guid)
        .bind(&row.cert_pem)
        .bind(&row.sealed_private_key)
        .bind(i64::from(row.active))
        .bind(row.created_at)
        .bind(i64::from(row.active))
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Makes `guid` the one active CA; `false` when there is no such CA.
    pub async fn activate(&self, guid: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT guid FROM certificate_authorities WHERE guid = $1")
                .bind(guid)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE certificate_authorities SET active = 0 WHERE active = 1 AND guid <> $1",
        )
        .bind(guid)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE certificate_authorities SET active = 1 WHERE guid = $1")
            .bind(guid)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes the inactive CA `guid`; `false` when there is no such inactive CA.
    pub async fn delete_inactive(&self, guid: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM certificate_authorities WHERE guid = $1 AND active = 0")
                .bind(guid)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }
}
