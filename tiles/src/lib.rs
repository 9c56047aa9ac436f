//! The Tileworks tile engine.
//!
//! Pure: no I/O, no async, no database. It builds for `wasm32-unknown-unknown` so the browser
//! validates operator input with exactly the code the server uses.

#[cfg(feature = "credentials")]
pub mod credentials;
pub mod error;
pub mod metadata;
pub mod product_config;
pub mod properties;
pub mod validate;
pub mod yaml;

pub use error::{Error, Result};
