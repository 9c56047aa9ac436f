//! The BOSH Director stand-in.
//!
//! Not built yet: this crate is where the Director API server (tasks, deployments, simulated VMs,
//! health monitor, config server) lands with the "Review Pending Changes and Apply Changes" work.
//! It never depends on `server`; Tileworks reaches it only over HTTP.
