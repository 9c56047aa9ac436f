//! The configuration-write gate across replicas (PostgreSQL): a configuration write holds a
//! shared advisory lock from its "no installation runs" check to its last store write, and Apply
//! Changes holds the exclusive one while it validates and inserts its running row. So a write on
//! any replica either finished before an apply validates, or starts after the running row exists
//! and is refused (409) — the same guarantee `Products::begin_write` gives within one process.
//! Transaction-scoped locks: dropping the holder ends its transaction (rolled back: it wrote
//! nothing) and releases the lock, even when a request is cancelled.
//!
//! Each holder keeps one pooled connection for its transaction; at most [`SHARED_HOLDERS`]
//! writes hold one at a time so their own statements and the apply's always find a connection.

use sqlx::{Any, Transaction};
use tokio::sync::OwnedSemaphorePermit;

use super::{Backend, Store};
use crate::Result;

/// The advisory lock's key ("tilework" in ASCII, as a number).
const LOCK_KEY: i64 = 0x7469_6c65_776f_726b;

/// Configuration writes holding the shared lock at once, per replica (the pool has 8
/// connections).
pub const SHARED_HOLDERS: usize = 4;

/// Held while the lock is: drop it to release.
#[must_use = "the lock is only held while this is"]
pub struct WriteGateLock {
    _transaction: Transaction<'static, Any>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Store {
    /// For a configuration write: the shared lock (`None` on SQLite, where one process owns the
    /// database and `Products`'s in-process gate is the whole story).
    pub async fn hold_for_write(&self) -> Result<Option<WriteGateLock>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let permit = self
            .write_holders
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| crate::Error::Internal(format!("the write gate closed: {e}")))?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock_shared($1)) AS held")
            .bind(LOCK_KEY)
            .execute(&mut *transaction)
            .await?;
        Ok(Some(WriteGateLock {
            _transaction: transaction,
            _permit: Some(permit),
        }))
    }

    /// For Apply Changes: the exclusive lock, once every write holding the shared one ended.
    pub async fn hold_for_apply(&self) -> Result<Option<WriteGateLock>> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut transaction = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM (SELECT pg_advisory_xact_lock($1)) AS held")
            .bind(LOCK_KEY)
            .execute(&mut *transaction)
            .await?;
        Ok(Some(WriteGateLock {
            _transaction: transaction,
            _permit: None,
        }))
    }
}
