//! The service adapter of the bundled PKS tile: what the On-Demand Service Broker runs to turn a
//! plan and a `create-cluster` request into the BOSH manifest of one Kubernetes cluster.
//!
//! It follows the On-Demand Services SDK's subcommands (reference: bosh-cfcr-pks-odb.md §4):
//! - `generate-manifest` → [`generate_manifest`] (and [`generate_manifest_with`] for an edited
//!   template): idempotent, carries the previous manifest's cluster values forward, refuses bad
//!   parameters with [`crate::Error::Invalid`] naming the parameter;
//! - `generate-plan-schemas` → [`plan_schemas`];
//! - `dashboard-url` → [`dashboard_url`];
//! - `create-binding` → [`create_binding`] (kubeconfig-style credentials).
//!
//! Everything here is pure: the broker does the I/O (stdin/stdout, BOSH, CredHub).

mod binding;
mod check;
mod generate;
mod model;
mod params;
mod schemas;
mod settings;

pub use binding::{create_binding, dashboard_url, BindingRequest};
pub use check::check_manifest;
pub use generate::{generate_manifest, generate_manifest_with};
pub use model::{
    Errand, GenerateManifestInput, GenerateManifestOutput, InstanceGroup, LifecycleErrands, Plan,
    ServiceDeployment, ServiceRelease, Stemcell, Update,
};
pub use params::{
    accepted_names, check_cluster_name, check_host, check_worker_count, DEFAULT_MASTER_PORT,
    DEFAULT_MAX_WORKERS,
};
pub use schemas::plan_schemas;
pub use settings::{k8s_context, K8sSettings};

#[cfg(test)]
mod job_specs_tests;
#[cfg(test)]
mod tests;
