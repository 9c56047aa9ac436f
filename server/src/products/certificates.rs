//! Certificates signed by the installation's root CA, on request: Ops Manager's "Generate RSA
//! Certificate" on an `rsa_cert_credentials` field, and `POST /api/v0/certificates/generate`
//! (om's `generate-certificate`).
//!
//! The private key never goes to the browser. The settings page's Generate stores the new
//! certificate and key directly into the property (a save like any other: validated, guarded by
//! the configuration version, recorded in the change log) and answers with the certificate
//! only; the page then shows the credential as set. The API answers with both, and only to
//! roles that may see credentials (the caller checks).

use argon2::password_hash::rand_core::OsRng;
use serde_json::{json, Value};
use tiles::properties::formats;

use super::commands::PropertyUpdate;
use super::{Products, Saved};
use crate::{Error, Result};

/// A generated certificate and its private key (PEM).
#[derive(Debug, Clone)]
pub struct GeneratedCertificate {
    pub cert_pem: String,
    pub private_key_pem: String,
}

/// The domains of a request, as Ops Manager asks for them: a list (or one comma-separated
/// text) of domain names, wildcards (`*.apps.example.com`) allowed. Blank entries are dropped;
/// anything else that is not a domain is refused, naming it.
pub fn parse_domains(items: &[String]) -> Result<Vec<String>> {
    let domains: Vec<String> = items
        .iter()
        .flat_map(|i| i.split(','))
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    if domains.is_empty() {
        return Err(Error::invalid("domains", "can't be blank"));
    }
    for domain in &domains {
        let bare = domain.strip_prefix("*.").unwrap_or(domain);
        if bare.contains('*') || !formats::is_hostname(bare) {
            return Err(Error::invalid(
                "domains",
                format!(
                    "'{domain}' is not a valid domain (wildcards like *.example.com are allowed)"
                ),
            ));
        }
    }
    Ok(domains)
}

impl Products {
    /// A fresh key and a certificate for `domains` (the first is the common name, every one a
    /// subject alternative name), signed by the root CA.
    pub async fn generate_certificate(&self, domains: &[String]) -> Result<GeneratedCertificate> {
        let domains = parse_domains(domains)?;
        let ca = self.root_ca().await?;
        let now = crate::store::unix_now();
        let value = tokio::task::spawn_blocking(move || {
            tiles::credentials::generate_rsa_cert(&domains, "tileworks", &ca, now, &mut OsRng)
        })
        .await
        .map_err(|e| Error::Internal(format!("generating a certificate: {e}")))?
        .map_err(|e| Error::Internal(format!("generating a certificate: {e}")))?;
        let text = |field: &str| {
            value
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Error::Internal(format!("generated certificate without {field}")))
        };
        Ok(GeneratedCertificate {
            cert_pem: text("cert_pem")?,
            private_key_pem: text("private_key_pem")?,
        })
    }

    /// Generates a certificate for `domains` and saves it, with its key, as the value of the
    /// `rsa_cert_credentials` property `reference`, guarded by `expected`. Returns the new
    /// version and the certificate (the public part; the key stays on the server).
    pub async fn generate_property_certificate(
        &self,
        guid: &str,
        reference: &str,
        domains: &[String],
        expected: Option<i64>,
        actor: &str,
    ) -> Result<(Saved, String)> {
        let product = self.staged_product(guid).await?;
        let is_cert = product.template.property(reference).is_some_and(|p| {
            p.blueprint.property_type.as_str() == "rsa_cert_credentials" && p.blueprint.configurable
        });
        if !is_cert {
            return Err(Error::invalid(
                reference,
                "only a configurable rsa_cert_credentials property takes a generated certificate",
            ));
        }
        // Checked before the (slow) key generation; the save checks it again.
        self.check_staged_version(&product, expected).await?;
        let generated = self
            .generate_certificate(domains)
            .await
            .map_err(|e| match e {
                Error::Invalid { message, .. } => Error::invalid(reference, message),
                other => other,
            })?;
        let value = json!({
            "cert_pem": generated.cert_pem,
            "private_key_pem": generated.private_key_pem,
        });
        let updates = [(reference.to_owned(), PropertyUpdate::value(value))].into();
        let saved = self.set_properties(guid, &updates, expected, actor).await?;
        Ok((saved, generated.cert_pem))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_a_list_or_comma_text_with_wildcards() {
        assert_eq!(
            parse_domains(&["*.apps.example.com, api.example.com".into(), " ".into()]).unwrap(),
            vec!["*.apps.example.com", "api.example.com"]
        );
        assert!(matches!(
            parse_domains(&[" , ".into()]),
            Err(Error::Invalid { field, .. }) if field == "domains"
        ));
        assert!(parse_domains(&["not a domain!".into()]).is_err());
    }
}
