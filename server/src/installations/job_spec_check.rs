//! The job-spec check of a staged product's rendered manifest (`tiles::job_specs`): every
//! manifest property the named release's job spec does not declare and every job the release
//! lacks, against the bundled tiles' summaries and the specs its tile's tarballs carried
//! (`crate::products::job_specs`). Review Pending Changes and the pre-deploy check report the
//! findings as warnings, and Apply Changes logs them at the product's deploy step: BOSH deploys
//! such a manifest (it ignores the property), so they never block Apply Changes. The check reads
//! the redacted manifest and the findings name properties and jobs, never values.

use serde_json::Value;
use tiles::job_specs::{check_manifest, SpecReport};

use super::render::render_staged;
use super::Installations;
use crate::{Error, Result};

impl Installations {
    /// The check of `guid`'s manifest as it renders now; `None` when the configuration cannot
    /// render yet (incomplete or invalid: Review and the pre-deploy check say why already).
    pub async fn job_spec_check(&self, guid: &str) -> Result<Option<SpecReport>> {
        let product = self.products().staged_product(guid).await?;
        let render =
            match render_staged(self.products(), &product, &self.director().hostname()).await {
                Ok(render) => render,
                Err(Error::Invalid { .. } | Error::Rejected(_)) => return Ok(None),
                Err(other) => return Err(other),
            };
        self.check_rendered(&product.name, &product.version, &render.redacted)
            .await
            .map(Some)
    }

    /// The check of a manifest rendered for product `name` at `version`.
    pub(super) async fn check_rendered(
        &self,
        name: &str,
        version: &str,
        redacted: &Value,
    ) -> Result<SpecReport> {
        let specs = self.products().job_specs_of(name, version).await?;
        Ok(check_manifest(redacted, &specs))
    }
}
