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
    let store = crate::store::Store::open(&data.path).await?;
    let secret = crate::secrets::random_token(24);
    store.api_clients().create(name, role, &secret).await?;
    println!("Created API client '{name}' with role '{role}'. Its secret (shown only this once):");
    println!("{secret}");
    Ok(())
}
