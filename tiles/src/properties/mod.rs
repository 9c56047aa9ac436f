//! Property values: what each blueprint type stores, the rules a value must obey, and the
//! staged values of a product.
//!
//! Ops Manager keeps every property's value in the shape its properties API uses (§9.1 of the
//! tile-metadata reference): scalars as JSON scalars, credentials as small objects
//! (`{"identity", "password"}`…), selectors as the selected `select_value`, collections as lists of
//! records. This module works on those JSON values directly (`serde_json::Value`) so that the
//! same checks run on the server, in the browser and on `om configure-product` input.
//!
//! The pieces:
//! - [`types`]: the catalogue of the 32 blueprint types and the shape of each one's value;
//! - [`formats`]: the string forms (domain, URL, IP ranges…) those types use;
//! - [`constraints`]: integer constraints and the string constraint list (`must_match_regex`,
//!   `must_be_cron_schedule`);
//! - [`ruby_regex`]: translation of the Ruby-flavoured regexes in metadata for the `regex` crate;
//! - [`cron`]: cron schedule syntax;
//! - [`defaults`]: defaults, `conditional_default`, the effective value of a property;
//! - [`staged`]: [`StagedValues`], a product's values keyed by property reference.

pub mod constraints;
pub mod cron;
pub mod defaults;
pub mod formats;
pub mod ruby_regex;
pub mod staged;
pub mod types;

pub use staged::{ResourceConfig, StagedValues};
