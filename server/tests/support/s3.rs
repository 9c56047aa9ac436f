//! A local S3-compatible server for the tests that need one (moto, installed by
//! `scripts/install-tools.sh --for-tests` into `target/tools/moto`, or the binary
//! `TILEWORKS_TEST_S3_SERVER` names), on a free loopback port. Moto takes buckets path-style
//! and creates one on an unsigned `PUT /bucket`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("TILEWORKS_TEST_S3_SERVER") {
        return PathBuf::from(path);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/moto/bin/moto_server")
}

/// A running S3 server. It dies with the test binary (a shell watches our process id), since
/// a test binary's statics are never dropped.
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _child: Child,
}

impl S3Server {
    pub fn start() -> S3Server {
        let binary = binary();
        assert!(
            binary.is_file(),
            "no local S3 server at {}: run scripts/install-tools.sh --for-tests (it installs \
             moto into target/tools/moto), or set TILEWORKS_TEST_S3_SERVER",
            binary.display()
        );
        let port = super::free_port();
        let watch = format!(
            "\"$0\" -H 127.0.0.1 -p {port} & server=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done; \
             kill $server 2>/dev/null",
            parent = std::process::id()
        );
        let child = Command::new("sh")
            .args(["-c", &watch])
            .arg(&binary)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the S3 server");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the S3 server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            _child: child,
        }
    }

    /// A new empty bucket.
    pub async fn bucket(&self, name: &str) -> String {
        let r = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "create bucket {name}: {r:?}");
        name.to_owned()
    }

    /// The keys in `bucket`.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let text = reqwest::Client::new()
            .get(format!("{}/{bucket}?list-type=2", self.endpoint))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }
}
