//! A tower-sessions store in the same SQLite database, so a restart keeps people logged in.
//!
//! Only a digest of each session id is stored (like bearer tokens), and the stored record
//! leaves the id out: whoever reads the database cannot present a session from it.

use async_trait::async_trait;
use sqlx::SqlitePool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::unix_now;
use crate::secrets::sha256_hex;

/// The stored key of a session id.
fn digest(id: &Id) -> String {
    sha256_hex(&id.to_string())
}

/// The record as stored: its data and expiry, never its id.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    data: std::collections::HashMap<String, serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    expiry_date: time::OffsetDateTime,
}

fn stored_json(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&Stored {
        data: record.data.clone(),
        expiry_date: record.expiry_date,
    })
    .map_err(backend)
}

#[derive(Debug, Clone)]
pub struct SqliteSessionStore {
    pool: SqlitePool,
}

impl SqliteSessionStore {
    pub fn new(pool: SqlitePool) -> Self {
        SqliteSessionStore { pool }
    }

    /// Deletes expired sessions; called periodically by the server.
    pub async fn delete_expired(&self) -> sqlx::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(unix_now())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

fn backend(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for SqliteSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are random 128-bit values; on the (astronomically unlikely) collision pick another.
        loop {
            let json = stored_json(record)?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, record, expires_at) VALUES (?, ?, ?)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(digest(&record.id))
            .bind(json)
            .bind(record.expiry_date.unix_timestamp())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let json = stored_json(record)?;
        sqlx::query(
            "INSERT INTO sessions (id, record, expires_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
        )
        .bind(digest(&record.id))
        .bind(json)
        .bind(record.expiry_date.unix_timestamp())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT record FROM sessions WHERE id = ? AND expires_at > ?")
                .bind(digest(id))
                .bind(unix_now())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        match row {
            Some((json,)) => {
                let stored: Stored = serde_json::from_str(&json).map_err(backend)?;
                Ok(Some(Record {
                    id: *id,
                    data: stored.data,
                    expiry_date: stored.expiry_date,
                }))
            }
            None => Ok(None),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = ?")
            .bind(digest(id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
