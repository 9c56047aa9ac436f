//! `tileworks tile render PATH --config product.yml [--director director.yml]`: the BOSH
//! manifest Tileworks would deploy, without a server.
//!
//! The steps are the server's: the configure-product file is staged onto the metadata
//! (`tiles::product_config::stage`), every property and job is validated
//! (`tiles::validate::validate_product`), the product is rendered (`tiles::render`) and the
//! manifest is checked against the cloud config with the Director's rules. Any problem is printed
//! per property reference (or manifest field) and the command exits 1.
//!
//! Credentials the operator does not set and Ops Manager would generate are generated here as
//! Ops Manager generates them before a deploy (`offline_credentials`): random, or the same on
//! every run with `--seed N`, or taken from `--credentials FILE`; every accessor then renders.
//! With `--bosh-variables` (implied by `--root-ca-placeholder`) they are declared as BOSH
//! variables instead, `((placeholders))` the Director (CredHub) fills at deploy time; accessors
//! without a BOSH equivalent (`public_key_fingerprint`…) cannot render that way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;
use tiles::cloud_config::DirectorConfig;
use tiles::metadata::ProductTemplate;
use tiles::product_config::{stage, ProductConfig};
use tiles::render::{
    product_guid, render_product, validate_rendered, NetworkAssignment, OfflineOptions,
    OtherProduct, RenderContext,
};
use tiles::validate::{validate_product, ValidationContext, VmType};

use super::offline_credentials::OfflineCredentials;
use super::{read_tile, EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE};
use crate::tile_archive::read_text_file;

/// The Director hostname `$director.hostname` reads when none is given.
const DEFAULT_DIRECTOR_HOSTNAME: &str = "bosh.tileworks.internal";

/// Configuration files are small; anything bigger is a mistake.
const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Args)]
#[command(after_long_help = DIRECTOR_HELP)]
pub struct RenderArgs {
    /// A metadata .yml, a tile folder or a .pivotal.
    pub path: PathBuf,
    /// The product's configuration in om's configure-product format (product-name,
    /// product-properties, network-properties, resource-config, errand-config).
    #[arg(long, value_name = "product.yml")]
    pub config: PathBuf,
    /// The Director to render for (AZs, networks, VM and disk types; see below). Without it,
    /// an offline Director with the AZs and networks the config's network-properties name.
    #[arg(long, value_name = "director.yml")]
    pub director: Option<PathBuf>,
    /// What `$director.hostname` reads.
    #[arg(long, default_value = DEFAULT_DIRECTOR_HOSTNAME)]
    pub director_hostname: String,
    /// Do not generate a root CA: certificates refer to the CredHub CA `/tileworks/root_ca`
    /// and the output is the same on every run. Implies --bosh-variables.
    #[arg(long)]
    pub root_ca_placeholder: bool,
    /// Generate credentials from this seed (and date certificates 2026-01-01), so the
    /// manifest is the same on every run.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Credential values to use instead of generated ones: YAML, property reference → value
    /// (see below).
    #[arg(long, value_name = "credentials.yml")]
    pub credentials: Option<PathBuf>,
    /// Leave generated credentials to the Director: declare them as BOSH variables
    /// (`((name))` placeholders) instead of generating them.
    #[arg(long)]
    pub bosh_variables: bool,
    /// Another product staged beside this one, for its `..PRODUCT.` references (a service
    /// tile's `..cf.`): its tile (metadata .yml, folder or .pivotal) and its configure-product
    /// file. Repeatable.
    #[arg(long, num_args = 2, value_names = ["TILE", "product.yml"])]
    pub other_product: Vec<PathBuf>,
    /// Check the manifest against its releases' job specs (the tarballs the tile ships, the
    /// bundled tiles' summaries, --job-specs files): properties a job's spec does not declare
    /// (BOSH ignores them) and jobs a release lacks are printed as warnings.
    #[arg(long)]
    pub check: bool,
    /// With --check: job-spec findings make the command fail (exit 1).
    #[arg(long, requires = "check")]
    pub strict: bool,
    /// With --check: a job spec summary file to check against (repeatable; see `tile lint`).
    #[arg(long, value_name = "job-specs.yml", requires = "check")]
    pub job_specs: Vec<PathBuf>,
}

const DIRECTOR_HELP: &str = "\
director.yml describes the Director as Tileworks's Director settings do (YAML):

  iaas: vsphere                 # vsphere | aws | gcp | azure | openstack (default vsphere)
  azs:
  - name: az1
    cloud_properties: {}        # IaaS placement, passed through
  networks:
  - name: pks-network
    subnets:
    - cidr: 10.0.1.0/24
      gateway: 10.0.1.1
      dns: [8.8.8.8]
      reserved: [10.0.1.2-10.0.1.9]   # never handed out
      static: [10.0.1.10-10.0.1.50]   # usable as static IPs
      azs: [az1]
      cloud_properties: {}      # e.g. vSphere {name: VM Network}
  vm_types:                     # optional; default: Ops Manager's catalogue
  - {name: large, cpu: 2, ram: 8192, ephemeral_disk: 32768}
  disk_types:                   # optional; default: Ops Manager's sizes (MB)
  - {disk_size: 10240}
  vm_extensions: []             # optional
  compilation: {workers: 4, vm_type: large, az: az1, network: pks-network}

The config's network-properties must name AZs and networks defined here; without
network-properties the first AZ and the first network are used.

credentials.yml gives credentials the tile generates (YAML; property reference → value in
the API's shape; a secret may be a plain string; a salt is made when missing):

  .properties.encryption_key: s3cret
  .web_server.admin: {identity: admin, password: pa55word}
  .properties.ssh_key: {private_key_pem: \"-----BEGIN RSA PRIVATE KEY-----\\n...\"}
  root_ca: {cert_pem: ..., private_key_pem: ...}   # signs generated certificates

Credentials neither given nor configured are generated (random; with --seed N the same on
every run) unless --bosh-variables leaves them to the Director.

Exit codes: 0 the manifest was printed; 1 the configuration is not valid (errors per
property reference) or the manifest breaks the Director's rules; 2 an input is unreadable.";

pub fn run(args: &RenderArgs) -> u8 {
    let tile = match read_tile(&args.path) {
        Ok(tile) => tile,
        Err(code) => return code,
    };
    let template = match ProductTemplate::from_yaml(&tile.metadata) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", tile.metadata_path);
            eprintln!("(`tileworks tile lint` explains what is wrong with the metadata)");
            return EXIT_PROBLEMS;
        }
    };
    let config = match read_config(&args.config) {
        Ok(config) => config,
        Err(code) => return code,
    };
    if config.product_name != template.name {
        eprintln!(
            "error: {}: product-name '{}' is not this tile's product '{}'",
            args.config.display(),
            config.product_name,
            template.name
        );
        return EXIT_PROBLEMS;
    }
    if let Some(version) = &config.product_version {
        if *version != template.product_version {
            eprintln!(
                "warning: {}: product-version {version} differs from the tile's {}",
                args.config.display(),
                template.product_version
            );
        }
    }

    let bosh_variables = args.bosh_variables || args.root_ca_placeholder;
    let mut credentials = if bosh_variables && args.credentials.is_none() {
        None
    } else {
        match OfflineCredentials::new(
            &template,
            args.seed,
            args.credentials.as_deref(),
            time_now(),
        ) {
            Ok(c) => Some(c),
            Err(code) => return code,
        }
    };
    let root_ca_pem = if args.root_ca_placeholder {
        None
    } else if let Some(c) = &credentials {
        Some(c.ca.cert_pem.clone())
    } else {
        match generate_root_ca() {
            Ok(pem) => Some(pem),
            Err(code) => return code,
        }
    };
    let mut ctx = match context(args, &template, &config, root_ca_pem) {
        Ok(ctx) => ctx,
        Err(code) => return code,
    };
    for pair in args.other_product.chunks(2) {
        let [tile, config] = pair else { continue };
        match other_product(tile, config, credentials.as_mut()) {
            Ok(other) => {
                ctx.products.insert(other.template.name.clone(), other);
            }
            Err(code) => return code,
        }
    }

    let (mut staged, mut report) = stage(&template, &config);
    if let Some(c) = credentials.as_mut() {
        c.apply_given(&template, &mut staged);
    }
    let vm_types: Vec<VmType> = ctx
        .director
        .config
        .effective_vm_types()
        .into_iter()
        .map(|v| VmType {
            name: v.name,
            ram: i64::from(v.ram),
            cpu: i64::from(v.cpu),
            ephemeral_disk: i64::from(v.ephemeral_disk),
        })
        .collect();
    let validation = validate_product(
        &template,
        &staged,
        &ValidationContext {
            deployed: None,
            present_products: &[],
            vm_types: &vm_types,
        },
    );
    for (reference, messages) in validation.errors {
        let list = report.errors.entry(reference).or_default();
        for m in messages {
            if !list.contains(&m) {
                list.push(m);
            }
        }
    }
    for (reference, messages) in &validation.metadata_problems {
        for m in messages {
            eprintln!("warning: metadata: {reference}: {m}");
        }
    }
    if !report.errors.is_empty() {
        print_errors(
            &format!(
                "{} is not valid for {} {}",
                args.config.display(),
                template.name,
                template.product_version
            ),
            &report.errors,
        );
        return EXIT_PROBLEMS;
    }

    let mut generated = Vec::new();
    if let (Some(c), false) = (credentials.as_mut(), bosh_variables) {
        generated = match c.generate(&template, &mut staged) {
            Ok(g) => g,
            Err(code) => return code,
        };
    }

    let rendered = match render_product(&template, &staged, &ctx) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot render {}: {e}", template.name);
            if let Some(product) = other_product_named(&e.to_string()) {
                eprintln!(
                    "hint: `..{product}.` reads the product `{product}` staged beside this one; \
                     give it with --other-product {product}-TILE {product}-CONFIG.yml"
                );
            }
            return EXIT_PROBLEMS;
        }
    };
    print!("{}", rendered.to_yaml());
    if !rendered.deploys() {
        eprintln!(
            "note: no instance groups: Apply Changes deploys no manifest for this tile, only its \
             {} runtime config(s)",
            rendered.runtime_configs.len()
        );
    }

    if !generated.is_empty() {
        eprintln!(
            "note: {} credential(s) generated for this render{}: {}",
            generated.len(),
            if args.seed.is_some() {
                " from the seed"
            } else {
                " (random; --seed N or --credentials FILE keep them stable)"
            },
            generated.join(", ")
        );
    }
    if !rendered.placeholders.is_empty() {
        eprintln!(
            "note: {} generated credential(s) are BOSH variables the Director generates: {}",
            rendered.placeholders.len(),
            rendered.placeholders.join(", ")
        );
    }
    let findings = validate_rendered(&rendered, &ctx.director.cloud_config);
    let mut errors = 0;
    if args.check {
        let specs = match super::job_specs(&args.path, &tile, &args.job_specs) {
            Ok(specs) => specs,
            Err(code) => return code,
        };
        let report = tiles::job_specs::check_manifest(&rendered.manifest, &specs);
        let file = super::lint::metadata_file(&args.path, &tile);
        let positions = tiles::yaml::load_indexed(&tile.metadata, &Default::default())
            .map(|(_, _, positions)| positions)
            .unwrap_or_default();
        for f in &report.findings {
            let place = metadata_place(f, &template, &positions, &tile.metadata)
                .map(|p| format!("{file}:{}:{}", p.line, p.column))
                .unwrap_or_else(|| file.clone());
            eprintln!("{}", spec_finding_line(f, &place));
        }
        if !report.unchecked.is_empty() {
            eprintln!(
                "note: no job specs for {}: their jobs were not checked",
                report.unchecked_summary()
            );
        }
        if args.strict && !report.findings.is_empty() {
            eprintln!(
                "error: {} job-spec finding(s) (--strict)",
                report.findings.len()
            );
            errors += report.findings.len();
        }
    }
    for f in &findings {
        let severity = match f.severity {
            tiles::manifest_check::Severity::Error => {
                errors += 1;
                "error"
            }
            tiles::manifest_check::Severity::Warning => "warning",
        };
        eprintln!("{severity}: manifest {}: {}", f.field, f.message);
    }
    if errors > 0 {
        eprintln!("error: the manifest breaks {errors} Director rule(s)");
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}

/// A job-spec finding of the rendered manifest as lint words findings: `place` (the metadata
/// file, and the line that sets the property or names the job when known), the manifest path,
/// the rule and the message.
fn spec_finding_line(f: &tiles::job_specs::SpecFinding, place: &str) -> String {
    use tiles::job_specs::SpecFindingKind;
    let rule = match &f.kind {
        SpecFindingKind::UndeclaredProperty { .. } => tiles::lint::rules::JOB_SPEC_PROPERTY,
        SpecFindingKind::MissingJob { .. } => tiles::lint::rules::JOB_SPEC_JOB,
    };
    format!("{place}: {}: warning[{rule}]: {}", f.at, f.message)
}

/// Where the metadata writes what `f` is about: the job type's template of that job, its
/// manifest key when written there. Only for an instance group's job (an addon's come from
/// runtime configs and are not traced back).
fn metadata_place(
    f: &tiles::job_specs::SpecFinding,
    template: &ProductTemplate,
    positions: &tiles::yaml::Positions,
    metadata: &str,
) -> Option<tiles::yaml::Position> {
    use tiles::job_specs::SpecFindingKind;
    let group = f.at.strip_prefix("instance_groups[")?.split(']').next()?;
    let i = template.job_types.iter().position(|j| j.name == group)?;
    let j = template.job_types[i]
        .templates
        .iter()
        .position(|t| t.name == f.job)?;
    let at = format!("job_types[{i}].templates[{j}]");
    match &f.kind {
        SpecFindingKind::UndeclaredProperty { property, .. } => {
            let key = property.rsplit('.').next().map(|k| format!("{k}:"));
            positions.locate(&format!("{at}.manifest"), key.as_deref(), metadata)
        }
        SpecFindingKind::MissingJob { .. } => {
            positions.locate(&format!("{at}.name"), None, metadata)
        }
    }
}

/// A product staged beside the rendered one: its tile and configuration, validated the same
/// way, its generated credentials generated (or left empty with --bosh-variables).
fn other_product(
    tile: &Path,
    config_path: &Path,
    credentials: Option<&mut OfflineCredentials>,
) -> Result<OtherProduct, u8> {
    let contents = read_tile(tile)?;
    let template = ProductTemplate::from_yaml(&contents.metadata).map_err(|e| {
        eprintln!("error: {}: {e}", contents.metadata_path);
        EXIT_PROBLEMS
    })?;
    let config = read_config(config_path)?;
    if config.product_name != template.name {
        eprintln!(
            "error: {}: product-name '{}' is not the product of {} ('{}')",
            config_path.display(),
            config.product_name,
            tile.display(),
            template.name
        );
        return Err(EXIT_PROBLEMS);
    }
    let (mut staged, report) = stage(&template, &config);
    if !report.errors.is_empty() {
        print_errors(
            &format!(
                "{} is not valid for {}",
                config_path.display(),
                template.name
            ),
            &report.errors,
        );
        return Err(EXIT_PROBLEMS);
    }
    if let Some(c) = credentials {
        c.generate(&template, &mut staged)?;
    }
    Ok(OtherProduct {
        guid: product_guid(&template.name, b"tileworks-offline"),
        template,
        staged,
        network: None,
        staged_at: String::new(),
    })
}

fn read_config(path: &Path) -> Result<ProductConfig, u8> {
    let text = read_text_file(path, MAX_CONFIG_BYTES).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_UNREADABLE
    })?;
    ProductConfig::from_yaml(&text).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        EXIT_PROBLEMS
    })
}

/// The render context: the given Director, or the offline default one.
fn context(
    args: &RenderArgs,
    template: &ProductTemplate,
    config: &ProductConfig,
    root_ca_pem: Option<String>,
) -> Result<RenderContext, u8> {
    let mut ctx = match &args.director {
        None => RenderContext::offline_default(
            &template.name,
            &OfflineOptions {
                director_hostname: args.director_hostname.clone(),
                root_ca_pem,
                network_properties: config.network_properties.clone(),
                guid_suffix: None,
            },
        )
        .map_err(|e| {
            eprintln!("error: {}: {e}", args.config.display());
            EXIT_PROBLEMS
        })?,
        Some(path) => director_context(path, args, template, config, root_ca_pem)?,
    };
    ctx.errands = config.errand_config.clone();
    Ok(ctx)
}

fn director_context(
    path: &Path,
    args: &RenderArgs,
    template: &ProductTemplate,
    config: &ProductConfig,
    root_ca_pem: Option<String>,
) -> Result<RenderContext, u8> {
    let text = read_text_file(path, MAX_CONFIG_BYTES).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_UNREADABLE
    })?;
    let director = tiles::yaml::load(&text)
        .and_then(|v| DirectorConfig::from_value(&v))
        .map_err(|e| {
            eprintln!("error: {}: {e}", path.display());
            EXIT_PROBLEMS
        })?;
    let findings = director.validate();
    if tiles::manifest_check::has_errors(&findings) {
        for f in &findings {
            eprintln!("error: {}: {}: {}", path.display(), f.field, f.message);
        }
        return Err(EXIT_PROBLEMS);
    }
    let network = match &config.network_properties {
        Some(v) => NetworkAssignment::from_om(v).map_err(|e| {
            eprintln!("error: {}: {e}", args.config.display());
            EXIT_PROBLEMS
        })?,
        None => {
            let az = director
                .azs
                .first()
                .map(|a| a.name.clone())
                .unwrap_or_default();
            let net = director
                .networks
                .first()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            NetworkAssignment {
                singleton_availability_zone: az.clone(),
                availability_zones: vec![az],
                network: net.clone(),
                service_network: Some(net),
            }
        }
    };
    check_network_names(&director, &network, path)?;
    let guid = product_guid(&template.name, b"tileworks-offline");
    let mut ctx = RenderContext::new(guid, director, network).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        EXIT_PROBLEMS
    })?;
    let ca = root_ca_pem
        .unwrap_or_else(|| format!("(({}.certificate))", ctx.ops_manager.root_ca_variable));
    ctx.ops_manager
        .accessors
        .insert("ca_certificate".into(), Value::String(ca.clone()));
    let d = &mut ctx.director.accessors;
    d.insert(
        "hostname".into(),
        Value::String(args.director_hostname.clone()),
    );
    d.insert("ca_public_key".into(), Value::String(ca));
    Ok(ctx)
}

/// The AZs and networks the config assigns must exist on the Director.
fn check_network_names(
    director: &DirectorConfig,
    network: &NetworkAssignment,
    path: &Path,
) -> Result<(), u8> {
    let mut problems = BTreeMap::new();
    let azs: Vec<&str> = director.azs.iter().map(|a| a.name.as_str()).collect();
    let nets: Vec<&str> = director.networks.iter().map(|n| n.name.as_str()).collect();
    let mut check = |field: &str, name: &str, known: &[&str]| {
        if !known.contains(&name) {
            problems
                .entry(format!("network-properties.{field}"))
                .or_insert_with(Vec::new)
                .push(format!("'{name}' is not defined in {}", path.display()));
        }
    };
    check(
        "singleton_availability_zone",
        &network.singleton_availability_zone,
        &azs,
    );
    for az in &network.availability_zones {
        check("other_availability_zones", az, &azs);
    }
    check("network", &network.network, &nets);
    if let Some(s) = &network.service_network {
        check("service_network", s, &nets);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        print_errors(
            "the network assignment does not fit the Director",
            &problems,
        );
        Err(EXIT_PROBLEMS)
    }
}

/// A root CA for this render, made with the credentials code the server uses.
fn generate_root_ca() -> Result<String, u8> {
    let now = time_now();
    tiles::credentials::CertificateAuthority::generate(
        "Tileworks offline render root CA",
        "Tileworks",
        now,
        &mut rand::rngs::OsRng,
    )
    .map(|ca| ca.cert_pem)
    .map_err(|e| {
        eprintln!("error: cannot generate the root CA: {e}");
        EXIT_UNREADABLE
    })
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn print_errors(title: &str, errors: &BTreeMap<String, Vec<String>>) {
    eprintln!("error: {title}:");
    for (reference, messages) in errors {
        for m in messages {
            eprintln!("  {reference}: {m}");
        }
    }
}

/// The product an unknown `..PRODUCT.…` reference in a render error names, if that is what
/// failed: offline, another product exists only when `--other-product` gives it.
fn other_product_named(error: &str) -> Option<&str> {
    let rest = error.split("unknown reference `..").nth(1)?;
    let name = rest.split(['.', '`']).next()?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::other_product_named;

    #[test]
    fn an_unknown_reference_to_another_product_names_it() {
        assert_eq!(
            other_product_named(
                "expression `(( ..cf.deployment_name ))` at job_types[a].templates[b]: \
                 unknown reference `..cf.deployment_name`"
            ),
            Some("cf")
        );
        assert_eq!(
            other_product_named("unknown reference `..p-redis.present?`"),
            Some("p-redis")
        );
        assert_eq!(
            other_product_named("unknown reference `.properties.x.value`"),
            None
        );
    }
}
