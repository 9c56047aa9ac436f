//! Users who log in with a password.

use sqlx::SqlitePool;

use crate::auth::password;
use crate::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: String,
}

pub struct Users<'a> {
    pool: &'a SqlitePool,
}

impl<'a> Users<'a> {
    pub(super) fn new(pool: &'a SqlitePool) -> Self {
        Users { pool }
    }

    pub async fn count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool)
            .await?)
    }

    pub async fn create(&self, username: &str, password: &str, role: &str) -> Result<User> {
        let hash = password::hash(password).await?;
        let inserted = sqlx::query_as::<_, User>(
            "INSERT INTO users (username, password_hash, role) VALUES (?, ?, ?)
             RETURNING id, username, role",
        )
        .bind(username)
        .bind(hash)
        .bind(role)
        .fetch_one(self.pool)
        .await;
        match inserted {
            Ok(user) => Ok(user),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(Error::Conflict(format!("user '{username}'")))
            }
            Err(other) => Err(other.into()),
        }
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<User>> {
        Ok(
            sqlx::query_as::<_, User>("SELECT id, username, role FROM users WHERE id = ?")
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// The user whose name and password match, or `None`. Unknown names cost as much as wrong
    /// passwords, so timing does not tell which names exist.
    pub async fn authenticate(&self, username: &str, candidate: &str) -> Result<Option<User>> {
        let row: Option<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, username, role, password_hash FROM users WHERE username = ?",
        )
        .bind(username)
        .fetch_optional(self.pool)
        .await?;
        match row {
            Some((id, username, role, hash)) => {
                if password::verify(candidate, &hash).await? {
                    Ok(Some(User { id, username, role }))
                } else {
                    Ok(None)
                }
            }
            None => {
                password::verify_against_dummy(candidate).await?;
                Ok(None)
            }
        }
    }
}
