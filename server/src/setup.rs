//! The first setup of a fresh instance, as Ops Manager's `POST /api/v0/setup` does it (om
//! `configure-authentication`): the first administrator and the decryption passphrase, chosen
//! by whoever reaches the instance first, once.
//!
//! `tileworks serve --setup=api` (or `TILEWORKS_SETUP=api`) starts a data dir that has neither
//! a passphrase nor a user in this fresh state instead of setting both up from the environment
//! (`--setup=auto`, the default, which `make run` keeps). While fresh, the instance answers
//! only what setting it up needs (`http/unlock.rs`): this setup, or an import of an exported
//! installation (`crate::installation_archive`).

use std::collections::BTreeMap;
use std::path::Path;

use crate::auth::accounts::validate_username;
use crate::auth::password::MIN_PASSWORD_LEN;
use crate::store::sealing::Key32;
use crate::store::Store;
use crate::{Error, Result};

/// How a data dir that is not set up yet gets its passphrase and first administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SetupMode {
    /// From the environment at start (`TILEWORKS_DECRYPTION_PASSPHRASE`,
    /// `TILEWORKS_ADMIN_PASSWORD`, or generated and printed once).
    #[default]
    Auto,
    /// Wait, fresh, for `POST /api/v0/setup` (om `configure-authentication`) or an import
    /// (`POST /api/v0/installation_asset_collection`, om `import-installation`).
    Api,
}

/// `POST /api/v0/setup`'s body, inside `{"setup": …}` (om `api/setup_service.go`
/// `SetupInput`): Ops Manager's field names.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SetupInput {
    pub identity_provider: Option<String>,
    pub admin_user_name: Option<String>,
    pub admin_password: Option<String>,
    pub admin_password_confirmation: Option<String>,
    pub decryption_passphrase: Option<String>,
    pub decryption_passphrase_confirmation: Option<String>,
    /// om sends the string `"true"`; a JSON boolean is taken too.
    pub eula_accepted: Option<serde_json::Value>,
}

/// A setup whose every field passed its rule.
#[derive(Clone)]
pub struct ValidSetup {
    pub admin_user_name: String,
    admin_password: String,
    decryption_passphrase: String,
}

impl std::fmt::Debug for ValidSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidSetup")
            .field("admin_user_name", &self.admin_user_name)
            .finish_non_exhaustive()
    }
}

/// The longest password or passphrase taken (argon2 would hash more, but nobody types it).
const MAX_SECRET_LEN: usize = 1024;

impl SetupInput {
    /// Every rule at once: `422` listing each field that breaks one (Ops Manager's names).
    pub fn validate(self) -> Result<ValidSetup> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut fail = |field: &str, message: String| {
            errors.entry(field.to_owned()).or_default().push(message);
        };
        match self.identity_provider.as_deref() {
            None | Some("internal") => {}
            Some(other) => fail(
                "identity_provider",
                format!(
                    "'{other}' is not supported; Tileworks keeps its own users: use 'internal'"
                ),
            ),
        }
        let user = self.admin_user_name.unwrap_or_default();
        if user.is_empty() {
            fail("admin_user_name", "is required".into());
        } else if let Err(Error::Invalid { message, .. }) = validate_username(&user) {
            fail("admin_user_name", message);
        }
        let password = self.admin_password.unwrap_or_default();
        if password.chars().count() < MIN_PASSWORD_LEN {
            fail(
                "admin_password",
                format!("must be at least {MIN_PASSWORD_LEN} characters long"),
            );
        } else if password.len() > MAX_SECRET_LEN {
            fail(
                "admin_password",
                format!("must be at most {MAX_SECRET_LEN} bytes"),
            );
        }
        if let Some(confirmation) = &self.admin_password_confirmation {
            if *confirmation != password {
                fail(
                    "admin_password_confirmation",
                    "does not match admin_password".into(),
                );
            }
        }
        let passphrase = self.decryption_passphrase.unwrap_or_default();
        if passphrase.chars().count() < crate::passphrase::MIN_LEN {
            fail(
                "decryption_passphrase",
                format!(
                    "must be at least {} characters long",
                    crate::passphrase::MIN_LEN
                ),
            );
        } else if passphrase.len() > MAX_SECRET_LEN {
            fail(
                "decryption_passphrase",
                format!("must be at most {MAX_SECRET_LEN} bytes"),
            );
        }
        if let Some(confirmation) = &self.decryption_passphrase_confirmation {
            if *confirmation != passphrase {
                fail(
                    "decryption_passphrase_confirmation",
                    "does not match decryption_passphrase".into(),
                );
            }
        }
        let accepted = match &self.eula_accepted {
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        if !accepted {
            fail("eula_accepted", "must be \"true\"".into());
        }
        if !errors.is_empty() {
            return Err(Error::Rejected(errors));
        }
        Ok(ValidSetup {
            admin_user_name: user,
            admin_password: password,
            decryption_passphrase: passphrase,
        })
    }
}

/// Whether the data dir is fresh: no passphrase and no user yet.
pub async fn is_fresh(store: &Store) -> Result<bool> {
    Ok(
        crate::passphrase::state(store).await? == crate::passphrase::State::Unset
            && store.users().count().await? == 0,
    )
}

/// Sets the instance up: the passphrase (a new data key sealed under it), then the first
/// administrator. Refused (`409`) once set up.
pub async fn set_up(store: &Store, data_dir: &Path, setup: &ValidSetup) -> Result<Key32> {
    if !is_fresh(store).await? {
        return Err(already_set_up());
    }
    let (key, _) = crate::passphrase::set_up(store, data_dir, &setup.decryption_passphrase).await?;
    store
        .users()
        .create(&setup.admin_user_name, &setup.admin_password, "admin")
        .await?;
    tracing::info!(target: "audit", admin = %setup.admin_user_name, "set up through POST /api/v0/setup");
    Ok(key)
}

/// The refusal of a setup or an import once the instance is set up.
pub fn already_set_up() -> Error {
    Error::Refused(
        "this Tileworks is set up already (it has a decryption passphrase and users); setup and \
         import-installation work only on a fresh instance (`tileworks serve --setup=api` on an \
         empty data dir)"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> SetupInput {
        SetupInput {
            identity_provider: Some("internal".into()),
            admin_user_name: Some("ops".into()),
            admin_password: Some("a long admin password".into()),
            admin_password_confirmation: Some("a long admin password".into()),
            decryption_passphrase: Some("a long passphrase".into()),
            decryption_passphrase_confirmation: Some("a long passphrase".into()),
            eula_accepted: Some(serde_json::json!("true")),
        }
    }

    fn fields(err: Error) -> Vec<String> {
        match err {
            Error::Rejected(map) => map.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_rule_names_its_field() {
        assert_eq!(good().validate().unwrap().admin_user_name, "ops");
        assert_eq!(
            fields(SetupInput::default().validate().unwrap_err()),
            [
                "admin_password",
                "admin_user_name",
                "decryption_passphrase",
                "eula_accepted"
            ]
        );
        let mut bad = good();
        bad.identity_provider = Some("saml".into());
        bad.admin_user_name = Some("no spaces".into());
        bad.admin_password_confirmation = Some("other".into());
        bad.decryption_passphrase_confirmation = Some("other".into());
        bad.eula_accepted = Some(serde_json::json!("false"));
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            [
                "admin_password_confirmation",
                "admin_user_name",
                "decryption_passphrase_confirmation",
                "eula_accepted",
                "identity_provider"
            ]
        );
    }

    #[tokio::test]
    async fn once_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        assert!(is_fresh(&store).await.unwrap());
        let setup = good().validate().unwrap();
        let key = set_up(&store, dir.path(), &setup).await.unwrap();
        assert!(!is_fresh(&store).await.unwrap());
        assert_eq!(
            crate::passphrase::unlock(&store, "a long passphrase")
                .await
                .unwrap(),
            key
        );
        assert!(matches!(
            set_up(&store, dir.path(), &setup).await,
            Err(Error::Refused(_))
        ));
    }
}
