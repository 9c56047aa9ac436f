//! Random secrets and their one-way digests (tokens, client secrets, generated passwords).

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine;
use sha2::{Digest, Sha256};

/// A URL-safe random string carrying `bytes` bytes of entropy from the OS.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 in hex. Used for bearer tokens: they are long random strings, so a fast digest is
/// enough to make a stolen database useless without making lookups slow.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}
