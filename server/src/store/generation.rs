//! The data generation: a number that moves on, in the same transaction, with every change to
//! what the pages show (SQLite triggers, `migrations/sqlite/0027_data_generation.sql`). Two reads
//! that give the same number saw the same data, so a page rendered after the first read may be
//! served again while the number stands (`crate::http::page_cache`).
//!
//! SQLite only: on PostgreSQL nothing moves it (see that migration's PostgreSQL side) and
//! [`DataGeneration::current`] answers `None`, so nothing is cached there.

use sqlx::AnyPool;

use super::Backend;
use crate::Result;

/// Tables no trigger watches: no cached page shows them, and they change on most requests
/// (sessions, sign-ins, the audit trail) or many times a second during an apply (log lines,
/// lease renewals). Every other table must move the generation; the test below holds that.
pub const UNWATCHED_TABLES: [&str; 9] = [
    "sessions",
    "login_failures",
    "access_tokens",
    "audit_events",
    "audit_retention",
    "installation_logs",
    "work_claims",
    "log_fetches",
    "data_generation",
];

pub struct DataGeneration<'a> {
    pool: &'a AnyPool,
    backend: Backend,
}

impl<'a> DataGeneration<'a> {
    pub(super) fn new(pool: &'a AnyPool, backend: Backend) -> Self {
        DataGeneration { pool, backend }
    }

    /// The current generation; `None` where none is kept (PostgreSQL).
    pub async fn current(&self) -> Result<Option<i64>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let n: i64 = sqlx::query_scalar("SELECT n FROM data_generation WHERE id = 1")
            .fetch_one(self.pool)
            .await?;
        Ok(Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// A table added later without triggers would let a cached page outlive a change to it:
    /// every table is watched for inserts, updates and deletes, or listed as unwatched.
    #[tokio::test]
    async fn every_table_moves_the_generation_or_is_listed_as_unwatched() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '_sqlx_migrations' ORDER BY name",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(tables.len() > 20, "{tables:?}");
        for listed in UNWATCHED_TABLES {
            assert!(tables.iter().any(|t| t == listed), "{listed} is no table");
        }
        for table in tables
            .iter()
            .filter(|t| !UNWATCHED_TABLES.contains(&t.as_str()))
        {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                let triggers: Vec<String> = sqlx::query_scalar(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $1",
                )
                .bind(table)
                .fetch_all(store.pool())
                .await
                .unwrap();
                assert!(
                    triggers
                        .iter()
                        .any(|sql| sql.contains(&format!("AFTER {event} ON"))
                            && sql.contains("UPDATE data_generation SET n = n + 1")),
                    "no trigger moves the data generation on {event} into {table}: add one \
                     (migrations/sqlite) or list the table in UNWATCHED_TABLES"
                );
            }
        }
    }

    /// Writes move it, in their transaction; a rolled-back write does not; reads do not.
    #[tokio::test]
    async fn writes_move_the_generation_and_reads_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let generation = || async { store.generation().current().await.unwrap().unwrap() };
        let start = generation().await;
        assert_eq!(generation().await, start);
        store
            .users()
            .create("operator", "correct horse battery", "operator")
            .await
            .unwrap();
        let after_insert = generation().await;
        assert!(after_insert > start);

        let mut tx = store.pool().begin().await.unwrap();
        sqlx::query("DELETE FROM users WHERE username = 'operator'")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(generation().await, after_insert);

        // A failed sign-in is no change a page shows.
        sqlx::query("INSERT INTO login_failures (key, failures, last_at_ms) VALUES ('k', 1, 0)")
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(generation().await, after_insert);
    }
}
