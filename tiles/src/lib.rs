//! The Tileworks tile engine.
//!
//! Pure: no I/O, no async, no database. It builds for `wasm32-unknown-unknown` so the browser
//! validates operator input with exactly the code the server uses.

pub mod bake;
pub mod cloud_config;
#[cfg(feature = "credentials")]
pub mod credentials;
pub mod error;
pub mod expr;
pub mod form_template;
pub mod forms;
pub mod job_specs;
pub mod lint;
pub mod manifest;
pub mod manifest_check;
pub mod metadata;
pub mod odb;
pub mod product_config;
pub mod product_versions;
pub mod products;
pub mod properties;
pub mod render;
pub mod suggest;
pub mod validate;
pub mod verifiers;
pub mod yaml;
mod yaml_positions;

pub use error::{Error, Result};
