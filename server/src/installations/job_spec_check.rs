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
    ///
    /// Rendering is the dear part of Review Pending Changes, and it reads only the database and
    /// the Director's hostname: the answer is kept while the data generation stands
    /// (`crate::store::generation`; on SQLite — PostgreSQL renders every time).
    pub async fn job_spec_check(&self, guid: &str) -> Result<Option<SpecReport>> {
        let hostname = self.director().hostname();
        let stamp = self.inner.store.generation().current().await?;
        let key = (guid.to_owned(), hostname.clone());
        if let Some(kept) = stamp.and_then(|stamp| self.inner.spec_checks.find(stamp, &key)) {
            return Ok(kept);
        }
        let product = self.products().staged_product(guid).await?;
        let report = match render_staged(self.products(), &product, &hostname).await {
            Ok(render) => Some(
                self.check_rendered(&product.name, &product.version, &render.redacted)
                    .await?,
            ),
            Err(Error::Invalid { .. } | Error::Rejected(_)) => None,
            Err(other) => return Err(other),
        };
        if let Some(stamp) = stamp {
            self.inner.spec_checks.keep(stamp, key, report.clone(), 1);
        }
        Ok(report)
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
