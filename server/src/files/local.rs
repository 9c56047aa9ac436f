//! The default: files in the data dir's folders, nothing else. Keeping a file is renaming its
//! spool (`crate::uploads::Spool::keep_as`); what is left here is removing one, confined to its
//! folder.

use std::path::Path;

/// Removes `path` if it lies in `dir`; a file already gone is fine, another failure is logged
/// (a leftover file costs disk space, never correctness: nothing records it any more).
pub async fn remove_in(dir: &Path, path: &Path) {
    // The records are Tileworks's own, but a path outside the folder is never touched.
    if !path.starts_with(dir) {
        tracing::warn!(path = %path.display(), "not removing a file outside its folder");
        return;
    }
    if let Err(e) = tokio::fs::remove_file(path).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(error = %e, path = %path.display(), "removing a file");
        }
    }
}
