//! The keyring row (migration 0011): the data key sealed under the passphrase-derived key, with
//! the derivation's parameters; and `sealed_settings`, Tileworks's own secrets sealed under the
//! data key. What they mean and how they are made is `crate::passphrase`; this file only reads
//! and writes them.

use sqlx::AnyPool;

use super::unix_now;
use crate::Result;

/// The stored keyring: how to derive the key from the passphrase, and the sealed data key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KeyringRow {
    pub kdf: String,
    pub kdf_version: i64,
    pub memory_kib: i64,
    pub iterations: i64,
    pub parallelism: i64,
    pub salt: Vec<u8>,
    pub sealed_data_key: Vec<u8>,
}

pub struct Keyring<'a> {
    pool: &'a AnyPool,
}

impl<'a> Keyring<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Keyring { pool }
    }

    pub async fn get(&self) -> Result<Option<KeyringRow>> {
        Ok(sqlx::query_as(
            "SELECT kdf, kdf_version, memory_kib, iterations, parallelism, salt, sealed_data_key
               FROM keyring WHERE id = 1",
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// Stores the first keyring; `false` when one exists already (it is never replaced here).
    pub async fn create(&self, row: &KeyringRow) -> Result<bool> {
        let now = unix_now();
        let done = sqlx::query(
            "INSERT INTO keyring (id, kdf, kdf_version, memory_kib, iterations, parallelism, salt,
                                  sealed_data_key, created_at, changed_at)
             VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&row.kdf)
        .bind(row.kdf_version)
        .bind(row.memory_kib)
        .bind(row.iterations)
        .bind(row.parallelism)
        .bind(&row.salt)
        .bind(&row.sealed_data_key)
        .bind(now)
        .bind(now)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces the keyring if it is still `expected` (a passphrase change re-seals the data key
    /// only); `false` when another change came first.
    pub async fn replace(&self, expected: &KeyringRow, row: &KeyringRow) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE keyring SET kdf = $1, kdf_version = $2, memory_kib = $3, iterations = $4,
                                parallelism = $5, salt = $6, sealed_data_key = $7, changed_at = $8
              WHERE id = 1 AND salt = $9 AND sealed_data_key = $10",
        )
        .bind(&row.kdf)
        .bind(row.kdf_version)
        .bind(row.memory_kib)
        .bind(row.iterations)
        .bind(row.parallelism)
        .bind(&row.salt)
        .bind(&row.sealed_data_key)
        .bind(unix_now())
        .bind(&expected.salt)
        .bind(&expected.sealed_data_key)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A sealed setting by name.
    pub async fn sealed_setting(&self, name: &str) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM sealed_settings WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Stores a sealed setting unless one by that name exists; returns the stored value (the
    /// existing one when two starts race).
    pub async fn insert_sealed_setting(&self, name: &str, value: &[u8]) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO sealed_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM sealed_settings WHERE name = $1")
                .bind(name)
                .fetch_one(self.pool)
                .await?,
        )
    }

    /// Stores or replaces a sealed setting.
    pub async fn put_sealed_setting(&self, name: &str, value: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO sealed_settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Removes a sealed setting (nothing when absent).
    pub async fn delete_sealed_setting(&self, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM sealed_settings WHERE name = $1")
            .bind(name)
            .execute(self.pool)
            .await?;
        Ok(())
    }
}
