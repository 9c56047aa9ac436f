//! The UI's [`SettingsBackend`](app::backend::settings::SettingsBackend): stemcell choices for
//! `stemcell_selector` fields, form saves that explain a stale refusal field by field, and
//! Generate for certificates (the key stays on the server).

use std::collections::BTreeMap;

use app::backend::settings::{
    CertificateGenerated, FieldChange, FormExtras, FormSaved, StemcellChoice,
};
use app::backend::{BackendError, SaveOutcome};
use serde_json::Value;

use crate::products::commands::{PropertyUpdate, PropertyUpdates};
use crate::products::field_changes::form_references;
use crate::products::Products;
use crate::stemcells::{criteria, StemcellLibrary};
use crate::ui::products::{forms_complete, outcome, ui_change, vm_type_catalogue};
use crate::ui::shown;
use crate::Error;

pub struct UiSettings {
    products: Products,
}

impl UiSettings {
    pub fn new(products: Products) -> Self {
        UiSettings { products }
    }

    /// The form's fields another save changed since `expected`, for the page.
    async fn changes(
        &self,
        guid: &str,
        form: &str,
        expected: i64,
        loaded: &BTreeMap<String, Value>,
    ) -> Result<Vec<FieldChange>, BackendError> {
        let product = self.products.staged_product(guid).await.map_err(shown)?;
        let references = form_references(&product.template, form);
        let changes = self
            .products
            .field_changes(guid, expected, &references, Some(loaded))
            .await
            .map_err(shown)?;
        Ok(changes.into_iter().map(ui_change).collect())
    }
}

#[async_trait::async_trait]
impl app::backend::settings::SettingsBackend for UiSettings {
    async fn form_extras(&self, guid: &str) -> Result<FormExtras, BackendError> {
        let product = self.products.staged_product(guid).await.map_err(shown)?;
        let library = StemcellLibrary::library_versions(self.products.store())
            .await
            .map_err(shown)?;
        let mut stemcells: Vec<StemcellChoice> = Vec::new();
        for wanted in criteria::criteria_of(&product.template) {
            let versions = criteria::accepted_versions(wanted, &library);
            if versions.is_empty() || stemcells.iter().any(|s| s.os == wanted.os) {
                continue;
            }
            stemcells.push(StemcellChoice {
                os: wanted.os.clone(),
                versions,
            });
        }
        Ok(FormExtras { stemcells })
    }

    async fn save_form_from(
        &self,
        actor: &str,
        guid: &str,
        form: &str,
        config_version: i64,
        values: BTreeMap<String, Value>,
        loaded: BTreeMap<String, Value>,
    ) -> Result<FormSaved, BackendError> {
        // Redacted credential fields keep their stored values.
        let updates: PropertyUpdates = values
            .into_iter()
            .map(|(reference, value)| (reference, PropertyUpdate::value(value)))
            .collect();
        let result = self
            .products
            .save_form(guid, form, &updates, Some(config_version), actor)
            .await;
        let stale = matches!(result, Err(Error::Stale { .. }));
        let outcome = outcome(result)?;
        let changes = if stale {
            self.changes(guid, form, config_version, &loaded).await?
        } else {
            Vec::new()
        };
        Ok(FormSaved { outcome, changes })
    }

    async fn generate_certificate(
        &self,
        actor: &str,
        guid: &str,
        reference: &str,
        domains: Vec<String>,
        config_version: i64,
    ) -> Result<CertificateGenerated, BackendError> {
        match self
            .products
            .generate_property_certificate(guid, reference, &domains, Some(config_version), actor)
            .await
        {
            Ok((saved, cert_pem)) => {
                let product = self.products.staged_product(guid).await.map_err(shown)?;
                let vm_types = vm_type_catalogue(&self.products).await?;
                Ok(CertificateGenerated {
                    outcome: SaveOutcome::Saved {
                        config_version: saved.config_version,
                    },
                    cert_pem: Some(cert_pem),
                    form_complete: Some(forms_complete(
                        &product.template,
                        &product.settings.staged,
                        &vm_types,
                    )),
                })
            }
            Err(err) => Ok(CertificateGenerated {
                outcome: outcome(Err(err))?,
                cert_pem: None,
                form_complete: None,
            }),
        }
    }
}
