//! Deployed snapshots: what the last successful deploy of each product used — its version, its
//! settings (sealed: they hold credentials) and its manifest with credentials as placeholders —
//! and the Director tile's (its settings and the cloud config). Pending changes compare the
//! staged layer against these; `GET /api/v0/deployed/products` lists them.

use serde::Serialize;
use serde_json::Value;

use super::{now_rfc3339, Installations};
use crate::store::installations::DeployedRow;
use crate::{Error, Result};

/// A deployed product as `GET /api/v0/deployed/products` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployedProduct {
    pub guid: String,
    #[serde(rename = "type")]
    pub name: String,
    pub product_version: String,
    pub installation_id: i64,
    pub deployed_at: String,
}

impl Installations {
    /// Writes a snapshot after `guid` deployed successfully in installation `id`.
    pub(crate) async fn write_snapshot<S: Serialize>(
        &self,
        id: i64,
        guid: &str,
        name: &str,
        version: &str,
        settings: &S,
        manifest: &Value,
    ) -> Result<()> {
        let settings = serde_json::to_value(settings)
            .map_err(|e| Error::Internal(format!("encoding settings of {guid}: {e}")))?;
        let sealed = self.products().sealer().seal_json(&settings)?;
        let manifest = serde_json::to_string(manifest)
            .map_err(|e| Error::Internal(format!("encoding the manifest of {guid}: {e}")))?;
        self.store()
            .installations()
            .put_deployed(&DeployedRow {
                guid: guid.to_owned(),
                name: name.to_owned(),
                version: version.to_owned(),
                settings: sealed,
                manifest,
                installation_id: id,
                deployed_at: now_rfc3339(),
            })
            .await
    }

    /// The deployed products (the Director tile included, as `p-bosh`).
    pub async fn deployed_products(&self) -> Result<Vec<DeployedProduct>> {
        Ok(self
            .store()
            .installations()
            .deployed()
            .await?
            .into_iter()
            .map(|r| DeployedProduct {
                guid: r.guid,
                name: r.name,
                product_version: r.version,
                installation_id: r.installation_id,
                deployed_at: r.deployed_at,
            })
            .collect())
    }

    /// The manifest last deployed for `guid`, credentials as placeholders.
    pub async fn deployed_manifest(&self, guid: &str) -> Result<Value> {
        let row = self
            .store()
            .installations()
            .deployed_one(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("deployed product '{guid}'")))?;
        serde_json::from_str(&row.manifest)
            .map_err(|e| Error::Internal(format!("stored manifest of {guid}: {e}")))
    }

    /// The manifest the staged configuration of `guid` renders to now, credentials as
    /// placeholders.
    pub async fn staged_manifest(&self, guid: &str) -> Result<Value> {
        let product = self.products().staged_product(guid).await?;
        let render =
            super::render::render_staged(self.products(), &product, &self.director().hostname())
                .await?;
        Ok(render.redacted)
    }
}
