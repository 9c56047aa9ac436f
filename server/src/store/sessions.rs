//! A tower-sessions store in the Tileworks database (SQLite or PostgreSQL), so a restart keeps people
//! logged in and every replica sharing the database knows every session.
//!
//! Only a digest of each session id is stored (like bearer tokens), and the stored record
//! leaves the id out: whoever reads the database cannot present a session from it.
//!
//! Each row also names its user (`user_id`, from the record's data), so a user's sessions can
//! be ended at once ([`end_for_user`]). A session is only ever inserted by `create`; `save`
//! updates a row that exists, so a request that loaded a session before it was ended cannot
//! bring it back when it finishes.

use async_trait::async_trait;
use sqlx::AnyPool;
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

/// The record's key for the signed-in user (`crate::auth::SESSION_USER_ID`).
const USER_ID_KEY: &str = "user_id";

/// The user a record is signed in as, if any.
fn user_id(record: &Record) -> Option<i64> {
    record
        .data
        .get(USER_ID_KEY)
        .and_then(serde_json::Value::as_i64)
}

/// Ends every session of a user; returns how many.
pub async fn end_for_user(pool: &AnyPool, user_id: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

fn stored_json(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&Stored {
        data: record.data.clone(),
        expiry_date: record.expiry_date,
    })
    .map_err(backend)
}

#[derive(Debug, Clone)]
pub struct DatabaseSessionStore {
    pool: AnyPool,
}

impl DatabaseSessionStore {
    pub fn new(pool: AnyPool) -> Self {
        DatabaseSessionStore { pool }
    }

    /// Deletes expired sessions; called periodically by the server.
    pub async fn delete_expired(&self) -> sqlx::Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
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
impl SessionStore for DatabaseSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are random 128-bit values; on the (astronomically unlikely) collision pick another.
        loop {
            let json = stored_json(record)?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, record, expires_at, user_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(digest(&record.id))
            .bind(json)
            .bind(record.expiry_date.unix_timestamp())
            .bind(user_id(record))
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
        // Only a session that still exists is saved: one ended meanwhile stays ended.
        sqlx::query("UPDATE sessions SET record = $1, expires_at = $2, user_id = $3 WHERE id = $4")
            .bind(json)
            .bind(record.expiry_date.unix_timestamp())
            .bind(user_id(record))
            .bind(digest(&record.id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT record FROM sessions WHERE id = $1 AND expires_at > $2")
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
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(digest(id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
