//! The UI's [`Backend`](app::backend::Backend): the products service, seen through the plain
//! types the browser receives. Credentials leave here redacted; everything else is the same data
//! the Ops Manager API serves.

use std::collections::BTreeMap;

use app::backend::{
    AvailableProduct, BackendError, Dashboard, ProductSettings, SaveOutcome, TileSummary,
};
use serde_json::{json, Map, Value};
use tiles::metadata::{BlueprintKind, ProductTemplate};
use tiles::properties::types;
use tiles::validate::{validate_form, ValidationContext, VmType};

use crate::products::{Products, TileState};
use crate::Error;

pub struct UiBackend {
    products: Products,
}

impl UiBackend {
    pub fn new(products: Products) -> Self {
        UiBackend { products }
    }
}

/// What the operator reads when something fails; internal details stay in the log.
fn shown(err: Error) -> BackendError {
    match err {
        Error::Invalid { field, message } => BackendError(format!("{field}: {message}")),
        Error::Rejected(errors) => BackendError(
            errors
                .iter()
                .flat_map(|(k, v)| v.iter().map(move |m| format!("{k}: {m}")))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Error::NotFound(what) => BackendError(format!("{what} not found")),
        Error::Conflict(what) => BackendError(format!("{what} already exists")),
        Error::Forbidden(what) => BackendError(format!("not allowed: {what}")),
        stale @ Error::Stale { .. } => BackendError(stale.to_string()),
        other => {
            tracing::error!(error = %other, "UI request failed");
            BackendError("Internal error; see the server log.".into())
        }
    }
}

fn reasons(state: &TileState) -> Vec<String> {
    match state {
        TileState::Deployable => Vec::new(),
        TileState::Incomplete { reasons } | TileState::Invalid { reasons } => reasons
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |m| format!("{k}: {m}")))
            .collect(),
    }
}

#[async_trait::async_trait]
impl app::backend::Backend for UiBackend {
    async fn dashboard(&self) -> Result<Dashboard, BackendError> {
        let staged = self.products.staged_products().await.map_err(shown)?;
        let available = self.products.available().await.map_err(shown)?;
        let mut tiles = staged.into_iter().map(|s| {
            (
                s.is_director,
                TileSummary {
                    incomplete_reasons: reasons(&s.state),
                    guid: s.guid,
                    name: s.name,
                    label: s.label,
                    version: s.product_version,
                },
            )
        });
        let director = tiles
            .by_ref()
            .find(|(is_director, _)| *is_director)
            .map(|(_, t)| t)
            .ok_or_else(|| BackendError("the Director tile is missing".into()))?;
        Ok(Dashboard {
            director,
            staged: tiles.filter(|(d, _)| !d).map(|(_, t)| t).collect(),
            available: available
                .into_iter()
                .map(|a| AvailableProduct {
                    name: a.name,
                    label: a.label,
                    version: a.product_version,
                    staged: a.staged,
                })
                .collect(),
        })
    }

    async fn stage_product(
        &self,
        actor: &str,
        name: &str,
        version: &str,
    ) -> Result<String, BackendError> {
        let staged = self
            .products
            .stage(name, version, actor)
            .await
            .map_err(shown)?;
        Ok(staged.guid)
    }

    async fn unstage_product(&self, actor: &str, guid: &str) -> Result<(), BackendError> {
        self.products.unstage(guid, actor).await.map_err(shown)
    }

    async fn delete_available_product(
        &self,
        _actor: &str,
        name: &str,
        version: &str,
    ) -> Result<(), BackendError> {
        self.products
            .delete_available(name, version)
            .await
            .map_err(shown)
    }

    async fn product_settings(&self, guid: &str) -> Result<ProductSettings, BackendError> {
        if self.products.is_director(guid).await.map_err(shown)? {
            return Err(BackendError(
                "the BOSH Director is configured on its own page".into(),
            ));
        }
        let product = self.products.staged_product(guid).await.map_err(shown)?;
        let metadata_yaml = self
            .products
            .store()
            .products()
            .available_one(&product.name, &product.version)
            .await
            .map_err(shown)?
            .map(|row| row.metadata)
            .ok_or_else(|| {
                BackendError(format!(
                    "{} {} is no longer imported",
                    product.name, product.version
                ))
            })?;
        let vm_types: Vec<VmType> = self
            .products
            .vm_types()
            .await
            .map_err(shown)?
            .into_iter()
            .map(|v| VmType {
                name: v.name,
                ram: i64::from(v.ram),
                cpu: i64::from(v.cpu),
                ephemeral_disk: i64::from(v.ephemeral_disk),
            })
            .collect();
        let disk_types = self
            .products
            .disk_types()
            .await
            .map_err(shown)?
            .into_iter()
            // A disk type is chosen by its name, or by its size in MB when it has none (the
            // default catalogue's are all unnamed), as the property value stores it.
            .map(|d| d.name.unwrap_or_else(|| d.disk_size.to_string()))
            .collect();
        let director = self.products.director().await.map_err(shown)?;
        let availability_zones = director
            .settings
            .azs
            .iter()
            .map(|az| az.name.clone())
            .collect();

        let ctx = ValidationContext {
            vm_types: &vm_types,
            ..ValidationContext::default()
        };
        // The form shows what would be deployed: staged values, and defaults where nothing is
        // staged yet.
        let mut staged = product.settings.staged.clone();
        tiles::properties::defaults::apply_defaults(&product.template, &mut staged, &[]);
        let form_complete = product
            .template
            .form_types
            .iter()
            .map(|form| {
                let report = validate_form(
                    &product.template,
                    &form.name,
                    &product.settings.staged,
                    &ctx,
                );
                (form.name.clone(), report.is_valid())
            })
            .collect();
        let values = redacted_values(&product.template, &staged.properties);
        Ok(ProductSettings {
            guid: product.guid.clone(),
            label: product.label.clone(),
            product_version: product.version.clone(),
            config_version: product.config_version,
            metadata_yaml,
            values,
            vm_types,
            disk_types,
            availability_zones,
            form_complete,
        })
    }

    async fn save_form(
        &self,
        actor: &str,
        guid: &str,
        form: &str,
        config_version: i64,
        values: BTreeMap<String, Value>,
    ) -> Result<SaveOutcome, BackendError> {
        // The properties-API shape: reference → {"value": …}. Redacted credential fields (`***`)
        // keep their stored values (the service does that), so a partly edited credential
        // never overwrites its secret with the mask.
        let body: Map<String, Value> = values
            .into_iter()
            .map(|(reference, value)| (reference, json!({ "value": value })))
            .collect();
        match self
            .products
            .save_form(
                guid,
                form,
                &Value::Object(body),
                Some(config_version),
                actor,
            )
            .await
        {
            Ok(saved) => Ok(SaveOutcome::Saved {
                config_version: saved.config_version,
            }),
            Err(Error::Rejected(errors)) => Ok(SaveOutcome::Invalid { errors }),
            Err(Error::Invalid { field, message }) => Ok(SaveOutcome::Invalid {
                errors: BTreeMap::from([(field, vec![message])]),
            }),
            Err(stale @ Error::Stale { .. }) => {
                let current_version = match &stale {
                    Error::Stale { current, .. } => *current,
                    _ => config_version,
                };
                Ok(SaveOutcome::Conflict {
                    message: format!("{stale}."),
                    current_version,
                })
            }
            Err(other) => Err(shown(other)),
        }
    }
}

/// Staged values with every credential field masked, collections' records included.
fn redacted_values(
    template: &ProductTemplate,
    properties: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    properties
        .iter()
        .map(|(reference, value)| {
            let Some(found) = template.property(reference) else {
                // Not in the metadata (left over from an older version): not shown at all is
                // safest, but the value may be harmless text — mask it anyway.
                return (
                    reference.clone(),
                    Value::String(app::backend::REDACTED.into()),
                );
            };
            let blueprint = found.blueprint;
            let masked = match &blueprint.kind {
                BlueprintKind::Collection {
                    property_blueprints,
                    ..
                } => match value {
                    Value::Array(records) => Value::Array(
                        records
                            .iter()
                            .map(|record| match record {
                                Value::Object(fields) => Value::Object(
                                    fields
                                        .iter()
                                        .map(|(name, field)| {
                                            let masked = property_blueprints
                                                .iter()
                                                .find(|b| &b.name == name)
                                                .map(|b| {
                                                    types::redact(b.property_type.as_str(), field)
                                                })
                                                .unwrap_or_else(|| field.clone());
                                            (name.clone(), masked)
                                        })
                                        .collect(),
                                ),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                },
                _ => types::redact(blueprint.property_type.as_str(), value),
            };
            (reference.clone(), masked)
        })
        .collect()
}
