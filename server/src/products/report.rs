//! `GET /api/v0/diagnostic_report`: om reads `added_products.staged` and `.deployed` from it
//! (`staged-products`, `stage-product`, `products`), and `infrastructure_type`.

use serde_json::{json, Value};

use super::Products;
use crate::Result;

impl Products {
    pub async fn diagnostic_report(&self) -> Result<Value> {
        let director = self.director().await?;
        // om's `upload-stemcell` looks for the file it would upload in these lists.
        let library = self.store().stemcells().all().await?;
        let mut staged = Vec::new();
        for p in self.staged_products().await? {
            let stemcell = if p.is_director {
                Value::Null
            } else {
                let t = self.available_template(&p.name, &p.product_version).await?;
                t.stemcell_criteria
                    .as_ref()
                    .map(|c| json!(format!("bosh-stemcell-{}-{}", c.version, c.os)))
                    .unwrap_or(Value::Null)
            };
            staged
                .push(json!({"name": p.name, "version": p.product_version, "stemcell": stemcell}));
        }
        let available: Vec<Value> = self
            .available()
            .await?
            .into_iter()
            .map(|a| json!({"name": a.name, "version": a.product_version}))
            .collect();
        Ok(json!({
            "versions": {
                "schema_version": crate::OPS_MANAGER_API_VERSION,
                "release_version": crate::info_version(),
            },
            "generation_time": time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "infrastructure_type": director.settings.iaas,
            "director_configuration": {
                "resurrector_enabled": director.settings.director_configuration
                    .get("resurrector_enabled").cloned().unwrap_or(Value::Bool(true)),
            },
            "stemcells": library.iter().map(|s| json!(s.filename)).collect::<Vec<_>>(),
            "available_stemcells": library
                .iter()
                .map(|s| json!({"filename": s.filename, "os": s.os, "version": s.version}))
                .collect::<Vec<_>>(),
            "product_templates": available,
            "added_products": {"staged": staged, "deployed": []},
        }))
    }
}
