//! Instance quotas: the catalog's `global_quotas.service_instance_limit` (all plans) and each
//! plan's `quotas.service_instance_limit` (bosh-cfcr-pks-odb.md §4.5). As ODB does, the global
//! limit is checked first, then the plan's; an instance counts from its provision request until
//! its deletion succeeds, failed ones included (they still hold a deployment).
//!
//! A new instance is counted and inserted in one statement (`store::broker::
//! insert_instance_within`), so instances provisioned at once cannot all slip under a limit.

use super::catalog::{CatalogPlan, ServiceCatalog};
use super::refusals;
use crate::store::broker::Limits;
use crate::store::Store;
use crate::{Error, Result};

/// The limits a new instance of `plan` must fit in.
pub fn limits(catalog: &ServiceCatalog, plan: &CatalogPlan) -> Limits {
    Limits {
        global: catalog.global_limit(),
        plan: plan.limit(),
    }
}

/// The refusal for an instance that did not fit: which limit, and how many instances count.
pub async fn refusal(store: &Store, plan: &CatalogPlan, limits: Limits) -> Result<Error> {
    let (all, of_plan) = store.broker().counts(&plan.plan_id).await?;
    Ok(match (limits.global, limits.plan) {
        (Some(global), _) if all >= global => refusals::quota("global", global, all),
        (_, Some(limit)) => refusals::quota(
            &format!("plan {} ({})", plan.name, plan.plan_id),
            limit,
            of_plan,
        ),
        // The counts moved on between the insert and now: say what the limits are.
        _ => refusals::quota("global", limits.global.unwrap_or_default(), all),
    })
}

/// For a plan change: whether one more instance fits in the new plan's limit.
pub async fn check_plan_change(store: &Store, plan: &CatalogPlan) -> Result<()> {
    let Some(limit) = plan.limit() else {
        return Ok(());
    };
    let (_, of_plan) = store.broker().counts(&plan.plan_id).await?;
    if of_plan >= limit {
        return Err(refusals::quota(
            &format!("plan {} ({})", plan.name, plan.plan_id),
            limit,
            of_plan,
        ));
    }
    Ok(())
}
