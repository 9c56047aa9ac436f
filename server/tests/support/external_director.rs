//! The Director stand-in started on its own (`tileworks director`), for tests that need
//! Tileworks to treat its Director as a real one: replicas sharing it, the verifiers that reach
//! the IaaS only when a real Director deploys.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::common::binary;

/// One `tileworks director` (the stand-in on its own), which `serve` reaches as it would a
/// real Director (`--director-url`).
pub struct ExternalDirector {
    child: Child,
    _dir: tempfile::TempDir,
    flags: Vec<String>,
    url: String,
    ca: std::path::PathBuf,
}

/// The Director's client secret `serve` is given.
pub const DIRECTOR_SECRET: &str = "shared-director-secret";

impl ExternalDirector {
    pub fn start(vm_create_ms: u64) -> ExternalDirector {
        Self::start_with_cpi(vm_create_ms, None)
    }

    /// Started presenting `cpi` in its `/info` (TILEWORKS_DIRECTOR_CPI_NAME), so Tileworks
    /// treats its IaaS as real (`None`: the stand-in's simulated CPI).
    pub fn start_with_cpi(vm_create_ms: u64, cpi: Option<&str>) -> ExternalDirector {
        let dir = tempfile::tempdir().unwrap();
        let secret = DIRECTOR_SECRET;
        let mut child = Command::new(binary())
            .args(["director", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--vm-create-ms", &vm_create_ms.to_string()])
            .env("TILEWORKS_DIRECTOR_CLIENT_SECRET", secret)
            .env("RUST_LOG", "warn")
            .envs(cpi.map(|c| ("TILEWORKS_DIRECTOR_CPI_NAME", c)))
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tileworks director");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("the director printed its URL").unwrap();
            if let Some(url) = line.split("listening on ").nth(1) {
                break url.trim().to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let ca = dir.path().join("tls").join("ca.crt");
        let flags = vec![
            "--director-url".into(),
            url.clone(),
            "--director-ca-cert".into(),
            ca.display().to_string(),
            "--director-client".into(),
            "admin".into(),
            "--director-client-secret".into(),
            secret.into(),
        ];
        ExternalDirector {
            child,
            _dir: dir,
            flags,
            url,
            ca,
        }
    }

    /// Its data directory (database, TLS files, its sealing key).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// `serve` flags: this Director, then `extra`.
    pub fn serve_args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        args
    }
}

impl ExternalDirector {
    /// This Director as the `bosh` CLI reaches it, with the credentials `serve` has.
    pub fn bosh(&self) -> super::director::Director {
        let ca = std::fs::read(&self.ca).unwrap();
        super::director::Director::with_ca(&self.url, "admin", DIRECTOR_SECRET, &ca)
    }
}

impl Drop for ExternalDirector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
