//! The credentials of deployed products, as Ops Manager's Credentials tab and its API
//! (`GET /api/v0/deployed/products/:guid/credentials[/:reference]`, om's
//! `credential-references` and `credentials`) give them.
//!
//! **What is listed.** A product's credentials are the properties of a credential type
//! (`secret`, `simple_credentials`, `salted_credentials`, `rsa_cert_credentials`,
//! `rsa_pkey_credentials`, whether the operator set them or Tileworks generated them) **as
//! deployed**: they are read from the deployed snapshot the Apply Changes pipeline writes after
//! a successful deploy (sealed at rest, opened here), never from the staged configuration, so a
//! change that is saved but not applied does not show until an apply deploys it. Values are the
//! same objects `GET …/properties?redact=false` gives (same code, `tiles::product_config::
//! properties_api`); a property without a value, or in a selector option that is not selected,
//! is not a credential of the deployment. Collections with credential fields are not listed
//! (Ops Manager lists none either). The tile template is the deployed version's.
//!
//! **The Director tile** holds no tile properties here: its credentials are what Tileworks
//! itself holds for the Director — the client it authenticates with
//! (`director_client_credentials`, a `simple_credentials`) and the `bosh` command line built
//! from it (`bosh_commandline_credentials`). They are listed once the Director tile has been
//! deployed (om's `configure-director` reads a 404 as "not deployed yet").
//!
//! **BOSH variables.** What the Director's config server (CredHub on a real Director) keeps for
//! a deployment is listed by name, as `GET /deployments/:name/variables` gives it. The Director
//! API has no way to read values, and Tileworks talks to the Director only through that API, so
//! values are not available here (use `credhub get` on the Director).
//!
//! **Who may see values.** Only roles that may see credentials (`admin`, `full_control`):
//! others are refused (403) before anything is looked up. Every reveal is written to the server
//! log as an audit line (target `audit`) naming the user, the product and the reference — never
//! the value; refused attempts are logged there too.

use app::backend::credentials::CredentialReference;
use app::session::CurrentUser;
use serde_json::Value;
use tiles::metadata::ProductTemplate;
use tiles::properties::StagedValues;

use crate::auth::roles::{role_allows, Action};
use crate::installations::Installations;
use crate::products::DIRECTOR_PRODUCT_NAME;
use crate::{Error, Result};

/// The Director client Tileworks authenticates with.
pub const DIRECTOR_CLIENT_CREDENTIALS: &str = "director_client_credentials";
/// `BOSH_CLIENT=… BOSH_CLIENT_SECRET=… BOSH_CA_CERT=… BOSH_ENVIRONMENT=… bosh `.
pub const BOSH_COMMANDLINE_CREDENTIALS: &str = "bosh_commandline_credentials";
/// Product-style references to the Director's credentials start with this.
const DIRECTOR_PREFIX: &str = ".director.";

/// One credential with its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Credential {
    pub reference: String,
    /// The property type.
    pub credential_type: String,
    pub value: Value,
}

/// The credentials of a deployed product, without values.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialListing {
    pub guid: String,
    /// The product name (`pivotal-container-service`, `p-bosh`).
    pub name: String,
    pub version: String,
    pub director: bool,
    pub credentials: Vec<CredentialReference>,
}

/// The service the API and the UI share.
#[derive(Clone)]
pub struct DeployedCredentials {
    installations: Installations,
}

impl DeployedCredentials {
    pub fn new(installations: Installations) -> DeployedCredentials {
        DeployedCredentials { installations }
    }

    /// The product's deployed row: name and version, or 404 when it is not deployed.
    async fn deployed(&self, guid: &str) -> Result<(String, String)> {
        self.installations
            .deployed_products()
            .await?
            .into_iter()
            .find(|p| p.guid == guid)
            .map(|p| (p.name, p.product_version))
            .ok_or_else(|| Error::NotFound(format!("deployed product '{guid}'")))
    }

    /// The references (and types) of a deployed product's credentials. For the Director tile
    /// they are `.director.<name>`.
    pub async fn list(&self, guid: &str) -> Result<CredentialListing> {
        let (name, version) = self.deployed(guid).await?;
        let director = name == DIRECTOR_PRODUCT_NAME;
        let credentials = if director {
            director_references(DIRECTOR_PREFIX)
        } else {
            self.product_credentials(guid)
                .await?
                .into_iter()
                .map(|c| CredentialReference {
                    reference: c.reference,
                    credential_type: c.credential_type,
                })
                .collect()
        };
        Ok(CredentialListing {
            guid: guid.to_owned(),
            name,
            version,
            director,
            credentials,
        })
    }

    /// One credential of a deployed product with its value, for a role that may see it;
    /// audited. 403 for other roles, 404 when the product is not deployed or has no such
    /// credential.
    pub async fn reveal(
        &self,
        caller: &CurrentUser,
        guid: &str,
        reference: &str,
        via: &str,
    ) -> Result<Credential> {
        may_see(caller, guid, reference, via)?;
        let (name, _) = self.deployed(guid).await?;
        let found = if name == DIRECTOR_PRODUCT_NAME {
            reference
                .strip_prefix(DIRECTOR_PREFIX)
                .and_then(|short| self.director_credential(short))
                .map(|mut c| {
                    c.reference = reference.to_owned();
                    c
                })
        } else {
            self.product_credentials(guid)
                .await?
                .into_iter()
                .find(|c| c.reference == reference)
        };
        let credential = found.ok_or_else(|| {
            Error::NotFound(format!(
                "credential '{reference}' of deployed product '{guid}'"
            ))
        })?;
        audit(caller, guid, reference, via);
        Ok(credential)
    }

    /// The Director tile's credentials (`GET /api/v0/deployed/director/credentials`), once the
    /// Director tile has been deployed.
    pub async fn director_list(&self) -> Result<Vec<CredentialReference>> {
        self.director_deployed().await?;
        Ok(director_references(""))
    }

    /// One of the Director tile's credentials by name; audited.
    pub async fn director_reveal(
        &self,
        caller: &CurrentUser,
        name: &str,
        via: &str,
    ) -> Result<Credential> {
        may_see(caller, "p-bosh", name, via)?;
        let guid = self.director_deployed().await?;
        let credential = self
            .director_credential(name)
            .ok_or_else(|| Error::NotFound(format!("credential '{name}' of the BOSH Director")))?;
        audit(caller, &guid, name, via);
        Ok(credential)
    }

    /// The names of the config-server variables the product's deployment uses, as the Director
    /// lists them (`GET /deployments/:name/variables`), relative to the deployment.
    pub async fn variables(&self, guid: &str) -> Result<Vec<String>> {
        let (name, _) = self.deployed(guid).await?;
        if name == DIRECTOR_PRODUCT_NAME {
            // The Director is not a deployment of itself (Ops Manager excludes it too).
            return Ok(Vec::new());
        }
        let deployment = self.deployment_name(guid).await?;
        let mut names: Vec<String> = self
            .installations
            .director()
            .client
            .variables(&deployment)
            .await?
            .into_iter()
            .map(|v| relative_name(&v.name, &deployment))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The value of one credential of a deployed product as deployed, for Tileworks's own use
    /// (the broker checks its basic auth against it): no role check and no audit line, since
    /// nothing is revealed to a caller. `None` when the product has no such credential.
    pub(crate) async fn deployed_value(
        &self,
        guid: &str,
        reference: &str,
    ) -> Result<Option<Value>> {
        Ok(self
            .product_credentials(guid)
            .await?
            .into_iter()
            .find(|c| c.reference == reference)
            .map(|c| c.value))
    }

    /// The GUID of the deployed Director tile, or 404 while it was never deployed.
    async fn director_deployed(&self) -> Result<String> {
        self.installations
            .deployed_products()
            .await?
            .into_iter()
            .find(|p| p.name == DIRECTOR_PRODUCT_NAME)
            .map(|p| p.guid)
            .ok_or_else(|| Error::NotFound("a deployed BOSH Director".into()))
    }

    fn director_credential(&self, name: &str) -> Option<Credential> {
        let link = self.installations.director();
        let (credential_type, value) = match name {
            DIRECTOR_CLIENT_CREDENTIALS => (
                "simple_credentials",
                serde_json::json!({
                    "identity": link.target.client,
                    "password": link.target.client_secret,
                }),
            ),
            BOSH_COMMANDLINE_CREDENTIALS => {
                ("string", Value::String(link.bosh_commandline_credentials()))
            }
            _ => return None,
        };
        Some(Credential {
            reference: name.to_owned(),
            credential_type: credential_type.to_owned(),
            value,
        })
    }

    /// The deployment's name, as the manifest Tileworks deployed names it.
    async fn deployment_name(&self, guid: &str) -> Result<String> {
        let manifest = self.installations.deployed_manifest(guid).await?;
        Ok(manifest
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| guid.to_owned()))
    }

    /// The manifest last deployed for a product with its credential values in place of the
    /// placeholders the stored copy has (the manifest as the Director received it), for
    /// Tileworks's own use: the broker serves the PKS broker job's configuration, whose
    /// catalog carries credentials (the cloud provider's) into cluster manifests.
    pub(crate) async fn deployed_manifest_with_values(&self, guid: &str) -> Result<Value> {
        let manifest = self.installations.deployed_manifest(guid).await?;
        let (template, staged) = self.deployed_template(guid).await?;
        let values: std::collections::BTreeMap<String, String> =
            crate::installations::render::credential_values(&template, &staged)
                .into_iter()
                .collect();
        Ok(unredact(&manifest, &values))
    }

    /// Every credential value of the deployed snapshot with the placeholder name that stands
    /// for it, to redact a copy of them out of text Tileworks shows (a cluster manifest the
    /// broker rendered from the PKS tile's values).
    pub(crate) async fn deployed_secrets(&self, guid: &str) -> Result<Vec<(String, String)>> {
        let (template, staged) = self.deployed_template(guid).await?;
        Ok(crate::installations::render::credential_values(
            &template, &staged,
        ))
    }

    /// The deployed snapshot's tile template and settings.
    async fn deployed_template(&self, guid: &str) -> Result<(ProductTemplate, StagedValues)> {
        let products = self.installations.products();
        let snapshot = products
            .deployed_settings(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("deployed product '{guid}'")))?;
        let template = match products
            .available_template(&snapshot.name, &snapshot.version)
            .await
        {
            Ok(t) => (*t).clone(),
            Err(Error::NotFound(_)) => (*products.staged_product(guid).await?.template).clone(),
            Err(e) => return Err(e),
        };
        Ok((template, snapshot.settings.staged))
    }

    /// Every credential of the deployed snapshot, with values.
    async fn product_credentials(&self, guid: &str) -> Result<Vec<Credential>> {
        let products = self.installations.products();
        let snapshot = products
            .deployed_settings(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("deployed product '{guid}'")))?;
        let template = match products
            .available_template(&snapshot.name, &snapshot.version)
            .await
        {
            Ok(t) => t,
            // The deployed version's tile was deleted after an upgrade was staged: the staged
            // (newer) template of the same product is the best description left.
            Err(Error::NotFound(_)) => products.staged_product(guid).await?.template,
            Err(e) => return Err(e),
        };
        let present = products.present_products().await?;
        Ok(credentials_of(
            &template,
            &snapshot.settings.staged,
            &present,
        ))
    }
}

/// `((name))` placeholders of credentials (names from `credential_values`) replaced by their
/// values, whole strings and embedded copies; other `((…))` (BOSH variables) stay.
fn unredact(v: &Value, values: &std::collections::BTreeMap<String, String>) -> Value {
    match v {
        Value::String(s) if s.contains("((") => {
            let mut text = s.clone();
            for (name, value) in values {
                let placeholder = format!("(({name}))");
                if text.contains(&placeholder) {
                    text = text.replace(&placeholder, value);
                }
            }
            Value::String(text)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| unredact(i, values)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), unredact(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// 403 (and an audit line) for a role that may not see credentials.
fn may_see(caller: &CurrentUser, guid: &str, reference: &str, via: &str) -> Result<()> {
    if role_allows(&caller.role, Action::SeeCredentials) {
        return Ok(());
    }
    tracing::warn!(
        target: "audit",
        user = %caller.username,
        role = %caller.role,
        product = %guid,
        reference = %reference,
        via = %via,
        "credential reveal refused"
    );
    Err(Error::Forbidden(format!(
        "the role '{}' may not see credentials",
        caller.role
    )))
}

/// The audit line of a reveal: who, which product, which reference, through what. Never the
/// value.
fn audit(caller: &CurrentUser, guid: &str, reference: &str, via: &str) {
    tracing::info!(
        target: "audit",
        user = %caller.username,
        role = %caller.role,
        product = %guid,
        reference = %reference,
        via = %via,
        "credential revealed"
    );
}

fn director_references(prefix: &str) -> Vec<CredentialReference> {
    [
        (BOSH_COMMANDLINE_CREDENTIALS, "string"),
        (DIRECTOR_CLIENT_CREDENTIALS, "simple_credentials"),
    ]
    .into_iter()
    .map(|(name, t)| CredentialReference {
        reference: format!("{prefix}{name}"),
        credential_type: t.to_owned(),
    })
    .collect()
}

/// `/<director>/<deployment>/<name>` → `<name>`; other names (absolute ones the manifest
/// declared outside the deployment) as they are.
fn relative_name(full: &str, deployment: &str) -> String {
    let Some(rest) = full.strip_prefix('/') else {
        return full.to_owned();
    };
    let mut parts = rest.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(_director), Some(d), Some(name)) if d == deployment => name.to_owned(),
        _ => full.to_owned(),
    }
}

/// The credential-type properties of `staged` that have a value, in metadata order, as
/// `properties?redact=false` shows them; sub-properties of unselected selector options are
/// left out.
pub fn credentials_of(
    template: &ProductTemplate,
    staged: &StagedValues,
    present_products: &[String],
) -> Vec<Credential> {
    let api = tiles::product_config::properties_api(template, staged, present_products, false);
    let Some(properties) = api.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for pref in template.property_refs() {
        let Some(entry) = properties.get(&pref.reference) else {
            continue;
        };
        if entry.get("credential") != Some(&Value::Bool(true)) {
            continue;
        }
        let value = entry.get("value").cloned().unwrap_or(Value::Null);
        let empty = match &value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Object(m) => m.values().all(|v| v.is_null() || v == ""),
            _ => false,
        };
        if empty {
            continue;
        }
        if let Some((_, option)) = pref.selector {
            // `.properties.SEL.OPTION.NAME`: the selector is the reference minus two segments.
            let selector_ref = pref
                .reference
                .rsplitn(3, '.')
                .nth(2)
                .unwrap_or_default()
                .to_owned();
            let selected = properties
                .get(&selector_ref)
                .and_then(|s| s.get("selected_option"))
                .and_then(Value::as_str);
            if selected != Some(option.name.as_str()) {
                continue;
            }
        }
        out.push(Credential {
            reference: pref.reference.clone(),
            credential_type: entry
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            value,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pks() -> ProductTemplate {
        ProductTemplate::from_yaml(tiles::products::PKS_METADATA).unwrap()
    }

    #[test]
    fn credentials_are_the_credential_properties_with_values() {
        let t = pks();
        let mut staged = StagedValues::new();
        staged.set(
            ".pivotal-container-service.pks_tls",
            json!({"cert_pem": "CERT", "private_key_pem": "KEY"}),
        );
        staged.set(".properties.pks_api_hostname", json!("api.example.com"));
        let found = credentials_of(&t, &staged, &[]);
        let tls = found
            .iter()
            .find(|c| c.reference == ".pivotal-container-service.pks_tls")
            .expect("the certificate is listed");
        assert_eq!(tls.credential_type, "rsa_cert_credentials");
        assert_eq!(tls.value["private_key_pem"], "KEY");
        assert!(
            found
                .iter()
                .all(|c| c.reference != ".properties.pks_api_hostname"),
            "plain properties are not credentials"
        );
        // Every entry equals what properties?redact=false gives.
        let api = tiles::product_config::properties_api(&t, &staged, &[], false);
        for c in &found {
            assert_eq!(api["properties"][&c.reference]["value"], c.value);
            assert_eq!(api["properties"][&c.reference]["credential"], true);
        }
    }

    #[test]
    fn unselected_options_hold_no_credentials() {
        let t = pks();
        let vsphere = ".properties.cloud_provider.vsphere.vcenter_master_creds";
        let mut staged = StagedValues::new();
        staged.set(".properties.cloud_provider", json!("vSphere"));
        staged.set(vsphere, json!({"identity": "u", "password": "p"}));
        assert!(credentials_of(&t, &staged, &[])
            .iter()
            .any(|c| c.reference == vsphere));
        let other = t
            .property_refs()
            .into_iter()
            .find(|p| p.reference == ".properties.cloud_provider")
            .and_then(|p| {
                p.blueprint
                    .option_templates()
                    .iter()
                    .find(|o| o.name != "vsphere")
                    .map(|o| o.select_value.clone())
            })
            .expect("another cloud provider");
        staged.set(".properties.cloud_provider", json!(other));
        assert!(credentials_of(&t, &staged, &[])
            .iter()
            .all(|c| c.reference != vsphere));
    }

    #[test]
    fn unredact_restores_what_redact_replaced() {
        let values = vec![(
            "properties_x.password".to_owned(),
            "s3cret-Pa55word".to_owned(),
        )];
        let manifest = json!({
            "a": "s3cret-Pa55word",
            "b": ["url://u:s3cret-Pa55word@h"],
            "c": "((bosh_var))",
        });
        let redacted = crate::installations::render::redact(&manifest, &values);
        assert_ne!(redacted, manifest);
        let map = values.into_iter().collect();
        assert_eq!(unredact(&redacted, &map), manifest);
    }

    #[test]
    fn variable_names_are_relative_to_the_deployment() {
        assert_eq!(
            relative_name("/tileworks/pks-1/kubo-admin-password", "pks-1"),
            "kubo-admin-password"
        );
        assert_eq!(relative_name("/shared/ca", "pks-1"), "/shared/ca");
        assert_eq!(relative_name("/a/other/x", "pks-1"), "/a/other/x");
        assert_eq!(relative_name("plain", "pks-1"), "plain");
    }

    /// Collects what a tracing subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn reveals_and_refusals_are_audited_by_user_and_reference() {
        use crate::auth::roles::principal;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let admin = principal("alice".into(), "admin".into());
        let viewer = principal("bob".into(), "restricted_view".into());
        tracing::subscriber::with_default(subscriber, || {
            assert!(may_see(&admin, "pks-1", ".properties.x", "api").is_ok());
            audit(&admin, "pks-1", ".properties.x", "api");
            assert!(matches!(
                may_see(&viewer, "pks-1", ".properties.y", "ui"),
                Err(Error::Forbidden(m)) if m.contains("restricted_view")
            ));
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        for (line, words) in lines.iter().zip([
            [
                "audit",
                "credential revealed",
                "user=alice",
                "product=pks-1",
                "reference=.properties.x",
                "via=api",
            ],
            [
                "audit",
                "credential reveal refused",
                "user=bob",
                "product=pks-1",
                "reference=.properties.y",
                "via=ui",
            ],
        ]) {
            for word in words {
                assert!(line.contains(word), "{word} in {line}");
            }
        }
    }

    #[test]
    fn the_director_lists_what_tileworks_holds() {
        let refs = director_references(DIRECTOR_PREFIX);
        assert_eq!(
            refs.iter()
                .map(|r| r.reference.as_str())
                .collect::<Vec<_>>(),
            [
                ".director.bosh_commandline_credentials",
                ".director.director_client_credentials"
            ]
        );
    }
}
