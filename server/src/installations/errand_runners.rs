//! Errands Tileworks runs itself instead of asking the Director to run them.
//!
//! On Ops Manager the PKS tile's `upgrade-all-service-instances` and `delete-all-clusters`
//! errands are VMs that call the On-Demand Broker on the PKS VM. Here the broker is part of
//! Tileworks (`broker/`), so Apply Changes hands those errands to it: the broker registers an
//! [`ErrandRunner`] at start-up, and the pipeline asks it, for each errand it is about to run,
//! whether the runner takes it. The runner gets the manifest just deployed (with values): the
//! errand runs before that deploy's snapshot is written, so the "deployed" product still holds
//! the previous configuration, and an upgrade must use the new one.
//!
//! The installations service cannot name the broker (the broker is built on it), hence the
//! trait.

use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::Result;

/// Where a runner writes its progress: the installation log.
pub type ErrandLog<'a> = &'a (dyn Fn(String) + Send + Sync);

/// An implementation of some products' errands inside Tileworks.
pub trait ErrandRunner: Send + Sync {
    /// Whether this runner runs `errand` of the product named `product`.
    fn runs(&self, product: &str, errand: &str) -> bool;

    /// Runs the errand; `manifest` is the deployment as just deployed (with values) for a
    /// post-deploy errand, `None` for a pre-delete one (the deployed snapshot is current
    /// then). `Err` fails the errand, naming what failed.
    fn run<'a>(
        &'a self,
        errand: &'a str,
        manifest: Option<&'a Value>,
        log: ErrandLog<'a>,
    ) -> BoxFuture<'a, Result<()>>;
}
