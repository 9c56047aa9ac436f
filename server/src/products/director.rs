//! The Director tile (`p-bosh`): IaaS essentials, Director settings, availability zones,
//! networks, the network/AZ the Director itself uses, VM and disk types, and the Director's
//! jobs. It is always on the dashboard (created at first start).
//!
//! Settings are kept in the API's shapes (what `om configure-director` sends and
//! `om staged-director-config` reads back); [`DirectorSettings::director_config`] turns them into
//! the engine's [`DirectorConfig`], from which the BOSH cloud config is produced and validated.
//! IaaS secrets (keys naming a password, secret or private key) are sealed at rest and shown as
//! `***` unless a role that may see credentials asks for them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tiles::cloud_config::{
    default_disk_types, default_vm_types, AzConfig, DirectorConfig, DiskTypeConfig, Iaas,
    NetworkConfig, SubnetConfig, VmTypeConfig,
};
use tiles::properties::staged::ResourceConfig;

use super::commands::{DirectorPlacement, DirectorPropertiesUpdate, Findings};
use super::guid::new_guid;
use super::{Products, Saved};
use crate::store::director::SUBJECT;
use crate::store::products::Versioned;
use crate::{Error, Result};

/// The Director tile's product name (`type` in `GET /api/v0/staged/products`).
pub const DIRECTOR_PRODUCT_NAME: &str = "p-bosh";
/// The Director tile's jobs (instance groups Ops Manager shows on its Resource Config page).
pub const DIRECTOR_JOBS: [&str; 2] = ["director", "compilation"];

/// An availability zone as the API shows it: name, GUID and the IaaS placement fields
/// (vSphere `clusters`, AWS `iaas_identifier`, or explicit `cloud_properties`), kept as given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AzSpec {
    #[serde(default)]
    pub guid: String,
    pub name: String,
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

/// A network as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    #[serde(default)]
    pub guid: String,
    pub name: String,
    #[serde(default)]
    pub subnets: Vec<SubnetSpec>,
}

/// A subnet as the API shows it. Lists of IPs and ranges are comma-separated text, as in Ops
/// Manager (`"10.0.0.1-10.0.0.10,10.0.0.50"`); lists are accepted on input too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SubnetSpec {
    #[serde(default)]
    pub iaas_identifier: String,
    #[serde(default)]
    pub cidr: String,
    #[serde(default, deserialize_with = "comma_list")]
    pub dns: String,
    #[serde(default)]
    pub gateway: String,
    #[serde(default, deserialize_with = "comma_list")]
    pub reserved_ip_ranges: String,
    #[serde(default, deserialize_with = "comma_list")]
    pub static_ip_ranges: String,
    #[serde(default)]
    pub availability_zone_names: Vec<String>,
}

fn comma_list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                other => Err(serde::de::Error::custom(format!(
                    "expected text, found {other}"
                ))),
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(|v| v.join(",")),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a comma-separated text or a list, found {other}"
        ))),
    }
}

/// A comma-separated setting (DNS servers, reserved ranges, NTP servers) as its trimmed,
/// non-blank items.
pub(super) fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A VM type of `GET /api/v0/vm_types`: `builtin` marks the default catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmTypeEntry {
    pub name: String,
    pub cpu: u32,
    pub ram: u32,
    pub ephemeral_disk: u32,
    #[serde(default)]
    pub builtin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_properties: Option<Map<String, Value>>,
}

/// Everything configured on the Director tile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DirectorSettings {
    #[serde(default)]
    pub iaas: Iaas,
    /// IaaS essentials (`vcenter_host`, `region`, `project`…), with `guid` and `name`.
    #[serde(default)]
    pub iaas_configuration: Map<String, Value>,
    /// `ntp_servers_string`, `resurrector_enabled`, `director_worker_instances`,
    /// `max_threads`, `canaries`, and any other Director setting (kept as given).
    #[serde(default)]
    pub director_configuration: Map<String, Value>,
    /// `security_configuration`, `syslog_configuration`, `dns_configuration`… kept as given.
    #[serde(default)]
    pub other_properties: Map<String, Value>,
    #[serde(default)]
    pub azs: Vec<AzSpec>,
    #[serde(default)]
    pub networks: Vec<NetworkSpec>,
    #[serde(default)]
    pub icmp_checks_enabled: bool,
    /// The Director's own network and singleton AZ: `{"network":{"name"},
    /// "singleton_availability_zone":{"name"}}`.
    #[serde(default)]
    pub network_assignment: Option<Value>,
    /// Custom VM types; empty means the default catalogue.
    #[serde(default)]
    pub vm_types: Vec<VmTypeConfig>,
    /// Custom disk types; empty means the default catalogue.
    #[serde(default)]
    pub disk_types: Vec<DiskTypeConfig>,
    /// VM extensions (`vm_extensions.rs`), rendered into the cloud config.
    #[serde(default)]
    pub vm_extensions: Vec<tiles::cloud_config::VmExtension>,
    #[serde(default)]
    pub resources: BTreeMap<String, ResourceConfig>,
    #[serde(default)]
    pub job_guids: BTreeMap<String, String>,
}

/// The Director tile with its GUID and version.
#[derive(Debug, Clone)]
pub struct DirectorView {
    pub guid: String,
    pub config_version: i64,
    pub settings: DirectorSettings,
}

/// Why the `embedded` IaaS is refused when Tileworks deploys to a real Director.
pub const EMBEDDED_ONLY: &str =
    "embedded is only for Tileworks's embedded Director (started without --director-url)";

/// Whether an IaaS configuration key holds a secret (sealed at rest, redacted in responses).
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password") || k.contains("secret") || k.contains("private_key") || k == "auth_json"
}

/// Whether a key inside one of Director Config's sections (`external_database_options`,
/// `s3_blobstore_options`, `gcs_blobstore_options`…) holds a secret: sealed at rest with the
/// IaaS secrets, `***` in responses and the change log. `access_key` is an identifier, not
/// its secret (`secret_key`).
pub fn is_director_section_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    is_secret_key(&k) || k == "service_account_key" || k.ends_with("client_key")
}

/// Where the sealed object keeps Director Config's section secrets, beside the IaaS ones
/// (no IaaS key has this name: it is not a secret key, so never sealed as one).
const SEALED_DIRECTOR_CONFIGURATION: &str = "director_configuration";

/// Director Config with each section's secrets as `***` (blank ones stay as they are).
pub fn redacted_director_configuration(config: &Map<String, Value>) -> Map<String, Value> {
    let mut out = config.clone();
    for section in out.values_mut() {
        let Value::Object(fields) = section else {
            continue;
        };
        for (k, v) in fields.iter_mut() {
            let blank = v.is_null() || v.as_str().is_some_and(str::is_empty);
            if is_director_section_secret(k) && !blank {
                *v = Value::String("***".into());
            }
        }
    }
    out
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

impl DirectorSettings {
    /// The engine's Director configuration, from which the cloud config is made.
    pub fn director_config(&self) -> DirectorConfig {
        let mut compilation = tiles::cloud_config::CompilationConfig::default();
        if let Some(rc) = self.resources.get("compilation") {
            if let Ok(tiles::properties::staged::Sized::Value(n)) = rc.instances() {
                compilation.workers = u32::try_from(n).unwrap_or(compilation.workers);
            }
            if let Some(t) = rc.vm_type() {
                compilation.vm_type = t.to_owned();
            }
        }
        DirectorConfig {
            iaas: self.iaas,
            azs: self
                .azs
                .iter()
                .map(|az| AzConfig {
                    name: az.name.clone(),
                    cloud_properties: self.az_cloud_properties(az),
                })
                .collect(),
            networks: self
                .networks
                .iter()
                .map(|n| NetworkConfig {
                    name: n.name.clone(),
                    subnets: n
                        .subnets
                        .iter()
                        .map(|s| SubnetConfig {
                            cidr: s.cidr.clone(),
                            gateway: s.gateway.clone(),
                            dns: split_list(&s.dns),
                            reserved: split_list(&s.reserved_ip_ranges),
                            static_ips: split_list(&s.static_ip_ranges),
                            azs: s.availability_zone_names.clone(),
                            cloud_properties: self.subnet_cloud_properties(s),
                        })
                        .collect(),
                })
                .collect(),
            vm_types: self.vm_types.clone(),
            vm_extensions: self.vm_extensions.clone(),
            disk_types: self.disk_types.clone(),
            compilation,
        }
    }

    fn az_cloud_properties(&self, az: &AzSpec) -> Map<String, Value> {
        if let Some(Value::Object(cp)) = az.fields.get("cloud_properties") {
            return cp.clone();
        }
        let id = az
            .fields
            .get("iaas_identifier")
            .and_then(Value::as_str)
            .unwrap_or(&az.name);
        let value = match self.iaas {
            Iaas::Vsphere => {
                let clusters: Vec<Value> = az
                    .fields
                    .get("clusters")
                    .and_then(Value::as_array)
                    .map(|cs| {
                        cs.iter()
                            .filter_map(|c| {
                                let name = c.get("cluster")?.as_str()?;
                                let mut props = Map::new();
                                if let Some(rp) =
                                    c.get("resource_pool").filter(|v| !is_blank(Some(v)))
                                {
                                    props.insert("resource_pool".into(), rp.clone());
                                }
                                Some(json!({ name: props }))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let datacenter = self
                    .iaas_configuration
                    .get("datacenter")
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({"datacenters": [{"name": datacenter, "clusters": clusters}]})
            }
            Iaas::Aws | Iaas::Openstack => json!({"availability_zone": id}),
            Iaas::Gcp => json!({"zone": id}),
            Iaas::Azure => match az.fields.get("iaas_identifier") {
                Some(v) => json!({"availability_zone": v}),
                None => json!({}),
            },
            Iaas::Embedded => json!({}),
        };
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn subnet_cloud_properties(&self, s: &SubnetSpec) -> Map<String, Value> {
        let id = s.iaas_identifier.as_str();
        let value = match self.iaas {
            Iaas::Vsphere => json!({"name": id}),
            Iaas::Aws => json!({"subnet": id}),
            Iaas::Openstack => json!({"net_id": id}),
            Iaas::Gcp => {
                let parts: Vec<&str> = id.split('/').collect();
                match parts.as_slice() {
                    [network, subnetwork, ..] => {
                        json!({"network_name": network, "subnetwork_name": subnetwork})
                    }
                    _ => json!({"network_name": id}),
                }
            }
            Iaas::Azure => match id.split_once('/') {
                Some((vnet, subnet)) => {
                    json!({"virtual_network_name": vnet, "subnet_name": subnet})
                }
                None => json!({"virtual_network_name": id}),
            },
            // A name only when the operator gave one; the stand-in needs none.
            Iaas::Embedded if id.trim().is_empty() => json!({}),
            Iaas::Embedded => json!({"name": id}),
        };
        match value {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// What keeps the Director from being deployable: missing IaaS essentials and Director
    /// settings, no AZ or network, no network assignment, and cloud config findings.
    pub fn problems(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut add = |k: String, m: String| out.entry(k).or_default().push(m);
        for (key, _) in tiles::verifiers::iaas::required(self.iaas) {
            if is_blank(self.iaas_configuration.get(*key)) {
                add(
                    format!("iaas_configuration.{key}"),
                    tiles::validate::BLANK.into(),
                );
            }
        }
        match self.iaas {
            Iaas::Aws
                if is_blank(self.iaas_configuration.get("iam_instance_profile"))
                    && (is_blank(self.iaas_configuration.get("access_key_id"))
                        || is_blank(self.iaas_configuration.get("secret_access_key"))) =>
            {
                add(
                    "iaas_configuration.access_key_id".into(),
                    "give access_key_id and secret_access_key, or iam_instance_profile".into(),
                )
            }
            Iaas::Gcp
                if is_blank(self.iaas_configuration.get("auth_json"))
                    && is_blank(self.iaas_configuration.get("associated_service_account")) =>
            {
                add(
                    "iaas_configuration.auth_json".into(),
                    "give auth_json or associated_service_account".into(),
                )
            }
            _ => {}
        }
        if is_blank(self.director_configuration.get("ntp_servers_string")) {
            add(
                "director_configuration.ntp_servers_string".into(),
                tiles::validate::BLANK.into(),
            );
        }
        let assignment = self.network_assignment.as_ref();
        for key in ["network", "singleton_availability_zone"] {
            if is_blank(
                assignment
                    .and_then(|a| a.get(key))
                    .and_then(|v| v.get("name")),
            ) {
                add(
                    format!("network_and_az.{key}"),
                    tiles::validate::BLANK.into(),
                );
            }
        }
        for f in self.director_config().validate() {
            if f.severity == tiles::manifest_check::Severity::Error {
                // "at least one … is required" is something missing, not something wrong.
                let message = if f.message.starts_with("at least one") {
                    tiles::validate::BLANK.to_owned()
                } else {
                    f.message
                };
                add(f.field, message);
            }
        }
        out
    }
}

impl Products {
    pub(super) async fn ensure_director(&self) -> Result<()> {
        if self.store().director().get().await?.is_some() {
            return Ok(());
        }
        let settings = DirectorSettings {
            // With the stand-in, the first Apply Changes needs no cloud credentials.
            iaas: if self.embedded_director() {
                Iaas::Embedded
            } else {
                Iaas::default()
            },
            iaas_configuration: {
                let mut m = Map::new();
                m.insert("guid".into(), Value::String(new_guid("iaas-configuration")));
                m.insert("name".into(), Value::String("default".into()));
                m
            },
            director_configuration: {
                let mut m = Map::new();
                m.insert("resurrector_enabled".into(), Value::Bool(true));
                m.insert("director_worker_instances".into(), json!(5));
                m.insert("max_threads".into(), Value::Null);
                m.insert("canaries".into(), json!(1));
                m
            },
            job_guids: DIRECTOR_JOBS
                .iter()
                .map(|j| (j.to_string(), new_guid(j)))
                .collect(),
            ..Default::default()
        };
        let config = serde_json::to_string(&settings)
            .map_err(|e| Error::Internal(format!("encoding director config: {e}")))?;
        self.store()
            .director()
            .create(&new_guid(DIRECTOR_PRODUCT_NAME), &config)
            .await?;
        Ok(())
    }

    /// The Director tile, secrets opened.
    pub async fn director(&self) -> Result<DirectorView> {
        let row = self
            .store()
            .director()
            .get()
            .await?
            .ok_or_else(|| Error::Internal("the Director tile is missing".into()))?;
        let mut settings: DirectorSettings = serde_json::from_str(&row.config)
            .map_err(|e| Error::Internal(format!("director config: {e}")))?;
        if let Some(sealed) = &row.secrets {
            if let Value::Object(mut secrets) = self.sealer().open_json(sealed)? {
                if let Some(Value::Object(sections)) = secrets.remove(SEALED_DIRECTOR_CONFIGURATION)
                {
                    for (section, fields) in sections {
                        let (Some(Value::Object(open)), Value::Object(fields)) =
                            (settings.director_configuration.get_mut(&section), fields)
                        else {
                            continue;
                        };
                        open.extend(fields);
                    }
                }
                settings.iaas_configuration.extend(secrets);
            }
        }
        Ok(DirectorView {
            guid: row.guid,
            config_version: row.config_version,
            settings,
        })
    }

    /// Whether `guid` is the Director tile's.
    pub async fn is_director(&self, guid: &str) -> Result<bool> {
        Ok(self
            .store()
            .director()
            .get()
            .await?
            .is_some_and(|row| row.guid == guid))
    }

    /// Applies `change` to the Director settings and stores them, guarded by the version. The
    /// closure validates and returns what it changed (for the change log), or an error that
    /// leaves everything as it was. Without `expected`, a save that another write overtook is
    /// done again on what is stored now (so `change` may run more than once).
    pub async fn update_director<F>(
        &self,
        expected: Option<i64>,
        actor: &str,
        change: F,
    ) -> Result<Saved>
    where
        F: Fn(&mut DirectorSettings) -> Result<Vec<String>>,
    {
        let mut attempt = 0;
        loop {
            let saved = self.update_director_once(expected, actor, &change).await;
            if !Self::retry_unversioned(&saved, expected, &mut attempt).await {
                return saved;
            }
        }
    }

    /// One attempt of [`update_director`](Self::update_director).
    async fn update_director_once<F>(
        &self,
        expected: Option<i64>,
        actor: &str,
        change: &F,
    ) -> Result<Saved>
    where
        F: Fn(&mut DirectorSettings) -> Result<Vec<String>>,
    {
        let _write = self.begin_write().await?;
        let view = self.director().await?;
        self.check_version(SUBJECT, "the BOSH Director", view.config_version, expected)
            .await?;
        let mut settings = view.settings.clone();
        let changed = change(&mut settings)?;
        // A write that changes nothing (om re-sends the same configuration on every pipeline
        // run) keeps the version: no change-log entry, no pending change, no stale editors.
        if settings == view.settings {
            return Ok(Saved {
                config_version: view.config_version,
            });
        }
        // Logged as finely as the settings allow, with the values before (secrets never).
        let before = super::field_changes::Fields::director(&view.settings);
        let changed = before.refine(&super::field_changes::director_view(&settings), &changed);
        let previous = before.previous(&changed);
        let (config, sealed) = self.split_secrets(&settings)?;
        match self
            .store()
            .director()
            .update(
                view.config_version,
                &config,
                sealed.as_deref(),
                &changed,
                &previous,
                actor,
            )
            .await?
        {
            Versioned::Saved(config_version) => Ok(Saved { config_version }),
            Versioned::Stale { current } => Err(Error::Stale {
                subject: "the BOSH Director".into(),
                expected: view.config_version,
                current,
                changed: self
                    .store()
                    .products()
                    .changes_since(SUBJECT, view.config_version)
                    .await?,
            }),
            Versioned::Missing => Err(Error::Internal("the Director tile is missing".into())),
        }
    }

    /// The settings as stored: the configuration without its secrets (IaaS secrets, Director
    /// Config's section secrets), and those sealed apart.
    fn split_secrets(&self, settings: &DirectorSettings) -> Result<(String, Option<Vec<u8>>)> {
        let mut open = settings.clone();
        let mut secrets = Map::new();
        let keys: Vec<String> = open
            .iaas_configuration
            .keys()
            .filter(|k| is_secret_key(k))
            .cloned()
            .collect();
        for k in keys {
            if let Some(v) = open.iaas_configuration.remove(&k) {
                secrets.insert(k, v);
            }
        }
        let mut sections = Map::new();
        for (section, fields) in open.director_configuration.iter_mut() {
            let Value::Object(fields) = fields else {
                continue;
            };
            let keys: Vec<String> = fields
                .keys()
                .filter(|k| is_director_section_secret(k))
                .cloned()
                .collect();
            let mut sealed = Map::new();
            for k in keys {
                if let Some(v) = fields.remove(&k) {
                    sealed.insert(k, v);
                }
            }
            if !sealed.is_empty() {
                sections.insert(section.clone(), Value::Object(sealed));
            }
        }
        if !sections.is_empty() {
            secrets.insert(
                SEALED_DIRECTOR_CONFIGURATION.into(),
                Value::Object(sections),
            );
        }
        let config = serde_json::to_string(&open)
            .map_err(|e| Error::Internal(format!("encoding director config: {e}")))?;
        let sealed = if secrets.is_empty() {
            None
        } else {
            Some(self.sealer().seal_json(&Value::Object(secrets))?)
        };
        Ok((config, sealed))
    }

    /// Seals Director Config's section secrets that a Tileworks before their sealing stored in
    /// plaintext (`external_database_options.password`…), at start; the version, the change
    /// log and pending changes are untouched (nothing an operator set changes). `true` when it
    /// sealed something.
    pub async fn seal_director_plaintext(&self) -> Result<bool> {
        let Some(row) = self.store().director().get().await? else {
            return Ok(false);
        };
        let stored: DirectorSettings = serde_json::from_str(&row.config)
            .map_err(|e| Error::Internal(format!("director config: {e}")))?;
        let plaintext = stored.director_configuration.values().any(|section| {
            section
                .as_object()
                .is_some_and(|fields| fields.keys().any(|k| is_director_section_secret(k)))
        });
        if !plaintext {
            return Ok(false);
        }
        let view = self.director().await?;
        let (config, sealed) = self.split_secrets(&view.settings)?;
        self.store()
            .director()
            .reseal(row.config_version, &config, sealed.as_deref())
            .await
    }

    /// `GET /api/v0/staged/director/properties`: IaaS essentials (secrets as `***` when
    /// `redact`), Director settings and the other sections.
    pub async fn director_properties(&self, redact: bool) -> Result<Value> {
        let view = self.director().await?;
        let s = &view.settings;
        let mut iaas = s.iaas_configuration.clone();
        if redact {
            for (k, v) in iaas.iter_mut() {
                if is_secret_key(k) && !v.is_null() {
                    *v = Value::String("***".into());
                }
            }
        }
        iaas.insert(
            "iaas".into(),
            serde_json::to_value(s.iaas).unwrap_or(Value::Null),
        );
        let mut out = Map::new();
        out.insert("iaas_configuration".into(), Value::Object(iaas));
        let director_configuration = if redact {
            redacted_director_configuration(&s.director_configuration)
        } else {
            s.director_configuration.clone()
        };
        out.insert(
            "director_configuration".into(),
            Value::Object(director_configuration),
        );
        for (k, v) in &s.other_properties {
            out.insert(k.clone(), v.clone());
        }
        Ok(Value::Object(out))
    }

    /// `PUT /api/v0/staged/director/properties`: any of `iaas_configuration`,
    /// `director_configuration` and the other sections; given keys replace stored ones, a
    /// secret sent back as `***` keeps its stored value. `refused` holds what the caller could
    /// not read of the request; it is refused with the service's own findings, in one answer.
    pub async fn set_director_properties(
        &self,
        update: &DirectorPropertiesUpdate,
        refused: &Findings,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let embedded_director = self.embedded_director();
        self.update_director(expected, actor, move |s| {
            let mut errors = refused.clone();
            let mut changed = Vec::new();
            if let Some(iaas) = &update.iaas {
                if let Some(kind) = iaas.iaas {
                    if kind == Iaas::Embedded && !embedded_director {
                        errors
                            .entry("iaas_configuration.iaas".into())
                            .or_default()
                            .push(EMBEDDED_ONLY.into());
                    } else if kind != s.iaas {
                        s.iaas = kind;
                        changed.push("iaas_configuration.iaas".into());
                    }
                }
                for (k, v) in &iaas.fields {
                    // The name is `iaas` above; the configuration's GUID is Tileworks's.
                    if matches!(k.as_str(), "iaas" | "iaas_type" | "guid") {
                        continue;
                    }
                    if is_secret_key(k) && v == "***" {
                        continue;
                    }
                    if s.iaas_configuration.get(k) != Some(v) {
                        changed.push(format!("iaas_configuration.{k}"));
                        s.iaas_configuration.insert(k.clone(), v.clone());
                    }
                }
            }
            for (k, v) in update.director.iter().flatten() {
                // A section's secret sent back as `***` (what GET shows) keeps its stored value.
                let mut v = v.clone();
                if let (Value::Object(fields), Some(Value::Object(stored))) =
                    (&mut v, s.director_configuration.get(k))
                {
                    for (field, value) in fields.iter_mut() {
                        if is_director_section_secret(field) && value == "***" {
                            *value = stored.get(field).cloned().unwrap_or(Value::Null);
                        }
                    }
                }
                let v = &v;
                if let Some(message) = check_director_setting(k, v) {
                    errors
                        .entry(format!("director_configuration.{k}"))
                        .or_default()
                        .push(message);
                    continue;
                }
                if s.director_configuration.get(k) != Some(v) {
                    changed.push(format!("director_configuration.{k}"));
                    s.director_configuration.insert(k.clone(), v.clone());
                }
            }
            for (section, fields) in &update.other {
                let problems = check_section(section, fields);
                if !problems.is_empty() {
                    for (field, message) in problems {
                        let key = format!("{section}.{field}");
                        errors.entry(key).or_default().push(message);
                    }
                    continue;
                }
                let v = Value::Object(fields.clone());
                if s.other_properties.get(section) != Some(&v) {
                    changed.push(section.clone());
                    s.other_properties.insert(section.clone(), v);
                }
            }
            if errors.is_empty() {
                Ok(changed)
            } else {
                Err(Error::Rejected(errors))
            }
        })
        .await
    }

    /// `GET /api/v0/staged/director/availability_zones`.
    pub async fn availability_zones(&self) -> Result<Value> {
        let view = self.director().await?;
        let iaas_guid = view
            .settings
            .iaas_configuration
            .get("guid")
            .cloned()
            .unwrap_or(Value::Null);
        let list: Vec<Value> = view
            .settings
            .azs
            .iter()
            .map(|az| {
                let mut m = Map::new();
                m.insert("guid".into(), Value::String(az.guid.clone()));
                m.insert("name".into(), Value::String(az.name.clone()));
                m.insert("iaas_configuration_guid".into(), iaas_guid.clone());
                for (k, v) in &az.fields {
                    if k != "iaas_configuration_guid" {
                        m.insert(k.clone(), v.clone());
                    }
                }
                Value::Object(m)
            })
            .collect();
        Ok(json!({ "availability_zones": list }))
    }

    /// `PUT /api/v0/staged/director/availability_zones` with `{"availability_zones":[…]}`:
    /// replaces the list. AZs keep their GUIDs by name; an AZ still used by a subnet or by the
    /// Director's placement cannot be removed.
    pub async fn set_availability_zones(
        &self,
        azs: Vec<AzSpec>,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        self.update_director(expected, actor, move |s| {
            let mut next = Vec::new();
            for mut az in azs.clone() {
                az.fields.remove("iaas_configuration_guid");
                let old = s.azs.iter().find(|o| o.name == az.name);
                az.guid = match old {
                    Some(o) => o.guid.clone(),
                    None if super::guid::is_guid_for("az", &az.guid) => az.guid,
                    None => new_guid("az"),
                };
                next.push(az);
            }
            let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (i, az) in next.iter().enumerate() {
                if az.name.trim().is_empty() {
                    errors
                        .entry(format!("availability_zones[{i}].name"))
                        .or_default()
                        .push(tiles::validate::BLANK.into());
                }
                if next[..i].iter().any(|o| o.name == az.name) {
                    errors
                        .entry(format!("availability_zones[{i}].name"))
                        .or_default()
                        .push(format!("'{}' is listed twice", az.name));
                }
            }
            for old in &s.azs {
                if next.iter().any(|n| n.name == old.name) {
                    continue;
                }
                let used_by_subnet = s.networks.iter().any(|n| {
                    n.subnets
                        .iter()
                        .any(|sub| sub.availability_zone_names.contains(&old.name))
                });
                if used_by_subnet || assignment_az(s) == Some(old.name.as_str()) {
                    errors
                        .entry("availability_zones".into())
                        .or_default()
                        .push(format!("'{}' is in use and cannot be removed", old.name));
                }
            }
            if !errors.is_empty() {
                return Err(Error::Rejected(errors));
            }
            let changed = if s.azs == next {
                vec![]
            } else {
                vec!["availability_zones".into()]
            };
            s.azs = next;
            Ok(changed)
        })
        .await
    }

    /// `GET /api/v0/staged/director/networks`.
    pub async fn director_networks(&self) -> Result<Value> {
        let view = self.director().await?;
        Ok(json!({
            "icmp_checks_enabled": view.settings.icmp_checks_enabled,
            "networks": view.settings.networks,
        }))
    }

    /// `PUT /api/v0/staged/director/networks`: replaces the networks (GUIDs kept by name) after
    /// checking them as the cloud config will need them (CIDR, gateway, ranges, known AZs).
    pub async fn set_director_networks(
        &self,
        networks: Vec<NetworkSpec>,
        icmp_checks_enabled: Option<bool>,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        self.update_director(expected, actor, move |s| {
            let mut next = Vec::new();
            for mut n in networks.clone() {
                n.guid = match s.networks.iter().find(|o| o.name == n.name) {
                    Some(o) => o.guid.clone(),
                    None => new_guid("network"),
                };
                next.push(n);
            }
            let mut trial = s.clone();
            trial.networks = next.clone();
            let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for f in trial.director_config().validate() {
                if f.severity == tiles::manifest_check::Severity::Error
                    && f.field.starts_with("networks")
                {
                    errors.entry(f.field).or_default().push(f.message);
                }
            }
            if let Some(name) = assignment_network(s) {
                if !next.iter().any(|n| n.name == name) {
                    errors.entry("networks".into()).or_default().push(format!(
                        "'{name}' is the Director's network and cannot be removed"
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(Error::Rejected(errors));
            }
            let mut changed = Vec::new();
            if s.networks != next {
                changed.push("networks".into());
            }
            if let Some(icmp) = icmp_checks_enabled {
                if icmp != s.icmp_checks_enabled {
                    changed.push("icmp_checks_enabled".into());
                }
                s.icmp_checks_enabled = icmp;
            }
            s.networks = next;
            Ok(changed)
        })
        .await
    }

    /// `GET /api/v0/staged/director/network_and_az`.
    pub async fn director_network_and_az(&self) -> Result<Value> {
        let view = self.director().await?;
        Ok(view
            .settings
            .network_assignment
            .unwrap_or_else(|| json!({})))
    }

    /// `PUT /api/v0/staged/director/network_and_az` (and the Director tile's
    /// `networks_and_azs`): the network and singleton AZ must exist.
    pub async fn set_director_network_and_az(
        &self,
        placement: &DirectorPlacement,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let value = placement.to_stored();
        self.update_director(expected, actor, move |s| {
            let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
            if let Some(n) = &placement.network {
                if !s.networks.iter().any(|x| &x.name == n) {
                    errors
                        .entry("network_and_az.network".into())
                        .or_default()
                        .push(format!("there is no network named '{n}'"));
                }
            }
            if let Some(a) = &placement.singleton_az {
                if !s.azs.iter().any(|x| &x.name == a) {
                    errors
                        .entry("network_and_az.singleton_availability_zone".into())
                        .or_default()
                        .push(format!("there is no availability zone named '{a}'"));
                }
            }
            if !errors.is_empty() {
                return Err(Error::Rejected(errors));
            }
            let changed = if s.network_assignment.as_ref() == Some(&value) {
                vec![]
            } else {
                vec!["network_and_az".into()]
            };
            s.network_assignment = Some(value.clone());
            Ok(changed)
        })
        .await
    }

    /// The VM types in effect; `builtin` when they are the default catalogue.
    pub async fn vm_types(&self) -> Result<Vec<VmTypeEntry>> {
        Ok(Self::vm_types_of(&self.director().await?))
    }

    /// The VM types in effect in the Director tile `view`.
    pub fn vm_types_of(view: &DirectorView) -> Vec<VmTypeEntry> {
        let builtin = view.settings.vm_types.is_empty();
        let list = if builtin {
            default_vm_types()
        } else {
            view.settings.vm_types.clone()
        };
        list.into_iter()
            .map(|v| VmTypeEntry {
                name: v.name,
                cpu: v.cpu,
                ram: v.ram,
                ephemeral_disk: v.ephemeral_disk,
                builtin,
                cloud_properties: v.cloud_properties,
            })
            .collect()
    }

    /// Replaces the VM type catalogue with `types` (names unique, sizes positive).
    pub async fn set_vm_types(
        &self,
        types: Vec<VmTypeEntry>,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, t) in types.iter().enumerate() {
            if t.name.trim().is_empty() {
                errors
                    .entry(format!("vm_types[{i}].name"))
                    .or_default()
                    .push(tiles::validate::BLANK.into());
            }
            if types[..i].iter().any(|o| o.name == t.name) {
                errors
                    .entry(format!("vm_types[{i}].name"))
                    .or_default()
                    .push(format!("'{}' is listed twice", t.name));
            }
            for (field, v) in [
                ("cpu", t.cpu),
                ("ram", t.ram),
                ("ephemeral_disk", t.ephemeral_disk),
            ] {
                if v == 0 {
                    errors
                        .entry(format!("vm_types[{i}].{field}"))
                        .or_default()
                        .push("must be greater than 0".into());
                }
            }
        }
        if types.is_empty() {
            errors
                .entry("vm_types".into())
                .or_default()
                .push("at least one VM type is required (DELETE restores the defaults)".into());
        }
        if !errors.is_empty() {
            return Err(Error::Rejected(errors));
        }
        let configs: Vec<VmTypeConfig> = types
            .into_iter()
            .map(|t| VmTypeConfig {
                name: t.name,
                cpu: t.cpu,
                ram: t.ram,
                ephemeral_disk: t.ephemeral_disk,
                cloud_properties: t.cloud_properties,
            })
            .collect();
        self.update_director(expected, actor, move |s| {
            let changed = if s.vm_types == configs {
                vec![]
            } else {
                vec!["vm_types".into()]
            };
            s.vm_types = configs.clone();
            Ok(changed)
        })
        .await
    }

    /// Restores the default VM type catalogue.
    pub async fn reset_vm_types(&self, expected: Option<i64>, actor: &str) -> Result<Saved> {
        self.update_director(expected, actor, |s| {
            let changed = if s.vm_types.is_empty() {
                vec![]
            } else {
                vec!["vm_types".into()]
            };
            s.vm_types.clear();
            Ok(changed)
        })
        .await
    }

    /// The disk types in effect (the default catalogue when none are configured).
    pub async fn disk_types(&self) -> Result<Vec<DiskTypeConfig>> {
        Ok(Self::disk_types_of(&self.director().await?))
    }

    /// The disk types in effect in the Director tile `view`.
    pub fn disk_types_of(view: &DirectorView) -> Vec<DiskTypeConfig> {
        if view.settings.disk_types.is_empty() {
            default_disk_types()
        } else {
            view.settings.disk_types.clone()
        }
    }

    /// Replaces the disk type catalogue (sizes positive, names unique); an empty list restores
    /// the defaults.
    pub async fn set_disk_types(
        &self,
        types: Vec<DiskTypeConfig>,
        expected: Option<i64>,
        actor: &str,
    ) -> Result<Saved> {
        let mut errors: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (i, t) in types.iter().enumerate() {
            if t.disk_size == 0 {
                errors
                    .entry(format!("disk_types[{i}].disk_size"))
                    .or_default()
                    .push("must be greater than 0".into());
            }
            if types[..i].iter().any(|o| o.name() == t.name()) {
                errors
                    .entry(format!("disk_types[{i}].name"))
                    .or_default()
                    .push(format!("'{}' is listed twice", t.name()));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Rejected(errors));
        }
        self.update_director(expected, actor, move |s| {
            let changed = if s.disk_types == types {
                vec![]
            } else {
                vec!["disk_types".into()]
            };
            s.disk_types = types.clone();
            Ok(changed)
        })
        .await
    }

    /// The BOSH cloud config the Director settings produce (read-only for operators), or the
    /// findings that prevent it (422).
    pub async fn cloud_config(&self) -> Result<Value> {
        let view = self.director().await?;
        let config = view.settings.director_config();
        let findings: BTreeMap<String, Vec<String>> = config
            .validate()
            .into_iter()
            .filter(|f| f.severity == tiles::manifest_check::Severity::Error)
            .fold(BTreeMap::new(), |mut m, f| {
                m.entry(f.field).or_default().push(f.message);
                m
            });
        if !findings.is_empty() {
            return Err(Error::Rejected(findings));
        }
        let cloud = config
            .cloud_config()
            .and_then(|c| c.to_value())
            .map_err(|e| Error::invalid("cloud_config", e.to_string()))?;
        Ok(cloud)
    }
}

fn assignment_az(s: &DirectorSettings) -> Option<&str> {
    s.network_assignment
        .as_ref()?
        .get("singleton_availability_zone")?
        .get("name")?
        .as_str()
}

fn assignment_network(s: &DirectorSettings) -> Option<&str> {
    s.network_assignment
        .as_ref()?
        .get("network")?
        .get("name")?
        .as_str()
}

/// Checks one Director setting; `None` when acceptable.
/// What is wrong in the Director's Security or Syslog section (om's `security_configuration`
/// and `syslog_configuration`), per field; other sections are kept as given.
fn check_section(section: &str, fields: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let text = |key: &str| fields.get(key).and_then(Value::as_str).unwrap_or_default();
    let flag = |key: &str| fields.get(key).and_then(Value::as_bool).unwrap_or(false);
    let expect_bool = |key: &str, out: &mut Vec<(String, String)>| {
        if fields
            .get(key)
            .is_some_and(|v| !v.is_boolean() && !v.is_null())
        {
            out.push((key.to_owned(), "must be true or false".to_owned()));
        }
    };
    match section {
        "security_configuration" => {
            for key in [
                "generate_vm_passwords",
                "opsmanager_root_ca_trusted_certs",
                "clear_default_trusted_certificates_store",
            ] {
                expect_bool(key, &mut out);
            }
            match fields.get("trusted_certificates") {
                None | Some(Value::Null) => {}
                Some(Value::String(pem)) if pem.trim().is_empty() => {}
                Some(Value::String(pem)) => {
                    if let Err(e) = tiles::credentials::check_certificate_bundle(pem) {
                        out.push(("trusted_certificates".into(), e));
                    }
                }
                Some(_) => out.push((
                    "trusted_certificates".into(),
                    "expected PEM certificates as text".into(),
                )),
            }
        }
        "syslog_configuration" => {
            for key in ["enabled", "tls_enabled", "forward_debug_logs"] {
                expect_bool(key, &mut out);
            }
            if !flag("enabled") {
                return out;
            }
            if text("address").trim().is_empty() {
                out.push(("address".into(), tiles::validate::BLANK.into()));
            } else if !text("address")
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            {
                let bad = text("address");
                out.push((
                    "address".into(),
                    format!("'{bad}' is not a host name or IP address"),
                ));
            }
            let port = fields.get("port").and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
            if !matches!(port, Some(1..=65535)) {
                out.push(("port".into(), "must be a port from 1 to 65535".into()));
            }
            if !matches!(text("transport_protocol"), "tcp" | "udp" | "relp") {
                out.push((
                    "transport_protocol".into(),
                    "must be one of tcp, udp, relp".into(),
                ));
            }
            if flag("tls_enabled") {
                if text("transport_protocol") != "tcp" {
                    out.push((
                        "tls_enabled".into(),
                        "TLS needs the tcp transport protocol".into(),
                    ));
                }
                if text("permitted_peer").trim().is_empty() {
                    out.push(("permitted_peer".into(), tiles::validate::BLANK.into()));
                }
                match tiles::credentials::check_certificate_bundle(text("ssl_ca_certificate")) {
                    Ok(_) => {}
                    Err(_) if text("ssl_ca_certificate").trim().is_empty() => {
                        out.push(("ssl_ca_certificate".into(), tiles::validate::BLANK.into()))
                    }
                    Err(e) => out.push(("ssl_ca_certificate".into(), e)),
                }
            }
        }
        _ => {}
    }
    out
}

fn check_director_setting(key: &str, value: &Value) -> Option<String> {
    let positive = |v: &Value, min: i64| match tiles::properties::constraints::as_integer(v) {
        Some(n) if n >= min && !v.is_boolean() => None,
        _ if v.is_null() => None,
        _ => Some(format!("must be an integer of at least {min}")),
    };
    match key {
        "ntp_servers_string" => match value {
            Value::String(s) => {
                let servers = split_list(s);
                if servers.is_empty() {
                    return Some(tiles::validate::BLANK.into());
                }
                servers
                    .iter()
                    .find(|s| {
                        !s.chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
                    })
                    .map(|bad| format!("'{bad}' is not a host name or IP address"))
            }
            _ => Some("expected comma-separated host names or IP addresses".into()),
        },
        "resurrector_enabled" | "post_deploy_enabled" | "bosh_recreate_on_next_deploy" => {
            if value.is_boolean() {
                None
            } else {
                Some("must be true or false".into())
            }
        }
        "director_worker_instances" | "max_threads" => positive(value, 1),
        "canaries" => positive(value, 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn director_settings_checks() {
        assert!(
            check_director_setting("ntp_servers_string", &json!("0.pool.ntp.org, 10.0.0.1"))
                .is_none()
        );
        assert!(check_director_setting("ntp_servers_string", &json!("bad host")).is_some());
        assert!(check_director_setting("ntp_servers_string", &json!("")).is_some());
        assert!(check_director_setting("director_worker_instances", &json!(0)).is_some());
        assert!(check_director_setting("director_worker_instances", &json!("3")).is_none());
        assert!(check_director_setting("resurrector_enabled", &json!("yes")).is_some());
        assert!(check_director_setting("canaries", &json!(0)).is_none());
        assert!(check_director_setting("something_else", &json!("x")).is_none());
    }

    #[test]
    fn secret_keys() {
        assert!(is_secret_key("vcenter_password"));
        assert!(is_secret_key("secret_access_key"));
        assert!(is_secret_key("ssh_private_key"));
        assert!(!is_secret_key("vcenter_username"));
    }

    #[test]
    fn settings_become_a_valid_cloud_config() {
        let s = DirectorSettings {
            iaas: Iaas::Vsphere,
            iaas_configuration: m(json!({"datacenter": "dc1"})),
            azs: vec![AzSpec {
                guid: "az-1".into(),
                name: "az1".into(),
                fields: m(json!({"clusters": [{"cluster": "c1", "resource_pool": "rp"}]})),
            }],
            networks: vec![NetworkSpec {
                guid: "n".into(),
                name: "infra".into(),
                subnets: vec![SubnetSpec {
                    iaas_identifier: "VM Network".into(),
                    cidr: "10.0.0.0/24".into(),
                    dns: "8.8.8.8".into(),
                    gateway: "10.0.0.1".into(),
                    reserved_ip_ranges: "10.0.0.1-10.0.0.10".into(),
                    static_ip_ranges: String::new(),
                    availability_zone_names: vec!["az1".into()],
                }],
            }],
            ..Default::default()
        };
        let config = s.director_config();
        assert!(config.validate().is_empty(), "{:?}", config.validate());
        let cloud = config.cloud_config().unwrap().to_value().unwrap();
        assert_eq!(
            cloud["azs"][0]["cloud_properties"]["datacenters"][0]["clusters"][0]["c1"]
                ["resource_pool"],
            "rp"
        );
        assert_eq!(
            cloud["networks"][0]["subnets"][0]["cloud_properties"]["name"],
            "VM Network"
        );
        assert_eq!(cloud["vm_types"].as_array().unwrap().len(), 20);
        let problems = s.problems();
        assert!(problems.contains_key("iaas_configuration.vcenter_host"));
        assert!(problems.contains_key("network_and_az.network"));
    }

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }
}
