//! The Director tile's (p-bosh) configuration: one row, versioned like a staged product, with
//! IaaS secrets sealed apart from the rest.

use sqlx::AnyPool;

use super::products::{record_change, Versioned};
use crate::Result;

/// The subject name of the Director's entries in the change log.
pub const SUBJECT: &str = "director";

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct DirectorRow {
    pub guid: String,
    pub config: String,
    pub secrets: Option<Vec<u8>>,
    pub config_version: i64,
}

pub struct Director<'a> {
    pool: &'a AnyPool,
}

impl<'a> Director<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Director { pool }
    }

    pub async fn get(&self) -> Result<Option<DirectorRow>> {
        Ok(sqlx::query_as(
            "SELECT guid, config, secrets, config_version FROM director_config WHERE id = 1",
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// Creates the row unless it exists (first start); `false` when it was there.
    pub async fn create(&self, guid: &str, config: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO director_config (id, guid, config) VALUES (1, $1, $2)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(guid)
        .bind(config)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Rewrites how the configuration is stored (secrets moved into the sealed column) if the
    /// version is still `expected`, without a new version or a change-log entry: the
    /// configuration itself does not change. `false` when another write came first.
    pub async fn reseal(
        &self,
        expected: i64,
        config: &str,
        secrets: Option<&[u8]>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE director_config SET config = $1, secrets = $2
              WHERE id = 1 AND config_version = $3",
        )
        .bind(config)
        .bind(secrets)
        .bind(expected)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the configuration if the stored version is still `expected`.
    pub async fn update(
        &self,
        expected: i64,
        config: &str,
        secrets: Option<&[u8]>,
        changed: &[String],
        previous: &serde_json::Map<String, serde_json::Value>,
        changed_by: &str,
    ) -> Result<Versioned> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE director_config SET config = $1, secrets = $2, config_version = config_version + 1
              WHERE id = 1 AND config_version = $3",
        )
        .bind(config)
        .bind(secrets)
        .bind(expected)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let current: Option<i64> =
                sqlx::query_scalar("SELECT config_version FROM director_config WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            return Ok(match current {
                Some(current) => Versioned::Stale { current },
                None => Versioned::Missing,
            });
        }
        record_change(
            &mut tx,
            SUBJECT,
            expected + 1,
            changed,
            previous,
            changed_by,
        )
        .await?;
        tx.commit().await?;
        Ok(Versioned::Saved(expected + 1))
    }
}
