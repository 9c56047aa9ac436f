//! `verifier_settings` (migration 0015): which install-time verifiers are switched off, per
//! owner (the Director tile's GUID or a staged product's). No row means enabled.

use std::collections::BTreeMap;

use sqlx::AnyPool;

use crate::Result;

pub struct Verifiers<'a> {
    pub(crate) pool: &'a AnyPool,
}

impl Verifiers<'_> {
    /// Verifier → enabled, for the verifiers of `owner` that have a row.
    pub async fn settings(&self, owner: &str) -> Result<BTreeMap<String, bool>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT verifier, enabled FROM verifier_settings WHERE owner_guid = $1")
                .bind(owner)
                .fetch_all(self.pool)
                .await?;
        Ok(rows.into_iter().map(|(v, e)| (v, e != 0)).collect())
    }

    /// Switches a verifier of `owner` on or off.
    pub async fn set(&self, owner: &str, verifier: &str, enabled: bool) -> Result<()> {
        sqlx::query(
            "INSERT INTO verifier_settings (owner_guid, verifier, enabled, changed_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (owner_guid, verifier) \
             DO UPDATE SET enabled = excluded.enabled, changed_at = excluded.changed_at",
        )
        .bind(owner)
        .bind(verifier)
        .bind(i64::from(enabled))
        .bind(super::unix_now())
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
