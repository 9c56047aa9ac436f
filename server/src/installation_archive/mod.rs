//! Export and import of the whole installation (om `export-installation` and
//! `import-installation`): one file with everything needed to rebuild this Tileworks on a new
//! machine, readable only with the decryption passphrase. SECURITY.md documents the format for
//! operators; in short:
//!
//! ```text
//! installation.zip (what om checks for: a zip holding `installation.yml`)
//! ├── installation.yml      the header, JSON (YAML's subset), in the clear: the format, the
//! │                         keyring (argon2id parameters, salt, the data key sealed under the
//! │                         passphrase), the archive key's salt, the chunk size, the Director
//! └── installation.sealed   a tar, sealed in chunks (stream.rs) under the archive key
//!     ├── tileworks.db      a consistent copy (VACUUM INTO) of the database
//!     ├── tiles/, stemcells/            the data dir's imported tiles and stemcells
//!     └── director/         the embedded Director's state (its database copied the same way,
//!                           blobs, task outputs, TLS); nothing for a real Director, whose
//!                           URL the header records
//!
//! passphrase ─argon2id(header's salt and parameters)─► key-encryption key
//!     ─opens─► data key (the installation's own) ─HKDF-SHA256(key_salt)─► archive key
//!                                                                       └► file MAC key
//! ```
//!
//! The header is bound to every sealed chunk (their associated data is its SHA-256), so
//! nothing in the content can change unnoticed. The zip's comment, the file's last 64 bytes,
//! is the hex HMAC-SHA256 under the file MAC key of every byte before it: an import checks
//! the whole file, the zip's own structure included, before it unpacks a byte. Files:
//! `stream.rs` (the chunked sealing),
//! `export.rs` (writing an export while serving), `import.rs` (verifying a whole export, then
//! installing it into a fresh data dir).

mod export;
mod import;
pub mod stream;

pub use export::{DirectorReference, Exporter};
pub use import::{import, PASSPHRASE_FIELD};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::keyring::KeyringRow;
use crate::store::sealing::Key32;
use crate::{Error, Result};

/// The zip entry om looks for, holding the header.
pub const HEADER_ENTRY: &str = "installation.yml";
/// The zip entry holding the sealed tar.
pub const PAYLOAD_ENTRY: &str = "installation.sealed";
/// What the header's `format` says.
pub const FORMAT: &str = "tileworks-installation";
pub const FORMAT_VERSION: u32 = 1;
const CIPHER: &str = "chacha20poly1305-stream";
/// HKDF's `info` for the archive key.
const KEY_INFO: &[u8] = b"tileworks installation archive v1";
/// HKDF's `info` for the key of the whole file's MAC.
const MAC_INFO: &[u8] = b"tileworks installation archive v1 file mac";
/// The whole file's MAC, hex: the zip's comment, so the file's last bytes.
const MAC_HEX_LEN: usize = 64;

/// The multipart field the export arrives in on import (om's).
pub const FILE_FIELD: &str = "installation[file]";

/// The data dir's folders an export carries (besides the database).
pub const DATA_FOLDERS: [&str; 2] = ["tiles", "stemcells"];
/// The embedded Director's folder in the data dir.
pub const DIRECTOR_FOLDER: &str = "director";

/// The largest argon2id cost an import derives with: far above what Tileworks writes
/// (`crate::passphrase::DEFAULT_PARAMS`), far below what would stall the machine.
const MAX_KDF_MEMORY_KIB: i64 = 1024 * 1024;
const MAX_KDF_ITERATIONS: i64 = 64;
const MAX_KDF_PARALLELISM: i64 = 16;

/// `installation.yml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub format_version: u32,
    pub tileworks_version: String,
    pub created_at: String,
    pub kdf: KdfHeader,
    /// The data key sealed under the passphrase's key (XChaCha20-Poly1305), hex.
    pub sealed_data_key: String,
    pub cipher: String,
    /// HKDF's salt for the archive key (32 random bytes), hex.
    pub key_salt: String,
    pub chunk_size: u32,
    pub director: DirectorReference,
}

/// The keyring's derivation, as `crate::passphrase` records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KdfHeader {
    pub algorithm: String,
    pub version: i64,
    pub memory_kib: i64,
    pub iterations: i64,
    pub parallelism: i64,
    /// hex
    pub salt: String,
}

impl Header {
    fn new(keyring: &KeyringRow, key_salt: &[u8; 32], director: DirectorReference) -> Header {
        Header {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            tileworks_version: env!("CARGO_PKG_VERSION").into(),
            created_at: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            kdf: KdfHeader {
                algorithm: keyring.kdf.clone(),
                version: keyring.kdf_version,
                memory_kib: keyring.memory_kib,
                iterations: keyring.iterations,
                parallelism: keyring.parallelism,
                salt: hex::encode(&keyring.salt),
            },
            sealed_data_key: hex::encode(&keyring.sealed_data_key),
            cipher: CIPHER.into(),
            key_salt: hex::encode(key_salt),
            chunk_size: stream::CHUNK as u32,
            director,
        }
    }

    /// Reads `installation.yml`, refusing what this version cannot open (`422` naming the
    /// file field).
    fn parse(bytes: &[u8]) -> Result<Header> {
        let header: Header = serde_json::from_slice(bytes).map_err(|e| {
            Error::invalid(
                FILE_FIELD,
                format!("{HEADER_ENTRY} is not a Tileworks export's header ({e})"),
            )
        })?;
        if header.format != FORMAT
            || header.format_version != FORMAT_VERSION
            || header.cipher != CIPHER
            || header.chunk_size as usize != stream::CHUNK
        {
            return Err(Error::invalid(
                FILE_FIELD,
                format!(
                    "the export's format ({} version {}, {}) is not one this Tileworks reads \
                     ({FORMAT} version {FORMAT_VERSION})",
                    header.format, header.format_version, header.cipher
                ),
            ));
        }
        Ok(header)
    }

    /// The keyring the header carries. Its argon2id cost comes from whoever made the file
    /// (the import is unauthenticated), so it is bounded before anything is derived.
    fn keyring(&self) -> Result<KeyringRow> {
        let bad =
            |what: &str| Error::invalid(FILE_FIELD, format!("the header's {what} is damaged"));
        let within = |v: i64, max: i64| (1..=max).contains(&v);
        if !within(self.kdf.memory_kib, MAX_KDF_MEMORY_KIB)
            || !within(self.kdf.iterations, MAX_KDF_ITERATIONS)
            || !within(self.kdf.parallelism, MAX_KDF_PARALLELISM)
        {
            return Err(Error::invalid(
                FILE_FIELD,
                format!(
                    "the header's argon2id parameters are out of bounds (memory at most \
                     {MAX_KDF_MEMORY_KIB} KiB, at most {MAX_KDF_ITERATIONS} iterations and \
                     {MAX_KDF_PARALLELISM} lanes)"
                ),
            ));
        }
        Ok(KeyringRow {
            kdf: self.kdf.algorithm.clone(),
            kdf_version: self.kdf.version,
            memory_kib: self.kdf.memory_kib,
            iterations: self.kdf.iterations,
            parallelism: self.kdf.parallelism,
            salt: hex::decode(&self.kdf.salt).map_err(|_| bad("salt"))?,
            sealed_data_key: hex::decode(&self.sealed_data_key)
                .map_err(|_| bad("sealed data key"))?,
        })
    }

    fn key_salt(&self) -> Result<Vec<u8>> {
        hex::decode(&self.key_salt)
            .map_err(|_| Error::invalid(FILE_FIELD, "the header's key salt is damaged"))
    }
}

/// The associated data of every chunk: the header exactly as stored.
fn header_digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The archive key: HKDF-SHA256 of the data key with the header's salt.
fn archive_key(data_key: &Key32, salt: &[u8]) -> [u8; 32] {
    derive(data_key, salt, KEY_INFO)
}

/// The key of the whole file's MAC: HKDF-SHA256 of the data key with the header's salt and
/// its own `info`, so it is independent of the archive key.
fn mac_key(data_key: &Key32, salt: &[u8]) -> [u8; 32] {
    derive(data_key, salt, MAC_INFO)
}

fn derive(data_key: &Key32, salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(Some(salt), data_key.as_bytes())
        .expand(info, &mut out)
        .expect("32 bytes is a valid HKDF-SHA256 length");
    out
}

/// HMAC-SHA256 under `key` of the first `len` bytes `reader` gives.
fn file_mac(
    key: &[u8; 32],
    reader: &mut impl std::io::Read,
    len: u64,
) -> std::io::Result<hkdf::hmac::Hmac<Sha256>> {
    use hkdf::hmac::Mac;
    let mut mac = <hkdf::hmac::Hmac<Sha256> as Mac>::new_from_slice(key)
        .expect("HMAC takes a key of any length");
    let mut limited = std::io::Read::take(reader, len);
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = std::io::Read::read(&mut limited, &mut buffer)?;
        if n == 0 {
            break;
        }
        mac.update(&buffer[..n]);
    }
    if limited.limit() != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the file is shorter than it was",
        ));
    }
    Ok(mac)
}

/// A folder in the data dir removed with everything in it when dropped (the work space of an
/// export or an import).
struct WorkDir(std::path::PathBuf);

impl WorkDir {
    fn create(data_dir: &std::path::Path, prefix: &str) -> Result<WorkDir> {
        let path = data_dir.join(format!("{prefix}{}", crate::secrets::random_token(12)));
        crate::store::create_private_dir(&path)?;
        Ok(WorkDir(path))
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether a data dir entry is a leftover of work in progress (an upload being written, an
/// export or import's work space, a partial blob), never part of an export.
fn is_transient(name: &str) -> bool {
    name.starts_with(crate::uploads::UPLOAD_PREFIX)
        || name.starts_with(export::WORK_PREFIX)
        || name.starts_with(import::WORK_PREFIX)
        || name.ends_with(".part")
}
