//! This replica's cache of the object store: a stored file is read from a local copy in the
//! data dir's folder (`<data-dir>/<folder>/<name>`, the name holding the first 12 hex digits of
//! its SHA-256), downloaded when missing. A download streams into a temporary file (named like
//! an upload's spool, so a restart removes one a crash left) whose SHA-256 must be the recorded
//! one, and is then renamed into place: a reader never sees half a file, and two downloads of
//! the same file at once each finish their own copy and the last rename wins with the same
//! content.

use std::path::Path;

use super::s3::ObjectStoreFiles;
use crate::{Error, Result};

/// Makes sure `path` holds `key`'s content: kept when already there, else downloaded and, when
/// `sha256` is known, checked against it.
pub async fn fill(
    remote: &ObjectStoreFiles,
    key: &str,
    path: &Path,
    sha256: Option<&str>,
) -> Result<()> {
    if tokio::fs::try_exists(path).await.unwrap_or(false) {
        return Ok(());
    }
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal(format!("{} has no folder", path.display())))?;
    let part = dir.join(format!(
        "{}{}.part",
        crate::uploads::UPLOAD_PREFIX,
        crate::secrets::random_token(12)
    ));
    let downloaded = async {
        let digest = remote.get_to_file(key, &part).await?;
        if let Some(expected) = sha256 {
            if !digest.eq_ignore_ascii_case(expected) {
                return Err(Error::ObjectStore {
                    store: remote.url().to_owned(),
                    action: format!("downloading {key}"),
                    message: format!("its SHA-256 is {digest}, not the recorded {expected}"),
                });
            }
        }
        tokio::fs::rename(&part, path)
            .await
            .map_err(|e| Error::io(format!("storing {}", path.display()), e))
    }
    .await;
    if downloaded.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    } else {
        tracing::info!(key, object_store = %remote.url(), "downloaded into this replica's cache");
    }
    downloaded
}
