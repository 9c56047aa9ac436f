//! Password hashing with argon2id (PHC strings). Hashing is deliberately slow, so it runs on the
//! blocking pool instead of stalling the async workers.

use std::sync::OnceLock;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::{Error, Result};

/// The shortest password a user may be given (the first administrator's, set on the first
/// start, is the operator's own choice).
pub use app::backend::users::MIN_PASSWORD_LEN;

/// The longest password considered (the login form refuses longer input before hashing).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Whether `password` may become a user's password; a `422` naming `field` otherwise. The
/// message never repeats the password.
pub fn check_new(field: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::invalid(
            field,
            format!("must be at least {MIN_PASSWORD_LEN} characters long"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_PASSWORD_BYTES} bytes long"),
        ));
    }
    if password.trim().is_empty() {
        return Err(Error::invalid(field, "must not be blank"));
    }
    Ok(())
}

pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| Error::Internal(format!("password hashing task: {e}")))?
}

fn hash_blocking(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
}

/// Whether `candidate` matches the PHC string `hash`.
pub async fn verify(candidate: &str, hash: &str) -> Result<bool> {
    let candidate = candidate.to_owned();
    let hash = hash.to_owned();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| Error::Internal(format!("stored password hash is malformed: {e}")))?;
        Ok(Argon2::default()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| Error::Internal(format!("password verification task: {e}")))?
}

/// Spends the same effort as a real verification, for names that do not exist.
pub async fn verify_against_dummy(candidate: &str) -> Result<()> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = match DUMMY.get() {
        Some(hash) => hash.clone(),
        None => {
            let hash = hash("tileworks-dummy-password").await?;
            DUMMY.get_or_init(|| hash).clone()
        }
    };
    verify(candidate, &dummy).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let hashed = hash("correct horse").await.unwrap();
        assert!(hashed.starts_with("$argon2id$"), "{hashed}");
        assert!(verify("correct horse", &hashed).await.unwrap());
        assert!(!verify("wrong horse", &hashed).await.unwrap());
    }

    #[tokio::test]
    async fn the_same_password_gets_a_new_salt_each_time() {
        assert_ne!(hash("pw").await.unwrap(), hash("pw").await.unwrap());
    }

    #[test]
    fn new_passwords_have_a_minimum_length() {
        let err = check_new("password", "short").unwrap_err();
        assert_eq!(
            err.to_string(),
            "password: must be at least 12 characters long"
        );
        assert!(check_new("password", "twelve chars").is_ok());
        assert!(check_new("password", "            ").is_err());
        assert!(check_new("password", &"x".repeat(1025)).is_err());
    }

    #[tokio::test]
    async fn a_malformed_stored_hash_is_an_error_not_a_panic() {
        assert!(verify("pw", "not-a-phc-string").await.is_err());
    }
}
