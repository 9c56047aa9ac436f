//! A real MySQL server for the tests of the verifiers that sign in to one: Debian's MariaDB,
//! unpacked (not installed: no system service starts) into `target/tools/mariadb` by
//! `scripts/install-tools.sh --for-tests`, its data directory made fresh in a temp dir and
//! served on a free loopback port and a socket there. Its `root` signs in over the socket
//! only; [`MariaDb::sql`] runs statements as it with Debian's `mariadb` client.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/mariadb")
}

pub struct MariaDb {
    pub port: u16,
    socket: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl MariaDb {
    pub fn start() -> MariaDb {
        let base = root().join("usr");
        let server = base.join("sbin/mariadbd");
        assert!(
            server.is_file(),
            "no MariaDB at {}: run scripts/install-tools.sh --for-tests (it unpacks Debian's \
             mariadb-server-core into target/tools/mariadb)",
            server.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        // Its own temporary directory: servers bootstrapping at once in the shared /tmp clash
        // on their temporary tables' names ("Could not remove temporary table").
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let common = |command: &mut Command| {
            command
                .arg("--no-defaults")
                .arg(format!("--basedir={}", base.display()))
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--tmpdir={}", tmp.display()))
                .arg("--user=root");
        };
        let mut install = Command::new(base.join("bin/mariadb-install-db"));
        common(&mut install);
        let installed = install
            .args(["--auth-root-authentication-method=socket", "--skip-test-db"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("run mariadb-install-db");
        assert!(
            installed.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&installed.stderr)
        );
        let port = super::free_port();
        let socket = dir.path().join("mysqld.sock");
        let mut serve = Command::new(&server);
        common(&mut serve);
        let child = serve
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", socket.display()))
            .arg(format!(
                "--pid-file={}",
                dir.path().join("mysqld.pid").display()
            ))
            .arg(format!(
                "--lc-messages-dir={}",
                base.join("share/mysql").display()
            ))
            .arg("--skip-log-bin")
            .arg("--innodb-buffer-pool-size=16M")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        let db = MariaDb {
            port,
            socket,
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mariadbd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        db
    }

    /// Runs `statements` as root over the socket.
    pub fn sql(&self, statements: &str) {
        let out = Command::new(root().join("usr/bin/mariadb"))
            .arg("--no-defaults")
            .arg(format!("--socket={}", self.socket.display()))
            .args(["--user=root", "-e", statements])
            .output()
            .expect("run mariadb");
        assert!(
            out.status.success(),
            "mariadb -e {statements}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
