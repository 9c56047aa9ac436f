//! `GET /info` and authentication.
//!
//! A Director advertises in `/info` (which needs no credentials) how clients authenticate:
//! `user_authentication.type` is `basic` (HTTP Basic with the client and secret on every request)
//! or `uaa` (a bearer token from the UAA at `options.url`, got with the `client_credentials`
//! grant). The mode is learnt once per client, on the first authenticated call; UAA tokens are
//! cached and fetched again shortly before they expire, or when the Director answers 401.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, RequestBuilder, Url};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{director_error, error_chain, DirectorClient};
use crate::error::Result;

/// `GET /info`. Unknown fields are kept out; the ones Tileworks shows or decides on are here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Info {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub version: String,
    /// The authenticated user, when `/info` was asked with credentials.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub cpi: Option<String>,
    #[serde(default)]
    pub stemcell_os: Option<String>,
    #[serde(default)]
    pub stemcell_version: Option<String>,
    #[serde(default)]
    pub user_authentication: UserAuthentication,
    /// `config_server`, `dns`, `snapshots`…, as the Director reports them.
    #[serde(default)]
    pub features: serde_json::Value,
}

/// `/info`'s `user_authentication`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserAuthentication {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub options: serde_json::Value,
}

/// How this Director wants to be authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    Basic,
    /// UAA at this URL (its `/oauth/token` gives tokens).
    Uaa {
        url: String,
    },
}

impl Info {
    /// The authentication mode `/info` advertises. An unknown type is an error rather than a
    /// guess: sending the secret as Basic to a Director that expects tokens would only fail later
    /// and less clearly.
    pub fn auth_mode(&self) -> std::result::Result<AuthMode, String> {
        match self.user_authentication.kind.as_str() {
            "basic" => Ok(AuthMode::Basic),
            "uaa" => {
                let options = &self.user_authentication.options;
                let url = options
                    .get("url")
                    .and_then(serde_json::Value::as_str)
                    .filter(|u| !u.is_empty())
                    .or_else(|| {
                        options
                            .get("urls")
                            .and_then(serde_json::Value::as_array)
                            .and_then(|urls| urls.iter().find_map(serde_json::Value::as_str))
                    })
                    .ok_or("the Director uses UAA but /info names no UAA URL")?;
                Ok(AuthMode::Uaa {
                    url: url.trim_end_matches('/').to_string(),
                })
            }
            "" => Err("the Director's /info has no user_authentication type".into()),
            other => Err(format!(
                "the Director's /info has an unknown user_authentication type {other:?}"
            )),
        }
    }
}

/// A UAA token and when to stop using it.
#[derive(Debug, Clone)]
struct Token {
    header: HeaderValue,
    /// `None`: UAA gave no lifetime, so the token is kept until a 401.
    refresh_at: Option<Instant>,
}

/// The learnt mode and the cached token, shared by clones of a client.
#[derive(Debug, Default)]
pub(super) struct AuthState {
    mode: std::sync::Mutex<Option<AuthMode>>,
    /// Held while a token is fetched, so concurrent calls fetch it once.
    token: Mutex<Option<Token>>,
}

impl AuthState {
    fn mode(&self) -> Option<AuthMode> {
        self.mode.lock().ok().and_then(|m| m.clone())
    }

    fn set_mode(&self, mode: AuthMode) {
        if let Ok(mut slot) = self.mode.lock() {
            *slot = Some(mode);
        }
    }

    pub(super) fn is_uaa(&self) -> bool {
        matches!(self.mode(), Some(AuthMode::Uaa { .. }))
    }

    /// Drops the cached token (the Director refused it).
    pub(super) fn forget_token(&self) {
        if let Ok(mut token) = self.token.try_lock() {
            *token = None;
        }
    }
}

/// When to fetch a new token: a minute before expiry, or at half the lifetime for short ones.
pub fn refresh_after(expires_in_secs: u64) -> Option<Duration> {
    if expires_in_secs == 0 {
        return None;
    }
    let margin = (expires_in_secs / 2).min(60);
    Some(Duration::from_secs(expires_in_secs - margin))
}

/// UAA's token answer (`token_type` is echoed into the Authorization header, as bosh does).
#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl DirectorClient {
    /// `GET /info`, unauthenticated. Also records the authentication mode it advertises.
    pub async fn info(&self) -> Result<Info> {
        let call = "GET /info";
        let request = self
            .request(Method::GET, &["info"])
            .header(ACCEPT, "application/json");
        let response = request
            .send()
            .await
            .map_err(|e| super::transport_error(call, &self.base, &e))?;
        let response = super::check_status(call, response, &self.target.client).await?;
        let info: Info = super::read_json(call, response).await?;
        if let Ok(mode) = info.auth_mode() {
            self.auth.set_mode(mode);
        }
        Ok(info)
    }

    /// `GET /info` with credentials: proves they work (`user` is then set by the Director).
    pub async fn authenticated_info(&self) -> Result<Info> {
        let call = "GET /info (authenticated)";
        let request = self.request(Method::GET, &["info"]);
        let info: Info = self.send_json(call, request).await?;
        Ok(info)
    }

    /// The authentication mode, asking `/info` the first time.
    pub async fn auth_mode(&self) -> Result<AuthMode> {
        if let Some(mode) = self.auth.mode() {
            return Ok(mode);
        }
        let info = self.info().await?;
        let mode = info
            .auth_mode()
            .map_err(|message| director_error("GET /info", None, message))?;
        self.auth.set_mode(mode.clone());
        Ok(mode)
    }

    /// Adds credentials to a request. `fresh` forces a new UAA token (after a 401).
    pub(super) async fn authorize(
        &self,
        call: &str,
        request: RequestBuilder,
        fresh: bool,
    ) -> Result<RequestBuilder> {
        match self.auth_mode().await.map_err(|e| reword(call, e))? {
            AuthMode::Basic => {
                Ok(request.basic_auth(&self.target.client, Some(&self.target.client_secret)))
            }
            AuthMode::Uaa { url } => {
                let header = self.uaa_token(call, &url, fresh).await?;
                Ok(request.header(AUTHORIZATION, header))
            }
        }
    }

    /// A valid token header, from the cache or from UAA.
    async fn uaa_token(&self, call: &str, uaa: &str, fresh: bool) -> Result<HeaderValue> {
        let mut slot = self.auth.token.lock().await;
        if !fresh {
            if let Some(token) = slot.as_ref() {
                if token.refresh_at.is_none_or(|at| Instant::now() < at) {
                    return Ok(token.header.clone());
                }
            }
        }
        let token = self.fetch_token(call, uaa).await?;
        let header = token.header.clone();
        *slot = Some(token);
        Ok(header)
    }

    /// `POST {uaa}/oauth/token` with `grant_type=client_credentials`, the client authenticated
    /// with HTTP Basic.
    async fn fetch_token(&self, call: &str, uaa: &str) -> Result<Token> {
        let token_call = format!("POST {uaa}/oauth/token (for {call})");
        let endpoint = Url::parse(&format!("{uaa}/oauth/token")).map_err(|e| {
            director_error(&token_call, None, format!("the UAA URL is not valid: {e}"))
        })?;
        let response = self
            .http
            .post(endpoint.clone())
            .basic_auth(&self.target.client, Some(&self.target.client_secret))
            .header(ACCEPT, "application/json")
            .form(&[
                ("grant_type", "client_credentials"),
                ("token_format", "jwt"),
            ])
            .timeout(super::CALL_TIMEOUT)
            .send()
            .await
            .map_err(|e| super::transport_error(&token_call, &endpoint, &e))?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(director_error(
                &token_call,
                Some(status.as_u16()),
                format!(
                    "UAA refused client {:?} (HTTP {}): {}",
                    self.target.client,
                    status.as_u16(),
                    super::director_message(&body)
                ),
            ));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| director_error(&token_call, Some(status.as_u16()), error_chain(&e)))?;
        let token: TokenResponse = serde_json::from_slice(&bytes)
            .or_else(|_| serde_urlencoded_token(&bytes))
            .map_err(|e| {
                director_error(
                    &token_call,
                    Some(status.as_u16()),
                    format!("UAA's answer has no access token: {e}"),
                )
            })?;
        let kind = token
            .token_type
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "bearer".into());
        let header = HeaderValue::from_str(&format!("{kind} {}", token.access_token))
            .map_err(|_| director_error(&token_call, None, "UAA's token is not a header value"))?;
        Ok(Token {
            header,
            refresh_at: token
                .expires_in
                .and_then(refresh_after)
                .map(|after| Instant::now() + after),
        })
    }
}

/// UAA may answer form-encoded; read the same three fields from that.
fn serde_urlencoded_token(bytes: &[u8]) -> std::result::Result<TokenResponse, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let mut access_token = None;
    let mut token_type = None;
    let mut expires_in = None;
    for pair in text.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "access_token" => access_token = Some(value),
            "token_type" => token_type = Some(value),
            "expires_in" => expires_in = value.parse().ok(),
            _ => {}
        }
    }
    Ok(TokenResponse {
        access_token: access_token.ok_or("no access_token")?,
        token_type,
        expires_in,
    })
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'+') => out.push(b' '),
            Some(b'%') => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            Some(&b) => out.push(b),
            None => {}
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Errors from learning the mode name the call that needed it.
fn reword(call: &str, e: crate::Error) -> crate::Error {
    match e {
        crate::Error::Director {
            call: inner,
            status,
            message,
        } => director_error(&format!("{call} (while reading {inner})"), status, message),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(user_authentication: serde_json::Value) -> Info {
        serde_json::from_value(json!({
            "name": "bosh", "uuid": "u", "version": "282.0.0 (00000000)", "user": null,
            "cpi": "vsphere_cpi", "user_authentication": user_authentication,
            "features": {"config_server": {"status": true, "extras": {"urls": []}}}
        }))
        .unwrap()
    }

    #[test]
    fn basic_and_uaa_are_detected_from_info() {
        assert_eq!(
            info(json!({"type": "basic", "options": {}})).auth_mode(),
            Ok(AuthMode::Basic)
        );
        assert_eq!(
            info(json!({"type": "uaa", "options": {"url": "https://10.0.0.6:8443/", "urls": []}}))
                .auth_mode(),
            Ok(AuthMode::Uaa {
                url: "https://10.0.0.6:8443".into()
            })
        );
        // Only `urls` given: the first one.
        assert_eq!(
            info(json!({"type": "uaa", "options": {"urls": ["https://uaa:8443"]}})).auth_mode(),
            Ok(AuthMode::Uaa {
                url: "https://uaa:8443".into()
            })
        );
        let err = info(json!({"type": "uaa", "options": {}}))
            .auth_mode()
            .unwrap_err();
        assert!(err.contains("no UAA URL"), "{err}");
        let err = info(json!({"type": "ldap"})).auth_mode().unwrap_err();
        assert!(err.contains("\"ldap\""), "{err}");
        let err = Info::default().auth_mode().unwrap_err();
        assert!(err.contains("no user_authentication"), "{err}");
    }

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        assert_eq!(refresh_after(0), None);
        assert_eq!(refresh_after(43_199), Some(Duration::from_secs(43_139)));
        assert_eq!(refresh_after(60), Some(Duration::from_secs(30)));
        assert_eq!(refresh_after(1), Some(Duration::from_secs(1)));
    }

    #[test]
    fn form_encoded_token_answers_are_read() {
        let token =
            serde_urlencoded_token(b"access_token=a%2Bb.c&token_type=bearer&expires_in=600")
                .unwrap();
        assert_eq!(token.access_token, "a+b.c");
        assert_eq!(token.token_type.as_deref(), Some("bearer"));
        assert_eq!(token.expires_in, Some(600));
        assert!(serde_urlencoded_token(b"token_type=bearer").is_err());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
