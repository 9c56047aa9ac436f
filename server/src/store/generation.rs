//! The data generation: a number that moves on, in the same transaction, with every change to
//! what the pages show (SQLite triggers, `migrations/sqlite/0027_data_generation.sql`). Two reads
//! that give the same number saw the same data, so a page rendered after the first read may be
//! served again while the number stands (`crate::http::page_cache`).
//!
//! SQLite only: on PostgreSQL nothing moves it (see that migration's PostgreSQL side) and
//! [`DataGeneration::current`] answers `None`, so nothing is cached there.
//!
//! [`Memo`] keeps what was computed from the database under the [`Stamp`] read before the
//! computation read anything: whatever it read is at least that new, so it may be handed out
//! again for as long as the stamp is current.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use sqlx::AnyPool;

use super::Backend;
use crate::Result;

/// One data generation of one opening of a database (an import swaps the database, and the new
/// one may count from the same number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    opening: u64,
    n: i64,
}

/// Values computed from the database, kept while their [`Stamp`] is current; at most
/// `max_weight` of them (each weighs what its keeper says, e.g. its bytes), after which it
/// starts again empty.
pub struct Memo<K, V> {
    kept: Mutex<Kept<K, V>>,
    max_weight: usize,
}

struct Kept<K, V> {
    at: Option<Stamp>,
    values: HashMap<K, (V, usize)>,
    weight: usize,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    pub fn new(max_weight: usize) -> Self {
        Memo {
            kept: Mutex::new(Kept {
                at: None,
                values: HashMap::new(),
                weight: 0,
            }),
            max_weight,
        }
    }

    /// The value kept for `key` at `stamp`, if any.
    pub fn find(&self, stamp: Stamp, key: &K) -> Option<V> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.at != Some(stamp) {
            return None;
        }
        kept.values.get(key).map(|(v, _)| v.clone())
    }

    /// Keeps `value`, computed after `stamp` was read. A value of an older generation than the
    /// one kept is dropped; a newer generation (or another database) starts again.
    pub fn keep(&self, stamp: Stamp, key: K, value: V, weight: usize) {
        if weight > self.max_weight {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let newer = match kept.at {
            Some(at) => at.opening != stamp.opening || stamp.n > at.n,
            None => true,
        };
        if newer {
            kept.at = Some(stamp);
            kept.values.clear();
            kept.weight = 0;
        } else if kept.at != Some(stamp) {
            return;
        }
        if kept.weight + weight > self.max_weight {
            kept.values.clear();
            kept.weight = 0;
        }
        kept.weight += weight;
        if let Some((_, old)) = kept.values.insert(key, (value, weight)) {
            kept.weight -= old;
        }
    }
}

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
    opening: u64,
}

impl<'a> DataGeneration<'a> {
    pub(super) fn new(pool: &'a AnyPool, backend: Backend, opening: u64) -> Self {
        DataGeneration {
            pool,
            backend,
            opening,
        }
    }

    /// The current generation; `None` where none is kept (PostgreSQL).
    pub async fn current(&self) -> Result<Option<Stamp>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let n: i64 = sqlx::query_scalar("SELECT n FROM data_generation WHERE id = 1")
            .fetch_one(self.pool)
            .await?;
        Ok(Some(Stamp {
            opening: self.opening,
            n,
        }))
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
        let generation = || async { store.generation().current().await.unwrap().unwrap().n };
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

    fn stamp(opening: u64, n: i64) -> Stamp {
        Stamp { opening, n }
    }

    #[test]
    fn a_memo_answers_only_at_the_stamp_it_was_kept_under() {
        let memo: Memo<&str, &str> = Memo::new(100);
        memo.keep(stamp(1, 5), "p", "five", 1);
        assert_eq!(memo.find(stamp(1, 5), &"p"), Some("five"));
        assert_eq!(memo.find(stamp(1, 5), &"q"), None);
        assert_eq!(memo.find(stamp(1, 6), &"p"), None);
        assert_eq!(memo.find(stamp(2, 5), &"p"), None);
        // Computed under an older generation than the one kept: dropped.
        memo.keep(stamp(1, 6), "p", "six", 1);
        memo.keep(stamp(1, 5), "q", "late five", 1);
        assert_eq!(memo.find(stamp(1, 5), &"q"), None);
        assert_eq!(memo.find(stamp(1, 6), &"q"), None);
        assert_eq!(memo.find(stamp(1, 6), &"p"), Some("six"));
        // Another database (an import) starts again, whatever its generation.
        memo.keep(stamp(2, 1), "p", "other", 1);
        assert_eq!(memo.find(stamp(1, 6), &"p"), None);
        assert_eq!(memo.find(stamp(2, 1), &"p"), Some("other"));
    }

    #[test]
    fn a_memo_stays_within_its_weight() {
        let memo: Memo<usize, ()> = Memo::new(10);
        for i in 0..50 {
            memo.keep(stamp(1, 1), i, (), 3);
            assert!(memo.kept.lock().unwrap().weight <= 10);
        }
        memo.keep(stamp(1, 1), 99, (), 11);
        assert_eq!(
            memo.find(stamp(1, 1), &99),
            None,
            "heavier than the whole memo"
        );
    }
}
