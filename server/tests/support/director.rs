//! The embedded Director as a test reaches it: the way the `bosh` CLI would, with the
//! credentials Tileworks gives (`bosh_commandline_credentials`).

use reqwest::Method;
use serde_json::Value;

use super::Api;

/// The embedded Director, reached as the `bosh` CLI would with the credentials Tileworks gives.
pub struct Director {
    pub url: String,
    pub client: String,
    pub secret: String,
    pub http: reqwest::Client,
}

impl Director {
    pub async fn of(api: &Api<'_>) -> Director {
        let creds = api
            .ok(
                Method::GET,
                "/api/v0/deployed/director/credentials/bosh_commandline_credentials",
                None,
            )
            .await;
        let text = creds["credential"].as_str().unwrap().to_owned();
        assert!(text.ends_with(" bosh "), "{text}");
        let var = |name: &str| {
            text.split_whitespace()
                .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .to_owned()
        };
        let ca = std::fs::read(var("BOSH_CA_CERT")).unwrap();
        assert!(
            var("BOSH_CA_CERT").starts_with(api.server.data_dir.path().to_str().unwrap()),
            "the CA file is under the data dir"
        );
        Director::with_ca(
            &var("BOSH_ENVIRONMENT"),
            &var("BOSH_CLIENT"),
            &var("BOSH_CLIENT_SECRET"),
            &ca,
        )
    }

    /// A Director at `url` trusted through the CA certificate `ca` (PEM), with a client and
    /// its secret.
    pub fn with_ca(url: &str, client: &str, secret: &str, ca: &[u8]) -> Director {
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca).unwrap())
            .build()
            .unwrap();
        Director {
            url: url.to_owned(),
            client: client.to_owned(),
            secret: secret.to_owned(),
            http,
        }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .basic_auth(&self.client, Some(&self.secret));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

impl Director {
    /// The deployment names (`GET /deployments`).
    pub async fn deployment_names(&self) -> Vec<String> {
        let (code, deployments) = self.send(Method::GET, "/deployments", None).await;
        assert_eq!(code, 200, "{deployments:#}");
        deployments
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Makes the stand-in's errand `errand` of `deployment` end as `outcome` (`PUT
    /// /chaos/errands/…`; `exit_code`, `stderr`).
    pub async fn chaos_errand(&self, deployment: &str, errand: &str, outcome: Value) {
        let path = format!("/chaos/errands/{deployment}/{errand}");
        let (code, body) = self.send(Method::PUT, &path, Some(outcome)).await;
        assert!((200..300).contains(&code), "{code} {body:#}");
    }

    /// How many tasks the Director has for a deployment (`GET /tasks?deployment=`).
    pub async fn task_count(&self, deployment: &str) -> usize {
        // `verbose=2`: like `bosh tasks --all`, counting the VM-state retrievals a Status look
        // costs, which the Director's default listing hides.
        let path = format!("/tasks?deployment={deployment}&limit=10000&verbose=2");
        let (status, tasks) = self.send(Method::GET, &path, None).await;
        assert_eq!(status, 200, "{tasks}");
        tasks.as_array().map_or(0, Vec::len)
    }

    /// Pauses or resumes the resurrector (`PUT /resurrection`).
    pub async fn resurrection(&self, paused: bool) {
        let body = serde_json::json!({ "resurrection_paused": paused });
        let (status, reply) = self.send(Method::PUT, "/resurrection", Some(body)).await;
        assert_eq!(status, 200, "{reply}");
    }
}
