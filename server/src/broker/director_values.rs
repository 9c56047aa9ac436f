//! A cluster manifest as the Director is sent it. The service adapter writes values of the PKS
//! tile's credentials into it (the cloud provider's password in the Kubernetes cloud config).
//! A Director with a config server (a real one's CredHub, the stand-in's own) gets them as the
//! `((/tileworks/<pks-guid>/…))` placeholders the PKS deployment itself uses, with the values
//! set in its config server first, so it stores none in plaintext (as a product's deploy does,
//! `installations::pipeline`); a Director without one gets the manifest as rendered.
//!
//! The values of one deployed PKS snapshot are read once (that opens sealed settings) and a
//! value is set in the config server once per snapshot and process, not once per cluster: a
//! provision's own time is the broker's latency goal.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::Broker;
use crate::{Error, Result};

/// The values of the deployed PKS snapshot last used, by what identifies that snapshot.
#[derive(Default)]
pub struct DirectorValues {
    cached: Mutex<Option<(String, Arc<Snapshot>)>>,
}

struct Snapshot {
    guid: String,
    /// Placeholder names and values (`installations::render::credential_values`).
    secrets: Vec<(String, String)>,
    /// The config-server names already set on the Director from this snapshot.
    set: Mutex<HashSet<String>>,
}

impl Broker {
    /// `manifest` (YAML) as the Director should get it.
    pub(super) async fn manifest_for_director(&self, manifest: &str) -> Result<String> {
        if self.director().config_server_url().await?.is_none() {
            return Ok(manifest.to_owned());
        }
        match self.with_placeholders(manifest).await {
            Ok(text) => Ok(text),
            // As a product's deploy does (`installations::pipeline`): a real Director's config
            // server that refuses the values does not stop the cluster's deploy.
            Err(err) if !self.inner.installations.director().embedded => {
                tracing::warn!(error = %err, "the Director's config server did not take the cluster manifest's credentials: the manifest carries them");
                Ok(manifest.to_owned())
            }
            Err(err) => Err(err),
        }
    }

    /// `manifest` with the PKS tile's credentials as placeholders, their values set in the
    /// Director's config server first.
    async fn with_placeholders(&self, manifest: &str) -> Result<String> {
        let Some(snapshot) = self.pks_values().await? else {
            return Ok(manifest.to_owned());
        };
        let rendered = tiles::yaml::load(manifest)
            .map_err(|e| Error::Internal(format!("a cluster manifest to deploy: {e}")))?;
        let (sent, values) = crate::installations::render::for_config_server(
            &rendered,
            &snapshot.secrets,
            &snapshot.guid,
        );
        let text = tiles::yaml::to_yaml_string(&sent);
        for (name, value) in &values {
            // Only what this manifest refers to (`((name))` or `((name.field))`), once.
            let used =
                text.contains(&format!("(({name}))")) || text.contains(&format!("(({name}."));
            let done = snapshot
                .set
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .contains(name);
            if used && !done {
                self.director()
                    .set_config_server_variable(name, value)
                    .await?;
                snapshot
                    .set
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(name.clone());
            }
        }
        Ok(text)
    }

    /// The deployed PKS snapshot's credential values, read once per snapshot.
    async fn pks_values(&self) -> Result<Option<Arc<Snapshot>>> {
        let Some(pks) = self.deployed_pks().await? else {
            return Ok(None);
        };
        let key = format!("{}/{}/{}", pks.guid, pks.installation_id, pks.deployed_at);
        let cache = &self.inner.director_values.cached;
        if let Some((k, snapshot)) = &*cache.lock().unwrap_or_else(|p| p.into_inner()) {
            if *k == key {
                return Ok(Some(snapshot.clone()));
            }
        }
        let snapshot = Arc::new(Snapshot {
            secrets: self.inner.credentials.deployed_secrets(&pks.guid).await?,
            guid: pks.guid,
            set: Mutex::default(),
        });
        *cache.lock().unwrap_or_else(|p| p.into_inner()) = Some((key, snapshot.clone()));
        Ok(Some(snapshot))
    }
}
