//! The Stemcell Library: stemcells imported into Tileworks (operator-ux-security.md §1.5), which
//! staged product gets which stemcell, and the Ops Manager shapes om reads
//! (`POST /api/v0/stemcells`, `GET/PATCH /api/v0/stemcell_assignments`,
//! `GET/PATCH /api/v0/stemcell_associations`, the diagnostic report's stemcell lists).
//!
//! - [`tarball`]: reading `stemcell.MF` out of an uploaded `.tgz` without extracting it;
//! - [`criteria`]: which stemcells a product's `stemcell_criteria` accept, and which it gets;
//! - [`assignments`]: the per-product view and the pins operators set.
//!
//! **Storage.** An upload streams into `<data-dir>/stemcells/.upload-*.part` with its SHA-256
//! computed on the way (memory stays flat whatever the size), its manifest is read, and the file
//! is renamed to its final name (with an object store, uploaded there first and kept here as
//! this replica's cached copy: `crate::files`). Importing a stemcell whose name and version are already there
//! is a no-op (`existing: true`); importing the tarball of a *light* stemcell of the same name
//! and version gives that record its tarball.
//!
//! **Light stemcells.** The first start imports, for every bundled tile, a light stemcell (a
//! record with name, OS, version and a synthesized `stemcell.MF`, no tarball) matching the
//! tile's criteria, so the embedded default is deployable out of the box: the embedded Director
//! registers a stemcell from its manifest alone (`director_client::stemcells::Upload::Manifest`).
//! A real Director needs the full tarball, which the operator imports.
//!
//! **For Apply Changes.** [`StemcellLibrary::stemcells_for`] gives the stemcells a staged product
//! deploys with (tarball path or manifest for light ones).

pub mod assignments;
pub mod criteria;
pub mod tarball;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::products::Products;
use crate::store::stemcells::{NewStemcell, StemcellRow};
use crate::store::Store;
use crate::{Error, Result};

pub use assignments::{ProductStemcells, StemcellUse};
pub use criteria::OsVersion;
pub use tarball::FILE_FIELD;

/// Largest accepted stemcell tarball (real ones are 0.5–3 GiB; Windows ones larger).
pub const MAX_STEMCELL_BYTES: u64 = 32 * 1024 * 1024 * 1024;

/// A stemcell in the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stemcell {
    pub id: i64,
    pub name: String,
    pub os: String,
    pub version: String,
    pub infrastructure: String,
    pub hypervisor: String,
    /// The file name it was uploaded as (om compares it with the file it would upload).
    pub filename: String,
    /// No tarball: a record the embedded Director registers from the manifest alone.
    pub light: bool,
    /// Whether the tarball is in the stemcell store: on disk, or recorded in the object store
    /// (always false for light stemcells).
    pub present_on_disk: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub size: i64,
    pub imported_by: String,
    pub imported_at: String,
    /// The tarball in the stemcell store (not shown over the API).
    #[serde(skip)]
    pub file_path: Option<PathBuf>,
    /// `stemcell.MF` as YAML text (not shown over the API).
    #[serde(skip)]
    pub manifest: String,
}

impl Stemcell {
    /// `files`: where tarballs are kept, which says whether this one is (`present_on_disk`).
    fn from_row(row: StemcellRow, files: &crate::files::Files) -> Stemcell {
        let file_path = row.file_path.map(PathBuf::from);
        Stemcell {
            id: row.id,
            present_on_disk: file_path.as_deref().is_some_and(|p| files.is_kept(p)),
            name: row.name,
            os: row.os,
            version: row.version,
            infrastructure: row.infrastructure,
            hypervisor: row.hypervisor,
            filename: row.filename,
            light: row.light,
            sha256: row.sha256,
            size: row.size,
            imported_by: row.imported_by,
            imported_at: row.imported_at,
            file_path,
            manifest: row.manifest,
        }
    }

    pub fn os_version(&self) -> OsVersion {
        OsVersion {
            os: self.os.clone(),
            version: self.version.clone(),
        }
    }
}

/// What an import did: the stemcell, and whether it was already there (then nothing changed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedStemcell {
    pub stemcell: Stemcell,
    pub existing: bool,
    /// Products whose pinned stemcell moved to this one (a floating upload).
    pub assigned_to: Vec<String>,
}

/// An upload in progress: write chunks as they arrive, then hand it to
/// [`StemcellLibrary::finish_import`]. Dropped unfinished, its temporary file is removed.
pub struct StemcellUpload {
    spool: crate::uploads::Spool,
    /// The name the client gave the file.
    filename: String,
}

impl StemcellUpload {
    /// Appends a chunk, hashing it on the way.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.spool.write(chunk).await
    }
}

/// A file name part made of safe characters only (names come from the upload).
fn safe_part(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    cleaned.trim_start_matches('.').chars().take(120).collect()
}

/// The name of a light stemcell for an OS (the embedded Director's warden/boshlite flavour).
pub fn light_name(os: &str) -> String {
    format!("bosh-warden-boshlite-{os}-go_agent")
}

/// The Stemcell Library service. Cheap to clone.
#[derive(Clone)]
pub struct StemcellLibrary {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    products: Products,
    dir: PathBuf,
}

impl std::fmt::Debug for StemcellLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StemcellLibrary")
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl StemcellLibrary {
    /// Opens the library where `products` keeps its files (`crate::files`): creates
    /// `<data-dir>/stemcells`, removes uploads left by a crash and, on the first start, imports
    /// the light stemcells of the bundled tiles.
    pub async fn open(store: Store, products: Products) -> Result<StemcellLibrary> {
        let dir = products.files().dir(crate::files::Folder::Stemcells);
        crate::store::create_private_dir(&dir)?;
        crate::uploads::remove_stale(&dir);
        let library = StemcellLibrary {
            inner: Arc::new(Inner {
                store,
                products,
                dir,
            }),
        };
        library.seed_light_stemcells().await?;
        Ok(library)
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn products(&self) -> &Products {
        &self.inner.products
    }

    /// `<data-dir>/stemcells`: where imported tarballs are kept (with an object store, this
    /// replica's cache of them).
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// First start only: a light stemcell for each criteria of each bundled tile. Later starts
    /// do nothing, so a light stemcell the operator removed stays removed.
    async fn seed_light_stemcells(&self) -> Result<()> {
        let stemcells = self.store().stemcells();
        if stemcells.seeded().await? {
            return Ok(());
        }
        for tile in tiles::products::bundled() {
            let template = tiles::metadata::ProductTemplate::from_yaml(tile.metadata_yaml)
                .map_err(|e| Error::Internal(format!("bundled tile {}: {e}", tile.name)))?;
            for c in criteria::criteria_of(&template) {
                let version = c.version.trim();
                if version.is_empty() {
                    continue;
                }
                self.add_light(&c.os, version, "tileworks").await?;
            }
        }
        stemcells.mark_seeded().await?;
        Ok(())
    }

    /// Adds a light stemcell for `os` `version` (a no-op if one of that name and version is
    /// there).
    pub async fn add_light(&self, os: &str, version: &str, actor: &str) -> Result<Stemcell> {
        let name = light_name(os);
        let manifest = tarball::light_manifest(&name, os, version);
        let filename = format!("light-bosh-stemcell-{version}-warden-boshlite-{os}-go_agent.tgz");
        let added = self
            .store()
            .stemcells()
            .add(&NewStemcell {
                name: &name,
                os,
                version,
                infrastructure: "warden",
                hypervisor: "boshlite",
                filename: &filename,
                manifest: &manifest,
                file_path: None,
                sha256: None,
                size: 0,
                light: true,
                imported_by: actor,
            })
            .await?;
        if added {
            tracing::info!(os, version, actor, "light stemcell imported");
        }
        self.by_name_version(&name, version).await
    }

    async fn by_name_version(&self, name: &str, version: &str) -> Result<Stemcell> {
        self.store()
            .stemcells()
            .by_name_version(name, version)
            .await?
            .map(|row| Stemcell::from_row(row, self.products().files()))
            .ok_or_else(|| Error::NotFound(format!("stemcell {name} {version}")))
    }

    /// Every stemcell in the library, by OS then import order.
    pub async fn list(&self) -> Result<Vec<Stemcell>> {
        Ok(self
            .store()
            .stemcells()
            .all()
            .await?
            .into_iter()
            .map(|row| Stemcell::from_row(row, self.products().files()))
            .collect())
    }

    pub async fn get(&self, id: i64) -> Result<Stemcell> {
        self.store()
            .stemcells()
            .one(id)
            .await?
            .map(|row| Stemcell::from_row(row, self.products().files()))
            .ok_or_else(|| Error::NotFound(format!("stemcell {id}")))
    }

    /// Starts an upload: a fresh temporary file (mode 0600) in the stemcell store.
    pub async fn begin_upload(&self, filename: Option<&str>) -> Result<StemcellUpload> {
        // Refused early (before a long upload) while an apply runs; checked again, holding the
        // write gate, when the upload is registered.
        self.products().ensure_not_applying().await?;
        let spool =
            crate::uploads::Spool::create(self.dir(), MAX_STEMCELL_BYTES, FILE_FIELD).await?;
        // Only the last path component, in safe characters: it is shown and compared, never
        // used as a path.
        let filename = filename
            .and_then(|f| f.rsplit(['/', '\\']).next())
            .map(safe_part)
            .unwrap_or_default();
        Ok(StemcellUpload { spool, filename })
    }

    /// Reads the manifest of a finished upload and registers it. `floating`: move the pins of
    /// the staged products this stemcell satisfies to it when it is newer than their pin
    /// (products without a pin take the newest accepted stemcell anyway).
    pub async fn finish_import(
        &self,
        mut upload: StemcellUpload,
        floating: bool,
        actor: &str,
    ) -> Result<ImportedStemcell> {
        let spooled = upload.spool.finish().await?;
        let sha256 = spooled.sha256;
        let path = upload.spool.path().to_owned();
        let manifest = tokio::task::spawn_blocking(move || tarball::read_manifest(&path))
            .await
            .map_err(|e| Error::Internal(format!("reading a stemcell upload: {e}")))??;
        let file_name = format!(
            "{}-{}-{}.tgz",
            safe_part(&manifest.name),
            safe_part(&manifest.version),
            &sha256[..12]
        );
        let files = self.products().files();
        if files.object_store_url().is_some() {
            // Writing to the store takes a while for a large tarball, so it happens before the
            // write gate below, which holds Apply Changes back on every replica. Checked first
            // without the gate, so the common refusals (an apply running, a full stemcell of
            // that name and version there) upload nothing. A refusal after the upload (an apply
            // started meanwhile) leaves an object nothing records; the next import of the same
            // tarball writes the same object again.
            self.products().ensure_not_applying().await?;
            if let Some(row) = self
                .full_stemcell(&manifest.name, &manifest.version)
                .await?
            {
                return Ok(row);
            }
            files
                .upload(crate::files::Folder::Stemcells, &upload.spool, &file_name)
                .await?;
        }
        // An import can change the stemcell a product resolves to (the newest accepted one, or
        // a floating pin): refused while an apply runs.
        let _write = self.products().begin_write().await?;
        if let Some(row) = self
            .full_stemcell(&manifest.name, &manifest.version)
            .await?
        {
            return Ok(row);
        }
        let existing = self
            .store()
            .stemcells()
            .by_name_version(&manifest.name, &manifest.version)
            .await?;
        let StemcellUpload { spool, filename } = upload;
        let final_path = files
            .keep_uploaded(crate::files::Folder::Stemcells, spool, &file_name)
            .await?;
        let filename = if filename.is_empty() {
            format!(
                "{}-{}.tgz",
                safe_part(&manifest.name),
                safe_part(&manifest.version)
            )
        } else {
            filename
        };
        let final_text = final_path.to_string_lossy().into_owned();
        let new = NewStemcell {
            name: &manifest.name,
            os: &manifest.operating_system,
            version: &manifest.version,
            infrastructure: &manifest.infrastructure,
            hypervisor: &manifest.hypervisor,
            filename: &filename,
            manifest: &manifest.text,
            file_path: Some(&final_text),
            sha256: Some(&sha256),
            size: spooled.size as i64,
            light: false,
            imported_by: actor,
        };
        let stored = match &existing {
            Some(row) => self.store().stemcells().make_full(row.id, &new).await,
            None => self.store().stemcells().add(&new).await,
        };
        match stored {
            Ok(true) => {}
            Ok(false) => {
                // Imported at the same moment by someone else: keep theirs.
                let _ = tokio::fs::remove_file(&final_path).await;
                return Ok(ImportedStemcell {
                    stemcell: self
                        .by_name_version(&manifest.name, &manifest.version)
                        .await?,
                    existing: true,
                    assigned_to: vec![],
                });
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&final_path).await;
                return Err(e);
            }
        }
        tracing::info!(
            name = %manifest.name, os = %manifest.operating_system, version = %manifest.version,
            size = spooled.size, sha256 = %sha256, actor, "stemcell imported"
        );
        let stemcell = self
            .by_name_version(&manifest.name, &manifest.version)
            .await?;
        let assigned_to = if floating {
            self.float_pins_to(&stemcell, actor).await?
        } else {
            vec![]
        };
        Ok(ImportedStemcell {
            stemcell,
            existing: false,
            assigned_to,
        })
    }

    /// The full (not light) stemcell of this name and version, as an import that found it
    /// answers.
    async fn full_stemcell(&self, name: &str, version: &str) -> Result<Option<ImportedStemcell>> {
        let existing = self
            .store()
            .stemcells()
            .by_name_version(name, version)
            .await?;
        Ok(existing
            .filter(|row| !row.light)
            .map(|row| ImportedStemcell {
                stemcell: Stemcell::from_row(row, self.products().files()),
                existing: true,
                assigned_to: vec![],
            }))
    }

    /// Imports a stemcell tarball from a local path (streamed like an upload).
    pub async fn import_file(&self, path: &Path, actor: &str) -> Result<ImportedStemcell> {
        use tokio::io::AsyncReadExt;
        let mut source = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let mut upload = self.begin_upload(name.as_deref()).await?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = source
                .read(&mut buf)
                .await
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            if n == 0 {
                break;
            }
            upload.write(&buf[..n]).await?;
        }
        self.finish_import(upload, true, actor).await
    }

    /// Removes a stemcell from the library (and its tarball). Pins to its version for its OS
    /// are dropped when no other stemcell of that OS and version remains; products then float
    /// to what is left, or show "Missing stemcell".
    pub async fn delete(&self, id: i64, actor: &str) -> Result<Stemcell> {
        let _write = self.products().begin_write().await?;
        let stemcell = self.get(id).await?;
        let files = self.products().files();
        let recorded = stemcell
            .file_path
            .as_deref()
            .map(|p| p.to_string_lossy().into_owned());
        if let Some(path) = &recorded {
            files
                .remove_stored(crate::files::Folder::Stemcells, path)
                .await?;
        }
        if !self.store().stemcells().delete(id).await? {
            return Err(Error::NotFound(format!("stemcell {id}")));
        }
        if let Some(path) = &recorded {
            files
                .remove_local(crate::files::Folder::Stemcells, path)
                .await;
        }
        let still_there = self
            .list()
            .await?
            .iter()
            .any(|s| s.os == stemcell.os && s.version == stemcell.version);
        if !still_there {
            for pin in self.store().stemcells().assignments().await? {
                if pin.os == stemcell.os && pin.version == stemcell.version {
                    self.store()
                        .stemcells()
                        .unassign(&pin.product_guid, &pin.os)
                        .await?;
                }
            }
        }
        tracing::info!(name = %stemcell.name, version = %stemcell.version, actor, "stemcell removed");
        Ok(stemcell)
    }

    /// The OS + version pairs of the library (what criteria are matched against).
    pub async fn library_versions(store: &Store) -> Result<Vec<OsVersion>> {
        Ok(store
            .stemcells()
            .all()
            .await?
            .into_iter()
            .map(|r| OsVersion {
                os: r.os,
                version: r.version,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_cannot_steer_paths() {
        assert_eq!(safe_part("../../x.tgz"), "_.._x.tgz");
        assert_eq!(
            safe_part("bosh-stemcell-97.18-vsphere-esxi-ubuntu-xenial-go_agent.tgz"),
            "bosh-stemcell-97.18-vsphere-esxi-ubuntu-xenial-go_agent.tgz"
        );
        assert_eq!(
            light_name("ubuntu-xenial"),
            "bosh-warden-boshlite-ubuntu-xenial-go_agent"
        );
    }
}
