//! Sealing secrets at rest: credential values, IaaS secrets, the root CA's private key and
//! Tileworks's own secrets are encrypted before they reach the database, under the **data key**.
//! The data key is never stored as it is: `crate::passphrase` seals it under a key derived from
//! the decryption passphrase and opens it at unlock, so a copy of the data dir alone reveals no
//! credential (SECURITY.md describes the whole scheme).
//!
//! Cipher: XChaCha20-Poly1305 (authenticated; a 24-byte random nonce per value, so random nonces
//! never collide in practice). A sealed value is `1 || nonce (24) || ciphertext+tag`; the leading
//! format byte leaves room for a key-rotation scheme later.

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::{Error, Result};

/// The file that held the key before the passphrase scheme (migrated and removed at setup).
pub const LEGACY_KEY_FILE: &str = "sealing.key";

const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
/// Length of every key this module takes.
pub const KEY_LEN: usize = 32;

/// A 32-byte key: the data key, or a key derived from the passphrase. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key32([u8; KEY_LEN]);

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key32(..)")
    }
}

impl Key32 {
    /// A fresh random key from the OS.
    pub fn generate() -> Key32 {
        let mut key = [0u8; KEY_LEN];
        key.copy_from_slice(&XChaCha20Poly1305::generate_key(&mut OsRng));
        Key32(key)
    }

    /// A key from exactly [`KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Key32> {
        bytes.try_into().ok().map(Key32)
    }

    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Seals and opens values under one key (the data key, for everything but the keyring).
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
    /// A sealer for `key`.
    pub fn new(key: &Key32) -> Sealer {
        Sealer {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key.as_bytes())),
        }
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
        self.cipher
            .decrypt(nonce, &sealed[1 + NONCE_LEN..])
            .map_err(|_| {
                Error::Internal(
                    "a sealed value cannot be opened: it was sealed under another key or altered"
                        .into(),
                )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_and_refuses_tampering_and_other_keys() {
        let key = Key32::generate();
        let sealer = Sealer::new(&key);
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

        // The same key opens it again; another key does not.
        let again = Sealer::new(&Key32::from_slice(key.as_bytes()).unwrap());
        assert_eq!(again.open_sealed(&sealed).unwrap(), b"s3cret");
        assert!(Sealer::new(&Key32::generate())
            .open_sealed(&sealed)
            .is_err());
        assert!(Key32::from_slice(b"short").is_none());
        assert_eq!(format!("{key:?}"), "Key32(..)");

        let json = serde_json::json!({"a": {"secret": "x"}});
        assert_eq!(
            sealer.open_json(&sealer.seal_json(&json).unwrap()).unwrap(),
            json
        );
    }
}
