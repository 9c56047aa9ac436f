//! The store: every database access goes through here. SQLite by default (one file under the data
//! dir, WAL); the SQL is kept portable. Runtime queries only (no `query!` macros), so building needs
//! no database.

pub mod api_clients;
pub mod audit;
pub mod broker;
pub mod certificate_authorities;
pub mod changes;
pub mod claims;
pub mod director;
pub mod fleet;
pub mod generation;
pub mod installations;
pub mod keyring;
pub mod log_fetches;
pub mod login_failures;
pub mod products;
pub mod sealing;
pub mod sessions;
pub mod snapshot;
pub mod stemcells;
pub mod tokens;
pub mod users;
pub mod verifiers;
pub mod write_gate;

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::{Error, Result};

/// The database file's name inside the data dir.
pub const DATABASE_FILE: &str = "tileworks.db";

/// Which engine the store talks to. Only this module (and the few statements that have no
/// portable form) looks at it; everything else in Tileworks sees one `Store`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The default: one file in the data dir, WAL.
    Sqlite,
    /// A shared PostgreSQL server (`--database-url postgres://…`), for several replicas.
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Configuration writes holding the cross-replica write gate ([`write_gate`]).
    write_holders: std::sync::Arc<tokio::sync::Semaphore>,
    /// The data key's sealer, once the store is unlocked: the columns the store seals itself
    /// (the broker's cluster manifests) need it.
    at_rest: std::sync::Arc<std::sync::OnceLock<sealing::Sealer>>,
    /// Installation changes announced between replicas (PostgreSQL's LISTEN/NOTIFY).
    changes: changes::Changes,
    /// Random per opening: what is remembered of one database (a cached page) is never taken
    /// for another's with the same data generation (an import swaps the database).
    opening: u64,
}

impl Store {
    /// Opens (creating if needed) the data dir and its SQLite database, and applies pending
    /// migrations.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        Store::connect(data_dir, None).await
    }

    /// Opens the database `data.database_url` names (the data dir's SQLite file without one).
    pub async fn open_data(data: &crate::config::DataDir) -> Result<Store> {
        Store::connect(&data.path, data.database_url.as_deref()).await
    }

    /// Opens the data dir (files stay there whatever the database) and the database at
    /// `database_url`: `sqlite://…`, `postgres://…`, or `None` for the data dir's SQLite file.
    /// Applies that backend's pending migrations (migrations/sqlite or migrations/postgres:
    /// the same versions, each in its dialect).
    pub async fn connect(data_dir: &Path, database_url: Option<&str>) -> Result<Store> {
        create_private_dir(data_dir)?;
        sqlx::any::install_default_drivers();
        let url = match database_url {
            Some(url) => url.to_owned(),
            None => format!("sqlite://{}", data_dir.join(DATABASE_FILE).display()),
        };
        let backend = backend_of(&url)?;
        let mut options: AnyConnectOptions = url
            .parse()
            .map_err(|e| Error::Config(format!("--database-url: {e}")))?;
        if backend == Backend::Sqlite && !url.contains("mode=") {
            // Create the file on first start, as before.
            let separator = if url.contains('?') { '&' } else { '?' };
            options = format!("{url}{separator}mode=rwc")
                .parse()
                .map_err(|e| Error::Config(format!("--database-url: {e}")))?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // What SqliteConnectOptions set before: WAL, enforced foreign keys, and
                        // waiting for a writer instead of failing at once.
                        connection
                            .execute(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
                                 PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                    }
                    Ok(())
                })
            })
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("../migrations/postgres").run(&pool).await?,
        }
        Ok(Store {
            pool,
            backend,
            write_holders: std::sync::Arc::new(tokio::sync::Semaphore::new(
                write_gate::SHARED_HOLDERS,
            )),
            at_rest: Default::default(),
            changes: changes::Changes::new(backend, &url),
            opening: rand::random(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
        installations::Installations::new(&self.pool, self.backend)
    }

    /// Installation changes as other replicas announce them (`None` on SQLite).
    pub fn installation_changes(&self) -> Option<tokio::sync::broadcast::Receiver<i64>> {
        self.changes.subscribe()
    }

    pub fn keyring(&self) -> keyring::Keyring<'_> {
        keyring::Keyring::new(&self.pool)
    }

    /// Hands the store the data key's sealer, once unlocked (later calls keep the first).
    pub fn seal_at_rest_with(&self, sealer: sealing::Sealer) {
        let _ = self.at_rest.set(sealer);
    }

    pub fn broker(&self) -> broker::Broker<'_> {
        broker::Broker::new(&self.pool, self.at_rest.get())
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

    pub fn claims(&self) -> claims::Claims<'_> {
        claims::Claims::new(&self.pool)
    }

    pub fn log_fetches(&self) -> log_fetches::LogFetches<'_> {
        log_fetches::LogFetches::new(&self.pool)
    }

    pub fn generation(&self) -> generation::DataGeneration<'_> {
        generation::DataGeneration::new(&self.pool, self.backend, self.opening)
    }

    pub fn login_failures(&self) -> login_failures::LoginFailures<'_> {
        login_failures::LoginFailures::new(&self.pool)
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

/// The backend `--database-url` names (`None`: the data dir's SQLite file), before connecting.
pub fn backend_of_url(database_url: Option<&str>) -> Result<Backend> {
    database_url.map_or(Ok(Backend::Sqlite), backend_of)
}

/// The backend a database URL names; anything else is refused with the URL's scheme.
fn backend_of(url: &str) -> Result<Backend> {
    let scheme = url.split(':').next().unwrap_or_default();
    match scheme {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        _ => Err(Error::Config(format!(
            "--database-url: scheme '{scheme}' is not supported (use sqlite://… or postgres://…)"
        ))),
    }
}

/// A 0/1 flag column (INTEGER on SQLite, BIGINT on PostgreSQL: the same on both, so the
/// statements need no per-backend form), read as a `bool` through `#[sqlx(try_from = "Flag")]`.
#[derive(sqlx::Type, Clone, Copy, Debug)]
#[sqlx(transparent)]
pub struct Flag(i64);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0 != 0
    }
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

    /// Through the `Any` pool the SQLite connections keep what the SQLite-only pool set:
    /// WAL, enforced foreign keys, a busy timeout.
    #[tokio::test]
    async fn sqlite_connections_keep_wal_foreign_keys_and_busy_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(keys, 1);
        let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(timeout, 10_000);
    }

    /// A database URL of another engine is refused naming the option and the schemes known.
    #[tokio::test]
    async fn unknown_database_url_scheme_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::connect(dir.path(), Some("mysql://localhost/tileworks"))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--database-url") && err.contains("'mysql'"),
            "{err}"
        );
    }
}
