//! Starts the real `tileworks` binary on a free port with a temporary data dir, for integration
//! tests that talk HTTP to it.

#![allow(dead_code)] // each test binary uses a different part of this helper

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASSWORD: &str = "integration-test-password";
/// The decryption passphrase every test server gets (TILEWORKS_DECRYPTION_PASSPHRASE), so it
/// starts unlocked; see `TestServer::start_locked` for the other case.
pub const PASSPHRASE: &str = "integration-test-passphrase";

pub struct TestServer {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    /// The server's PostgreSQL database when TILEWORKS_TEST_DATABASE_URL names a server (one
    /// fresh database per test server); `None`: the data dir's SQLite file.
    pub database_url: Option<String>,
    child: Child,
    /// Extra `serve` arguments, reused on restart.
    args: Vec<String>,
    /// TILEWORKS_DECRYPTION_PASSPHRASE for the next (re)start; `None` leaves it unset.
    pub passphrase: Option<String>,
    /// RUST_LOG for the next (re)start (`warn` unless a test wants to read more).
    pub rust_log: String,
    /// Everything the server printed on stdout.
    pub stdout: String,
    /// Everything the server logged on stderr (also passed on to the test's stderr).
    log: std::sync::Arc<std::sync::Mutex<String>>,
    /// `--replica-id` (TILEWORKS_REPLICA_ID), the same across restarts, as a replica's should be.
    pub replica_id: String,
}

/// A replica id no other test server in this run has.
fn new_replica_id() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tileworks"))
}

impl TestServer {
    /// Starts with TILEWORKS_ADMIN_PASSWORD set.
    pub fn start() -> TestServer {
        Self::start_with(&[], Some(ADMIN_PASSWORD))
    }

    pub fn start_with(args: &[&str], admin_password: Option<&str>) -> TestServer {
        Self::start_full(args, admin_password, Some(PASSPHRASE))
    }

    /// Starts with `passphrase` as TILEWORKS_DECRYPTION_PASSPHRASE, or without it (`None`: the
    /// first start generates and prints one; later starts are locked).
    pub fn start_full(
        args: &[&str],
        admin_password: Option<&str>,
        passphrase: Option<&str>,
    ) -> TestServer {
        Self::start_on(fresh_database_url(), args, admin_password, passphrase)
    }

    /// Another replica of `first`: a server with its own data dir on `first`'s database (its
    /// PostgreSQL database, or on SQLite the first's database file, which SQLite lets several
    /// processes share).
    pub fn start_replica(first: &TestServer, args: &[&str]) -> TestServer {
        let url = first.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                first.data_dir.path().join("tileworks.db").display()
            )
        });
        Self::start_on(Some(url), args, None, first.passphrase.as_deref())
    }

    pub fn start_on(
        database_url: Option<String>,
        args: &[&str],
        admin_password: Option<&str>,
        passphrase: Option<&str>,
    ) -> TestServer {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let replica_id = new_replica_id();
        let (child, url, stdout) = spawn(
            data_dir.path(),
            database_url.as_deref(),
            &args,
            admin_password,
            passphrase,
            "warn",
            &log,
            &replica_id,
        );
        TestServer {
            url,
            data_dir,
            database_url,
            child,
            args,
            passphrase: passphrase.map(str::to_owned),
            rust_log: "warn".into(),
            stdout,
            log,
            replica_id,
        }
    }

    /// The server's database, opened beside it: its PostgreSQL database, or the data dir's
    /// SQLite file (WAL lets both use it at once). Statements written with numbered `$N`
    /// placeholders run on both, as the store's own do.
    pub async fn database(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        let url = self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.data_dir.path().join("tileworks.db").display()
            )
        });
        sqlx::any::AnyPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"))
    }

    /// Kills the server (SIGKILL) without starting it again.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// Stops (`SIGSTOP`) or continues (`SIGCONT`) the server's process: a replica that is
    /// slow, not dead.
    pub fn pause(&self, paused: bool) {
        let signal = if paused { "-STOP" } else { "-CONT" };
        let status = std::process::Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill {signal}");
    }

    /// Like [`start`](Self::start), logging at `info` (for tests that search the log).
    pub fn start_logging_info(args: &[&str]) -> TestServer {
        let mut server = Self::start_with(args, Some(ADMIN_PASSWORD));
        server.rust_log = "info".into();
        server.passphrase = Some(PASSPHRASE.into());
        server.restart();
        server
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Stops the server (SIGKILL: no chance to tidy up) and starts it again on the same data dir.
    pub fn restart(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
        let (child, url, stdout) = spawn(
            self.data_dir.path(),
            self.database_url.as_deref(),
            &self.args,
            Some("a-different-password"),
            self.passphrase.as_deref(),
            &self.rust_log,
            &self.log,
            &self.replica_id,
        );
        self.child = child;
        self.url = url;
        self.stdout = stdout;
    }

    /// Like [`restart`](Self::restart), with `args` as its `serve` arguments from now on.
    pub fn restart_with(&mut self, args: &[&str]) {
        self.args = args.iter().map(|s| s.to_string()).collect();
        self.restart();
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// With TILEWORKS_TEST_DATABASE_URL (`postgres://…/postgres`, set by scripts/test.sh from
/// scripts/postgres-for-tests.sh), creates a new empty database there and returns its URL.
pub fn fresh_database_url() -> Option<String> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = std::env::var("TILEWORKS_TEST_DATABASE_URL").ok()?;
    let name = format!(
        "tw_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let output = Command::new("psql")
        .arg(&server)
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("run psql");
    assert!(
        output.status.success(),
        "CREATE DATABASE {name}: {output:?}"
    );
    let (base, _) = server.rsplit_once('/').expect("a database URL ends in /DB");
    Some(format!("{base}/{name}"))
}

/// `tileworks` with the server's data dir and database, for CLI subcommands.
pub fn cli(server: &TestServer) -> Command {
    let mut command = Command::new(binary());
    match &server.database_url {
        Some(url) => command
            .env("TILEWORKS_DATABASE_URL", url)
            .env("TILEWORKS_SINGLE_REPLICA", "true"),
        None => command
            .env_remove("TILEWORKS_DATABASE_URL")
            .env_remove("TILEWORKS_SINGLE_REPLICA"),
    };
    command
}

#[allow(clippy::too_many_arguments)]
fn spawn(
    data_dir: &Path,
    database_url: Option<&str>,
    args: &[String],
    admin_password: Option<&str>,
    passphrase: Option<&str>,
    rust_log: &str,
    log: &std::sync::Arc<std::sync::Mutex<String>>,
    replica_id: &str,
) -> (Child, String, String) {
    let mut command = Command::new(binary());
    command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("TILEWORKS_ADMIN_PASSWORD")
        .env_remove("TILEWORKS_DECRYPTION_PASSPHRASE")
        // Files in the data dir unless a test gives `--object-store-url` (object_store.rs).
        .env_remove("TILEWORKS_OBJECT_STORE_URL")
        .env("TILEWORKS_ADMIN_USER", ADMIN_USER)
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
        .env("TILEWORKS_REPLICA_ID", replica_id)
        .env_remove("TILEWORKS_SINGLE_REPLICA");
    match database_url {
        Some(url) => command.env("TILEWORKS_DATABASE_URL", url),
        None => command.env_remove("TILEWORKS_DATABASE_URL"),
    };
    // The suites that also run on PostgreSQL start one server per database, each with its
    // own Director stand-in: say so (the replica tests give an external Director instead).
    let external_director = args.iter().any(|a| a == "--director-url");
    if database_url.is_some_and(|url| url.starts_with("postgres")) && !external_director {
        command.env("TILEWORKS_SINGLE_REPLICA", "true");
    }
    if let Some(password) = admin_password {
        command.env("TILEWORKS_ADMIN_PASSWORD", password);
    }
    if let Some(passphrase) = passphrase {
        command.env("TILEWORKS_DECRYPTION_PASSPHRASE", passphrase);
    }
    let mut child = command.spawn().expect("start tileworks");
    let stderr = child.stderr.take().expect("stderr");
    let log = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("{line}");
            let mut log = log.lock().unwrap();
            log.push_str(&line);
            log.push('\n');
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    let url = loop {
        let line = match lines.next() {
            Some(Ok(line)) if Instant::now() < deadline => line,
            _ => break None,
        };
        seen.push_str(&line);
        seen.push('\n');
        if let Some(url) = line.split("listening on ").nth(1) {
            break Some(url.trim().to_owned());
        }
    };
    match url {
        Some(url) => {
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            (child, url, seen)
        }
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server did not start:\n{seen}");
        }
    }
}

/// A client that keeps cookies and does not follow redirects (so tests see them), and says
/// what a browser says of Tileworks's own pages' requests (`Sec-Fetch-Site: same-origin`),
/// so the gate's cross-site check lets its session writes through.
pub fn browser() -> reqwest::Client {
    let mut own_page = reqwest::header::HeaderMap::new();
    own_page.insert(
        "sec-fetch-site",
        reqwest::header::HeaderValue::from_static("same-origin"),
    );
    reqwest::Client::builder()
        .default_headers(own_page)
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn log_in(
    client: &reqwest::Client,
    server: &TestServer,
    user: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(server.at("/login"))
        .form(&[("username", user), ("password", password)])
        .send()
        .await
        .expect("POST /login")
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// A client of the given role, created with the CLI; returns its bearer token.
pub async fn client_token(server: &TestServer, name: &str, role: &str) -> String {
    let output = cli(server)
        .args(["admin", "create-client", name, "--role", role, "--data-dir"])
        .arg(server.data_dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains(&format!("role '{role}'")), "{stdout}");
    let secret = stdout.lines().last().unwrap().trim().to_owned();
    let response = reqwest::Client::new()
        .post(server.at("/uaa/oauth/token"))
        .basic_auth(name, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Posts a page's plain form (as a browser without the wasm does) and returns the answer.
pub async fn post_form(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(server.at(path))
        .form(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
}

/// Posts a form the server takes; returns where its `303` sends the browser.
pub async fn post_form_done(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
) -> String {
    let r = post_form(browser, server, path, form).await;
    let status = r.status();
    let to = location(&r);
    assert_eq!(
        status,
        303,
        "POST {path}: {}",
        r.text().await.unwrap_or_default()
    );
    to
}

/// Posts a form the server refuses with `status`; returns the page it renders again.
pub async fn post_form_refused(
    browser: &reqwest::Client,
    server: &TestServer,
    path: &str,
    form: &[(&str, &str)],
    status: u16,
) -> String {
    let r = post_form(browser, server, path, form).await;
    let got = r.status();
    let html = r.text().await.unwrap_or_default();
    assert_eq!(got, status, "POST {path}: {html}");
    html
}

/// A page read by a signed-in browser, which must answer `200`.
pub async fn get_page(browser: &reqwest::Client, server: &TestServer, path: &str) -> String {
    let r = browser
        .get(server.at(path))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status();
    let html = r.text().await.unwrap_or_default();
    assert_eq!(status, 200, "GET {path}: {html}");
    html
}

/// Text as the server-rendered HTML escapes it (`'` and `"` become entities).
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&#x27;")
        .replace('"', "&quot;")
}
