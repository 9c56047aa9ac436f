//! Users who log in with a password.
//!
//! The rule that there is always an enabled administrator is kept here, in the one statement
//! that demotes, disables or deletes a user, so two administrators demoting each other at the
//! same moment cannot both succeed.

use sqlx::AnyPool;

use crate::auth::password;
use crate::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: String,
    #[sqlx(try_from = "crate::store::Flag")]
    pub disabled: bool,
    pub created_at: String,
}

impl User {
    pub fn enabled(&self) -> bool {
        !self.disabled
    }
}

/// What a guarded change did.
#[derive(Debug)]
pub enum Guarded {
    /// Done; the user as it is now (before, for a delete).
    Done(User),
    NotFound,
    /// Refused: the user is the last enabled administrator.
    LastAdmin,
}

const COLUMNS: &str = "id, username, role, disabled, created_at";

/// True when the row `users` (the one being changed) is not the last enabled administrator.
const NOT_LAST_ADMIN: &str = "(users.role != 'admin' OR users.disabled = 1 OR EXISTS (
     SELECT 1 FROM users AS other
     WHERE other.role = 'admin' AND other.disabled = 0 AND other.id != users.id))";

pub struct Users<'a> {
    pool: &'a AnyPool,
}

impl<'a> Users<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        Users { pool }
    }

    pub async fn count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool)
            .await?)
    }

    pub async fn create(&self, username: &str, password: &str, role: &str) -> Result<User> {
        let hash = password::hash(password).await?;
        let inserted = sqlx::query_as::<_, User>(&format!(
            "INSERT INTO users (username, password_hash, role) VALUES ($1, $2, $3)
             RETURNING {COLUMNS}"
        ))
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
            sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
                .bind(id)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    pub async fn by_name(&self, username: &str) -> Result<Option<User>> {
        Ok(
            sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
                .bind(username)
                .fetch_optional(self.pool)
                .await?,
        )
    }

    /// Every user, by name.
    pub async fn list(&self) -> Result<Vec<User>> {
        Ok(
            sqlx::query_as::<_, User>(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
                .fetch_all(self.pool)
                .await?,
        )
    }

    /// Gives `username` the role `role`, unless that demotes the last enabled administrator.
    pub async fn set_role(&self, username: &str, role: &str) -> Result<Guarded> {
        let changed = sqlx::query_as::<_, User>(&format!(
            "UPDATE users SET role = $1 WHERE username = $2 AND ($1 = 'admin' OR {NOT_LAST_ADMIN})
             RETURNING {COLUMNS}"
        ))
        .bind(role)
        .bind(username)
        .fetch_optional(self.pool)
        .await?;
        self.guarded(username, changed).await
    }

    /// Disables or re-enables `username`; disabling the last enabled administrator is refused.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<Guarded> {
        let guard = if disabled { NOT_LAST_ADMIN } else { "1 = 1" };
        let changed = sqlx::query_as::<_, User>(&format!(
            "UPDATE users SET disabled = $1 WHERE username = $2 AND {guard}
             RETURNING {COLUMNS}"
        ))
        .bind(i64::from(disabled))
        .bind(username)
        .fetch_optional(self.pool)
        .await?;
        self.guarded(username, changed).await
    }

    /// Removes `username`, unless it is the last enabled administrator.
    pub async fn delete(&self, username: &str) -> Result<Guarded> {
        let deleted = sqlx::query_as::<_, User>(&format!(
            "DELETE FROM users WHERE username = $1 AND {NOT_LAST_ADMIN} RETURNING {COLUMNS}"
        ))
        .bind(username)
        .fetch_optional(self.pool)
        .await?;
        self.guarded(username, deleted).await
    }

    async fn guarded(&self, username: &str, changed: Option<User>) -> Result<Guarded> {
        Ok(match changed {
            Some(user) => Guarded::Done(user),
            None if self.by_name(username).await?.is_some() => Guarded::LastAdmin,
            None => Guarded::NotFound,
        })
    }

    /// Sets a new password; `None` when there is no such user.
    pub async fn set_password(&self, username: &str, new_password: &str) -> Result<Option<User>> {
        let hash = password::hash(new_password).await?;
        Ok(sqlx::query_as::<_, User>(&format!(
            "UPDATE users SET password_hash = $1 WHERE username = $2 RETURNING {COLUMNS}"
        ))
        .bind(hash)
        .bind(username)
        .fetch_optional(self.pool)
        .await?)
    }

    /// The enabled user whose name and password match, or `None`. Unknown names and disabled
    /// users cost as much as wrong passwords, so timing does not tell which names exist.
    pub async fn authenticate(&self, username: &str, candidate: &str) -> Result<Option<User>> {
        let row: Option<(i64, String, String, super::Flag, String, String)> = sqlx::query_as(
            "SELECT id, username, role, disabled, created_at, password_hash FROM users
             WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(self.pool)
        .await?;
        match row {
            Some((id, username, role, disabled, created_at, hash)) => {
                let disabled = bool::from(disabled);
                let matches = password::verify(candidate, &hash).await?;
                Ok((matches && !disabled).then_some(User {
                    id,
                    username,
                    role,
                    disabled,
                    created_at,
                }))
            }
            None => {
                password::verify_against_dummy(candidate).await?;
                Ok(None)
            }
        }
    }
}
