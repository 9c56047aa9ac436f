//! The products service: importing tiles, staging them, configuring them and judging whether
//! they are ready to deploy. The browser UI and the Ops Manager API both call this, so both see
//! the same rules, the same validation (from `tiles`) and the same optimistic concurrency.
//!
//! One file per concept:
//! - [`available`]: imported and bundled tiles (list, delete);
//! - [`import`]: streaming a `.pivotal` into the tile store and registering it;
//! - [`stage`]: putting a product on the dashboard, taking it off;
//! - [`upgrade`]: moving a staged product to a newer imported version, keeping its settings;
//! - [`preview`]: the tile `tileworks tile preview` serves, replaced in place at each save;
//! - [`commands`]: the typed requests of configuration writes (what the API and UI send);
//! - [`configure`]: properties, networks and AZs, resource config, max in flight, errands;
//! - [`changes`]: what a pending change consists of (Changes) and depends on (Depends on);
//! - [`completeness`]: a tile's state (deployable, incomplete, invalid) and pending changes;
//! - [`deployed`]: the deployed layer (snapshots), revert, and deletions staged for Apply Changes;
//! - [`director`]: the Director tile (IaaS, Director config, AZs, networks, VM/disk types);
//! - [`report`]: the diagnostic report om reads;
//! - [`certificate_authorities`]: the root CA and its rotation (generate, import, activate,
//!   regenerate the certificates it signed, delete), and the deployed certificates' expiry;
//! - [`certificates`]: certificates signed by the root CA on request (Generate, the API);
//! - [`field_changes`]: what a refused stale save tells its operator, field by field;
//! - [`guid`], [`versions`], [`secrets`]: GUIDs, version order, the split of credentials;
//! - [`vm_extensions`]: VM extensions (Director settings) and the jobs' references to them.
//!
//! **Concurrency.** Every staged product (and the Director) has a `config_version`. A write may
//! name the version it was based on (`expected`); if the stored version moved on, the write is
//! refused with [`Error::Stale`], which lists what the saves in between changed. A write without
//! a version (om sends none) is applied to the current version: it is stored guarded by the
//! version it read too, and when another write got in first it reads again and re-applies its
//! change ([`Products::retry_unversioned`]) — a retry on the stored version rather than a lock
//! in this process, so it stays correct when several servers share one database. Each write is
//! all or nothing: everything is validated first and stored in one transaction guarded by the
//! version.

pub mod available;
pub mod certificate_authorities;
pub mod certificates;
pub mod changes;
pub mod commands;
pub mod completeness;
pub mod configure;
pub mod deployed;
pub mod director;
pub mod director_manifest;
pub mod field_changes;
pub mod guid;
pub mod import;
pub mod job_specs;
pub mod pre_deploy;
pub mod preview;
pub mod report;
pub mod secrets;
pub mod stage;
pub mod upgrade;
pub mod verifiers;
pub mod versions;
pub mod vm_extensions;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tiles::credentials::CertificateAuthority;
use tiles::metadata::ProductTemplate;
use tiles::product_config::ErrandConfig;
use tiles::properties::StagedValues;

use crate::store::products::{StagedRow, Versioned};
use crate::store::sealing::Sealer;
use crate::store::Store;
use crate::{Error, Result};

pub use available::AvailableProduct;
pub use completeness::{Completeness, PendingChange, TileState};
pub use deployed::{
    ChangeAction, DeployedSnapshot, DeployedVersion, RevertOutcome, StagedDeletion, Unstaged,
};
pub use director::{
    AzSpec, DirectorSettings, NetworkSpec, SubnetSpec, VmTypeEntry, DIRECTOR_PRODUCT_NAME,
};
pub use import::{ImportLimits, ImportOutcome, Upload};
pub use stage::StagedSummary;

/// The settings of one staged product: the values the operator edits, in the shapes of the
/// Ops Manager API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductSettings {
    /// Property values (by reference) and per-job resource settings (instances, VM type,
    /// persistent disk, max in flight, extras).
    #[serde(default)]
    pub staged: StagedValues,
    /// `network`, `singleton_availability_zone`, `other_availability_zones`, `service_network`.
    #[serde(default)]
    pub networks_and_azs: Option<Value>,
    /// Errand rules by errand name (absent means the tile's default).
    #[serde(default)]
    pub errands: BTreeMap<String, ErrandConfig>,
    /// Job name → job GUID (`<job>-<20 hex>`), stable for the product's life.
    #[serde(default)]
    pub job_guids: BTreeMap<String, String>,
}

/// A staged product with everything needed to show or change it.
#[derive(Debug, Clone)]
pub struct StagedProduct {
    pub guid: String,
    pub name: String,
    pub version: String,
    pub label: String,
    pub config_version: i64,
    pub staged_at: String,
    pub template: Arc<ProductTemplate>,
    /// With credential values (opened from their sealed form).
    pub settings: ProductSettings,
    /// What is derived from its available product (the template above is its template).
    pub(crate) available: Arc<AvailableDerived>,
}

impl StagedProduct {
    /// The GUID of a job by name.
    pub fn job_guid(&self, job: &str) -> Option<&str> {
        self.settings.job_guids.get(job).map(String::as_str)
    }

    /// The job name of a job GUID.
    pub fn job_by_guid(&self, job_guid: &str) -> Option<&str> {
        self.settings
            .job_guids
            .iter()
            .find(|(_, g)| g.as_str() == job_guid)
            .map(|(name, _)| name.as_str())
    }
}

/// The result of a save: the new configuration version (send it back as `If-Match` or
/// `config_version` with the next write).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub config_version: i64,
}

/// How many times a write without an expected version is read again and re-applied after
/// losing the race to another write (see [`Products::retry_unversioned`]).
pub(crate) const UNVERSIONED_RETRIES: u32 = 32;

/// The products service. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Products {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    sealer: Sealer,
    /// Where imported tiles (and the Stemcell Library's tarballs) are kept: `crate::files`.
    files: crate::files::Files,
    /// `<data-dir>/tiles`: uploads spool here; the tiles themselves are kept (or, with an
    /// object store, cached) here.
    tiles_dir: PathBuf,
    limits: ImportLimits,
    /// Whether Tileworks drives its embedded Director stand-in: the Director tile may then use
    /// the `embedded` IaaS, and a fresh Director tile starts on it.
    embedded_director: bool,
    /// Whether the Director deploys to a simulated IaaS: the embedded stand-in, or the
    /// stand-in run on its own (`tileworks director`, whose `/info` names its simulated CPI).
    /// Verifiers then reach no IaaS endpoint or gateway: nothing deployed would touch them.
    simulated_iaas: std::sync::atomic::AtomicBool,
    /// Parsed templates by (name, version), each with the metadata text it was parsed from.
    templates: Mutex<HashMap<(String, String), CachedTemplate>>,
    /// What is derived from each available product's row, by (name, version), with the
    /// row's digest ([`AvailableDerived`]).
    derived: Mutex<HashMap<(String, String), Arc<AvailableDerived>>>,
    /// The active CA, opened; also serialises its creation.
    ca: tokio::sync::Mutex<Option<CertificateAuthority>>,
    /// The installation running now, if any: configuration writes wait for it to end (they are
    /// refused), so an apply deploys exactly what it validated.
    applying: Mutex<Option<i64>>,
    /// Closes the gap between validating an apply and marking it running: every configuration
    /// write holds a read guard from its `applying` check to its last store write
    /// ([`Products::begin_write`]); an apply holds the write guard while it validates, creates
    /// its installation row and sets `applying` ([`Products::claim_for_apply`]). A write is
    /// thus either finished before the apply validates, or refused with 409 after it.
    write_gate: Arc<tokio::sync::RwLock<()>>,
}

/// A parsed template and the metadata text it came from (a name and version deleted and
/// imported again may have other metadata).
struct CachedTemplate {
    metadata: Box<str>,
    template: Arc<ProductTemplate>,
}

/// What the server derives from one available product's stored row, kept while the row is the
/// same: its content digest (`sha256`: of the `.pivotal` file, or of a bundled tile's
/// metadata) says so without reading the 169 KB of metadata and the job specs that every page
/// of a staged product would otherwise copy out of the database and parse again.
#[derive(Debug)]
pub(crate) struct AvailableDerived {
    sha256: Box<str>,
    pub label: String,
    pub template: Arc<ProductTemplate>,
    /// The lint warnings the import kept.
    pub lint_warnings: Vec<String>,
    /// The job specs the import read from the tile's release tarballs.
    imported_specs: tiles::job_specs::JobSpecs,
    /// The job-spec check of the template (`tiles::job_specs::check_template`), made on first
    /// need.
    job_spec_warnings: std::sync::OnceLock<Vec<String>>,
}

impl AvailableDerived {
    /// The specs the product's manifests are checked against: the bundled tiles' summaries,
    /// then the tarballs its tile carried (which win).
    pub fn job_specs(&self) -> tiles::job_specs::JobSpecs {
        let mut specs = tiles::products::bundled_job_specs();
        specs.extend(self.imported_specs.clone());
        specs
    }

    /// The job-spec findings of the template's job templates, one sentence each.
    pub fn job_spec_warnings(&self) -> &[String] {
        self.job_spec_warnings.get_or_init(|| {
            tiles::job_specs::check_template(&self.template, &self.job_specs())
                .findings
                .into_iter()
                .map(|f| f.message)
                .collect()
        })
    }
}

/// Held by a configuration write from its check to its last store write (see
/// [`Products::begin_write`]).
#[must_use = "the write is only protected while the guard is held"]
pub struct WriteGuard {
    _guard: tokio::sync::OwnedRwLockReadGuard<()>,
    /// The same across replicas (PostgreSQL): `store::write_gate`.
    _shared: Option<crate::store::write_gate::WriteGateLock>,
}

/// Held by Apply Changes while it validates and starts an installation (see
/// [`Products::claim_for_apply`]); configuration writes wait until it is dropped.
#[must_use = "writes are only held back while the claim is held"]
pub struct ApplyClaim {
    _guard: tokio::sync::OwnedRwLockWriteGuard<()>,
    /// The same across replicas (PostgreSQL): `store::write_gate`.
    _exclusive: Option<crate::store::write_gate::WriteGateLock>,
}

impl std::fmt::Debug for Products {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Products")
            .field("tiles_dir", &self.inner.tiles_dir)
            .finish()
    }
}

impl Products {
    /// Opens the service on a data dir with the data key's sealer (`crate::passphrase`: known
    /// only once unlocked): creates the tile store folder `<data-dir>/tiles`, registers the
    /// bundled tiles and the Director tile.
    /// `embedded_director` says whether Tileworks drives its embedded Director stand-in.
    pub async fn open(
        store: Store,
        data_dir: &Path,
        sealer: Sealer,
        embedded_director: bool,
    ) -> Result<Products> {
        let limits = ImportLimits::default();
        let files = crate::files::Files::local(data_dir);
        Self::open_with(store, files, sealer, limits, embedded_director).await
    }

    /// Like [`open`](Self::open), with the files where `files` keeps them (the data dir or an
    /// object store, `crate::files`) and these import limits.
    pub async fn open_with(
        store: Store,
        files: crate::files::Files,
        sealer: Sealer,
        limits: ImportLimits,
        embedded_director: bool,
    ) -> Result<Products> {
        let tiles_dir = files.dir(crate::files::Folder::Tiles);
        crate::store::create_private_dir(&tiles_dir)?;
        import::remove_stale_uploads(&tiles_dir);
        let products = Products {
            inner: Arc::new(Inner {
                store,
                sealer,
                files,
                tiles_dir,
                limits,
                embedded_director,
                simulated_iaas: Default::default(),
                templates: Mutex::new(HashMap::new()),
                derived: Mutex::new(HashMap::new()),
                ca: tokio::sync::Mutex::new(None),
                applying: Mutex::new(None),
                write_gate: Arc::new(tokio::sync::RwLock::new(())),
            }),
        };
        products.register_bundled().await?;
        products.ensure_director().await?;
        Ok(products)
    }

    /// Whether Tileworks drives its embedded Director stand-in (the `embedded` IaaS is offered).
    pub fn embedded_director(&self) -> bool {
        self.inner.embedded_director
    }

    /// Whether the Director's IaaS is simulated ([`Inner::simulated_iaas`]).
    pub fn simulated_iaas(&self) -> bool {
        self.inner.embedded_director
            || self
                .inner
                .simulated_iaas
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records that the Director's IaaS is simulated (its `/info` says so).
    pub fn set_simulated_iaas(&self, simulated: bool) {
        self.inner
            .simulated_iaas
            .store(simulated, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// `<data-dir>/tiles`: where imported `.pivotal` files are kept (with an object store,
    /// this replica's cache of them).
    pub fn tiles_dir(&self) -> &Path {
        &self.inner.tiles_dir
    }

    /// Where files are kept: the data dir, or an object store (`crate::files`).
    pub fn files(&self) -> &crate::files::Files {
        &self.inner.files
    }

    pub fn limits(&self) -> &ImportLimits {
        &self.inner.limits
    }

    /// The parsed template of an available product (cached). An entry is used only for the
    /// same metadata text: a name and version deleted and imported again may bring other
    /// metadata, and a cache keyed by name and version alone kept validating with the old one.
    pub(crate) fn template_of(
        &self,
        name: &str,
        version: &str,
        metadata: &str,
    ) -> Result<Arc<ProductTemplate>> {
        let key = (name.to_owned(), version.to_owned());
        if let Some(cached) = self.lock_templates().get(&key) {
            if *cached.metadata == *metadata {
                return Ok(cached.template.clone());
            }
        }
        let template = ProductTemplate::from_yaml(metadata).map_err(|e| {
            Error::Internal(format!(
                "stored metadata of {name} {version} does not load: {e}"
            ))
        })?;
        let template = Arc::new(template);
        self.lock_templates().insert(
            key,
            CachedTemplate {
                metadata: metadata.into(),
                template: template.clone(),
            },
        );
        Ok(template)
    }

    fn lock_templates(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String), CachedTemplate>> {
        // A poisoned cache is still a valid cache: entries are inserted whole.
        self.inner
            .templates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What is derived from the available product `name` `version` ([`AvailableDerived`]):
    /// from the cache while the stored row's digest is the one it was made from (one small
    /// query), else read, parsed and kept.
    pub(crate) async fn available_derived(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Arc<AvailableDerived>> {
        let missing = || Error::NotFound(format!("product {name} {version}"));
        let (_, sha256) = self
            .store()
            .products()
            .available_head(name, version)
            .await?
            .ok_or_else(missing)?;
        let key = (name.to_owned(), version.to_owned());
        if let Some(hit) = self.lock_derived().get(&key) {
            if *hit.sha256 == *sha256 {
                return Ok(hit.clone());
            }
        }
        let row = self
            .store()
            .products()
            .available_one(name, version)
            .await?
            .ok_or_else(missing)?;
        let template = self.template_of(&row.name, &row.version, &row.metadata)?;
        let lint_warnings = row
            .lint_warnings
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        let derived = Arc::new(AvailableDerived {
            sha256: row.sha256.as_str().into(),
            imported_specs: job_specs::ImportedJobSpecs::of_row(&row).specs,
            label: row.label,
            template,
            lint_warnings,
            job_spec_warnings: std::sync::OnceLock::new(),
        });
        self.lock_derived().insert(key, derived.clone());
        Ok(derived)
    }

    fn lock_derived(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, String), Arc<AvailableDerived>>> {
        // Entries are inserted whole: a poisoned map is still a valid cache.
        self.inner
            .derived
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The template of an available product by name and version.
    pub async fn available_template(
        &self,
        name: &str,
        version: &str,
    ) -> Result<Arc<ProductTemplate>> {
        Ok(self
            .available_derived(name, version)
            .await?
            .template
            .clone())
    }

    /// The installation's root CA: the active certificate authority
    /// ([`certificate_authorities`]), generated (4 years, RSA 2048) on first need and stored with
    /// its private key sealed.
    pub async fn root_ca(&self) -> Result<CertificateAuthority> {
        let mut cached = self.inner.ca.lock().await;
        if let Some(ca) = cached.as_ref() {
            return Ok(ca.clone());
        }
        let cas = self.store().certificate_authorities();
        let row = match cas.active().await? {
            Some(row) => row,
            None => {
                let row = self
                    .new_certificate_authority("Tileworks Root Certificate Authority", true)
                    .await?;
                if cas.insert(&row).await? {
                    row
                } else {
                    // Another server sharing the database made the first one.
                    cas.active()
                        .await?
                        .ok_or_else(|| Error::Internal("no active certificate authority".into()))?
                }
            }
        };
        let ca = self.open_certificate_authority(&row)?;
        *cached = Some(ca.clone());
        Ok(ca)
    }

    /// Forgets the cached root CA (after another CA was activated).
    pub(crate) async fn forget_root_ca(&self) {
        *self.inner.ca.lock().await = None;
    }

    /// A staged product by GUID (not the Director tile; see [`director`]).
    pub async fn staged_product(&self, guid: &str) -> Result<StagedProduct> {
        let row = self
            .store()
            .products()
            .staged_one(guid)
            .await?
            .ok_or_else(|| Error::NotFound(format!("staged product '{guid}'")))?;
        self.load_staged(row).await
    }

    /// Every staged product, loaded (in the store's order).
    pub async fn staged_all(&self) -> Result<Vec<StagedProduct>> {
        let mut all = Vec::new();
        for row in self.store().products().staged().await? {
            all.push(self.load_staged(row).await?);
        }
        Ok(all)
    }

    pub(crate) async fn load_staged(&self, row: StagedRow) -> Result<StagedProduct> {
        let available = match self.available_derived(&row.name, &row.version).await {
            Ok(available) => available,
            Err(Error::NotFound(_)) => {
                return Err(Error::Internal(format!(
                    "staged product {} {} has no available product",
                    row.name, row.version
                )))
            }
            Err(e) => return Err(e),
        };
        let template = available.template.clone();
        let mut settings: ProductSettings = serde_json::from_str(&row.config)
            .map_err(|e| Error::Internal(format!("staged config of {}: {e}", row.guid)))?;
        if let Some(sealed) = &row.secrets {
            let opened = self.sealer().open_json(sealed)?;
            secrets::merge(&mut settings.staged, opened);
        }
        Ok(StagedProduct {
            guid: row.guid,
            name: row.name,
            version: row.version,
            label: available.label.clone(),
            config_version: row.config_version,
            staged_at: row.staged_at,
            template,
            settings,
            available,
        })
    }

    /// The JSON text and sealed secrets to store for `settings`.
    pub(crate) fn seal_settings(
        &self,
        template: &ProductTemplate,
        settings: &ProductSettings,
    ) -> Result<(String, Option<Vec<u8>>)> {
        let mut open = settings.clone();
        let hidden = secrets::split(template, &mut open.staged);
        let config = serde_json::to_string(&open)
            .map_err(|e| Error::Internal(format!("encoding staged config: {e}")))?;
        let sealed = if hidden.as_object().is_some_and(|m| m.is_empty()) {
            None
        } else {
            Some(self.sealer().seal_json(&hidden)?)
        };
        Ok((config, sealed))
    }

    /// Checks `expected` against the product's version before any work is done.
    pub(crate) async fn check_version(
        &self,
        subject: &str,
        label: &str,
        current: i64,
        expected: Option<i64>,
    ) -> Result<()> {
        match expected {
            Some(e) if e != current => Err(Error::Stale {
                subject: label.to_owned(),
                expected: e,
                current,
                changed: self.store().products().changes_since(subject, e).await?,
            }),
            _ => Ok(()),
        }
    }

    /// [`check_version`](Self::check_version) for a staged product.
    pub(crate) async fn check_staged_version(
        &self,
        product: &StagedProduct,
        expected: Option<i64>,
    ) -> Result<()> {
        self.check_version(
            &product.guid,
            &product.label,
            product.config_version,
            expected,
        )
        .await
    }

    /// After a write without an expected version lost the race to another write (the store
    /// answered [`Error::Stale`]): whether to read again and re-apply it, after a short, jittered
    /// pause. `attempt` counts the retries so far; after [`UNVERSIONED_RETRIES`] the write gives
    /// up with the 409 (only under sustained contention on one product).
    pub(crate) async fn retry_unversioned(
        result: &Result<Saved>,
        expected: Option<i64>,
        attempt: &mut u32,
    ) -> bool {
        use rand::Rng;
        if expected.is_some()
            || !matches!(result, Err(Error::Stale { .. }))
            || *attempt >= UNVERSIONED_RETRIES
        {
            return false;
        }
        *attempt += 1;
        let most = 2 * u64::from((*attempt).min(10));
        let pause = rand::thread_rng().gen_range(0..=most);
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        true
    }

    /// Records which installation is running (`None` when it ended). While one runs, every
    /// configuration write is refused with [`Error::InstallationRunning`].
    pub fn set_applying(&self, installation: Option<i64>) {
        *self
            .inner
            .applying
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = installation;
    }

    /// Starts a configuration write: waits while an apply is validating (a short wait), then
    /// refuses with [`Error::InstallationRunning`] while an installation runs. Hold the guard
    /// until the write is stored. Writes do not nest (none calls another gated write), so the
    /// read guards cannot deadlock behind a waiting apply.
    pub(crate) async fn begin_write(&self) -> Result<WriteGuard> {
        let guard = self.inner.write_gate.clone().read_owned().await;
        let shared = self.inner.store.hold_for_write().await?;
        self.ensure_not_applying().await?;
        Ok(WriteGuard {
            _guard: guard,
            _shared: shared,
        })
    }

    /// For Apply Changes: waits until the configuration writes in flight are stored and holds
    /// new ones back until the claim is dropped, by which time the installation either runs
    /// ([`Products::set_applying`]) or was refused.
    pub async fn claim_for_apply(&self) -> Result<ApplyClaim> {
        let guard = self.inner.write_gate.clone().write_owned().await;
        let exclusive = self.inner.store.hold_for_apply().await?;
        Ok(ApplyClaim {
            _guard: guard,
            _exclusive: exclusive,
        })
    }

    /// The installation running now, if any.
    pub fn applying(&self) -> Option<i64> {
        *self
            .inner
            .applying
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Refuses a configuration write while an installation runs, on this replica or on another
    /// sharing the database (its running row is the lock: `crate::installations::lease`). A
    /// check without holding the gate: for refusing early, e.g. before a long upload;
    /// [`Products::begin_write`] is the guarded form.
    pub(crate) async fn ensure_not_applying(&self) -> Result<()> {
        if let Some(id) = self.applying() {
            return Err(Error::InstallationRunning(id));
        }
        match self.inner.store.installations().running_id().await? {
            Some(id) => Err(Error::InstallationRunning(id)),
            None => Ok(()),
        }
    }

    /// Stores new settings for a staged product, guarded by its version; `changed` is what the
    /// save changes (for the change log).
    pub(crate) async fn save_staged(
        &self,
        product: &StagedProduct,
        version: &str,
        template: &ProductTemplate,
        settings: &ProductSettings,
        changed: &[String],
        actor: &str,
    ) -> Result<Saved> {
        let _write = self.begin_write().await?;
        let (config, sealed) = self.seal_settings(template, settings)?;
        // Logged as finely as the settings allow, with the values before (credentials never).
        let before = field_changes::Fields::product(&product.template, &product.settings);
        let changed = before.refine(&field_changes::placement_view(template, settings), changed);
        let previous = before.previous(&changed);
        let outcome = self
            .store()
            .products()
            .update_staged(
                &product.guid,
                product.config_version,
                version,
                &config,
                sealed.as_deref(),
                &changed,
                &previous,
                actor,
            )
            .await?;
        match outcome {
            Versioned::Saved(config_version) => Ok(Saved { config_version }),
            Versioned::Stale { current } => Err(Error::Stale {
                subject: product.label.clone(),
                expected: product.config_version,
                current,
                changed: self
                    .store()
                    .products()
                    .changes_since(&product.guid, product.config_version)
                    .await?,
            }),
            Versioned::Missing => Err(Error::NotFound(format!(
                "staged product '{}'",
                product.guid
            ))),
        }
    }

    /// Names of the staged products (for `conditional_default`).
    pub(crate) async fn present_products(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = self
            .store()
            .products()
            .staged()
            .await?
            .into_iter()
            .map(|r| r.name)
            .collect();
        names.push(DIRECTOR_PRODUCT_NAME.to_owned());
        Ok(names)
    }

    /// Fills generated credentials (once; existing values stay) using the root CA.
    pub(crate) async fn fill_generated(
        &self,
        template: &ProductTemplate,
        staged: &mut StagedValues,
    ) -> Result<()> {
        let ca = self.root_ca().await?;
        let now = crate::store::unix_now();
        tiles::credentials::fill_generated_with_os_rng(template, staged, &ca, now)
            .map_err(|e| Error::Internal(format!("generating credentials: {e}")))?;
        Ok(())
    }
}
