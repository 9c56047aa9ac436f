//! `tileworks tile preview PATH`: serves the tile's settings forms in the browser as operators
//! will see them (the real pages and validation, `crate::preview`), reloading as the author
//! edits the metadata. Listens on a loopback address only: the preview has no login.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::{read_tile, EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE};

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// The tile: a folder (metadata/*.yml), a metadata .yml or a .pivotal.
    pub path: PathBuf,
    /// Where to listen: a loopback address only (127.0.0.1 or [::1]), since the preview has no
    /// login. Port 0 picks a free port (the address is printed).
    #[arg(long, default_value = "127.0.0.1:8090", value_parser = loopback)]
    pub listen: SocketAddr,
    /// Folder with the built browser assets (`pkg/tileworks.js`, `pkg/tileworks_bg.wasm`, CSS).
    #[arg(long, env = "TILEWORKS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

/// Only a loopback address: anyone who reaches the preview may configure the tile in it.
fn loopback(text: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = text
        .parse()
        .map_err(|e| format!("expected an address and port such as 127.0.0.1:8090 ({e})"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address: the preview has no login, so it listens on \
             127.0.0.1 or [::1] only"
        ));
    }
    Ok(addr)
}

pub fn run(args: &PreviewArgs) -> u8 {
    // A tile that cannot be read at all stops here; one with errors in its metadata is served,
    // and the page shows them until the author fixes them.
    if let Err(code) = read_tile(&args.path) {
        return code;
    }
    let data_dir = std::env::temp_dir().join(format!(
        "tileworks-preview-{}",
        crate::secrets::random_token(9)
    ));
    if let Err(e) = crate::store::create_private_dir(&data_dir) {
        eprintln!("error: {e}");
        return EXIT_UNREADABLE;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            let _ = std::fs::remove_dir_all(&data_dir);
            return EXIT_PROBLEMS;
        }
    };
    let served = runtime.block_on(crate::http::serve::serve_preview(
        args.path.clone(),
        args.listen,
        args.site_root.clone(),
        data_dir.clone(),
    ));
    // Background tasks (the watch, the Director stand-in's workers) end with the runtime,
    // before their files go.
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    if let Err(e) = std::fs::remove_dir_all(&data_dir) {
        eprintln!(
            "warning: could not remove the preview's data in {}: {e}",
            data_dir.display()
        );
    }
    match served {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_PROBLEMS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_accepted() {
        assert!(loopback("127.0.0.1:0").is_ok());
        assert!(loopback("[::1]:8090").is_ok());
        let refused = loopback("0.0.0.0:8090").unwrap_err();
        assert!(refused.contains("not a loopback address"), "{refused}");
        assert!(loopback("192.168.1.5:80").is_err());
        assert!(loopback("localhost").is_err());
    }
}
