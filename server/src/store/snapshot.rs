//! Consistent copies of the database while it is in use, for an export of the installation
//! (`crate::installation_archive`), always as a SQLite file: on SQLite `VACUUM INTO` writes
//! one transaction's view of the whole database into a new file, whatever the other
//! connections are writing meanwhile (WAL), and the copy needs no `-wal` beside it; on
//! PostgreSQL [`copy_postgres_into`] copies every table from one snapshot into a SQLite
//! database the SQLite migrations made (the two schemas have the same tables and columns).
//! An import into a PostgreSQL store goes the other way: [`copy_sqlite_into_postgres`].

use std::path::Path;
use std::str::FromStr;

use futures_util::TryStreamExt;
use sqlx::any::{AnyArguments, AnyRow, AnyTypeInfoKind};
use sqlx::query::Query;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, Column, Row};
use sqlx::{ConnectOptions, Connection};

use crate::{Error, Result};

/// Copies `store`'s database into a new SQLite database in `dest_dir` (its
/// [`super::DATABASE_FILE`], which must not exist yet), whatever the backend.
pub async fn copy_into(store: &super::Store, dest_dir: &Path) -> Result<()> {
    match store.backend() {
        super::Backend::Sqlite => {
            vacuum_into(store.pool(), &dest_dir.join(super::DATABASE_FILE)).await
        }
        super::Backend::Postgres => copy_postgres_into(store.pool(), dest_dir).await,
    }
}

/// Copies the SQLite database behind `pool` into `dest` (which must not exist yet).
async fn vacuum_into(pool: &AnyPool, dest: &Path) -> Result<()> {
    sqlx::query("VACUUM INTO $1")
        .bind(dest.to_string_lossy().as_ref())
        .execute(pool)
        .await?;
    Ok(())
}

/// Copies the PostgreSQL database behind `pool` into a new SQLite database in `dest_dir`: the
/// SQLite migrations make its tables, then every row of each of them is read from one
/// `REPEATABLE READ` snapshot (so the copy is one moment of the installation, whatever other
/// replicas write meanwhile) and inserted, in one SQLite transaction with foreign keys checked
/// at its end. A column the PostgreSQL table lacks is an error: the schemas move together.
async fn copy_postgres_into(pool: &AnyPool, dest_dir: &Path) -> Result<()> {
    let copy = super::Store::open(dest_dir).await?;
    let tables = sqlite_tables(copy.pool()).await?;
    let mut source = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *source)
        .await?;
    let mut target = copy.pool().begin().await?;
    sqlx::query("PRAGMA defer_foreign_keys = ON")
        .execute(&mut *target)
        .await?;
    for table in tables {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1)")
            .bind(&table)
            .fetch_all(&mut *target)
            .await?;
        let list = columns
            .iter()
            .map(|(c,)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        // Rows the migrations seeded are replaced by the source's.
        sqlx::query(&format!("DELETE FROM \"{table}\""))
            .execute(&mut *target)
            .await?;
        let slots = (1..=columns.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let insert = format!("INSERT INTO \"{table}\" ({list}) VALUES ({slots})");
        let select = format!("SELECT {list} FROM \"{table}\"");
        // Row by row, so a long audit trail is never held in memory whole.
        let mut rows = sqlx::query(&select).fetch(&mut *source);
        while let Some(row) = rows.try_next().await? {
            let mut query = sqlx::query(&insert);
            for i in 0..columns.len() {
                query = bind_column(query, &row, i)?;
            }
            query.execute(&mut *target).await?;
        }
    }
    target.commit().await?;
    source.rollback().await?;
    checkpoint(copy.pool()).await?;
    copy.pool().close().await;
    Ok(())
}

/// Copies every table of the SQLite database behind `source` (an export's, opened and migrated
/// to this version) into the PostgreSQL database behind `target`, which must be fresh: no
/// users, checked under a lock on the users table, so two replicas importing (or one setting
/// up) at once cannot both win. One transaction: the seeded rows of the fresh database are
/// replaced, tables referenced by others are filled first, each row cast to the PostgreSQL
/// column's type (SQLite keeps any value in any column), identities go on after the highest
/// imported value, and any failure leaves the database as it was.
pub async fn copy_sqlite_into_postgres(source: &AnyPool, target: &AnyPool) -> Result<()> {
    let tables = tables_parents_first(source).await?;
    let mut tx = target.begin().await?;
    sqlx::query("LOCK TABLE users IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    if users > 0 {
        return Err(crate::setup::already_set_up());
    }
    // Children first when emptying, parents first when filling.
    for table in tables.iter().rev() {
        sqlx::query(&format!("DELETE FROM \"{table}\""))
            .execute(&mut *tx)
            .await?;
    }
    for table in &tables {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(source)
            .await?;
        let types: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::TEXT, data_type::TEXT, is_identity::TEXT \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind(table)
        .fetch_all(&mut *tx)
        .await?;
        let mut slots = Vec::with_capacity(columns.len());
        for (i, (column,)) in columns.iter().enumerate() {
            let (_, data_type, _) = types.iter().find(|(c, ..)| c == column).ok_or_else(|| {
                Error::Internal(format!(
                    "the PostgreSQL table {table} has no column {column}: the schemas differ"
                ))
            })?;
            slots.push(format!("CAST(${} AS {data_type})", i + 1));
        }
        let list = columns
            .iter()
            .map(|(c,)| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        // A column PostgreSQL generates ALWAYS (SQLite's implicit rowid, made explicit) is not
        // among SQLite's columns; the rows are read in rowid order so it numbers them alike.
        let insert = format!(
            "INSERT INTO \"{table}\" ({list}) OVERRIDING SYSTEM VALUE VALUES ({})",
            slots.join(", ")
        );
        let select = format!("SELECT {list} FROM \"{table}\" ORDER BY rowid");
        let mut rows = sqlx::query(&select).fetch(source);
        while let Some(row) = rows.try_next().await? {
            let mut query = sqlx::query(&insert);
            for i in 0..columns.len() {
                query = bind_column(query, &row, i)?;
            }
            query.execute(&mut *tx).await?;
        }
        drop(rows);
        for (column, _, identity) in &types {
            if identity == "YES" {
                sqlx::query(&format!(
                    "SELECT CAST(setval(pg_get_serial_sequence('\"{table}\"', '{column}'), \
                     COALESCE(MAX(\"{column}\"), 0) + 1, false) AS BIGINT) FROM \"{table}\""
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The SQLite database's tables (but SQLite's own and the migrations'), each after the tables
/// its foreign keys reference.
async fn tables_parents_first(pool: &AnyPool) -> Result<Vec<String>> {
    let names = sqlite_tables(pool).await?;
    let mut parents = std::collections::BTreeMap::new();
    for name in &names {
        let referenced: Vec<(String,)> =
            sqlx::query_as("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
                .bind(name)
                .fetch_all(pool)
                .await?;
        parents.insert(
            name.clone(),
            referenced
                .into_iter()
                .map(|(t,)| t)
                .filter(|t| t != name)
                .collect::<Vec<_>>(),
        );
    }
    let mut ordered: Vec<String> = Vec::with_capacity(names.len());
    while ordered.len() < names.len() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(name, _)| !ordered.contains(name))
            .filter(|(_, refs)| {
                refs.iter()
                    .all(|r| ordered.contains(r) || !parents.contains_key(r))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if ready.is_empty() {
            return Err(Error::Internal(
                "the tables' foreign keys form a cycle: no order to copy them in".into(),
            ));
        }
        ordered.extend(ready);
    }
    Ok(ordered)
}

/// A SQLite database's tables by name, but SQLite's own and the migrations' record.
async fn sqlite_tables(pool: &AnyPool) -> Result<Vec<String>> {
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    Ok(names.into_iter().map(|(name,)| name).collect())
}

/// Binds column `i` of `row` (read from PostgreSQL: `BIGINT`, `TEXT` or `BYTEA`; from SQLite:
/// whatever the value is; any of them NULL) to the next parameter of `query`.
fn bind_column<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    row: &AnyRow,
    i: usize,
) -> Result<Query<'q, Any, AnyArguments<'q>>> {
    let column = row.column(i);
    Ok(match column.type_info().kind() {
        AnyTypeInfoKind::Bool => query.bind(row.try_get::<Option<bool>, _>(i)?),
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            query.bind(row.try_get::<Option<i64>, _>(i)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
            query.bind(row.try_get::<Option<f64>, _>(i)?)
        }
        AnyTypeInfoKind::Text => query.bind(row.try_get::<Option<String>, _>(i)?),
        AnyTypeInfoKind::Blob => query.bind(row.try_get::<Option<Vec<u8>>, _>(i)?),
        AnyTypeInfoKind::Null => query.bind(None::<String>),
    })
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

/// Forces a SQLite database's WAL into its main file, so the file alone holds everything
/// (before it is moved elsewhere).
pub async fn checkpoint(pool: &AnyPool) -> Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await?;
    Ok(())
}

/// The tables that name files in the data dir by path, with the folder those files are in.
const FILE_TABLES: [(&str, &str); 2] =
    [("available_products", "tiles"), ("stemcells", "stemcells")];

/// Points a copied database's tiles and stemcells (kept by path) at the data dir `data_dir` it
/// is copied into: each file keeps its folder and its name. Returns how many rows changed.
pub async fn relocate_files(pool: &AnyPool, data_dir: &Path) -> Result<u64> {
    let mut changed = 0;
    for (table, folder) in FILE_TABLES {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT id, file_path FROM {table} WHERE file_path IS NOT NULL"
        ))
        .fetch_all(pool)
        .await?;
        for (id, old) in rows {
            let Some(name) = Path::new(&old).file_name() else {
                continue;
            };
            let new = data_dir.join(folder).join(name);
            let new = new.to_string_lossy();
            if new != old {
                sqlx::query(&format!("UPDATE {table} SET file_path = $1 WHERE id = $2"))
                    .bind(new.as_ref())
                    .bind(id)
                    .execute(pool)
                    .await?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}
