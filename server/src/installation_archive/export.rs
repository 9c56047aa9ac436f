//! Writing an export while Tileworks serves: the databases copied consistently first (`VACUUM
//! INTO`), then the files, all streamed through the sealing into a temporary zip in the data dir
//! (om checks the download against its `Content-Length`, so the size must be known before the
//! first byte is sent). The caller streams the file, already unlinked, so nothing stays behind.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zip::write::SimpleFileOptions;

use super::stream::SealingWriter;
use super::{
    archive_key, file_mac, header_digest, is_transient, mac_key, Header, WorkDir, DATA_FOLDERS,
    DIRECTOR_FOLDER, HEADER_ENTRY, MAC_HEX_LEN, PAYLOAD_ENTRY,
};
use crate::store::sealing::Key32;
use crate::store::{Store, DATABASE_FILE};
use crate::{Error, Result};

/// Name prefix of an export's work space in the data dir.
pub(super) const WORK_PREFIX: &str = ".export-";

/// Which Director the installation deploys to: the embedded stand-in's state travels in the
/// export; of a real Director only its address is recorded (its state is its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DirectorReference {
    Embedded,
    External { url: String },
}

/// Makes exports of one running installation (held by the HTTP state once unlocked).
#[derive(Clone)]
pub struct Exporter {
    data_dir: PathBuf,
    data_key: Key32,
    director: DirectorReference,
    /// The command line's TLS certificate and key files (`--tls-cert`, `--tls-key`), carried
    /// into the export sealed (`crate::tls_certificate::carry_into`).
    tls_files: Option<(PathBuf, PathBuf)>,
    /// Where tiles and stemcells are kept: with an object store, the files this replica has not
    /// cached are downloaded before the data dir's folders are written.
    files: Option<crate::files::Files>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("data_dir", &self.data_dir)
            .field("director", &self.director)
            .finish_non_exhaustive()
    }
}

/// A finished export: the open file (already removed from the data dir) and its length.
pub struct ExportFile {
    pub file: File,
    pub len: u64,
}

impl Exporter {
    pub fn new(data_dir: &Path, data_key: Key32, director: DirectorReference) -> Exporter {
        Exporter {
            data_dir: data_dir.to_path_buf(),
            data_key,
            director,
            tls_files: None,
            files: None,
        }
    }

    /// Exports carry the certificate these files hold (unless one set through the API
    /// replaced it), so an import serves the same one.
    pub fn with_tls_files(mut self, files: Option<(PathBuf, PathBuf)>) -> Exporter {
        self.tls_files = files;
        self
    }

    /// Exports carry the files `files` keeps, downloaded first from an object store.
    pub fn with_files(mut self, files: crate::files::Files) -> Exporter {
        self.files = Some(files);
        self
    }

    /// Writes an export of the installation behind `store`.
    pub async fn export(&self, store: &Store) -> Result<ExportFile> {
        if let Some(files) = &self.files {
            crate::files::sync::download_missing(files, store).await?;
        }
        let work = WorkDir::create(&self.data_dir, WORK_PREFIX)?;
        let database = work.path().join(DATABASE_FILE);
        crate::store::snapshot::copy_into(store, work.path()).await?;
        let director_db = match self.director {
            DirectorReference::Embedded => {
                let source = self
                    .data_dir
                    .join(DIRECTOR_FOLDER)
                    .join(director::store::DATABASE_FILE);
                if source.exists() {
                    let copy = work.path().join(director::store::DATABASE_FILE);
                    crate::store::snapshot::vacuum_file_into(&source, &copy).await?;
                    Some(copy)
                } else {
                    None
                }
            }
            DirectorReference::External { .. } => None,
        };
        // The keyring as the copied database holds it (a passphrase change meanwhile re-sealed
        // the same data key; the copy's keyring is the one the import will find). The copy also
        // takes the served TLS certificate, which may live in files outside the data dir.
        let keyring = {
            let copy = Store::open(work.path()).await?;
            let carried = crate::tls_certificate::carry_into(
                &copy,
                &crate::store::sealing::Sealer::new(&self.data_key),
                self.tls_files.as_ref(),
            )
            .await;
            let keyring = copy.keyring().get().await;
            // Instance log bundles are not carried (SECURITY.md): nor are their fetches.
            let forgot = copy.log_fetches().delete_all().await;
            crate::store::snapshot::checkpoint(copy.pool()).await?;
            copy.pool().close().await;
            carried?;
            forgot?;
            keyring?.ok_or_else(|| Error::Internal("the database has no keyring".into()))?
        };
        let mut key_salt = [0u8; 32];
        OsRng.fill_bytes(&mut key_salt);
        let header = Header::new(&keyring, &key_salt, self.director.clone());
        let header_bytes = serde_json::to_vec_pretty(&header)
            .map_err(|e| Error::Internal(format!("writing the export's header: {e}")))?;
        let keys = (
            archive_key(&self.data_key, &key_salt),
            mac_key(&self.data_key, &key_salt),
        );
        let zip_path = self.data_dir.join(format!(
            "{WORK_PREFIX}{}.zip",
            crate::secrets::random_token(12)
        ));
        let data_dir = self.data_dir.clone();
        let director = self.director.clone();
        let written = {
            let zip_path = zip_path.clone();
            tokio::task::spawn_blocking(move || {
                write_zip(
                    &zip_path,
                    &header_bytes,
                    &keys,
                    &data_dir,
                    &database,
                    (director == DirectorReference::Embedded).then_some(director_db),
                )
            })
            .await
            .map_err(|e| Error::Internal(format!("writing the export: {e}")))?
        };
        let opened = written.and_then(|()| {
            File::open(&zip_path)
                .map_err(|e| Error::io(format!("opening {}", zip_path.display()), e))
        });
        // Removed at once: the open file stays readable until it is dropped.
        let _ = std::fs::remove_file(&zip_path);
        drop(work);
        let file = opened?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("reading the export's size", e))?
            .len();
        Ok(ExportFile { file, len })
    }
}

fn write_zip(
    path: &Path,
    header: &[u8],
    (key, mac_key): &([u8; 32], [u8; 32]),
    data_dir: &Path,
    database: &Path,
    director: Option<Option<PathBuf>>,
) -> Result<()> {
    let io = |what: &str, e: std::io::Error| Error::io(format!("writing the export: {what}"), e);
    let zip_err = |e: zip::result::ZipError| Error::Internal(format!("writing the export: {e}"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|e| io("creating it", e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::with_capacity(1024 * 1024, file));
    // Stored: the payload is sealed, so it would not compress.
    let stored = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o600);
    zip.start_file(HEADER_ENTRY, stored).map_err(zip_err)?;
    zip.write_all(header).map_err(|e| io("the header", e))?;
    zip.start_file(PAYLOAD_ENTRY, stored.large_file(true))
        .map_err(zip_err)?;
    let sealing = SealingWriter::new(&mut zip, key, header_digest(header));
    let mut tar = tar::Builder::new(sealing);
    tar.follow_symlinks(false);
    tar.append_path_with_name(database, DATABASE_FILE)
        .map_err(|e| io("the database", e))?;
    for folder in DATA_FOLDERS {
        append_folder(&mut tar, &data_dir.join(folder), folder, &[])?;
    }
    if let Some(director_db) = director {
        let name = director::store::DATABASE_FILE;
        let live = [
            name.to_owned(),
            format!("{name}-wal"),
            format!("{name}-shm"),
            format!("{name}-journal"),
        ];
        append_folder(
            &mut tar,
            &data_dir.join(DIRECTOR_FOLDER),
            DIRECTOR_FOLDER,
            &live,
        )?;
        if let Some(copy) = director_db {
            tar.append_path_with_name(&copy, format!("{DIRECTOR_FOLDER}/{name}"))
                .map_err(|e| io("the Director's database", e))?;
        }
    }
    let sealing = tar.into_inner().map_err(|e| io("the tar", e))?;
    sealing.finish().map_err(|e| io("sealing", e))?;
    // The comment is the zip's last field: a placeholder now, the MAC of everything before it
    // once that is written.
    zip.set_comment("0".repeat(MAC_HEX_LEN)).map_err(zip_err)?;
    let mut inner = zip.finish().map_err(zip_err)?;
    inner.flush().map_err(|e| io("flushing", e))?;
    let mut file = inner
        .into_inner()
        .map_err(|e| io("flushing", e.into_error()))?;
    let len = file.seek(SeekFrom::End(0)).map_err(|e| io("seeking", e))?;
    let covered = len - MAC_HEX_LEN as u64;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io("seeking", e))?;
    let mac = {
        use hkdf::hmac::Mac;
        let mut reader = std::io::BufReader::with_capacity(1024 * 1024, &mut file);
        file_mac(mac_key, &mut reader, covered)
            .map_err(|e| io("reading it back", e))?
            .finalize()
            .into_bytes()
    };
    file.seek(SeekFrom::Start(covered))
        .map_err(|e| io("seeking", e))?;
    file.write_all(hex::encode(mac).as_bytes())
        .map_err(|e| io("its MAC", e))?;
    file.sync_all().map_err(|e| io("syncing", e))?;
    Ok(())
}

/// Appends `dir` (if it exists) as `name`, its files in a stable order, leaving out work in
/// progress and the top-level names in `skip`.
fn append_folder<W: Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &str,
    skip: &[String],
) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()), e)),
    };
    let mut entries: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(file, _)| !is_transient(file) && !skip.contains(file))
        .collect();
    entries.sort();
    tar.append_dir(name, dir)
        .map_err(|e| Error::io(format!("adding {}", dir.display()), e))?;
    for (file, path) in entries {
        let inner = format!("{name}/{file}");
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if meta.is_dir() {
            append_folder(tar, &path, &inner, &[])?;
        } else if meta.is_file() {
            tar.append_path_with_name(&path, &inner)
                .map_err(|e| Error::io(format!("adding {}", path.display()), e))?;
        }
        // Symlinks and others are not Tileworks's: left out.
    }
    Ok(())
}
