//! Certificate authorities and their rotation, as Ops Manager does it
//! (`/api/v0/certificate_authorities`, om's `certificate-authorities`,
//! `generate-certificate-authority`, `create-certificate-authority`,
//! `activate-certificate-authority`, `regenerate-certificates`,
//! `delete-certificate-authority`), and the deployed certificates with their expiry
//! (`GET /api/v0/deployed/certificates`, om's `expiring-certificates`).
//!
//! Exactly one CA is active: it signs every certificate Tileworks generates ([`Products::root_ca`]).
//! Rotation:
//! 1. generate (or import) a new CA — inactive; every CA's certificate is rendered into the
//!    deployments' trusted certificates (`$ops_manager.trusted_certificates`), so after an apply
//!    both the old and the new CA are trusted;
//! 2. activate it — from now on it signs, and every staged product's generated certificates
//!    (`rsa_cert_credentials` that are not configurable) that it did not sign are generated
//!    again into the staged configuration: the deployed ones (signed by the old CA) stay in use
//!    until the next Apply Changes deploys the new ones (Review shows them as pending);
//!    `…/active/regenerate` does the same again on request;
//! 3. apply, then delete the old CA (only an inactive CA can be deleted).
//!
//! Private keys are sealed at rest and never leave: the API shows certificates only.

use argon2::password_hash::rand_core::OsRng;
use serde::Serialize;
use serde_json::Value;
use tiles::credentials::{certificate_info, signed_by, CertificateAuthority, CertificateInfo};
use tiles::metadata::ProductTemplate;
use tiles::properties::StagedValues;

use super::Products;
use crate::store::certificate_authorities::CaRow;
use crate::{Error, Result};

/// A CA as the API shows it (om's `api.CA`); no private key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaView {
    pub guid: String,
    pub issuer: String,
    pub created_on: String,
    pub expires_on: String,
    pub active: bool,
    pub cert_pem: String,
}

/// A deployed certificate as `GET /api/v0/deployed/certificates` shows it (om's
/// `api.ExpiringCertificate`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployedCertificate {
    pub issuer: String,
    pub valid_from: String,
    pub valid_until: String,
    pub configurable: bool,
    pub property_reference: Option<String>,
    pub property_type: Option<String>,
    pub product_guid: Option<String>,
    pub location: String,
    pub variable_path: Option<String>,
    /// Unix seconds of `valid_until`, for the filter.
    #[serde(skip)]
    pub expires_at: i64,
}

/// What a rotation step did to the staged products: the certificates generated again, as
/// `GUID reference` (collection fields as `reference[i].field`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Regenerated {
    pub certificates: Vec<String>,
}

/// om's duration syntax for `expires_within` (`^[1-9][0-9]*[dwmy]$`: days, weeks, months,
/// years) in seconds; a month counts 30 days and a year 365. Anything else is refused,
/// naming the parameter.
pub fn parse_expires_within(text: &str) -> Result<i64> {
    let refuse = || {
        Error::invalid(
            "expires_within",
            format!(
                "'{text}' is not a duration: a whole number followed by d (days), w (weeks), \
                 m (months) or y (years), like 3m"
            ),
        )
    };
    let unit = text.chars().last().ok_or_else(refuse)?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refuse());
    }
    let n: i64 = digits.parse().map_err(|_| refuse())?;
    let days = match unit {
        'd' => 1,
        'w' => 7,
        'm' => 30,
        'y' => 365,
        _ => return Err(refuse()),
    };
    n.checked_mul(days * 86_400).ok_or_else(refuse)
}

/// Unix seconds as RFC 3339 UTC (`2026-12-05T08:45:00Z`).
fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Unix seconds as a date (`2026-12-05`), as Ops Manager shows a CA's dates.
fn date(unix: i64) -> String {
    rfc3339(unix).get(..10).unwrap_or_default().to_owned()
}

/// RFC 4514 text (`CN=x, O=y`) as Ops Manager's issuer text (`/CN=x/O=y`).
fn issuer_text(info: &CertificateInfo) -> String {
    info.issuer
        .split(", ")
        .map(|part| format!("/{part}"))
        .collect()
}

/// The generated certificates of `staged` (non-configurable `rsa_cert_credentials`, product,
/// job and collection fields) whose certificate `keep` refuses: removed, so that filling the
/// generated values makes them again. Returns what was removed.
fn drop_generated_certificates(
    template: &ProductTemplate,
    staged: &mut StagedValues,
    keep: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let is_generated_cert =
        |t: &str, configurable: bool| t == "rsa_cert_credentials" && !configurable;
    let stale = |v: &Value| {
        v.get("cert_pem")
            .and_then(Value::as_str)
            .is_some_and(|pem| !keep(pem))
    };
    let mut dropped = Vec::new();
    for pref in template.property_refs() {
        let bp = pref.blueprint;
        if is_generated_cert(bp.property_type.as_str(), bp.configurable)
            && staged.properties.get(&pref.reference).is_some_and(stale)
        {
            staged.properties.remove(&pref.reference);
            dropped.push(pref.reference.clone());
        }
        let Some(Value::Array(records)) = staged.properties.get_mut(&pref.reference) else {
            continue;
        };
        for (i, record) in records.iter_mut().enumerate() {
            let Value::Object(map) = record else { continue };
            for sub in bp.sub_blueprints() {
                if is_generated_cert(sub.property_type.as_str(), sub.configurable)
                    && map.get(&sub.name).is_some_and(stale)
                {
                    map.remove(&sub.name);
                    dropped.push(format!("{}[{i}].{}", pref.reference, sub.name));
                }
            }
        }
    }
    dropped
}

impl Products {
    /// A new CA (RSA 2048, 4 years) as a row to store, its key sealed.
    pub(crate) async fn new_certificate_authority(
        &self,
        common_name: &str,
        active: bool,
    ) -> Result<CaRow> {
        let now = crate::store::unix_now();
        let name = common_name.to_owned();
        let ca = tokio::task::spawn_blocking(move || {
            CertificateAuthority::generate(&name, "Tileworks", now, &mut OsRng)
        })
        .await
        .map_err(|e| Error::Internal(format!("generating a CA: {e}")))?
        .map_err(|e| Error::Internal(format!("generating a CA: {e}")))?;
        self.ca_row(&ca, active, now)
    }

    fn ca_row(&self, ca: &CertificateAuthority, active: bool, now: i64) -> Result<CaRow> {
        Ok(CaRow {
            guid: hex_guid(),
            cert_pem: ca.cert_pem.clone(),
            sealed_private_key: self.sealer().seal(ca.private_key_pem.as_bytes())?,
            active,
            created_at: now,
        })
    }

    /// A stored CA with its key opened.
    pub(crate) fn open_certificate_authority(&self, row: &CaRow) -> Result<CertificateAuthority> {
        let key = String::from_utf8(self.sealer().open_sealed(&row.sealed_private_key)?)
            .map_err(|_| Error::Internal("a CA key is not text".into()))?;
        Ok(CertificateAuthority {
            cert_pem: row.cert_pem.clone(),
            private_key_pem: key,
        })
    }

    /// Every CA, oldest first (the first is made now if there is none yet).
    pub async fn certificate_authorities(&self) -> Result<Vec<CaView>> {
        self.root_ca().await?;
        self.store()
            .certificate_authorities()
            .list()
            .await?
            .iter()
            .map(ca_view)
            .collect()
    }

    /// Every CA's certificate, the active one first: what deployments trust.
    pub async fn trusted_ca_certificates(&self) -> Result<Vec<String>> {
        let mut cas = self.certificate_authorities().await?;
        cas.sort_by_key(|c| !c.active);
        Ok(cas.into_iter().map(|c| c.cert_pem).collect())
    }

    /// `POST …/certificate_authorities/generate`: a new, inactive, CA.
    pub async fn generate_certificate_authority(&self) -> Result<CaView> {
        let _write = self.begin_write().await?;
        self.root_ca().await?;
        let stamp = rfc3339(crate::store::unix_now());
        let row = self
            .new_certificate_authority(
                &format!("Tileworks Root Certificate Authority {stamp}"),
                false,
            )
            .await?;
        self.store().certificate_authorities().insert(&row).await?;
        ca_view(&row)
    }

    /// `POST …/certificate_authorities` with `cert_pem` and `private_key_pem`: an inactive CA
    /// from the operator's own certificate and key (a CA certificate, its key).
    pub async fn import_certificate_authority(
        &self,
        cert_pem: &str,
        private_key_pem: &str,
    ) -> Result<CaView> {
        if cert_pem.trim().is_empty() {
            return Err(Error::invalid("cert_pem", tiles::validate::BLANK));
        }
        if private_key_pem.trim().is_empty() {
            return Err(Error::invalid("private_key_pem", tiles::validate::BLANK));
        }
        // The certificate first, so a bad one is named before the key.
        let info =
            certificate_info(cert_pem).map_err(|e| Error::invalid("cert_pem", e.to_string()))?;
        let ca =
            CertificateAuthority::from_pem(cert_pem, private_key_pem).map_err(|e| match e {
                tiles::error::Error::Invalid { field, message } => Error::invalid(field, message),
                other => Error::invalid("cert_pem", other.to_string()),
            })?;
        let now = crate::store::unix_now();
        if info.not_after <= now {
            return Err(Error::invalid("cert_pem", "the CA certificate has expired"));
        }
        let _write = self.begin_write().await?;
        self.root_ca().await?;
        let row = self.ca_row(&ca, false, now)?;
        self.store().certificate_authorities().insert(&row).await?;
        ca_view(&row)
    }

    /// `POST …/certificate_authorities/:guid/activate`: `guid` signs from now on, and the staged
    /// products' generated certificates it did not sign are generated again (deployed at the
    /// next apply).
    pub async fn activate_certificate_authority(
        &self,
        guid: &str,
        actor: &str,
    ) -> Result<Regenerated> {
        {
            let _write = self.begin_write().await?;
            self.root_ca().await?;
            if !self
                .store()
                .certificate_authorities()
                .activate(guid)
                .await?
            {
                return Err(Error::NotFound(format!("certificate authority '{guid}'")));
            }
            self.forget_root_ca().await;
        }
        self.regenerate_certificates(false, actor).await
    }

    /// `POST …/certificate_authorities/active/regenerate`: the staged products' generated
    /// certificates are generated again by the active CA — those another CA signed, or, with
    /// `all`, every one.
    pub async fn regenerate_certificates(&self, all: bool, actor: &str) -> Result<Regenerated> {
        let active = self.root_ca().await?.cert_pem;
        let keep = move |pem: &str| !all && signed_by(pem, &active);
        let mut out = Regenerated::default();
        for row in self.store().products().staged().await? {
            let guid = row.guid.clone();
            let product = self.load_staged(row).await?;
            let mut probe = product.settings.staged.clone();
            if drop_generated_certificates(&product.template, &mut probe, &keep).is_empty() {
                continue;
            }
            let keep = keep.clone();
            let dropped = std::sync::Mutex::new(Vec::new());
            self.update_product(&guid, None, actor, |product, _, settings| {
                let d = drop_generated_certificates(&product.template, &mut settings.staged, &keep);
                if let Ok(mut slot) = dropped.lock() {
                    slot.clone_from(&d);
                }
                Ok(d)
            })
            .await?;
            let dropped = dropped.into_inner().unwrap_or_default();
            out.certificates
                .extend(dropped.into_iter().map(|r| format!("{guid} {r}")));
        }
        Ok(out)
    }

    /// `DELETE …/certificate_authorities/:guid`: only an inactive CA (404 for an unknown GUID,
    /// 409 for the active one).
    pub async fn delete_certificate_authority(&self, guid: &str) -> Result<()> {
        let _write = self.begin_write().await?;
        let cas = self.store().certificate_authorities().list().await?;
        match cas.iter().find(|c| c.guid == guid) {
            None => Err(Error::NotFound(format!("certificate authority '{guid}'"))),
            Some(c) if c.active => Err(Error::Refused(format!(
                "the certificate authority '{guid}' is active: activate another one before deleting it"
            ))),
            Some(_) => {
                if self
                    .store()
                    .certificate_authorities()
                    .delete_inactive(guid)
                    .await?
                {
                    Ok(())
                } else {
                    Err(Error::NotFound(format!("certificate authority '{guid}'")))
                }
            }
        }
    }

    /// The deployed certificates (every CA's, and each deployed product's `rsa_cert_credentials`
    /// as deployed), those expiring within `within` seconds from now when given.
    pub async fn deployed_certificates(
        &self,
        within: Option<i64>,
    ) -> Result<Vec<DeployedCertificate>> {
        let mut out = Vec::new();
        for ca in self.store().certificate_authorities().list().await? {
            if let Ok(info) = certificate_info(&ca.cert_pem) {
                out.push(deployed(&info, None, None, false));
            }
        }
        for row in self.store().installations().deployed().await? {
            let Some(snapshot) = self.deployed_settings(&row.guid).await? else {
                continue;
            };
            let Ok(template) = self
                .available_template(&snapshot.name, &snapshot.version)
                .await
            else {
                continue;
            };
            for pref in template.property_refs() {
                let bp = pref.blueprint;
                let Some(value) = snapshot.settings.staged.properties.get(&pref.reference) else {
                    continue;
                };
                let mut found = Vec::new();
                if bp.property_type.as_str() == "rsa_cert_credentials" {
                    found.push((pref.reference.clone(), value, bp.configurable));
                }
                if let Value::Array(records) = value {
                    for (i, record) in records.iter().enumerate() {
                        for sub in bp.sub_blueprints() {
                            if sub.property_type.as_str() != "rsa_cert_credentials" {
                                continue;
                            }
                            if let Some(v) = record.get(&sub.name) {
                                found.push((
                                    format!("{}[{i}].{}", pref.reference, sub.name),
                                    v,
                                    sub.configurable,
                                ));
                            }
                        }
                    }
                }
                for (reference, v, configurable) in found {
                    let Some(pem) = v.get("cert_pem").and_then(Value::as_str) else {
                        continue;
                    };
                    if let Ok(info) = certificate_info(pem) {
                        out.push(deployed(
                            &info,
                            Some(&row.guid),
                            Some(reference),
                            configurable,
                        ));
                    }
                }
            }
        }
        if let Some(within) = within {
            let limit = crate::store::unix_now().saturating_add(within);
            out.retain(|c| c.expires_at <= limit);
        }
        Ok(out)
    }
}

fn deployed(
    info: &CertificateInfo,
    product_guid: Option<&str>,
    reference: Option<String>,
    configurable: bool,
) -> DeployedCertificate {
    DeployedCertificate {
        issuer: issuer_text(info),
        valid_from: rfc3339(info.not_before),
        valid_until: rfc3339(info.not_after),
        configurable,
        property_type: reference.as_ref().map(|_| "rsa_cert_credentials".into()),
        property_reference: reference,
        product_guid: product_guid.map(str::to_owned),
        location: "ops_manager".into(),
        variable_path: None,
        expires_at: info.not_after,
    }
}

fn ca_view(row: &CaRow) -> Result<CaView> {
    let info = certificate_info(&row.cert_pem)
        .map_err(|e| Error::Internal(format!("a stored CA certificate: {e}")))?;
    Ok(CaView {
        guid: row.guid.clone(),
        issuer: issuer_text(&info),
        created_on: date(row.created_at),
        expires_on: date(info.not_after),
        active: row.active,
        cert_pem: row.cert_pem.clone(),
    })
}

/// 20 lowercase hex digits: how Ops Manager's CA GUIDs look.
fn hex_guid() -> String {
    use argon2::password_hash::rand_core::RngCore;
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_within_takes_oms_durations_only() {
        assert_eq!(parse_expires_within("3d").unwrap(), 3 * 86_400);
        assert_eq!(parse_expires_within("2w").unwrap(), 14 * 86_400);
        assert_eq!(parse_expires_within("3m").unwrap(), 90 * 86_400);
        assert_eq!(parse_expires_within("10y").unwrap(), 3650 * 86_400);
        for bad in [
            "",
            "d",
            "0d",
            "03d",
            "3",
            "3h",
            "-3d",
            "3 d",
            "1.5y",
            "99999999999999999y",
        ] {
            assert!(
                matches!(parse_expires_within(bad), Err(Error::Invalid { ref field, .. }) if field == "expires_within"),
                "{bad}"
            );
        }
    }

    #[test]
    fn dates_and_issuers_in_ops_managers_forms() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(date(86_400 * 365), "1971-01-01");
        let info = CertificateInfo {
            subject: String::new(),
            issuer: "CN=Tileworks Root Certificate Authority, O=Tileworks".into(),
            not_before: 0,
            not_after: 0,
            is_ca: true,
        };
        assert_eq!(
            issuer_text(&info),
            "/CN=Tileworks Root Certificate Authority/O=Tileworks"
        );
    }
}
