//! A MySQL server asked to sign a user in to a database (MysqlDatabaseVerifier, the Director's
//! external database): the sqlx MySQL driver's handshake with TLS when the server offers it,
//! the server's own authentication plugins (`mysql_native_password`, `caching_sha2_password`),
//! and the database selected at sign-in. Nothing is run and the connection is closed.

use sqlx::{ConnectOptions, Connection};
use sqlx_mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlSslMode};

use super::{authority, Failure};

/// MySQL's "access denied for user" (a wrong user or password).
const ACCESS_DENIED: u16 = 1045;
/// "access denied for user to database" (the user may not use it).
const DATABASE_ACCESS_DENIED: u16 = 1044;
/// "unknown database".
const UNKNOWN_DATABASE: u16 = 1049;

/// Signs `username` in to `database` at `host:port`.
pub async fn sign_in(
    host: &str,
    port: u16,
    username: &str,
    password: &str,
    database: &str,
) -> Result<(), Failure> {
    let options = MySqlConnectOptions::new()
        .host(host)
        .port(port)
        .username(username)
        .password(password)
        .database(database)
        .ssl_mode(MySqlSslMode::Preferred)
        .disable_statement_logging();
    let server = authority(host, port);
    match options.connect().await {
        Ok(connection) => {
            let _ = connection.close().await;
            Ok(())
        }
        Err(sqlx::Error::Database(e)) => {
            // The server's own message names the user and the host, never the password.
            let (number, message) = match e.try_downcast_ref::<MySqlDatabaseError>() {
                Some(m) => (m.number(), m.message().to_owned()),
                None => (0, e.message().to_owned()),
            };
            match number {
                ACCESS_DENIED | DATABASE_ACCESS_DENIED => Err(Failure::Refused(format!(
                    "MySQL {server} answered: {message}"
                ))),
                UNKNOWN_DATABASE => Err(Failure::Unreachable(format!(
                    "MySQL {server} has no database '{database}'"
                ))),
                _ => Err(Failure::Unreachable(format!(
                    "MySQL {server} answered: {message}"
                ))),
            }
        }
        Err(sqlx::Error::Io(e)) => Err(Failure::Unreachable(format!(
            "cannot connect to {server}: {e}"
        ))),
        Err(e) => Err(Failure::Unreachable(format!("MySQL {server}: {e}"))),
    }
}
