//! Sealing secrets at rest: credential values, IaaS secrets and the root CA's private key are
//! encrypted before they reach the database, with a key that lives in a file of the data dir
//! (`sealing.key`, mode 0600) and never in the database. A copy of `tileworks.db` alone therefore
//! reveals no credential.
//!
//! Cipher: XChaCha20-Poly1305 (authenticated; a 24-byte random nonce per value, so random nonces
//! never collide in practice). A sealed value is `1 || nonce (24) || ciphertext+tag`; the leading
//! format byte leaves room for a key-rotation scheme later.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::{Error, Result};

/// The key file's name inside the data dir.
pub const KEY_FILE: &str = "sealing.key";

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// Seals and opens values with the data dir's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)") // never print key material
    }
}

impl Sealer {
    /// Loads `<data_dir>/sealing.key`, creating it (32 random bytes, mode 0600) on first use.
    pub fn open(data_dir: &Path) -> Result<Sealer> {
        let path = data_dir.join(KEY_FILE);
        let key = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(&path)?,
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        if key.len() != KEY_LEN {
            return Err(Error::Config(format!(
                "{} must hold exactly {KEY_LEN} bytes; it holds {}",
                path.display(),
                key.len()
            )));
        }
        Ok(Sealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    /// Encrypts `plain`.
    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain)
            .map_err(|_| Error::Internal("sealing a value failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) produced. Fails if the value was sealed with another
    /// key or altered.
    pub fn open_sealed(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != FORMAT_V1 {
            return Err(Error::Internal(
                "a sealed value has an unknown format".into(),
            ));
        }
        let nonce = XNonce::from_slice(&sealed[1..1 + NONCE_LEN]);
        self.cipher.decrypt(nonce, &sealed[1 + NONCE_LEN..]).map_err(|_| {
            Error::Internal(format!(
                "a sealed value cannot be opened: is {KEY_FILE} the one this database was written with?"
            ))
        })
    }

    /// Seals a JSON value.
    pub fn seal_json(&self, value: &serde_json::Value) -> Result<Vec<u8>> {
        let text = serde_json::to_vec(value)
            .map_err(|e| Error::Internal(format!("encoding a sealed value: {e}")))?;
        self.seal(&text)
    }

    /// Opens a sealed JSON value.
    pub fn open_json(&self, sealed: &[u8]) -> Result<serde_json::Value> {
        let plain = self.open_sealed(sealed)?;
        serde_json::from_slice(&plain)
            .map_err(|e| Error::Internal(format!("decoding a sealed value: {e}")))
    }
}

fn create_key(path: &PathBuf) -> Result<Vec<u8>> {
    use std::io::Write;
    let key = XChaCha20Poly1305::generate_key(&mut OsRng);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    file.write_all(&key)
        .and_then(|_| file.sync_all())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
    Ok(key.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_refuses_tampering_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::open(dir.path()).unwrap();
        let sealed = sealer.seal(b"s3cret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(sealer.open_sealed(&sealed).unwrap(), b"s3cret");
        // Two seals of one value differ (fresh nonce).
        assert_ne!(sealer.seal(b"s3cret").unwrap(), sealed);

        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(sealer.open_sealed(&tampered).is_err());
        assert!(sealer.open_sealed(&[1, 2, 3]).is_err());

        // The same dir gives the same key; another dir another one.
        let again = Sealer::open(dir.path()).unwrap();
        assert_eq!(again.open_sealed(&sealed).unwrap(), b"s3cret");
        let other = tempfile::tempdir().unwrap();
        assert!(Sealer::open(other.path())
            .unwrap()
            .open_sealed(&sealed)
            .is_err());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let json = serde_json::json!({"a": {"secret": "x"}});
        assert_eq!(
            sealer.open_json(&sealer.seal_json(&json).unwrap()).unwrap(),
            json
        );
    }

    #[test]
    fn a_key_file_of_the_wrong_size_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), b"short").unwrap();
        assert!(matches!(Sealer::open(dir.path()), Err(Error::Config(_))));
    }
}
