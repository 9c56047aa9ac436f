//! The command line: `tileworks serve` (the default), `tileworks admin ...`,
//! `tileworks tile ...` (see `tile_cli`) and `tileworks director` (the stand-in alone).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{DataDir, ServeConfig};

#[derive(Debug, Parser)]
#[command(
    name = "tileworks",
    version,
    about = "Run BOSH-deployed products from a browser"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the web UI and API (the default when no command is given).
    Serve(ServeConfig),
    /// Administrative tasks run on the Tileworks machine.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Tile author tools: lint, pack, render and preview tiles, offline.
    #[command(subcommand)]
    Tile(crate::tile_cli::TileCommand),
    /// Run the BOSH Director stand-in on its own (a Director API server over TLS with
    /// simulated VMs; see director/README.md).
    Director(director::DirectorArgs),
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an API client for the client_credentials grant and print its secret once.
    CreateClient {
        /// Client id, used as the HTTP Basic user name when asking for a token.
        name: String,
        /// What the client may do, as Ops Manager's roles: `admin`/`full_control` (everything,
        /// including reading credentials), `restricted_control` (configure and apply, no
        /// credentials), `full_view` (read, credentials included, no writes),
        /// `restricted_view` (read, no writes, no credentials; `read_only` is the same).
        #[arg(long, default_value = "admin", value_parser = crate::auth::roles::Role::NAMES)]
        role: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Browser users: create, list, change roles, disable, enable, delete, reset passwords.
    /// Passwords are read from standard input, never from the command line.
    #[command(subcommand)]
    User(UserCommand),
    /// API clients: list and revoke (create them with `create-client`).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Change the decryption passphrase: the current one, then the new one, each on a line of
    /// standard input. Only the sealed data key changes; a running Tileworks is unaffected and
    /// needs the new passphrase at its next start.
    ChangeDecryptionPassphrase {
        #[command(flatten)]
        data: DataDir,
    },
    /// Export the whole installation into a file, as `GET /api/v0/installation_asset_collection`
    /// (om export-installation) does; the decryption passphrase is read from standard input.
    /// Works while Tileworks serves; recorded in the audit trail.
    ExportInstallation {
        /// The file to write (mode 0600, replaced if it exists).
        #[arg(long)]
        output: std::path::PathBuf,
        /// The URL of the real Director this installation deploys to (recorded, its state is
        /// its own); without it the embedded stand-in's state (`<data-dir>/director`) is
        /// exported.
        #[arg(long)]
        director_url: Option<String>,
        /// The certificate Tileworks serves (`serve --tls-cert`, the same variable): exported
        /// with its key, sealed, so the imported Tileworks serves it too. A certificate set
        /// through the API is in the database and exported without it.
        #[arg(long, env = "TILEWORKS_TLS_CERT", requires = "tls_key")]
        tls_cert: Option<std::path::PathBuf>,
        /// The key of --tls-cert (`serve --tls-key`).
        #[arg(long, env = "TILEWORKS_TLS_KEY", requires = "tls_cert")]
        tls_key: Option<std::path::PathBuf>,
        /// The object store the installation keeps tiles and stemcells in (`serve
        /// --object-store-url`, the same variables): the files this data dir has not cached are
        /// downloaded first, so the export carries them all.
        #[arg(long = "object-store-url", env = "TILEWORKS_OBJECT_STORE_URL")]
        object_store_url: Option<String>,
        #[command(flatten)]
        data: DataDir,
    },
    /// Import an export into an empty data dir (no Tileworks running on it), as `POST
    /// /api/v0/installation_asset_collection` (om import-installation) does; the passphrase the
    /// export was made with is read from standard input. Everything is checked first.
    ImportInstallation {
        /// The export.
        file: std::path::PathBuf,
        #[command(flatten)]
        data: DataDir,
    },
}

/// `tileworks admin user …`: the same rules as the Users page and `/api/v0/users` (a change
/// ends the user's sessions and tokens; the last enabled administrator stays one).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; its password is read from standard input (one line).
    Create {
        name: String,
        /// `admin`, `full_control`, `restricted_control`, `full_view` or `restricted_view`.
        #[arg(long, value_parser = crate::auth::roles::Role::NAMES)]
        role: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// List users: name, role, enabled or disabled.
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Give a user another role; its sessions and tokens end.
    SetRole {
        name: String,
        #[arg(value_parser = crate::auth::roles::Role::NAMES)]
        role: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Disable a user: it cannot log in, its sessions and tokens end.
    Disable {
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Re-enable a disabled user.
    Enable {
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Delete a user; its sessions and tokens end.
    Delete {
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
    /// Give a user a new password, read from standard input (one line); its sessions and
    /// tokens end.
    ResetPassword {
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

/// `tileworks admin client …`.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// List API clients: name and role (secrets are never shown again).
    List {
        #[command(flatten)]
        data: DataDir,
    },
    /// Remove an API client; its tokens end at once.
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataDir,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Tile commands are offline and synchronous, with their own exit codes.
    let cli = match cli.command {
        Some(Command::Tile(command)) => return crate::tile_cli::run(command),
        command => Cli { command },
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::Serve(config)) => crate::http::serve(config).await,
            None => {
                // No subcommand: parse `serve`'s flags and environment as if it had been given.
                let Cli {
                    command: Some(Command::Serve(config)),
                } = Cli::parse_from(["tileworks", "serve"])
                else {
                    unreachable!("`serve` always parses to Command::Serve")
                };
                crate::http::serve(config).await
            }
            Some(Command::Admin(AdminCommand::CreateClient { name, role, data })) => {
                create_client(&name, &role, &data).await
            }
            Some(Command::Admin(AdminCommand::User(command))) => user(command).await,
            Some(Command::Admin(AdminCommand::Client(command))) => client(command).await,
            Some(Command::Admin(AdminCommand::ChangeDecryptionPassphrase { data })) => {
                change_decryption_passphrase(&data).await
            }
            Some(Command::Admin(AdminCommand::ExportInstallation {
                output,
                director_url,
                tls_cert,
                tls_key,
                object_store_url,
                data,
            })) => {
                export_installation(
                    &output,
                    director_url,
                    tls_cert.zip(tls_key),
                    object_store_url.as_deref(),
                    &data,
                )
                .await
            }
            Some(Command::Admin(AdminCommand::ImportInstallation { file, data })) => {
                import_installation(&file, &data).await
            }
            Some(Command::Tile(_)) => unreachable!("tile commands return before the runtime"),
            Some(Command::Director(args)) => director::run(args.into())
                .await
                .map_err(|e| crate::Error::Internal(format!("director stand-in: {e}"))),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn create_client(name: &str, role: &str, data: &DataDir) -> crate::Result<()> {
    let store = crate::store::Store::open_data(data).await?;
    let secret = crate::secrets::random_token(24);
    store.api_clients().create(name, role, &secret).await?;
    println!("Created API client '{name}' with role '{role}'. Its secret (shown only this once):");
    println!("{secret}");
    Ok(())
}

async fn accounts(data: &DataDir) -> crate::Result<crate::auth::accounts::Accounts> {
    let store = crate::store::Store::open_data(data).await?;
    Ok(crate::auth::accounts::Accounts::new(store))
}

async fn user(command: UserCommand) -> crate::Result<()> {
    use crate::auth::accounts::COMMAND_LINE;
    match command {
        UserCommand::Create { name, role, data } => {
            let accounts = accounts(&data).await?;
            let password = read_password(&format!("Password for '{name}': "))?;
            let user = accounts
                .create_user(COMMAND_LINE, &name, &password, &role)
                .await?;
            println!(
                "Created user '{}' with role '{}'.",
                user.username, user.role
            );
        }
        UserCommand::List { data } => {
            let users = accounts(&data).await?.users().await?;
            println!("{:<32} {:<20} {:<9} CREATED", "USER", "ROLE", "STATE");
            for user in users {
                let state = if user.enabled { "enabled" } else { "disabled" };
                println!(
                    "{:<32} {:<20} {:<9} {}",
                    user.username, user.role, state, user.created_at
                );
            }
        }
        UserCommand::SetRole { name, role, data } => {
            let user = accounts(&data)
                .await?
                .set_role(COMMAND_LINE, &name, &role)
                .await?;
            println!(
                "User '{}' now has the role '{}'; its sessions and tokens ended.",
                user.username, user.role
            );
        }
        UserCommand::Disable { name, data } => {
            accounts(&data)
                .await?
                .set_enabled(COMMAND_LINE, &name, false)
                .await?;
            println!("Disabled user '{name}'; its sessions and tokens ended.");
        }
        UserCommand::Enable { name, data } => {
            accounts(&data)
                .await?
                .set_enabled(COMMAND_LINE, &name, true)
                .await?;
            println!("Enabled user '{name}'.");
        }
        UserCommand::Delete { name, data } => {
            accounts(&data)
                .await?
                .delete_user(COMMAND_LINE, &name)
                .await?;
            println!("Deleted user '{name}'.");
        }
        UserCommand::ResetPassword { name, data } => {
            let accounts = accounts(&data).await?;
            let password = read_password(&format!("New password for '{name}': "))?;
            accounts
                .reset_password(COMMAND_LINE, &name, &password)
                .await?;
            println!("Set a new password for '{name}'; its sessions and tokens ended.");
        }
    }
    Ok(())
}

async fn client(command: ClientCommand) -> crate::Result<()> {
    match command {
        ClientCommand::List { data } => {
            let clients = accounts(&data).await?.clients().await?;
            println!("{:<32} {:<20} CREATED", "CLIENT", "ROLE");
            for client in clients {
                println!(
                    "{:<32} {:<20} {}",
                    client.name, client.role, client.created_at
                );
            }
        }
        ClientCommand::Revoke { name, data } => {
            accounts(&data)
                .await?
                .revoke_client(crate::auth::accounts::COMMAND_LINE, &name)
                .await?;
            println!("Revoked API client '{name}'; its tokens ended.");
        }
    }
    Ok(())
}

async fn change_decryption_passphrase(data: &DataDir) -> crate::Result<()> {
    let store = crate::store::Store::open_data(data).await?;
    let old = read_password("Current decryption passphrase: ")?;
    let new = read_password("New decryption passphrase: ")?;
    crate::passphrase::change(&store, &old, &new).await?;
    println!(
        "Changed the decryption passphrase; the next start needs the new one ({} or /unlock).",
        crate::passphrase::ENV
    );
    Ok(())
}

async fn export_installation(
    output: &std::path::Path,
    director_url: Option<String>,
    tls_files: Option<(std::path::PathBuf, std::path::PathBuf)>,
    object_store_url: Option<&str>,
    data: &DataDir,
) -> crate::Result<()> {
    use crate::installation_archive::{DirectorReference, Exporter};
    let files = crate::files::Files::open(&data.path, object_store_url).await?;
    let store = crate::store::Store::open_data(data).await?;
    let passphrase = read_password("Decryption passphrase: ")?;
    let key = crate::passphrase::unlock(&store, &passphrase).await?;
    let director = match director_url {
        None => DirectorReference::Embedded,
        Some(url) => DirectorReference::External { url },
    };
    let made = Exporter::new(&data.path, key, director)
        .with_tls_files(tls_files)
        .with_files(files)
        .export(&store)
        .await?;
    let target = output.to_path_buf();
    let mut source = made.file;
    tokio::task::spawn_blocking(move || -> crate::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let write = |e| crate::Error::io(format!("writing {}", target.display()), e);
        let mut file = options.open(&target).map_err(write)?;
        std::io::copy(&mut source, &mut file).map_err(write)?;
        file.sync_all().map_err(write)
    })
    .await
    .map_err(|e| crate::Error::Internal(format!("writing the export: {e}")))??;
    if let Err(err) = crate::audit::record(
        &store,
        crate::audit::Entry {
            kind: crate::audit::Kind::Reveal,
            principal: Some(crate::auth::accounts::COMMAND_LINE.into()),
            role: None,
            address: None,
            method: "CLI".into(),
            route: "tileworks admin export-installation".into(),
            target: output.display().to_string(),
            status: 200,
            result: crate::audit::result_of(200),
            body: None,
        },
    )
    .await
    {
        // The trail fails closed for reveals: an export it could not record is not kept.
        let _ = std::fs::remove_file(output);
        return Err(crate::Error::AuditUnavailable(format!(
            "the export was not kept: recording it failed ({err})"
        )));
    }
    println!(
        "Exported the installation to {} ({} bytes); import it with the same decryption \
         passphrase.",
        output.display(),
        made.len
    );
    Ok(())
}

async fn import_installation(file: &std::path::Path, data: &DataDir) -> crate::Result<()> {
    let store = crate::store::Store::open_data(data).await?;
    if !crate::setup::is_fresh(&store).await? {
        return Err(crate::setup::already_set_up());
    }
    let passphrase = read_password("Decryption passphrase of the export: ")?;
    let (imported, _key) =
        crate::installation_archive::import(&store, &data.path, file, &passphrase).await?;
    imported.pool().close().await;
    println!(
        "Imported the installation into {}; start Tileworks on it and unlock it with the \
         export's decryption passphrase.",
        data.path.display()
    );
    Ok(())
}

/// One line of standard input, without its line ending: a password, so it never appears in
/// the command line (and so in `ps` or shell history). At a terminal the prompt goes to
/// standard error and the typing is not echoed.
fn read_password(prompt: &str) -> crate::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let stty = |arg: &str| {
        let _ = std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status();
    };
    if terminal {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        stty("-echo");
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if terminal {
        stty("echo");
        eprintln!();
    }
    read.map_err(|e| crate::Error::io("reading the password from standard input", e))?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line)
        .to_owned();
    if password.is_empty() {
        return Err(crate::Error::invalid(
            "password",
            "expected the password on standard input",
        ));
    }
    Ok(password)
}
