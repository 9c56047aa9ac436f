//! The decryption passphrase, as Ops Manager has it: every secret at rest is sealed under a
//! random **data key** (`store::sealing`), and the data key is sealed under a key derived from
//! the passphrase with argon2id. The keyring row (`store::keyring`, migration 0011) keeps the
//! derivation's parameters, its salt and the sealed data key; neither the passphrase nor the
//! derived key is stored, so without the passphrase the data dir opens nothing. SECURITY.md
//! describes the scheme for operators.
//!
//! - [`set_up`]: the first start chooses the passphrase and the data key. An install from
//!   before the scheme keeps its old key file's key as the data key (every stored value stays
//!   readable), seals it, and removes the file.
//! - [`unlock`]: every later start opens the data key with the passphrase.
//! - [`change`]: a new passphrase re-seals the data key only; no sealed value changes.

use std::path::Path;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::store::keyring::KeyringRow;
use crate::store::sealing::{Key32, Sealer, KEY_LEN, LEGACY_KEY_FILE};
use crate::store::Store;
use crate::{Error, Result};

/// The environment variable that sets the passphrase on the first start and unlocks later ones.
pub const ENV: &str = "TILEWORKS_DECRYPTION_PASSPHRASE";

/// The shortest passphrase accepted when one is set or changed (the Settings page says it too).
pub const MIN_LEN: usize = app::pages::decryption_passphrase::MIN_LEN;

const KDF: &str = "argon2id";
/// argon2's version 1.3 (0x13), the only one used.
const KDF_VERSION: i64 = 0x13;
const SALT_LEN: usize = 16;

/// The message every wrong passphrase gets (the same whatever was wrong about it).
pub const WRONG: &str = "The decryption passphrase is incorrect.";

/// argon2id's cost parameters, recorded beside the sealed key so they can grow later without
/// breaking existing installs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// RFC 9106's second recommended option (64 MiB, 3 passes, 1 lane): a fraction of a second on
/// a server, paid once per unlock or change.
pub const DEFAULT_PARAMS: KdfParams = KdfParams {
    memory_kib: 64 * 1024,
    iterations: 3,
    parallelism: 1,
};

/// Whether the data dir has a passphrase yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// First start (or an install from before the scheme): [`set_up`] it.
    Unset,
    /// Set: [`unlock`] with the passphrase.
    Set,
}

pub async fn state(store: &Store) -> Result<State> {
    Ok(match store.keyring().get().await? {
        Some(_) => State::Set,
        None => State::Unset,
    })
}

/// Refuses a passphrase too short to be one (setting or changing it).
pub fn check_new(passphrase: &str) -> Result<()> {
    if passphrase.chars().count() < MIN_LEN {
        return Err(Error::invalid(
            "passphrase",
            format!("must be at least {MIN_LEN} characters"),
        ));
    }
    Ok(())
}

/// A passphrase to print once when none was given (about 128 bits).
pub fn generate() -> String {
    crate::secrets::random_token(16)
}

/// What [`set_up`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// A new data key.
    Created,
    /// The old `sealing.key` became the data key, sealed; the file is gone.
    MigratedKeyFile,
}

/// First start: seals a data key (the legacy key file's, if there is one) under `passphrase`
/// and stores the keyring. Refused (409) if a keyring exists already.
pub async fn set_up(store: &Store, data_dir: &Path, passphrase: &str) -> Result<(Key32, Setup)> {
    check_new(passphrase)?;
    let legacy_path = data_dir.join(LEGACY_KEY_FILE);
    let (data_key, setup) = match std::fs::read(&legacy_path) {
        Ok(bytes) => {
            let key = Key32::from_slice(&bytes).ok_or_else(|| {
                Error::Config(format!(
                    "{} must hold exactly {KEY_LEN} bytes; it holds {}",
                    legacy_path.display(),
                    bytes.len()
                ))
            })?;
            (key, Setup::MigratedKeyFile)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Key32::generate(), Setup::Created),
        Err(e) => return Err(Error::io(format!("reading {}", legacy_path.display()), e)),
    };
    let row = seal_data_key(passphrase, &data_key, DEFAULT_PARAMS).await?;
    if !store.keyring().create(&row).await? {
        return Err(Error::Refused(
            "the decryption passphrase is set already".into(),
        ));
    }
    if setup == Setup::MigratedKeyFile {
        // The key now lives only sealed in the database; the plaintext copy must go.
        std::fs::remove_file(&legacy_path)
            .map_err(|e| Error::io(format!("removing {}", legacy_path.display()), e))?;
    }
    Ok((data_key, setup))
}

/// Opens the data key with `passphrase`: `403` when it is wrong.
pub async fn unlock(store: &Store, passphrase: &str) -> Result<Key32> {
    let row = store
        .keyring()
        .get()
        .await?
        .ok_or_else(|| Error::Refused("no decryption passphrase is set yet".into()))?;
    open_data_key(passphrase, &row).await
}

/// Re-seals the data key under `new`, after `old` opened it. Sealed values are untouched.
pub async fn change(store: &Store, old: &str, new: &str) -> Result<()> {
    check_new(new).map_err(|_| {
        Error::invalid(
            "new_passphrase",
            format!("must be at least {MIN_LEN} characters"),
        )
    })?;
    let row = store
        .keyring()
        .get()
        .await?
        .ok_or_else(|| Error::Refused("no decryption passphrase is set yet".into()))?;
    let data_key = open_data_key(old, &row).await?;
    let replaced = seal_data_key(new, &data_key, DEFAULT_PARAMS).await?;
    if !store.keyring().replace(&row, &replaced).await? {
        return Err(Error::Refused(
            "the decryption passphrase was changed meanwhile; try again".into(),
        ));
    }
    Ok(())
}

async fn seal_data_key(
    passphrase: &str,
    data_key: &Key32,
    params: KdfParams,
) -> Result<KeyringRow> {
    let mut salt = vec![0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let kek = derive(passphrase.to_owned(), salt.clone(), params).await?;
    Ok(KeyringRow {
        kdf: KDF.into(),
        kdf_version: KDF_VERSION,
        memory_kib: i64::from(params.memory_kib),
        iterations: i64::from(params.iterations),
        parallelism: i64::from(params.parallelism),
        salt,
        sealed_data_key: Sealer::new(&kek).seal(data_key.as_bytes())?,
    })
}

/// Opens the data key a keyring row seals (this data dir's, or an export's): `403` when
/// `passphrase` is wrong.
pub async fn open_data_key(passphrase: &str, row: &KeyringRow) -> Result<Key32> {
    if row.kdf != KDF || row.kdf_version != KDF_VERSION {
        return Err(Error::Config(format!(
            "the keyring uses {} version {}, which this Tileworks does not know",
            row.kdf, row.kdf_version
        )));
    }
    let param = |v: i64, what: &str| {
        u32::try_from(v).map_err(|_| Error::Config(format!("the keyring's {what} is out of range")))
    };
    let params = KdfParams {
        memory_kib: param(row.memory_kib, "memory")?,
        iterations: param(row.iterations, "iterations")?,
        parallelism: param(row.parallelism, "parallelism")?,
    };
    let kek = derive(passphrase.to_owned(), row.salt.clone(), params).await?;
    let plain = Sealer::new(&kek)
        .open_sealed(&row.sealed_data_key)
        .map_err(|_| Error::Forbidden(WRONG.into()))?;
    Key32::from_slice(&plain)
        .ok_or_else(|| Error::Config("the keyring's data key has the wrong length".into()))
}

/// At most this many derivations run at once: each takes 64 MiB, and `PUT /api/v0/unlock` is
/// open to anyone, so a flood of guesses must queue rather than exhaust memory.
static DERIVING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// argon2id, off the async threads (it is meant to be slow).
async fn derive(passphrase: String, salt: Vec<u8>, params: KdfParams) -> Result<Key32> {
    let _permit = DERIVING
        .acquire()
        .await
        .map_err(|e| Error::Internal(format!("deriving the passphrase key: {e}")))?;
    tokio::task::spawn_blocking(move || {
        let params = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            Some(KEY_LEN),
        )
        .map_err(|e| Error::Config(format!("argon2id parameters: {e}")))?;
        let mut out = [0u8; KEY_LEN];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), &salt, &mut out)
            .map_err(|e| Error::Internal(format!("deriving the passphrase key: {e}")))?;
        Ok(Key32::from_slice(&out).expect("KEY_LEN bytes"))
    })
    .await
    .map_err(|e| Error::Internal(format!("deriving the passphrase key: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn set_up_unlock_change_and_the_legacy_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(state(&store).await.unwrap(), State::Unset);
        assert!(matches!(
            set_up(&store, dir.path(), "short").await,
            Err(Error::Invalid { .. })
        ));
        let (key, setup) = set_up(&store, dir.path(), "first passphrase")
            .await
            .unwrap();
        assert_eq!(setup, Setup::Created);
        assert_eq!(state(&store).await.unwrap(), State::Set);
        // Set once only.
        assert!(matches!(
            set_up(&store, dir.path(), "another passphrase").await,
            Err(Error::Refused(_))
        ));

        assert_eq!(unlock(&store, "first passphrase").await.unwrap(), key);
        assert!(matches!(
            unlock(&store, "first passphrasE").await,
            Err(Error::Forbidden(_))
        ));
        // The stored row holds neither the passphrase nor the key.
        let row = store.keyring().get().await.unwrap().unwrap();
        assert_eq!((row.kdf.as_str(), row.memory_kib), ("argon2id", 65536));
        assert!(!row
            .sealed_data_key
            .windows(KEY_LEN)
            .any(|w| w == key.as_bytes()));

        assert!(matches!(
            change(&store, "wrong one here", "second passphrase").await,
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            change(&store, "first passphrase", "short").await,
            Err(Error::Invalid { .. })
        ));
        change(&store, "first passphrase", "second passphrase")
            .await
            .unwrap();
        assert!(unlock(&store, "first passphrase").await.is_err());
        assert_eq!(unlock(&store, "second passphrase").await.unwrap(), key);

        // An install from before the scheme: its key file's key becomes the data key.
        let old = tempfile::tempdir().unwrap();
        let old_store = Store::open(old.path()).await.unwrap();
        let old_key = Key32::generate();
        std::fs::write(old.path().join(LEGACY_KEY_FILE), old_key.as_bytes()).unwrap();
        let (key, setup) = set_up(&old_store, old.path(), "migrated passphrase")
            .await
            .unwrap();
        assert_eq!((key, setup), (old_key.clone(), Setup::MigratedKeyFile));
        assert!(!old.path().join(LEGACY_KEY_FILE).exists());
        assert_eq!(
            unlock(&old_store, "migrated passphrase").await.unwrap(),
            old_key
        );
    }
}
