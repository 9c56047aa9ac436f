//! Streaming uploads, for tiles and stemcells alike: a request body is written chunk by chunk
//! to a fresh temporary file (mode 0600) in the store it is meant for, hashed on the way and
//! refused once it passes the limit, so memory stays flat whatever the size. The owner then
//! [`finish`](Spool::finish)es it (flushed and synced to disk, with its SHA-256) and moves the
//! file where it belongs with [`keep_as`](Spool::keep_as). A spool dropped before that removes
//! its file.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::{Error, Result};

/// Name prefix of temporary upload files (a restart removes leftovers with [`remove_stale`]).
pub const UPLOAD_PREFIX: &str = ".upload-";

/// An upload being written.
pub struct Spool {
    /// Buffered: request chunks are small (a few KiB); the disk gets 1 MiB writes.
    file: Option<tokio::io::BufWriter<tokio::fs::File>>,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    max: u64,
    /// The request field the file came in (named by refusals).
    field: &'static str,
}

/// A finished upload: on disk in full, with its digest.
#[derive(Debug, Clone)]
pub struct Spooled {
    pub sha256: String,
    pub size: u64,
}

impl Spool {
    /// A fresh temporary file in `dir`, for at most `max` bytes arriving in `field`.
    pub async fn create(dir: &Path, max: u64, field: &'static str) -> Result<Spool> {
        let path = dir.join(format!(
            "{UPLOAD_PREFIX}{}.part",
            crate::secrets::random_token(12)
        ));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options
            .open(&path)
            .await
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
        Ok(Spool {
            file: Some(tokio::io::BufWriter::with_capacity(1024 * 1024, file)),
            path,
            hasher: Sha256::new(),
            size: 0,
            max,
            field,
        })
    }

    /// Appends a chunk, hashing it on the way; past the limit the upload is refused (422
    /// naming the field).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(Error::invalid(
                self.field,
                format!(
                    "the file is larger than the {} allowed",
                    crate::tile_archive::human_size(self.max)
                ),
            ));
        }
        self.hasher.update(chunk);
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("upload already finished".into()))?;
        file.write_all(chunk)
            .await
            .map_err(|e| Error::io("writing an upload", e))
    }

    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Where the file is while it is a spool.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes and syncs the file; an empty upload is refused (422 naming the field).
    pub async fn finish(&mut self) -> Result<Spooled> {
        if let Some(mut file) = self.file.take() {
            file.flush()
                .await
                .map_err(|e| Error::io("finishing an upload", e))?;
            file.get_ref()
                .sync_all()
                .await
                .map_err(|e| Error::io("finishing an upload", e))?;
        }
        if self.size == 0 {
            return Err(Error::invalid(self.field, "the file is empty"));
        }
        Ok(Spooled {
            sha256: hex::encode(self.hasher.clone().finalize()),
            size: self.size,
        })
    }

    /// Moves the finished file to `destination`; from then on the spool no longer owns it.
    pub async fn keep_as(mut self, destination: &Path) -> Result<()> {
        tokio::fs::rename(&self.path, destination)
            .await
            .map_err(|e| Error::io(format!("storing {}", destination.display()), e))?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        // Still here means the upload was not kept: remove the partial file.
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes temporary uploads a crash left in `dir`.
pub fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with(UPLOAD_PREFIX)
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spools_hash_limit_keep_and_clean_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path(), 10, "f").await.unwrap();
        spool.write(b"hello").await.unwrap();
        let done = spool.finish().await.unwrap();
        assert_eq!(done.size, 5);
        assert_eq!(
            done.sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let kept = dir.path().join("kept");
        spool.keep_as(&kept).await.unwrap();
        assert_eq!(std::fs::read(&kept).unwrap(), b"hello");

        let mut big = Spool::create(dir.path(), 4, "f").await.unwrap();
        let err = big.write(b"hello").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "f: the file is larger than the 4 B allowed"
        );
        let partial = big.path().to_owned();
        drop(big);
        assert!(!partial.exists(), "a dropped spool removes its file");

        let mut empty = Spool::create(dir.path(), 4, "f").await.unwrap();
        assert!(empty.finish().await.is_err());
        std::fs::write(dir.path().join(format!("{UPLOAD_PREFIX}x.part")), b"x").unwrap();
        remove_stale(dir.path());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
        // Every upload file goes (a restart has no open spools); the kept file stays.
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(kept.exists());
    }
}
