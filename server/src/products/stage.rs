//! Staging: putting an available product on the dashboard (with job GUIDs and generated
//! credentials), listing what is staged (the Director tile first), and taking a product off.

use serde::{Deserialize, Serialize};

use super::completeness::TileState;
use super::director::DIRECTOR_PRODUCT_NAME;
use super::guid::new_guid;
use super::{ProductSettings, Products};
use crate::{Error, Result};

/// A tile on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagedSummary {
    pub guid: String,
    /// The product name (`type` in the API).
    pub name: String,
    pub product_version: String,
    pub label: String,
    pub config_version: i64,
    pub state: TileState,
    /// The Director tile (`p-bosh`).
    pub is_director: bool,
}

impl Products {
    /// Every staged product, the Director tile first, each with its state.
    pub async fn staged_products(&self) -> Result<Vec<StagedSummary>> {
        let director = self.director().await?;
        let mut out = vec![StagedSummary {
            guid: director.guid.clone(),
            name: DIRECTOR_PRODUCT_NAME.into(),
            product_version: crate::info_version(),
            label: "BOSH Director".into(),
            config_version: director.config_version,
            state: TileState::from_problems(director.settings.problems()),
            is_director: true,
        }];
        for row in self.store().products().staged().await? {
            let product = self.load_staged(row).await?;
            let state = self.completeness_of(&product).await?.state();
            out.push(StagedSummary {
                guid: product.guid,
                name: product.name,
                product_version: product.version,
                label: product.label,
                config_version: product.config_version,
                state,
                is_director: false,
            });
        }
        Ok(out)
    }

    /// Stages an available product (`version` may be `latest`). Staging the same name and
    /// version again returns the staged one unchanged; another version of a staged product is
    /// an upgrade (see [`Products::upgrade`]) and refused here.
    pub async fn stage(&self, name: &str, version: &str, actor: &str) -> Result<StagedSummary> {
        if name == DIRECTOR_PRODUCT_NAME {
            return Err(Error::invalid("name", "the BOSH Director is always staged"));
        }
        let _write = self.begin_write().await?;
        let version = self.resolve_version(name, version).await?;
        let template = self.available_template(name, &version).await?;
        if let Some(existing) = self.store().products().staged_by_name(name).await? {
            if existing.version != version {
                return Err(Error::invalid(
                    "product_version",
                    format!(
                        "{name} is already staged at version {}; upgrade it with PUT /api/v0/staged/products/{} {{\"to_version\": \"{version}\"}}",
                        existing.version, existing.guid
                    ),
                ));
            }
            return self.summary(&existing.guid).await;
        }
        let mut settings = ProductSettings {
            job_guids: template
                .job_types
                .iter()
                .map(|j| (j.name.clone(), new_guid(&j.name)))
                .collect(),
            ..Default::default()
        };
        self.fill_generated(&template, &mut settings.staged).await?;
        let (config, sealed) = self.seal_settings(&template, &settings)?;
        let guid = new_guid(name);
        let added = self
            .store()
            .products()
            .add_staged(&guid, name, &version, &config, sealed.as_deref())
            .await?;
        if !added {
            // Someone staged it at the same moment: report what is there.
            let existing = self
                .store()
                .products()
                .staged_by_name(name)
                .await?
                .ok_or_else(|| Error::Internal(format!("{name} vanished while staging")))?;
            return self.summary(&existing.guid).await;
        }
        tracing::info!(product = name, version = %version, guid = %guid, actor, "staged");
        self.summary(&guid).await
    }

    /// The highest imported version for `latest`, else `version` itself.
    pub(crate) async fn resolve_version(&self, name: &str, version: &str) -> Result<String> {
        if version != "latest" {
            return Ok(version.to_owned());
        }
        let available = self.store().products().available().await?;
        super::versions::latest(
            available
                .iter()
                .filter(|r| r.name == name)
                .map(|r| r.version.as_str()),
        )
        .map(str::to_owned)
        .ok_or_else(|| Error::NotFound(format!("available product {name}")))
    }

    /// One staged product's dashboard summary.
    pub async fn summary(&self, guid: &str) -> Result<StagedSummary> {
        self.staged_products()
            .await?
            .into_iter()
            .find(|s| s.guid == guid)
            .ok_or_else(|| Error::NotFound(format!("staged product '{guid}'")))
    }

    /// Takes a product off the dashboard: a never-deployed product is removed with its staged
    /// configuration; a deployed one gets its deletion staged for Apply Changes (see
    /// [`Products::remove_or_stage_deletion`]). The Director tile cannot be unstaged.
    pub async fn unstage(&self, guid: &str, actor: &str) -> Result<()> {
        self.remove_or_stage_deletion(guid, actor).await.map(|_| ())
    }
}
