//! Where Tileworks keeps its files: imported tiles (`tiles/`) and stemcell tarballs
//! (`stemcells/`). By default they are files in the data dir, as they always were. Replicas
//! (issue 15) have a data dir each, so with `--object-store-url s3://bucket[/prefix]` the files
//! live in an S3-compatible object store that every replica reads, and each replica's data-dir
//! folders become its cache of that store.
//!
//! - [`local`]: the default, the data dir's folders alone;
//! - [`s3`]: the object store (the `object_store` crate): configuration from the standard AWS
//!   variables, the start-up probe, multipart uploads streamed from a file, streamed downloads;
//! - [`cache`]: a stored file as a local file on this replica, downloaded when missing and
//!   checked against its SHA-256;
//! - [`sync`]: the data dir and the store brought in line: at start the local files the store
//!   lacks are uploaded (a single machine moving to replicas), before an export the stored files
//!   the data dir lacks are downloaded.
//!
//! Instance log bundles (`logs/`) are kept here too: a finished fetch's tarball goes to the
//! store, so any replica serves its download (`crate::deployed::instance_logs`). They are
//! short-lived and downloaded at most a few times, so a replica streams them from the store
//! through a temporary file ([`Files::open_stored`]) instead of caching them.
//!
//! The database records a file by its path in the importing replica's data dir (as before the
//! store existed). Only the file name counts with a store: the object is `<folder>/<name>`, and
//! the name holds the first 12 hex digits of the file's SHA-256, so another content never
//! takes the same name.

pub mod cache;
pub mod local;
pub mod s3;
pub mod sync;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::uploads::Spool;
use crate::{Error, Result};

/// The kinds of file Tileworks keeps, each a folder of the data dir and a prefix in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Tiles,
    Stemcells,
    /// Instance log bundles: neither exported nor synchronised (a fetch is short-lived).
    Logs,
}

impl Folder {
    pub fn name(self) -> &'static str {
        match self {
            Folder::Tiles => "tiles",
            Folder::Stemcells => "stemcells",
            Folder::Logs => "logs",
        }
    }
}

/// Tileworks's files, local or in an object store. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: PathBuf,
    /// `None`: the data dir alone (the default).
    remote: Option<s3::ObjectStoreFiles>,
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Files")
            .field("data_dir", &self.inner.data_dir)
            .field("object_store", &self.object_store_url())
            .finish()
    }
}

impl Files {
    /// Files in the data dir alone.
    pub fn local(data_dir: &Path) -> Files {
        Files {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_path_buf(),
                remote: None,
            }),
        }
    }

    /// Files in the data dir, or with `object_store_url` in that store, which must answer a
    /// probe (a small object written, read back and deleted): an unusable store stops the
    /// start with a message naming it, never the first import.
    pub async fn open(data_dir: &Path, object_store_url: Option<&str>) -> Result<Files> {
        let Some(url) = object_store_url.filter(|u| !u.trim().is_empty()) else {
            return Ok(Files::local(data_dir));
        };
        let remote = s3::ObjectStoreFiles::from_env(url)?;
        remote.probe().await.map_err(|e| {
            Error::Config(format!(
                "--object-store-url {url}: the object store is not usable ({e}); check the \
                 bucket and AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY"
            ))
        })?;
        tracing::info!(object_store = %url, "files in the object store");
        Ok(Files {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_path_buf(),
                remote: Some(remote),
            }),
        })
    }

    /// The store's URL (`s3://bucket/prefix`), or `None` for the data dir alone.
    pub fn object_store_url(&self) -> Option<&str> {
        self.inner.remote.as_ref().map(|r| r.url())
    }

    /// `<data-dir>/<folder>`: where uploads spool, and where files are kept (locally) or
    /// cached (with a store).
    pub fn dir(&self, folder: Folder) -> PathBuf {
        self.inner.data_dir.join(folder.name())
    }

    /// Keeps a finished upload as `name` in `folder` and answers the path to record: with a
    /// store, the upload is first written to it (multipart, streamed from the spooled file),
    /// then stays in this replica's folder as its cached copy.
    pub async fn keep(&self, folder: Folder, spool: Spool, name: &str) -> Result<PathBuf> {
        self.upload(folder, &spool, name).await?;
        self.keep_uploaded(folder, spool, name).await
    }

    /// The first half of [`keep`](Self::keep), for a caller that must not hold a lock while a
    /// large file goes to the store: writes the finished upload to the store as `name` in
    /// `folder` (nothing without a store).
    pub async fn upload(&self, folder: Folder, spool: &Spool, name: &str) -> Result<()> {
        if let Some(remote) = &self.inner.remote {
            remote.put_file(&key(folder, name)?, spool.path()).await?;
        }
        Ok(())
    }

    /// The second half of [`keep`](Self::keep), after [`upload`](Self::upload): moves the
    /// spooled file to `name` in `folder` and answers the path to record.
    pub async fn keep_uploaded(&self, folder: Folder, spool: Spool, name: &str) -> Result<PathBuf> {
        let path = self.dir(folder).join(name);
        spool.keep_as(&path).await?;
        Ok(path)
    }

    /// A local file with the content recorded at `recorded` (a path in some replica's data
    /// dir): the path itself without a store; with one, this replica's cached copy, downloaded
    /// first when missing and checked against `sha256`.
    pub async fn local_copy(
        &self,
        folder: Folder,
        recorded: &str,
        sha256: Option<&str>,
    ) -> Result<PathBuf> {
        match &self.inner.remote {
            None => Ok(PathBuf::from(recorded)),
            Some(remote) => {
                let name = file_name(recorded)?;
                let path = self.dir(folder).join(name);
                cache::fill(remote, &key(folder, name)?, &path, sha256).await?;
                Ok(path)
            }
        }
    }

    /// Whether the file recorded at `recorded` is kept: on disk without a store; with one,
    /// recorded is kept (the store is not asked on every listing; a missing object is a 502 when
    /// it is read).
    pub fn is_kept(&self, recorded: &Path) -> bool {
        match &self.inner.remote {
            None => recorded.is_file(),
            Some(_) => true,
        }
    }

    /// Removes the object of the file recorded at `recorded` from the store (nothing without
    /// one). Called before the record goes: a store that fails (502) leaves the file and its
    /// record as they were, never a record without its object.
    pub async fn remove_stored(&self, folder: Folder, recorded: &str) -> Result<()> {
        if let Some(remote) = &self.inner.remote {
            remote.delete(&key(folder, file_name(recorded)?)?).await?;
        }
        Ok(())
    }

    /// Removes this replica's file recorded at `recorded` (its cached copy with a store), after
    /// the record went. Only a file in `folder` is touched; a failure is logged, as it always
    /// was: a leftover file costs disk space, never correctness.
    pub async fn remove_local(&self, folder: Folder, recorded: &str) {
        let path = match &self.inner.remote {
            None => PathBuf::from(recorded),
            Some(_) => match file_name(recorded) {
                Ok(name) => self.dir(folder).join(name),
                Err(_) => return,
            },
        };
        local::remove_in(&self.dir(folder), &path).await;
    }

    /// Keeps the finished file `local` (in `folder`) as `name` and answers the path to record:
    /// the file itself without a store; with one, it is uploaded and the local file removed
    /// (read back through [`open_stored`](Self::open_stored)).
    pub async fn keep_file(&self, folder: Folder, local: &Path, name: &str) -> Result<PathBuf> {
        let path = self.dir(folder).join(file_name(name)?);
        match &self.inner.remote {
            None => {
                if local != path {
                    tokio::fs::rename(local, &path)
                        .await
                        .map_err(|e| Error::io(format!("storing {}", path.display()), e))?;
                }
            }
            Some(remote) => {
                remote.put_file(&key(folder, name)?, local).await?;
                local::remove_in(&self.dir(folder), local).await;
            }
        }
        Ok(path)
    }

    /// The file recorded at `recorded`, open for reading once: the file itself without a store;
    /// with one, the object downloaded into a temporary file of `folder` that is unlinked at
    /// once (it goes when the reader closes it, and nothing is left on this replica).
    /// `Ok(None)` when it is not there any more.
    pub async fn open_stored(
        &self,
        folder: Folder,
        recorded: &str,
    ) -> Result<Option<tokio::fs::File>> {
        let path = match &self.inner.remote {
            None => PathBuf::from(recorded),
            Some(remote) => {
                let key = key(folder, recorded)?;
                if !remote.exists(&key).await? {
                    return Ok(None);
                }
                let dir = self.dir(folder);
                tokio::fs::create_dir_all(&dir)
                    .await
                    .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
                let part = dir.join(format!(
                    "{}{}.part",
                    crate::uploads::UPLOAD_PREFIX,
                    crate::secrets::random_token(12)
                ));
                if let Err(e) = remote.get_to_file(&key, &part).await {
                    let _ = tokio::fs::remove_file(&part).await;
                    return Err(e);
                }
                let file = tokio::fs::File::open(&part).await;
                let _ = tokio::fs::remove_file(&part).await;
                return file
                    .map(Some)
                    .map_err(|e| Error::io(format!("reading {}", part.display()), e));
            }
        };
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    pub(crate) fn remote(&self) -> Option<&s3::ObjectStoreFiles> {
        self.inner.remote.as_ref()
    }
}

/// The last component of a recorded path, refused unless it is a plain file name (records are
/// written by Tileworks, but a name must never steer a download outside the folder).
fn file_name(recorded: &str) -> Result<&str> {
    let name = Path::new(recorded)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return Err(Error::Internal(format!(
            "the recorded file {recorded} has no usable name"
        )));
    }
    Ok(name)
}

/// The object of `name` in `folder`, below the store's prefix.
fn key(folder: Folder, name: &str) -> Result<String> {
    Ok(format!("{}/{}", folder.name(), file_name(name)?))
}

#[cfg(test)]
mod tests;
