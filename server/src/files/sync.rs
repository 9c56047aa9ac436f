//! The data dir's folders and the object store brought in line, over every file the database
//! records (imported tiles, stemcell tarballs):
//!
//! - at start, [`upload_missing`]: a file this replica has that the store lacks is uploaded, so
//!   a single machine's data dir moves to the store by starting it once with
//!   `--object-store-url` (and an installation imported into a fresh data dir reaches the
//!   store the same way);
//! - before an export, [`download_missing`]: a stored file this replica has not cached yet is
//!   downloaded, since an export carries the data dir's folders.
//!
//! Both do nothing without a store.

use super::{file_name, key, Files, Folder};
use crate::store::Store;
use crate::Result;

/// Every recorded file: its folder, recorded path and SHA-256.
async fn recorded(store: &Store) -> Result<Vec<(Folder, String, Option<String>)>> {
    let mut files = Vec::new();
    for row in store.products().available().await? {
        if let Some(path) = row.file_path {
            files.push((Folder::Tiles, path, Some(row.sha256)));
        }
    }
    for row in store.stemcells().all().await? {
        if let Some(path) = row.file_path {
            files.push((Folder::Stemcells, path, row.sha256));
        }
    }
    Ok(files)
}

/// Uploads the recorded files this replica has and the store lacks; answers how many.
pub async fn upload_missing(files: &Files, store: &Store) -> Result<usize> {
    let Some(remote) = files.remote() else {
        return Ok(0);
    };
    let mut uploaded = 0;
    for (folder, path, _) in recorded(store).await? {
        let name = file_name(&path)?;
        let local = files.dir(folder).join(name);
        if !local.is_file() {
            continue;
        }
        let key = key(folder, name)?;
        if remote.exists(&key).await? {
            continue;
        }
        remote.put_file(&key, &local).await?;
        tracing::info!(%key, object_store = %remote.url(), "uploaded a local file the object store lacked");
        uploaded += 1;
    }
    Ok(uploaded)
}

/// Downloads the recorded files this replica has not cached; answers how many were missing.
pub async fn download_missing(files: &Files, store: &Store) -> Result<usize> {
    if files.remote().is_none() {
        return Ok(0);
    }
    let mut downloaded = 0;
    for (folder, path, sha256) in recorded(store).await? {
        if !files.dir(folder).join(file_name(&path)?).is_file() {
            files.local_copy(folder, &path, sha256.as_deref()).await?;
            downloaded += 1;
        }
    }
    Ok(downloaded)
}
