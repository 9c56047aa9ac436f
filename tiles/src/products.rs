//! The tiles Tileworks ships, compiled in as data.
//!
//! The files live under `tiles/products/` so tile authors read and change them as YAML and tera
//! text; `include_str!` puts them in the binary (and the wasm bundle) without any file I/O.

/// A tile bundled with Tileworks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledTile {
    /// The product name (`name:` of the metadata).
    pub name: &'static str,
    /// The product version (`product_version:` of the metadata).
    pub product_version: &'static str,
    /// The tile's metadata (product template) as YAML text.
    pub metadata_yaml: &'static str,
    /// For on-demand service tiles: the tera template of one service instance's manifest.
    pub service_instance_manifest_template: Option<&'static str>,
}

/// The PKS tile's metadata.
pub const PKS_METADATA: &str = include_str!("../products/pks/metadata.yml");
/// The on-demand Kubernetes cluster manifest template the PKS service adapter renders.
pub const PKS_CLUSTER_MANIFEST_TEMPLATE: &str =
    include_str!("../products/pks/cluster-manifest.yml.tera");
/// The PKS tile's product name and version, as its metadata states them.
pub const PKS_NAME: &str = "pivotal-container-service";
pub const PKS_VERSION: &str = "1.1.3-tileworks.1";

/// Every bundled tile.
pub fn bundled() -> Vec<BundledTile> {
    vec![BundledTile {
        name: PKS_NAME,
        product_version: PKS_VERSION,
        metadata_yaml: PKS_METADATA,
        service_instance_manifest_template: Some(PKS_CLUSTER_MANIFEST_TEMPLATE),
    }]
}
