//! The Director's blobstore, as far as the stand-in needs one: log bundles that a `fetch logs`
//! task writes and `GET /resources/:id` hands out. Blobs are files under
//! `<data-dir>/blobs/<id>`, named by a random UUID (the blobstore id).
//!
//! A real Director keeps log bundles only for a while, since nobody asks for a bundle twice
//! once it is downloaded; so does this one: every new blob prunes those older than
//! [`MAX_AGE`] and all but the newest [`MAX_COUNT`], so the data dir does not grow forever.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};

/// How long a blob is kept.
pub const MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// How many blobs are kept at most (the newest).
pub const MAX_COUNT: usize = 50;

/// Suffix of a blob still being written; never served, pruned like the others.
const PARTIAL: &str = ".part";

/// The directory holding the blobs.
pub fn blobs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("blobs")
}

/// Whether `id` has the shape of a blobstore id this Director hands out (a UUID). Anything
/// else, `..` and slashes included, is not a blob.
pub fn is_blob_id(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|u| u.hyphenated().to_string() == id)
}

/// The file of an existing, complete blob.
pub fn blob_path(data_dir: &Path, id: &str) -> Result<PathBuf> {
    let missing = || Error::NotFound(format!("Resource '{id}' doesn't exist"));
    if !is_blob_id(id) {
        return Err(missing());
    }
    let path = blobs_dir(data_dir).join(id);
    if path.is_file() {
        Ok(path)
    } else {
        Err(missing())
    }
}

/// A blob being written: write to [`NewBlob::path`], then [`NewBlob::commit`] it.
#[derive(Debug)]
pub struct NewBlob {
    pub id: String,
    pub path: PathBuf,
    final_path: PathBuf,
}

impl NewBlob {
    /// Reserves a fresh id and the file to write it to.
    pub fn create(data_dir: &Path) -> Result<NewBlob> {
        let dir = blobs_dir(data_dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let id = uuid::Uuid::new_v4().to_string();
        Ok(NewBlob {
            path: dir.join(format!("{id}{PARTIAL}")),
            final_path: dir.join(&id),
            id,
        })
    }

    /// Makes the blob visible under its id (an atomic rename), then prunes old blobs.
    pub fn commit(self, data_dir: &Path) -> Result<String> {
        std::fs::rename(&self.path, &self.final_path)
            .map_err(|e| Error::io(format!("storing blob {}", self.id), e))?;
        prune(data_dir, MAX_AGE, MAX_COUNT, Some(&self.id));
        Ok(self.id.clone())
    }
}

impl Drop for NewBlob {
    // A blob abandoned half-written (the task failed) leaves nothing behind.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Deletes blobs older than `max_age` and all but the newest `max_count`, never `keep` (the
/// blob just written). Failures are logged, not fatal: pruning is housekeeping.
pub fn prune(data_dir: &Path, max_age: Duration, max_count: usize, keep: Option<&str>) {
    let dir = blobs_dir(data_dir);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let now = SystemTime::now();
    let mut blobs: Vec<(SystemTime, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str() != keep)
        .filter_map(|e| {
            let modified = e.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, e.path()))
        })
        .collect();
    // Newest first; `keep` counts as one of the kept.
    blobs.sort_by_key(|b| std::cmp::Reverse(b.0));
    let room = max_count.saturating_sub(usize::from(keep.is_some()));
    for (i, (modified, path)) in blobs.iter().enumerate() {
        let age = now.duration_since(*modified).unwrap_or_default();
        if i >= room || age > max_age {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::warn!(path = %path.display(), error = %e, "pruning a blob");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_are_blob_ids() {
        assert!(is_blob_id("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!is_blob_id("0F8FAD5B-D9CB-469F-A165-70867728950E"));
        assert!(!is_blob_id("../director.db"));
        assert!(!is_blob_id("0f8fad5bd9cb469fa16570867728950e"));
        assert!(!is_blob_id(""));
    }

    #[test]
    fn committed_blobs_are_found_and_abandoned_ones_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let blob = NewBlob::create(dir.path()).unwrap();
        std::fs::write(&blob.path, b"bundle").unwrap();
        let id = blob.commit(dir.path()).unwrap();
        assert_eq!(
            std::fs::read(blob_path(dir.path(), &id).unwrap()).unwrap(),
            b"bundle"
        );

        let abandoned = NewBlob::create(dir.path()).unwrap();
        std::fs::write(&abandoned.path, b"half").unwrap();
        let (id2, partial) = (abandoned.id.clone(), abandoned.path.clone());
        drop(abandoned);
        assert!(!partial.exists());
        assert!(blob_path(dir.path(), &id2).is_err());
        assert!(blob_path(dir.path(), "nope").is_err());
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_young() {
        let dir = tempfile::tempdir().unwrap();
        let mut ids = Vec::new();
        for _ in 0..5 {
            let blob = NewBlob::create(dir.path()).unwrap();
            std::fs::write(&blob.path, b"x").unwrap();
            // Distinct modification times, oldest first.
            ids.push(blob.commit(dir.path()).unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
        let last = ids.last().cloned();
        prune(dir.path(), MAX_AGE, 2, last.as_deref());
        let left: Vec<bool> = ids
            .iter()
            .map(|id| blob_path(dir.path(), id).is_ok())
            .collect();
        assert_eq!(left, vec![false, false, false, true, true]);

        // Everything is older than zero seconds, except the one kept.
        prune(dir.path(), Duration::ZERO, 10, last.as_deref());
        assert!(blob_path(dir.path(), &ids[3]).is_err());
        assert!(blob_path(dir.path(), &ids[4]).is_ok());
    }
}
