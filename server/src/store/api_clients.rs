//! Automation clients (client_credentials grant).

use sqlx::AnyPool;

use crate::auth::password;
use crate::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiClient {
    pub name: String,
    pub role: String,
}

/// A client as listed: never its secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedClient {
    pub name: String,
    pub role: String,
    pub created_at: String,
}

pub struct ApiClients<'a> {
    pool: &'a AnyPool,
}

impl<'a> ApiClients<'a> {
    pub(super) fn new(pool: &'a AnyPool) -> Self {
        ApiClients { pool }
    }

    pub async fn create(&self, name: &str, role: &str, secret: &str) -> Result<()> {
        validate_client_name(name)?;
        let hash = password::hash(secret).await?;
        let inserted =
            sqlx::query("INSERT INTO api_clients (name, role, secret_hash) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(role)
                .bind(hash)
                .execute(self.pool)
                .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(Error::Conflict(format!("API client '{name}'")))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Every client, by name.
    pub async fn list(&self) -> Result<Vec<ListedClient>> {
        Ok(sqlx::query_as::<_, ListedClient>(
            "SELECT name, role, created_at FROM api_clients ORDER BY name",
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// Removes a client; `false` when there was none by that name.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM api_clients WHERE name = $1")
            .bind(name)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn authenticate(&self, name: &str, secret: &str) -> Result<Option<ApiClient>> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT name, role, secret_hash FROM api_clients WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool)
                .await?;
        match row {
            Some((name, role, hash)) if password::verify(secret, &hash).await? => {
                Ok(Some(ApiClient { name, role }))
            }
            Some(_) => Ok(None),
            None => {
                password::verify_against_dummy(secret).await?;
                Ok(None)
            }
        }
    }
}

/// Client ids travel in HTTP Basic credentials, where a `:` would split them wrongly.
fn validate_client_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            "must be 1-64 characters of letters, digits, '-', '_' or '.'",
        ))
    }
}
