//! The config server: what CredHub is to a real Director. A manifest's `variables` are generated
//! once per deployment (password, user, certificate, rsa, ssh), kept across deploys, and
//! interpolated into `((placeholders))` at deploy time. A placeholder that is neither declared
//! nor already known fails the deploy, naming the variable.
//!
//! Values are sealed with ChaCha20-Poly1305 before they reach the database, under a key given
//! to the stand-in (`--sealing-key`; Tileworks passes one it keeps sealed under its own data
//! key), or else kept in a file in the data dir (`config-server.key`, mode 0600); never in the
//! database. The deployment
//! and variable name are the associated data, so a sealed value cannot be moved to another row.

use std::collections::BTreeSet;
use std::path::Path;

use base64::Engine;
use rand::rngs::OsRng;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{json, Map, Value};
use tiles::manifest::Variable;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::tls::{self, CertKey, CertSpec};

/// The key file's name in the data dir.
pub const KEY_FILE: &str = "config-server.key";

/// Deployment name under which absolute (`/path`) variables are kept.
const GLOBAL: &str = "";

pub struct ConfigServer {
    key: LessSafeKey,
    rng: SystemRandom,
    director_name: String,
}

impl std::fmt::Debug for ConfigServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigServer")
            .field("director_name", &self.director_name)
            .finish_non_exhaustive()
    }
}

/// The placeholders in one string: `((name))`, `((name.key))`, `((/absolute/name))`, `((!name))`.
fn placeholders(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(start) = text.get(from..).and_then(|t| t.find("((")) {
        let start = from + start;
        let Some(len) = text.get(start + 2..).and_then(|t| t.find("))")) else {
            break;
        };
        let inner = text.get(start + 2..start + 2 + len).unwrap_or_default();
        let name = inner.trim().trim_start_matches('!');
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./:".contains(c));
        if valid {
            out.push((start, start + 2 + len + 2, name.to_string()));
            from = start + 2 + len + 2;
        } else {
            from = start + 2;
        }
    }
    out
}

fn collect(value: &Value, names: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => names.extend(placeholders(s).into_iter().map(|(_, _, n)| n)),
        Value::Array(items) => items.iter().for_each(|i| collect(i, names)),
        Value::Object(map) => map.values().for_each(|v| collect(v, names)),
        _ => {}
    }
}

fn substitute(value: &Value, lookup: &dyn Fn(&str) -> Option<Value>) -> Result<Value> {
    Ok(match value {
        Value::String(s) => {
            let found = placeholders(s);
            match found.as_slice() {
                [] => value.clone(),
                [(0, end, name)] if *end == s.len() => lookup(name).unwrap_or(Value::Null),
                _ => {
                    let mut text = String::new();
                    let mut last = 0;
                    for (start, end, name) in &found {
                        text.push_str(s.get(last..*start).unwrap_or_default());
                        match lookup(name) {
                            Some(Value::String(v)) => text.push_str(&v),
                            Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                                text.push_str(&v.to_string())
                            }
                            Some(_) => {
                                return Err(Error::Invalid(format!(
                                    "Failed to interpolate '(({name}))' inside a string: the value is not a string"
                                )))
                            }
                            None => {}
                        }
                        last = *end;
                    }
                    text.push_str(s.get(last..).unwrap_or_default());
                    Value::String(text)
                }
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| substitute(i, lookup))
                .collect::<Result<_>>()?,
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), substitute(v, lookup)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn option_str<'a>(options: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    options.get(key).and_then(Value::as_str)
}

fn option_strings(options: &Map<String, Value>, key: &str) -> Vec<String> {
    options
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An OpenSSH `ssh-rsa` public key line and its SHA-256 fingerprint.
fn ssh_public_key(key: &rsa::RsaPrivateKey) -> (String, String) {
    use rsa::traits::PublicKeyParts;
    fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend((bytes.len() as u32).to_be_bytes());
        buf.extend(bytes);
    }
    fn mpint(bytes: Vec<u8>) -> Vec<u8> {
        let mut b = bytes;
        if b.first().is_some_and(|f| f & 0x80 != 0) {
            b.insert(0, 0);
        }
        b
    }
    let mut blob = Vec::new();
    put(&mut blob, b"ssh-rsa");
    put(&mut blob, &mpint(key.e().to_bytes_be()));
    put(&mut blob, &mpint(key.n().to_bytes_be()));
    let b64 = base64::engine::general_purpose::STANDARD;
    let digest = ring::digest::digest(&ring::digest::SHA256, &blob);
    (
        format!("ssh-rsa {}", b64.encode(&blob)),
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest.as_ref())
        ),
    )
}

fn rsa_pair() -> Result<(rsa::RsaPrivateKey, String, String)> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048)
        .map_err(|e| Error::Internal(format!("RSA key generation: {e}")))?;
    let private = key
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| Error::Internal(format!("RSA key encoding: {e}")))?
        .to_string();
    let public = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::Internal(format!("RSA key encoding: {e}")))?;
    Ok((key, private, public))
}

impl ConfigServer {
    /// The given sealing key, or else the data dir's key file (created on first start).
    pub fn load_or_create(
        data_dir: &Path,
        director_name: &str,
        given: Option<&crate::SealingKey>,
    ) -> Result<ConfigServer> {
        let path = data_dir.join(KEY_FILE);
        let rng = SystemRandom::new();
        let bytes = match given
            .map(|k| k.0.to_vec())
            .map(Ok)
            .unwrap_or_else(|| std::fs::read(&path))
        {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; 32];
                rng.fill(&mut bytes)
                    .map_err(|_| Error::Internal("no randomness for the key".into()))?;
                std::fs::write(&path, &bytes)
                    .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| Error::io(format!("protecting {}", path.display()), e))?;
                }
                bytes
            }
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
            .map_err(|_| Error::Config(format!("{} is not a 32-byte key", path.display())))?;
        Ok(ConfigServer {
            key: LessSafeKey::new(unbound),
            rng,
            director_name: director_name.to_string(),
        })
    }

    /// Seals a file's bytes under the config server's key, bound to `label` (the file's name):
    /// nonce, then ciphertext and tag. For the stand-in's own secrets kept in files (its TLS
    /// CA's key) when it was given its key.
    pub fn seal_file(&self, label: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let (mut out, data) = self.seal_bytes(&format!("file/{label}"), plain.to_vec())?;
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Opens what [`seal_file`](Self::seal_file) sealed under `label`.
    pub fn open_file(&self, label: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let wrong = || {
            Error::Config(format!(
                "{label} cannot be opened: it was sealed under another key (--sealing-key) or altered"
            ))
        };
        if sealed.len() < NONCE_LEN {
            return Err(wrong());
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        self.open_bytes(&format!("file/{label}"), nonce, data)
            .ok_or_else(wrong)
    }

    /// ChaCha20-Poly1305 under the key with `aad`: a fresh random nonce and the sealed bytes.
    fn seal_bytes(&self, aad: &str, mut data: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::Internal("no randomness for a nonce".into()))?;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .map_err(|_| Error::Internal(format!("sealing {aad} failed")))?;
        Ok((nonce.to_vec(), data))
    }

    /// What [`seal_bytes`](Self::seal_bytes) sealed; `None` for another key, another `aad`, a
    /// bad nonce or altered bytes.
    fn open_bytes(&self, aad: &str, nonce: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let mut data = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut data,
            )
            .ok()?;
        Some(plain.to_vec())
    }

    /// The name CredHub would give a deployment's variable: `/<director>/<deployment>/<name>`.
    pub fn full_name(&self, deployment: &str, name: &str) -> String {
        if name.starts_with('/') {
            name.to_string()
        } else {
            format!("/{}/{deployment}/{name}", self.director_name)
        }
    }

    fn seal(&self, deployment: &str, name: &str, value: &Value) -> Result<(Vec<u8>, Vec<u8>)> {
        self.seal_bytes(
            &format!("{deployment}/{name}"),
            value.to_string().into_bytes(),
        )
    }

    fn unseal(&self, deployment: &str, name: &str, nonce: &[u8], sealed: &[u8]) -> Result<Value> {
        let plain = self
            .open_bytes(&format!("{deployment}/{name}"), nonce, sealed)
            .ok_or_else(|| {
                Error::Internal(format!(
                    "variable {name} cannot be unsealed (wrong {KEY_FILE}?)"
                ))
            })?;
        serde_json::from_slice(&plain).map_err(|e| Error::Internal(format!("variable {name}: {e}")))
    }

    /// Stores a value (used by generation and by the non-BOSH `PUT /config_server/variables`).
    pub async fn put(
        &self,
        store: &Store,
        deployment: &str,
        name: &str,
        var_type: &str,
        value: &Value,
    ) -> Result<()> {
        let (nonce, sealed) = self.seal(deployment, name, value)?;
        store
            .add_variable(deployment, name, var_type, &nonce, &sealed)
            .await
    }

    /// A variable's current value: relative names are the deployment's, `/absolute` are global.
    pub async fn get(&self, store: &Store, deployment: &str, name: &str) -> Result<Option<Value>> {
        let prefix = format!("/{}/{deployment}/", self.director_name);
        let (scope, key) = match name.strip_prefix(&prefix) {
            Some(rest) => (deployment, rest),
            None if name.starts_with('/') => (GLOBAL, name),
            None => (deployment, name),
        };
        match store.variable(scope, key).await? {
            Some(row) => Ok(Some(self.unseal(scope, key, &row.nonce, &row.sealed)?)),
            None => Ok(None),
        }
    }

    /// Generates each declared variable that has no value yet (or every deploy for
    /// `update_mode: overwrite`). CAs are generated before the certificates they sign.
    pub async fn ensure_variables(
        &self,
        store: &Store,
        deployment: &str,
        variables: &[Variable],
    ) -> Result<Vec<String>> {
        let mut generated = Vec::new();
        let mut pending: Vec<&Variable> = Vec::new();
        for v in variables {
            let overwrite = v.update_mode.as_deref() == Some("overwrite");
            if overwrite || store.variable(deployment, &v.name).await?.is_none() {
                pending.push(v);
            }
        }
        while !pending.is_empty() {
            let before = pending.len();
            let mut waiting = Vec::new();
            for v in pending {
                let ca_name = v
                    .options
                    .as_ref()
                    .and_then(|o| option_str(o, "ca"))
                    .map(str::to_string);
                let ca = match &ca_name {
                    Some(ca) => match self.get(store, deployment, ca).await? {
                        Some(value) => Some(value),
                        None if variables.iter().any(|d| &d.name == ca) => {
                            waiting.push(v);
                            continue;
                        }
                        None => {
                            return Err(Error::Invalid(format!(
                                "Variable '{}' references CA '{ca}', which is neither declared nor known to the config server",
                                v.name
                            )))
                        }
                    },
                    None => None,
                };
                let value = self.generate(v, ca.as_ref())?;
                self.put(store, deployment, &v.name, &v.var_type, &value)
                    .await?;
                generated.push(v.name.clone());
            }
            if waiting.len() == before {
                let names: Vec<&str> = waiting.iter().map(|v| v.name.as_str()).collect();
                return Err(Error::Invalid(format!(
                    "Variables {} reference each other's CA in a cycle",
                    names.join(", ")
                )));
            }
            pending = waiting;
        }
        Ok(generated)
    }

    /// Generates one value by type.
    fn generate(&self, v: &Variable, ca: Option<&Value>) -> Result<Value> {
        let empty = Map::new();
        let options = v.options.as_ref().unwrap_or(&empty);
        Ok(match v.var_type.as_str() {
            "password" => {
                let length = options
                    .get("length")
                    .and_then(Value::as_u64)
                    .unwrap_or(20)
                    .clamp(1, 1024) as usize;
                Value::String(tiles::credentials::random_password(&mut OsRng, length))
            }
            "user" => json!({
                "username": option_str(options, "username")
                    .map(str::to_string)
                    .unwrap_or_else(|| tiles::credentials::random_password(&mut OsRng, 20)),
                "password": tiles::credentials::random_password(&mut OsRng, 20),
            }),
            "certificate" => {
                let is_ca = options.get("is_ca").and_then(Value::as_bool) == Some(true);
                let self_sign = options.get("self_sign").and_then(Value::as_bool) == Some(true);
                let spec = CertSpec {
                    common_name: option_str(options, "common_name")
                        .unwrap_or(&v.name)
                        .to_string(),
                    organization: Some(
                        option_str(options, "organization")
                            .unwrap_or("Cloud Foundry")
                            .to_string(),
                    ),
                    alternative_names: option_strings(options, "alternative_names"),
                    is_ca,
                    extended_key_usage: option_strings(options, "extended_key_usage"),
                    duration_days: options
                        .get("duration")
                        .and_then(Value::as_i64)
                        .unwrap_or(365),
                };
                let issuer = match ca {
                    Some(ca) => Some(CertKey {
                        cert_pem: ca
                            .get("certificate")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        key_pem: ca
                            .get("private_key")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    }),
                    None if is_ca || self_sign => None,
                    None => {
                        return Err(Error::Invalid(format!(
                            "Variable '{}': a certificate needs options.ca, is_ca: true or self_sign: true",
                            v.name
                        )))
                    }
                };
                let cert = tls::issue(&spec, issuer.as_ref())?;
                let ca_pem = issuer
                    .as_ref()
                    .map(|i| i.cert_pem.clone())
                    .unwrap_or_else(|| cert.cert_pem.clone());
                json!({"ca": ca_pem, "certificate": cert.cert_pem, "private_key": cert.key_pem})
            }
            "rsa" => {
                let (_, private, public) = rsa_pair()?;
                json!({"private_key": private, "public_key": public})
            }
            "ssh" => {
                let (key, private, _) = rsa_pair()?;
                let (public, fingerprint) = ssh_public_key(&key);
                json!({"private_key": private, "public_key": public, "public_key_fingerprint": fingerprint})
            }
            other => {
                return Err(Error::Invalid(format!(
                    "Variable '{}': the config server cannot generate type '{other}'",
                    v.name
                )))
            }
        })
    }

    /// Replaces every `((placeholder))` in `manifest` (except inside `variables`) with its value.
    /// Unknown placeholders fail with their names.
    pub async fn interpolate(
        &self,
        store: &Store,
        deployment: &str,
        manifest: &Value,
    ) -> Result<Value> {
        let mut body = manifest.clone();
        let variables = body.as_object_mut().and_then(|m| m.remove("variables"));
        let mut names = BTreeSet::new();
        collect(&body, &mut names);
        let mut values = std::collections::HashMap::new();
        let mut missing = Vec::new();
        for name in &names {
            let (base, path) = match name.split_once('.') {
                Some((b, p)) => (b, Some(p)),
                None => (name.as_str(), None),
            };
            match self.get(store, deployment, base).await? {
                Some(mut value) => {
                    for key in path.into_iter().flat_map(|p| p.split('.')) {
                        value = value.get(key).cloned().ok_or_else(|| {
                            Error::Invalid(format!(
                                "Failed to interpolate '(({name}))': the value of '{}' has no key '{key}'",
                                self.full_name(deployment, base)
                            ))
                        })?;
                    }
                    values.insert(name.clone(), value);
                }
                None => missing.push(self.full_name(deployment, base)),
            }
        }
        if !missing.is_empty() {
            missing.dedup();
            let list = missing
                .iter()
                .map(|m| format!("'{m}'"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::Invalid(format!(
                "Failed to find variable {list} from config server: HTTP Code '404', Error: 'The request could not be completed because the credential does not exist or you do not have sufficient authorization'"
            )));
        }
        let mut out = substitute(&body, &|n| values.get(n).cloned())?;
        if let (Some(vars), Value::Object(map)) = (variables, &mut out) {
            map.insert("variables".into(), vars);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_placeholders() {
        let found = placeholders("a ((x)) b ((/abs/y.z)) ((!n)) ((not valid)) ((");
        let names: Vec<_> = found.iter().map(|f| f.2.as_str()).collect();
        assert_eq!(names, vec!["x", "/abs/y.z", "n"]);
    }

    #[test]
    fn substitutes_whole_values_and_inside_strings() {
        let doc = json!({"a": "((cert))", "b": "user=((pw)) port=((port))", "c": ["((pw))"]});
        let lookup = |n: &str| match n {
            "cert" => Some(json!({"certificate": "C"})),
            "pw" => Some(json!("secret")),
            "port" => Some(json!(8443)),
            _ => None,
        };
        let out = substitute(&doc, &lookup).unwrap();
        assert_eq!(out["a"]["certificate"], "C");
        assert_eq!(out["b"], "user=secret port=8443");
        assert_eq!(out["c"][0], "secret");
        let bad = substitute(&json!({"x": "pre ((cert))"}), &lookup);
        assert!(bad.is_err());
    }

    #[test]
    fn seals_and_unseals_bound_to_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ConfigServer::load_or_create(dir.path(), "d", None).unwrap();
        let (nonce, sealed) = cs.seal("dep", "pw", &json!("hunter2")).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("hunter2"));
        assert_eq!(cs.unseal("dep", "pw", &nonce, &sealed).unwrap(), "hunter2");
        assert!(cs.unseal("dep", "other", &nonce, &sealed).is_err());
        // The key persists: a second load opens the same value.
        let again = ConfigServer::load_or_create(dir.path(), "d", None).unwrap();
        assert_eq!(
            again.unseal("dep", "pw", &nonce, &sealed).unwrap(),
            "hunter2"
        );

        // A given key is used as it is and never written to the data dir.
        let given_dir = tempfile::tempdir().unwrap();
        let key = crate::SealingKey([7u8; 32]);
        let given = ConfigServer::load_or_create(given_dir.path(), "d", Some(&key)).unwrap();
        let (nonce, sealed) = given.seal("dep", "pw", &json!("hunter2")).unwrap();
        assert!(!given_dir.path().join(KEY_FILE).exists());
        let same = ConfigServer::load_or_create(given_dir.path(), "d", Some(&key)).unwrap();
        assert_eq!(
            same.unseal("dep", "pw", &nonce, &sealed).unwrap(),
            "hunter2"
        );
        let other = crate::SealingKey([8u8; 32]);
        let other = ConfigServer::load_or_create(given_dir.path(), "d", Some(&other)).unwrap();
        assert!(other.unseal("dep", "pw", &nonce, &sealed).is_err());
        assert!(crate::parse_sealing_key(&"ab".repeat(32)).is_ok());
        assert!(crate::parse_sealing_key("abcd").is_err());
        assert_eq!(format!("{key:?}"), "SealingKey(..)");
    }

    #[test]
    fn generates_passwords_users_and_ssh_keys() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ConfigServer::load_or_create(dir.path(), "d", None).unwrap();
        let var = |v: Value| serde_json::from_value::<Variable>(v).unwrap();
        let pw = cs
            .generate(
                &var(json!({"name": "p", "type": "password", "options": {"length": 32}})),
                None,
            )
            .unwrap();
        assert_eq!(pw.as_str().unwrap().len(), 32);
        let user = cs
            .generate(
                &var(json!({"name": "u", "type": "user", "options": {"username": "bob"}})),
                None,
            )
            .unwrap();
        assert_eq!(user["username"], "bob");
        let ssh = cs
            .generate(&var(json!({"name": "k", "type": "ssh"})), None)
            .unwrap();
        assert!(ssh["public_key"]
            .as_str()
            .unwrap()
            .starts_with("ssh-rsa AAAAB3NzaC1yc2E"));
        assert!(ssh["public_key_fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:"));
        assert!(ssh["private_key"]
            .as_str()
            .unwrap()
            .contains("RSA PRIVATE KEY"));
        assert!(cs
            .generate(&var(json!({"name": "v", "type": "value"})), None)
            .is_err());
    }

    #[test]
    fn generates_certificates_signed_by_their_ca() {
        let dir = tempfile::tempdir().unwrap();
        let cs = ConfigServer::load_or_create(dir.path(), "d", None).unwrap();
        let ca_var: Variable = serde_json::from_value(
            json!({"name": "ca", "type": "certificate", "options": {"is_ca": true, "common_name": "ca"}}),
        )
        .unwrap();
        let ca = cs.generate(&ca_var, None).unwrap();
        assert_eq!(ca["ca"], ca["certificate"]);
        let leaf_var: Variable = serde_json::from_value(json!({
            "name": "tls", "type": "certificate",
            "options": {"ca": "ca", "common_name": "x.example.com", "alternative_names": ["10.0.0.1"],
                        "extended_key_usage": ["server_auth"]}
        }))
        .unwrap();
        let leaf = cs.generate(&leaf_var, Some(&ca)).unwrap();
        assert_eq!(leaf["ca"], ca["certificate"]);
        assert_ne!(leaf["certificate"], ca["certificate"]);
        let orphan: Variable = serde_json::from_value(
            json!({"name": "o", "type": "certificate", "options": {"common_name": "o"}}),
        )
        .unwrap();
        assert!(cs.generate(&orphan, None).is_err());
    }
}
