//! Importing an export into a fresh data dir: everything is checked before anything in the
//! data dir changes — the header, the passphrase (it must open the sealed data key), the whole
//! file's MAC, every sealed chunk to the authenticated last one, the tar inside, and the
//! imported database's own keyring — while the content is unpacked into a work space beside
//! the data (removed on any failure). Only then does the fresh database make way and the work
//! space's files move into place, the database's file paths pointing at this data dir.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Component, Path};

use super::stream::{OpeningReader, DAMAGED};
use super::{
    archive_key, file_mac, header_digest, mac_key, Header, WorkDir, DATA_FOLDERS, DIRECTOR_FOLDER,
    FILE_FIELD, HEADER_ENTRY, MAC_HEX_LEN, PAYLOAD_ENTRY,
};
use crate::store::sealing::Key32;
use crate::store::{Backend, Store, DATABASE_FILE};
use crate::{Error, Result};

/// Name prefix of an import's work space in the data dir.
pub(super) const WORK_PREFIX: &str = ".import-";

/// The request field the passphrase comes in (om's).
pub const PASSPHRASE_FIELD: &str = "passphrase";

/// Installs the export at `archive`, opened with `passphrase`, into the fresh `data_dir` whose
/// (empty) database `current` is: the imported database, opened, and its data key. On SQLite
/// the export's database file replaces the data dir's; on PostgreSQL its tables are copied
/// into `current` in one transaction ([`crate::store::snapshot::copy_sqlite_into_postgres`]).
/// Every refusal comes before the data dir or the database changes: `422` naming
/// `passphrase` (wrong) or `installation[file]` (not an export, damaged, truncated).
pub async fn import(
    current: &Store,
    data_dir: &Path,
    archive: &Path,
    passphrase: &str,
) -> Result<(Store, Key32)> {
    if passphrase.is_empty() {
        return Err(Error::invalid(PASSPHRASE_FIELD, "is required"));
    }
    let header_bytes = {
        let archive = archive.to_path_buf();
        tokio::task::spawn_blocking(move || read_header(&archive))
            .await
            .map_err(|e| Error::Internal(format!("reading the export: {e}")))??
    };
    let header = Header::parse(&header_bytes)?;
    let data_key = crate::passphrase::open_data_key(passphrase, &header.keyring()?)
        .await
        .map_err(wrong_passphrase)?;
    for folder in DATA_FOLDERS.into_iter().chain([DIRECTOR_FOLDER]) {
        if !is_empty_or_missing(&data_dir.join(folder))? {
            return Err(Error::Refused(format!(
                "the data dir holds {folder}/ already; an export is imported into a fresh, \
                 empty data dir only"
            )));
        }
    }

    let key_salt = header.key_salt()?;
    {
        let (archive, key) = (archive.to_path_buf(), mac_key(&data_key, &key_salt));
        tokio::task::spawn_blocking(move || verify_file(&archive, &key))
            .await
            .map_err(|e| Error::Internal(format!("reading the export: {e}")))??;
    }

    let work = WorkDir::create(data_dir, WORK_PREFIX)?;
    let key = archive_key(&data_key, &key_salt);
    {
        let (archive, dest) = (archive.to_path_buf(), work.path().to_path_buf());
        tokio::task::spawn_blocking(move || unpack(&archive, &header_bytes, &key, &dest))
            .await
            .map_err(|e| Error::Internal(format!("reading the export: {e}")))??;
    }
    if !work.path().join(DATABASE_FILE).is_file() {
        return Err(Error::invalid(
            FILE_FIELD,
            format!("the export holds no {DATABASE_FILE}"),
        ));
    }
    // The imported database (migrated to this version) opens with the same passphrase to the
    // same data key, or it is not the installation the header describes.
    // A database this version cannot migrate (from a newer Tileworks, or not Tileworks's) is
    // the file's fault, not the server's.
    let imported = Store::open(work.path()).await.map_err(|e| {
        Error::invalid(
            FILE_FIELD,
            format!(
                "the export's database (from Tileworks {}) cannot be opened by this Tileworks \
                 ({}): {e}",
                header.tileworks_version,
                env!("CARGO_PKG_VERSION")
            ),
        )
    })?;
    let opened = crate::passphrase::unlock(&imported, passphrase).await;
    let matches = match opened.map_err(wrong_passphrase) {
        Ok(key) => key == data_key,
        Err(err) => {
            imported.pool().close().await;
            return Err(err);
        }
    };
    if !matches {
        imported.pool().close().await;
        return Err(Error::invalid(
            FILE_FIELD,
            "the export's database does not match its header",
        ));
    }
    // The database names its tiles and stemcells by path: from now on, this data dir's.
    let relocated = crate::store::snapshot::relocate_files(imported.pool(), data_dir).await;
    crate::store::snapshot::checkpoint(imported.pool()).await?;
    // Everything checked. On PostgreSQL the imported tables replace the fresh database's rows
    // (one transaction), then the imported files move in.
    let copied = match (&relocated, current.backend()) {
        (Ok(_), Backend::Postgres) => Some(
            crate::store::snapshot::copy_sqlite_into_postgres(imported.pool(), current.pool())
                .await,
        ),
        _ => None,
    };
    imported.pool().close().await;
    relocated?;
    if let Some(copied) = copied {
        copied?;
        for folder in DATA_FOLDERS.into_iter().chain([DIRECTOR_FOLDER]) {
            move_into_place(work.path(), data_dir, folder)?;
        }
        drop(work);
        return Ok((current.clone(), data_key));
    }

    // Everything checked: the fresh database makes way, the imported files move in.
    current.pool().close().await;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = data_dir.join(format!("{DATABASE_FILE}{suffix}"));
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("removing {}", path.display()), e)),
        }
    }
    move_into_place(work.path(), data_dir, DATABASE_FILE)?;
    // Checkpointed above, so normally absent; moved along if SQLite left one.
    move_into_place(work.path(), data_dir, &format!("{DATABASE_FILE}-wal"))?;
    for folder in DATA_FOLDERS.into_iter().chain([DIRECTOR_FOLDER]) {
        move_into_place(work.path(), data_dir, folder)?;
    }
    drop(work);
    let store = Store::open(data_dir).await?;
    Ok((store, data_key))
}

/// Moves `name` (a file or folder) from the work space into the data dir, where a folder of
/// that name was checked empty.
fn move_into_place(work: &Path, data_dir: &Path, name: &str) -> Result<()> {
    let from = work.join(name);
    let to = data_dir.join(name);
    if !from.exists() {
        return Ok(());
    }
    if to.is_dir() {
        std::fs::remove_dir(&to).map_err(|e| Error::io(format!("removing {}", to.display()), e))?;
    }
    std::fs::rename(&from, &to)
        .map_err(|e| Error::io(format!("moving {} into place", to.display()), e))
}

/// Why the whole file's MAC does not match.
const DAMAGED_FILE: &str = "the file is damaged or truncated (its MAC, the zip's last 64 \
                            bytes, does not match the bytes before it)";

/// Checks the whole file against its MAC (the zip's comment, its last bytes) before a byte
/// of it is unpacked: the zip's structure, the header and the sealed content alike.
fn verify_file(archive: &Path, key: &[u8; 32]) -> Result<()> {
    use hkdf::hmac::Mac;
    let read = |e: std::io::Error| Error::io(format!("reading {}", archive.display()), e);
    let mut file = File::open(archive).map_err(read)?;
    let len = file.metadata().map_err(read)?.len();
    let covered = len
        .checked_sub(MAC_HEX_LEN as u64)
        .ok_or_else(|| not_an_export("it is too short"))?;
    file.seek(SeekFrom::Start(covered)).map_err(read)?;
    let mut tag = [0u8; MAC_HEX_LEN];
    file.read_exact(&mut tag).map_err(read)?;
    let tag = hex::decode(tag).map_err(|_| Error::invalid(FILE_FIELD, DAMAGED_FILE))?;
    file.seek(SeekFrom::Start(0)).map_err(read)?;
    let mut reader = BufReader::with_capacity(1024 * 1024, file);
    file_mac(key, &mut reader, covered)
        .map_err(|_| Error::invalid(FILE_FIELD, DAMAGED_FILE))?
        .verify_slice(&tag)
        .map_err(|_| Error::invalid(FILE_FIELD, DAMAGED_FILE))
}

/// Every failure to read the archive is damage (it is a local file, just received): reported
/// as [`std::io::ErrorKind::InvalidData`], which the unpacking turns into a `422`.
struct DamageOnError<R>(R);

impl<R: Read> Read for DamageOnError<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(out).map_err(|e| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{DAMAGED}: {e}"))
        })
    }
}

fn wrong_passphrase(err: Error) -> Error {
    match err {
        Error::Forbidden(_) => Error::invalid(
            PASSPHRASE_FIELD,
            "does not open this export: give the decryption passphrase the exporting Tileworks \
             had when it made the export",
        ),
        other => other,
    }
}

fn not_an_export(detail: impl std::fmt::Display) -> Error {
    Error::invalid(
        FILE_FIELD,
        format!(
            "is not a whole Tileworks export (a zip holding {HEADER_ENTRY} and {PAYLOAD_ENTRY}): \
             {detail}; it may be damaged or truncated"
        ),
    )
}

fn read_header(archive: &Path) -> Result<Vec<u8>> {
    let file =
        File::open(archive).map_err(|e| Error::io(format!("opening {}", archive.display()), e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(not_an_export)?;
    let mut entry = zip.by_name(HEADER_ENTRY).map_err(not_an_export)?;
    if entry.size() > 64 * 1024 {
        return Err(not_an_export(format!("{HEADER_ENTRY} is too large")));
    }
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).map_err(not_an_export)?;
    Ok(bytes)
}

/// Opens every chunk and unpacks the tar into `dest`; fails unless the sealed stream ends
/// with its authenticated last chunk.
fn unpack(archive: &Path, header: &[u8], key: &[u8; 32], dest: &Path) -> Result<()> {
    let file =
        File::open(archive).map_err(|e| Error::io(format!("opening {}", archive.display()), e))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).map_err(not_an_export)?;
    let entry = zip.by_name(PAYLOAD_ENTRY).map_err(not_an_export)?;
    let reader = OpeningReader::new(
        BufReader::with_capacity(1024 * 1024, DamageOnError(entry)),
        key,
        header_digest(header),
    );
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(false);
    tar.set_overwrite(false);
    let read_err = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
            Error::invalid(FILE_FIELD, DAMAGED)
        }
        _ => Error::io("unpacking the export", e),
    };
    for entry in tar.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let path = entry.path().map_err(read_err)?.into_owned();
        let top = match path.components().next() {
            Some(Component::Normal(top)) => top.to_string_lossy().into_owned(),
            _ => String::new(),
        };
        let known =
            top == DATABASE_FILE || DATA_FOLDERS.contains(&top.as_str()) || top == DIRECTOR_FOLDER;
        if !known || !entry.unpack_in(dest).map_err(read_err)? {
            return Err(Error::invalid(
                FILE_FIELD,
                format!(
                    "the export holds '{}', which is not part of an installation",
                    path.display()
                ),
            ));
        }
    }
    // Past the tar's end: the rest of the stream (padding) and its last chunk.
    let mut reader = tar.into_inner();
    std::io::copy(&mut reader, &mut std::io::sink()).map_err(read_err)?;
    if !reader.is_complete() {
        return Err(Error::invalid(FILE_FIELD, DAMAGED));
    }
    Ok(())
}

fn is_empty_or_missing(dir: &Path) -> Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(Error::io(format!("reading {}", dir.display()), e)),
    }
}
