//! The store: every database access goes through here. SQLite by default (one file under the data
//! dir, WAL); the SQL is kept portable. Runtime queries only (no `query!` macros), so building needs
//! no database.

pub mod api_clients;
pub mod audit;
pub mod broker;
pub mod certificate_authorities;
pub mod director;
pub mod fleet;
pub mod installations;
pub mod keyring;
pub mod products;
pub mod sealing;
pub mod sessions;
pub mod snapshot;
pub mod stemcells;
pub mod tokens;
pub mod users;
pub mod verifiers;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::{Error, Result};

/// The database file's name inside the data dir.
pub const DATABASE_FILE: &str = "tileworks.db";

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the data dir and its database, and applies pending migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        create_private_dir(data_dir)?;
        let url = format!("sqlite://{}", data_dir.join(DATABASE_FILE).display());
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|e| Error::Config(format!("database path {url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../migrations").run(&pool).await?;
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn users(&self) -> users::Users<'_> {
        users::Users::new(&self.pool)
    }

    pub fn api_clients(&self) -> api_clients::ApiClients<'_> {
        api_clients::ApiClients::new(&self.pool)
    }

    pub fn tokens(&self) -> tokens::Tokens<'_> {
        tokens::Tokens::new(&self.pool)
    }

    pub fn products(&self) -> products::Products<'_> {
        products::Products::new(&self.pool)
    }

    pub fn certificate_authorities(&self) -> certificate_authorities::CertificateAuthorities<'_> {
        certificate_authorities::CertificateAuthorities::new(&self.pool)
    }

    pub fn director(&self) -> director::Director<'_> {
        director::Director::new(&self.pool)
    }

    pub fn stemcells(&self) -> stemcells::Stemcells<'_> {
        stemcells::Stemcells::new(&self.pool)
    }

    pub fn installations(&self) -> installations::Installations<'_> {
        installations::Installations::new(&self.pool)
    }

    pub fn keyring(&self) -> keyring::Keyring<'_> {
        keyring::Keyring::new(&self.pool)
    }

    pub fn broker(&self) -> broker::Broker<'_> {
        broker::Broker::new(&self.pool)
    }

    pub fn audit(&self) -> audit::Audit<'_> {
        audit::Audit::new(&self.pool)
    }

    pub fn verifiers(&self) -> verifiers::Verifiers<'_> {
        verifiers::Verifiers { pool: &self.pool }
    }

    pub fn fleet(&self) -> fleet::Fleet<'_> {
        fleet::Fleet::new(&self.pool)
    }
}

pub(crate) fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .map_err(|e| Error::io(format!("creating data dir {}", path.display()), e))
}

/// Seconds since the Unix epoch, the time unit of every expiry column.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement in the store writes numbered `$N` placeholders (the form PostgreSQL
    /// reads); SQLite must bind them by number, also when one number appears twice and when
    /// the numbers appear out of order.
    #[tokio::test]
    async fn sqlite_binds_numbered_placeholders_by_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let row: (String, String, i64) = sqlx::query_as("SELECT $2, $1 || $2, $3 + $3")
            .bind("a")
            .bind("b")
            .bind(20_i64)
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(row, ("b".to_owned(), "ab".to_owned(), 40));
    }
}
