//! The job specs of imported tiles: read at import from the release tarballs a `.pivotal`
//! carries (`crate::release_job_specs`, bounded), kept with the available product (column
//! `available_products.job_specs`, migration 0023) with the job-spec warnings of the tile's
//! templates. Review Pending Changes and the pre-deploy check check rendered manifests against
//! them (`crate::installations::job_spec_check`), with the bundled tiles' summaries.
//!
//! Only warnings, never a refusal: Ops Manager imports and deploys such tiles (BOSH ignores a
//! property its job's spec does not declare).

use std::io::{Read, Seek};

use serde::{Deserialize, Serialize};
use tiles::job_specs::{check_template, JobSpecs, SpecFinding};
use tiles::metadata::ProductTemplate;

use super::Products;
use crate::store::products::AvailableRow;
use crate::tile_archive::PivotalArchive;
use crate::Result;

/// What an import kept of a tile's job specs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportedJobSpecs {
    /// The specs of the release tarballs the `.pivotal` carries.
    pub specs: JobSpecs,
    /// Release tarballs that could not be read (their jobs are checked as unknown releases).
    #[serde(default)]
    pub unreadable: Vec<String>,
    /// The templates' job-spec findings and the unreadable tarballs, one line each.
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl ImportedJobSpecs {
    /// Reads the release tarballs of `archive` and checks `template`'s job templates against
    /// them and the bundled summaries (blocking: zip and gzip reading).
    pub fn read<R: Read + Seek>(
        archive: &mut PivotalArchive<R>,
        template: &ProductTemplate,
    ) -> ImportedJobSpecs {
        let (specs, unreadable) = crate::release_job_specs::in_pivotal(archive);
        let mut all = tiles::products::bundled_job_specs();
        all.extend(specs.clone());
        let report = check_template(template, &all);
        let mut warnings: Vec<String> = report.findings.iter().map(warning_line).collect();
        warnings.extend(
            unreadable
                .iter()
                .map(|p| format!("release tarball not checked: {p}")),
        );
        ImportedJobSpecs {
            specs,
            unreadable,
            warnings,
        }
    }

    /// What the row holds; nothing for bundled tiles and tiles imported before it was kept.
    pub fn of_row(row: &AvailableRow) -> ImportedJobSpecs {
        row.job_specs
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default()
    }
}

/// A finding in one line: where, then what (the suggestion is part of the message).
pub fn warning_line(finding: &SpecFinding) -> String {
    format!("{}: {}", finding.at, finding.message)
}

impl Products {
    /// The specs a staged product of `name` at `version` is checked against: the bundled
    /// tiles' summaries, then the tarballs its tile carried (which win).
    pub async fn job_specs_of(&self, name: &str, version: &str) -> Result<JobSpecs> {
        match self.available_derived(name, version).await {
            Ok(available) => Ok(available.job_specs()),
            Err(crate::Error::NotFound(_)) => Ok(tiles::products::bundled_job_specs()),
            Err(e) => Err(e),
        }
    }
}
