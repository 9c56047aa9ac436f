//! Consistent copies of SQLite databases while they are in use, for an export of the
//! installation (`crate::installation_archive`): `VACUUM INTO` writes one transaction's view
//! of the whole database into a new file, whatever the other connections are writing
//! meanwhile (WAL), and the copy needs no `-wal` beside it.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::AnyPool;
use sqlx::{ConnectOptions, Connection};

use crate::{Error, Result};

/// Copies the database behind `pool` into `dest` (which must not exist yet).
/// Only for the SQLite backend: a PostgreSQL database is copied with its own tools
/// (`pg_dump`), and asking for it here is refused with that advice.
pub async fn vacuum_into(pool: &AnyPool, dest: &Path) -> Result<()> {
    if super::backend_of(pool.connect_options().database_url.as_str())? != super::Backend::Sqlite {
        // A refusal (409), not a server failure: the installation is fine, this export is not
        // built for its backend.
        return Err(Error::Refused(
            "an installation on PostgreSQL is not exported here; back the database up with \
             pg_dump and copy the data directory"
                .into(),
        ));
    }
    sqlx::query("VACUUM INTO $1")
        .bind(dest.to_string_lossy().as_ref())
        .execute(pool)
        .await?;
    Ok(())
}

/// Copies the SQLite database file `source` (another program's, such as the embedded
/// Director's) into `dest`, through a read-only connection of its own.
pub async fn vacuum_file_into(source: &Path, dest: &Path) -> Result<()> {
    let url = format!("sqlite://{}", source.display());
    let mut connection = SqliteConnectOptions::from_str(&url)
        .map_err(|e| Error::Config(format!("database path {url}: {e}")))?
        .read_only(true)
        .busy_timeout(std::time::Duration::from_secs(10))
        .connect()
        .await?;
    sqlx::query("VACUUM INTO $1")
        .bind(dest.to_string_lossy().as_ref())
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}
