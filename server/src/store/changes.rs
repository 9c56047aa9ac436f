//! Word between replicas that an installation changed (a log line, a product's progress, its
//! end), so that an events stream served by one replica of an apply another runs follows it as
//! it happens instead of on a timer. On PostgreSQL the statements that change an installation
//! also `pg_notify` [`CHANNEL`] with its id (delivered when their transaction commits), and each
//! replica that serves such a stream keeps one `LISTEN` connection open and hands the ids to its
//! streams. SQLite has no such thing: streams there poll (`http/api/installations.rs`).
//!
//! A notification is only a wake-up: the stream then reads the stored rows, so one lost in a
//! reconnect costs latency (the stream still polls, slowly), never a line.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::Backend;
use crate::Result;

/// The channel installation changes are announced on; the payload is the installation's id.
pub const CHANNEL: &str = "tileworks_installations";

/// This replica's end of the channel. Cheap to clone.
#[derive(Clone, Default)]
pub struct Changes {
    /// The PostgreSQL URL to listen with (a secret: never printed); `None` on SQLite.
    url: Option<Arc<str>>,
    /// Started on the first subscription, so commands and tests that never stream open no
    /// listening connection.
    sender: Arc<OnceLock<broadcast::Sender<i64>>>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("listens", &self.url.is_some())
            .finish()
    }
}

impl Changes {
    pub(super) fn new(backend: Backend, url: &str) -> Changes {
        Changes {
            url: (backend == Backend::Postgres).then(|| Arc::from(url)),
            sender: Arc::default(),
        }
    }

    /// The ids of installations as they change, or `None` where changes are not announced
    /// (SQLite). The first call starts listening.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<i64>> {
        let url = self.url.clone()?;
        let sender = self.sender.get_or_init(|| {
            let (sender, _) = broadcast::channel(1024);
            tokio::spawn(listen(url, sender.clone()));
            sender
        });
        Some(sender.subscribe())
    }
}

/// Keeps one `LISTEN` connection, reconnecting after a failure, and hands on every id heard.
async fn listen(url: Arc<str>, sender: broadcast::Sender<i64>) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => loop {
                    match listener.recv().await {
                        Ok(notification) => {
                            if let Ok(id) = notification.payload().parse::<i64>() {
                                let _ = sender.send(id);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "listening for installation changes");
                            break;
                        }
                    }
                },
                Err(e) => tracing::warn!(error = %e, "listening for installation changes"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting to listen for installation changes"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Announces that installation `id` changed, with the statement's transaction (PostgreSQL; a
/// no-op on SQLite).
pub(super) async fn announce<'e, E>(executor: E, backend: Backend, id: i64) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(id.to_string())
            .execute(executor)
            .await?;
    }
    Ok(())
}
