//! First start: create the first administrator.

use std::io::Write;
use std::path::Path;

use crate::config::ServeConfig;
use crate::store::Store;
use crate::{Error, Result};

/// File (under the data dir) that receives a generated first-admin password.
pub const INITIAL_PASSWORD_FILE: &str = "initial-admin-password";

/// Creates the first administrator when there is no user at all. A later start never changes an
/// existing user, whatever the environment says; it removes the generated password's file once
/// that password no longer signs in (changed, reset, or the user deleted), so a plaintext
/// password does not outlive its use.
pub async fn ensure_first_admin(store: &Store, config: &ServeConfig) -> Result<()> {
    if store.users().count().await? > 0 {
        return forget_used_initial_password(store, config).await;
    }
    let username = config.admin_user.trim();
    if username.is_empty() {
        return Err(Error::invalid("TILEWORKS_ADMIN_USER", "must not be blank"));
    }
    let (password, generated) = match &config.admin_password {
        Some(password) if !password.is_empty() => (password.clone(), false),
        _ => (crate::secrets::random_token(18), true),
    };
    store.users().create(username, &password, "admin").await?;
    if generated {
        let path = config.data.path.join(INITIAL_PASSWORD_FILE);
        write_private_file(&path, &format!("{password}\n"))?;
        // Printed straight to the console (not through the log) exactly once, on this first start.
        println!(
            "Created the first administrator '{username}' with password: {password}\n\
             (also written to {}; change it after logging in)",
            path.display()
        );
    } else {
        println!("Created the first administrator '{username}' with the password from TILEWORKS_ADMIN_PASSWORD.");
    }
    Ok(())
}

/// Removes `initial-admin-password` when its password no longer signs in as the first
/// administrator. A file that cannot be read or removed is reported, never fatal.
async fn forget_used_initial_password(store: &Store, config: &ServeConfig) -> Result<()> {
    let path = config.data.path.join(INITIAL_PASSWORD_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(()); // no file (the usual case), or unreadable: nothing to compare
    };
    let password = text.trim_end_matches(['\r', '\n']);
    let still_valid = store
        .users()
        .authenticate(config.admin_user.trim(), password)
        .await?
        .is_some();
    if !still_valid {
        match std::fs::remove_file(&path) {
            Ok(()) => println!(
                "Removed {}: the generated first password no longer signs in.",
                path.display()
            ),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "removing the used initial admin password")
            }
        }
    }
    Ok(())
}

/// Writes a file readable by its owner only.
fn write_private_file(path: &Path, contents: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    file.write_all(contents.as_bytes())
        .map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
